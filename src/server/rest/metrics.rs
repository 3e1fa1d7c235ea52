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
/// headers; a page's body may go on after them (the server-rendered HTML streams the data of
/// its resources behind the markup), and the browser's `load` waits for its end, so a page
/// whose body is still streaming when overdue is logged too (`watch_page_body`).
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
    telemetry::request(
        route.clone(),
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    let page = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !page {
        return response;
    }
    let late_route = route.clone();
    watch_page_body(
        response,
        overdue,
        move || {
            tracing::warn!(route = %late_route, overdue_ms = overdue.as_millis() as u64, "a page's body is still streaming: the browser shows it but has not finished loading it");
        },
        move |elapsed| {
            tracing::warn!(route = %route, elapsed_ms = elapsed.as_millis() as u64, "a page's slow body ended");
        },
    )
}

/// `response` with a body that tells when it ends (or is dropped, the client gone): `late`
/// runs if it has not `overdue` after now, and then `ended` with the time it took.
fn watch_page_body(
    response: Response,
    overdue: std::time::Duration,
    late: impl FnOnce() + Send + 'static,
    ended: impl FnOnce(std::time::Duration) + Send + 'static,
) -> Response {
    use futures::StreamExt;
    let started = Instant::now();
    let (finished, mut finishing) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        tokio::select! {
            _ = &mut finishing => return,
            _ = tokio::time::sleep(overdue) => late(),
        }
        let _ = finishing.await;
        ended(started.elapsed());
    });
    let (parts, body) = response.into_parts();
    // The sender goes with the body: dropped when it has been read to its end, or dropped.
    let guard = std::sync::Mutex::new(Some(finished));
    let chunks = body
        .into_data_stream()
        .chain(futures::stream::poll_fn(move |_| {
            guard.lock().expect("body guard").take();
            std::task::Poll::Ready(None)
        }));
    Response::from_parts(parts, axum::body::Body::from_stream(chunks))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::response::Response;
    use futures::StreamExt;

    use super::watch_page_body;

    fn watched(body: Body, late: Arc<AtomicBool>, ended: Arc<AtomicBool>) -> Response {
        watch_page_body(
            Response::new(body),
            Duration::from_millis(100),
            move || late.store(true, Ordering::SeqCst),
            move |_| ended.store(true, Ordering::SeqCst),
        )
    }

    fn flags() -> (Arc<AtomicBool>, Arc<AtomicBool>) {
        (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        )
    }

    #[tokio::test]
    async fn a_page_body_that_does_not_end_is_reported_with_its_end() {
        let (late, ended) = flags();
        // The markup, then data that never comes: what a resource that never resolves sends.
        let stalled = futures::stream::once(async { Ok::<_, std::io::Error>("<html>drawn") })
            .chain(futures::stream::pending());
        let response = watched(Body::from_stream(stalled), late.clone(), ended.clone());
        let mut body = response.into_body().into_data_stream();
        assert_eq!(body.next().await.unwrap().unwrap(), "<html>drawn");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(late.load(Ordering::SeqCst), "a stalled body is reported");
        assert!(!ended.load(Ordering::SeqCst));
        drop(body);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            ended.load(Ordering::SeqCst),
            "and its end (the client gone) too"
        );
    }

    #[tokio::test]
    async fn a_page_body_read_to_its_end_in_time_is_not_reported() {
        let (late, ended) = flags();
        let response = watched(
            Body::from("<html>whole</html>"),
            late.clone(),
            ended.clone(),
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"<html>whole</html>");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!late.load(Ordering::SeqCst));
        assert!(
            !ended.load(Ordering::SeqCst),
            "nothing said of a prompt page"
        );
    }
}
