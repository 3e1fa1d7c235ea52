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
use crate::error::AppError;
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

async fn create(
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

async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        webhooks::endpoints(&state, caller.as_ref()).await?,
    ))
}

async fn remove(
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

async fn enable(
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

async fn deliveries(
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

async fn replay(
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
