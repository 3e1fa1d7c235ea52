use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{
    check_reset_link, demo_accounts, pending_confirmation, ForgotPassword, Login, Register,
    ResetPassword, Unsubscribe, VerifyEmail,
};
use crate::error::AppError;
use crate::model::{PendingConfirmation, Role, RESET_LINK_SENT};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
    // Created inside the page so a failed plain form post (no wasm) shows its error too.
    let failed = ServerAction::<Login>::new();
    let error = failed.value().get_untracked().and_then(|r| r.err());
    let demo = Resource::new(|| (), |_| demo_accounts());
    let reset = query.with_untracked(|q| q.get("password_reset").is_some());
    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            {reset.then(|| view! {
                <p class="alert alert-success" role="status" data-testid="password-reset-done">
                    "Your new password is set, and every other sign-in of your account has ended. Please log in with it."
                </p>
            })}
            <LoginForm next error/>
            <p class="muted"><a href="/forgot-password">"Forgot your password?"</a></p>
            <p class="muted">"No account yet? " <a href="/register">"Sign up"</a></p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let accounts = demo.await.unwrap_or_default();
                    (!accounts.is_empty()).then(|| view! {
                        <div class="demo-box" data-testid="demo-accounts">
                            <h2>"Demo accounts (development)"</h2>
                            <ul>
                                {accounts.into_iter().map(|a| view! {
                                    <li>
                                        <strong>{if a.role == Role::Specialist { "Specialist" } else { "Customer" }}</strong>
                                        ": " <code>{a.email}</code> " / " <code>{a.password}</code>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })
                })}
            </Transition>
        </section>
    }
}

/// An island: a wrong password is said in place and keeps what was typed. `error` is the
/// one a plain form post (no wasm) came back with.
#[island]
pub fn LoginForm(next: String, error: Option<AppError>) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || match login.value().get() {
        Some(result) => result.err(),
        None => error.clone(),
    };
    view! {
        <div aria-live="polite">
            {move || error().map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
        </div>
        <ActionForm action=login>
            <input type="hidden" name="next" value=next/>
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="email" required/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required/>
            <div class="actions">
                <button type="submit" class="btn" disabled=move || login.pending().get()>"Log in"</button>
            </div>
        </ActionForm>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    // Created inside the page so a failed plain form post (no wasm) shows its error too.
    let failed = ServerAction::<Register>::new();
    let error = failed.value().get_untracked().and_then(|r| r.err());
    view! {
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <RegisterForm error/>
            <p class="muted">"Already registered? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

/// An island: errors are said in place, keeping what was typed, and the time zone defaults
/// to the browser's.
#[island]
pub fn RegisterForm(error: Option<AppError>) -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let error = move || match register.value().get() {
        Some(result) => result.err(),
        None => error.clone(),
    };
    let timezone = RwSignal::new(String::new());
    Effect::new(move |_| timezone.set(browser_timezone()));
    view! {
        <div aria-live="polite">
            {move || error().map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
        </div>
        <ActionForm action=register>
            <label for="name">"Name"</label>
            <input id="name" name="name" autocomplete="name" required maxlength="100"/>
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="email" required/>
            <label for="password">"Password (at least 8 characters)"</label>
            <input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required/>
            <fieldset class="radio-group">
                <legend>"I am a"</legend>
                <label><input type="radio" name="role" value="customer" checked/>" customer booking sessions"</label>
                <label><input type="radio" name="role" value="specialist"/>" specialist offering sessions"</label>
            </fieldset>
            <label for="timezone">"Time zone"</label>
            <input id="timezone" name="timezone" placeholder="e.g. Europe/Berlin" prop:value=move || timezone.get()/>
            <div class="actions">
                <button type="submit" class="btn" disabled=move || register.pending().get()>"Sign up"</button>
            </div>
        </ActionForm>
    }
}

/// The browser's IANA zone, to default the registration form.
fn browser_timezone() -> String {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        if let Some(tz) = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
        {
            return tz;
        }
    }
    String::new()
}

/// Where the confirmation link from the sign-up email lands: it says which account the link
/// names and confirms only when the button is pressed (a plain form post, so it works without
/// JavaScript). Mail scanners and link previews fetch the link but never press the button.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let confirmed = query.with_untracked(|q| q.get("confirmed").is_some());
    // Created inside the page so a failed plain form post shows its error.
    let confirm = ServerAction::<VerifyEmail>::new();
    let failed = confirm.value().get_untracked().and_then(|r| r.err());
    let form_token = token.clone();
    let pending = Resource::new(move || token.clone(), pending_confirmation);
    let body = move || {
        if confirmed {
            return view! {
                <p class="alert alert-success" role="status" data-testid="email-confirmed">
                    "Thank you: your email address is confirmed."
                </p>
                <p><a class="btn" href="/">"Continue"</a></p>
            }
            .into_any();
        }
        let failed = failed.clone();
        let form_token = form_token.clone();
        view! {
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let failed = failed.clone();
                    let token = form_token.clone();
                    Suspend::new(async move {
                        match (failed, pending.await) {
                            (Some(e), _) | (None, Err(e)) => view! {
                                <p class="alert alert-error" role="alert">{e.message}</p>
                                <p class="muted">"Logged in? The dashboard can send you a new link."</p>
                            }
                            .into_any(),
                            (None, Ok(account)) => view! {
                                <ConfirmationForm account token action=confirm/>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
        }
        .into_any()
    };
    view! {
        <section class="card narrow">
            <h1>"Confirm your email address"</h1>
            {body}
        </section>
    }
}

/// What the visitor confirms, and the button that does it.
#[component]
fn ConfirmationForm(
    account: PendingConfirmation,
    token: String,
    action: ServerAction<VerifyEmail>,
) -> impl IntoView {
    let role = match account.role {
        Role::Specialist => "specialist account: once confirmed, the Zoom meetings of its bookings are created with this address as their host",
        Role::Customer => "customer account",
    };
    view! {
        <p data-testid="pending-confirmation">
            "Confirm that " <strong>{account.email}</strong> " is the address of "
            <strong>{account.name}</strong> ", a " {role} "."
        </p>
        <ActionForm action>
            <input type="hidden" name="token" value=token/>
            <div class="actions">
                <button type="submit" class="btn">"Confirm my email address"</button>
            </div>
        </ActionForm>
        <p class="muted">"Did not sign up? Then leave this page: nothing is confirmed unless you press the button."</p>
    }
}

/// Where the unsubscribe link of reminder emails lands: reminders are turned off by the
/// button (a plain form post), never by opening the link, which mail scanners do.
#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let done = query.with_untracked(|q| q.get("done").is_some());
    let unsubscribe = ServerAction::<Unsubscribe>::new();
    let failed = unsubscribe.value().get_untracked().and_then(|r| r.err());
    let body = if done {
        view! {
            <p class="alert alert-success" role="status" data-testid="unsubscribed">
                "You will not get reminder emails any more. Booking confirmations and Zoom links still arrive."
            </p>
            <p class="muted">"Changed your mind? Turn reminders back on in your settings once logged in."</p>
        }
        .into_any()
    } else {
        view! {
            {failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
            <p>"Stop the reminder emails before your appointments? Booking confirmations and Zoom links still arrive."</p>
            <ActionForm action=unsubscribe>
                <input type="hidden" name="token" value=token/>
                <div class="actions">
                    <button type="submit" class="btn">"Stop reminder emails"</button>
                </div>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section class="card narrow">
            <h1>"Reminder emails"</h1>
            {body}
        </section>
    }
}

/// `/forgot-password`: an address to send a reset link to. A plain form: the answer is the
/// same whether or not an account has the address.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let sent = use_query_map().with_untracked(|q| q.get("sent").is_some());
    let ask = ServerAction::<ForgotPassword>::new();
    let failed = ask.value().get_untracked().and_then(|r| r.err());
    view! {
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            {match (sent, failed) {
                (_, Some(e)) => Some(view! { <p class="alert alert-error" role="alert">{e.message}</p> }.into_any()),
                (true, None) => Some(view! {
                    <p class="alert alert-success" role="status" data-testid="reset-link-sent">{RESET_LINK_SENT}</p>
                }.into_any()),
                (false, None) => None,
            }}
            <p class="muted">"Enter the address you log in with: we email you a link to choose a new password."</p>
            <ActionForm action=ask>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="email" required/>
                <div class="actions"><button type="submit" class="btn">"Email me a link"</button></div>
            </ActionForm>
            <p class="muted"><a href="/login">"Back to log in"</a></p>
        </section>
    }
}

/// `/reset-password?token=…`: the emailed link's page. The form shows only while the link
/// works; setting the password signs nobody in.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    let reset = ServerAction::<ResetPassword>::new();
    let failed = reset.value().get_untracked().and_then(|r| r.err());
    let usable = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        check_reset_link,
    );
    view! {
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let (token, failed) = (token.clone(), failed.clone());
                    Suspend::new(async move {
                        match usable.await {
                            Err(e) => view! {
                                <p class="alert alert-error" role="alert" data-testid="reset-link-error">{e.message}</p>
                                <p><a class="btn" href="/forgot-password">"Ask for a new link"</a></p>
                            }.into_any(),
                            Ok(()) => view! {
                                {failed.map(|e| view! { <p class="alert alert-error" role="alert">{e.message}</p> })}
                                <ActionForm action=reset>
                                    <input type="hidden" name="token" value=token/>
                                    <label for="password">"New password (at least 8 characters)"</label>
                                    <input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required/>
                                    <div class="actions"><button type="submit" class="btn">"Set my new password"</button></div>
                                </ActionForm>
                            }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// `/confirm-email-change?token=…`: the page the link to a new address opens. A button
/// confirms (mail scanners fetch links but never post forms).
#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    let changed = query.with_untracked(|q| q.get("changed").is_some());
    let confirm = ServerAction::<crate::api::accounts::ConfirmEmailChange>::new();
    let failed = confirm.value().get_untracked().and_then(|r| r.err());
    view! {
        <section class="card narrow">
            <h1>"Your new email address"</h1>
            {if changed {
                view! {
                    <p class="alert alert-success" role="status" data-testid="email-changed">
                        "Done: your account uses this address now."
                    </p>
                    <p><a class="btn" href="/account">"Your account"</a></p>
                }.into_any()
            } else {
                view! {
                    {failed.map(|e| view! { <p class="alert alert-error" role="alert" data-testid="email-change-error">{e.message}</p> })}
                    <p>"Use this address for your Specialistly account from now on?"</p>
                    <ActionForm action=confirm>
                        <input type="hidden" name="token" value=token/>
                        <div class="actions"><button type="submit" class="btn">"Use this address"</button></div>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}
