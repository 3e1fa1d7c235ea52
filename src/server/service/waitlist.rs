//! The waitlist of full slots: customers join and leave; cancellations promote the first in
//! line (see `cancellation`).

use crate::error::{AppError, AppResult};
use crate::model::{Role, WaitlistPlace};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::with_conflict_retry;
use crate::server::db::{new_key, DbError};
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Appointment, Attendee};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::slots::SlotRow;
use crate::server::repo::waitlist::{self, JoinRefusal};

use super::booking::follow_up_jobs;
use super::unexpected;

fn customer(caller: Option<&Caller>) -> AppResult<&Caller> {
    super::require_role(
        caller,
        Role::Customer,
        "Only customers can join a waitlist.",
    )
}

/// Joins a full slot's waitlist; returns the place in line.
pub async fn join(state: &AppState, caller: Option<&Caller>, slot_id: &str) -> AppResult<u32> {
    let caller = customer(caller)?;
    let joined = with_conflict_retry("waitlist_join", || {
        waitlist::join(
            &state.db,
            slot_id,
            &caller.user_id,
            &caller.email,
            &caller.name,
        )
    })
    .await
    .map_err(unexpected("joining a waitlist"))?;
    match joined {
        Ok(position) => {
            // The waitlist closes when the slot starts (one job per slot and time).
            if let Ok(Some(slot)) = crate::server::repo::slots::by_id(&state.db, slot_id).await {
                let close = crate::server::jobs::NewJob::waitlist_close(
                    slot_id,
                    slot.schedule_version,
                    slot.fields.starts_at,
                );
                crate::server::repo::jobs::queue(&state.db, &[close])
                    .await
                    .map_err(unexpected("scheduling the waitlist's closing"))?;
            }
            Ok(position)
        }
        Err(JoinRefusal::Missing) => Err(AppError::not_found("Slot not found")),
        Err(JoinRefusal::Started) => Err(AppError::bad_request("This slot has already started")),
        Err(JoinRefusal::SeatsAvailable) => Err(AppError::conflict(
            "Seats are available: book the slot directly",
        )),
        Err(JoinRefusal::Booked) => Err(AppError::conflict("You have already booked this slot")),
        Err(JoinRefusal::AlreadyWaiting) => Err(AppError::conflict(
            "You are already on the waitlist for this slot",
        )),
    }
}

pub async fn leave(state: &AppState, caller: Option<&Caller>, slot_id: &str) -> AppResult<()> {
    let caller = customer(caller)?;
    let left = waitlist::leave(&state.db, slot_id, &caller.user_id)
        .await
        .map_err(unexpected("leaving a waitlist"))?;
    if left {
        Ok(())
    } else {
        Err(AppError::not_found(
            "You are not on the waitlist for this slot",
        ))
    }
}

/// The caller's places in line, soonest slot first.
pub async fn places(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<WaitlistPlace>> {
    let caller = customer(caller)?;
    let places = waitlist::places_of(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading waitlists"))?;
    Ok(places
        .iter()
        .map(|p| WaitlistPlace {
            slot: p.slot.view(),
            position: p.position,
        })
        .collect())
}

/// Who takes `seats` seats freed or added in `slot` (as it will stand): the first customers
/// waiting, each with the id of the booking to create, and the jobs those bookings queue (the
/// "a seat opened up" confirmation, the specialist's new-booking email, reminders, the
/// automatic meeting). The transaction that frees the seats checks the line is unchanged.
pub async fn promotions(
    state: &AppState,
    slot: &SlotRow,
    seats: u32,
) -> Result<(Vec<waitlist::Promotion>, Vec<NewJob>), DbError> {
    if seats == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut promotions = Vec::new();
    let mut queued = Vec::new();
    for w in waitlist::first_waiting_n(&state.db, &slot.id, seats).await? {
        let booking_id = new_key();
        let customer = Attendee {
            name: w.customer_name.clone(),
            email: w.customer_email.clone(),
            timezone: w.customer_timezone.clone(),
        };
        let a = Appointment::new(slot, &booking_id, customer, &state.manage_links());
        queued.push(NewJob::email(&templates::seat_opened(&a)));
        queued.push(NewJob::email(&templates::specialist_notification(&a)));
        queued.extend(follow_up_jobs(state, slot, &booking_id, false));
        queued.push(NewJob::webhook_event(
            EventType::BookingCreated,
            &slot.specialist,
            &booking_id,
            "",
            serde_json::json!({ "fromWaitlist": true }),
        ));
        promotions.push(waitlist::Promotion {
            waiter_id: w.id,
            booking_id,
        });
    }
    Ok((promotions, queued))
}
