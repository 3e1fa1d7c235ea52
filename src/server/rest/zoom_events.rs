//! Zoom's webhooks, and what follows from them for people: feedback links and the specialist's
//! "put Zoom back in step".

use super::schemas::{Envelope, ErrorBody};
use crate::model::{FeedbackInvite, FeedbackSummary};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::caller::MaybeCaller;
use super::ok;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::http_error::{body_rejection, ApiJson};
use crate::server::service::feedback::{self, FeedbackInput};
use crate::server::service::zoom_events::{self, Received};
use crate::server::service::zoom_meeting;
use crate::server::zoom::webhook;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/zoom", post(zoom_webhook))
        .route("/api/feedback", get(feedback_summary))
        .route(
            "/api/feedback/{token}",
            get(feedback_invite).post(submit_feedback),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/zoom-put-back",
            post(put_back),
        )
}

/// Verified before anything is read or stored: a delivery that is not Zoom's gets 401 and
/// leaves no trace.
#[utoipa::path(operation_id = "receiveZoomEvent", post, path = "/api/webhooks/zoom", tag = "Zoom events and feedback", request_body = serde_json::Value, responses((status = 200, body = serde_json::Value), (status = 401, description = "Bad, missing or stale signature", body = ErrorBody), (status = 413, body = ErrorBody), (status = 503, description = "No secret token configured", body = ErrorBody)), description = "Zoom's event subscription, signed with the x-zm-signature header")]
pub(super) async fn zoom_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let Some(secret) = state.config.zoom.webhook_secret.clone() else {
        return Err(AppError::new(
            503,
            "Zoom webhooks are not configured on this server (ZOOM_WEBHOOK_SECRET_TOKEN)",
        ));
    };
    let body = body.map_err(body_rejection)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = webhook::verify(
        secret.expose(),
        header("x-zm-request-timestamp"),
        header("x-zm-signature"),
        &body,
        chrono::Utc::now(),
    ) {
        tracing::warn!(reason = %e, "refused a Zoom webhook delivery");
        return Err(AppError::new(401, "Invalid webhook signature"));
    }
    Ok(
        match zoom_events::receive(&state, secret.expose(), &body).await? {
            Received::Validation(answer) => (StatusCode::OK, Json(answer)).into_response(),
            Received::Stored => ok(StatusCode::OK, Some("Event received"), ()),
            Received::Duplicate => ok(StatusCode::OK, Some("Event already received"), ()),
        },
    )
}

#[utoipa::path(operation_id = "getFeedbackInvite", get, path = "/api/feedback/{token}", tag = "Zoom events and feedback", params(("token" = String, Path)), responses((status = 200, body = Envelope<FeedbackInvite>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn feedback_invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        feedback::invite(&state, &token).await?,
    ))
}

#[utoipa::path(operation_id = "submitFeedback", post, path = "/api/feedback/{token}", tag = "Zoom events and feedback", request_body = serde_json::Value, params(("token" = String, Path)), responses((status = 201, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub(super) async fn submit_feedback(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(input): ApiJson<FeedbackInput>,
) -> Result<Response, AppError> {
    feedback::submit(&state, &token, input).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("Thank you for your feedback"),
        (),
    ))
}

#[utoipa::path(operation_id = "getFeedbackSummary", get, path = "/api/feedback", tag = "Zoom events and feedback", responses((status = 200, body = Envelope<FeedbackSummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn feedback_summary(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        feedback::summary(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "putZoomChangeBack", post, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/zoom-put-back", tag = "Zoom events and feedback", params(("slot_id" = String, Path), ("booking_index" = String, Path)), responses((status = 202, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn put_back(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Response, AppError> {
    zoom_meeting::put_back_in_step(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        Some("The meeting is being put back at the slot's time in Zoom"),
        (),
    ))
}
