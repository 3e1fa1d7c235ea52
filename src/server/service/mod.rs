//! The use cases. Each is one function with typed input and [`AppError`] out, called by both
//! the REST handlers and the server functions.

pub mod account_changes;
pub mod accounts;
pub mod api_tokens;
pub mod appointments;
pub mod booking;
pub mod busy_calendars;
pub mod calendar_feed;
pub mod cancellation;
pub mod feedback;
pub mod guest_booking;
pub mod live_updates;
pub mod manage;
pub mod offerings;
pub mod pages;
pub mod password_reset;
pub mod profile;
pub mod recordings;
pub mod reschedule;
pub mod sessions;
pub mod slots;
pub mod throttle;
pub mod waitlist;
pub mod webhooks;
pub mod zoom_events;
pub mod zoom_meeting;

use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{Attempt, DbError};
use crate::server::repo::bookings::{self, BookingRow};
use crate::server::repo::slots::SlotRow;

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

/// Refuses a caller with an API token (403): `what` is made from a signed-in session only, so
/// a stolen token cannot plant a grant that outlives its own revocation (review G3).
pub fn require_session(caller: &Caller, what: &str) -> Result<(), AppError> {
    if caller.api_token.is_some() {
        return Err(AppError::forbidden(format!(
            "{what} are made from a signed-in session, not with an API token"
        )));
    }
    Ok(())
}

/// An unexpected database failure: logged with its cause, shown as a generic message.
pub fn unexpected(context: &str) -> impl Fn(DbError) -> AppError + '_ {
    move |e| {
        tracing::error!(error = %e, "{context}");
        database_failure(&e, AppError::internal)
    }
}

/// What a failed database call tells the user: an unreachable database is a 503 to retry
/// shortly; any other failure is `otherwise`.
fn database_failure(e: &DbError, otherwise: impl FnOnce() -> AppError) -> AppError {
    match e {
        DbError::Unavailable => AppError::database_unavailable(),
        _ => otherwise(),
    }
}

/// The slot and its booking `index`, as one attempt of a change to the booking reads them;
/// refused with `missing()` when either does not exist.
async fn slot_and_booking(
    state: &AppState,
    slot_id: &str,
    index: u32,
    missing: impl Fn() -> AppError,
) -> Result<(SlotRow, BookingRow), Attempt> {
    let slot = crate::server::repo::slots::by_id(&state.db, slot_id)
        .await
        .map_err(Attempt::Db)?
        .ok_or_else(|| Attempt::Refused(missing()))?;
    let booking = bookings::by_slot_index(&state.db, slot_id, index)
        .await
        .map_err(Attempt::Db)?
        .ok_or_else(|| Attempt::Refused(missing()))?;
    Ok((slot, booking))
}
