//! `/manage/:token`: one seat's page, opened from the link in the customer's emails, with no
//! account or session needed: the booking, its meeting once ready, and (under the usual
//! rules) confirming a guest's hold, moving and cancelling. Plain forms, no wasm.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::guests::{
    managed_booking, managed_options, CancelManaged, ConfirmManaged, RescheduleManaged,
};
use crate::components::error_view::ErrorView;
use crate::error::AppError;
use crate::model::{BookingStatus, ManagedAppointment, SlotView};
use crate::time_fmt;

/// What the page says after one of its forms came back (`?done=…`).
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "confirmed" => Some(
            "Your booking is confirmed. We have emailed you the details and a calendar invite.",
        ),
        "cancelled" => Some("Your booking is cancelled. We have emailed you a confirmation."),
        "moved" => Some(
            "Your booking has moved. We have emailed you the new time; this link now leads to it.",
        ),
        _ => None,
    }
}

#[component]
pub fn ManagePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let done = use_query_map().with_untracked(|q| q.get("done"));
    let data = Resource::new(token, |token| async move {
        let view = managed_booking(token.clone()).await?;
        let open = view.appointment.may_change
            && view.appointment.booking.status == BookingStatus::Active
            && view.hold_expires_at.is_none();
        let options = if open {
            managed_options(token).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok::<_, AppError>((view, options))
    });
    view! {
        {done.as_deref().and_then(done_message).map(|m| view! {
            <p class="alert alert-success" role="status" data-testid="manage-done">{m}</p>
        })}
        <Transition fallback=|| view! { <p class="muted">"Loading your booking…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! {
                        <h1>"Your booking"</h1>
                        <ErrorView error=e/>
                        <p><a href="/slots">"See the open sessions"</a></p>
                    }.into_any(),
                    Ok((view, options)) => view! { <Managed view token=token() options/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Managed(view: ManagedAppointment, token: String, options: Vec<SlotView>) -> impl IntoView {
    let a = view.appointment;
    let booking = a.booking;
    let slot = a.slot;
    let zone = slot.timezone.clone();
    let status = match (booking.status, view.hold_expires_at) {
        (BookingStatus::Active, Some(until)) => format!(
            "Awaiting your confirmation until {}",
            time_fmt::time_in(until, &zone)
        ),
        (BookingStatus::Active, None) => "Confirmed".to_string(),
        (BookingStatus::Cancelled, _) => "Cancelled".to_string(),
        (BookingStatus::Rescheduled, _) => "Moved".to_string(),
    };
    let active = booking.status == BookingStatus::Active;
    let held = active && view.hold_expires_at.is_some();
    let may_change = active && a.may_change && !held;
    let confirm = ServerAction::<ConfirmManaged>::new();
    let cancel = ServerAction::<CancelManaged>::new();
    let reschedule = ServerAction::<RescheduleManaged>::new();
    let error = move || {
        confirm
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| cancel.value().get().and_then(|r| r.err()))
            .or_else(|| reschedule.value().get().and_then(|r| r.err()))
    };
    let meeting = a.zoom_meeting.clone().filter(|_| active && !held);
    view! {
        <div class="page-head">
            <h1>{slot.title.clone()}</h1>
        </div>
        <div aria-live="polite">{move || error().map(|e| view! { <ErrorView error=e/> })}</div>
        <section class="card">
            <dl class="facts">
                <dt>"Status"</dt><dd data-testid="manage-status">{status}</dd>
                <dt>"Name"</dt><dd>{booking.customer_name.clone()}</dd>
                <dt>"Date"</dt><dd data-testid="manage-date">{time_fmt::date_in(slot.starts_at, &zone)}</dd>
                <dt>"Time"</dt><dd>{time_fmt::time_in(slot.starts_at, &zone)}</dd>
                <dt>"Duration"</dt><dd>{format!("{} minutes", slot.duration)}</dd>
                <dt>"Specialist"</dt><dd>{slot.specialist_name.clone()}</dd>
            </dl>
            {held.then(|| {
                let token = token.clone();
                view! {
                <p>"Your seat is held for you. Confirm the booking to keep it."</p>
                <ActionForm action=confirm>
                    <input type="hidden" name="token" value=token.clone()/>
                    <button type="submit" class="btn" data-testid="confirm-booking">"Confirm my booking"</button>
                </ActionForm>
            }})}
        </section>
        {(active && !held).then(|| view! {
            <section class="card" data-testid="manage-zoom">
                {match meeting {
                    Some(m) => view! {
                        <h2>"Zoom meeting ready" {m.is_simulated().then(|| view! { " " <span class="badge badge-warn">"simulated"</span> })}</h2>
                        <p><a class="btn btn-large" href=m.join_url.clone() target="_blank" rel="noopener" data-testid="join-zoom">"Join Zoom Meeting"</a></p>
                        <dl class="facts">
                            <dt>"Meeting ID"</dt><dd><code>{m.zoom_meeting_id.clone()}</code></dd>
                            <dt>"Password"</dt><dd><code>{m.password.clone()}</code></dd>
                        </dl>
                    }.into_any(),
                    None => view! {
                        <h2>"Zoom meeting pending"</h2>
                        <p>"Your specialist creates the meeting shortly before the appointment. We email you the link, and it appears here."</p>
                    }.into_any(),
                }}
            </section>
        })}
        {may_change.then(|| {
            let (token, zone) = (token.clone(), zone.clone());
            view! {
            <section class="card">
                <h2>"Change this booking"</h2>
                <p class="muted">{format!("Possible until {} hours before the start.", a.change_cutoff_hours)}</p>
                {(!options.is_empty()).then(|| {
                    let token = token.clone();
                    view! {
                    <ActionForm action=reschedule attr:class="inline-form">
                        <input type="hidden" name="token" value=token.clone()/>
                        <label for="to_slot_id">"Move to"</label>
                        <select id="to_slot_id" name="to_slot_id">
                            {options.iter().map(|o| view! {
                                <option value=o.id.clone()>{format!("{} · {}", time_fmt::date_time_in(o.starts_at, &zone), o.title)}</option>
                            }).collect_view()}
                        </select>
                        <button type="submit" class="btn btn-secondary">"Move booking"</button>
                    </ActionForm>
                }})}
                <ActionForm action=cancel>
                    <input type="hidden" name="token" value=token.clone()/>
                    <label for="reason">"Reason for cancelling (optional)"</label>
                    <textarea id="reason" name="reason" rows="2" maxlength="500"></textarea>
                    <div class="actions">
                        <button type="submit" class="btn btn-danger" data-testid="cancel-booking">"Cancel booking"</button>
                    </div>
                </ActionForm>
            </section>
        }})}
        {(active && !held && !a.may_change).then(|| view! {
            <p class="card muted">{format!("Changes are no longer possible here within {} hours of the start. Please contact your specialist.", a.change_cutoff_hours)}</p>
        })}
        <p class="card">
            {format!("This page's link is yours alone and works until {}. ", time_fmt::date_in(view.link_expires_at, &zone))}
            "Have an account with this email? " <a href="/login">"Log in"</a> " to see all your bookings."
        </p>
    }
}
