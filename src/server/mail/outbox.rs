//! The `email_outbox` table. Emails are queued inside the transaction of the change that
//! causes them, and a worker claims due rows with a lease before sending.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::server::db::{run, Db, DbError};
use crate::server::domain::OutboxStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    /// Unique per email, e.g. `booking:<id>:customer-confirmation`: queuing it twice is a no-op.
    pub idempotency_key: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// A SurrealQL fragment that queues the emails bound as `$var` (see [`bind_emails`]), for use
/// inside the caller's own `BEGIN … COMMIT`. An email whose key is already queued is skipped;
/// the unique index on the key settles a race between two transactions.
pub fn queue_statement(var: &str) -> String {
    format!(
        "FOR $m IN ${var} {{
            IF array::len((SELECT id FROM email_outbox WHERE idempotency_key = $m.idempotency_key)) = 0 {{
                CREATE email_outbox CONTENT {{
                    idempotency_key: $m.idempotency_key,
                    recipient: $m.to,
                    subject: $m.subject,
                    text: $m.text,
                    html: $m.html,
                    attachments: $m.attachments,
                    status: 'pending',
                    attempts: 0,
                    next_attempt_at: time::now(),
                }};
            }};
        }};"
    )
}

pub fn bind_emails(emails: &[OutgoingEmail]) -> Value {
    serde_json::to_value(emails).expect("emails serialise")
}

/// Queues emails on their own (for changes that have no transaction of their own).
pub async fn queue(db: &Db, emails: &[OutgoingEmail]) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION; {} COMMIT TRANSACTION;",
        queue_statement("emails")
    );
    run(db, &sql, json!({ "emails": bind_emails(emails) }))
        .await
        .map(|_| ())
}

/// A row claimed for delivery.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimedEmail {
    pub id: String,
    pub idempotency_key: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub attempts: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub idempotency_key: String,
    pub recipient: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Claims the next due row (pending and due, or whose lease ran out) for `owner` with one
/// conditional write, for `lease_seconds`. Rows another worker claims first are skipped; `None`
/// when nothing is due. One row at a time, so a claim never waits behind other sends and no
/// row is sent after its lease expired (the transport gives up well within the lease).
pub async fn claim_next(
    db: &Db,
    owner: &str,
    lease_seconds: u64,
) -> Result<Option<ClaimedEmail>, DbError> {
    // A few candidates, so a worker that loses one race goes on with the next.
    let mut rows = run(
        db,
        "SELECT VALUE record::id(id) FROM email_outbox
            WHERE (status = 'pending' AND next_attempt_at <= time::now())
               OR (status = 'sending' AND lease_until < time::now())
            ORDER BY next_attempt_at LIMIT 5",
        json!({}),
    )
    .await?;
    let due: Vec<String> = rows.all(0)?;
    for id in due {
        let result = run(
            db,
            "UPDATE type::record('email_outbox', $id)
                SET status = 'sending', lease_owner = $owner, attempts += 1,
                    lease_until = time::now() + type::duration($lease)
                WHERE (status = 'pending' AND next_attempt_at <= time::now())
                   OR (status = 'sending' AND lease_until < time::now())
                RETURN record::id(id) AS id, idempotency_key, recipient, subject, text, html, attachments, attempts;",
            json!({ "id": id, "owner": owner, "lease": format!("{lease_seconds}s") }),
        )
        .await;
        match result {
            Ok(mut rows) => {
                if let Some(claimed) = rows.first::<ClaimedEmail>(0)? {
                    return Ok(Some(claimed));
                }
            }
            // Another worker wrote the row at the same moment: it is theirs.
            Err(DbError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

pub async fn mark_sent(db: &Db, id: &str, owner: &str) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('email_outbox', $id)
            SET status = 'sent', sent_at = time::now(), lease_until = NONE, last_error = NONE
            WHERE lease_owner = $owner AND status = 'sending';",
        json!({ "id": id, "owner": owner }),
    )
    .await
    .map(|_| ())
}

/// Records a failed attempt: back to pending after a back-off, or `failed` for good.
pub async fn mark_failed(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    attempts: u32,
    max_attempts: u32,
) -> Result<(), DbError> {
    let give_up = attempts >= max_attempts;
    let delay = backoff_seconds(attempts);
    run(
        db,
        "UPDATE type::record('email_outbox', $id)
            SET status = $status, last_error = $error, lease_until = NONE,
                next_attempt_at = time::now() + type::duration($delay)
            WHERE lease_owner = $owner AND status = 'sending';",
        json!({
            "id": id, "owner": owner, "error": error,
            "status": if give_up { OutboxStatus::Failed } else { OutboxStatus::Pending },
            "delay": format!("{delay}s"),
        }),
    )
    .await
    .map(|_| ())
}

/// 30 s after the first failure, doubling, at most an hour.
pub fn backoff_seconds(attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(16);
    (30u64 << exp).min(3600)
}

pub async fn all_rows(db: &Db) -> Result<Vec<OutboxRow>, DbError> {
    run(
        db,
        "SELECT record::id(id) AS id, idempotency_key, recipient, subject, status, attempts, last_error,
                next_attempt_at, sent_at
         FROM email_outbox ORDER BY created_at",
        json!({}),
    )
    .await?
    .all(0)
}

/// Whether the email with this key has been delivered.
pub async fn is_sent(db: &Db, key: &str) -> Result<bool, DbError> {
    let mut rows = run(
        db,
        "SELECT VALUE status FROM email_outbox WHERE idempotency_key = $key",
        json!({ "key": key }),
    )
    .await?;
    Ok(rows.first::<OutboxStatus>(0)? == Some(OutboxStatus::Sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff_seconds(1), 30);
        assert_eq!(backoff_seconds(2), 60);
        assert_eq!(backoff_seconds(3), 120);
        assert_eq!(backoff_seconds(7), 1920);
        assert_eq!(backoff_seconds(8), 3600);
        assert_eq!(backoff_seconds(30), 3600);
    }
}
