//! What every request handler and server function reaches: no per-instance state that
//! another instance would need (sessions are signed tokens, work is claimed in the database).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use leptos::config::LeptosOptions;

use super::auth::{token_from_headers, Caller, JwtKeys};
use super::config::Config;
use super::db::Db;
use super::zoom::Zoom;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub zoom: Arc<Zoom>,
}

impl AppState {
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        token_from_headers(headers).and_then(|t| self.jwt.verify(&t))
    }
}

/// The caller of a REST request, when it carries a valid token (handlers decide what a
/// missing one means).
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.caller(&parts.headers)))
    }
}

/// Runs a server function's body with the request's state and caller, and answers its error
/// with that error's own HTTP status.
pub async fn serve<T, F, Fut>(body: F) -> Result<T, crate::error::AppError>
where
    F: FnOnce(AppState, Option<Caller>) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::error::AppError>>,
{
    let result = match context().await {
        Ok((state, caller)) => body(state, caller).await,
        Err(e) => Err(e),
    };
    respond(result)
}

/// Whether the current server function was called by a browser posting a form without wasm
/// (it asks for HTML; the wasm client asks for JSON).
pub fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Inside a server function: the state and the caller of the current request.
async fn context() -> Result<(AppState, Option<Caller>), crate::error::AppError> {
    let state =
        leptos::prelude::use_context::<AppState>().ok_or_else(crate::error::AppError::internal)?;
    let headers: HeaderMap = leptos_axum::extract()
        .await
        .map_err(|_| crate::error::AppError::internal())?;
    let caller = state.caller(&headers);
    Ok((state, caller))
}

/// A server function's result with the HTTP status of its error (a wrong password is a 401,
/// not a 500, in the response and in the logs). Plain form posts (no wasm) keep the redirect
/// back to the form that leptos_axum answers them with.
fn respond<T>(result: Result<T, crate::error::AppError>) -> Result<T, crate::error::AppError> {
    let form_post = is_plain_form_post();
    if let (Err(e), false) = (&result, form_post) {
        if let (Some(options), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            axum::http::StatusCode::from_u16(e.status),
        ) {
            options.set_status(status);
        }
    }
    result
}
