//! Prometheus metrics at `/metrics`: request latency by route and status, booking conflicts
//! and retries, the job queue's depth, job failures by kind, Zoom calls by outcome, emails
//! sent and failed. Only loopback clients and the networks in `METRICS_ALLOW` may read them
//! (behind a trusted proxy, the forwarded client counts), so they are not public by default.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::app_state::AppState;
use super::repo;

const REQUEST_SECONDS: &str = "specialistly_http_request_duration_seconds";
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (several app instances in one test process
/// share it, as they would share a process-wide registry anywhere).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), LATENCY_BUCKETS)
            .expect("valid buckets")
            .install_recorder()
            .expect("the only metrics recorder of this process");
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency by route pattern, method and status"
    );
    metrics::describe_counter!(
        "specialistly_transaction_conflicts_total",
        "Write conflicts between transactions, by operation and whether the attempt was retried"
    );
    metrics::describe_gauge!(
        "specialistly_job_queue_depth",
        "Jobs waiting or running, by status, when /metrics was read"
    );
    metrics::describe_counter!(
        "specialistly_job_failures_total",
        "Failed job attempts by kind"
    );
    metrics::describe_counter!(
        "specialistly_zoom_calls_total",
        "Calls to the Zoom provider by operation and outcome"
    );
    metrics::describe_counter!(
        "specialistly_emails_total",
        "Emails by outcome (sent, failed, deferred while the mail server is out of reach)"
    );
}

/// Installs the recorder and keeps its histograms drained; once per process.
pub fn install() {
    static UPKEEP: OnceLock<()> = OnceLock::new();
    let handle = recorder();
    UPKEEP.get_or_init(|| {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    });
}

/// Records every request's latency under its route pattern (`/api/consulting-slots/{id}/book`),
/// never the raw path, so ids do not multiply the series.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "fallback".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        REQUEST_SECONDS,
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// A transaction lost a write conflict; `retried` says whether it runs again.
pub fn transaction_conflict(operation: &'static str, retried: bool) {
    metrics::counter!(
        "specialistly_transaction_conflicts_total",
        "operation" => operation,
        "retried" => if retried { "true" } else { "false" },
    )
    .increment(1);
}

pub fn job_failed(kind: &'static str) {
    metrics::counter!("specialistly_job_failures_total", "kind" => kind).increment(1);
}

pub fn zoom_call(operation: &'static str, outcome: &'static str) {
    metrics::counter!(
        "specialistly_zoom_calls_total",
        "operation" => operation,
        "outcome" => outcome,
    )
    .increment(1);
}

pub fn email(outcome: &'static str) {
    metrics::counter!("specialistly_emails_total", "outcome" => outcome).increment(1);
}

/// `GET /metrics` in Prometheus' text format; 404 (as if it did not exist) for anyone else
/// than loopback and `METRICS_ALLOW`.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let allowed = super::rest::caller::client_ip(&parts, &state).is_some_and(|ip| {
        ip.to_canonical().is_loopback() || state.config.http.metrics_readers.contains(ip)
    });
    if !allowed {
        return crate::error::AppError::not_found("Not found").into_response();
    }
    match repo::jobs::depth(&state.db).await {
        Ok(depth) => {
            for (status, count) in depth {
                metrics::gauge!("specialistly_job_queue_depth", "status" => status)
                    .set(count as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading the job queue depth for /metrics"),
    }
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        recorder().render(),
    )
        .into_response()
}
