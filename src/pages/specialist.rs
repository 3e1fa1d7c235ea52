use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{zoom_settings, ResendVerification, SaveZoomSettings};
use crate::api::availability::{my_busy_calendars, my_offerings};
use crate::api::feedback::my_feedback;
use crate::api::slots::{my_slots, CreateSlot, DeleteSlot};
use crate::components::calendar_feed::CalendarFeedCard;
use crate::components::error_view::ErrorView;
use crate::components::meeting_events::FeedbackView;
use crate::components::meeting_manager::MeetingManager;
use crate::components::reminder_toggle::ReminderSettings;
use crate::session::use_session;
use crate::time_fmt;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <div class="actions">
                <a class="btn btn-secondary" href="/specialist/availability">"Availability"</a>
                <a class="btn btn-secondary" href="/specialist/slots">"Manage my slots"</a>
            </div>
        </div>
        <ConfirmEmailNotice/>
        <AvailabilityNotice/>
        <MeetingManager/>
        <FeedbackCard/>
        <ZoomSettingsCard/>
        <ReminderSettings/>
        <CalendarFeedCard/>
    }
}

/// Until the address is confirmed, live Zoom meetings cannot be created: say so, and offer a
/// new link.
#[component]
fn ConfirmEmailNotice() -> impl IntoView {
    let session = use_session();
    let resend = ServerAction::<ResendVerification>::new();
    let sent = use_query_map().with_untracked(|q| q.get("link_sent").is_some());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let unconfirmed = session.user.await.is_some_and(|u| !u.email_verified);
                unconfirmed.then(|| view! {
                    <div class="alert alert-warn" role="status" data-testid="confirm-email">
                        <p>
                            "Please confirm your email address with the link we emailed you. "
                            "Zoom meetings can be created once it is confirmed."
                        </p>
                        <ActionForm action=resend attr:class="inline-form">
                            <button type="submit" class="btn btn-small">"Send a new link"</button>
                        </ActionForm>
                        {move || match resend.value().get() {
                            Some(Err(e)) => Some(view! { <p>{e.message}</p> }.into_any()),
                            _ if sent => Some(view! { <p>"A new link is on its way."</p> }.into_any()),
                            _ => None,
                        }}
                    </div>
                })
            })}
        </Transition>
    }
}

/// What needs the specialist's eye on the availability page: a busy calendar that fails to
/// load (its last busy times stay in use), and booked sessions the hours no longer cover.
#[component]
fn AvailabilityNotice() -> impl IntoView {
    let session = use_session();
    let state = Resource::new(
        || (),
        |_| async move {
            let calendars = my_busy_calendars().await.unwrap_or_default();
            let offerings = my_offerings().await.unwrap_or_default();
            (calendars, offerings)
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                let (calendars, offerings) = state.await;
                let failing: Vec<String> = calendars
                    .iter()
                    .filter_map(|c| c.failing_since.map(|since| format!(
                        "{} has failed to load since {}",
                        c.label.clone().unwrap_or_else(|| c.address.clone()),
                        time_fmt::date_time_in(since, &tz)
                    )))
                    .collect();
                let outside: usize = offerings.iter().map(|o| o.outside_hours.len()).sum();
                (!failing.is_empty() || outside > 0).then(|| view! {
                    <div class="alert alert-warn" role="status" data-testid="availability-notice">
                        {failing.into_iter().map(|f| view! { <p>{f} " (its last busy times stay in use)."</p> }).collect_view()}
                        {(outside > 0).then(|| view! {
                            <p>{format!("{outside} booked session{} no longer fit your hours.", if outside == 1 { "" } else { "s" })}</p>
                        })}
                        <p><a href="/specialist/availability">"Open Availability"</a></p>
                    </div>
                })
            })}
        </Transition>
    }
}

/// What customers said after their sessions: the average and the latest answers.
#[component]
fn FeedbackCard() -> impl IntoView {
    let session = use_session();
    let summary = Resource::new(|| (), |_| my_feedback());
    view! {
        <section class="card" aria-labelledby="feedback-title" data-testid="feedback-summary">
            <h2 id="feedback-title">"Feedback"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                    match summary.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(s) if s.count == 0 => view! {
                            <p class="muted">"No feedback yet. Customers who attend a session are asked for a rating afterwards."</p>
                        }
                        .into_any(),
                        Ok(s) => view! {
                            <p data-testid="feedback-average">
                                <strong>{format!("{:.1}", s.average.unwrap_or_default())}</strong>
                                " / 5 average from " {s.count} {if s.count == 1 { " rating" } else { " ratings" }}
                            </p>
                            <ul class="feedback-list">
                                {s.latest.into_iter().map(|f| view! {
                                    <li>
                                        <a href=format!("/appointments/{}/{}", f.slot_id, f.booking_index)>{f.slot_title}</a>
                                        <span class="muted">" · " {f.customer_name} " · " {time_fmt::date_in(f.starts_at, &tz)}</span>
                                        <FeedbackView feedback=f.feedback/>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The Zoom user that hosts the specialist's meetings and the defaults they are created with.
#[component]
fn ZoomSettingsCard() -> impl IntoView {
    let save = ServerAction::<SaveZoomSettings>::new();
    let settings = Resource::new(|| (), |_| zoom_settings());
    let saved = use_query_map().with_untracked(|q| q.get("zoom_saved").is_some());
    let error = move || save.value().get().and_then(|r| r.err());
    view! {
        <section class="card" aria-labelledby="zoom-settings-title">
            <h2 id="zoom-settings-title">"Zoom settings"</h2>
            <div aria-live="polite">
                {move || error().map(|e| view! { <ErrorView error=e/> })}
                {saved.then(|| view! { <p class="alert alert-success" role="status">"Zoom settings saved."</p> })}
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(s) => {
                            let checkbox = |name: &'static str, label: &'static str, on: bool| view! {
                                <label class="check"><input type="checkbox" name=name checked=on/>" " {label}</label>
                            };
                            view! {
                                <p data-testid="zoom-host">
                                    "Meetings are hosted by "
                                    {match s.zoom_user {
                                        Some(u) => view! { "the Zoom user " <code>{u}</code> }.into_any(),
                                        None => view! { "your account's email address" }.into_any(),
                                    }}
                                    ". Only an operator can assign another Zoom user."
                                </p>
                                <ActionForm action=save>
                                    <fieldset>
                                        <legend>"New meetings"</legend>
                                        {checkbox("waiting_room", "Waiting room", s.meeting.waiting_room)}
                                        {checkbox("join_before_host", "Participants may join before the host", s.meeting.join_before_host)}
                                        {checkbox("host_video", "Host video on", s.meeting.host_video)}
                                        {checkbox("participant_video", "Participant video on", s.meeting.participant_video)}
                                        {checkbox("mute_upon_entry", "Mute participants on entry", s.meeting.mute_upon_entry)}
                                        {checkbox("cloud_recording", "Record to the cloud (the customer and you can watch it here afterwards)", s.meeting.cloud_recording)}
                                        {checkbox("recurring_links", "Recurring links for regular customers: from a customer's second booking on, every session uses the same Zoom link", s.meeting.recurring_links)}
                                    </fieldset>
                                    <label for="auto_create_minutes">"Create missing meetings automatically, this many minutes before the start (5–120; empty: off)"</label>
                                    <input id="auto_create_minutes" name="auto_create_minutes" type="number" min="5" max="120" inputmode="numeric"
                                        value=s.auto_create_minutes.map(|m| m.to_string()).unwrap_or_default()/>
                                    <div class="actions"><button type="submit" class="btn btn-secondary">"Save Zoom settings"</button></div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn MySlotsPage() -> impl IntoView {
    let session = use_session();
    let create = ServerAction::<CreateSlot>::new();
    let delete = ServerAction::<DeleteSlot>::new();
    let slots = Resource::new(|| (), |_| my_slots());
    let create_error = move || create.value().get().and_then(|r| r.err());
    let delete_error = move || delete.value().get().and_then(|r| r.err());
    let created = use_query_map().with_untracked(|q| q.get("published").is_some());

    view! {
        <h1>"My slots"</h1>
        <section class="card">
            <h2>"Publish a slot"</h2>
            <div aria-live="polite">
                {move || create_error().map(|e| view! { <ErrorView error=e/> })}
                {created.then(|| view! { <p class="alert alert-success" role="status">"Slot published."</p> })}
            </div>
            <ActionForm action=create attr:class="grid-form">
                <div><label for="title">"Title"</label><input id="title" name="title" required maxlength="120"/></div>
                <div><label for="date">"Date"</label><input id="date" type="date" name="date" required/></div>
                <div><label for="start_time">"Start time"</label><input id="start_time" type="time" name="start_time" required/></div>
                <div><label for="duration">"Duration (minutes)"</label><input id="duration" type="number" name="duration" min="15" max="240" value="60" required/></div>
                <div><label for="capacity">"Seats"</label><input id="capacity" type="number" name="capacity" min="1" max="100" value="1" required/></div>
                <div>
                    <label for="timezone">"Time zone"</label>
                    <Transition fallback=|| view! { <input id="timezone" name="timezone"/> }>
                        {move || Suspend::new(async move {
                            let tz = session.user.await.map(|u| u.timezone).unwrap_or_default();
                            view! { <input id="timezone" name="timezone" value=tz/> }
                        })}
                    </Transition>
                </div>
                <div class="span-all"><label for="description">"Description (optional)"</label><textarea id="description" name="description" rows="2" maxlength="2000"></textarea></div>
                <div class="actions span-all"><button type="submit" class="btn">"Publish slot"</button></div>
            </ActionForm>
        </section>
        <div aria-live="polite">
            {move || delete_error().map(|e| view! { <ErrorView error=e/> })}
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let tz = session.user.await.map(|u| u.timezone).unwrap_or_else(|| "UTC".into());
                match slots.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="card muted">"You have not published any slots yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                        <table class="table" data-testid="my-slots">
                            <thead><tr><th>"Title"</th><th>"When"</th><th>"Duration"</th><th>"Booked"</th><th>"Seats left"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| {
                                    let can_delete = s.booked == 0;
                                    let id = s.id.clone();
                                    view! {
                                        <tr data-testid="my-slot-row">
                                            <td>{s.title.clone()}</td>
                                            <td>{time_fmt::date_time_in(s.starts_at, &tz)}</td>
                                            <td>{format!("{} min", s.duration)}</td>
                                            <td>{format!("{} / {} booked", s.booked, s.capacity)}</td>
                                            <td data-testid="my-slot-seats-left">{s.seats_left}</td>
                                            <td>
                                                {can_delete.then(|| view! {
                                                    <ActionForm action=delete attr:class="inline-form">
                                                        <input type="hidden" name="slot_id" value=id/>
                                                        <button type="submit" class="btn btn-small btn-danger">"Delete"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
