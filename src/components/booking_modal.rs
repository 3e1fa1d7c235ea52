use leptos::prelude::*;

use crate::api::slots::BookSlot;
use crate::components::error_view::{go_to, ErrorAlert};
use crate::model::SlotView;
use crate::time_fmt;

pub const SUCCESS_MESSAGE: &str = "Your consulting slot has been booked successfully! Check your email for confirmation details. The specialist will create your Zoom meeting link shortly.";

/// ConsultingSlotBookingModal: opened by `?book=<slotId>` on /slots, so it also works as a
/// plain page and form without wasm. An island: it books in place and keeps focus inside.
/// Closing it goes `back` to the page of slots it was opened on.
#[island]
pub fn BookingModal(offer: SlotView, viewer_timezone: String, back: String) -> impl IntoView {
    let action = ServerAction::<BookSlot>::new();
    let result = action.value();
    let pending = action.pending();
    let close = {
        let back = back.clone();
        move || go_to(&back)
    };
    let dialog = NodeRef::<leptos::html::Div>::new();

    // Focus the dialog when it opens so keyboard users start inside it.
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });

    let on_keydown = {
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                ev.prevent_default();
                close();
            } else if ev.key() == "Tab" {
                trap_focus(&ev, dialog);
            }
        }
    };

    let slot = offer;
    let when = time_fmt::date_time_in(slot.starts_at, &viewer_timezone);
    let slot_id = slot.id.clone();
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="booking-title"
                tabindex="-1"
                node_ref=dialog
                on:keydown=on_keydown
                data-testid="booking-modal"
            >
                <div class="modal-header">
                    <h2 id="booking-title">{slot.title.clone()}</h2>
                    <a href=back.clone() class="modal-close" aria-label="Close">"×"</a>
                </div>
                <SlotFacts offer=slot.clone() when/>
                {slot.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
                <div aria-live="polite">
                    {move || match result.get() {
                        Some(Ok(confirmation)) => view! {
                            <div class="alert alert-success" role="status" data-testid="booking-success">
                                <p>{SUCCESS_MESSAGE}</p>
                                <p>
                                    <a
                                        class="btn"
                                        href=format!("/appointments/{}/{}", confirmation.slot_id, confirmation.booking_index)
                                    >
                                        "View appointment details"
                                    </a>
                                </p>
                            </div>
                        }
                        .into_any(),
                        other => {
                            let error = other.and_then(|r| r.err());
                            let slot_id = slot_id.clone();
                            let back = back.clone();
                            view! {
                                {error.map(|e| view! { <ErrorAlert error=e/> })}
                                <ActionForm action=action>
                                    <input type="hidden" name="slot_id" value=slot_id/>
                                    <label for="additional_notes">"Notes for the specialist (optional)"</label>
                                    <textarea
                                        id="additional_notes"
                                        name="additional_notes"
                                        maxlength="1000"
                                        rows="4"
                                        placeholder="What would you like to discuss?"
                                    ></textarea>
                                    <div class="actions">
                                        <a href=back class="btn btn-ghost">"Cancel"</a>
                                        <button type="submit" class="btn" disabled=move || pending.get()>
                                            {move || if pending.get() {
                                                view! { <span class="spinner" aria-hidden="true"></span> "Booking…" }.into_any()
                                            } else {
                                                view! { "Confirm booking" }.into_any()
                                            }}
                                        </button>
                                    </div>
                                </ActionForm>
                            }
                            .into_any()
                        }
                    }}
                </div>
            </div>
        </div>
    }
}

/// Who, when, how long and the seats left: what a booking dialog says of its slot.
#[component]
pub fn SlotFacts(offer: SlotView, when: String) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"With"</dt><dd>{offer.specialist_name}</dd>
            <dt>"When"</dt><dd>{when}</dd>
            <dt>"Duration"</dt><dd>{format!("{} minutes", offer.duration)}</dd>
            <dt>"Seats left"</dt><dd>{offer.seats_left}</dd>
        </dl>
    }
}

/// Keeps Tab and Shift+Tab cycling inside the dialog.
#[cfg(feature = "hydrate")]
fn trap_focus(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<leptos::html::Div>) {
    use wasm_bindgen::JsCast;
    let Some(root) = dialog.get_untracked() else {
        return;
    };
    let Ok(list) = root
        .query_selector_all("a[href], button:not([disabled]), textarea, input:not([type=hidden])")
    else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return;
    };
    let active = leptos::prelude::document().active_element();
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    if ev.shift_key()
        && (at(first)
            || active
                .as_ref()
                .is_some_and(|a| a == root.unchecked_ref::<web_sys::Element>()))
    {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

#[cfg(not(feature = "hydrate"))]
fn trap_focus(_ev: &leptos::ev::KeyboardEvent, _dialog: NodeRef<leptos::html::Div>) {}
