//! Feedback links (`feedback_request`) and the answers given through them.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::jobs::queue_statement;
use super::refused;
use crate::model::{Feedback, FeedbackInvite, FeedbackItem};
use crate::server::db::{run, with_conflict_retry, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// Creates the booking's feedback link (`link_id`: the hash of its token) with the email that
/// carries it, unless the booking has one already. Returns whether it was created.
pub async fn create(
    db: &Db,
    link_id: &str,
    booking_id: &str,
    specialist_id: &str,
    expires_at: DateTime<Utc>,
    email: &NewJob,
) -> Result<bool, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $booking = type::record('booking', $booking_id);
        LET $fresh = array::len((SELECT id FROM feedback_request WHERE booking = $booking)) = 0;
        IF $fresh {{
            CREATE type::record('feedback_request', $id) CONTENT {{
                booking: $booking, specialist: type::record('user', $specialist),
                expires_at: type::datetime($expires_at)
            }};
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN $fresh;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "id": link_id, "booking_id": booking_id, "specialist": specialist_id,
        "expires_at": expires_at, "jobs": jobs::bind(std::slice::from_ref(email)),
    });
    let result = with_conflict_retry("create_feedback_link", || run(db, &sql, vars.clone())).await;
    match result {
        Ok(mut rows) => Ok(rows.last::<bool>()?.unwrap_or(false)),
        // Another instance created it at the same moment.
        Err(DbError::Unique { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The session a live link asks about; `None` for an unknown or expired link.
pub async fn invite(db: &Db, link_id: &str) -> Result<Option<FeedbackInvite>, DbError> {
    if !link_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    run(
        db,
        "SELECT booking.slot.title AS slotTitle, booking.slot.specialist.name AS specialistName,
            booking.slot.starts_at AS startsAt, booking.feedback AS given
        FROM type::record('feedback_request', $id) WHERE expires_at > time::now()",
        json!({ "id": link_id }),
    )
    .await?
    .first(0)
}

/// Why an answer was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitRefusal {
    Unknown,
    AlreadyGiven,
}

impl SubmitRefusal {
    const ALL: [Self; 2] = [Self::Unknown, Self::AlreadyGiven];

    fn tag(self) -> &'static str {
        match self {
            Self::Unknown => "feedback:unknown",
            Self::AlreadyGiven => "feedback:given",
        }
    }
}

/// Stores the answer of a live link, once: a second answer (even at the same moment) is
/// refused.
pub async fn submit(
    db: &Db,
    link_id: &str,
    rating: u8,
    comment: Option<&str>,
) -> Result<Result<(), SubmitRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $r = (SELECT * FROM type::record('feedback_request', $id) WHERE expires_at > time::now())[0];
        IF $r = NONE {{ THROW '{unknown}'; }};
        IF $r.given_at != NONE {{ THROW '{given}'; }};
        LET $now = time::now();
        UPDATE $r.id SET rating = $rating, comment = $comment, given_at = $now;
        UPDATE $r.booking SET feedback = {{ rating: $rating, comment: $comment, givenAt: $now }};
        COMMIT TRANSACTION;",
        unknown = SubmitRefusal::Unknown.tag(),
        given = SubmitRefusal::AlreadyGiven.tag(),
    );
    let vars = json!({ "id": link_id, "rating": rating, "comment": comment });
    match with_conflict_retry("submit_feedback", || run(db, &sql, vars.clone())).await {
        Ok(_) => Ok(Ok(())),
        Err(e) => refused(e, &SubmitRefusal::ALL, SubmitRefusal::tag),
    }
}

#[derive(Deserialize)]
struct Answer {
    slot_id: String,
    booking_index: u32,
    slot_title: String,
    starts_at: DateTime<Utc>,
    customer_name: String,
    rating: u8,
    comment: Option<String>,
    given_at: DateTime<Utc>,
}

/// Every answer a specialist was given, latest first.
pub async fn of_specialist(db: &Db, specialist_id: &str) -> Result<Vec<FeedbackItem>, DbError> {
    let answers: Vec<Answer> = run(
        db,
        "SELECT record::id(booking.slot) AS slot_id, booking.index AS booking_index,
            booking.slot.title AS slot_title, booking.slot.starts_at AS starts_at,
            booking.customer_name AS customer_name, rating, comment, given_at
        FROM feedback_request
        WHERE specialist = type::record('user', $specialist) AND given_at != NONE
        ORDER BY given_at DESC",
        json!({ "specialist": specialist_id }),
    )
    .await?
    .all(0)?;
    Ok(answers
        .into_iter()
        .map(|a| FeedbackItem {
            slot_id: a.slot_id,
            booking_index: a.booking_index,
            slot_title: a.slot_title,
            starts_at: a.starts_at,
            customer_name: a.customer_name,
            feedback: Feedback {
                rating: a.rating,
                comment: a.comment,
                given_at: a.given_at,
            },
        })
        .collect())
}
