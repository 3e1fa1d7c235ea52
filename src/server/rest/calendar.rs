//! Calendar feeds: `GET /calendar/:token.ics` for calendar apps, and the owner's
//! `POST`/`DELETE /api/calendar/token` to make a new address or end it.

use super::schemas::{Envelope, ErrorBody};
use crate::model::CalendarLink;
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

#[utoipa::path(operation_id = "getCalendarFeed", get, path = "/calendar/{file}", tag = "Calendar feeds", params(("file" = String, Path, description = "<token>.ics")), responses((status = 200, content_type = "text/calendar", description = "The iCalendar feed"), (status = 404, body = ErrorBody)))]
pub(super) async fn feed(
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

#[utoipa::path(operation_id = "createCalendarLink", post, path = "/api/calendar/token", tag = "Calendar feeds", responses((status = 201, body = Envelope<CalendarLink>), (status = 401, body = ErrorBody), (status = 403, description = "An API token: feed addresses are made from a signed-in session", body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn new_link(
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

#[utoipa::path(operation_id = "revokeCalendarLink", delete, path = "/api/calendar/token", tag = "Calendar feeds", responses((status = 200, body = Envelope<serde_json::Value>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn revoke(
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
