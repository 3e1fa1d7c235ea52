//! The calendar feed card: make a secret address to subscribe to in a calendar app (shown
//! once), or end it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::accounts::{new_calendar_link, revoke_calendar_link};
use crate::components::copy_button::CopyButton;

#[island]
pub fn CalendarFeedCard() -> impl IntoView {
    let link = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let make = move |_| {
        spawn_local(async move {
            match new_calendar_link().await {
                Ok(l) => {
                    link.set(Some(l.url));
                    message.set(None);
                }
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    let end = move |_| {
        spawn_local(async move {
            match revoke_calendar_link().await {
                Ok(()) => {
                    link.set(None);
                    message.set(Some("The calendar address no longer works.".into()));
                }
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="calendar-feed-title" data-testid="calendar-feed">
            <h2 id="calendar-feed-title">"Calendar feed"</h2>
            <p>"Subscribe to your appointments in Google Calendar, Outlook or Apple Calendar with a private address. Anyone with it can read your appointments: keep it to yourself, and make a new one if it leaked (the old one stops working)."</p>
            {move || link.get().map(|url| view! {
                <div class="field-row">
                    <code data-testid="calendar-feed-url">{url.clone()}</code>
                    <CopyButton value=url label="calendar address"/>
                </div>
                <p class="muted small">"Shown once: copy it now."</p>
            })}
            <p aria-live="polite">{move || message.get()}</p>
            <p class="actions">
                <button type="button" class="btn btn-secondary" on:click=make>"Make a new calendar address"</button>
                " "
                <button type="button" class="btn btn-ghost" on:click=end>"Stop the feed"</button>
            </p>
        </section>
    }
}
