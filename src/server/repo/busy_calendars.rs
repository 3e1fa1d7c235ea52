//! A specialist's own calendars (`busy_calendar`): the secret address, what the last fetch
//! found (busy intervals, `ETag`, `Last-Modified`) and since when fetching fails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::server::busy_times::Busy;
use crate::server::db::{is_valid_key, run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};
use crate::server::repo::jobs::queue_statement;

/// Calendars one specialist may add.
pub const MAX_PER_SPECIALIST: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarRow {
    pub id: String,
    pub specialist: String,
    pub url: String,
    pub label: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    #[serde(default)]
    pub busy: Vec<Busy>,
}

const FIELDS: &str = "record::id(id) AS id, record::id(specialist) AS specialist, url, label,
    etag, last_modified, fetched_at, failing_since, last_error, busy";

/// Adds a calendar with the job that first fetches it, unless the specialist has
/// [`MAX_PER_SPECIALIST`] (`None` then).
pub async fn create(
    db: &Db,
    id: &str,
    specialist: &str,
    url: &str,
    label: Option<&str>,
) -> Result<Option<CalendarRow>, DbError> {
    let job = NewJob::busy_calendar_fetch(id, "added");
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $specialist);
        IF count((SELECT id FROM busy_calendar WHERE specialist = $user)) < {MAX_PER_SPECIALIST} {{
            CREATE type::record('busy_calendar', $id) CONTENT {{
                specialist: $user, url: $url, label: $label, busy: []
            }};
            {queue}
        }};
        COMMIT TRANSACTION;
        SELECT {FIELDS} FROM type::record('busy_calendar', $id);",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "id": id, "specialist": specialist, "url": url, "label": label,
        "jobs": jobs::bind(std::slice::from_ref(&job)),
    });
    with_conflict_retry("create_busy_calendar", || run(db, &sql, vars.clone()))
        .await?
        .last()
}

pub async fn of_specialist(db: &Db, specialist: &str) -> Result<Vec<CalendarRow>, DbError> {
    run(
        db,
        &format!(
            "SELECT {FIELDS}, created_at FROM busy_calendar
            WHERE specialist = type::record('user', $specialist) ORDER BY created_at"
        ),
        json!({ "specialist": specialist }),
    )
    .await?
    .all(0)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<CalendarRow>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    run(
        db,
        &format!("SELECT {FIELDS} FROM type::record('busy_calendar', $id)"),
        json!({ "id": id }),
    )
    .await?
    .first(0)
}

pub async fn all_ids(db: &Db) -> Result<Vec<String>, DbError> {
    run(
        db,
        "SELECT VALUE record::id(id) FROM busy_calendar",
        json!({}),
    )
    .await?
    .all(0)
}

/// Removes the specialist's calendar; whether it was theirs. Their offerings' sessions are made
/// again (the times it held are free now).
pub async fn delete(
    db: &Db,
    id: &str,
    specialist: &str,
    remakes: &[NewJob],
) -> Result<bool, DbError> {
    if !is_valid_key(id) {
        return Ok(false);
    }
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $gone = DELETE type::record('busy_calendar', $id)
            WHERE specialist = type::record('user', $specialist) RETURN BEFORE;
        IF array::len($gone) > 0 {{ {queue} }};
        COMMIT TRANSACTION;
        RETURN array::len($gone) > 0;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({ "id": id, "specialist": specialist, "jobs": jobs::bind(remakes) });
    let mut rows =
        with_conflict_retry("delete_busy_calendar", || run(db, &sql, vars.clone())).await?;
    Ok(rows.last::<bool>()?.unwrap_or(false))
}

/// What a fetch found.
pub enum Fetched<'a> {
    /// New busy times (with the validators to send next time), and the jobs that remake the
    /// specialist's offerings' sessions around them.
    Changed {
        busy: &'a [Busy],
        etag: Option<&'a str>,
        last_modified: Option<&'a str>,
        remakes: &'a [NewJob],
    },
    /// `304 Not Modified`, or the same times again.
    Unchanged,
    /// The fetch failed: the last busy times stay.
    Failed { error: &'a str },
}

pub async fn record_fetch(db: &Db, id: &str, fetched: Fetched<'_>) -> Result<(), DbError> {
    let (sql, vars) = match fetched {
        Fetched::Changed {
            busy,
            etag,
            last_modified,
            remakes,
        } => (
            format!(
                "BEGIN TRANSACTION;
                LET $updated = UPDATE type::record('busy_calendar', $id) SET
                    busy = array::map($busy, |$b| {{
                        start: type::datetime($b.start), end: type::datetime($b.end)
                    }}),
                    etag = $etag, last_modified = $last_modified, fetched_at = time::now(),
                    failing_since = NONE, last_error = NONE RETURN AFTER;
                IF array::len($updated) > 0 {{ {queue} }};
                COMMIT TRANSACTION;",
                queue = queue_statement("jobs")
            ),
            json!({
                "id": id,
                "busy": busy.iter().map(|b| json!({ "start": b.start, "end": b.end })).collect::<Vec<_>>(),
                "etag": etag, "last_modified": last_modified, "jobs": jobs::bind(remakes),
            }),
        ),
        Fetched::Unchanged => (
            "UPDATE type::record('busy_calendar', $id) SET fetched_at = time::now(),
                failing_since = NONE, last_error = NONE RETURN NONE"
                .to_string(),
            json!({ "id": id }),
        ),
        Fetched::Failed { error } => (
            "UPDATE type::record('busy_calendar', $id) SET
                failing_since = failing_since ?? time::now(), last_error = $error RETURN NONE"
                .to_string(),
            json!({ "id": id, "error": error }),
        ),
    };
    with_conflict_retry("record_busy_calendar_fetch", || run(db, &sql, vars.clone()))
        .await
        .map(|_| ())
}

/// The busy times of the specialist's calendars that touch `from`..`to`.
pub async fn busy_of(
    db: &Db,
    specialist: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>, DbError> {
    let rows: Vec<Vec<Busy>> = run(
        db,
        "SELECT VALUE array::filter(busy, |$b| $b.end > type::datetime($from)
                AND $b.start < type::datetime($to))
            FROM busy_calendar WHERE specialist = type::record('user', $specialist)",
        json!({ "specialist": specialist, "from": from, "to": to }),
    )
    .await?
    .all(0)?;
    Ok(rows.into_iter().flatten().collect())
}
