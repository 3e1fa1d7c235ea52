//! Refuses state-changing requests a browser sent on another site's behalf. The rule of Go's
//! `net/http.CrossOriginProtection`: trust `Sec-Fetch-Site` where the browser sends it,
//! otherwise compare `Origin` (absent that, `Referer`) with `Host`. A request with no such
//! header is not from a browser page and passes; so does one with an `Authorization` header,
//! which a browser never adds on its own.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if is_cross_site(request.method(), request.headers()) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
        return AppError::forbidden("Cross-site request refused").into_response();
    }
    next.run(request).await
}

fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || headers.contains_key(header::AUTHORIZATION) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("null"));
    match source {
        None => false,
        Some(url) => authority(url) != Some(host.to_ascii_lowercase()),
    }
}

/// `host[:port]` of an absolute http(s) URL, lowercased; `None` for anything else (`null`).
fn authority(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!authority.is_empty() && !authority.contains('@')).then(|| authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let post = Method::POST;
        assert!(is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(!is_cross_site(
            &Method::GET,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
    }

    #[test]
    fn origin_then_referer_must_name_the_host() {
        let post = Method::POST;
        let host = ("host", "localhost:3000");
        assert!(!is_cross_site(
            &post,
            &headers(&[host, ("origin", "http://localhost:3000")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[host, ("origin", "http://LOCALHOST:3000")])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[host, ("origin", "http://127.0.0.1:3000")])
        ));
        assert!(is_cross_site(
            &post,
            &headers(&[host, ("origin", "https://evil.example")])
        ));
        assert!(is_cross_site(&post, &headers(&[host, ("origin", "null")])));
        assert!(is_cross_site(
            &post,
            &headers(&[host, ("referer", "https://evil.example/x")])
        ));
        assert!(!is_cross_site(
            &post,
            &headers(&[host, ("referer", "http://localhost:3000/slots")])
        ));
        assert!(
            !is_cross_site(&post, &headers(&[host])),
            "not from a browser page"
        );
    }

    #[test]
    fn bearer_clients_are_not_affected() {
        let h = headers(&[
            ("authorization", "Bearer x"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!is_cross_site(&Method::DELETE, &h));
    }
}
