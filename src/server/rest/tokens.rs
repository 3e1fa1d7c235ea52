//! `POST`/`GET /api/tokens` and `DELETE /api/tokens/:id`: integrators' API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::ok;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::api_tokens::{self, TokenRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", post(create).get(list))
        .route("/api/tokens/{token_id}", delete(revoke))
}

async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Response, AppError> {
    let token = api_tokens::create(&state, caller.as_ref(), request).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("API token created: copy it now, it is not shown again"),
        token,
    ))
}

async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        api_tokens::list(&state, caller.as_ref()).await?,
    ))
}

async fn revoke(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(token_id): Path<String>,
) -> Result<Response, AppError> {
    api_tokens::revoke(&state, caller.as_ref(), &token_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("API token revoked"),
        json!({ "id": token_id }),
    ))
}
