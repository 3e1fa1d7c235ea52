//! `Idempotency-Key` (IETF httpapi draft) on the writes a client may need to retry: the same
//! key and request within 24 hours replays the first answer (`Idempotent-Replayed: true`)
//! with no second effect; the same key with another request is 422, and while the first is
//! still running 409. Keys belong to the account, so two accounts never share one.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::caller::ResolvedCaller;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::http_error::TOO_LARGE;
use crate::server::repo::idempotency::{self, Claim, StoredAnswer};
use crate::server::request_limits::MAX_BODY_BYTES;
use crate::server::service::{sessions, unexpected};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// Answers longer than this are passed on but not kept (the routes it guards answer a few
/// hundred bytes).
const MAX_STORED_ANSWER: usize = 256 * 1024;

/// The key of a request: the header's value, bare or as a quoted structured-field string.
fn key_of(value: &HeaderValue) -> Result<String, AppError> {
    let invalid = || {
        AppError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let visible = key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if key.is_empty() || key.len() > MAX_KEY_LEN || !visible {
        return Err(invalid());
    }
    Ok(key.to_string())
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// The middleware around a guarded route. Without the header, or without a caller (the
/// handler answers 401), the request runs as usual.
pub async fn replay_or_run(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match key_of(value) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let caller = match sessions::caller(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return next.run(request).await,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = sessions::check_scope(Some(&caller), request.method()) {
        return e.into_response();
    }
    let (mut parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return AppError::new(413, TOO_LARGE).into_response(),
    };
    let fingerprint = hex_sha256(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or_default().as_bytes(),
        &body,
    ]);
    let id = hex_sha256(&[caller.user_id.as_bytes(), key.as_bytes()]);
    let claim = idempotency::claim(&state.db, &id, &caller.user_id, &fingerprint).await;
    match claim.map_err(unexpected("claiming an idempotency key")) {
        Err(e) => e.into_response(),
        Ok(Claim::Answered(answer)) => replay(answer),
        Ok(Claim::InFlight) => {
            let mut response = AppError::conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Ok(Claim::OtherRequest) => AppError::new(
            422,
            "This Idempotency-Key was already used with a different request",
        )
        .into_response(),
        Ok(Claim::Claimed { token }) => {
            parts.extensions.insert(ResolvedCaller(caller));
            let response = next.run(Request::from_parts(parts, Body::from(body))).await;
            remember(&state, &id, &token, response).await
        }
    }
}

/// Stores the answer of a claimed request and passes it on. A failure on our side (5xx) or a
/// 429 changed nothing, so the key is freed for the client's retry instead.
async fn remember(state: &AppState, id: &str, token: &str, response: Response) -> Response {
    let status = response.status();
    let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(bytes) if !retryable && bytes.len() <= MAX_STORED_ANSWER => bytes,
        result => {
            if let Err(e) = idempotency::release(&state.db, id, token).await {
                tracing::warn!(error = %e, "could not free an idempotency key; it frees itself");
            }
            let bytes = result.unwrap_or_default();
            return Response::from_parts(parts, Body::from(bytes));
        }
    };
    let answer = StoredAnswer {
        status: status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Err(e) = idempotency::finish(&state.db, id, token, &answer).await {
        // The effect happened; the client has its answer. A retry within the claim finds the
        // key in flight, and afterwards runs again: say so in the log.
        tracing::error!(error = %e, "could not store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    if let Some(value) = answer
        .content_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bare_or_quoted_visible_ascii_up_to_255() {
        let key = |s: &str| key_of(&HeaderValue::from_str(s).unwrap());
        assert_eq!(key("abc-123").unwrap(), "abc-123");
        assert_eq!(key("\"8e03978e-40d5\"").unwrap(), "8e03978e-40d5");
        assert!(key(&"k".repeat(255)).is_ok());
        assert_eq!(key(&"k".repeat(256)).unwrap_err().status, 400);
        assert_eq!(key("\"\"").unwrap_err().status, 400);
        assert!(key_of(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_err());
    }

    #[test]
    fn fingerprints_keep_their_parts_apart() {
        assert_ne!(hex_sha256(&[b"ab", b"c"]), hex_sha256(&[b"a", b"bc"]));
    }
}
