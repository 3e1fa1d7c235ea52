//! `/account`: who the signed-in user is; their name and time zone, their password and email
//! address, a download of everything kept of the account, and deleting it. Plain forms: the
//! page works without wasm.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{ChangeEmail, ChangePassword, DeleteAccount, SaveProfile};
use crate::model::Role;
use crate::session::use_session;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    let changed = use_query_map().with_untracked(|q| q.get("password_changed").is_some());
    let saved = use_query_map().with_untracked(|q| q.get("profile_saved").is_some());
    let change = ServerAction::<ChangePassword>::new();
    let failed = change.value().get_untracked().and_then(|r| r.err());
    let save = ServerAction::<SaveProfile>::new();
    let save_failed = save.value().get_untracked().and_then(|r| r.err());
    let email_sent = use_query_map().with_untracked(|q| q.get("email_change_sent").is_some());
    let change_email = ServerAction::<ChangeEmail>::new();
    let email_failed = change_email.value().get_untracked().and_then(|r| r.err());
    let delete = ServerAction::<DeleteAccount>::new();
    let delete_failed = delete.value().get_untracked().and_then(|r| r.err());
    view! {
        <h1>"Your account"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let (failed, save_failed) = (failed.clone(), save_failed.clone());
                let (email_failed, delete_failed) = (email_failed.clone(), delete_failed.clone());
                Suspend::new(async move {
                    match session.user.await {
                        None => view! {
                            <p class="card">"Please " <a href="/login?next=/account">"log in"</a> " to see your account."</p>
                        }.into_any(),
                        Some(user) => view! {
                            <section class="card" aria-labelledby="who-title">
                                <h2 id="who-title">"You"</h2>
                                <dl class="facts">
                                    <dt>"Email"</dt><dd data-testid="account-email">{user.email.clone()}</dd>
                                    <dt>"Account"</dt><dd>{if user.role == Role::Specialist { "Specialist" } else { "Customer" }}</dd>
                                </dl>
                                {saved.then(|| view! {
                                    <p class="alert alert-success" role="status" data-testid="profile-saved">"Saved: emails and pages use them from now on."</p>
                                })}
                                {save_failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                <ActionForm action=save attr:class="grid-form">
                                    <div><label for="profile_name">"Name"</label><input id="profile_name" name="name" required maxlength="100" value=user.name.clone()/></div>
                                    <div><label for="profile_timezone">"Time zone"</label><input id="profile_timezone" name="timezone" required value=user.timezone.clone()/></div>
                                    <div class="actions span-all"><button type="submit" class="btn btn-secondary">"Save name and time zone"</button></div>
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="data-title">
                                <h2 id="data-title">"Your data"</h2>
                                <p class="muted">"Everything we keep of your account, your bookings and your slots, as a JSON file. No password or secret is in it."</p>
                                <p><a class="btn btn-secondary" href="/api/profile/export" download="specialistly-account.json" data-testid="export-link">"Download my data"</a></p>
                            </section>
                            <section class="card" aria-labelledby="password-title">
                                <h2 id="password-title">"Change your password"</h2>
                                {changed.then(|| view! {
                                    <p class="alert alert-success" role="status" data-testid="password-changed">
                                        "Your password is changed, and your other sessions have ended."
                                    </p>
                                })}
                                {failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                <ActionForm action=change>
                                    <label for="current_password">"Current password"</label>
                                    <input id="current_password" type="password" name="current_password" autocomplete="current-password" required/>
                                    <label for="new_password">"New password (at least 8 characters)"</label>
                                    <input id="new_password" type="password" name="new_password" autocomplete="new-password" minlength="8" required/>
                                    <div class="actions"><button type="submit" class="btn">"Change password"</button></div>
                                </ActionForm>
                                <p class="muted small">"Forgot it? " <a href="/forgot-password">"Reset it by email"</a> "."</p>
                            </section>
                            <section class="card" aria-labelledby="email-title">
                                <h2 id="email-title">"Change your email address"</h2>
                                {email_sent.then(|| view! {
                                    <p class="alert alert-success" role="status" data-testid="email-change-sent">{crate::model::EMAIL_CHANGE_SENT}</p>
                                })}
                                {email_failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                <ActionForm action=change_email>
                                    <label for="new_email">"New email address"</label>
                                    <input id="new_email" type="email" name="new_email" autocomplete="email" required/>
                                    <label for="email_password">"Your password, to confirm the change"</label>
                                    <input id="email_password" type="password" name="password" autocomplete="current-password" required/>
                                    <div class="actions"><button type="submit" class="btn btn-secondary">"Send a link to the new address"</button></div>
                                </ActionForm>
                            </section>
                            <section class="card danger-zone" aria-labelledby="delete-title">
                                <h2 id="delete-title">"Delete your account"</h2>
                                <p>{if user.role == Role::Specialist {
                                    "Your upcoming slots are cancelled (their customers are emailed, meetings deleted at Zoom), your page, offerings, calendars and webhooks go, and past sessions show \"Deleted user\"."
                                } else {
                                    "Your upcoming bookings are cancelled (the specialists are told, meetings deleted at Zoom), and past bookings show \"Deleted user\"."
                                }} " This cannot be undone. You may download your data first."</p>
                                {delete_failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                <ActionForm action=delete>
                                    <label for="delete_password">"Your password, to confirm the deletion"</label>
                                    <input id="delete_password" type="password" name="password" autocomplete="current-password" required/>
                                    <label class="check"><input type="checkbox" name="sure" value="yes" required/> " I want my account deleted"</label>
                                    <div class="actions"><button type="submit" class="btn btn-danger" data-testid="delete-account">"Delete my account"</button></div>
                                </ActionForm>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
