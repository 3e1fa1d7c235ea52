//! Specialistly: consulting slots, bookings and on-demand Zoom meetings.
#![recursion_limit = "256"]

// `#[engine_test]` names this crate by its name, as the integration tests see it.
#[cfg(test)]
extern crate self as specialistly;
#[cfg(test)]
#[macro_use]
extern crate specialistly_test_macros;

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod session;
pub mod time_fmt;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Only the islands (`#[island]` components) come alive; the rest of the page stays the
    // server's HTML, and links and plain forms load pages from the server.
    leptos::mount::hydrate_islands();
    // A server function's redirect (after logging in, say) loads the page: there is no
    // client-side router to follow it.
    let _ = leptos::server_fn::redirect::set_redirect_hook(components::error_view::go_to);
    // The islands come alive in the microtasks right after this returns; a task queued now
    // runs after them and marks the page live (end-to-end tests wait for it).
    leptos::prelude::set_timeout(
        || {
            if let Some(root) = leptos::prelude::document().document_element() {
                let _ = root.set_attribute("data-hydrated", "");
            }
        },
        std::time::Duration::ZERO,
    );
}
