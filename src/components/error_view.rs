use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::AppError;

/// Shows an error the way a user can act on it: a 401 sends them to log in and back here.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    let location = use_location();
    match error.status {
        401 => {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let next = if here.is_empty() {
                "/".to_string()
            } else {
                here
            };
            view! { <Redirect path=format!("/login?next={}", urlencode(&next))/> }.into_any()
        }
        403 => view! {
            <section class="card error-page" role="alert">
                <h1>"Not allowed"</h1>
                <p>{error.message}</p>
                <p><a href="/">"Back to the start page"</a></p>
            </section>
        }
        .into_any(),
        404 => view! {
            <section class="card error-page" role="alert">
                <h1>"Not found"</h1>
                <p>{error.message}</p>
                <p><a href="/">"Back to the start page"</a></p>
            </section>
        }
        .into_any(),
        _ => view! { <p class="alert alert-error" role="alert">{error.message}</p> }.into_any(),
    }
}

/// Percent-encodes a local path for a query parameter, keeping its slashes readable.
pub fn urlencode(value: &str) -> String {
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(value, PATH).to_string()
}

/// An error inside an island, where no router runs: the message, and for a 401 the browser
/// goes to log in and comes back here.
#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    if error.status == 401 {
        send_to_login();
    }
    view! { <p class="alert alert-error" role="alert">{error.message}</p> }
}

/// Loads `path` as a new page (islands have no client-side router).
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    let _ = leptos::prelude::window().location().set_href(path);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Sends the browser to log in, then back to the page it is on.
pub fn send_to_login() {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos::prelude::window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        go_to(&format!("/login?next={}", urlencode(&here)));
    }
}
