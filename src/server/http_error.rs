//! How [`AppError`] looks over REST: `{"success":false,"message":…}` with its status.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({ "success": false, "message": self.message });
        if let Some(data) = self.data {
            body["data"] = data;
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// What a body over the limit is told, however it was found too large.
pub const TOO_LARGE: &str = "Request body too large (at most 64 KB)";

/// A JSON body whose rejections are JSON too: malformed → 400, too large → 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::new(413, TOO_LARGE),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::new(
            415,
            "Send the body as JSON (Content-Type: application/json)",
        ),
        _ => AppError::bad_request(format!("Invalid JSON body: {}", rejection.body_text())),
    }
}

/// A raw body that could not be read: too large → 413 (as for JSON), else 400.
pub fn body_rejection(rejection: BytesRejection) -> AppError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::new(413, TOO_LARGE),
        _ => AppError::bad_request("Could not read the request body"),
    }
}

pub async fn api_not_found() -> AppError {
    AppError::not_found("No such API endpoint")
}
