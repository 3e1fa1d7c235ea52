//! Calendar feeds: each user's secret, revocable `.ics` address with their appointments from
//! 30 days back on (a specialist's: every booking of theirs), the events as the emailed
//! invites describe them (same UID and SEQUENCE), the join link once ready, cancellations as
//! `STATUS:CANCELLED`. Only the secret's hash is stored: the address is shown when made.

use crate::error::{AppError, AppResult};
use crate::model::{BookingStatus, CalendarLink, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::mail::ics;
use crate::server::mail::templates::Appointment;
use crate::server::repo::{calendar, users};
use crate::server::security::secret_links;

use super::unexpected;

pub const UNKNOWN_FEED: &str = "Calendar feed not found";

/// A new feed address for the caller; any earlier one stops working.
pub async fn new_link(state: &AppState, caller: Option<&Caller>) -> AppResult<CalendarLink> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    super::require_session(caller, "Calendar feed addresses")?;
    let token = secret_links::new_token();
    users::set_calendar_token(
        &state.db,
        &caller.user_id,
        Some(&secret_links::token_hash(&token)),
    )
    .await
    .map_err(unexpected("saving a calendar feed"))?;
    Ok(CalendarLink {
        url: format!("{}/calendar/{token}.ics", state.config.http.base_url),
    })
}

/// Ends the caller's feed address.
pub async fn revoke(state: &AppState, caller: Option<&Caller>) -> AppResult<()> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    users::set_calendar_token(&state.db, &caller.user_id, None)
        .await
        .map_err(unexpected("removing a calendar feed"))
}

/// The feed behind `file` (`<token>.ics`).
pub async fn render(state: &AppState, file: &str) -> AppResult<String> {
    let not_found = || AppError::not_found(UNKNOWN_FEED);
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let hash = secret_links::hash_of_issued(token).ok_or_else(not_found)?;
    let user = users::by_calendar_token(&state.db, &hash)
        .await
        .map_err(unexpected("reading a calendar feed"))?
        .ok_or_else(not_found)?;
    let bookings = match user.role {
        Role::Customer => calendar::of_customer(&state.db, &user.id).await,
        Role::Specialist => calendar::of_specialist(&state.db, &user.id).await,
    }
    .map_err(unexpected("reading a calendar feed"))?;
    let links = state.manage_links();
    let events: Vec<icalendar::Event> = bookings
        .iter()
        .map(|(slot, booking)| {
            let cancelled = booking.status == BookingStatus::Cancelled;
            let join_url = booking
                .zoom_meeting
                .as_ref()
                .filter(|_| !cancelled)
                .map(|m| m.join_url.as_str());
            Appointment::for_booking(slot, booking, &links).feed_event(
                join_url,
                cancelled,
                user.role == Role::Customer,
            )
        })
        .collect();
    Ok(ics::render_feed(
        &format!("Specialistly: {}", user.name),
        events,
    ))
}
