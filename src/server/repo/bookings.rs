use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{BookingView, ZoomMeetingView};
use crate::server::db::{run, Db, DbError};
use crate::server::mail::outbox;
use crate::server::mail::OutgoingEmail;

/// The meeting as stored on a booking: exactly the spec's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMeeting {
    pub zoom_meeting_id: String,
    pub join_url: String,
    pub start_url: String,
    pub password: String,
    pub created_at: DateTime<Utc>,
}

impl StoredMeeting {
    pub fn view(&self) -> ZoomMeetingView {
        ZoomMeetingView {
            zoom_meeting_id: self.zoom_meeting_id.clone(),
            join_url: self.join_url.clone(),
            start_url: Some(self.start_url.clone()),
            password: self.password.clone(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct BookingRow {
    pub id: String,
    pub slot: String,
    pub index: u32,
    pub customer: String,
    pub customer_email: String,
    pub customer_name: String,
    pub booked_at: DateTime<Utc>,
    pub additional_notes: Option<String>,
    pub status: String,
    pub zoom_meeting: Option<StoredMeeting>,
}

impl BookingRow {
    /// The booking as its slot's specialist sees it (with the host's start URL).
    pub fn view(&self, customer_notified: bool) -> BookingView {
        BookingView {
            booking_index: self.index,
            customer_id: self.customer.clone(),
            customer_email: self.customer_email.clone(),
            customer_name: self.customer_name.clone(),
            booked_at: self.booked_at,
            additional_notes: self.additional_notes.clone(),
            status: self.status.clone(),
            zoom_meeting: self.zoom_meeting.as_ref().map(StoredMeeting::view),
            customer_notified,
        }
    }
}

const FIELDS: &str =
    "record::id(id) AS id, record::id(slot) AS slot, index, record::id(customer) AS customer,
    customer_email, customer_name, booked_at, additional_notes, status, zoom_meeting";

pub async fn by_slot_index(db: &Db, slot: &str, index: u32) -> Result<Option<BookingRow>, DbError> {
    let sql = format!(
        "SELECT {FIELDS} FROM booking WHERE slot = type::record('slot', $slot) AND index = $index"
    );
    run(db, &sql, json!({ "slot": slot, "index": index }))
        .await?
        .first(0)
}

pub async fn of_slot(db: &Db, slot: &str) -> Result<Vec<BookingRow>, DbError> {
    let sql = format!(
        "SELECT {FIELDS} FROM booking WHERE slot = type::record('slot', $slot) ORDER BY index"
    );
    run(db, &sql, json!({ "slot": slot })).await?.all(0)
}

pub async fn of_customer(db: &Db, customer: &str) -> Result<Vec<BookingRow>, DbError> {
    let sql =
        format!("SELECT {FIELDS} FROM booking WHERE customer = type::record('user', $customer)");
    run(db, &sql, json!({ "customer": customer })).await?.all(0)
}

pub struct NewBooking<'a> {
    pub id: &'a str,
    pub slot: &'a str,
    pub customer: &'a str,
    pub customer_email: &'a str,
    pub customer_name: &'a str,
    pub additional_notes: Option<&'a str>,
    /// The slot's schedule version the emails were rendered for.
    pub schedule_version: u32,
}

/// Reasons the booking transaction refuses, thrown from inside it.
pub const SLOT_MISSING: &str = "slot-missing";
pub const SLOT_STARTED: &str = "slot-started";
pub const SLOT_CHANGED: &str = "slot-changed";
pub const ALREADY_BOOKED: &str = "already-booked";
pub const SLOT_FULL: &str = "slot-full";

/// Takes a seat in one transaction: the checks, a conditional bump of the slot's seat
/// counter (concurrent bookings of one slot collide on that record, so a seat can never be
/// sold twice), the booking, and its emails in the outbox. Returns the booking's index.
pub async fn book(db: &Db, b: &NewBooking<'_>, emails: &[OutgoingEmail]) -> Result<u32, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $slot_id);
        LET $customer = type::record('user', $customer_id);
        LET $s = (SELECT starts_at, schedule_version FROM $slot)[0];
        IF $s = NONE {{ THROW '{SLOT_MISSING}'; }};
        IF $s.starts_at <= time::now() {{ THROW '{SLOT_STARTED}'; }};
        IF $s.schedule_version != $version {{ THROW '{SLOT_CHANGED}'; }};
        IF array::len((SELECT id FROM booking WHERE slot = $slot AND customer = $customer)) > 0 {{
            THROW '{ALREADY_BOOKED}';
        }};
        LET $taken = (UPDATE $slot SET booked += 1, next_index += 1 WHERE booked < capacity RETURN AFTER)[0];
        IF $taken = NONE {{ THROW '{SLOT_FULL}'; }};
        CREATE type::record('booking', $booking_id) CONTENT {{
            slot: $slot, index: $taken.next_index - 1, customer: $customer,
            customer_email: $email, customer_name: $name, booked_at: time::now(),
            additional_notes: $notes, status: 'active'
        }};
        {queue}
        COMMIT TRANSACTION;
        SELECT VALUE index FROM type::record('booking', $booking_id);",
        queue = outbox::queue_statement("emails"),
    );
    let mut rows = run(
        db,
        &sql,
        json!({
            "slot_id": b.slot, "customer_id": b.customer, "booking_id": b.id, "email": b.customer_email,
            "name": b.customer_name, "notes": b.additional_notes, "version": b.schedule_version,
            "emails": outbox::bind_emails(emails),
        }),
    )
    .await?;
    let last = rows.count().saturating_sub(1);
    rows.first::<u32>(last)?
        .ok_or_else(|| DbError::Decode("booking index missing after commit".into()))
}

/// How long a claim on a booking's Zoom creation lasts; Zoom answers (or times out) well
/// within it, and a crashed request's claim frees itself after it.
pub const ZOOM_CLAIM_SECONDS: i64 = 120;

/// Claims the right to create this booking's meeting: succeeds for exactly one caller while
/// the booking has no meeting and no live claim.
pub async fn claim_zoom(db: &Db, booking_id: &str, token: &str) -> Result<bool, DbError> {
    let result = run(
        db,
        "UPDATE type::record('booking', $id)
            SET zoom_claim = { token: $claim_token, until: time::now() + type::duration($lease) }
            WHERE zoom_meeting = NONE AND (zoom_claim = NONE OR zoom_claim.until < time::now())
            RETURN VALUE record::id(id);",
        json!({ "id": booking_id, "claim_token": token, "lease": format!("{ZOOM_CLAIM_SECONDS}s") }),
    )
    .await;
    match result {
        Ok(mut rows) => Ok(rows.first::<String>(0)?.is_some()),
        // Someone else wrote the booking at the same instant: they hold it.
        Err(DbError::Conflict) => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn release_zoom_claim(db: &Db, booking_id: &str, token: &str) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('booking', $id) SET zoom_claim = NONE WHERE zoom_claim.token = $claim_token;",
        json!({ "id": booking_id, "claim_token": token }),
    )
    .await
    .map(|_| ())
}

pub const CLAIM_LOST: &str = "zoom-claim-lost";

/// Saves the meeting and queues the customer's email in one transaction, provided this
/// caller still holds the claim.
pub async fn save_meeting(
    db: &Db,
    booking_id: &str,
    token: &str,
    meeting: &StoredMeeting,
    email: &OutgoingEmail,
) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $saved = (UPDATE type::record('booking', $id)
            SET zoom_meeting = {{
                zoomMeetingId: $m.zoomMeetingId, joinUrl: $m.joinUrl, startUrl: $m.startUrl,
                password: $m.password, createdAt: type::datetime($m.createdAt)
            }}, zoom_claim = NONE
            WHERE zoom_claim.token = $claim_token AND zoom_meeting = NONE RETURN AFTER);
        IF array::len($saved) = 0 {{ THROW '{CLAIM_LOST}'; }};
        {queue}
        COMMIT TRANSACTION;",
        queue = outbox::queue_statement("emails")
    );
    run(
        db,
        &sql,
        json!({ "id": booking_id, "claim_token": token, "m": meeting, "emails": outbox::bind_emails(std::slice::from_ref(email)) }),
    )
    .await
    .map(|_| ())
}
