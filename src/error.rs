//! The one error type of the application: an HTTP status and the message a user reads.
//! REST handlers render it as `{"success":false,"message":…}`; server functions carry it to
//! the page unchanged.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub status: u16,
    pub message: String,
    /// Extra payload some errors carry (the existing meeting of a 409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    /// For a 429 or 503: when trying again may succeed (the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl AppError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            data: None,
            retry_after_seconds: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }
    /// An unexpected failure: the user gets a generic message, the cause goes to the log.
    pub fn internal() -> Self {
        Self::new(500, "Something went wrong on our side. Please try again.")
    }
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
    /// 429: too many attempts; try again after `seconds`.
    pub fn too_many(message: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after_seconds: Some(seconds.max(1)),
            ..Self::new(429, message)
        }
    }
    /// 503: the server is saturated; try again shortly.
    pub fn busy() -> Self {
        Self {
            retry_after_seconds: Some(1),
            ..Self::new(503, "The server is busy. Please try again.")
        }
    }
    /// 503: the database server cannot be reached; nothing was changed that the user must redo
    /// differently, so trying the same again shortly is the advice.
    pub fn database_unavailable() -> Self {
        Self {
            retry_after_seconds: Some(5),
            ..Self::new(
                503,
                "The database is unavailable. Please try again shortly.",
            )
        }
    }
    /// The default message for a missing or invalid login.
    pub fn login_required() -> Self {
        Self::unauthorized("Unauthorized. Please login.")
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::new(
                503,
                "Could not reach the server. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                Self::bad_request(format!("Invalid form data: {m}"))
            }
            other => Self::new(500, other.to_string()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
