//! `/metrics` and the request-latency middleware: the HTTP side of `server::telemetry`. Only
//! this machine and the networks in `METRICS_ALLOW` may read the metrics, judged by the
//! connection alone, so they are not public by default.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::app_state::AppState;
use crate::server::{repo, telemetry};

/// Records every request's latency under its route pattern (`/api/consulting-slots/{id}/book`),
/// and logs at WARN a request whose answer is late: once when it is overdue (so a request
/// that never ends is seen too) and once when it is answered. An answer is its status and
/// headers: a stream's body may go on for long after it.
pub async fn track_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "fallback".into());
    let method = method_label(request.method());
    let started = Instant::now();
    let overdue = state.config.http.slow_request;
    let mut answer = std::pin::pin!(next.run(request));
    let response = tokio::select! {
        response = &mut answer => response,
        _ = tokio::time::sleep(overdue) => {
            tracing::warn!(route = %route, overdue_ms = overdue.as_millis() as u64, "a request is still unanswered");
            let response = answer.await;
            tracing::warn!(
                route = %route,
                status = response.status().as_u16(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "a slow request was answered"
            );
            response
        }
    };
    telemetry::request(route, method, response.status().as_u16(), started.elapsed());
    response
}

/// The method as a label: the standard ones by name, anything else a client made up as
/// `other`, so made-up methods cannot each add a series that lives as long as the process (G5).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// `GET /metrics` in Prometheus' text format; 404 (as if it did not exist) for anyone else
/// than loopback and `METRICS_ALLOW`, judged by the connection's peer, never by headers.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let allowed =
        super::caller::from_this_machine(&parts, &state, &state.config.http.metrics_readers);
    if !allowed {
        return crate::error::AppError::not_found("Not found").into_response();
    }
    match repo::jobs::depth(&state.db).await {
        Ok(depth) => {
            for (status, count) in depth {
                telemetry::job_queue_depth(status, count);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading the job queue depth for /metrics"),
    }
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        telemetry::render(),
    )
        .into_response()
}
