//! The slots page's HTML as this instance last rendered it, kept in the read cache beside the
//! data it shows: rendering the page (not reading its data) is most of what it costs.
//!
//! Kept per path and query, per caller and per the exact `Cookie` and `Authorization` headers
//! sent, so a page is only ever served to a request that would render it the same way; the
//! caller is resolved through the session cache first, so an ended session is never shown its
//! signed-in page again. What the page shows (slots, bookings, the waitlist, the caller's
//! account) is all watched by the read cache's live queries, which forget every page on any
//! change. Each copy served gets the script nonce of its own response (`security::headers`).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::app_state::AppState;
use super::security::CspNonce;
use super::service::sessions;

/// The pages kept: every read behind them is one the read cache watches.
const KEPT_PATHS: &[&str] = &["/slots"];
/// A page larger than this is served but not kept.
const MAX_KEPT_BYTES: usize = 256 * 1024;

/// A rendered page, and the nonce its scripts carry, to be replaced in each copy served.
struct RenderedPage {
    headers: HeaderMap,
    html: String,
    nonce: String,
}

pub async fn keep_rendered_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let kept_path = request.method() == Method::GET && KEPT_PATHS.contains(&request.uri().path());
    let nonce = request.extensions().get::<CspNonce>().map(|n| n.0.clone());
    let Some(nonce) = nonce.filter(|_| kept_path) else {
        return next.run(request).await;
    };
    // Owned: a request is not `Sync`, so no reference to it may be held across an await.
    let (uri, headers) = (request.uri().to_string(), request.headers().clone());
    let Some(key) = key_for(&state, &uri, &headers).await else {
        return next.run(request).await;
    };
    if let Some(page) = state.read_cache.get::<Arc<RenderedPage>>(&key) {
        return served(&page, &nonce);
    }
    let generation = state.read_cache.generation();
    let response = next.run(request).await;
    let Some(generation) = generation.filter(|_| may_keep(&response)) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, "rendering a page");
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::empty())
                .unwrap_or_default();
        }
    };
    if let Ok(html) = std::str::from_utf8(&bytes) {
        if bytes.len() <= MAX_KEPT_BYTES {
            let page = RenderedPage {
                headers: parts.headers.clone(),
                html: html.to_string(),
                nonce,
            };
            state.read_cache.keep(generation, &key, Arc::new(page));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The key a page asked for at `uri` with `headers` is kept under; `None` for a caller whose
/// pages are not kept (an API token) or when the caller cannot be known (database down).
async fn key_for(state: &AppState, uri: &str, headers: &HeaderMap) -> Option<String> {
    let caller = sessions::caller(state, headers).await.ok()?;
    if caller.as_ref().is_some_and(|c| c.api_token.is_some()) {
        return None;
    }
    let all = |name: header::HeaderName| {
        headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(format!(
        "page\0{uri}\0{}\0{}\0{}",
        caller.map(|c| c.session_id).unwrap_or_default(),
        all(header::COOKIE),
        all(header::AUTHORIZATION),
    ))
}

/// Only a whole page that sets nothing: a redirect, an error or a new cookie is not kept.
fn may_keep(response: &Response) -> bool {
    let headers = response.headers();
    response.status() == StatusCode::OK
        && !headers.contains_key(header::SET_COOKIE)
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}

fn served(page: &RenderedPage, nonce: &str) -> Response {
    let mut response = Response::new(Body::from(page.html.replace(&page.nonce, nonce)));
    *response.headers_mut() = page.headers.clone();
    // The length is the same (every nonce has the same length) but is set by the body.
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}
