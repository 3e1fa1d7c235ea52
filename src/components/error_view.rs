use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

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

pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
