//! What one request may carry: read by the router's body limit (`startup.rs`) and by any
//! handler that reads a body itself (`rest/idempotency.rs`), so the two cannot disagree.

/// The largest request body: larger ones are answered 413 before a handler runs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
