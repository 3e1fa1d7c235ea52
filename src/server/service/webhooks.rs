//! Outgoing webhooks: a specialist's endpoints (made, listed, removed, turned back on), the
//! fan-out of an event to them, each delivery's attempts, and the delivery log with replay.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::model::{
    DeliveryAttempt, NewWebhookEndpoint, Role, WebhookDeliveryView, WebhookEndpointView,
};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::new_key;
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Attendee};
use crate::server::outgoing_webhooks::{
    retry_delay, signature, turn_wait, DeliveryJob, EndpointBusy, EventType, QueuedEvent,
    SENDS_PER_SPECIALIST, TURN_LEASE,
};
use crate::server::repo::webhooks::{self, AttemptOutcome, NewDelivery, Replayed, Target};
use crate::server::repo::{bookings, slots, users};
use crate::server::security::public_address;

use super::unexpected;

pub const NOT_FOUND: &str = "Webhook endpoint not found";
const MAX_URL_LEN: usize = 2000;

/// `POST /api/webhooks`: `{"url": "https://…", "events": ["booking.created", …]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// `https://…` (in production, to a public address).
    #[schema(min_length = 1, max_length = 2000, pattern = "^https?://")]
    pub url: String,
    #[schema(min_items = 1, value_type = Vec<crate::server::outgoing_webhooks::EventType>)]
    pub events: Vec<String>,
}

fn specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    super::require_role(
        caller,
        Role::Specialist,
        "Only specialists can receive webhooks.",
    )
}

fn event_names(events: &[String]) -> AppResult<Vec<&'static str>> {
    if events.is_empty() {
        return Err(AppError::bad_request(format!(
            "events must name at least one of: {}",
            EventType::ALL.map(EventType::as_str).join(", ")
        )));
    }
    let mut names: Vec<&'static str> = Vec::new();
    for event in events {
        let Some(t) = EventType::parse(event) else {
            return Err(AppError::bad_request(format!(
                "Unknown event \"{}\": use {}",
                event.chars().take(40).collect::<String>(),
                EventType::ALL.map(EventType::as_str).join(", ")
            )));
        };
        if !names.contains(&t.as_str()) {
            names.push(t.as_str());
        }
    }
    Ok(names)
}

/// A URL webhooks may be sent to, or a 400 saying why not.
async fn checked_url(state: &AppState, raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(AppError::bad_request(format!(
            "url is required and at most {MAX_URL_LEN} characters"
        )));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|_| AppError::bad_request("url must be an absolute https:// URL"))?;
    public_address::may_reach(&url, state.config.webhooks.public_only)
        .await
        .map_err(AppError::bad_request)?;
    Ok(url.to_string())
}

pub async fn create_endpoint(
    state: &AppState,
    caller: Option<&Caller>,
    request: EndpointRequest,
) -> AppResult<NewWebhookEndpoint> {
    let caller = specialist(caller)?;
    super::require_session(caller, "Webhook endpoints")?;
    let events = event_names(&request.events)?;
    let url = checked_url(state, &request.url).await?;
    let secret = signature::new_secret();
    let endpoint = webhooks::create_endpoint(
        &state.db,
        &new_key(),
        &caller.user_id,
        &url,
        &events,
        &secret,
    )
    .await
    .map_err(unexpected("saving a webhook endpoint"))?
    .ok_or_else(|| {
        AppError::conflict(format!(
            "A specialist can have at most {} webhook endpoints: remove one first",
            webhooks::MAX_PER_USER
        ))
    })?;
    tracing::info!(user = %caller.user_id, endpoint = %endpoint.id, "webhook endpoint added");
    Ok(NewWebhookEndpoint { secret, endpoint })
}

pub async fn endpoints(
    state: &AppState,
    caller: Option<&Caller>,
) -> AppResult<Vec<WebhookEndpointView>> {
    let caller = specialist(caller)?;
    webhooks::endpoints_of(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading webhook endpoints"))
}

pub async fn delete_endpoint(state: &AppState, caller: Option<&Caller>, id: &str) -> AppResult<()> {
    let caller = specialist(caller)?;
    let deleted = webhooks::delete_endpoint(&state.db, &caller.user_id, id)
        .await
        .map_err(unexpected("removing a webhook endpoint"))?;
    deleted
        .then_some(())
        .ok_or_else(|| AppError::not_found(NOT_FOUND))
}

pub async fn enable_endpoint(
    state: &AppState,
    caller: Option<&Caller>,
    id: &str,
) -> AppResult<WebhookEndpointView> {
    let caller = specialist(caller)?;
    super::require_session(caller, "Webhook endpoints")?;
    if !webhooks::enable_endpoint(&state.db, &caller.user_id, id)
        .await
        .map_err(unexpected("turning a webhook endpoint on"))?
    {
        return Err(AppError::not_found(NOT_FOUND));
    }
    owned_endpoint(state, caller, id).await
}

async fn owned_endpoint(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> AppResult<WebhookEndpointView> {
    webhooks::endpoint_of(&state.db, &caller.user_id, id)
        .await
        .map_err(unexpected("reading a webhook endpoint"))?
        .ok_or_else(|| AppError::not_found(NOT_FOUND))
}

/// The endpoint's delivery log, newest first.
pub async fn deliveries(
    state: &AppState,
    caller: Option<&Caller>,
    endpoint_id: &str,
) -> AppResult<Vec<WebhookDeliveryView>> {
    let caller = specialist(caller)?;
    let endpoint = owned_endpoint(state, caller, endpoint_id).await?;
    webhooks::deliveries_of(&state.db, &endpoint.id)
        .await
        .map_err(unexpected("reading webhook deliveries"))
}

/// Sends a delivery again, now, with the same message id.
pub async fn replay(
    state: &AppState,
    caller: Option<&Caller>,
    endpoint_id: &str,
    delivery_id: &str,
) -> AppResult<()> {
    let caller = specialist(caller)?;
    let endpoint = owned_endpoint(state, caller, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(AppError::conflict(
            "This endpoint is turned off: turn it on before replaying deliveries",
        ));
    }
    match webhooks::replay(&state.db, &caller.user_id, &endpoint.id, delivery_id)
        .await
        .map_err(unexpected("replaying a webhook delivery"))?
    {
        Replayed::Queued(_) => Ok(()),
        Replayed::NotFound => Err(AppError::not_found("Delivery not found")),
        Replayed::Pending => Err(AppError::conflict(
            "This delivery is still being sent: replay it once it has been delivered or has failed",
        )),
    }
}

fn short_hash(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())[..32].to_string()
}

/// The event job: one delivery per enabled endpoint subscribed to the event, each with its
/// first attempt. Run again (after a crash), it adds nothing.
pub async fn fan_out(state: &AppState, job_key: &str, event: &QueuedEvent) -> anyhow::Result<()> {
    let subscribers =
        webhooks::subscribers(&state.db, &event.specialist_id, event.event_type.as_str()).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let body = json!({
        "type": event.event_type.as_str(),
        "timestamp": event.occurred_at,
        "data": event_data(state, event).await?,
    })
    .to_string();
    let message_id = format!("msg_{}", short_hash(&[job_key]));
    let deliveries: Vec<NewDelivery> = subscribers
        .iter()
        .map(|s| NewDelivery {
            id: short_hash(&[job_key, &s.id]),
            endpoint: s.id.clone(),
            user: event.specialist_id.clone(),
            event_type: event.event_type.as_str().into(),
            message_id: message_id.clone(),
            body: body.clone(),
        })
        .collect();
    let first_attempts: Vec<NewJob> = deliveries
        .iter()
        .map(|d| NewJob::webhook_delivery(&d.id, 1, 0))
        .collect();
    webhooks::create_deliveries(&state.db, &deliveries, &first_attempts).await?;
    Ok(())
}

/// What a message says about its booking: the booking as it is now, and what the event knew.
async fn event_data(state: &AppState, event: &QueuedEvent) -> anyhow::Result<Value> {
    let mut data = json!({ "bookingId": event.booking_id });
    if let Some(booking) = bookings::by_id(&state.db, &event.booking_id).await? {
        let slot = slots::by_id(&state.db, &booking.slot).await?;
        data = json!({
            "bookingId": booking.id,
            "slotId": booking.slot,
            "bookingIndex": booking.index,
            "status": booking.status.as_str(),
            "customer": { "name": booking.customer_name, "email": booking.customer_email },
            "additionalNotes": booking.additional_notes,
            "bookedAt": booking.booked_at,
            "slot": slot.map(|s| json!({
                "title": s.fields.title,
                "startTime": s.fields.starts_at,
                "duration": s.fields.duration,
                "timezone": s.fields.timezone,
            })),
            "zoomMeeting": booking.zoom_meeting.as_ref().map(|m| json!({
                "meetingId": m.zoom_meeting_id,
                "joinUrl": m.join_url,
                "createdAt": m.created_at,
            })),
            "attendance": booking.attendance,
            "outcome": booking.outcome,
        });
    }
    if let (Some(data), Some(details)) = (data.as_object_mut(), event.details.as_object()) {
        data.extend(details.clone());
    }
    Ok(data)
}

/// One attempt at a delivery: signed and posted; recorded with what follows (done, a retry
/// with back-off, or after the retry window the endpoint turned off and its owner told).
pub async fn deliver(state: &AppState, job: &DeliveryJob) -> anyhow::Result<()> {
    let Some(target) = webhooks::target(&state.db, &job.delivery_id).await? else {
        return Ok(());
    };
    // Delivered, given up, or this attempt ran already (a replay or retry overtook it).
    if target.status != "pending" || job.attempt <= target.attempts_made {
        return Ok(());
    }
    let (Some(url), Some(secret), Some(true)) = (&target.url, &target.secret, target.enabled)
    else {
        webhooks::abandon(&state.db, &target.id).await?;
        return Ok(());
    };
    let now = Utc::now();
    let timestamp = now.timestamp();
    // Checked again before every send (G8): an endpoint saved while the rule was off, or an
    // address literal (which connects without the resolver), must not be reached now.
    let refused = match reqwest::Url::parse(url) {
        Ok(parsed) => public_address::refusal(&parsed, state.config.webhooks.public_only),
        Err(e) => Some(format!("The URL is not valid: {e}")),
    };
    let (status_code, error) = match refused {
        Some(why) => (None, Some(format!("not sent: {why}"))),
        None => {
            let turn = new_key();
            take_turn(state, &target, &turn).await?;
            let sent = send(state, &target, url, secret, timestamp).await;
            webhooks::end_turn(&state.db, &target.user_id, &turn).await?;
            sent
        }
    };
    let attempt = DeliveryAttempt {
        at: now,
        status_code,
        error: error.clone(),
    };
    if error.is_none() {
        webhooks::record_attempt(&state.db, &target, &attempt, AttemptOutcome::Delivered).await?;
        return Ok(());
    }
    let window = chrono::Duration::from_std(state.config.webhooks.retry_window)?;
    let elapsed = now - target.first_attempt_at.unwrap_or(now);
    let gone = status_code == Some(410);
    if gone || elapsed >= window {
        let reason = if gone {
            "it answered 410 Gone".to_string()
        } else {
            format!(
                "deliveries to it failed for {}",
                spoken_duration(state.config.webhooks.retry_window)
            )
        };
        let email = disabled_email(state, &target, url, &reason).await?;
        tracing::warn!(endpoint = %target.endpoint_id, %reason, "webhook endpoint turned off");
        let outcome = AttemptOutcome::GiveUp {
            reason: &reason,
            email: &email,
        };
        webhooks::record_attempt(&state.db, &target, &attempt, outcome).await?;
        return Ok(());
    }
    let wait = chrono::Duration::from_std(retry_delay(job.attempt))?.min(window - elapsed);
    let wait_seconds = wait.num_seconds().max(1) as u64;
    let next = NewJob::webhook_delivery(&target.id, job.attempt + 1, wait_seconds);
    let at = now + chrono::Duration::seconds(wait_seconds as i64);
    webhooks::record_attempt(
        &state.db,
        &target,
        &attempt,
        AttemptOutcome::Retry { at, next: &next },
    )
    .await?;
    Ok(())
}

/// Takes the delivery's turn: one send per endpoint and a few per specialist at a time, on
/// every instance. Behind a send that just started (a healthy endpoint with a burst) it waits
/// here a moment; otherwise it fails with [`EndpointBusy`], and the job waits in the queue.
async fn take_turn(state: &AppState, target: &Target, turn: &str) -> anyhow::Result<()> {
    const WAIT_HERE: std::time::Duration = std::time::Duration::from_secs(3);
    let asked = tokio::time::Instant::now();
    loop {
        let Some(in_the_way) = webhooks::take_turn(
            &state.db,
            &target.user_id,
            &target.endpoint_id,
            turn,
            SENDS_PER_SPECIALIST,
            TURN_LEASE,
        )
        .await?
        else {
            return Ok(());
        };
        let wait = turn_wait(&in_the_way, Utc::now());
        if wait > std::time::Duration::from_secs(1) || asked.elapsed() >= WAIT_HERE {
            return Err(EndpointBusy { wait }.into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Posts the signed message; the status code and, unless it succeeded, what went wrong.
async fn send(
    state: &AppState,
    target: &Target,
    url: &str,
    secret: &str,
    timestamp: i64,
) -> (Option<u16>, Option<String>) {
    let sent = state
        .webhook_client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &target.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(secret, &target.message_id, timestamp, &target.body),
        )
        .body(target.body.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("answered HTTP {}", response.status())),
        ),
        Err(e) => (e.status().map(|s| s.as_u16()), Some(describe(&e))),
    }
}

/// `24 hours`, `90 minutes`, `2 seconds`.
fn spoken_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s >= 3600 && s.is_multiple_of(3600) => format!("{} hours", s / 3600),
        _ if s >= 60 && s.is_multiple_of(60) => format!("{} minutes", s / 60),
        _ => format!("{s} seconds"),
    }
}

/// A failed request in a line of the log: the innermost cause says most (a refused address,
/// a certificate, a timeout).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_redirect() {
        "refused a redirect".to_string()
    } else {
        "could not connect".to_string()
    };
    if let Some(cause) = crate::server::outgoing_webhooks::client::innermost_cause(e, 300) {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}

async fn disabled_email(
    state: &AppState,
    target: &Target,
    url: &str,
    reason: &str,
) -> anyhow::Result<NewJob> {
    let user = users::by_id(&state.db, &target.user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the endpoint's specialist is gone"))?;
    let to = Attendee {
        name: user.name,
        email: user.email,
        timezone: user.timezone,
    };
    let manage = format!("{}/integrations#webhooks", state.config.http.base_url);
    Ok(NewJob::email(&templates::webhook_disabled(
        &to,
        &target.endpoint_id,
        url,
        reason,
        &manage,
    )))
}
