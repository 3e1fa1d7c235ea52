//! Rescheduling: a customer moves their booking to another slot of the same specialist. The
//! meeting, if any, moves with it (same link), and the calendar event is updated in place.

use chrono::Utc;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{BookedSeat, BookingConfirmation, BookingStatus};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{new_key, with_conflict_retry, Attempt, DbError};
use crate::server::domain::BookingIndex;
use crate::server::jobs::{reminders, NewJob};
use crate::server::mail::templates::{self, Appointment, MeetingDetails};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::bookings::{self, Reschedule, RescheduleRefusal};
use crate::server::repo::slots;

use super::booking::follow_up_jobs;
use super::unexpected;
use super::waitlist as waitlist_service;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RescheduleRequest {
    pub to_slot_id: String,
}

pub async fn reschedule(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
    to_slot_id: &str,
) -> AppResult<BookingConfirmation> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let not_found = || AppError::not_found("Booking not found");
    let index = BookingIndex::parse(raw_index).ok_or_else(not_found)?.get();
    super::throttle::mail_action(state, &caller.user_id).await?;
    let new_id = new_key();
    // A move writes both slots' seat counters: it takes its turn on both, as bookings do.
    let _turns = state
        .booking_queue
        .turns()
        .wait_both(slot_id, to_slot_id)
        .await;
    let outcome = with_conflict_retry("reschedule", || async {
        let refuse = |e: AppError| Err(Attempt::Refused(e));
        let (slot, booking) = super::slot_and_booking(state, slot_id, index, not_found).await?;
        if booking.customer != caller.user_id {
            return refuse(not_found());
        }
        match booking.status {
            BookingStatus::Active => {}
            BookingStatus::Cancelled => {
                return refuse(AppError::conflict("This booking is already cancelled"))
            }
            BookingStatus::Rescheduled => {
                return refuse(AppError::conflict("This booking was already moved"))
            }
        }
        let hours = state.config.http.cancel_cutoff_hours;
        if slot.fields.starts_at - chrono::Duration::hours(i64::from(hours)) <= Utc::now() {
            return refuse(AppError::conflict(format!(
                "Bookings can only be rescheduled up to {hours} hours before the start. Please contact your specialist."
            )));
        }
        let target = slots::by_id(&state.db, to_slot_id)
            .await
            .map_err(Attempt::Db)?
            .ok_or_else(|| Attempt::Refused(AppError::not_found("Slot not found")))?;
        if target.specialist != slot.specialist || target.id == slot.id {
            return refuse(AppError::bad_request(
                "You can only move to another slot of the same specialist",
            ));
        }
        if target.fields.starts_at <= Utc::now() || target.cancelled_at.is_some() {
            return refuse(AppError::bad_request("This slot has already started"));
        }
        let old = Appointment::for_booking(&slot, &booking, &state.manage_links());
        let mut moved = Appointment::new(&target, &new_id, old.customer.clone(), &old.links);
        moved.calendar_id = old.calendar_id.clone();
        moved.sequence_base = old.successor_sequence_base();
        let meeting = booking.zoom_meeting.as_ref().map(MeetingDetails::from);
        let mut jobs = vec![
            NewJob::email(&templates::rescheduled(&moved, meeting.as_ref())),
            NewJob::email(&templates::specialist_notification(&moved)),
        ];
        if let Some(m) = &booking.zoom_meeting {
            jobs.push(NewJob::zoom_update(&m.zoom_meeting_id, &new_id, 0));
        }
        jobs.extend(follow_up_jobs(state, &target, &new_id, meeting.is_some()));
        jobs.push(NewJob::webhook_event(
            EventType::BookingRescheduled,
            &target.specialist,
            &new_id,
            "",
            serde_json::json!({ "previous": {
                "bookingId": booking.id, "slotId": slot.id, "bookingIndex": booking.index,
            } }),
        ));
        let stale =
            reminders::customer_keys(&state.config.http, &booking.id, slot.schedule_version);
        // The seat this frees goes to the first customer waiting for the old slot.
        let (promotions, promoted_jobs) = waitlist_service::promotions(state, &slot, 1)
            .await
            .map_err(Attempt::Db)?;
        jobs.extend(promoted_jobs);
        let r = Reschedule {
            booking_id: &booking.id,
            new_booking_id: &new_id,
            target_slot: &target.id,
            target_version: target.schedule_version,
            source_version: slot.schedule_version,
            invite_uid: &moved.calendar_id,
            invite_sequence_base: moved.sequence_base,
            jobs: &jobs,
            cancel_keys: &stale,
            promotions: &promotions,
        };
        match bookings::reschedule(&state.db, &r).await {
            Ok(Ok(new_index)) => Ok((target.id.clone(), new_index)),
            Ok(Err(RescheduleRefusal::Full)) => refuse(AppError::conflict("This slot is fully booked")),
            Ok(Err(RescheduleRefusal::AlreadyBooked)) => {
                refuse(AppError::conflict("You have already booked this slot"))
            }
            Ok(Err(RescheduleRefusal::TargetGone)) => {
                refuse(AppError::bad_request("This slot has already started"))
            }
            Ok(Err(RescheduleRefusal::SpecialistBusy)) => refuse(AppError::conflict(
                "The specialist is not available at that time",
            )),
            // Moved or cancelled meanwhile, or a slot's time changed: read again.
            Ok(Err(RescheduleRefusal::NotActive | RescheduleRefusal::Changed)) => {
                Err(Attempt::Db(DbError::Conflict))
            }
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    let (target, new_index) = match outcome {
        Ok(done) => done,
        Err(Attempt::Refused(e)) => return Err(e),
        Err(Attempt::Db(DbError::Conflict)) => {
            return Err(AppError::new(
                503,
                "This slot is very busy right now. Please try again.",
            ))
        }
        Err(Attempt::Db(e)) => return Err(unexpected("rescheduling a booking")(e)),
    };
    tracing::info!(from = slot_id, to = %target, index = new_index, "booking rescheduled");
    let booking = bookings::by_slot_index(&state.db, &target, new_index)
        .await
        .map_err(unexpected("reading a booking"))?
        .ok_or_else(AppError::internal)?;
    Ok(BookingConfirmation {
        slot_id: target,
        booking_index: new_index,
        booking: BookedSeat {
            customer_id: booking.customer,
            customer_email: booking.customer_email,
            customer_name: booking.customer_name,
            booked_at: booking.booked_at,
            additional_notes: booking.additional_notes,
        },
    })
}
