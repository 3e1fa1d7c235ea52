//! A seat's manage link (`manage_links.rs`): whoever holds it acts as that one booking's
//! customer, for that booking only: view it (the join link once ready), confirm a guest's
//! hold, cancel it or move it, under the rules and cutoff every customer has. The link follows
//! the booking through its moves and dies 30 days after the appointment.

use chrono::{Duration, Utc};

use crate::error::{AppError, AppResult};
use crate::model::{BookingConfirmation, BookingView, ManagedAppointment, Role, SlotView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::manage_links::VALID_DAYS_AFTER;
use crate::server::repo::bookings::{self, BookingRow};
use crate::server::repo::slots;

use super::unexpected;

pub const INVALID_LINK: &str =
    "This booking link is not valid. Check that you opened the whole link from the email.";
pub const EXPIRED_LINK: &str =
    "This booking link has expired: it works until 30 days after the appointment.";

/// The booking a link names now, and the caller it acts as: the booking's own customer.
struct Seat {
    booking: BookingRow,
    customer: Caller,
    link_expires_at: chrono::DateTime<Utc>,
}

async fn resolve(state: &AppState, token: &str) -> AppResult<Seat> {
    let invalid = || AppError::not_found(INVALID_LINK);
    if token.len() > 200 {
        return Err(invalid());
    }
    let seat = state.manage_links().seat_of(token).ok_or_else(invalid)?;
    let booking = bookings::current_of_seat(&state.db, &seat)
        .await
        .map_err(unexpected("reading a booking"))?
        .ok_or_else(invalid)?;
    let slot = slots::by_id(&state.db, &booking.slot)
        .await
        .map_err(unexpected("reading a slot"))?
        .ok_or_else(invalid)?;
    let ends_at = slot.fields.starts_at + Duration::minutes(i64::from(slot.fields.duration));
    let link_expires_at = ends_at + Duration::days(VALID_DAYS_AFTER);
    if link_expires_at <= Utc::now() {
        return Err(AppError::new(410, EXPIRED_LINK));
    }
    let customer = Caller {
        user_id: booking.customer.clone(),
        role: Role::Customer,
        session_id: String::new(),
        name: booking.customer_name.clone(),
        email: booking.customer_email.clone(),
        timezone: booking.customer_timezone.clone(),
        api_token: None,
    };
    Ok(Seat {
        booking,
        customer,
        link_expires_at,
    })
}

/// What the link's page shows.
pub async fn view(state: &AppState, token: &str) -> AppResult<ManagedAppointment> {
    let seat = resolve(state, token).await?;
    let index = seat.booking.index.to_string();
    let appointment =
        super::appointments::details(state, Some(&seat.customer), &seat.booking.slot, &index)
            .await?;
    Ok(ManagedAppointment {
        appointment,
        hold_expires_at: seat.booking.hold_until,
        link_expires_at: seat.link_expires_at,
    })
}

/// Confirms a guest's held seat.
pub async fn confirm(state: &AppState, token: &str) -> AppResult<ManagedAppointment> {
    let seat = resolve(state, token).await?;
    super::guest_booking::confirm(state, &seat.booking.id).await?;
    view(state, token).await
}

pub async fn cancel(state: &AppState, token: &str, reason: Option<&str>) -> AppResult<BookingView> {
    let seat = resolve(state, token).await?;
    let index = seat.booking.index.to_string();
    super::cancellation::cancel_booking(
        state,
        Some(&seat.customer),
        &seat.booking.slot,
        &index,
        reason,
    )
    .await
}

/// The sessions the booking may move to.
pub async fn reschedule_options(state: &AppState, token: &str) -> AppResult<Vec<SlotView>> {
    let seat = resolve(state, token).await?;
    if seat.booking.hold_until.is_some() {
        return Ok(Vec::new());
    }
    let index = seat.booking.index.to_string();
    super::appointments::reschedule_options(state, Some(&seat.customer), &seat.booking.slot, &index)
        .await
}

pub async fn reschedule(
    state: &AppState,
    token: &str,
    to_slot_id: &str,
) -> AppResult<BookingConfirmation> {
    let seat = resolve(state, token).await?;
    if seat.booking.hold_until.is_some() {
        return Err(AppError::conflict(
            "Confirm this booking first; then you can move it.",
        ));
    }
    let index = seat.booking.index.to_string();
    super::reschedule::reschedule(
        state,
        Some(&seat.customer),
        &seat.booking.slot,
        &index,
        to_slot_id,
    )
    .await
}
