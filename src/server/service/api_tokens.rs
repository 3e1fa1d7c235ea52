//! API tokens for integrators: made, listed and revoked from a signed-in session (a token
//! cannot make or see tokens), used as `Authorization: Bearer spt_…`.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{ApiTokenView, NewApiToken};
use crate::server::app_state::AppState;
use crate::server::auth::{Caller, API_TOKEN_PREFIX};
use crate::server::db::new_key;
use crate::server::repo::api_tokens;
use crate::server::security::secret_links;

use super::unexpected;

/// `POST /api/tokens`: `{"name": "…", "scopes": ["read"] | ["read", "write"]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// 1 to 100 characters, not only spaces.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// `read`, and `write` to make changes.
    #[schema(min_items = 1, value_type = Vec<Scope>)]
    pub scopes: Vec<String>,
}

/// What a token may do (for the API document: the handler reads the names itself, to answer
/// an unknown one with a clear message).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
}

/// The signed-in caller who manages tokens: a login, not a token.
fn manager(caller: Option<&Caller>) -> AppResult<&Caller> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    if caller.api_token.is_some() {
        return Err(AppError::forbidden(
            "API tokens are managed from a signed-in session, not with an API token",
        ));
    }
    Ok(caller)
}

/// Whether `scopes` allow writing; a clear 400 for anything but `read` and `write`.
fn can_write(scopes: &[String]) -> AppResult<bool> {
    if scopes.is_empty() {
        return Err(AppError::bad_request(
            "scopes must name at least one of \"read\" and \"write\"",
        ));
    }
    let mut write = false;
    for scope in scopes {
        match scope.as_str() {
            "read" => {}
            "write" => write = true,
            other => {
                return Err(AppError::bad_request(format!(
                    "Unknown scope \"{}\": use \"read\" or \"write\"",
                    other.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Ok(write)
}

pub async fn create(
    state: &AppState,
    caller: Option<&Caller>,
    request: TokenRequest,
) -> AppResult<NewApiToken> {
    let caller = manager(caller)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "name is required and at most 100 characters",
        ));
    }
    let can_write = can_write(&request.scopes)?;
    let secret = secret_links::new_token();
    let info = api_tokens::create(
        &state.db,
        &new_key(),
        &caller.user_id,
        name,
        &secret_links::token_hash(&secret),
        can_write,
    )
    .await
    .map_err(unexpected("saving an API token"))?
    .ok_or_else(|| {
        AppError::conflict(format!(
            "An account can hold at most {} API tokens: revoke one first",
            api_tokens::MAX_PER_USER
        ))
    })?;
    tracing::info!(user = %caller.user_id, token = %info.id, can_write, "API token created");
    Ok(NewApiToken {
        token: format!("{API_TOKEN_PREFIX}{secret}"),
        info,
    })
}

pub async fn list(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<ApiTokenView>> {
    let caller = manager(caller)?;
    api_tokens::of_user(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading API tokens"))
}

pub async fn revoke(state: &AppState, caller: Option<&Caller>, id: &str) -> AppResult<()> {
    let caller = manager(caller)?;
    let deleted = api_tokens::delete(&state.db, &caller.user_id, id)
        .await
        .map_err(unexpected("revoking an API token"))?;
    if !deleted {
        return Err(AppError::not_found("API token not found"));
    }
    tracing::info!(user = %caller.user_id, token = %id, "API token revoked");
    Ok(())
}
