use leptos::prelude::*;

use crate::error::AppError;
use crate::model::PageAnswer;

#[server(endpoint = "specialist_page")]
pub async fn specialist_page(handle: String) -> Result<PageAnswer, AppError> {
    use crate::server::service::pages::{self, Page};
    crate::api::serve::serve(|state, _| async move {
        Ok(match pages::by_handle(&state, &handle).await? {
            Page::Found(page) => PageAnswer::Page(page),
            Page::Moved(current) => {
                // Rendered on the server: a real redirect (the page also works without wasm).
                leptos_axum::redirect(&format!("/s/{current}"));
                PageAnswer::MovedTo(current)
            }
        })
    })
    .await
}
