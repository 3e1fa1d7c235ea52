//! A specialist's own calendars, whose busy times keep sessions free: `POST`/`GET
//! /api/busy-calendars`, `DELETE /api/busy-calendars/:id`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{BusyCalendarInput, BusyCalendarView};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::busy_calendars;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/busy-calendars", post(add).get(list))
        .route("/api/busy-calendars/{calendar_id}", delete(remove))
}

#[utoipa::path(operation_id = "addBusyCalendar", post, path = "/api/busy-calendars", tag = "Offerings",
    request_body = BusyCalendarInput,
    responses(
        (status = 201, description = "Added; read within moments, then every 15 minutes", body = Envelope<BusyCalendarView>),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist, or an API token (calendars are added from a signed-in session)", body = ErrorBody),
        (status = 409, description = "5 calendars already", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn add(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<BusyCalendarInput>,
) -> Result<Response, AppError> {
    let added = busy_calendars::add(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::CREATED, Some("Calendar added"), added))
}

#[utoipa::path(operation_id = "listBusyCalendars", get, path = "/api/busy-calendars", tag = "Offerings",
    responses(
        (status = 200, description = "Each with when it was last read and since when it fails", body = Envelope<Vec<BusyCalendarView>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        busy_calendars::list(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "removeBusyCalendar", delete, path = "/api/busy-calendars/{calendar_id}", tag = "Offerings",
    params(("calendar_id" = String, Path)),
    responses(
        (status = 200, body = Envelope<serde_json::Value>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn remove(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(calendar_id): Path<String>,
) -> Result<Response, AppError> {
    busy_calendars::remove(&state, caller.as_ref(), &calendar_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Calendar removed"),
        json!({ "id": calendar_id }),
    ))
}
