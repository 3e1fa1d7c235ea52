//! Offerings (`offering`) and the sessions made from their schedules: slots with an `offering`,
//! whose record key is derived from the offering and the start, so two instances making the
//! same session make one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::slot_row::{SlotFields, SlotRow, SLOT_FIELDS};
use crate::server::db::{binding, is_valid_key, run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};
use crate::server::repo::jobs::queue_statement;

/// Offerings one specialist may have.
pub const MAX_PER_SPECIALIST: usize = 20;

/// An offering as stored; `schedule` is the schedule's JSON as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferingRow {
    pub id: String,
    pub specialist: String,
    pub title: String,
    pub description: Option<String>,
    pub duration: u32,
    pub capacity: u32,
    pub schedule: String,
    pub version: u32,
}

const OFFERING_FIELDS: &str = "record::id(id) AS id, record::id(specialist) AS specialist,
    title, description, duration, capacity, schedule, version";

/// What a specialist writes; validated by the service.
#[derive(Debug, Clone, Serialize)]
pub struct OfferingFields {
    pub title: String,
    pub description: Option<String>,
    pub duration: u32,
    pub capacity: u32,
    pub schedule: String,
    /// The schedule's buffers, in minutes, kept beside it for the booking's busy-time check.
    pub buffer_before: u32,
    pub buffer_after: u32,
}

/// The record key of the session of `offering` starting at `start`.
pub fn session_key(offering: &str, start: DateTime<Utc>) -> String {
    let hash = hex::encode(Sha256::digest(
        format!("{offering}|{}", start.timestamp()).as_bytes(),
    ));
    format!("g{}", &hash[..19])
}

/// Creates an offering with the job that makes its sessions, unless the specialist has
/// [`MAX_PER_SPECIALIST`] already (`None` then).
pub async fn create(
    db: &Db,
    id: &str,
    specialist: &str,
    fields: &OfferingFields,
) -> Result<Option<OfferingRow>, DbError> {
    let job = NewJob::offering_sessions(id, "made");
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $specialist);
        IF count((SELECT id FROM offering WHERE specialist = $user)) < {MAX_PER_SPECIALIST} {{
            CREATE type::record('offering', $id) CONTENT {{
                specialist: $user, title: $f.title, description: $f.description,
                duration: $f.duration, capacity: $f.capacity, schedule: $f.schedule,
                buffer_before: $f.buffer_before, buffer_after: $f.buffer_after, version: 0
            }};
            {queue}
        }};
        COMMIT TRANSACTION;
        SELECT {OFFERING_FIELDS} FROM type::record('offering', $id);",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "id": id, "specialist": specialist, "f": binding(fields),
        "jobs": jobs::bind(std::slice::from_ref(&job)),
    });
    with_conflict_retry("create_offering", || run(db, &sql, vars.clone()))
        .await?
        .last()
}

/// Replaces the specialist's offering `id` and queues the remaking of its sessions; the
/// offering as it is now, or `None` when it is not theirs.
pub async fn update(
    db: &Db,
    id: &str,
    specialist: &str,
    fields: &OfferingFields,
) -> Result<Option<OfferingRow>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    let job = NewJob::offering_sessions(id, Utc::now().timestamp_micros());
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $updated = UPDATE type::record('offering', $id) SET title = $f.title,
            description = $f.description, duration = $f.duration, capacity = $f.capacity,
            schedule = $f.schedule, buffer_before = $f.buffer_before,
            buffer_after = $f.buffer_after, version += 1
            WHERE specialist = type::record('user', $specialist) RETURN AFTER;
        IF array::len($updated) > 0 {{
            {queue}
        }};
        COMMIT TRANSACTION;
        SELECT {OFFERING_FIELDS} FROM type::record('offering', $id)
            WHERE specialist = type::record('user', $specialist);",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "id": id, "specialist": specialist, "f": binding(fields),
        "jobs": jobs::bind(std::slice::from_ref(&job)),
    });
    with_conflict_retry("update_offering", || run(db, &sql, vars.clone()))
        .await?
        .last()
}

/// Removes the specialist's offering with its future sessions nobody booked; booked ones stay,
/// as slots of their own. Whether it was theirs.
pub async fn delete(db: &Db, id: &str, specialist: &str) -> Result<bool, DbError> {
    if !is_valid_key(id) {
        return Ok(false);
    }
    let mut rows = run(
        db,
        "BEGIN TRANSACTION;
        LET $offering = type::record('offering', $id);
        LET $gone = DELETE $offering WHERE specialist = type::record('user', $specialist)
            RETURN BEFORE;
        IF array::len($gone) > 0 {
            DELETE slot WHERE offering = $offering AND next_index = 0 AND starts_at > time::now();
            UPDATE slot SET offering = NONE WHERE offering = $offering;
        };
        COMMIT TRANSACTION;
        RETURN array::len($gone) > 0;",
        json!({ "id": id, "specialist": specialist }),
    )
    .await?;
    Ok(rows.last::<bool>()?.unwrap_or(false))
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<OfferingRow>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    run(
        db,
        &format!("SELECT {OFFERING_FIELDS} FROM type::record('offering', $id)"),
        json!({ "id": id }),
    )
    .await?
    .first(0)
}

pub async fn of_specialist(db: &Db, specialist: &str) -> Result<Vec<OfferingRow>, DbError> {
    run(
        db,
        &format!(
            "SELECT {OFFERING_FIELDS}, created_at FROM offering
            WHERE specialist = type::record('user', $specialist) ORDER BY created_at"
        ),
        json!({ "specialist": specialist }),
    )
    .await?
    .all(0)
}

/// Every offering's id, for the hourly roll of the horizon.
pub async fn all_ids(db: &Db) -> Result<Vec<String>, DbError> {
    run(db, "SELECT VALUE record::id(id) FROM offering", json!({}))
        .await?
        .all(0)
}

/// A session of the specialist in a span of time: what a new one must not overlap.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub id: String,
    pub offering: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub duration: u32,
    pub title: String,
    pub description: Option<String>,
    pub capacity: u32,
    /// Booked at least once (a booking, even cancelled, refers to it).
    pub ever_booked: bool,
}

/// The specialist's sessions (not cancelled) starting between `from` and `to`.
pub async fn sessions_between(
    db: &Db,
    specialist: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Session>, DbError> {
    run(
        db,
        "SELECT record::id(id) AS id, IF offering != NONE THEN record::id(offering) END AS offering,
            starts_at, duration, title, description, capacity, next_index > 0 AS ever_booked
        FROM slot WHERE specialist = type::record('user', $specialist) AND cancelled_at = NONE
            AND starts_at >= type::datetime($from) AND starts_at < type::datetime($to)
        ORDER BY starts_at",
        json!({ "specialist": specialist, "from": from, "to": to }),
    )
    .await?
    .all(0)
}

/// The offering's future sessions with bookings, as full rows.
pub async fn booked_sessions(db: &Db, offering: &str) -> Result<Vec<SlotRow>, DbError> {
    run(
        db,
        &format!(
            "SELECT {SLOT_FIELDS} FROM slot WHERE offering = type::record('offering', $offering)
                AND cancelled_at = NONE AND next_index > 0 AND starts_at > time::now()
            ORDER BY starts_at"
        ),
        json!({ "offering": offering }),
    )
    .await?
    .all(0)
}

/// Makes the offering's sessions what its schedule says: removes `stale` (if still never
/// booked) and creates `new` (each unless its key exists), in one transaction. Run twice, or by
/// two instances at once, it makes each session once.
pub async fn remake_sessions(
    db: &Db,
    offering: &str,
    specialist: &str,
    stale: &[String],
    new: &[(String, SlotFields)],
) -> Result<(), DbError> {
    if stale.is_empty() && new.is_empty() {
        return Ok(());
    }
    let new: Vec<serde_json::Value> = new
        .iter()
        .map(|(id, f)| json!({ "id": id, "f": binding(f) }))
        .collect();
    let sql = "BEGIN TRANSACTION;
        LET $offering = type::record('offering', $offering_id);
        IF array::len((SELECT id FROM $offering)) > 0 {
            FOR $id IN $stale {
                DELETE type::record('slot', $id) WHERE offering = $offering AND next_index = 0;
            };
            FOR $s IN $new {
                LET $record = type::record('slot', $s.id);
                IF array::len((SELECT id FROM $record)) = 0 {
                    CREATE $record SET specialist = type::record('user', $specialist),
                        offering = $offering, title = $s.f.title, description = $s.f.description,
                        date = $s.f.date, start_time = $s.f.start_time, timezone = $s.f.timezone,
                        starts_at = type::datetime($s.f.starts_at), duration = $s.f.duration,
                        capacity = $s.f.capacity, booked = 0, next_index = 0, schedule_version = 0;
                };
            };
        };
        COMMIT TRANSACTION;";
    let vars = json!({
        "offering_id": offering, "specialist": specialist, "stale": stale, "new": new,
    });
    with_conflict_retry("remake_offering_sessions", || run(db, sql, vars.clone()))
        .await
        .map(|_| ())
}
