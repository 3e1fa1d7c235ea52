use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::slots::{browse_slots, JoinWaitlist};
use crate::components::booking_modal::BookingModal;
use crate::components::error_view::{ErrorAlert, ErrorView};
use crate::components::visitor_booking::{GuestBookedNotice, VisitorBookingModal};
use crate::model::{Role, SlotView};
use crate::session::use_session;
use crate::time_fmt;

/// The slots page at `page`, with the booking modal of `book` open: a card's Book link keeps
/// the page it is on, whose list the modal's slot is read from.
fn slots_href(page: u32, book: Option<&str>) -> String {
    match (page, book) {
        (1, None) => "/slots".into(),
        (1, Some(id)) => format!("/slots?book={id}"),
        (page, None) => format!("/slots?page={page}"),
        (page, Some(id)) => format!("/slots?page={page}&book={id}"),
    }
}

/// Public list of upcoming slots with seats left; `?book=<id>` opens the booking modal.
#[component]
pub fn SlotsPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let page = move || {
        query
            .with(|q| q.get("page").and_then(|p| p.parse::<u32>().ok()))
            .unwrap_or(1)
            .max(1)
    };
    let booking_for = move || query.with(|q| q.get("book"));
    let slots = Resource::new(page, browse_slots);

    view! {
        <h1>"Consulting slots"</h1>
        <GuestBookedNotice/>
        <Transition fallback=|| view! { <p class="muted">"Loading slots…"</p> }>
            {move || Suspend::new(async move {
                let user = session.user.await;
                let viewer_tz = user.as_ref().map(|u| u.timezone.clone());
                let can_book = user.as_ref().is_none_or(|u| u.role == Role::Customer);
                match slots.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) => {
                        let page_no = list.page;
                        let back = slots_href(page_no, None);
                        let open = booking_for().and_then(|id| list.slots.iter().find(|s| s.id == id).cloned());
                        let logged_in = user.is_some();
                        let modal = open.map(|slot| {
                            let tz = viewer_tz.clone().unwrap_or_else(|| slot.timezone.clone());
                            if logged_in {
                                view! { <BookingModal offer=slot viewer_timezone=tz back=back.clone()/> }.into_any()
                            } else {
                                let here = slots_href(page_no, Some(&slot.id));
                                view! { <VisitorBookingModal offer=slot zone=tz here back=back.clone()/> }.into_any()
                            }
                        });
                        let empty = list.slots.is_empty();
                        view! {
                            {empty.then(|| view! { <p class="card muted">"No upcoming slots right now."</p> })}
                            <ul class="slot-grid">
                                {list.slots.into_iter().map(|s| {
                                    let tz = viewer_tz.clone().unwrap_or_else(|| s.timezone.clone());
                                    view! { <SlotCard offer=s viewer_timezone=tz can_book page=page_no/> }
                                }).collect_view()}
                            </ul>
                            <nav class="pager" aria-label="Pages">
                                {(page_no > 1).then(|| view! { <a class="btn btn-ghost" href=slots_href(page_no - 1, None)>"← Earlier"</a> })}
                                {list.has_more.then(|| view! { <a class="btn btn-ghost" href=slots_href(page_no + 1, None)>"Later →"</a> })}
                            </nav>
                            {modal}
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A full slot's way in: its waitlist. An island: it says the place in line in place.
#[island]
pub fn WaitlistJoin(slot_id: String, waiting: u32) -> impl IntoView {
    let join = ServerAction::<JoinWaitlist>::new();
    view! {
        <ActionForm action=join attr:class="inline-form">
            <input type="hidden" name="slot_id" value=slot_id/>
            <button type="submit" class="btn btn-secondary" data-testid="join-waitlist" disabled=move || join.pending().get()>
                {format!("Join waitlist ({waiting} waiting)")}
            </button>
        </ActionForm>
        <p aria-live="polite">
            {move || match join.value().get() {
                Some(Ok(n)) => Some(view! { <span class="ok" data-testid="waitlist-position">{format!("You are #{n} on the waitlist.")}</span> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorAlert error=e/> }.into_any()),
                None => None,
            }}
        </p>
    }
}

#[component]
fn SlotCard(offer: SlotView, viewer_timezone: String, can_book: bool, page: u32) -> impl IntoView {
    let slot = offer;
    let when = time_fmt::date_time_in(slot.starts_at, &viewer_timezone);
    view! {
        <li class="card slot-card" data-testid="slot-card">
            <h2>{slot.title.clone()}</h2>
            <p class="muted">"with " {slot.specialist_name.clone()}</p>
            <p class="when">{when}</p>
            <p>
                <span class="badge">{format!("{} min", slot.duration)}</span>
                " "
                <span class="badge badge-ok" class:badge-warn=slot.seats_left == 0 data-testid="seats-left">{format!("{} of {} seats left", slot.seats_left, slot.capacity)}</span>
            </p>
            {match (can_book, slot.seats_left) {
                (false, _) => None,
                (true, 0) => Some(view! { <WaitlistJoin slot_id=slot.id.clone() waiting=slot.waiting/> }.into_any()),
                (true, _) => Some(view! { <a class="btn" href=slots_href(page, Some(&slot.id))>"Book"</a> }.into_any()),
            }}
        </li>
    }
}
