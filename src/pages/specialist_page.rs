//! A specialist's page, `/s/<handle>`: who they are, what they offer and the sessions open,
//! grouped by day on the visitor's clock, booked through the usual modal. Rendered whole on the
//! server (it works without JavaScript), with the tags a shared link previews with.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::pages::specialist_page;
use crate::components::booking_modal::BookingModal;
use crate::components::error_view::ErrorView;
use crate::components::visitor_booking::{GuestBookedNotice, VisitorBookingModal};
use crate::model::{PageAnswer, Role, SlotView, SpecialistPage};
use crate::session::use_session;
use crate::time_fmt;

fn page_href(handle: &str, tz: &str, book: Option<&str>) -> String {
    let tz = percent_encoding::utf8_percent_encode(tz, percent_encoding::NON_ALPHANUMERIC);
    match book {
        Some(id) => format!("/s/{handle}?tz={tz}&book={id}"),
        None => format!("/s/{handle}?tz={tz}"),
    }
}

#[component]
pub fn SpecialistPageView() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let session = use_session();
    let handle = move || params.with(|p| p.get("handle").unwrap_or_default());
    let page = Resource::new(handle, specialist_page);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = session.user.await;
                match page.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(PageAnswer::MovedTo(current)) => view! { <Redirect path=format!("/s/{current}")/> }.into_any(),
                    Ok(PageAnswer::Page(page)) => {
                        let viewer_zone = user.as_ref().map(|u| u.timezone.clone());
                        let asked = query.with(|q| q.get("tz"));
                        let mut zones = vec![page.timezone.clone(), "UTC".to_string()];
                        zones.extend(viewer_zone.clone());
                        zones.dedup();
                        let zone = asked
                            .filter(|z| zones.contains(z))
                            .or(viewer_zone)
                            .unwrap_or_else(|| page.timezone.clone());
                        let booking = query.with(|q| q.get("book"));
                        let can_book = user.as_ref().is_none_or(|u| u.role == Role::Customer);
                        view! { <PageBody page=*page zone zones booking logged_in=user.is_some() can_book/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn PageBody(
    page: SpecialistPage,
    zone: String,
    zones: Vec<String>,
    booking: Option<String>,
    logged_in: bool,
    can_book: bool,
) -> impl IntoView {
    let handle = page.handle.clone();
    let summary = page
        .bio
        .clone()
        .unwrap_or_else(|| format!("Book a session with {}.", page.name));
    let title = format!("{} · Specialistly", page.name);
    let back = page_href(&handle, &zone, None);
    let open = booking.and_then(|id| page.sessions.iter().find(|s| s.id == id).cloned());
    let modal = open.map(|slot| {
        if logged_in {
            view! { <BookingModal offer=slot viewer_timezone=zone.clone() back=back.clone()/> }
                .into_any()
        } else {
            let here = page_href(&handle, &zone, Some(&slot.id));
            view! { <VisitorBookingModal offer=slot zone=zone.clone() here back=back.clone()/> }
                .into_any()
        }
    });
    // Sessions by day, on the chosen clock.
    let mut days: Vec<(String, Vec<SlotView>)> = Vec::new();
    for s in page.sessions {
        let day = time_fmt::date_in(s.starts_at, &zone);
        match days.last_mut() {
            Some((d, list)) if *d == day => list.push(s),
            _ => days.push((day, vec![s])),
        }
    }
    let empty = days.is_empty();
    view! {
        <Title text=title.clone()/>
        <Meta name="description" content=summary.clone()/>
        <Meta property="og:title" content=title/>
        <Meta property="og:description" content=summary/>
        <Meta property="og:type" content="profile"/>
        <header class="page-intro">
            <h1 data-testid="page-name">{page.name.clone()}</h1>
            {page.bio.clone().map(|b| view! { <p class="lead">{b}</p> })}
        </header>
        <GuestBookedNotice/>
        {(!page.offerings.is_empty()).then(|| view! {
            <section aria-labelledby="offerings-heading">
                <h2 id="offerings-heading">"Sessions offered"</h2>
                <ul class="offering-list">
                    {page.offerings.iter().map(|o| view! {
                        <li class="card" data-testid="offering">
                            <h3>{o.title.clone()}</h3>
                            {o.description.clone().map(|d| view! { <p>{d}</p> })}
                            <p><span class="badge">{format!("{} min", o.duration)}</span>" "
                               <span class="badge">{if o.capacity == 1 { "1 seat".to_string() } else { format!("{} seats", o.capacity) }}</span></p>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <section aria-labelledby="open-heading">
            <h2 id="open-heading">"Open sessions"</h2>
            <form method="get" action=format!("/s/{handle}") class="inline-form zone-switch">
                <label for="tz">"Times in"</label>
                <select id="tz" name="tz">
                    {zones.iter().map(|z| view! { <option value=z.clone() selected=*z == zone>{z.clone()}</option> }).collect_view()}
                </select>
                <button type="submit" class="btn btn-ghost">"Show"</button>
            </form>
            {empty.then(|| view! { <p class="card muted">"No open sessions right now."</p> })}
            {days.into_iter().map(|(day, sessions)| view! {
                <h3 class="day-heading">{day}</h3>
                <ul class="session-list">
                    {sessions.into_iter().map(|s| {
                        let time = time_fmt::time_in(s.starts_at, &zone);
                        let book = page_href(&handle, &zone, Some(&s.id));
                        view! {
                            <li class="card session-row" data-testid="open-session">
                                <span class="when">{time}</span>
                                <span>{s.title.clone()}</span>
                                <span class="badge badge-ok">{format!("{} of {} seats left", s.seats_left, s.capacity)}</span>
                                {can_book.then(|| view! { <a class="btn" href=book>"Book"</a> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }).collect_view()}
        </section>
        {modal}
    }
}
