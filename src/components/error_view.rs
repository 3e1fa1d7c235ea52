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
