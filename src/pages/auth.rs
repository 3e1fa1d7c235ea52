use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{
    demo_accounts, pending_confirmation, Login, Register, Unsubscribe, VerifyEmail,
};
use crate::error::AppError;
use crate::model::{PendingConfirmation, Role};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
    // Created inside the page so a failed plain form post (no wasm) shows its error too.
    let failed = ServerAction::<Login>::new();
    let error = failed.value().get_untracked().and_then(|r| r.err());
    let demo = Resource::new(|| (), |_| demo_accounts());
    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            <LoginForm next error/>
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
