//! Reading bookings: one appointment's details, a customer's appointments, and the
//! specialist's Meeting Manager.

use chrono::Utc;

use crate::error::{AppError, AppResult};
use crate::model::{AppointmentView, BookingView, ManagedSlot, MyAppointment, Role, SlotView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::domain::BookingIndex;
use crate::server::repo::{appointment, recordings, slots, waitlist};

use super::unexpected;

/// Only the booking's customer and the slot's specialist see it; to anyone else it does not
/// exist. The host's start URL is removed unless the viewer is the specialist.
pub async fn details(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<AppointmentView> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let not_found = || AppError::not_found("Booking not found");
    let index = BookingIndex::parse(raw_index).ok_or_else(not_found)?.get();
    let key = format!("details:{}:{slot_id}:{index}", caller.user_id);
    state
        .read_cache
        .get_or_read(key, || read_details(state, caller, slot_id, index))
        .await
}

async fn read_details(
    state: &AppState,
    caller: &Caller,
    slot_id: &str,
    index: u32,
) -> AppResult<AppointmentView> {
    let not_found = || AppError::not_found("Booking not found");
    let appointment::AppointmentRows {
        slot,
        booking,
        notified,
        recordings,
    } = appointment::by_slot_index(&state.db, slot_id, index)
        .await
        .map_err(unexpected("reading an appointment"))?
        .ok_or_else(not_found)?;
    let is_specialist = slot.specialist == caller.user_id;
    if !is_specialist && booking.customer != caller.user_id {
        return Err(not_found());
    }
    let mut view = booking.view(notified);
    view.recordings = recordings;
    if !is_specialist {
        view.zoom_meeting = view.zoom_meeting.map(|m| m.without_start_url());
    }
    let cutoff = state.config.http.cancel_cutoff_hours;
    let deadline = if is_specialist {
        slot.fields.starts_at
    } else {
        slot.fields.starts_at - chrono::Duration::hours(i64::from(cutoff))
    };
    Ok(AppointmentView {
        slot: slot.view(),
        zoom_meeting: view.zoom_meeting.clone(),
        may_change: view.status == crate::model::BookingStatus::Active && Utc::now() < deadline,
        change_cutoff_hours: cutoff,
        booking: view,
        viewer_is_specialist: is_specialist,
    })
}

/// A customer's bookings and places on waitlists: upcoming soonest first, then past ones,
/// latest first.
pub async fn mine(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<MyAppointment>> {
    let caller = super::require_role(
        caller,
        Role::Customer,
        "Only customers have appointments here.",
    )?;
    let key = format!("mine:{}", caller.user_id);
    state
        .read_cache
        .get_or_read(key, || read_mine(state, &caller.user_id))
        .await
}

async fn read_mine(state: &AppState, customer: &str) -> AppResult<Vec<MyAppointment>> {
    let rows = slots::booked_by(&state.db, customer)
        .await
        .map_err(unexpected("reading bookings"))?;
    let mut list: Vec<MyAppointment> = rows
        .into_iter()
        .map(|b| MyAppointment {
            slot: b.slot.view(),
            booking_index: Some(b.index),
            has_meeting: b.has_meeting,
            waitlist_position: None,
            attendance: b.attendance,
            outcome: b.outcome,
        })
        .collect();
    // Places in line count too: the slots the customer waits for.
    let places = waitlist::places_of(&state.db, customer)
        .await
        .map_err(unexpected("reading waitlists"))?;
    list.extend(places.iter().map(|p| MyAppointment {
        slot: p.slot.view(),
        booking_index: None,
        has_meeting: false,
        waitlist_position: Some(p.position),
        attendance: None,
        outcome: None,
    }));
    let now = Utc::now();
    list.sort_by(|a, b| {
        let (a_up, b_up) = (a.slot.starts_at > now, b.slot.starts_at > now);
        b_up.cmp(&a_up).then_with(|| {
            if a_up {
                a.slot.starts_at.cmp(&b.slot.starts_at)
            } else {
                b.slot.starts_at.cmp(&a.slot.starts_at)
            }
        })
    });
    Ok(list)
}

/// The specialist's slots that have bookings, from the past week's (with their attendance) to
/// the upcoming ones, soonest first, each with its bookings.
pub async fn meeting_manager(
    state: &AppState,
    caller: Option<&Caller>,
) -> AppResult<Vec<ManagedSlot>> {
    // Not logged in: the same answer as creating a meeting, which this page leads to.
    let caller = caller.ok_or_else(|| AppError::unauthorized(super::zoom_meeting::UNAUTHORIZED))?;
    let caller = super::require_role(
        Some(caller),
        Role::Specialist,
        "Only specialists have a Meeting Manager.",
    )?;
    let key = format!("manager:{}", caller.user_id);
    state
        .read_cache
        .get_or_read(key, || read_meeting_manager(state, &caller.user_id))
        .await
}

async fn read_meeting_manager(state: &AppState, specialist: &str) -> AppResult<Vec<ManagedSlot>> {
    let rows = slots::managed_by(&state.db, specialist)
        .await
        .map_err(unexpected("reading the Meeting Manager"))?;
    // Only bookings whose meeting ended can have recordings: the past week's.
    let now = Utc::now();
    let ended: Vec<&str> = rows
        .iter()
        .filter(|m| m.slot.fields.starts_at < now)
        .flat_map(|m| m.bookings.iter().map(|b| b.booking.id.as_str()))
        .collect();
    let mut files = recordings::of_bookings(&state.db, &ended)
        .await
        .map_err(unexpected("reading recordings"))?;
    Ok(rows
        .into_iter()
        .map(|m| ManagedSlot {
            slot: m.slot.view(),
            bookings: m
                .bookings
                .iter()
                .map(|b| BookingView {
                    zoom_job_pending: b.zoom_job_pending,
                    recordings: take_recordings(&mut files, &b.booking.id),
                    ..b.booking.view(b.notified)
                })
                .collect(),
        })
        .collect())
}

/// The recordings of booking `id`, taken out of `all`.
fn take_recordings(
    all: &mut Vec<(String, crate::model::RecordingView)>,
    id: &str,
) -> Vec<crate::model::RecordingView> {
    let (own, rest): (Vec<_>, Vec<_>) = std::mem::take(all).into_iter().partition(|(b, _)| b == id);
    *all = rest;
    own.into_iter().map(|(_, r)| r).collect()
}

/// The slots a customer may move booking `raw_index` of `slot_id` to: the same specialist's
/// upcoming slots with a free seat, other than this one.
pub async fn reschedule_options(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<Vec<SlotView>> {
    let view = details(state, caller, slot_id, raw_index).await?;
    if view.viewer_is_specialist {
        return Ok(Vec::new());
    }
    let filter = slots::BrowseFilter {
        specialist: Some(view.slot.specialist_id.clone()),
        from: None,
        to: None,
        offset: 0,
        limit: 50,
        include_full: false,
    };
    let rows = slots::browse(&state.db, &filter)
        .await
        .map_err(unexpected("listing slots"))?;
    Ok(rows
        .iter()
        .filter(|s| s.id != slot_id)
        .map(|s| s.view())
        .collect())
}
