//! The REST API under `/api`: thin handlers that parse, resolve the caller and call a service.

mod account;
mod auth;
mod busy_calendars;
mod calendar;
pub mod caller;
pub mod dev;
mod guests;
mod idempotency;
mod live;
pub mod metrics;
mod offerings;
mod openapi;
mod pages;
mod recordings;
mod schemas;
mod slots;
mod tokens;
mod webhooks;
mod zoom_events;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use super::app_state::AppState;
use super::http_error::api_not_found;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(account::router())
        .merge(slots::router(state))
        .merge(guests::router())
        .merge(zoom_events::router())
        .merge(live::router())
        .merge(calendar::router())
        .merge(recordings::router())
        .merge(tokens::router())
        .merge(webhooks::router())
        .merge(offerings::router())
        .merge(busy_calendars::router())
        .merge(pages::router())
        .merge(openapi::router())
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
}

/// `{"success":true,"data":…}` with an optional message.
pub fn ok<T: Serialize>(status: StatusCode, message: Option<&str>, data: T) -> Response {
    let mut body = json!({ "success": true, "data": data });
    if let Some(m) = message {
        body["message"] = json!(m);
    }
    (status, Json(body)).into_response()
}
