//! bookSlot: a customer takes a seat in a consulting slot.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{BookedSeat, BookingConfirmation, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{new_key, with_conflict_retry, Attempt, DbError};
use crate::server::mail::templates::{self, Appointment};
use crate::server::repo::bookings::{
    self, NewBooking, ALREADY_BOOKED, SLOT_CHANGED, SLOT_FULL, SLOT_MISSING, SLOT_STARTED,
};
use crate::server::repo::{slots, users};

use super::unexpected;

pub const MAX_NOTES_CHARS: usize = 1000;
const ALREADY_BOOKED_MESSAGE: &str = "You have already booked this slot";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingRequest {
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub additional_notes: Option<String>,
}

pub async fn book_slot(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    request: BookingRequest,
) -> AppResult<BookingConfirmation> {
    let caller = super::require_role(
        caller,
        Role::Customer,
        "Only customers can book consulting slots.",
    )?;
    let notes = request
        .additional_notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if notes.is_some_and(|n| n.chars().count() > MAX_NOTES_CHARS) {
        return Err(AppError::bad_request(format!(
            "additionalNotes must be at most {MAX_NOTES_CHARS} characters"
        )));
    }
    let customer = users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading a user"))?
        .ok_or_else(AppError::login_required)?;
    let name = request
        .customer_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&customer.name)
        .to_string();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "customerName must be one line of at most 100 characters",
        ));
    }

    let booking_id = new_key();
    let outcome = with_conflict_retry(|| async {
        // Emails are rendered from the slot as read here; the transaction checks the slot's
        // schedule version so a concurrent time change makes this attempt start over.
        let slot = slots::by_id(&state.db, slot_id)
            .await
            .map_err(Attempt::Db)?
            .ok_or_else(|| Attempt::Refused(AppError::not_found("Slot not found")))?;
        let appointment = Appointment {
            booking_id: booking_id.clone(),
            slot_title: slot.title.clone(),
            starts_at: slot.starts_at,
            duration_minutes: slot.duration,
            schedule_version: slot.schedule_version,
            specialist_name: slot.specialist_name.clone(),
            specialist_email: slot.specialist_email.clone(),
            specialist_timezone: slot.specialist_timezone.clone(),
            customer_name: name.clone(),
            customer_email: customer.email.clone(),
            customer_timezone: customer.timezone.clone(),
        };
        let emails = [
            templates::customer_confirmation(&appointment),
            templates::specialist_notification(&appointment),
        ];
        let new = NewBooking {
            id: &booking_id,
            slot: slot_id,
            customer: &customer.id,
            customer_email: &customer.email,
            customer_name: &name,
            additional_notes: notes,
            schedule_version: slot.schedule_version,
        };
        let refused = |e: AppError| Err(Attempt::Refused(e));
        match bookings::book(&state.db, &new, &emails).await {
            Ok(index) => Ok(index),
            Err(DbError::Thrown(m)) if m.contains(SLOT_CHANGED) => {
                Err(Attempt::Db(DbError::Conflict))
            }
            Err(DbError::Thrown(m)) if m.contains(SLOT_MISSING) => {
                refused(AppError::not_found("Slot not found"))
            }
            Err(DbError::Thrown(m)) if m.contains(SLOT_STARTED) => {
                refused(AppError::bad_request("This slot has already started"))
            }
            Err(DbError::Thrown(m)) if m.contains(ALREADY_BOOKED) => {
                refused(AppError::conflict(ALREADY_BOOKED_MESSAGE))
            }
            Err(DbError::Unique { index }) if index == "booking_slot_customer_unique" => {
                refused(AppError::conflict(ALREADY_BOOKED_MESSAGE))
            }
            Err(DbError::Thrown(m)) if m.contains(SLOT_FULL) => {
                refused(AppError::conflict("This slot is fully booked"))
            }
            // The index guards the race; another attempt sees the booking and says so.
            Err(DbError::Unique { .. }) => Err(Attempt::Db(DbError::Conflict)),
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;

    let index = match outcome {
        Ok(index) => index,
        Err(Attempt::Refused(e)) => return Err(e),
        Err(Attempt::Db(DbError::Conflict)) => {
            tracing::warn!(slot = slot_id, "booking kept losing write conflicts");
            return Err(AppError::new(
                503,
                "This slot is very busy right now. Please try again.",
            ));
        }
        Err(Attempt::Db(e)) => return Err(unexpected("booking a slot")(e)),
    };
    let booking = bookings::by_slot_index(&state.db, slot_id, index)
        .await
        .map_err(unexpected("reading a booking"))?
        .ok_or_else(AppError::internal)?;
    tracing::info!(slot = slot_id, index, "slot booked");
    Ok(BookingConfirmation {
        slot_id: slot_id.to_string(),
        booking_index: index,
        booking: BookedSeat {
            customer_id: booking.customer,
            customer_email: booking.customer_email,
            customer_name: booking.customer_name,
            booked_at: booking.booked_at,
            additional_notes: booking.additional_notes,
        },
    })
}
