//! Fixed-window counters kept in SurrealDB, so every app instance counts together: failed
//! logins per email and sign-in requests per client address.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::server::db::{run, with_conflict_retry, Db, DbError};

/// A counter as it stands.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub count: u32,
    /// Seconds until the window ends (and the count starts over).
    pub seconds_left: i64,
}

#[derive(Deserialize)]
struct Row {
    hits: u32,
    window_end: DateTime<Utc>,
}

impl From<Row> for Window {
    fn from(row: Row) -> Self {
        Self {
            count: row.hits,
            seconds_left: (row.window_end - Utc::now()).num_seconds(),
        }
    }
}

/// Adds one to counter `key` and returns what this hit wrote (read back afterwards, a
/// concurrent `clear` could already have removed it). A window opens with the first hit and lasts
/// `window_seconds`; a hit after it ends opens a new one. Concurrent hits on one key collide
/// in the transaction and are retried, so none is lost.
pub async fn hit(db: &Db, key: &str, window_seconds: u64) -> Result<Window, DbError> {
    with_conflict_retry("rate_counter", || async {
        let mut rows = run(
            db,
            "BEGIN TRANSACTION;
            LET $now = time::now();
            LET $c = type::record('rate_counter', $key);
            LET $open = $c.window_end != NONE AND $c.window_end > $now;
            LET $hits = IF $open THEN $c.hits + 1 ELSE 1 END;
            LET $end = IF $open THEN $c.window_end ELSE $now + type::duration($window) END;
            UPSERT $c SET hits = $hits, window_end = $end;
            COMMIT TRANSACTION;
            RETURN { hits: $hits, window_end: $end };",
            json!({ "key": key, "window": format!("{window_seconds}s") }),
        )
        .await?;
        rows.last::<Row>()?
            .map(Window::from)
            .ok_or_else(|| DbError::Decode("counter missing after upsert".into()))
    })
    .await
}

/// The counter `key` while its window is open; `None` when there is none.
pub async fn current(db: &Db, key: &str) -> Result<Option<Window>, DbError> {
    let mut rows = run(
        db,
        "SELECT hits, window_end FROM type::record('rate_counter', $key)
            WHERE window_end > time::now();",
        json!({ "key": key }),
    )
    .await?;
    Ok(rows.first::<Row>(0)?.map(Window::from))
}

/// Sets counter `key` to one hit in a window of `seconds` from now: a fact that lasts that long.
/// Concurrent writes of one key collide; the write is idempotent, so it is retried.
pub async fn remember(db: &Db, key: &str, seconds: u64) -> Result<(), DbError> {
    with_conflict_retry("rate_counter", || async {
        run(
            db,
            "UPSERT type::record('rate_counter', $key)
                SET hits = 1, window_end = time::now() + type::duration($window);",
            json!({ "key": key, "window": format!("{seconds}s") }),
        )
        .await
        .map(|_| ())
    })
    .await
}

/// Deletes counter `key`; retried like [`remember`] when concurrent writes collide.
pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    with_conflict_retry("rate_counter", || async {
        run(
            db,
            "DELETE type::record('rate_counter', $key);",
            json!({ "key": key }),
        )
        .await
        .map(|_| ())
    })
    .await
}
