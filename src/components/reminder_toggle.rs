//! The user's reminder-email setting, as a checkbox form that also works without JavaScript.

use leptos::prelude::*;

use crate::api::accounts::SetReminders;
use crate::session::use_session;

#[component]
pub fn ReminderToggle() -> impl IntoView {
    let session = use_session();
    let save = ServerAction::<SetReminders>::new();
    view! {
        <section class="card" aria-labelledby="reminders-title">
            <h2 id="reminders-title">"Email reminders"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let on = match save.value().get() {
                        Some(Ok(user)) => user.reminders_enabled,
                        _ => session.user.await.is_some_and(|u| u.reminders_enabled),
                    };
                    view! {
                        <ActionForm action=save>
                            <label class="check">
                                <input type="checkbox" name="enabled" checked=on data-testid="reminders-enabled"/>
                                " Send me reminder emails before appointments"
                            </label>
                            <div class="actions"><button type="submit" class="btn btn-secondary">"Save"</button></div>
                        </ActionForm>
                        {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="alert alert-success" role="status">"Saved."</p> })}
                    }
                })}
            </Transition>
        </section>
    }
}
