//! The `job` table: queue (inside the caller's transaction), claim with a lease, finish,
//! fail with back-off, cancel by key, and the operator's view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::server::db::{run, Db, DbError};
use crate::server::jobs::{self, backoff_seconds, JobKind, JobStatus, Lane, NewJob};

/// The job queued under `$key`, if any. `$key` is a plain parameter, which the planner reads
/// as a value and looks up in the index (a predicate on `$parent` or on a field of an array
/// parameter is planned as a scan of the whole table).
pub(crate) const JOB_WITH_KEY: &str = "SELECT id FROM job WHERE key = $key";

/// A SurrealQL fragment that queues the jobs bound as `$var` (see [`jobs::bind`]) inside the
/// caller's own `BEGIN … COMMIT`. A job whose key is queued already is skipped; the unique
/// index on the key settles a race between two transactions. An outgoing webhook event is
/// queued only for a specialist with an endpoint turned on (most have none).
pub fn queue_statement(var: &str) -> String {
    format!(
        "FOR $j IN ${var} {{
            LET $key = $j.key;
            LET $listener = IF $j.kind = 'webhook_event' THEN
                type::record('user', $j.payload.specialist_id) ELSE NONE END;
            LET $wanted = $listener = NONE OR array::len((SELECT id FROM webhook_endpoint
                WHERE user = $listener AND enabled = true LIMIT 1)) > 0;
            IF $wanted AND array::len(({JOB_WITH_KEY})) = 0 {{
                CREATE job CONTENT {{
                    kind: $j.kind, key: $j.key, payload: $j.payload, status: 'pending',
                    attempts: 0, run_at: time::now() + type::duration(string::concat($j.delay_seconds, 's')),
                }};
            }};
        }};"
    )
}

/// A SurrealQL fragment that queues the deletion of the meeting of the booking in `$var` (a
/// booking record read in the same transaction), when it has one: the meeting is read inside
/// the transaction, so a meeting saved a moment earlier is deleted too.
pub fn zoom_delete_statement(var: &str) -> String {
    format!(
        "IF ${var}.zoom_meeting != NONE {{
            LET $key = string::concat('{prefix}', ${var}.zoom_meeting.zoomMeetingId);
            -- A regular customer's shared meeting goes only with its last active booking.
            LET $shared_by = IF ${var}.zoom_meeting.recurring = true THEN
                array::len((SELECT id FROM booking
                    WHERE zoom_meeting.zoomMeetingId = ${var}.zoom_meeting.zoomMeetingId
                        AND status = 'active' AND id != ${var}.id))
                ELSE 0 END;
            IF $shared_by = 0 AND ${var}.zoom_meeting.recurring = true {{
                DELETE recurring_meeting WHERE meeting.zoomMeetingId = ${var}.zoom_meeting.zoomMeetingId;
            }};
            IF $shared_by = 0 AND array::len(({JOB_WITH_KEY})) = 0 {{
                CREATE job CONTENT {{
                    kind: 'zoom_delete', key: $key, status: 'pending', attempts: 0,
                    run_at: time::now(),
                    payload: {{ meeting_id: ${var}.zoom_meeting.zoomMeetingId, booking_id: record::id(${var}.id) }},
                }};
            }};
        }} ELSE {{
            {sweep}
        }};",
        prefix = jobs::ZOOM_DELETE_KEY_PREFIX,
        sweep = zoom_sweep_statement(var),
    )
}

/// A SurrealQL fragment that queues a sweep for the booking in `$var` when an earlier
/// creation's outcome is unknown: the meeting it may have made at Zoom is found and deleted.
pub fn zoom_sweep_statement(var: &str) -> String {
    format!(
        "IF ${var}.zoom_pending != NONE {{
            LET $key = string::concat('{prefix}', record::id(${var}.id));
            IF array::len(({JOB_WITH_KEY})) = 0 {{
                CREATE job CONTENT {{
                    kind: 'zoom_sweep', key: $key, status: 'pending', attempts: 0,
                    run_at: time::now(), payload: {{ booking_id: record::id(${var}.id) }},
                }};
            }};
        }};",
        prefix = jobs::ZOOM_SWEEP_KEY_PREFIX
    )
}

/// A SurrealQL fragment that cancels the pending jobs whose keys are bound as `$var`, one key
/// at a time: `key IN $list` is planned as a table scan beyond 32 keys (see `IN_LIST_LIMIT`).
pub fn cancel_statement(var: &str) -> String {
    format!(
        "FOR $cancelled IN ${var} {{
            UPDATE job SET status = 'cancelled', done_at = time::now()
                WHERE key = $cancelled AND status = 'pending';
        }};"
    )
}

/// Cancels the pending jobs with these keys (a job already running or done is left alone).
pub async fn cancel(db: &Db, keys: &[String]) -> Result<(), DbError> {
    run(db, &cancel_statement("keys"), json!({ "keys": keys }))
        .await
        .map(|_| ())
}

/// Queues jobs on their own (for changes with no transaction of their own).
pub async fn queue(db: &Db, new: &[NewJob]) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION; {} COMMIT TRANSACTION;",
        queue_statement("jobs")
    );
    run(db, &sql, json!({ "jobs": jobs::bind(new) }))
        .await
        .map(|_| ())
}

/// A job claimed by a worker.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: JobKind,
    pub key: String,
    pub payload: Value,
    pub attempts: u32,
}

/// The first pending jobs of a lane that are due, read in `run_at` order from the
/// `job_lane_due` index and stopped after five: a backlog of due jobs costs no more than an
/// empty queue, and a backlog in one lane is never read by the other. (One query with an `OR`
/// of the two cases fetched every due job on each claim: quadratic in a burst.)
pub(crate) fn due_pending(lane: Lane) -> String {
    format!(
        "SELECT VALUE record::id(id) FROM job WHERE status = 'pending' AND lane = '{}'
        AND run_at <= time::now() ORDER BY run_at LIMIT 5",
        lane.as_str()
    )
}

/// The first pending jobs of one kind that are due, from the `job_kind_due` index.
pub(crate) fn due_pending_of_kind(kind: JobKind) -> String {
    format!(
        "SELECT VALUE record::id(id) FROM job WHERE status = 'pending' AND kind = '{}'
        AND run_at <= time::now() ORDER BY run_at LIMIT 5",
        kind.as_str()
    )
}

/// Running jobs of a lane whose worker's lease ran out (a crashed or stopped worker): few at
/// any time.
pub(crate) fn lease_lapsed(lane: Lane) -> String {
    format!(
        "SELECT VALUE record::id(id) FROM job
        WHERE status = 'running' AND lane = '{}' AND lease_until < time::now() LIMIT 5",
        lane.as_str()
    )
}

/// Claims up to `most` due jobs of `lane` (pending and due, or running with a lapsed lease)
/// for `owner`, in one conditional write; none when nothing is due. Without `emails`, pending
/// emails and reminders are left for later (the mail server is out of reach), read around by
/// kind. Claimed together, a burst of jobs costs one read and one write per `most` jobs rather
/// than per job; should another worker write one of them meanwhile, the write conflicts and
/// they are claimed one by one, each going to whoever wrote it first.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    lease_seconds: u64,
    lane: Lane,
    emails: bool,
    most: usize,
) -> Result<Vec<ClaimedJob>, DbError> {
    let mut sql = if emails {
        due_pending(lane)
    } else {
        JobKind::ALL
            .into_iter()
            .filter(|k| k.lane() == lane && !k.sends_email())
            .map(due_pending_of_kind)
            .collect::<Vec<_>>()
            .join(";")
    };
    sql.push(';');
    sql.push_str(&lease_lapsed(lane));
    let mut rows = run(db, &sql, json!({})).await?;
    let mut due: Vec<String> = Vec::new();
    for list in 0..rows.count() {
        due.extend(rows.all::<String>(list)?);
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let first: Vec<&String> = due.iter().take(most).collect();
    match claim(db, owner, lease_seconds, &first).await {
        Err(DbError::Conflict) => {}
        claimed => return claimed,
    }
    let mut claimed = Vec::new();
    for id in &due {
        if claimed.len() == most {
            break;
        }
        match claim(db, owner, lease_seconds, &[id]).await {
            Ok(mut one) => claimed.append(&mut one),
            // Another worker wrote the row at the same moment: it is theirs.
            Err(DbError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(claimed)
}

/// Claims the jobs `ids` that are still due, in one statement; the ones that are not (another
/// worker claimed them first) are left out.
async fn claim(
    db: &Db,
    owner: &str,
    lease_seconds: u64,
    ids: &[&String],
) -> Result<Vec<ClaimedJob>, DbError> {
    run(
        db,
        "UPDATE array::map($ids, |$id| type::record('job', $id))
            SET status = 'running', lease_owner = $owner, attempts += 1,
                lease_until = time::now() + type::duration($lease)
            WHERE (status = 'pending' AND run_at <= time::now())
               OR (status = 'running' AND lease_until < time::now())
            RETURN record::id(id) AS id, kind, key, payload, attempts;",
        json!({ "ids": ids, "owner": owner, "lease": format!("{lease_seconds}s") }),
    )
    .await?
    .all(0)
}

/// Extends a running job's lease from now, while `owner` still holds it; whether it does.
pub async fn renew(db: &Db, id: &str, owner: &str, lease_seconds: u64) -> Result<bool, DbError> {
    let mut rows = run(
        db,
        "UPDATE type::record('job', $id) SET lease_until = time::now() + type::duration($lease)
            WHERE lease_owner = $owner AND status = 'running' RETURN VALUE record::id(id);",
        json!({ "id": id, "owner": owner, "lease": format!("{lease_seconds}s") }),
    )
    .await?;
    Ok(rows.first::<String>(0)?.is_some())
}

pub async fn mark_done(db: &Db, id: &str, owner: &str) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('job', $id)
            SET status = 'done', done_at = time::now(), lease_until = NONE, last_error = NONE
            WHERE lease_owner = $owner AND status = 'running';",
        json!({ "id": id, "owner": owner }),
    )
    .await
    .map(|_| ())
}

/// Records a failed attempt: pending again after a back-off, or `failed` for good.
pub async fn mark_failed(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    attempts: u32,
    max_attempts: u32,
) -> Result<(), DbError> {
    let give_up = attempts >= max_attempts;
    run(
        db,
        "UPDATE type::record('job', $id)
            SET status = $status, last_error = $error, lease_until = NONE,
                run_at = time::now() + type::duration($delay)
            WHERE lease_owner = $owner AND status = 'running';",
        json!({
            "id": id, "owner": owner, "error": error,
            "status": if give_up { JobStatus::Failed } else { JobStatus::Pending },
            "delay": format!("{}s", backoff_seconds(attempts)),
        }),
    )
    .await
    .map(|_| ())
}

/// Puts a claimed job back, due again in `wait`, with the claim's attempt given back: it did
/// not fail, something it needs (the mail server) was out of reach.
pub async fn defer(
    db: &Db,
    id: &str,
    owner: &str,
    wait: std::time::Duration,
    reason: &str,
) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('job', $id)
            SET status = 'pending', attempts -= 1, last_error = $reason, lease_until = NONE,
                run_at = time::now() + type::duration($wait)
            WHERE lease_owner = $owner AND status = 'running';",
        json!({
            "id": id, "owner": owner, "reason": reason,
            "wait": format!("{}ms", wait.as_millis().max(1)),
        }),
    )
    .await
    .map(|_| ())
}

/// A job as an operator (and the tests) see it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct JobRow {
    pub id: String,
    pub kind: JobKind,
    pub key: String,
    pub status: JobStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub run_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// How many jobs are pending, running and failed for good (each counted on the `job_due` index).
pub async fn depth(db: &Db) -> Result<Vec<(&'static str, u64)>, DbError> {
    #[derive(serde::Deserialize)]
    struct Count {
        n: u64,
    }
    const STATUSES: [&str; 3] = ["pending", "running", "failed"];
    let sql: String = STATUSES
        .iter()
        .map(|s| format!("SELECT count() AS n FROM job WHERE status = '{s}' GROUP ALL;"))
        .collect();
    let mut rows = run(db, &sql, json!({})).await?;
    STATUSES
        .iter()
        .enumerate()
        .map(|(i, status)| Ok((*status, rows.first::<Count>(i)?.map_or(0, |c| c.n))))
        .collect()
}

/// Every job, oldest first; only the failed ones with `failed_only`.
pub async fn list(db: &Db, failed_only: bool) -> Result<Vec<JobRow>, DbError> {
    let filter = if failed_only {
        "WHERE status = 'failed'"
    } else {
        ""
    };
    let sql = format!(
        "SELECT record::id(id) AS id, kind, key, status, attempts, last_error, run_at, done_at, created_at
         FROM job {filter} ORDER BY created_at"
    );
    run(db, &sql, json!({})).await?.all(0)
}

/// Puts a failed job back in the queue, due now, with a fresh count of attempts.
pub async fn retry(db: &Db, id: &str) -> Result<bool, DbError> {
    let mut rows = run(
        db,
        "UPDATE type::record('job', $id)
            SET status = 'pending', attempts = 0, run_at = time::now(), lease_until = NONE
            WHERE status = 'failed' RETURN VALUE record::id(id);",
        json!({ "id": id }),
    )
    .await?;
    Ok(rows.first::<String>(0)?.is_some())
}
