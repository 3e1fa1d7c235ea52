//! Who is calling: a request's token resolved to its live session and account.

use axum::http::{HeaderMap, Method};

use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::{api_token_from_headers, token_from_headers, ApiTokenGrant, Caller};
use crate::server::repo::{api_tokens, sessions};
use crate::server::security::secret_links;

/// The caller of a request: its token's session must be live in the database, and the role is
/// the one the database holds now (read through the session cache, kept in step with the
/// database). No token, a bad one or an ended session: `None`.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, AppError> {
    if let Some(secret) = api_token_from_headers(headers) {
        return api_token_caller(state, secret).await;
    }
    let Some(subject) = token_from_headers(headers).and_then(|t| state.jwt.verify(&t)) else {
        return Ok(None);
    };
    let cache = &state.session_cache;
    let user = match cache.get(&subject.session_id, &subject.user_id) {
        Some(cached) => Some(cached.user),
        None => {
            let generation = cache.generation();
            let live = sessions::live_user(&state.db, &subject.session_id, &subject.user_id)
                .await
                .map_err(super::unexpected("reading a session"))?;
            if let (Some(live), Some(generation)) = (&live, generation) {
                cache.insert(generation, &subject.session_id, live);
            }
            live.map(|l| l.user)
        }
    };
    Ok(user.map(|u| Caller {
        user_id: u.user_id,
        role: u.role,
        session_id: subject.session_id,
        name: u.name,
        email: u.email,
        timezone: u.timezone,
        api_token: None,
    }))
}

/// The caller of an API token: its account as the database holds it now. An unknown or
/// revoked token is no caller at all (401 where one is needed).
async fn api_token_caller(state: &AppState, secret: &str) -> Result<Option<Caller>, AppError> {
    let Some(hash) = secret_links::hash_of_issued(secret) else {
        return Ok(None);
    };
    let found = api_tokens::user_of(&state.db, &hash)
        .await
        .map_err(super::unexpected("reading an API token"))?;
    Ok(found.map(|t| Caller {
        user_id: t.user.user_id,
        role: t.user.role,
        session_id: String::new(),
        name: t.user.name,
        email: t.user.email,
        timezone: t.user.timezone,
        api_token: Some(ApiTokenGrant {
            id: t.token_id,
            can_write: t.can_write,
        }),
    }))
}

/// Refuses a change asked with a read-only API token (403): anything but GET and HEAD.
pub fn check_scope(caller: Option<&Caller>, method: &Method) -> Result<(), AppError> {
    match caller {
        Some(c) if !c.may_write() && !matches!(*method, Method::GET | Method::HEAD) => {
            Err(AppError::forbidden(
                "This API token can only read: it needs the write scope to make changes",
            ))
        }
        _ => Ok(()),
    }
}
