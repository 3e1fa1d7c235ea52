use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{FeedbackInvite, FeedbackSummary};

/// The session a feedback link asks about.
#[server(endpoint = "feedback_page")]
pub async fn feedback_page(token: String) -> Result<FeedbackInvite, AppError> {
    use crate::server::service::feedback;
    crate::api::serve::serve(|state, _| async move { feedback::invite(&state, &token).await }).await
}

/// Stores a customer's answer; a plain form post (no wasm) lands back on the page, which then
/// shows the answer.
#[server(endpoint = "submit_feedback")]
pub async fn submit_feedback(
    token: String,
    rating: Option<String>,
    comment: Option<String>,
) -> Result<(), AppError> {
    use crate::server::service::feedback::{self, FeedbackInput};
    crate::api::serve::serve(|state, _| async move {
        let input = FeedbackInput {
            rating: rating.map(serde_json::Value::String).unwrap_or_default(),
            comment,
        };
        feedback::submit(&state, &token, input).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect(&format!("/feedback/{token}"));
        }
        Ok(())
    })
    .await
}

/// The specialist's ratings and their average.
#[server(endpoint = "my_feedback")]
pub async fn my_feedback() -> Result<FeedbackSummary, AppError> {
    use crate::server::service::feedback;
    crate::api::serve::serve(|state, caller| async move {
        feedback::summary(&state, caller.as_ref()).await
    })
    .await
}
