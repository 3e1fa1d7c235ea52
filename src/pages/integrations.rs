//! The integrations page: API tokens for every account, and a specialist's outgoing webhooks
//! with each endpoint's delivery log and replay.
//!
//! Its islands get their first lists as props, read by the page on the server, like every
//! other island: no resource of theirs is left to stream behind the markup. Resources inside
//! islands were, and one of those streams once never ended, so the page drew but never
//! finished loading (its `load` never fired; `metrics::watch_page_body` saw the body stall).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::integrations::{
    add_webhook_endpoint, api_tokens, create_api_token, enable_webhook_endpoint,
    remove_webhook_endpoint, replay_webhook_delivery, revoke_api_token, webhook_deliveries,
    webhook_endpoints,
};
use crate::components::copy_button::CopyButton;
use crate::components::error_view::ErrorView;
use crate::components::live_events::LatestRead;
use crate::error::AppError;
use crate::model::{
    ApiTokenView, Role, WebhookDeliveryView, WebhookEndpointView, WEBHOOK_EVENTS as EVENTS,
};
use crate::session::use_session;

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let session = use_session();
    view! {
        <h1>"Integrations"</h1>
        <p class="muted">"Connect other software to your account through the REST API."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.user.await {
                    None => view! { <p class="card">"Please " <a href="/login?next=/integrations">"log in"</a> " to manage integrations."</p> }.into_any(),
                    Some(user) => {
                        let tokens = api_tokens().await;
                        let endpoints = if user.role == Role::Specialist {
                            Some(webhook_endpoints().await)
                        } else {
                            None
                        };
                        view! {
                            <ApiTokensCard initial=tokens/>
                            {endpoints.map(|initial| view! { <WebhooksCard initial/> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A secret shown the one time it exists in clear, with a copy button.
#[component]
fn ShownOnce(value: String, label: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <div class="field-row">
            <code data-testid=testid>{value.clone()}</code>
            <CopyButton value label/>
        </div>
        <p class="muted small">"Shown once: copy it now."</p>
    }
}

/// `list`, read again on the client each time `version` moves on (after a change here); only
/// the latest read's answer is shown.
fn reread<T: Send + Sync + 'static, Fut>(
    version: RwSignal<u32>,
    list: RwSignal<Result<T, AppError>>,
    read: impl Fn() -> Fut + 'static,
) where
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    let reads = LatestRead::default();
    Effect::new(move |seen: Option<u32>| {
        let now = version.get();
        if seen.is_some_and(|seen| seen != now) {
            let (read_no, fetched) = (reads.start(), read());
            spawn_local(async move {
                let answer = fetched.await;
                if reads.is_latest(read_no) {
                    list.set(answer);
                }
            });
        }
        now
    });
}

#[island]
fn ApiTokensCard(initial: Result<Vec<ApiTokenView>, AppError>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let tokens = RwSignal::new(initial);
    reread(version, tokens, api_tokens);
    let name = RwSignal::new(String::new());
    let write = RwSignal::new(false);
    let made = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            match create_api_token(name.get_untracked(), write.get_untracked()).await {
                Ok(t) => {
                    made.set(Some(t.token));
                    message.set(None);
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            match revoke_api_token(id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="tokens-title" data-testid="api-tokens">
            <h2 id="tokens-title">"API tokens"</h2>
            <p>"A token lets a script or another app use the API as you: send it as " <code>"Authorization: Bearer spt_…"</code> ". A read token can only read; give write access only where it is needed."</p>
            <form class="inline-fields" on:submit=create>
                <label>"Name " <input type="text" required maxlength="100" placeholder="CRM sync" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) data-testid="token-name"/></label>
                <label class="check"><input type="checkbox" prop:checked=write on:change=move |ev| write.set(event_target_checked(&ev))/> " may make changes (write)"</label>
                <button type="submit" class="btn btn-secondary">"Create token"</button>
            </form>
            {move || made.get().map(|token| view! { <ShownOnce value=token label="API token" testid="new-token"/> })}
            <p aria-live="polite" class="alert-text">{move || message.get()}</p>
            {move || match tokens.get() {
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                Ok(list) => view! {
                    <table class="table">
                        <thead><tr><th>"Name"</th><th>"Scopes"</th><th>"Created"</th><th>"Last used"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|t| {
                                let id = t.id.clone();
                                view! {
                                    <tr data-testid="token-row">
                                        <td>{t.name}</td>
                                        <td>{t.scopes.join(", ")}</td>
                                        <td>{t.created_at.format("%Y-%m-%d").to_string()}</td>
                                        <td>{t.last_used_at.map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "never".into())}</td>
                                        <td><button type="button" class="btn btn-small btn-ghost" on:click=move |_| revoke(id.clone())>"Revoke"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[island]
fn WebhooksCard(initial: Result<Vec<WebhookEndpointView>, AppError>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let endpoints = RwSignal::new(initial);
    reread(version, endpoints, webhook_endpoints);
    let url = RwSignal::new(String::new());
    let chosen = RwSignal::new(EVENTS.map(|_| true).to_vec());
    let secret = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let events: Vec<String> = EVENTS
            .iter()
            .zip(chosen.get_untracked())
            .filter(|(_, on)| *on)
            .map(|(e, _)| e.to_string())
            .collect();
        spawn_local(async move {
            match add_webhook_endpoint(url.get_untracked(), events).await {
                Ok(made) => {
                    secret.set(Some(made.secret));
                    message.set(None);
                    url.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="webhooks-title" data-testid="webhooks" id="webhooks">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p>"We POST a signed JSON message (Standard Webhooks: " <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", " <code>"webhook-signature"</code> ") to your URL when something happens to your bookings. Failed deliveries are retried for a day; then the endpoint is turned off and you get an email."</p>
            <form class="stack" on:submit=add>
                <label>"Endpoint URL " <input type="url" required placeholder="https://example.com/specialistly" prop:value=url on:input=move |ev| url.set(event_target_value(&ev)) data-testid="webhook-url"/></label>
                <fieldset class="checkbox-grid">
                    <legend>"Events"</legend>
                    {EVENTS.iter().enumerate().map(|(i, name)| view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=move || chosen.get()[i] on:change=move |ev| chosen.update(|c| c[i] = event_target_checked(&ev))/>
                            " " <code>{*name}</code>
                        </label>
                    }).collect_view()}
                </fieldset>
                <p><button type="submit" class="btn btn-secondary">"Add endpoint"</button></p>
            </form>
            {move || secret.get().map(|s| view! { <ShownOnce value=s label="signing secret" testid="webhook-secret"/> })}
            <p aria-live="polite" class="alert-text">{move || message.get()}</p>
            {move || match endpoints.get() {
                Err(e) => view! { <ErrorView error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="muted">"No endpoints yet."</p> }.into_any(),
                Ok(list) => list.into_iter().map(|e| view! { <EndpointView endpoint=e version message/> }).collect_view().into_any(),
            }}
        </section>
    }
}

/// One endpoint: its state, its actions, and its delivery log (read when opened).
#[component]
fn EndpointView(
    endpoint: WebhookEndpointView,
    version: RwSignal<u32>,
    message: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = endpoint.id.clone();
    let log_version = RwSignal::new(0u32);
    let open = RwSignal::new(false);
    let log_id = id.clone();
    // Read on the client when opened (and after each action): nothing to stream from the server.
    let log = RwSignal::new(None::<Result<Vec<WebhookDeliveryView>, AppError>>);
    let reads = LatestRead::default();
    Effect::new(move |_| {
        let (open, _) = (open.get(), log_version.get());
        // A read still in flight when the log closes (or is read again) is not shown.
        let read_no = reads.start();
        if !open {
            log.set(None);
            return;
        }
        let id = log_id.clone();
        spawn_local(async move {
            let answer = webhook_deliveries(id).await;
            if reads.is_latest(read_no) {
                log.set(Some(answer));
            }
        });
    });
    let act = move |fut: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), crate::error::AppError>>>,
    >| {
        spawn_local(async move {
            match fut.await {
                Ok(()) => {
                    version.update(|v| *v += 1);
                    log_version.update(|v| *v += 1);
                }
                Err(e) => message.set(Some(e.message)),
            }
        });
    };
    let (remove_id, enable_id, replay_endpoint) = (id.clone(), id.clone(), id.clone());
    view! {
        <article class="webhook-endpoint" data-testid="webhook-endpoint">
            <header class="slot-group-head">
                <div>
                    <code>{endpoint.url.clone()}</code>
                    <p class="muted small">{endpoint.events.join(", ")}</p>
                </div>
                {if endpoint.enabled {
                    view! { <span class="badge badge-ok">"on"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-warn" data-testid="webhook-off">"off"</span> }.into_any()
                }}
            </header>
            {endpoint.disabled_reason.clone().map(|r| view! { <p class="alert alert-error">"Turned off: " {r} "."</p> })}
            <p class="actions">
                {(!endpoint.enabled).then(|| {
                    let id = enable_id.clone();
                    view! { <button type="button" class="btn btn-small" on:click=move |_| act(Box::pin({ let id = id.clone(); async move { enable_webhook_endpoint(id).await.map(|_| ()) } }))>"Turn on"</button> " " }
                })}
                <button type="button" class="btn btn-small btn-secondary" on:click=move |_| open.update(|o| *o = !*o) data-testid="delivery-log-toggle">
                    {move || if open.get() { "Hide delivery log" } else { "Delivery log" }}
                </button>
                " "
                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| act(Box::pin({ let id = remove_id.clone(); async move { remove_webhook_endpoint(id).await } }))>"Remove"</button>
            </p>
            {move || {
                let replay_endpoint = replay_endpoint.clone();
                match log.get() {
                    Some(Err(e)) => view! { <ErrorView error=e/> }.into_any(),
                    None => ().into_any(),
                    Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"Nothing sent yet."</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <table class="table" data-testid="delivery-log">
                            <thead><tr><th>"Event"</th><th>"Created"</th><th>"Status"</th><th>"Last attempt"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let last = d.attempts.last().map(|a| match (&a.status_code, &a.error) {
                                        (_, Some(e)) => e.clone(),
                                        (Some(code), None) => format!("HTTP {code}"),
                                        (None, None) => String::new(),
                                    }).unwrap_or_else(|| "not tried yet".into());
                                    let (endpoint_id, delivery_id) = (replay_endpoint.clone(), d.id.clone());
                                    view! {
                                        <tr data-testid="delivery-row">
                                            <td><code>{d.event_type}</code></td>
                                            <td>{d.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                            <td>{format!("{} ({} attempt{})", d.status, d.attempts.len(), if d.attempts.len() == 1 { "" } else { "s" })}</td>
                                            <td class="small">{last}</td>
                                            <td><button type="button" class="btn btn-small btn-ghost" on:click=move |_| act(Box::pin({ let (e, d) = (endpoint_id.clone(), delivery_id.clone()); async move { replay_webhook_delivery(e, d).await } }))>"Replay"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
                }}
        </article>
    }
}
