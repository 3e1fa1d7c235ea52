//! What Zoom reported of a booking's meeting (`attendance_point`) and the summary folded from
//! it onto the booking.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::jobs::queue_statement;
use crate::model::{Attendance, Outcome};
use crate::server::db::{run, with_conflict_retry, Db, DbError};
use crate::server::domain::attendance::{self, Point};
use crate::server::jobs::{self, NewJob};

#[derive(Serialize)]
struct PointRow<'a> {
    id: String,
    #[serde(flatten)]
    point: &'a Point,
}

/// A point's record key: the same report (from a webhook or the past-participants report, or
/// delivered twice) is the same record.
fn key(booking_id: &str, meeting_id: &str, p: &Point) -> String {
    let text = format!(
        "{booking_id}|{meeting_id}|{:?}|{}|{:?}|{}",
        p.role,
        p.participant,
        p.kind,
        p.at.timestamp()
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// Records `points` for the booking's meeting (a repeat changes nothing) and folds every
/// point of the booking into its attendance and outcome. Returns the outcome when this call
/// changed it (the feedback link goes out once, whichever fold makes it "attended").
pub async fn record(
    db: &Db,
    booking_id: &str,
    meeting_id: &str,
    points: &[Point],
    when_changed: impl Fn(Outcome) -> Vec<NewJob>,
) -> Result<Option<Outcome>, DbError> {
    let rows: Vec<PointRow> = points
        .iter()
        .map(|point| PointRow {
            id: key(booking_id, meeting_id, point),
            point,
        })
        .collect();
    with_conflict_retry("record_attendance", || {
        run(
            db,
            "FOR $p IN $points {
                UPSERT type::record('attendance_point', $p.id) CONTENT {
                    booking: type::record('booking', $booking), meeting: $meeting, role: $p.role,
                    participant: $p.participant, kind: $p.kind, at: type::datetime($p.at)
                };
            };",
            json!({ "points": rows, "booking": booking_id, "meeting": meeting_id }),
        )
    })
    .await?;
    refold(db, booking_id, when_changed).await
}

/// Reads every point of the booking and writes the fold, unless a fold of more points got
/// there first (points only accumulate, so more points is the more complete summary).
/// `when_changed` gives the jobs to queue, in the same transaction, when the outcome changes.
async fn refold(
    db: &Db,
    booking_id: &str,
    when_changed: impl Fn(Outcome) -> Vec<NewJob>,
) -> Result<Option<Outcome>, DbError> {
    let points: Vec<Point> = run(
        db,
        "SELECT role, participant, kind, at FROM attendance_point
            WHERE booking = type::record('booking', $booking)",
        json!({ "booking": booking_id }),
    )
    .await?
    .all(0)?;
    let (summary, outcome): (Option<Attendance>, Option<Outcome>) = attendance::fold(&points);
    #[derive(serde::Deserialize)]
    struct Before {
        outcome: Option<Outcome>,
    }
    let follow_up = outcome.map(&when_changed).unwrap_or_default();
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $a = $attendance;
        LET $before = UPDATE type::record('booking', $booking)
                SET attendance = IF $a != NONE THEN {{
                        customerJoinedAt: IF $a.customerJoinedAt THEN type::datetime($a.customerJoinedAt) END,
                        customerLeftAt: IF $a.customerLeftAt THEN type::datetime($a.customerLeftAt) END,
                        customerMinutes: $a.customerMinutes,
                        hostJoinedAt: IF $a.hostJoinedAt THEN type::datetime($a.hostJoinedAt) END,
                    }} END,
                    outcome = $outcome, attendance_points = $n
                WHERE attendance_points < $n
                RETURN BEFORE;
        IF array::len($before) > 0 AND $outcome != NONE AND $before[0].outcome != $outcome {{
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN $before[0];",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "booking": booking_id, "attendance": summary, "outcome": outcome,
        "n": points.len(), "jobs": jobs::bind(&follow_up),
    });
    // NONE when the fold had nothing new (no more points than the booking holds): an event
    // repeated or arriving after a later one, which is no failure.
    let before: Option<Before> =
        with_conflict_retry("fold_attendance", || run(db, &sql, vars.clone()))
            .await?
            .last::<Option<Before>>()?
            .flatten();
    // A fold of fewer points may have said "no show" before the customer's join arrived.
    Ok(match (before, outcome) {
        (Some(before), Some(now)) if before.outcome != Some(now) => Some(now),
        _ => None,
    })
}

/// Whether Zoom reported anything of the booking's meeting yet, and whether its end.
pub async fn reported(db: &Db, booking_id: &str) -> Result<(bool, bool), DbError> {
    #[derive(serde::Deserialize)]
    struct Seen {
        any: bool,
        ended: bool,
    }
    let seen: Option<Seen> = run(
        db,
        "LET $kinds = (SELECT VALUE kind FROM attendance_point
            WHERE booking = type::record('booking', $booking));
        RETURN { any: array::len($kinds) > 0, ended: 'end' IN $kinds };",
        json!({ "booking": booking_id }),
    )
    .await?
    .first(1)?;
    Ok(seen.map_or((false, false), |s| (s.any, s.ended)))
}
