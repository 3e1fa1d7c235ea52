//! AppointmentDetailsView and the customer's list of appointments.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::meetings::{appointment, my_appointments, refresh_seconds};
use crate::components::copy_button::CopyButton;
use crate::components::error_view::ErrorView;
use crate::model::AppointmentView;
use crate::session::use_session;
use crate::time_fmt;

#[component]
pub fn MyAppointmentsPage() -> impl IntoView {
    let session = use_session();
    let list = Resource::new(|| (), |_| my_appointments());
    view! {
        <h1>"My appointments"</h1>
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
                            {items.into_iter().map(|a| {
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
                                            <a class="btn btn-small" href=format!("/appointments/{}/{}", a.slot.id, a.booking_index)>"Details"</a>
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

#[component]
pub fn AppointmentPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let just_booked = move || query.with(|q| q.get("booked").is_some());
    let key = move || {
        params.with(|p| {
            (
                p.get("slot_id").unwrap_or_default(),
                p.get("booking_index").unwrap_or_default(),
            )
        })
    };
    let tick = RwSignal::new(0u32);
    let data = Resource::new(
        move || (key(), tick.get()),
        |((slot, index), _)| appointment(slot, index),
    );
    let period = Resource::new(|| (), |_| refresh_seconds());

    // While the meeting is pending, check again every period, but only while the tab is
    // visible; once the meeting is ready nothing more is scheduled.
    // One timer at a time, even when "Refresh to Check" refetches in between.
    let timer_running = StoredValue::new(false);
    Effect::new(move |_| {
        let pending = matches!(data.get(), Some(Ok(ref v)) if v.zoom_meeting.is_none());
        let Some(Ok(seconds)) = period.get() else {
            return;
        };
        if pending && !timer_running.get_value() {
            timer_running.set_value(true);
            schedule_refresh(tick, seconds, timer_running);
        }
    });

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading appointment…"</p> }>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone);
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(view) => {
                        let tz = tz.unwrap_or_else(|| view.slot.timezone.clone());
                        view! { <AppointmentDetails view timezone=tz just_booked=just_booked() tick/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn schedule_refresh(tick: RwSignal<u32>, seconds: u32, timer_running: StoredValue<bool>) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            let visible =
                leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible;
            // try_*: the page may have been left (and its values disposed) meanwhile.
            if visible {
                timer_running.try_set_value(false);
                tick.try_update(|t| *t += 1);
            } else if !tick.is_disposed() {
                schedule_refresh(tick, seconds, timer_running);
            }
        },
        std::time::Duration::from_secs(seconds as u64),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (tick, seconds, timer_running);
}

#[component]
fn AppointmentDetails(
    view: AppointmentView,
    timezone: String,
    just_booked: bool,
    tick: RwSignal<u32>,
) -> impl IntoView {
    let slot = view.slot;
    view! {
        <div class="page-head">
            <h1>{slot.title.clone()}</h1>
            <a class="btn btn-ghost" href=if view.viewer_is_specialist { "/specialist/meetings" } else { "/appointments" }>"← Back"</a>
        </div>
        {just_booked.then(|| view! {
            <p class="alert alert-success" role="status">{crate::components::booking_modal::SUCCESS_MESSAGE}</p>
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
        <section class="card" aria-live="polite" data-testid="appt-zoom">
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
