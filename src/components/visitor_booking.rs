//! What a visitor without a session sees when they open a session to book: a form to book as a
//! guest with a name and an email (when the specialist allows it), or the way to log in. Plain
//! HTML forms, as the pages a visitor opens load no wasm.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::guests::BookAsGuest;
use crate::components::booking_modal::SlotFacts;
use crate::components::error_view::ErrorView;
use crate::model::{GuestBooking, SlotView, GUEST_HOLD_SENT};
use crate::time_fmt;

/// The booking dialog for a visitor. `here` is the page with this dialog open (the form comes
/// back to it on an error), `back` the page without it.
#[component]
pub fn VisitorBookingModal(
    offer: SlotView,
    zone: String,
    here: String,
    back: String,
) -> impl IntoView {
    let slot = offer;
    let action = ServerAction::<BookAsGuest>::new();
    let when = time_fmt::date_time_in(slot.starts_at, &zone);
    let login = format!(
        "/login?next={}",
        percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC)
    );
    let mode = slot.guest_booking;
    let slot_id = slot.id.clone();
    let form = (mode != GuestBooking::Off).then(|| {
        let (back, login) = (back.clone(), login.clone());
        let lead = match mode {
            GuestBooking::Confirm => "No account needed: book with your name and email, then confirm from the email we send you within 30 minutes.",
            _ => "No account needed: book with your name and email. We email you the details and a link to manage the booking.",
        };
        view! {
            <p>{lead}</p>
            <ActionForm action=action attr:data-testid="guest-form">
                <input type="hidden" name="slot_id" value=slot_id/>
                <input type="hidden" name="back" value=here.clone()/>
                <label for="guest_name">"Your name"</label>
                <input id="guest_name" name="name" required maxlength="100" autocomplete="name"/>
                <label for="guest_email">"Your email"</label>
                <input id="guest_email" name="email" type="email" required maxlength="254" autocomplete="email"/>
                <label for="guest_notes">"Notes for the specialist (optional)"</label>
                <textarea id="guest_notes" name="additional_notes" maxlength="1000" rows="3"
                    placeholder="What would you like to discuss?"></textarea>
                <div class="actions">
                    <a href=back.clone() class="btn btn-ghost">"Cancel"</a>
                    <button type="submit" class="btn">"Book as guest"</button>
                </div>
            </ActionForm>
            <p class="muted">"Have an account? " <a href=login.clone()>"Log in to book"</a></p>
        }
    });
    let accounts_only = form.is_none().then(|| {
        let back = back.clone();
        view! {
            <p>"This specialist takes bookings from customers with an account."</p>
            <p class="actions">
                <a class="btn" href=login.clone()>"Log in"</a>
                <a class="btn btn-secondary" href="/register">"Register"</a>
                <a class="btn btn-ghost" href=back.clone()>"Close"</a>
            </p>
        }
    });
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="visitor-booking-title" data-testid="visitor-booking">
                <div class="modal-header">
                    <h2 id="visitor-booking-title">{slot.title.clone()}</h2>
                    <a href=back.clone() class="modal-close" aria-label="Close">"×"</a>
                </div>
                <SlotFacts offer=slot.clone() when/>
                <div aria-live="polite">
                    {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorView error=e/> })}
                </div>
                {form}
                {accounts_only}
            </div>
        </div>
    }
}

/// What a page says after a guest's booking came back (`?guest=held` or `?guest=booked`).
#[component]
pub fn GuestBookedNotice() -> impl IntoView {
    let outcome = use_query_map().with_untracked(|q| q.get("guest"));
    outcome.and_then(|o| {
        let message = match o.as_str() {
            "held" => GUEST_HOLD_SENT,
            "booked" => "You are booked. We have emailed you the details and a link to view, move or cancel the booking.",
            _ => return None,
        };
        Some(view! {
            <p class="alert alert-success" role="status" data-testid="guest-booked">{message}</p>
        })
    })
}
