//! bookSlot: a customer takes a seat in a consulting slot.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{BookedSeat, BookingConfirmation, BookingStatus, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{is_valid_key, new_key, with_conflict_retry, Attempt, DbError};
use crate::server::domain::{Notes, PersonName};
use crate::server::jobs::{self, reminders, NewJob};
use crate::server::mail::templates::{self, Appointment};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::appointment;
use crate::server::repo::bookings::{BookRefusal, Booked, NewBooking};
use crate::server::repo::jobs as repo_jobs;
use crate::server::repo::slots::SlotRow;

use super::unexpected;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingRequest {
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub additional_notes: Option<String>,
}

fn refusal_message(refusal: BookRefusal) -> AppError {
    match refusal {
        BookRefusal::Missing => AppError::not_found("Slot not found"),
        BookRefusal::Started => AppError::bad_request("This slot has already started"),
        BookRefusal::AlreadyBooked => AppError::conflict("You have already booked this slot"),
        BookRefusal::Full => AppError::conflict("This slot is fully booked"),
        BookRefusal::SpecialistBusy => {
            AppError::conflict("The specialist is not available at that time")
        }
    }
}

/// Writes booking `new` into a seat of `slot_id`, or says why not.
///
/// Bookings of one slot queue up in this instance and are written in batches (see
/// `booking_queue`): they would all collide on the slot's seat counter, and each commit
/// waits for the disk. Between instances the database still decides, and losers retry.
/// The transaction writes the seat, the booking and its follow-up jobs; the worker renders
/// the emails and queues the reminders after the commit, from the booking and its slot as
/// they are then (`follow_up`), so nothing here reads the slot first.
pub async fn take_seat(state: &AppState, slot_id: &str, new: NewBooking) -> AppResult<Booked> {
    let _under_way = state.booking_queue.admit().await;
    let outcome = with_conflict_retry("booking", || async {
        match state
            .booking_queue
            .book(&state.db, slot_id, new.clone())
            .await
        {
            Ok(Ok(booked)) => Ok(booked),
            Ok(Err(refusal)) => Err(Attempt::Refused(refusal_message(refusal))),
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    match outcome {
        Ok(booked) => Ok(booked),
        Err(Attempt::Refused(e)) => Err(e),
        Err(Attempt::Db(DbError::Conflict)) => {
            tracing::warn!(slot = slot_id, "booking kept losing write conflicts");
            Err(AppError::new(
                503,
                "This slot is very busy right now. Please try again.",
            ))
        }
        Err(Attempt::Db(e)) => Err(unexpected("booking a slot")(e)),
    }
}

/// What a booking of `slot` (as it stands) schedules for later: its reminders and, unless it
/// has a meeting already, the specialist's automatic creation of one.
pub fn follow_up_jobs(
    state: &AppState,
    slot: &SlotRow,
    booking_id: &str,
    has_meeting: bool,
) -> Vec<NewJob> {
    let mut queued = reminders::for_booking(
        &state.config.http,
        &slot.id,
        slot.fields.starts_at,
        slot.schedule_version,
        booking_id,
    );
    if let (false, Some(minutes)) = (has_meeting, slot.host.auto_create_minutes) {
        queued.extend(NewJob::auto_create(
            booking_id,
            minutes,
            slot.schedule_version,
            slot.fields.starts_at,
        ));
    }
    queued
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
    let notes = Notes::parse(request.additional_notes.as_deref(), "additionalNotes")?;
    // The name is the account's: a booking never shows the specialist another name (such as
    // "Specialistly Support"). `customerName` stays accepted when it says the same.
    if let Some(raw) = request
        .customer_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        let given = PersonName::parse(raw, "customerName")?;
        if given.as_str().to_lowercase() != caller.name.trim().to_lowercase() {
            return Err(AppError::bad_request(
                "customerName must be the name of your account: bookings are made under the account's name",
            ));
        }
    }
    if !is_valid_key(slot_id) {
        return Err(refusal_message(BookRefusal::Missing));
    }
    let booking_id = new_key();
    let new = NewBooking {
        id: booking_id.clone(),
        customer: caller.user_id.clone(),
        guest: false,
        customer_email: caller.email.clone(),
        customer_name: caller.name.clone(),
        additional_notes: notes.as_ref().map(|n| n.as_str().to_string()),
        hold_seconds: None,
        follow_up: vec![NewJob::booking_created(&booking_id)],
    };
    let booked = take_seat(state, slot_id, new).await?;
    tracing::info!(slot = slot_id, index = booked.index, "slot booked");
    Ok(BookingConfirmation {
        slot_id: slot_id.to_string(),
        booking_index: booked.index,
        booking: BookedSeat {
            customer_id: caller.user_id.clone(),
            customer_email: caller.email.clone(),
            customer_name: caller.name.clone(),
            booked_at: booked.booked_at,
            additional_notes: notes.map(|n| n.as_str().to_string()),
        },
    })
}

/// What follows a booking, run by the worker once its transaction committed: the customer's
/// confirmation with its invite, the specialist's notification, the reminders, the automatic
/// meeting and the `booking.created` webhook event, each from the booking and its slot as they
/// are now. Every job has a key of its own, so running this again (a worker that died midway)
/// queues nothing twice. A booking cancelled meanwhile gets none of it: its cancellation said
/// all there was to say.
pub async fn follow_up(state: &AppState, booking_id: &str) -> anyhow::Result<()> {
    let Some((booking, slot)) = appointment::by_booking_id(&state.db, booking_id).await? else {
        return Ok(());
    };
    if booking.status != BookingStatus::Active {
        return Ok(());
    }
    let appointment = Appointment::for_booking(&slot, &booking, &state.manage_links());
    // A guest's held seat: first they confirm it (`guest_booking::confirm` queues this again).
    if let Some(until) = booking.hold_until {
        let ask = [NewJob::email(&templates::guest_hold_request(
            &appointment,
            until,
        ))];
        return Ok(
            with_conflict_retry("guest_hold_request", || repo_jobs::queue(&state.db, &ask)).await?,
        );
    }
    let emails = [
        templates::customer_confirmation(&appointment),
        templates::specialist_notification(&appointment),
    ];
    let mut queued = jobs::emails(&emails);
    queued.extend(follow_up_jobs(
        state,
        &slot,
        &booking.id,
        booking.zoom_meeting.is_some(),
    ));
    queued.push(NewJob::webhook_event(
        EventType::BookingCreated,
        &slot.specialist,
        &booking.id,
        "",
        serde_json::json!({}),
    ));
    with_conflict_retry("booking_follow_up", || repo_jobs::queue(&state.db, &queued)).await?;
    Ok(())
}
