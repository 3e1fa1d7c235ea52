//! `GET /api/recordings/:id`: a cloud recording for its booking's customer and specialist,
//! whole or by byte range (players seek with `Range`).

use super::schemas::ErrorBody;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use object_store::GetRange;

use super::caller::MaybeCaller;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::service::recordings;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/recordings/{id}", get(recording))
}

/// What a `Range` header asks for, for an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    All,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// One range of bytes (`bytes=a-b`, `bytes=a-`, `bytes=-n`); anything else (several ranges,
/// other units, nonsense) is answered with the whole file, as RFC 9110 allows.
fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((from, to)) = spec.split_once('-') else {
        return Wanted::All;
    };
    let (from, to) = (from.trim(), to.trim());
    let parsed = match (from.parse::<u64>().ok(), to.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => Some((start, end.min(size.saturating_sub(1)))),
        (Some(start), None) if to.is_empty() => Some((start, size.saturating_sub(1))),
        (None, Some(suffix)) if from.is_empty() && suffix > 0 => {
            Some((size.saturating_sub(suffix), size.saturating_sub(1)))
        }
        _ => return Wanted::All,
    };
    match parsed {
        Some((start, end)) if size > 0 && start < size => Wanted::Part { start, end },
        _ => Wanted::Unsatisfiable,
    }
}

#[utoipa::path(operation_id = "downloadRecording", get, path = "/api/recordings/{id}", tag = "Recordings", params(("id" = String, Path)), responses((status = 200, content_type = "application/octet-stream", description = "The file; Range answers 206"), (status = 206, description = "A range of the file"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 416, description = "Range not satisfiable")), security(("bearer" = [])))]
pub(super) async fn recording(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let row = recordings::readable(&state, caller.as_ref(), &id).await?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let part = match wanted(range, row.size) {
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{}", row.size)).expect("ascii"),
            );
            return Ok(response);
        }
        Wanted::All => None,
        Wanted::Part { start, end } => Some((start, end)),
    };
    let got = state
        .recordings
        .get(
            &row.object_key,
            part.map(|(start, end)| GetRange::Bounded(start..end + 1)),
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, recording = %row.id, "reading a recording from the store");
            AppError::new(500, "Could not read the recording. Please try again.")
        })?;
    let length = got.range.end - got.range.start;
    let body = Body::from_stream(
        got.into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other)),
    );
    let mut response = Response::new(body);
    let h = response.headers_mut();
    let value = |v: String| HeaderValue::from_str(&v).expect("ascii header");
    h.insert(header::CONTENT_TYPE, value(row.content_type.clone()));
    h.insert(header::CONTENT_LENGTH, value(length.to_string()));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_DISPOSITION,
        value(format!(
            "inline; filename=\"recording-{}.{}\"",
            row.id, row.extension
        )),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Some((start, end)) = part {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        response.headers_mut().insert(
            header::CONTENT_RANGE,
            value(format!("bytes {start}-{end}/{}", row.size)),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{wanted, Wanted};

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(None, 100), Wanted::All);
        assert_eq!(
            wanted(Some("bytes=0-9"), 100),
            Wanted::Part { start: 0, end: 9 }
        );
        assert_eq!(
            wanted(Some("bytes=90-"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=-10"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=50-500"), 100),
            Wanted::Part { start: 50, end: 99 }
        );
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=9-1"), 100), Wanted::All);
    }
}
