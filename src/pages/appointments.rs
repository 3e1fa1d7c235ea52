//! AppointmentDetailsView and the customer's list of appointments.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::meetings::{
    appointment, my_appointments, refresh_seconds, reschedule_options, CancelBooking,
    RescheduleBooking,
};
use crate::api::slots::{my_waitlist, LeaveWaitlist};
use crate::components::calendar_feed::CalendarFeedCard;
use crate::components::copy_button::CopyButton;
use crate::components::error_view::{go_to, send_to_login, ErrorAlert, ErrorView};
use crate::components::live_events;
use crate::components::meeting_events::{
    AttendanceView, FeedbackView, MeetingHistoryNote, RecordingsList,
};
use crate::components::reminder_toggle::ReminderSettings;
use crate::error::AppError;
use crate::model::{AppointmentView, BookingStatus, SlotView};
use crate::session::use_session;
use crate::time_fmt;

#[component]
pub fn MyAppointmentsPage() -> impl IntoView {
    let session = use_session();
    let list = Resource::new(|| (), |_| my_appointments());
    view! {
        <h1>"My appointments"</h1>
        <MyWaitlist/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                let now = chrono::Utc::now();
                match list.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(items) if items.is_empty() => view! {
                        <p class="card muted">"No appointments yet. " <a href="/slots">"Browse slots"</a></p>
                    }.into_any(),
                    Ok(items) => view! {
                        <ul class="appointment-list">
                            {items.into_iter().filter_map(|a| a.booking_index.map(|index| (a, index))).map(|(a, index)| {
                                let past = a.slot.starts_at <= now;
                                view! {
                                    <li class="card appointment-item" class:past=past data-testid="my-appointment">
                                        <div>
                                            <h2>{a.slot.title.clone()}</h2>
                                            <p class="muted">"with " {a.slot.specialist_name.clone()}</p>
                                            <p class="when">{time_fmt::date_time_in(a.slot.starts_at, &tz)}</p>
                                        </div>
                                        <div>
                                            {if past {
                                                view! { <span class="badge">"Past"</span> }.into_any()
                                            } else if a.has_meeting {
                                                view! { <span class="badge badge-ok">"Zoom ready"</span> }.into_any()
                                            } else {
                                                view! { <span class="badge badge-warn">"Zoom pending"</span> }.into_any()
                                            }}
                                            <a class="btn btn-small" href=format!("/appointments/{}/{}", a.slot.id, index)>"Details"</a>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The customer's places on waitlists, each with a way out.
#[component]
fn MyWaitlist() -> impl IntoView {
    let session = use_session();
    let leave = ServerAction::<LeaveWaitlist>::new();
    let places = Resource::new(|| (), |_| my_waitlist());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                let places = places.await.unwrap_or_default();
                (!places.is_empty()).then(|| view! {
                    <section class="card" aria-labelledby="waitlist-title">
                        <h2 id="waitlist-title">"Waiting for a seat"</h2>
                        <ul class="appointment-list">
                            {places.into_iter().map(|p| view! {
                                <li class="appointment-item" data-testid="waitlist-place">
                                    <div>
                                        <strong>{p.slot.title.clone()}</strong>
                                        <p class="when">{time_fmt::date_time_in(p.slot.starts_at, &tz)}</p>
                                    </div>
                                    <div>
                                        <span class="badge badge-warn">{format!("#{} in line", p.position)}</span>
                                        <ActionForm action=leave attr:class="inline-form">
                                            <input type="hidden" name="slot_id" value=p.slot.id.clone()/>
                                            <button type="submit" class="btn btn-small btn-secondary">"Leave"</button>
                                        </ActionForm>
                                    </div>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
        <ReminderSettings/>
        <CalendarFeedCard/>
    }
}

/// Loaded on the server (with the other times a customer may move to); what it shows is an
/// island that keeps itself up to date.
#[component]
pub fn AppointmentPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let just_booked = move || query.with(|q| q.get("booked").is_some());
    let just_moved = move || query.with(|q| q.get("moved").is_some());
    let key = move || {
        params.with(|p| {
            (
                p.get("slot_id").unwrap_or_default(),
                p.get("booking_index").unwrap_or_default(),
            )
        })
    };
    let data = Resource::new(key, |(slot, index)| async move {
        let view = appointment(slot.clone(), index.clone()).await?;
        let may_move = !view.viewer_is_specialist
            && view.may_change
            && view.booking.status == BookingStatus::Active;
        let options = if may_move {
            Some(reschedule_options(slot, index).await)
        } else {
            None
        };
        Ok::<_, AppError>((view, options))
    });
    let period = Resource::new(|| (), |_| refresh_seconds());

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading appointment…"</p> }>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone);
                let refresh = period.await.ok();
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok((view, move_options)) => {
                        let timezone = tz.unwrap_or_else(|| view.slot.timezone.clone());
                        view! {
                            <AppointmentLive
                                initial=view
                                timezone
                                just_booked=just_booked()
                                just_moved=just_moved()
                                refresh_seconds=refresh
                                move_options
                            />
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// AppointmentDetailsView, live: while the meeting is pending it checks again every
/// `refresh_seconds` (only while the tab is visible; nothing more once it is ready), and after
/// "Refresh to Check" or a cancellation.
#[island]
pub fn AppointmentLive(
    initial: AppointmentView,
    timezone: String,
    just_booked: bool,
    just_moved: bool,
    refresh_seconds: Option<u32>,
    move_options: Option<Result<Vec<SlotView>, AppError>>,
) -> impl IntoView {
    let (slot_id, index) = (
        initial.slot.id.clone(),
        initial.booking.booking_index.to_string(),
    );
    let (initial_slot, initial_index) = (slot_id.clone(), index.clone());
    let data = RwSignal::new(initial);
    let tick = RwSignal::new(0u32);
    let reads = live_events::LatestRead::default();
    Effect::new(move |previous: Option<u32>| {
        let now = tick.get();
        if previous.is_some() {
            let (slot_id, index) = (slot_id.clone(), index.clone());
            let read = reads.start();
            spawn_local(async move {
                match appointment(slot_id, index).await {
                    Ok(view) if reads.is_latest(read) => data.set(view),
                    Ok(_) => {}
                    Err(e) if e.status == 401 => send_to_login(),
                    Err(_) => {}
                }
            });
        }
        now
    });
    // Told at once of every change to the booking; the timer below is the fallback while the
    // stream is not connected.
    let live = live_events::listen(
        format!(
            "/api/events/appointments/{}/{}",
            initial_slot, initial_index
        ),
        move || tick.update(|t| *t += 1),
    );
    // One timer at a time, even when "Refresh to Check" reloads in between.
    let timer_running = StoredValue::new(false);
    Effect::new(move |_| {
        let pending =
            data.with(|v| v.zoom_meeting.is_none() && v.booking.status == BookingStatus::Active);
        if let (true, Some(seconds)) = (pending, refresh_seconds) {
            if !timer_running.get_value() {
                timer_running.set_value(true);
                schedule_refresh(tick, seconds, timer_running, live);
            }
        }
    });
    let move_options = StoredValue::new(move_options);
    move || {
        view! {
            <AppointmentDetails
                view=data.get()
                timezone=timezone.clone()
                just_booked
                just_moved
                tick
                move_options=move_options.get_value()
            />
        }
    }
}

fn schedule_refresh(
    tick: RwSignal<u32>,
    seconds: u32,
    timer_running: StoredValue<bool>,
    live: ReadSignal<bool>,
) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            let visible =
                leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible;
            // While the event stream is connected it tells of every change: no need to ask.
            let connected = live.try_get_untracked().unwrap_or(false);
            // try_*: the page may have been left (and its values disposed) meanwhile.
            if visible && !connected {
                timer_running.try_set_value(false);
                tick.try_update(|t| *t += 1);
            } else if !tick.is_disposed() {
                schedule_refresh(tick, seconds, timer_running, live);
            }
        },
        std::time::Duration::from_secs(seconds as u64),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (tick, seconds, timer_running, live);
}

#[component]
fn AppointmentDetails(
    view: AppointmentView,
    timezone: String,
    just_booked: bool,
    just_moved: bool,
    tick: RwSignal<u32>,
    move_options: Option<Result<Vec<SlotView>, AppError>>,
) -> impl IntoView {
    let status = view.booking.status;
    let lifecycle =
        view! { <BookingLifecycle view=view.clone() timezone=timezone.clone() tick move_options/> };
    let slot = view.slot;
    view! {
        <div class="page-head">
            <h1>{slot.title.clone()}</h1>
            <a class="btn btn-ghost" href=if view.viewer_is_specialist { "/specialist/meetings" } else { "/appointments" }>"← Back"</a>
        </div>
        {just_booked.then(|| view! {
            <p class="alert alert-success" role="status">{crate::components::booking_modal::SUCCESS_MESSAGE}</p>
        })}
        {just_moved.then(|| view! {
            <p class="alert alert-success" role="status" data-testid="moved-notice">"Your appointment has been moved. Check your email for the updated invite."</p>
        })}
        <section class="card">
            <dl class="facts">
                <dt>"Date"</dt><dd data-testid="appt-date">{time_fmt::date_in(slot.starts_at, &timezone)}</dd>
                <dt>"Time"</dt><dd data-testid="appt-time">{time_fmt::time_in(slot.starts_at, &timezone)}</dd>
                <dt>"Duration"</dt><dd>{format!("{} minutes", slot.duration)}</dd>
                <dt>"Specialist"</dt><dd>{slot.specialist_name.clone()}</dd>
                {view.viewer_is_specialist.then(|| view! { <dt>"Customer"</dt><dd>{view.booking.customer_name.clone()}</dd> })}
            </dl>
        </section>
        {lifecycle}
        {(view.booking.attendance.is_some() || view.booking.outcome.is_some() || view.booking.feedback.is_some() || !view.booking.recordings.is_empty()).then(|| view! {
            <section class="card" data-testid="appt-attendance">
                <AttendanceView attendance=view.booking.attendance.clone() outcome=view.booking.outcome timezone=timezone.clone()/>
                {view.booking.feedback.clone().map(|f| view! { <h4>"Feedback"</h4> <FeedbackView feedback=f/> })}
                <RecordingsList recordings=view.booking.recordings.clone()/>
            </section>
        })}
        <section class="card" aria-live="polite" data-testid="appt-zoom" class:hidden=status != BookingStatus::Active>
            {match view.zoom_meeting {
                Some(m) => {
                    let simulated = m.is_simulated();
                    view! {
                        <h2>"🎥 Zoom Meeting Ready" {simulated.then(|| view! { " " <span class="badge badge-warn">"simulated"</span> })}</h2>
                        <p><a class="btn btn-large" href=m.join_url.clone() target="_blank" rel="noopener" data-testid="join-zoom">"Join Zoom Meeting"</a></p>
                        <div class="field-row">
                            <span class="label">"Meeting ID"</span><code data-testid="meeting-id">{m.zoom_meeting_id.clone()}</code>
                            <CopyButton value=m.zoom_meeting_id.clone() label="meeting ID"/>
                        </div>
                        <div class="field-row">
                            <span class="label">"Password"</span><code data-testid="meeting-password">{m.password.clone()}</code>
                            <CopyButton value=m.password.clone() label="password"/>
                        </div>
                        <h3>"Pro Tips"</h3>
                        <ul>
                            <li>"Join 5 minutes early"</li>
                            <li>"Test your audio and video"</li>
                            <li>"Use a stable internet connection"</li>
                            <li>"Close unnecessary apps"</li>
                        </ul>
                    }
                    .into_any()
                }
                None => view! {
                    <h2>"⏳ Zoom Meeting Pending"</h2>
                    <MeetingHistoryNote booking=view.booking.clone() timezone=timezone.clone()/>
                    <p>"Your specialist is preparing the meeting link. You'll receive an email shortly."</p>
                    <h3>"What to expect"</h3>
                    <ul>
                        <li>"An email with the Zoom link is coming"</li>
                        <li>"Check your email a few minutes before the appointment"</li>
                        <li>"The link will also be on this page"</li>
                        <li>"Check your spam folder if needed"</li>
                    </ul>
                    <button type="button" class="btn btn-secondary" on:click=move |_| tick.update(|t| *t += 1)>"Refresh to Check"</button>
                }
                .into_any(),
            }}
        </section>
    }
}

/// The booking's state when it is no longer active, or the ways to change it while it is.
#[component]
fn BookingLifecycle(
    view: AppointmentView,
    timezone: String,
    tick: RwSignal<u32>,
    move_options: Option<Result<Vec<SlotView>, AppError>>,
) -> impl IntoView {
    let booking = view.booking.clone();
    match booking.status {
        BookingStatus::Cancelled => view! {
            <section class="card state-cancelled" data-testid="appt-cancelled">
                <h2>"❌ Cancelled"</h2>
                <p>
                    {if booking.cancelled_by.as_deref() == Some("specialist") { "The specialist cancelled this appointment" } else { "This appointment was cancelled by the customer" }}
                    {booking.cancelled_at.map(|at| format!(" on {}.", time_fmt::date_time_in(at, &timezone)))}
                </p>
                {booking.cancellation_reason.clone().map(|r| view! { <p>"Reason: " <q>{r}</q></p> })}
                <p><a class="btn btn-secondary" href="/slots">"Book another slot"</a></p>
            </section>
        }
        .into_any(),
        BookingStatus::Rescheduled => {
            let href = booking
                .rescheduled_to
                .as_ref()
                .map(|r| format!("/appointments/{}/{}", r.slot_id, r.booking_index))
                .unwrap_or_else(|| "/appointments".into());
            view! {
                <section class="card state-rescheduled" data-testid="appt-rescheduled">
                    <h2>"🔁 Rescheduled"</h2>
                    <p>"This appointment was moved to another time."</p>
                    <p><a class="btn" href=href>"See the new appointment"</a></p>
                </section>
            }
            .into_any()
        }
        BookingStatus::Active => view! { <ChangeBooking view timezone tick move_options/> }.into_any(),
    }
}

/// Cancel (both parties) and reschedule (the customer), each behind a confirmation step that
/// works without JavaScript (`<details>` and plain forms).
#[component]
fn ChangeBooking(
    view: AppointmentView,
    timezone: String,
    tick: RwSignal<u32>,
    move_options: Option<Result<Vec<SlotView>, AppError>>,
) -> impl IntoView {
    let slot_id = view.slot.id.clone();
    let index = view.booking.booking_index.to_string();
    let specialist = view.viewer_is_specialist;
    let back_to = format!("/appointments/{slot_id}/{index}");
    let cancel = ServerAction::<CancelBooking>::new();
    let move_to = ServerAction::<RescheduleBooking>::new();
    Effect::new(move |_| {
        if matches!(cancel.value().get(), Some(Ok(_))) {
            tick.update(|t| *t += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(moved)) = move_to.value().get() {
            go_to(&format!(
                "/appointments/{}/{}?moved=1",
                moved.slot_id, moved.booking_index
            ));
        }
    });
    let error = move || {
        cancel
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| move_to.value().get().and_then(|r| r.err()))
    };
    if !view.may_change {
        let why = if specialist {
            "This appointment has started: it can no longer be cancelled.".to_string()
        } else {
            format!(
                "Cancelling and rescheduling close {} hours before the start. Please contact your specialist.",
                view.change_cutoff_hours
            )
        };
        return view! {
            <section class="card" data-testid="appt-change-closed">
                <h2>"Change this appointment"</h2>
                <p class="muted">{why}</p>
                <p>
                    <button type="button" class="btn btn-secondary" disabled=true>"Cancel booking"</button>
                    " "
                    {(!specialist).then(|| view! { <button type="button" class="btn btn-secondary" disabled=true>"Reschedule"</button> })}
                </p>
            </section>
        }
        .into_any();
    }
    let (cancel_slot_id, cancel_index) = (slot_id.clone(), index.clone());
    view! {
        <section class="card" data-testid="appt-change">
            <h2>"Change this appointment"</h2>
            <div aria-live="polite">
                {move || error().map(|e| view! { <ErrorAlert error=e/> })}
            </div>
            <details class="change-step" data-testid="cancel-step">
                <summary class="btn btn-secondary">"Cancel booking…"</summary>
                <ActionForm action=cancel>
                    <input type="hidden" name="slot_id" value=cancel_slot_id/>
                    <input type="hidden" name="booking_index" value=cancel_index/>
                    <input type="hidden" name="back_to" value=back_to/>
                    <label for="cancel-reason">{if specialist { "Reason (sent to the customer)" } else { "Reason (optional, sent to the specialist)" }}</label>
                    <textarea id="cancel-reason" name="reason" maxlength="500" rows="2" required=specialist></textarea>
                    <p class="actions">
                        <button type="submit" class="btn btn-danger" disabled=move || cancel.pending().get() data-testid="confirm-cancel">"Yes, cancel this booking"</button>
                    </p>
                </ActionForm>
            </details>
            {(!specialist).then(|| view! {
                <details class="change-step" data-testid="reschedule-step">
                    <summary class="btn btn-secondary">"Reschedule…"</summary>
                    {match move_options {
                        None => None,
                        Some(Err(e)) => Some(view! { <ErrorAlert error=e/> }.into_any()),
                        Some(Ok(slots)) if slots.is_empty() => Some(view! {
                            <p class="muted">"This specialist has no other time with a free seat right now."</p>
                        }.into_any()),
                        Some(Ok(slots)) => Some(view! {
                            <ActionForm action=move_to>
                                <input type="hidden" name="slot_id" value=slot_id/>
                                <input type="hidden" name="booking_index" value=index/>
                                <fieldset>
                                    <legend>"Move to"</legend>
                                    {slots.into_iter().enumerate().map(|(i, s)| view! {
                                        <label class="check" data-testid="reschedule-option">
                                            <input type="radio" name="to_slot_id" value=s.id.clone() required=true checked=i == 0/>
                                            " " {time_fmt::date_time_in(s.starts_at, &timezone)} " · " {s.title.clone()}
                                            " (" {format!("{} seats left", s.seats_left)} ")"
                                        </label>
                                    }).collect_view()}
                                </fieldset>
                                <p class="actions">
                                    <button type="submit" class="btn" disabled=move || move_to.pending().get() data-testid="confirm-reschedule">"Move my appointment"</button>
                                </p>
                            </ActionForm>
                        }.into_any()),
                    }}
                </details>
            })}
        </section>
    }
    .into_any()
}
