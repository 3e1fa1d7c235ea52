//! Changes a page should hear of at once: the rows behind it are watched with a SurrealDB
//! `LIVE SELECT`, so on a SurrealDB server a change made through any instance is heard by all.

use futures::{Stream, StreamExt};

use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{self, is_valid_key};

use super::unexpected;

/// Every change to one booking (its meeting, attendance, cancellation…), for its customer and
/// its slot's specialist only.
pub async fn appointment(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<impl Stream<Item = ()> + Send + 'static> {
    // The same checks, in the same order, as reading the appointment itself.
    let view = super::appointments::details(state, caller, slot_id, raw_index).await?;
    let slot = &view.slot.id;
    if !is_valid_key(slot) {
        return Err(AppError::not_found("Booking not found"));
    }
    let sql = format!(
        "LIVE SELECT id FROM booking WHERE slot = slot:⟨{slot}⟩ AND index = {}",
        view.booking.booking_index
    );
    changes(state, &sql, "watching a booking").await
}

/// Every change to a specialist's bookings, for their Meeting Manager.
pub async fn meeting_manager(
    state: &AppState,
    caller: Option<&Caller>,
) -> AppResult<impl Stream<Item = ()> + Send + 'static> {
    let caller = super::require_role(
        caller,
        Role::Specialist,
        "Only specialists have a Meeting Manager.",
    )?;
    let specialist = &caller.user_id;
    if !is_valid_key(specialist) {
        return Err(AppError::forbidden(
            "Only specialists have a Meeting Manager.",
        ));
    }
    // `specialist` is kept on the booking (migration 24): comparing it costs each booking
    // write nothing, where `slot.specialist` read the slot once per open Meeting Manager.
    let sql = format!("LIVE SELECT id FROM booking WHERE specialist = user:⟨{specialist}⟩");
    changes(state, &sql, "watching the Meeting Manager").await
}

/// The changes `sql` watches. Each forgets the cached pages before the page hears of it, so
/// the read it makes then is fresh (the cache's own live queries may tell it later).
async fn changes(
    state: &AppState,
    sql: &str,
    doing: &'static str,
) -> AppResult<impl Stream<Item = ()> + Send + 'static> {
    let pages = state.read_cache.clone();
    let watch = db::watch(&state.db, sql).await.map_err(unexpected(doing))?;
    Ok(watch.map(move |()| pages.forget_all()))
}
