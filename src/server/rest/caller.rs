//! The REST door's view of who is calling.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;

/// The caller of a REST request, when it carries a valid token (handlers decide what a
/// missing one means).
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.caller(&parts.headers).await.map(Self)
    }
}
