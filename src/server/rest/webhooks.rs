//! A specialist's outgoing webhooks: `POST`/`GET /api/webhooks`, `DELETE /api/webhooks/:id`,
//! `POST /api/webhooks/:id/enable`, and the delivery log with replay.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{NewWebhookEndpoint, WebhookDeliveryView, WebhookEndpointView};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::webhooks::{self, EndpointRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks", post(create).get(list))
        .route("/api/webhooks/{endpoint_id}", delete(remove))
        .route("/api/webhooks/{endpoint_id}/enable", post(enable))
        .route("/api/webhooks/{endpoint_id}/deliveries", get(deliveries))
        .route(
            "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
            post(replay),
        )
}

#[utoipa::path(operation_id = "createWebhookEndpoint", post, path = "/api/webhooks", tag = "Webhooks",
    request_body = EndpointRequest,
    responses(
        (status = 201, description = "The endpoint, with its signing secret shown once", body = Envelope<NewWebhookEndpoint>),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist, or an API token (endpoints are made from a signed-in session)", body = ErrorBody),
        (status = 409, description = "10 endpoints already", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(request): ApiJson<EndpointRequest>,
) -> Result<Response, AppError> {
    let made = webhooks::create_endpoint(&state, caller.as_ref(), request).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("Webhook endpoint added: copy its signing secret now, it is not shown again"),
        made,
    ))
}

#[utoipa::path(operation_id = "listWebhookEndpoints", get, path = "/api/webhooks", tag = "Webhooks",
    responses(
        (status = 200, body = Envelope<Vec<WebhookEndpointView>>),
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
        webhooks::endpoints(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "deleteWebhookEndpoint", delete, path = "/api/webhooks/{endpoint_id}", tag = "Webhooks",
    params(("endpoint_id" = String, Path)),
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
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    webhooks::delete_endpoint(&state, caller.as_ref(), &endpoint_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Webhook endpoint removed"),
        json!({ "id": endpoint_id }),
    ))
}

#[utoipa::path(operation_id = "enableWebhookEndpoint", post, path = "/api/webhooks/{endpoint_id}/enable", tag = "Webhooks",
    params(("endpoint_id" = String, Path)),
    responses(
        (status = 200, body = Envelope<WebhookEndpointView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist, or an API token (endpoints are turned on from a signed-in session)", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn enable(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    let endpoint = webhooks::enable_endpoint(&state, caller.as_ref(), &endpoint_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Webhook endpoint turned on"),
        endpoint,
    ))
}

#[utoipa::path(operation_id = "listWebhookDeliveries", get, path = "/api/webhooks/{endpoint_id}/deliveries", tag = "Webhooks",
    params(("endpoint_id" = String, Path)),
    responses(
        (status = 200, description = "The last 50 deliveries, newest first", body = Envelope<Vec<WebhookDeliveryView>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(endpoint_id): Path<String>,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        webhooks::deliveries(&state, caller.as_ref(), &endpoint_id).await?,
    ))
}

#[utoipa::path(operation_id = "replayWebhookDelivery", post, path = "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", tag = "Webhooks",
    params(("endpoint_id" = String, Path), ("delivery_id" = String, Path)),
    responses(
        (status = 202, body = Envelope<serde_json::Value>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The endpoint is turned off, or the delivery is still being sent", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn replay(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((endpoint_id, delivery_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    webhooks::replay(&state, caller.as_ref(), &endpoint_id, &delivery_id).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        Some("Delivery queued again"),
        json!({ "id": delivery_id }),
    ))
}
