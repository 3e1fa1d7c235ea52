//! Zoom's webhook deliveries: stored (once) with the job that applies them, in one transaction.

use serde::Deserialize;
use serde_json::json;

use super::jobs::queue_statement;
use crate::server::db::{run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The same body, or the same event in another body, was stored before.
    Duplicate,
}

/// Stores a delivery under the hash of its body and queues its job, unless the body or the
/// event's business key is known already. Two instances receiving the same event at once
/// collide on the record or the unique index: one stores it, the other sees a duplicate.
pub async fn store(
    db: &Db,
    hash: &str,
    event: &str,
    business_key: &str,
    body: &str,
) -> Result<Stored, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $key = $business_key;
        LET $fresh = !record::exists(type::record('zoom_event', $hash))
            AND array::len((SELECT id FROM zoom_event WHERE business_key = $key)) = 0;
        IF $fresh {{
            CREATE type::record('zoom_event', $hash) CONTENT {{
                event: $event, business_key: $business_key, body: $body
            }};
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN $fresh;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "hash": hash, "event": event, "business_key": business_key, "body": body,
        "jobs": jobs::bind(&[NewJob::zoom_event(hash)]),
    });
    let result = with_conflict_retry("store_zoom_event", || run(db, &sql, vars.clone())).await;
    match result {
        Ok(mut rows) => Ok(match rows.last::<bool>()? {
            Some(true) => Stored::New,
            _ => Stored::Duplicate,
        }),
        Err(DbError::Unique { .. }) => Ok(Stored::Duplicate),
        Err(e) if e.to_string().contains("already exists") => Ok(Stored::Duplicate),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredEvent {
    pub event: String,
    pub body: String,
}

pub async fn by_id(db: &Db, hash: &str) -> Result<Option<StoredEvent>, DbError> {
    run(
        db,
        "SELECT event, body FROM type::record('zoom_event', $hash)",
        json!({ "hash": hash }),
    )
    .await?
    .first(0)
}
