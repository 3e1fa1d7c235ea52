//! Cancelling a booking (by its customer or its slot's specialist) and cancelling a whole
//! slot (by its specialist). Each is one transaction: statuses, seats, emails with the
//! reason, calendar cancellations, and the deletion of any Zoom meeting as a durable job.

use chrono::Utc;

use crate::error::{AppError, AppResult};
use crate::model::{BookingStatus, BookingView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{with_conflict_retry, Attempt, DbError};
use crate::server::domain::BookingIndex;
use crate::server::jobs::{self, reminders, NewJob};
use crate::server::mail::templates::{self, Appointment, Attendee, Cancellation};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::bookings::{self, Cancel, CancelRefusal};
use crate::server::repo::slots::{self, CancelSlot, CancelSlotRefusal, SlotRow};
use crate::server::repo::waitlist;

use super::unexpected;
use super::waitlist as waitlist_service;

pub const MAX_REASON_CHARS: usize = 500;

/// The reason as given: optional for the customer, required for the specialist.
fn reason(raw: Option<&str>, required: bool) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None if required => Err(AppError::bad_request("reason is required")),
        None => Ok(None),
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(AppError::bad_request(format!(
            "reason must be at most {MAX_REASON_CHARS} characters"
        ))),
        Some(r) => Ok(Some(r.to_string())),
    }
}

/// Cancels booking `raw_index` of `slot_id`. To anyone but its customer and the slot's
/// specialist the booking does not exist.
pub async fn cancel_booking(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
    raw_reason: Option<&str>,
) -> AppResult<BookingView> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let not_found = || AppError::not_found("Booking not found");
    let index = BookingIndex::parse(raw_index).ok_or_else(not_found)?.get();
    super::throttle::mail_action(state, &caller.user_id).await?;
    cancel(state, &caller.user_id, slot_id, index, raw_reason, false).await
}

/// What a customer closing their account says of each upcoming booking it cancels.
pub const ACCOUNT_CLOSED: &str = "The customer closed their account.";

/// Cancels an upcoming booking of a customer who is deleting their account: inside the
/// cutoff too, with the specialist told why (the customer gets one email about the account).
pub async fn cancel_for_closed_account(
    state: &AppState,
    customer: &str,
    slot_id: &str,
    index: u32,
) -> AppResult<BookingView> {
    cancel(state, customer, slot_id, index, Some(ACCOUNT_CLOSED), true).await
}

/// The cancellation by `user_id` (the customer or the slot's specialist). `closing`: the
/// customer is deleting their account (no cutoff, no email to them).
async fn cancel(
    state: &AppState,
    user_id: &str,
    slot_id: &str,
    index: u32,
    raw_reason: Option<&str>,
    closing: bool,
) -> AppResult<BookingView> {
    let not_found = || AppError::not_found("Booking not found");
    // A cancellation writes the slot's seat counter: it takes its turn, as bookings do, instead
    // of losing conflicts to them in the database and starting over.
    let _turn = state.booking_queue.turns().wait(slot_id).await;
    let outcome = with_conflict_retry("booking_cancel", || async {
        let (slot, booking) = super::slot_and_booking(state, slot_id, index, not_found).await?;
        let by_specialist = !closing && slot.specialist == user_id;
        if !by_specialist && booking.customer != user_id {
            return Err(Attempt::Refused(not_found()));
        }
        let reason = reason(raw_reason, by_specialist).map_err(Attempt::Refused)?;
        match booking.status {
            BookingStatus::Active => {}
            BookingStatus::Cancelled => {
                return Err(Attempt::Refused(AppError::conflict(
                    "This booking is already cancelled",
                )))
            }
            BookingStatus::Rescheduled => {
                return Err(Attempt::Refused(AppError::conflict(
                    "This booking was moved to another slot; cancel the new one instead",
                )))
            }
        }
        let now = Utc::now();
        if by_specialist || closing {
            if slot.fields.starts_at <= now {
                return Err(Attempt::Refused(AppError::conflict(
                    "This appointment has already started",
                )));
            }
        } else {
            let hours = state.config.http.cancel_cutoff_hours;
            // Promoted from the waitlist inside the cutoff: an hour to change one's mind.
            let just_promoted = booking
                .promoted_at
                .is_some_and(|at| now - at < chrono::Duration::hours(1));
            if slot.fields.starts_at - chrono::Duration::hours(i64::from(hours)) <= now
                && !just_promoted
            {
                return Err(Attempt::Refused(AppError::conflict(format!(
                    "Bookings can only be cancelled up to {hours} hours before the start. Please contact your specialist."
                ))));
            }
        }
        let appointment = Appointment::for_booking(&slot, &booking, &state.manage_links());
        let cancellation = Cancellation {
            by_specialist,
            reason: reason.as_deref(),
        };
        let mut emails = Vec::new();
        if !closing {
            emails.push(templates::cancelled_customer(&appointment, &cancellation));
        }
        // A customer's cancellation tells the specialist; an address nobody confirmed (perhaps
        // not the specialist's own) within a daily quota.
        if by_specialist
            || closing
            || slot.host.email_verified
            || super::throttle::notify_address(state, &appointment.specialist.email)
                .await
                .map_err(Attempt::Refused)?
        {
            emails.push(templates::cancelled_specialist(&appointment, &cancellation));
        }
        let mut queued = jobs::emails(&emails);
        queued.push(cancelled_event(&slot, &booking.id, by_specialist, reason.as_deref()));
        let stale = reminders::customer_keys(&state.config.http, &booking.id, slot.schedule_version);
        // The first customer waiting takes the freed seat in the same transaction.
        let (promotions, promoted_jobs) = waitlist_service::promotions(state, &slot, 1)
            .await
            .map_err(Attempt::Db)?;
        queued.extend(promoted_jobs);
        let cancel = Cancel {
            jobs: &queued,
            promotions: &promotions,
            cancel_keys: &stale,
            booking_id: &booking.id,
            by: if by_specialist { "specialist" } else { "customer" },
            reason: reason.as_deref(),
            schedule_version: slot.schedule_version,
            expired_hold_only: false,
        };
        match bookings::cancel(&state.db, &cancel).await {
            Ok(Ok(())) => Ok(booking.id),
            // Cancelled meanwhile by the other party: the next round says so.
            Ok(Err(CancelRefusal::NotActive | CancelRefusal::Changed)) => {
                Err(Attempt::Db(DbError::Conflict))
            }
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    match outcome {
        Ok(_) => {}
        Err(Attempt::Refused(e)) => return Err(e),
        Err(Attempt::Db(e)) => return Err(unexpected("cancelling a booking")(e)),
    }
    tracing::info!(slot = slot_id, index, "booking cancelled");
    let booking = bookings::by_slot_index(&state.db, slot_id, index)
        .await
        .map_err(unexpected("reading a booking"))?
        .ok_or_else(AppError::internal)?;
    let mut view = booking.view(false);
    view.zoom_meeting = view.zoom_meeting.map(|m| m.without_start_url());
    Ok(view)
}

/// Cancels every active booking of a slot and takes the slot out of browsing. Returns how
/// many bookings were cancelled.
pub async fn cancel_slot(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_reason: Option<&str>,
) -> AppResult<u32> {
    let caller = super::require_role(
        caller,
        crate::model::Role::Specialist,
        "Only specialists can manage consulting slots.",
    )?;
    let _turn = state.booking_queue.turns().wait(slot_id).await;
    let outcome = with_conflict_retry("slot_cancel", || async {
        let slot = slots::by_id(&state.db, slot_id)
            .await
            .map_err(Attempt::Db)?
            .ok_or_else(|| Attempt::Refused(AppError::not_found("Slot not found")))?;
        if slot.specialist != caller.user_id {
            return Err(Attempt::Refused(AppError::forbidden(
                "Forbidden. You can only change your own slots.",
            )));
        }
        let reason = reason(raw_reason, true)
            .map_err(Attempt::Refused)?
            .unwrap_or_default();
        if slot.fields.starts_at <= Utc::now() {
            return Err(Attempt::Refused(AppError::conflict(
                "This slot has already started",
            )));
        }
        let active: Vec<_> = bookings::of_slot(&state.db, slot_id)
            .await
            .map_err(Attempt::Db)?
            .into_iter()
            .filter(|b| b.status == BookingStatus::Active)
            .collect();
        let cancellation = Cancellation {
            by_specialist: true,
            reason: Some(&reason),
        };
        let links = state.manage_links();
        let mut emails: Vec<_> = active
            .iter()
            .flat_map(|b| {
                let a = Appointment::for_booking(&slot, b, &links);
                [
                    templates::cancelled_customer(&a, &cancellation),
                    templates::cancelled_specialist(&a, &cancellation),
                ]
            })
            .collect();
        // Everyone still in line is told the line closed with the session.
        let waiters = waitlist::all_waiting(&state.db, slot_id)
            .await
            .map_err(Attempt::Db)?;
        emails.extend(waiters.iter().map(|w| {
            let to = Attendee {
                name: w.customer_name.clone(),
                email: w.customer_email.clone(),
                timezone: w.customer_timezone.clone(),
            };
            templates::waitlist_closed(
                &to,
                &slot.fields.title,
                &w.id,
                templates::WaitlistClosedBecause::SlotCancelled,
            )
        }));
        let seen_waiters: Vec<String> = waiters.into_iter().map(|w| w.id).collect();
        let config = &state.config.http;
        let mut stale = reminders::specialist_keys(config, slot_id, slot.schedule_version);
        for b in &active {
            stale.extend(reminders::customer_keys(
                config,
                &b.id,
                slot.schedule_version,
            ));
        }
        let mut queued = jobs::emails(&emails);
        queued.extend(
            active
                .iter()
                .map(|b| cancelled_event(&slot, &b.id, true, Some(&reason))),
        );
        let cancel = CancelSlot {
            cancel_keys: &stale,
            id: slot_id,
            reason: &reason,
            seen_next_index: slot.next_index,
            seen_booked: slot.booked,
            seen_schedule_version: slot.schedule_version,
            seen_waiters: &seen_waiters,
            jobs: &queued,
        };
        match slots::cancel(&state.db, &cancel).await {
            Ok(Ok(())) => Ok(active.len() as u32),
            Ok(Err(CancelSlotRefusal::AlreadyCancelled)) => Err(Attempt::Refused(
                AppError::conflict("This slot is already cancelled"),
            )),
            Ok(Err(CancelSlotRefusal::Changed)) => Err(Attempt::Db(DbError::Conflict)),
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    match outcome {
        Ok(n) => {
            tracing::info!(slot = slot_id, cancelled = n, "slot cancelled");
            Ok(n)
        }
        Err(Attempt::Refused(e)) => Err(e),
        Err(Attempt::Db(e)) => Err(unexpected("cancelling a slot")(e)),
    }
}

/// The `booking.cancelled` webhook event of a booking of `slot`.
fn cancelled_event(
    slot: &SlotRow,
    booking_id: &str,
    by_specialist: bool,
    reason: Option<&str>,
) -> NewJob {
    NewJob::webhook_event(
        EventType::BookingCancelled,
        &slot.specialist,
        booking_id,
        "",
        serde_json::json!({
            "cancelledBy": if by_specialist { "specialist" } else { "customer" },
            "reason": reason,
        }),
    )
}
