//! Cloud recording files (`recording`): queued for copying when Zoom says they are ready,
//! stored, listed for their booking, and deleted after their retention.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::jobs::queue_statement;
use super::rows_for_records;
use crate::model::RecordingView;
use crate::server::db::{run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// A file to copy, as its row is created.
#[derive(Debug, Clone, Serialize)]
pub struct NewRecording {
    pub id: String,
    pub file_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_type: Option<String>,
    pub extension: String,
    pub content_type: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_start: Option<DateTime<Utc>>,
    pub object_key: String,
}

/// Creates the rows of a recording's files (those not known yet) with the jobs that copy
/// them, in one transaction.
pub async fn create_pending(
    db: &Db,
    booking_id: &str,
    meeting_id: &str,
    files: &[NewRecording],
    jobs: &[NewJob],
) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        FOR $f IN $files {{
            IF !record::exists(type::record('recording', $f.id)) {{
                CREATE type::record('recording', $f.id) CONTENT {{
                    booking: type::record('booking', $booking), meeting: $meeting,
                    file_type: $f.file_type, recording_type: $f.recording_type,
                    extension: $f.extension, content_type: $f.content_type, size: $f.size,
                    recording_start: IF $f.recording_start THEN type::datetime($f.recording_start) END,
                    status: 'pending', object_key: $f.object_key
                }};
            }};
        }};
        {queue}
        COMMIT TRANSACTION;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "booking": booking_id, "meeting": meeting_id, "files": files, "jobs": jobs::bind(jobs),
    });
    with_conflict_retry("create_recordings", || run(db, &sql, vars.clone()))
        .await
        .map(|_| ())
}

/// A recording as its download needs it: where it is and who may have it.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordingRow {
    pub id: String,
    pub customer: String,
    pub specialist: String,
    pub content_type: String,
    pub extension: String,
    pub size: u64,
    pub status: String,
    pub object_key: String,
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<RecordingRow>, DbError> {
    if !crate::server::db::is_valid_key(id) {
        return Ok(None);
    }
    run(
        db,
        "SELECT record::id(id) AS id, record::id(booking.customer) AS customer,
            record::id(booking.slot.specialist) AS specialist, content_type, extension, size,
            status, object_key
        FROM type::record('recording', $id)",
        json!({ "id": id }),
    )
    .await?
    .first(0)
}

/// The file is in the store now, `size` bytes.
pub async fn mark_stored(db: &Db, id: &str, size: u64) -> Result<(), DbError> {
    with_conflict_retry("mark_recording_stored", || {
        run(
            db,
            "UPDATE type::record('recording', $id)
                SET status = 'stored', size = $size, stored_at = time::now();",
            json!({ "id": id, "size": size }),
        )
    })
    .await
    .map(|_| ())
}

/// A stored recording as listed with its booking (see [`STORED_RECORDING_FIELDS`]).
#[derive(Deserialize)]
pub(crate) struct StoredRecording {
    booking: String,
    id: String,
    file_type: String,
    content_type: String,
    size: u64,
    recording_start: Option<DateTime<Utc>>,
}

/// The stored recordings of the bookings `ids`, as `(booking id, view)`, oldest first.
pub async fn of_bookings(db: &Db, ids: &[&str]) -> Result<Vec<(String, RecordingView)>, DbError> {
    let rows: Vec<StoredRecording> = rows_for_records(
        db,
        "booking",
        &format!(
            "SELECT {STORED_RECORDING_FIELDS} FROM recording
            WHERE booking IN $records AND status = 'stored' ORDER BY created_at"
        ),
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(StoredRecording::into_view).collect())
}

/// The fields [`StoredRecording`] reads.
pub(crate) const STORED_RECORDING_FIELDS: &str = "record::id(booking) AS booking,
    record::id(id) AS id, file_type, content_type, size, recording_start, created_at";

impl StoredRecording {
    /// The booking's id and the recording as its pages show it.
    pub(crate) fn into_view(self) -> (String, RecordingView) {
        let url = format!("/api/recordings/{}", self.id);
        (
            self.booking,
            RecordingView {
                id: self.id,
                file_type: self.file_type,
                content_type: self.content_type,
                size: self.size,
                recording_start: self.recording_start,
                url,
            },
        )
    }
}

/// Stored recordings past their retention, a batch at a time: `(id, object key)`.
pub async fn expired(
    db: &Db,
    retention: std::time::Duration,
) -> Result<Vec<(String, String)>, DbError> {
    #[derive(Deserialize)]
    struct Expired {
        id: String,
        object_key: String,
    }
    let rows: Vec<Expired> = run(
        db,
        "SELECT record::id(id) AS id, object_key FROM recording
        WHERE status = 'stored' AND stored_at < time::now() - type::duration($age) LIMIT 100",
        json!({ "age": format!("{}s", retention.as_secs()) }),
    )
    .await?
    .all(0)?;
    Ok(rows.into_iter().map(|r| (r.id, r.object_key)).collect())
}

pub async fn delete(db: &Db, id: &str) -> Result<(), DbError> {
    run(
        db,
        "DELETE type::record('recording', $id);",
        json!({ "id": id }),
    )
    .await
    .map(|_| ())
}
