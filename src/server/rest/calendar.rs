//! Calendar feeds: `GET /calendar/:token.ics` for calendar apps, and the owner's
//! `POST`/`DELETE /api/calendar/token` to make a new address or end it.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::ok;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::service::calendar_feed;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar/{file}", get(feed))
        .route("/api/calendar/token", post(new_link).delete(revoke))
}

async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let body = calendar_feed::render(&state, &file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

async fn new_link(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    let link = calendar_feed::new_link(&state, caller.as_ref()).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("A new calendar address; any earlier one no longer works"),
        link,
    ))
}

async fn revoke(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    calendar_feed::revoke(&state, caller.as_ref()).await?;
    Ok(ok(
        StatusCode::OK,
        Some("The calendar address no longer works"),
        json!({}),
    ))
}
