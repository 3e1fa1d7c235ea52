//! Outgoing webhook endpoints (`webhook_endpoint`) and their deliveries (`webhook_delivery`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::jobs::queue_statement;
use crate::model::{DeliveryAttempt, WebhookDeliveryView, WebhookEndpointView};
use crate::server::db::{is_valid_key, run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// How many endpoints one specialist may have.
pub const MAX_PER_USER: usize = 10;
/// How many deliveries the log shows.
pub const LOG_LENGTH: usize = 50;
/// How many of a delivery's attempts it keeps (the latest; `attempt_count` counts them all).
pub const KEPT_ATTEMPTS: usize = 20;

const ENDPOINT_VIEW: &str = "record::id(id) AS id, url, events, enabled,
    disabled_reason AS disabledReason, created_at AS createdAt";

/// Creates an endpoint unless the specialist has [`MAX_PER_USER`] already (`None` then).
pub async fn create_endpoint(
    db: &Db,
    id: &str,
    user: &str,
    url: &str,
    events: &[&str],
    secret: &str,
) -> Result<Option<WebhookEndpointView>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $user_id);
        IF count((SELECT id FROM webhook_endpoint WHERE user = $user)) < {MAX_PER_USER} {{
            CREATE type::record('webhook_endpoint', $id) CONTENT {{
                user: $user, url: $url, events: $events, secret: $secret, enabled: true
            }};
        }};
        COMMIT TRANSACTION;
        SELECT {ENDPOINT_VIEW} FROM type::record('webhook_endpoint', $id);"
    );
    let vars = json!({ "id": id, "user_id": user, "url": url, "events": events, "secret": secret });
    with_conflict_retry("create_webhook_endpoint", || run(db, &sql, vars.clone()))
        .await?
        .last()
}

pub async fn endpoints_of(db: &Db, user: &str) -> Result<Vec<WebhookEndpointView>, DbError> {
    run(
        db,
        &format!(
            "SELECT {ENDPOINT_VIEW} FROM webhook_endpoint WHERE user = type::record('user', $user)
            ORDER BY createdAt DESC"
        ),
        json!({ "user": user }),
    )
    .await?
    .all(0)
}

/// The specialist's endpoint `id`, if it is theirs.
pub async fn endpoint_of(
    db: &Db,
    user: &str,
    id: &str,
) -> Result<Option<WebhookEndpointView>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    run(
        db,
        &format!(
            "SELECT {ENDPOINT_VIEW} FROM type::record('webhook_endpoint', $id)
            WHERE user = type::record('user', $user)"
        ),
        json!({ "id": id, "user": user }),
    )
    .await?
    .first(0)
}

/// Deletes the specialist's endpoint with its delivery log; whether it existed.
pub async fn delete_endpoint(db: &Db, user: &str, id: &str) -> Result<bool, DbError> {
    if !is_valid_key(id) {
        return Ok(false);
    }
    let mut rows = run(
        db,
        "BEGIN TRANSACTION;
        LET $endpoint = type::record('webhook_endpoint', $id);
        LET $gone = DELETE $endpoint WHERE user = type::record('user', $user) RETURN BEFORE;
        IF array::len($gone) > 0 { DELETE webhook_delivery WHERE endpoint = $endpoint; };
        COMMIT TRANSACTION;
        RETURN array::len($gone) > 0;",
        json!({ "id": id, "user": user }),
    )
    .await?;
    Ok(rows.last::<bool>()?.unwrap_or(false))
}

/// Turns the specialist's endpoint back on.
pub async fn enable_endpoint(db: &Db, user: &str, id: &str) -> Result<bool, DbError> {
    if !is_valid_key(id) {
        return Ok(false);
    }
    let updated: Vec<serde_json::Value> = run(
        db,
        "UPDATE type::record('webhook_endpoint', $id) SET enabled = true, disabled_reason = NONE
        WHERE user = type::record('user', $user) RETURN AFTER",
        json!({ "id": id, "user": user }),
    )
    .await?
    .all(0)?;
    Ok(!updated.is_empty())
}

/// An enabled endpoint subscribed to an event.
#[derive(Debug, Deserialize)]
pub struct Subscriber {
    pub id: String,
}

pub async fn subscribers(
    db: &Db,
    user: &str,
    event_type: &str,
) -> Result<Vec<Subscriber>, DbError> {
    run(
        db,
        "SELECT record::id(id) AS id FROM webhook_endpoint
        WHERE user = type::record('user', $user) AND enabled = true AND $event IN events",
        json!({ "user": user, "event": event_type }),
    )
    .await?
    .all(0)
}

/// A delivery to write.
#[derive(Debug, Serialize)]
pub struct NewDelivery {
    pub id: String,
    pub endpoint: String,
    pub user: String,
    pub event_type: String,
    pub message_id: String,
    pub body: String,
}

/// Writes the deliveries that do not exist yet, with the jobs that send them.
pub async fn create_deliveries(
    db: &Db,
    deliveries: &[NewDelivery],
    jobs_to_queue: &[NewJob],
) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        FOR $d IN $deliveries {{
            LET $record = type::record('webhook_delivery', $d.id);
            IF array::len((SELECT id FROM $record)) = 0 {{
                CREATE $record CONTENT {{
                    endpoint: type::record('webhook_endpoint', $d.endpoint),
                    user: type::record('user', $d.user), event_type: $d.event_type,
                    message_id: $d.message_id, body: $d.body, status: 'pending',
                    next_attempt_at: time::now()
                }};
            }};
        }};
        {queue}
        COMMIT TRANSACTION;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({ "deliveries": deliveries, "jobs": jobs::bind(jobs_to_queue) });
    with_conflict_retry("create_webhook_deliveries", || run(db, &sql, vars.clone()))
        .await
        .map(|_| ())
}

/// A delivery about to be sent, with its endpoint.
#[derive(Debug, Deserialize)]
pub struct Target {
    pub id: String,
    pub message_id: String,
    pub body: String,
    pub status: String,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub attempts_made: u32,
    pub endpoint_id: String,
    pub user_id: String,
    /// Absent when the endpoint was deleted.
    pub url: Option<String>,
    pub secret: Option<String>,
    pub enabled: Option<bool>,
}

pub async fn target(db: &Db, id: &str) -> Result<Option<Target>, DbError> {
    run(
        db,
        "SELECT record::id(id) AS id, message_id, body, status, first_attempt_at,
            attempt_count AS attempts_made, record::id(endpoint) AS endpoint_id,
            record::id(user) AS user_id, endpoint.url AS url, endpoint.secret AS secret,
            endpoint.enabled AS enabled
        FROM type::record('webhook_delivery', $id)",
        json!({ "id": id }),
    )
    .await?
    .first(0)
}

/// What became of an attempt.
pub enum AttemptOutcome<'a> {
    Delivered,
    /// Tried again by `next` (queued with it).
    Retry {
        at: DateTime<Utc>,
        next: &'a NewJob,
    },
    /// Given up: the endpoint is turned off with `reason`, and `email` tells its specialist
    /// (only when this turned it off).
    GiveUp {
        reason: &'a str,
        email: &'a NewJob,
    },
}

/// Records an attempt and what follows from it, in one transaction.
pub async fn record_attempt(
    db: &Db,
    target: &Target,
    attempt: &DeliveryAttempt,
    outcome: AttemptOutcome<'_>,
) -> Result<(), DbError> {
    let (status, next_at, jobs_now, disable_reason, email) = match outcome {
        AttemptOutcome::Delivered => ("delivered", None, vec![], None, vec![]),
        AttemptOutcome::Retry { at, next } => {
            ("pending", Some(at), vec![next.clone()], None, vec![])
        }
        AttemptOutcome::GiveUp { reason, email } => {
            ("failed", None, vec![], Some(reason), vec![email.clone()])
        }
    };
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $delivery = type::record('webhook_delivery', $id);
        LET $at = type::datetime($attempt.at);
        UPDATE $delivery SET
            attempts = array::slice(array::append(attempts, {{
                at: $at, statusCode: $attempt.statusCode, error: $attempt.error
            }}), -{KEPT_ATTEMPTS}),
            attempt_count += 1,
            status = $status,
            next_attempt_at = IF $next_at != NONE THEN type::datetime($next_at) ELSE NONE END,
            first_attempt_at = first_attempt_at ?? $at RETURN NONE;
        {queue}
        IF $disable_reason != NONE {{
            LET $endpoint = type::record('webhook_endpoint', $endpoint_id);
            LET $turned_off = UPDATE $endpoint SET enabled = false, disabled_reason = $disable_reason
                WHERE enabled = true RETURN AFTER;
            IF array::len($turned_off) > 0 {{
                {notify}
            }};
        }};
        COMMIT TRANSACTION;",
        queue = queue_statement("jobs"),
        notify = queue_statement("email"),
    );
    let vars = json!({
        "id": target.id, "endpoint_id": target.endpoint_id, "attempt": attempt,
        "status": status, "next_at": next_at, "disable_reason": disable_reason,
        "jobs": jobs::bind(&jobs_now), "email": jobs::bind(&email),
    });
    with_conflict_retry("record_webhook_attempt", || run(db, &sql, vars.clone()))
        .await
        .map(|_| ())
}

/// Marks a delivery whose endpoint is gone or off as failed, without an attempt.
pub async fn abandon(db: &Db, id: &str) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('webhook_delivery', $id) SET status = 'failed', next_attempt_at = NONE
        WHERE status = 'pending' RETURN NONE",
        json!({ "id": id }),
    )
    .await
    .map(|_| ())
}

/// The endpoint's latest deliveries, newest first.
pub async fn deliveries_of(db: &Db, endpoint: &str) -> Result<Vec<WebhookDeliveryView>, DbError> {
    run(
        db,
        &format!(
            "SELECT record::id(id) AS id, event_type AS eventType, message_id AS messageId, status,
                created_at AS createdAt, next_attempt_at AS nextAttemptAt, attempts, body
            FROM webhook_delivery WHERE endpoint = type::record('webhook_endpoint', $endpoint)
            ORDER BY createdAt DESC LIMIT {LOG_LENGTH}"
        ),
        json!({ "endpoint": endpoint }),
    )
    .await?
    .all(0)
}

/// What a replay found.
pub enum Replayed {
    /// Queued as attempt number `.0`.
    Queued(u32),
    /// No such delivery of this endpoint and account.
    NotFound,
    /// Still being sent (a first attempt, a retry or a replay is queued or under way).
    Pending,
}

/// Sends a delivery of the specialist's endpoint again (same message id, a new retry window),
/// unless it is still pending: one chain of attempts per delivery at a time, whoever asks how
/// often (G1).
pub async fn replay(db: &Db, user: &str, endpoint: &str, id: &str) -> Result<Replayed, DbError> {
    if !is_valid_key(id) {
        return Ok(Replayed::NotFound);
    }
    #[derive(Deserialize)]
    struct Found {
        made: u32,
        pending: bool,
    }
    let found: Option<Found> = run(
        db,
        "SELECT attempt_count AS made, status = 'pending' AS pending
        FROM type::record('webhook_delivery', $id)
        WHERE user = type::record('user', $user)
          AND endpoint = type::record('webhook_endpoint', $endpoint)",
        json!({ "id": id, "user": user, "endpoint": endpoint }),
    )
    .await?
    .first(0)?;
    let Some(found) = found else {
        return Ok(Replayed::NotFound);
    };
    if found.pending {
        return Ok(Replayed::Pending);
    }
    let attempt = found.made + 1;
    // A key of its own: a retry still queued for later must not swallow the replay.
    let next = NewJob {
        key: format!(
            "webhook-delivery:{id}:{attempt}:replay:{}",
            Utc::now().timestamp_millis()
        ),
        ..NewJob::webhook_delivery(id, attempt, 0)
    };
    // Conditional on the delivery not being pending: of two replays at once, the second
    // conflicts, is retried, and finds it pending.
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $replayed = UPDATE type::record('webhook_delivery', $id) SET status = 'pending',
            next_attempt_at = time::now(), first_attempt_at = NONE
            WHERE status != 'pending' RETURN AFTER;
        IF array::len($replayed) > 0 {{
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN array::len($replayed) > 0;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({ "id": id, "jobs": jobs::bind(std::slice::from_ref(&next)) });
    let mut rows =
        with_conflict_retry("replay_webhook_delivery", || run(db, &sql, vars.clone())).await?;
    Ok(if rows.last::<bool>()?.unwrap_or(false) {
        Replayed::Queued(attempt)
    } else {
        Replayed::Pending
    })
}

/// Takes a turn to send to `endpoint` for `user`'s deliveries, unless that endpoint has a send
/// under way or the specialist has `budget` of them. `Ok(None)` when taken; otherwise when the
/// sends in the way started (across instances: the turns are rows, each held for `lease` at
/// most).
pub async fn take_turn(
    db: &Db,
    user: &str,
    endpoint: &str,
    token: &str,
    budget: usize,
    lease: std::time::Duration,
) -> Result<Option<Vec<DateTime<Utc>>>, DbError> {
    let sql = "BEGIN TRANSACTION;
        LET $row = type::record('webhook_sending', $user);
        LET $live = array::filter(($row.sends ?? []), |$s| $s.until > time::now());
        LET $same = array::filter($live, |$s| $s.endpoint = $endpoint);
        LET $taken = array::len($live) < $budget AND array::len($same) = 0;
        IF $taken {
            UPSERT $row SET sends = array::append($live, {
                endpoint: $endpoint, token: $turn, started: time::now(),
                until: time::now() + type::duration($lease)
            }) RETURN NONE;
        };
        LET $in_the_way = IF array::len($same) > 0 THEN $same ELSE $live END;
        COMMIT TRANSACTION;
        RETURN { taken: $taken, started: array::map($in_the_way, |$s| $s.started) };";
    let vars = json!({
        "user": user, "endpoint": endpoint, "turn": token, "budget": budget,
        "lease": format!("{}s", lease.as_secs()),
    });
    #[derive(Deserialize)]
    struct Turn {
        taken: bool,
        started: Vec<DateTime<Utc>>,
    }
    let mut rows = with_conflict_retry("take_webhook_turn", || run(db, sql, vars.clone())).await?;
    let turn: Turn = rows
        .last()?
        .ok_or_else(|| DbError::Decode("no answer from taking a turn".into()))?;
    Ok((!turn.taken).then_some(turn.started))
}

/// Ends the turn `token` took.
pub async fn end_turn(db: &Db, user: &str, token: &str) -> Result<(), DbError> {
    let sql = "UPDATE type::record('webhook_sending', $user)
        SET sends = array::filter(sends, |$s| $s.token != $turn AND $s.until > time::now())
        RETURN NONE";
    let vars = json!({ "user": user, "turn": token });
    with_conflict_retry("end_webhook_turn", || run(db, sql, vars.clone()))
        .await
        .map(|_| ())
}
