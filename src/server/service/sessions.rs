//! Who is calling: a request's token resolved to its live session and account.

use axum::http::HeaderMap;

use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::{token_from_headers, Caller};
use crate::server::repo::sessions;

/// The caller of a request: its token's session must be live in the database, and the role is
/// the one the database holds now. No token, a bad one or an ended session: `None`.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, AppError> {
    let Some(subject) = token_from_headers(headers).and_then(|t| state.jwt.verify(&t)) else {
        return Ok(None);
    };
    let user = sessions::live_user(&state.db, &subject.session_id, &subject.user_id)
        .await
        .map_err(super::unexpected("reading a session"))?;
    Ok(user.map(|u| Caller {
        user_id: u.user_id,
        role: u.role,
        session_id: subject.session_id,
        name: u.name,
        email: u.email,
        timezone: u.timezone,
    }))
}
