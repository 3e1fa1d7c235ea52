//! Booking without an account. A visitor books with a name and an email when the specialist
//! allows it (`guestBooking`): with `confirm` the seat is held until they open the emailed
//! link and confirm, and released by a durable job when they do not; with `instant` it
//! counts at once. Limits keep anyone from squatting seats under many addresses or one.

use std::net::IpAddr;

use crate::error::{AppError, AppResult};
use crate::model::{
    BookingStatus, GuestBooking, GuestBookingAnswer, GuestBookingRequest, GuestBookingState,
};
use crate::server::app_state::AppState;
use crate::server::db::{is_valid_key, new_key, with_conflict_retry, Attempt, DbError};
use crate::server::domain::{Email, Notes, PersonName, TimeZone};
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Appointment};
use crate::server::repo::bookings::{self, Cancel, CancelRefusal, HoldConfirmed, HoldRefusal};
use crate::server::repo::{guests, slots};

use super::unexpected;
use super::waitlist as waitlist_service;

/// Bookings one guest may have with one specialist at a time (held or counting).
pub const LIVE_PER_SPECIALIST: u32 = 3;

pub const GUESTS_OFF: &str =
    "This specialist takes bookings from customers with an account only. Log in or register to book.";

/// Books a seat of `slot_id` for a guest.
pub async fn book(
    state: &AppState,
    client: Option<IpAddr>,
    slot_id: &str,
    request: GuestBookingRequest,
) -> AppResult<GuestBookingAnswer> {
    let name = PersonName::parse(&request.name, "name")?;
    let email = Email::parse(&request.email, "email")?;
    let notes = Notes::parse(request.additional_notes.as_deref(), "additionalNotes")?;
    let zone = TimeZone::parse_optional(request.timezone.as_deref(), "timezone")?;
    let not_found = || AppError::not_found("Slot not found");
    if !is_valid_key(slot_id) {
        return Err(not_found());
    }
    let slot = slots::by_id(&state.db, slot_id)
        .await
        .map_err(unexpected("reading a slot"))?
        .ok_or_else(not_found)?;
    let mode = slot.host.guest_booking.unwrap_or_default();
    if mode == GuestBooking::Off {
        return Err(AppError::forbidden(GUESTS_OFF));
    }
    super::throttle::guest_booking_request(state, client, &email).await?;
    let guest = guests::upsert(
        &state.db,
        email.as_str(),
        name.as_str(),
        zone.map(TimeZone::name).unwrap_or(&slot.fields.timezone),
    )
    .await
    .map_err(unexpected("saving a guest"))?;
    let live = guests::live_bookings_with(&state.db, &guest, &slot.specialist)
        .await
        .map_err(unexpected("counting a guest's bookings"))?;
    if live >= LIVE_PER_SPECIALIST {
        return Err(AppError::too_many(
            format!("You already have {LIVE_PER_SPECIALIST} upcoming bookings with this specialist. Cancel one, or wait until one has taken place."),
            3600,
        ));
    }
    let booking_id = new_key();
    let hold = state.config.http.guest_hold_seconds;
    let mut follow_up = vec![NewJob::booking_created(&booking_id)];
    if mode == GuestBooking::Confirm {
        follow_up.push(NewJob::guest_hold_release(&booking_id, hold));
    }
    let new = bookings::NewBooking {
        id: booking_id,
        customer: guest,
        guest: true,
        customer_email: email.as_str().to_string(),
        customer_name: name.as_str().to_string(),
        additional_notes: notes.map(|n| n.as_str().to_string()),
        hold_seconds: (mode == GuestBooking::Confirm).then_some(hold),
        follow_up,
    };
    let booked = super::booking::take_seat(state, slot_id, new).await?;
    tracing::info!(
        slot = slot_id,
        index = booked.index,
        mode = mode.as_str(),
        "guest booked"
    );
    let slot = slots::by_id(&state.db, slot_id)
        .await
        .map_err(unexpected("reading a slot"))?
        .unwrap_or(slot);
    Ok(GuestBookingAnswer {
        state: match mode {
            GuestBooking::Instant => GuestBookingState::Confirmed,
            _ => GuestBookingState::AwaitingConfirmation,
        },
        slot: slot.view(),
        email: email.as_str().to_string(),
        hold_expires_at: (mode == GuestBooking::Confirm)
            .then(|| booked.booked_at + chrono::Duration::seconds(hold as i64)),
    })
}

/// Confirms the hold on booking `booking_id`: the booking counts from now, and gets the
/// confirmation, reminders and notifications a new booking gets. Confirming again is fine.
pub async fn confirm(state: &AppState, booking_id: &str) -> AppResult<()> {
    let follow_up = [NewJob::booking_confirmed(booking_id)];
    let outcome = with_conflict_retry("guest_confirm", || {
        bookings::confirm_hold(&state.db, booking_id, &follow_up)
    })
    .await
    .map_err(unexpected("confirming a booking"))?;
    match outcome {
        Ok(HoldConfirmed::Now) => {
            tracing::info!(booking = booking_id, "guest confirmed a held seat");
            Ok(())
        }
        Ok(HoldConfirmed::Already) => Ok(()),
        Err(HoldRefusal::Expired) => Err(AppError::new(
            410,
            "This seat was held for you, but the time to confirm it is up. Please book again.",
        )),
        Err(HoldRefusal::NotActive) => Err(AppError::conflict(
            "This booking was cancelled or moved, so there is nothing to confirm.",
        )),
    }
}

/// The durable job at the end of a hold: cancels the booking if it is still unconfirmed,
/// frees its seat (the first customer waiting takes it) and tells the guest. Runs once per
/// hold; two instances running it at once cancel once, and a confirmation that came first
/// leaves nothing to do.
pub async fn release_hold(state: &AppState, booking_id: &str) -> anyhow::Result<()> {
    let Some(first) = bookings::by_id(&state.db, booking_id).await? else {
        return Ok(());
    };
    if first.status != BookingStatus::Active || first.hold_until.is_none() {
        return Ok(());
    }
    let _turn = state.booking_queue.turns().wait(&first.slot).await;
    let outcome = with_conflict_retry("guest_hold_release", || async {
        let (slot, booking) = super::slot_and_booking(state, &first.slot, first.index, || {
            AppError::not_found("Booking not found")
        })
        .await?;
        let Some(until) = booking.hold_until else {
            return Ok(false);
        };
        if booking.status != BookingStatus::Active {
            return Ok(false);
        }
        if until > chrono::Utc::now() {
            // Due early (another instance's clock): the job runs again after its back-off.
            return Err(Attempt::Refused(AppError::conflict("hold not over yet")));
        }
        let appointment = Appointment::for_booking(&slot, &booking, &state.manage_links());
        let mut queued = vec![NewJob::email(&templates::guest_hold_released(&appointment))];
        let (promotions, promoted_jobs) = waitlist_service::promotions(state, &slot, 1)
            .await
            .map_err(Attempt::Db)?;
        queued.extend(promoted_jobs);
        let cancel = Cancel {
            booking_id: &booking.id,
            by: "system",
            reason: Some("Not confirmed in time"),
            schedule_version: slot.schedule_version,
            jobs: &queued,
            cancel_keys: &[],
            promotions: &promotions,
            expired_hold_only: true,
        };
        match bookings::cancel(&state.db, &cancel).await {
            Ok(Ok(())) => Ok(true),
            Ok(Err(CancelRefusal::NotActive)) => Ok(false),
            Ok(Err(CancelRefusal::Changed)) => Err(Attempt::Db(DbError::Conflict)),
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    match outcome {
        Ok(true) => {
            tracing::info!(booking = booking_id, "released an unconfirmed guest hold");
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(Attempt::Refused(e)) => Err(anyhow::anyhow!(e.message)),
        Err(Attempt::Db(e)) => Err(e.into()),
    }
}

/// Gives the account `user`, whose address `email` is confirmed, the guest bookings made with
/// that address. A failure is logged and left for the next sign-in: it must not fail one. It
/// runs inside a POST (sign-in, confirmation), whose answer forgets the cached pages
/// (`startup::forget_pages_after_changes`).
pub async fn claim(state: &AppState, user: &str, email: &str) {
    match guests::claim(&state.db, user, email).await {
        Ok(0) => {}
        Ok(moved) => tracing::info!(user, moved, "guest bookings moved to their account"),
        Err(e) => tracing::warn!(user, error = %e, "could not move guest bookings to an account"),
    }
}
