//! The use cases. Each is one function with typed input and [`AppError`] out, called by both
//! the REST handlers and the server functions.

pub mod accounts;
pub mod appointments;
pub mod booking;
pub mod cancellation;
pub mod reschedule;
pub mod slots;
pub mod throttle;
pub mod waitlist;
pub mod zoom_meeting;

use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::server::auth::Caller;
use crate::server::db::DbError;

/// The caller, if logged in (401 otherwise) with `role` (403 with `refusal` otherwise).
pub fn require_role<'a>(
    caller: Option<&'a Caller>,
    role: Role,
    refusal: &str,
) -> AppResult<&'a Caller> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    if caller.role != role {
        return Err(AppError::forbidden(refusal));
    }
    Ok(caller)
}

/// An unexpected database failure: logged with its cause, shown as a generic message.
pub fn unexpected(context: &str) -> impl Fn(DbError) -> AppError + '_ {
    move |e| {
        tracing::error!(error = %e, "{context}");
        AppError::internal()
    }
}
