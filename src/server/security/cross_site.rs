//! Refuses state-changing requests a browser sent on another site's behalf. The rule of Go's
//! `net/http.CrossOriginProtection`: trust `Sec-Fetch-Site` where the browser sends it,
//! otherwise compare `Origin` (absent that, `Referer`) with `Host`. A request with no such
//! header is not from a browser page and passes; so does one with an `Authorization: Bearer`
//! header, which a browser never adds on its own (it does add Basic and Negotiate credentials,
//! so those are checked like cookies). Without a `Host` header (HTTP/2's `:authority`), the
//! request URI's authority stands in for it.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let uri_authority = request.uri().authority().map(|a| a.as_str().to_string());
    if is_cross_site(
        request.method(),
        request.headers(),
        uri_authority.as_deref(),
    ) {
        tracing::warn!(method = %request.method(), path = %super::secret_links::loggable_path(request.uri().path()), "cross-site request refused");
        return AppError::forbidden("Cross-site request refused").into_response();
    }
    next.run(request).await
}

fn is_cross_site(method: &Method, headers: &HeaderMap, uri_authority: Option<&str>) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || has_bearer(headers) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(uri_authority);
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("null"));
    let Some(host) = host else {
        // Nothing to compare with: only a request that names no page passes.
        return source.is_some();
    };
    match source {
        None => false,
        Some(url) => authority(url) != Some(host.to_ascii_lowercase()),
    }
}

/// Whether the request carries a bearer token (which then wins over any cookie).
fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
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

    fn is_cross_site_h(method: &Method, headers: &HeaderMap) -> bool {
        is_cross_site(method, headers, None)
    }

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
        assert!(is_cross_site_h(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(is_cross_site_h(
            &post,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!is_cross_site_h(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!is_cross_site_h(
            &post,
            &headers(&[("sec-fetch-site", "none")])
        ));
        assert!(!is_cross_site_h(
            &Method::GET,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
    }

    #[test]
    fn origin_then_referer_must_name_the_host() {
        let post = Method::POST;
        let host = ("host", "localhost:3000");
        assert!(!is_cross_site_h(
            &post,
            &headers(&[host, ("origin", "http://localhost:3000")])
        ));
        assert!(!is_cross_site_h(
            &post,
            &headers(&[host, ("origin", "http://LOCALHOST:3000")])
        ));
        assert!(is_cross_site_h(
            &post,
            &headers(&[host, ("origin", "http://127.0.0.1:3000")])
        ));
        assert!(is_cross_site_h(
            &post,
            &headers(&[host, ("origin", "https://evil.example")])
        ));
        assert!(is_cross_site_h(
            &post,
            &headers(&[host, ("origin", "null")])
        ));
        assert!(is_cross_site_h(
            &post,
            &headers(&[host, ("referer", "https://evil.example/x")])
        ));
        assert!(!is_cross_site_h(
            &post,
            &headers(&[host, ("referer", "http://localhost:3000/slots")])
        ));
        assert!(
            !is_cross_site_h(&post, &headers(&[host])),
            "not from a browser page"
        );
    }

    #[test]
    fn bearer_clients_are_not_affected() {
        let h = headers(&[
            ("authorization", "Bearer x"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!is_cross_site_h(&Method::DELETE, &h));
    }

    /// Browsers add Basic and Negotiate credentials to requests on their own (a staging site
    /// behind HTTP auth), so those do not exempt a request as a bearer token does.
    #[test]
    fn other_authorization_schemes_are_checked_like_cookies() {
        for scheme in ["Basic dXNlcjpwYXNz", "Negotiate abc", "bearer"] {
            let mut h = headers(&[("sec-fetch-site", "same-site")]);
            h.insert("authorization", scheme.parse().unwrap());
            assert!(is_cross_site_h(&Method::POST, &h), "{scheme}");
        }
        let h = headers(&[
            ("authorization", "bearer x"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(
            !is_cross_site_h(&Method::POST, &h),
            "the scheme is case-insensitive"
        );
    }

    /// HTTP/2 carries the host as `:authority`, which arrives as the URI's authority.
    #[test]
    fn without_a_host_header_the_uri_authority_is_compared() {
        let post = Method::POST;
        let evil = headers(&[("origin", "https://evil.example")]);
        assert!(is_cross_site(&post, &evil, Some("localhost:3000")));
        assert!(is_cross_site(&post, &evil, None), "no host to match");
        let own = headers(&[("origin", "http://localhost:3000")]);
        assert!(!is_cross_site(&post, &own, Some("localhost:3000")));
        assert!(
            !is_cross_site(&post, &headers(&[]), None),
            "not from a browser page"
        );
    }
}
