//! The process's Prometheus counters and histograms, recorded by storage, the Zoom client, the
//! job worker and the HTTP layer: request latency by route and status, transaction conflicts
//! and retries, the job queue's depth, job failures by kind, Zoom calls by outcome, emails
//! sent and failed. Imports nothing of the app's, so every layer may record here;
//! `rest::metrics` serves them at `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

/// One answered HTTP request under its route pattern (never the raw path, so ids do not
/// multiply the series).
pub fn request(route: String, method: &'static str, status: u16, elapsed: Duration) {
    metrics::histogram!(
        REQUEST_SECONDS,
        "route" => route,
        "method" => method,
        "status" => status.to_string(),
    )
    .record(elapsed.as_secs_f64());
}

/// How many jobs have `status`, as read for a scrape.
pub fn job_queue_depth(status: &'static str, count: u64) {
    metrics::gauge!("specialistly_job_queue_depth", "status" => status).set(count as f64);
}

/// Everything recorded so far, in Prometheus' text format.
pub fn render() -> String {
    recorder().render()
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

/// A verified webhook delivery from Zoom, by event (Zoom's own names; others as `other`) and
/// whether it was new or a repeat.
pub fn zoom_webhook(event: &str, new: bool) {
    const KNOWN: [&str; 7] = [
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.deleted",
        "meeting.updated",
        "recording.completed",
    ];
    let event = KNOWN
        .iter()
        .find(|k| **k == event)
        .copied()
        .unwrap_or("other");
    metrics::counter!(
        "specialistly_zoom_webhooks_total",
        "event" => event,
        "delivery" => if new { "new" } else { "repeat" },
    )
    .increment(1);
}

pub fn email(outcome: &'static str) {
    metrics::counter!("specialistly_emails_total", "outcome" => outcome).increment(1);
}
