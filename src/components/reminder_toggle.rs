//! The user's reminder-email setting, as a checkbox form that also works without JavaScript.

use leptos::prelude::*;

use crate::api::accounts::SetReminders;
use crate::components::error_view::ErrorAlert;
use crate::session::use_session;

/// The setting as the signed-in user has it now.
#[component]
pub fn ReminderSettings() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let enabled = session.user.await.is_some_and(|u| u.reminders_enabled);
                view! { <ReminderToggle enabled/> }
            })}
        </Transition>
    }
}

/// An island: saving says so in place.
#[island]
pub fn ReminderToggle(enabled: bool) -> impl IntoView {
    let save = ServerAction::<SetReminders>::new();
    let on = move || match save.value().get() {
        Some(Ok(user)) => user.reminders_enabled,
        _ => enabled,
    };
    view! {
        <section class="card" aria-labelledby="reminders-title">
            <h2 id="reminders-title">"Email reminders"</h2>
            <ActionForm action=save>
                <label class="check">
                    <input type="checkbox" name="enabled" checked=on data-testid="reminders-enabled"/>
                    " Send me reminder emails before appointments"
                </label>
                <div class="actions"><button type="submit" class="btn btn-secondary">"Save"</button></div>
            </ActionForm>
            {move || match save.value().get() {
                Some(Ok(_)) => Some(view! { <p class="alert alert-success" role="status">"Saved."</p> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorAlert error=e/> }.into_any()),
                None => None,
            }}
        </section>
    }
}
