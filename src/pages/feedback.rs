//! The feedback page a customer reaches from the email after a session: a rating from 1 to 5
//! and a comment, as a plain form (no JavaScript needed); once answered, the answer.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::feedback::{feedback_page, SubmitFeedback};
use crate::components::error_view::ErrorView;
use crate::components::meeting_events::FeedbackView;
use crate::time_fmt;

#[component]
pub fn FeedbackPage() -> impl IntoView {
    let token = use_params_map().with_untracked(|p| p.get("token").unwrap_or_default());
    let submit = ServerAction::<SubmitFeedback>::new();
    let failed = submit.value().get_untracked().and_then(|r| r.err());
    let invite = {
        let token = token.clone();
        Resource::new(|| (), move |_| feedback_page(token.clone()))
    };
    view! {
        <section class="card narrow">
            <h1>"How was your session?"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let (token, failed) = (token.clone(), failed.clone());
                    Suspend::new(async move {
                        match invite.await {
                            Err(e) => view! { <ErrorView error=e/> }.into_any(),
                            Ok(invite) => {
                                let when = time_fmt::date_time_in(invite.starts_at, "UTC");
                                let about = view! {
                                    <p>
                                        <strong>{invite.slot_title.clone()}</strong> " with " {invite.specialist_name.clone()}
                                        <span class="muted">" · " {when}</span>
                                    </p>
                                };
                                match invite.given {
                                    Some(given) => view! {
                                        {about}
                                        <p class="alert alert-success" role="status" data-testid="feedback-thanks">"Thank you for your feedback."</p>
                                        <FeedbackView feedback=given/>
                                    }
                                    .into_any(),
                                    None => view! {
                                        {about}
                                        {failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                        <ActionForm action=submit>
                                            <input type="hidden" name="token" value=token/>
                                            <fieldset class="radio-group rating">
                                                <legend>"Your rating"</legend>
                                                {(1..=5u8).map(|r| view! {
                                                    <label>
                                                        <input type="radio" name="rating" value=r.to_string() required=true/>
                                                        " " {r.to_string()} " " <crate::components::icon::Stars rating=r/>
                                                    </label>
                                                }).collect_view()}
                                            </fieldset>
                                            <label for="comment">"Comment (optional, up to 2,000 characters)"</label>
                                            <textarea id="comment" name="comment" maxlength="2000" rows="4"></textarea>
                                            <div class="actions">
                                                <button type="submit" class="btn" data-testid="send-feedback">"Send feedback"</button>
                                            </div>
                                        </ActionForm>
                                        <p class="muted small">"Only the specialist sees your answer."</p>
                                    }
                                    .into_any(),
                                }
                            }
                        }
                    })
                }}
            </Transition>
        </section>
    }
}
