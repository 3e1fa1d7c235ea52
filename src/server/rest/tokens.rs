//! `POST`/`GET /api/tokens` and `DELETE /api/tokens/:id`: integrators' API tokens.

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
use crate::model::{ApiTokenView, NewApiToken};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::api_tokens::{self, TokenRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", post(create).get(list))
        .route("/api/tokens/{token_id}", delete(revoke))
}

#[utoipa::path(operation_id = "createApiToken", post, path = "/api/tokens", tag = "API tokens",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, shown once", body = Envelope<NewApiToken>),
        (status = 400, description = "Bad name or scopes", body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Called with an API token", body = ErrorBody),
        (status = 409, description = "20 tokens already", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn create(
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

#[utoipa::path(operation_id = "listApiTokens", get, path = "/api/tokens", tag = "API tokens",
    responses(
        (status = 200, body = Envelope<Vec<ApiTokenView>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        api_tokens::list(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "revokeApiToken", delete, path = "/api/tokens/{token_id}", tag = "API tokens",
    params(("token_id" = String, Path, description = "The token's id")),
    responses(
        (status = 200, body = Envelope<serde_json::Value>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn revoke(
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
