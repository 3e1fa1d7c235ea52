//! `/specialist/availability`: the schedule editor. The specialist's page (handle and bio),
//! their offerings with weekly hours, date overrides, interval, buffers, notice and window,
//! and the calendars whose busy times keep sessions free, each with its status. Every form is
//! a plain form posting to a server function, so the page works without wasm.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::availability::{
    my_busy_calendars, my_offerings, my_page, AddBusyCalendar, RemoveBusyCalendar, RemoveOffering,
    SaveOffering, SavePage,
};
use crate::components::error_view::ErrorView;
use crate::model::{
    hours_text, overrides_text, BusyCalendarView, GuestBooking, HoursView, OfferingView,
    ScheduleView,
};
use crate::session::use_session;
use crate::time_fmt;

const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// What the page says after a form came back (`?offering_saved=1`…).
const DONE: [(&str, &str); 5] = [
    ("page_saved", "Your page is saved."),
    (
        "offering_saved",
        "Offering saved: its sessions follow the new hours.",
    ),
    (
        "offering_removed",
        "Offering removed: its sessions nobody booked are gone.",
    ),
    (
        "calendar_added",
        "Calendar added: its busy times are read now and every 15 minutes.",
    ),
    ("calendar_removed", "Calendar removed."),
];

#[component]
pub fn AvailabilityPage() -> impl IntoView {
    let session = use_session();
    let done = use_query_map().with_untracked(|q| {
        DONE.iter()
            .find(|(key, _)| q.get(key).is_some())
            .map(|(_, said)| *said)
    });
    view! {
        <div class="page-head">
            <h1>"Availability"</h1>
            <a class="btn btn-secondary" href="/specialist">"Back to the dashboard"</a>
        </div>
        <p class="muted">
            "State when you work once: sessions are offered from your weekly hours, minus your days off "
            "and what your own calendars say is busy. Customers book them on your page or under Browse slots."
        </p>
        {done.map(|said| view! { <p class="alert alert-success" role="status" data-testid="availability-done">{said}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.user.await {
                    None => view! {
                        <p class="card">"Please " <a href="/login?next=/specialist/availability">"log in"</a> " to set your availability."</p>
                    }.into_any(),
                    Some(user) if user.role != crate::model::Role::Specialist => view! {
                        <p class="card">"Only specialists offer sessions."</p>
                    }.into_any(),
                    Some(user) => view! {
                        <PageCard/>
                        <OfferingsCard timezone=user.timezone.clone()/>
                        <CalendarsCard timezone=user.timezone/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The handle of `/s/<handle>`, the bio shown there and who may book.
#[component]
fn PageCard() -> impl IntoView {
    let save = ServerAction::<SavePage>::new();
    let page = Resource::new(|| (), |_| my_page());
    view! {
        <section class="card" aria-labelledby="page-title">
            <h2 id="page-title">"Your page"</h2>
            <div aria-live="polite">{move || save.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorView error=e/> })}</div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(p) => view! {
                            {match p.handle.clone() {
                                Some(h) => view! {
                                    <p data-testid="page-link">"Share " <a href=format!("/s/{h}")>{format!("/s/{h}")}</a> " with your customers."</p>
                                }.into_any(),
                                None => view! { <p class="muted">"Pick a handle to get a page of your own to share."</p> }.into_any(),
                            }}
                            <ActionForm action=save attr:class="grid-form">
                                <div>
                                    <label for="handle">"Handle (3–30 of a–z, 0–9 and hyphens)"</label>
                                    <input id="handle" name="handle" required minlength="3" maxlength="30" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                                        value=p.handle.unwrap_or_default()/>
                                </div>
                                <div class="span-all">
                                    <label for="bio">"Short bio (optional)"</label>
                                    <textarea id="bio" name="bio" rows="2" maxlength="500">{p.bio.unwrap_or_default()}</textarea>
                                </div>
                                <div class="span-all">
                                    <label for="guest_booking">"Who may book"</label>
                                    <select id="guest_booking" name="guest_booking">
                                        {GuestBooking::ALL.into_iter().map(|g| view! {
                                            <option value=g.as_str() selected=g == p.guest_booking>{g.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="actions span-all"><button type="submit" class="btn btn-secondary">"Save my page"</button></div>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OfferingsCard(timezone: String) -> impl IntoView {
    let save = ServerAction::<SaveOffering>::new();
    let remove = ServerAction::<RemoveOffering>::new();
    let offerings = Resource::new(|| (), |_| my_offerings());
    let error = move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| remove.value().get().and_then(|r| r.err()))
    };
    view! {
        <section class="card" aria-labelledby="offerings-title">
            <h2 id="offerings-title">"Offerings and weekly hours"</h2>
            <div aria-live="polite">{move || error().map(|e| view! { <ErrorView error=e/> })}</div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let timezone = timezone.clone();
                    Suspend::new(async move {
                        match offerings.await {
                            Err(e) => view! { <ErrorView error=e/> }.into_any(),
                            Ok(list) => view! {
                                {list.is_empty().then(|| view! {
                                    <p class="muted">"No offering yet: add one below and your sessions appear from its hours."</p>
                                })}
                                {list.into_iter().map(|o| view! { <OfferingItem offering=o save remove/> }).collect_view()}
                                <details class="offering-new" data-testid="new-offering">
                                    <summary class="btn btn-secondary">"Add an offering"</summary>
                                    <OfferingForm offering=None timezone save/>
                                </details>
                            }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// One offering: what it is, when, the booked sessions its hours no longer cover, and its
/// form folded away.
#[component]
fn OfferingItem(
    offering: OfferingView,
    save: ServerAction<SaveOffering>,
    remove: ServerAction<RemoveOffering>,
) -> impl IntoView {
    let s = &offering.schedule;
    let seats = if offering.capacity == 1 {
        "1 seat".to_string()
    } else {
        format!("{} seats", offering.capacity)
    };
    let summary = format!("{} min · {} · {}", offering.duration, seats, s.timezone);
    let week = WEEKDAYS
        .iter()
        .filter_map(|(day, name)| {
            let hours = day_hours(s, day);
            (!hours.is_empty()).then(|| format!("{} {}", &name[..3], hours_text(&hours)))
        })
        .collect::<Vec<_>>();
    let rules = rules_text(s);
    let id = offering.id.clone();
    let timezone = s.timezone.clone();
    view! {
        <article class="offering" data-testid="offering">
            <header class="slot-group-head">
                <div>
                    <h3>{offering.title.clone()}</h3>
                    <p class="muted small">{summary}</p>
                </div>
            </header>
            <p data-testid="offering-week">
                {if week.is_empty() { "No weekly hours: no sessions.".to_string() } else { week.join(" · ") }}
            </p>
            {(!s.overrides.is_empty()).then(|| view! {
                <p class="small" data-testid="offering-overrides">
                    "Dates: " {overrides_text(&s.overrides).lines().collect::<Vec<_>>().join(" · ")}
                </p>
            })}
            <p class="muted small">{rules}</p>
            {(!offering.outside_hours.is_empty()).then(|| view! {
                <div class="alert alert-warn" role="status" data-testid="outside-hours">
                    <p>"Booked sessions your hours no longer cover: they stay booked until you cancel them from the "
                        <a href="/specialist/meetings">"Meeting Manager"</a> " (the customers are emailed)."</p>
                    <ul>
                        {offering.outside_hours.iter().map(|slot| view! {
                            <li>{time_fmt::date_time_in(slot.starts_at, &timezone)} " · " {format!("{} booked", slot.booked)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <details>
                <summary class="btn btn-small btn-secondary">"Edit"</summary>
                <OfferingForm offering=Some(offering.clone()) timezone=s.timezone.clone() save/>
            </details>
            <ActionForm action=remove attr:class="inline-form">
                <input type="hidden" name="offering_id" value=id/>
                <button type="submit" class="btn btn-small btn-ghost">"Remove"</button>
            </ActionForm>
        </article>
    }
}

/// The editor of one offering (a new one when `offering` is none): a row per weekday, a line
/// per date override.
#[component]
fn OfferingForm(
    offering: Option<OfferingView>,
    timezone: String,
    save: ServerAction<SaveOffering>,
) -> impl IntoView {
    // Each form's fields have ids of their own (several forms share the page).
    let key = offering
        .as_ref()
        .map(|o| o.id.clone())
        .unwrap_or_else(|| "new".into());
    let field = move |name: &str| format!("{name}-{key}");
    let schedule = offering.as_ref().map(|o| o.schedule.clone());
    let number = |value: Option<u32>| value.map(|v| v.to_string()).unwrap_or_default();
    let (title, description, duration, capacity) = match &offering {
        Some(o) => (
            o.title.clone(),
            o.description.clone().unwrap_or_default(),
            o.duration.to_string(),
            o.capacity.to_string(),
        ),
        None => (String::new(), String::new(), "60".into(), "1".into()),
    };
    let s = schedule.clone().unwrap_or(ScheduleView {
        timezone,
        weekly: Vec::new(),
        overrides: Vec::new(),
        interval_minutes: None,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        notice_hours: 12,
        window_days: Some(30),
    });
    view! {
        <ActionForm action=save attr:class="grid-form offering-form">
            <input type="hidden" name="offering_id" value=offering.as_ref().map(|o| o.id.clone()).unwrap_or_default()/>
            <div><label for=field("title")>"Title"</label><input id=field("title") name="title" required maxlength="120" value=title/></div>
            <div><label for=field("timezone")>"Time zone of the hours"</label><input id=field("timezone") name="timezone" required value=s.timezone.clone()/></div>
            <div><label for=field("duration")>"Session length (minutes)"</label><input id=field("duration") type="number" name="duration" min="15" max="240" required value=duration/></div>
            <div><label for=field("capacity")>"Seats per session"</label><input id=field("capacity") type="number" name="capacity" min="1" max="100" required value=capacity/></div>
            <div class="span-all"><label for=field("description")>"Description (optional)"</label><textarea id=field("description") name="description" rows="2" maxlength="2000">{description}</textarea></div>
            <fieldset class="span-all weekly-hours">
                <legend>"Weekly hours (e.g. 09:00-12:00, 14:00-17:00; empty: not working)"</legend>
                {WEEKDAYS.iter().map(|(day, name)| {
                    let id = field(&format!("hours-{day}"));
                    view! {
                        <div class="weekday-row">
                            <label for=id.clone()>{*name}</label>
                            <input id=id name=*day placeholder="09:00-17:00" value=hours_text(&day_hours(&s, day))/>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="span-all">
                <label for=field("overrides")>"Date overrides, one per line: a day off (2027-12-24 off) or other hours (2027-12-31 09:00-12:00)"</label>
                <textarea id=field("overrides") name="overrides" rows="3">{overrides_text(&s.overrides)}</textarea>
            </div>
            <div><label for=field("interval")>"Start every (minutes; empty: the session's length)"</label><input id=field("interval") type="number" name="interval_minutes" min="5" max="240" value=number(s.interval_minutes)/></div>
            <div><label for=field("notice")>"Minimum notice (hours)"</label><input id=field("notice") type="number" name="notice_hours" min="0" max="720" value=s.notice_hours.to_string()/></div>
            <div><label for=field("before")>"Free before each session (minutes)"</label><input id=field("before") type="number" name="buffer_before_minutes" min="0" max="120" value=s.buffer_before_minutes.to_string()/></div>
            <div><label for=field("after")>"Free after each session (minutes)"</label><input id=field("after") type="number" name="buffer_after_minutes" min="0" max="120" value=s.buffer_after_minutes.to_string()/></div>
            <div><label for=field("window")>"Offered this many days ahead"</label><input id=field("window") type="number" name="window_days" min="1" max="365" value=number(s.window_days)/></div>
            <div class="actions span-all"><button type="submit" class="btn">"Save offering"</button></div>
        </ActionForm>
    }
}

/// The calendars whose busy times keep sessions free, with how each is faring.
#[component]
fn CalendarsCard(timezone: String) -> impl IntoView {
    let add = ServerAction::<AddBusyCalendar>::new();
    let remove = ServerAction::<RemoveBusyCalendar>::new();
    let calendars = Resource::new(|| (), |_| my_busy_calendars());
    let error = move || {
        add.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| remove.value().get().and_then(|r| r.err()))
    };
    view! {
        <section class="card" aria-labelledby="calendars-title">
            <h2 id="calendars-title">"Busy times from your calendars"</h2>
            <p class="muted">
                "Add the secret iCalendar address of a calendar you keep (Google Calendar, Outlook and iCloud each give one): "
                "no session is offered while it says you are busy."
            </p>
            <div aria-live="polite">{move || error().map(|e| view! { <ErrorView error=e/> })}</div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let timezone = timezone.clone();
                    Suspend::new(async move {
                        match calendars.await {
                            Err(e) => view! { <ErrorView error=e/> }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No calendar added."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="calendar-list">
                                    {list.into_iter().map(|c| view! { <CalendarItem calendar=c timezone=timezone.clone() remove/> }).collect_view()}
                                </ul>
                            }.into_any(),
                        }
                    })
                }}
            </Transition>
            <ActionForm action=add attr:class="grid-form">
                <div class="span-all"><label for="calendar-url">"Secret address (https://… or webcal://…)"</label><input id="calendar-url" name="url" type="url" required/></div>
                <div><label for="calendar-label">"Label (optional)"</label><input id="calendar-label" name="label" maxlength="80"/></div>
                <div class="actions span-all"><button type="submit" class="btn btn-secondary">"Add calendar"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn CalendarItem(
    calendar: BusyCalendarView,
    timezone: String,
    remove: ServerAction<RemoveBusyCalendar>,
) -> impl IntoView {
    let status = match (&calendar.failing_since, &calendar.fetched_at) {
        (Some(since), _) => view! {
            <span class="badge badge-warn" data-testid="calendar-failing">
                {format!("failing since {}", time_fmt::date_time_in(*since, &timezone))}
            </span>
            {calendar.last_error.clone().map(|e| view! { <span class="muted small">" " {e}</span> })}
        }
        .into_any(),
        (None, Some(at)) => view! {
            <span class="badge badge-ok" data-testid="calendar-ok">
                {format!("{} busy times, read {}", calendar.busy_count, time_fmt::date_time_in(*at, &timezone))}
            </span>
        }
        .into_any(),
        (None, None) => view! { <span class="badge">"not read yet"</span> }.into_any(),
    };
    let id = calendar.id.clone();
    view! {
        <li data-testid="busy-calendar">
            <strong>{calendar.label.clone().unwrap_or_else(|| "Calendar".into())}</strong>
            " " <code class="small">{calendar.address.clone()}</code> " " {status}
            <ActionForm action=remove attr:class="inline-form">
                <input type="hidden" name="calendar_id" value=id/>
                <button type="submit" class="btn btn-small btn-ghost">"Remove"</button>
            </ActionForm>
        </li>
    }
}

/// The hours of `day` in the weekly schedule.
fn day_hours(schedule: &ScheduleView, day: &str) -> Vec<HoursView> {
    schedule
        .weekly
        .iter()
        .filter(|w| w.day == day)
        .map(|w| HoursView {
            start: w.start.clone(),
            end: w.end.clone(),
        })
        .collect()
}

/// Interval, buffers, notice and window in a line.
fn rules_text(s: &ScheduleView) -> String {
    let mut rules = Vec::new();
    if let Some(every) = s.interval_minutes {
        rules.push(format!("a start every {every} min"));
    }
    if s.buffer_before_minutes > 0 || s.buffer_after_minutes > 0 {
        rules.push(format!(
            "{} min free before, {} after",
            s.buffer_before_minutes, s.buffer_after_minutes
        ));
    }
    rules.push(format!("booked at least {} h ahead", s.notice_hours));
    rules.push(format!(
        "offered {} days ahead",
        s.window_days.unwrap_or(30)
    ));
    rules.join(" · ")
}
