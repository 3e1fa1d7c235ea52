//! A specialist's offerings: `POST`/`GET /api/offerings`, `GET`/`PUT`/`DELETE
//! /api/offerings/:id`. Their sessions are slots, booked through the slot routes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{OfferingInput, OfferingView};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::offerings;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/offerings", post(create).get(list))
        .route(
            "/api/offerings/{offering_id}",
            get(one).put(update).delete(remove),
        )
}

#[utoipa::path(operation_id = "createOffering", post, path = "/api/offerings", tag = "Offerings",
    request_body = OfferingInput,
    responses(
        (status = 201, description = "The offering; its sessions are made within moments, up to its booking window", body = Envelope<OfferingView>),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 409, description = "20 offerings already", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<OfferingInput>,
) -> Result<Response, AppError> {
    let made = offerings::create(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::CREATED, Some("Offering saved"), made))
}

#[utoipa::path(operation_id = "listOfferings", get, path = "/api/offerings", tag = "Offerings",
    responses(
        (status = 200, body = Envelope<Vec<OfferingView>>),
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
        offerings::mine(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "getOffering", get, path = "/api/offerings/{offering_id}", tag = "Offerings",
    params(("offering_id" = String, Path)),
    responses(
        (status = 200, description = "The offering, with its booked sessions its hours no longer cover", body = Envelope<OfferingView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn one(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(offering_id): Path<String>,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        offerings::one(&state, caller.as_ref(), &offering_id).await?,
    ))
}

#[utoipa::path(operation_id = "updateOffering", put, path = "/api/offerings/{offering_id}", tag = "Offerings",
    params(("offering_id" = String, Path)),
    request_body = OfferingInput,
    responses(
        (status = 200, description = "The offering; sessions nobody booked are made again from it, booked ones stay", body = Envelope<OfferingView>),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(offering_id): Path<String>,
    ApiJson(input): ApiJson<OfferingInput>,
) -> Result<Response, AppError> {
    let saved = offerings::update(&state, caller.as_ref(), &offering_id, input).await?;
    Ok(ok(StatusCode::OK, Some("Offering saved"), saved))
}

#[utoipa::path(operation_id = "deleteOffering", delete, path = "/api/offerings/{offering_id}", tag = "Offerings",
    params(("offering_id" = String, Path)),
    responses(
        (status = 200, description = "Removed with its future sessions nobody booked; booked ones stay as slots", body = Envelope<serde_json::Value>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn remove(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(offering_id): Path<String>,
) -> Result<Response, AppError> {
    offerings::remove(&state, caller.as_ref(), &offering_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Offering removed"),
        json!({ "id": offering_id }),
    ))
}
