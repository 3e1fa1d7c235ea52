//! While the database server is unreachable, requests that need it answer 503 with a message
//! that says so, at once, instead of waiting on a connection or reporting a generic 500.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app_state::AppState;
use crate::error::AppError;

/// Paths that answer without the database: liveness, readiness (which reports the outage
/// itself), metrics and the static bundle.
fn needs_database(path: &str) -> bool {
    !(path == "/healthz" || path == "/readyz" || path == "/metrics" || path.starts_with("/pkg/"))
}

pub async fn answer_503_while_database_down(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let gated = needs_database(request.uri().path());
    if gated && !state.db.is_available() {
        return AppError::database_unavailable().into_response();
    }
    let response = next.run(request).await;
    // A failure caused by losing the database mid-request is an outage too, not a bug.
    if gated && response.status() == StatusCode::INTERNAL_SERVER_ERROR && !state.db.is_available() {
        return AppError::database_unavailable().into_response();
    }
    response
}
