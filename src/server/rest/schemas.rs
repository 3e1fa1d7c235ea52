//! The answer envelopes, as the OpenAPI document (`openapi.rs`) describes them.

use utoipa::ToSchema;

/// A success: `{"success": true, "data": …}`, with a `message` for some writes. (It only
/// describes the JSON `rest::ok` writes.)
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    pub message: Option<String>,
}

/// A failure: `{"success": false, "message": …}`; some carry `data` (the existing meeting of a
/// 409 from create-zoom).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub data: Option<serde_json::Value>,
}
