//! Recurring links: the one Zoom meeting with no fixed time a specialist shares with a
//! regular customer (`recurring_meeting`, one per pair).

use serde::Deserialize;
use serde_json::json;

use super::bookings::{BookingRow, StoredMeeting};
use crate::server::db::{run, Db, DbError};

fn pair_id(specialist: &str, customer: &str) -> String {
    format!("{specialist}_{customer}")
}

/// Whether the booking's customer booked this specialist before this booking (a moved
/// booking counts once: its earlier place is not another booking).
pub async fn is_returning(
    db: &Db,
    booking: &BookingRow,
    specialist: &str,
) -> Result<bool, DbError> {
    let earlier: Vec<serde_json::Value> = run(
        db,
        "SELECT id FROM booking WHERE customer = type::record('user', $customer)
            AND booked_at < type::datetime($booked_at) AND status != 'rescheduled'
            AND slot.specialist = type::record('user', $specialist) LIMIT 1",
        json!({
            "customer": booking.customer, "booked_at": booking.booked_at, "specialist": specialist,
        }),
    )
    .await?
    .all(0)?;
    Ok(!earlier.is_empty())
}

#[derive(Deserialize)]
struct Shared {
    meeting: StoredMeeting,
    host_id: Option<String>,
}

/// The pair's shared meeting, with its Zoom host, if there is one.
pub async fn meeting_of(
    db: &Db,
    specialist: &str,
    customer: &str,
) -> Result<Option<(StoredMeeting, Option<String>)>, DbError> {
    let shared: Option<Shared> = run(
        db,
        "SELECT meeting, host_id FROM type::record('recurring_meeting', $id)",
        json!({ "id": pair_id(specialist, customer) }),
    )
    .await?
    .first(0)?;
    Ok(shared.map(|s| (s.meeting, s.host_id)))
}

/// Keeps `meeting` as the pair's shared one, unless another was kept first (two bookings at
/// once): then that one is returned, and `meeting` is the caller's to delete.
pub async fn remember(
    db: &Db,
    specialist: &str,
    customer: &str,
    meeting: &StoredMeeting,
    host_id: Option<&str>,
) -> Result<Option<(StoredMeeting, Option<String>)>, DbError> {
    let created = run(
        db,
        "CREATE type::record('recurring_meeting', $id) CONTENT {
            specialist: type::record('user', $specialist), customer: type::record('user', $customer),
            meeting: {
                zoomMeetingId: $m.zoomMeetingId, joinUrl: $m.joinUrl, startUrl: $m.startUrl,
                password: $m.password, createdAt: type::datetime($m.createdAt), recurring: true
            },
            host_id: $host_id
        } RETURN NONE",
        json!({
            "id": pair_id(specialist, customer), "specialist": specialist, "customer": customer,
            "m": meeting, "host_id": host_id,
        }),
    )
    .await;
    match created {
        Ok(_) => Ok(None),
        Err(DbError::Conflict) | Err(DbError::Other(_)) => {
            match meeting_of(db, specialist, customer).await? {
                Some(existing) if existing.0.zoom_meeting_id != meeting.zoom_meeting_id => {
                    Ok(Some(existing))
                }
                Some(_) => Ok(None),
                None => Err(DbError::Conflict),
            }
        }
        Err(e) => Err(e),
    }
}

/// Forgets the shared meeting `meeting_id` (deleted in Zoom).
pub async fn forget(db: &Db, meeting_id: &str) -> Result<(), DbError> {
    run(
        db,
        "DELETE recurring_meeting WHERE meeting.zoomMeetingId = $meeting",
        json!({ "meeting": meeting_id }),
    )
    .await
    .map(|_| ())
}
