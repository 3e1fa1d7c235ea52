//! Rows as stored in SurrealDB and the queries that read and write them.

pub mod api_tokens;
pub mod appointment;
pub mod attendance;
pub mod bookings;
pub mod busy_calendars;
pub mod calendar;
pub mod cleanup;
pub mod counters;
pub mod email_changes;
pub mod feedback;
pub mod grants;
pub mod guests;
pub mod handles;
pub mod idempotency;
pub mod jobs;
pub mod offerings;
pub mod password_resets;
#[cfg(test)]
mod plans;
pub mod recordings;
pub mod recurring;
pub mod sessions;
pub mod slot_row;
pub mod slots;
pub mod users;
pub mod verifications;
pub mod waitlist;
pub mod webhooks;
pub mod zoom_events;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::server::db::{run, Db, DbError};

/// SurrealDB 3.3 plans `field IN $list` as index lookups for up to 32 values and as a scan of
/// the whole table beyond that (its own EXPLAIN, checked in `plans`), so longer lists are
/// read in chunks of this size.
pub(crate) const IN_LIST_LIMIT: usize = 32;

/// The rows of `select` (one statement reading `$list`) for every value of `list`, in chunks
/// of at most [`IN_LIST_LIMIT`] values sent in one request.
pub(crate) async fn rows_for_list<T: DeserializeOwned, V: Serialize>(
    db: &Db,
    select: &str,
    list: &[V],
) -> Result<Vec<T>, DbError> {
    rows_in_chunks(db, "", select, list).await
}

/// Like [`rows_for_list`] for a `select` reading `$records`: the records of `table` whose ids
/// are in `ids`.
pub(crate) async fn rows_for_records<T: DeserializeOwned>(
    db: &Db,
    table: &str,
    select: &str,
    ids: &[&str],
) -> Result<Vec<T>, DbError> {
    let setup = format!("LET $records = array::map($list, |$id| type::record('{table}', $id));");
    rows_in_chunks(db, &setup, select, ids).await
}

async fn rows_in_chunks<T: DeserializeOwned, V: Serialize>(
    db: &Db,
    setup: &str,
    select: &str,
    list: &[V],
) -> Result<Vec<T>, DbError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let chunks: Vec<&[V]> = list.chunks(IN_LIST_LIMIT).collect();
    let mut sql = String::new();
    let mut vars = serde_json::Map::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let name = |text: &str| {
            text.replace("$list", &format!("$list{i}"))
                .replace("$records", &format!("$records{i}"))
        };
        sql.push_str(&format!("{} {};\n", name(setup), name(select)));
        vars.insert(format!("list{i}"), serde_json::json!(chunk));
    }
    let mut rows = run(db, &sql, serde_json::Value::Object(vars)).await?;
    let per_chunk = if setup.is_empty() { 1 } else { 2 };
    let mut all = Vec::new();
    for i in 0..chunks.len() {
        all.extend(rows.all::<T>(i * per_chunk + per_chunk - 1)?);
    }
    Ok(all)
}

/// Turns a `THROW` of one of `refusals` (found by its tag) into that refusal; any other error
/// stays an error. The only place outside `db` that reads thrown messages.
fn refused<T, R: Copy>(
    error: DbError,
    refusals: &[R],
    tag: impl Fn(R) -> &'static str,
) -> Result<Result<T, R>, DbError> {
    if let DbError::Thrown(message) = &error {
        if let Some(r) = refusals.iter().find(|r| message.contains(tag(**r))) {
            return Ok(Err(*r));
        }
        return Err(DbError::Other(format!("unexpected THROW: {message}")));
    }
    Err(error)
}
