use std::convert::Infallible;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{
    Attendance, BookingRef, BookingStatus, BookingView, Feedback, Outcome, PastMeeting, ZoomChange,
    ZoomMeetingView,
};
use crate::server::db::{run, Db, DbError};
use crate::server::jobs;

use super::jobs::queue_statement;
use super::refused;

/// The meeting as stored on a booking: exactly the spec's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMeeting {
    pub zoom_meeting_id: String,
    pub join_url: String,
    pub start_url: String,
    pub password: String,
    pub created_at: DateTime<Utc>,
    /// A regular customer's shared meeting with no fixed time (type 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<bool>,
}

impl StoredMeeting {
    pub fn is_recurring(&self) -> bool {
        self.recurring == Some(true)
    }

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
    pub status: BookingStatus,
    pub zoom_meeting: Option<StoredMeeting>,
    /// Read through the `customer` record link.
    pub customer_timezone: String,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub cancellation_reason: Option<String>,
    pub rescheduled_to: Option<BookingRef>,
    /// The booking whose calendar event this one continues (itself when `None`).
    pub invite_uid: Option<String>,
    #[serde(default)]
    pub invite_sequence_base: u32,
    pub zoom_auto_created: Option<bool>,
    /// Set when the booking came from the waitlist.
    pub promoted_at: Option<DateTime<Utc>>,
    pub attendance: Option<Attendance>,
    pub outcome: Option<Outcome>,
    pub zoom_changed: Option<ZoomChange>,
    #[serde(default)]
    pub meeting_history: Vec<PastMeeting>,
    /// The Zoom user hosting the meeting, as Zoom said when creating it.
    pub zoom_host_id: Option<String>,
    pub feedback: Option<Feedback>,
    /// A guest's seat held until then, not yet confirmed.
    #[serde(default)]
    pub hold_until: Option<DateTime<Utc>>,
    /// Booked without an account (`customer` is then a `guest` record's key).
    #[serde(default)]
    pub guest: bool,
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
            status: self.status,
            zoom_meeting: self.zoom_meeting.as_ref().map(StoredMeeting::view),
            customer_notified,
            cancelled_at: self.cancelled_at,
            cancelled_by: self.cancelled_by.clone(),
            cancellation_reason: self.cancellation_reason.clone(),
            rescheduled_to: self.rescheduled_to.clone(),
            zoom_job_pending: false,
            zoom_created_automatically: self.zoom_auto_created.unwrap_or(false),
            attendance: self.attendance.clone(),
            outcome: self.outcome,
            zoom_changed: self.zoom_changed.clone(),
            meeting_history: self.meeting_history.clone(),
            feedback: self.feedback.clone(),
            recordings: Vec::new(),
            awaiting_confirmation_until: self.hold_until,
            guest: self.guest,
        }
    }
}

pub const BOOKING_FIELDS: &str =
    "record::id(id) AS id, record::id(slot) AS slot, index, record::id(customer) AS customer,
    customer_email, customer_name, booked_at, additional_notes, status, zoom_meeting,
    customer.timezone AS customer_timezone, cancelled_at, cancelled_by, cancellation_reason,
    rescheduled_to, invite_uid, invite_sequence_base, zoom_auto_created, promoted_at,
    attendance, outcome, zoom_changed, meeting_history, zoom_host_id, feedback, hold_until,
    record::tb(customer) = 'guest' AS guest";

pub async fn by_id(db: &Db, id: &str) -> Result<Option<BookingRow>, DbError> {
    if !crate::server::db::is_valid_key(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {BOOKING_FIELDS} FROM type::record('booking', $id)");
    run(db, &sql, json!({ "id": id })).await?.first(0)
}

/// A booking's customer's reminder setting and unsubscribe token, an account's or a guest's.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerReminders {
    pub reminders_enabled: bool,
    pub unsubscribe_token: String,
}

pub async fn customer_reminders(
    db: &Db,
    booking_id: &str,
) -> Result<Option<CustomerReminders>, DbError> {
    run(
        db,
        "SELECT VALUE customer.{ reminders_enabled, unsubscribe_token }
            FROM type::record('booking', $id)",
        json!({ "id": booking_id }),
    )
    .await?
    .first(0)
}

pub async fn by_slot_index(db: &Db, slot: &str, index: u32) -> Result<Option<BookingRow>, DbError> {
    let sql = format!(
        "SELECT {BOOKING_FIELDS} FROM booking WHERE slot = type::record('slot', $slot) AND index = $index"
    );
    run(db, &sql, json!({ "slot": slot, "index": index }))
        .await?
        .first(0)
}

/// The booking whose meeting (now or before a reschedule) is Zoom's meeting `meeting_id`.
/// The bookings holding Zoom's meeting `meeting_id`, active ones first: one, or a regular
/// customer's bookings sharing their recurring meeting (and those moved or cancelled since).
pub async fn by_meeting(db: &Db, meeting_id: &str) -> Result<Vec<BookingRow>, DbError> {
    let sql = format!(
        "SELECT {BOOKING_FIELDS} FROM booking WHERE zoom_meeting.zoomMeetingId = $meeting
            ORDER BY status ASC LIMIT 100"
    );
    run(db, &sql, json!({ "meeting": meeting_id }))
        .await?
        .all(0)
}

pub async fn of_slot(db: &Db, slot: &str) -> Result<Vec<BookingRow>, DbError> {
    let sql = format!(
        "SELECT {BOOKING_FIELDS} FROM booking WHERE slot = type::record('slot', $slot) ORDER BY index"
    );
    run(db, &sql, json!({ "slot": slot })).await?.all(0)
}

/// A booking to write, with the jobs that follow it up after the commit.
#[derive(Debug, Clone, Serialize)]
pub struct NewBooking {
    pub id: String,
    /// The key of the customer's `user` record, or with `guest` of their `guest` record.
    pub customer: String,
    pub guest: bool,
    pub customer_email: String,
    pub customer_name: String,
    /// Left out when absent: SurrealQL reads a missing field as NONE, which the optional
    /// field takes, and a JSON null as NULL, which it refuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_notes: Option<String>,
    /// A guest's seat held this long, until confirmed; absent: the booking counts at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<u64>,
    /// Written as they are: their keys come from the new booking's id, so no job can have
    /// them yet (and the unique index on job keys would refuse a second).
    pub follow_up: Vec<jobs::NewJob>,
}

/// Why the booking transaction took no seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookRefusal {
    Missing,
    Started,
    AlreadyBooked,
    Full,
    /// A session of an offering that a busy time of the specialist's calendar now overlaps
    /// (before the job that remakes the sessions removed it).
    SpecialistBusy,
}

impl BookRefusal {
    const ALL: [Self; 5] = [
        Self::Missing,
        Self::Started,
        Self::AlreadyBooked,
        Self::Full,
        Self::SpecialistBusy,
    ];

    fn tag(self) -> &'static str {
        match self {
            Self::Missing => "book:slot-missing",
            Self::Started => "book:slot-started",
            Self::AlreadyBooked => "book:already-booked",
            Self::Full => "book:slot-full",
            Self::SpecialistBusy => "book:specialist-busy",
        }
    }

    /// Whether it concerns the slot rather than one booking of a batch.
    pub fn is_about_the_slot(self) -> bool {
        matches!(self, Self::Missing | Self::Started | Self::SpecialistBusy)
    }
}

/// A seat taken: what the transaction decided.
#[derive(Debug, Clone, Deserialize)]
pub struct Booked {
    pub index: u32,
    pub booked_at: DateTime<Utc>,
}

/// Why a batch took no seats: the first booking refused (its position in the batch) and
/// why. The whole batch was rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRefused {
    pub position: usize,
    pub refusal: BookRefusal,
}

/// A statement refusing (`THROW tag`) an offering's session that a busy time of the
/// specialist's calendars overlaps with its offering's buffers, `$var` being the slot's
/// `offering`, `specialist`, `starts_at` and `duration`. Slots made by hand are the
/// specialist's own say. The one rule of a booking and of a move into a session.
fn busy_session_statement(var: &str, tag: &str) -> String {
    format!(
        "IF ${var}.offering != NONE {{
            LET $busy_from = ${var}.starts_at - type::duration(string::concat(${var}.offering.buffer_before ?? 0, 'm'));
            LET $busy_end = ${var}.starts_at + type::duration(string::concat(${var}.duration + (${var}.offering.buffer_after ?? 0), 'm'));
            LET $busy = array::flatten((SELECT VALUE busy FROM busy_calendar WHERE specialist = ${var}.specialist));
            IF array::len(array::filter($busy, |$busy_time| $busy_time.start < $busy_end AND $busy_time.end > $busy_from)) > 0 {{
                THROW '{tag}';
            }};
        }};"
    )
}

/// Takes a seat for each booking of `batch`, in order, in one transaction: a conditional bump
/// of the slot's seat counter per booking (concurrent transactions on one slot collide on that
/// record, so a seat can never be sold twice), the check for the customer's own earlier
/// booking, the booking and its follow-up job. All or nothing: the first refusal rolls the
/// batch back and says whose it was. The bump's condition also checks the slot is open, so
/// the slot is read on its own only to say why a bump found no seat. The bookings of one
/// batch share their `booked_at`, the moment of their transaction, and take consecutive
/// indexes; the transaction returns the slot's next index after them, so no second read is
/// needed. One customer must not appear twice in a batch.
pub async fn book_batch(
    db: &Db,
    slot: &str,
    batch: &[NewBooking],
) -> Result<Result<Vec<Booked>, BatchRefused>, DbError> {
    use BookRefusal::*;
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $slot_id);
        LET $now = time::now();
        FOR $b IN $bookings {{
            LET $seat = (UPDATE $slot SET booked += 1, next_index += 1
                WHERE booked < capacity AND starts_at > $now AND cancelled_at = NONE
                RETURN next_index, offering, specialist, starts_at, duration)[0];
            LET $taken = $seat.next_index;
            -- Checked once a batch, from the seat's own answer; the refusal rolls it back.
            IF $b.position = 0 {{ {busy} }};
            IF $taken = NONE {{
                LET $s = (SELECT starts_at, cancelled_at FROM $slot)[0];
                IF $s = NONE {{ THROW '{missing}'; }};
                IF $s.starts_at <= $now OR $s.cancelled_at != NONE {{ THROW '{started}'; }};
            }};
            LET $customer = type::record(IF $b.guest THEN 'guest' ELSE 'user' END, $b.customer);
            IF array::len((SELECT id FROM booking WHERE slot = $slot AND customer = $customer AND status = 'active')) > 0 {{
                THROW string::concat('{already}#', $b.position);
            }};
            IF $taken = NONE {{ THROW string::concat('{full}#', $b.position); }};
            CREATE type::record('booking', $b.id) CONTENT {{
                slot: $slot, index: $taken - 1, customer: $customer,
                customer_email: $b.customer_email, customer_name: $b.customer_name,
                booked_at: $now, additional_notes: $b.additional_notes, status: 'active',
                hold_until: IF $b.hold_seconds = NONE THEN NONE
                    ELSE $now + type::duration(string::concat($b.hold_seconds, 's')) END
            }} RETURN NONE;
            FOR $j IN $b.follow_up {{
                CREATE job CONTENT {{
                    kind: $j.kind, key: $j.key, payload: $j.payload, status: 'pending',
                    attempts: 0, run_at: $now + type::duration(string::concat($j.delay_seconds, 's'))
                }} RETURN NONE;
            }};
        }};
        LET $after = {{ next_index: (SELECT VALUE next_index FROM ONLY $slot), booked_at: $now }};
        COMMIT TRANSACTION;
        RETURN $after;",
        missing = Missing.tag(),
        started = Started.tag(),
        already = AlreadyBooked.tag(),
        full = Full.tag(),
        busy = busy_session_statement("seat", SpecialistBusy.tag()),
    );
    let bound: Vec<serde_json::Value> = batch
        .iter()
        .enumerate()
        .map(|(position, booking)| {
            let mut value = serde_json::to_value(booking).expect("bookings serialise");
            value["position"] = json!(position);
            value
        })
        .collect();
    let result = run(db, &sql, json!({ "slot_id": slot, "bookings": bound })).await;
    let mut rows = match result {
        Ok(rows) => rows,
        // Another instance took the same index: the batch retries with a fresh read (and then
        // sees a customer's own earlier booking, if that is what it raced with).
        Err(DbError::Unique { .. }) => return Err(DbError::Conflict),
        Err(e) => return batch_refusal(e).map(Err),
    };
    #[derive(Deserialize)]
    struct After {
        next_index: u32,
        booked_at: DateTime<Utc>,
    }
    let after: After = rows
        .last()?
        .ok_or_else(|| DbError::Decode("no seats after the booking's commit".into()))?;
    let first = after
        .next_index
        .checked_sub(batch.len() as u32)
        .ok_or_else(|| DbError::Decode("fewer seats than bookings after commit".into()))?;
    Ok(Ok((first..after.next_index)
        .map(|index| Booked {
            index,
            booked_at: after.booked_at,
        })
        .collect()))
}

/// The refusal a batch was rolled back for (`tag#position` for one booking's, the bare tag
/// for the slot's); any other error stays an error.
fn batch_refusal(error: DbError) -> Result<BatchRefused, DbError> {
    let position = match &error {
        DbError::Thrown(message) => message
            .split_once('#')
            .map(|(_, rest)| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0),
        _ => 0,
    };
    let refusal = match refused::<Infallible, _>(error, &BookRefusal::ALL, BookRefusal::tag)? {
        Err(refusal) => refusal,
        Ok(never) => match never {},
    };
    Ok(BatchRefused { position, refusal })
}

/// How long a claim on a booking's Zoom creation lasts; Zoom answers (or times out) well
/// within it, and a crashed request's claim frees itself after it.
pub const ZOOM_CLAIM_SECONDS: i64 = 120;

/// A claim on creating a booking's meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoomClaim {
    /// Someone else holds it, or the meeting exists.
    Lost,
    /// Ours. `earlier_outcome_unknown`: an earlier attempt may have created the meeting
    /// (it timed out or its process died), so look for it before creating another.
    Won { earlier_outcome_unknown: bool },
}

#[derive(Deserialize)]
struct BeforeClaim {
    zoom_pending: Option<DateTime<Utc>>,
}

/// Claims the right to create this booking's meeting: succeeds for exactly one caller while
/// the booking has no meeting and no live claim. Marks an attempt as under way.
pub async fn claim_zoom(db: &Db, booking_id: &str, token: &str) -> Result<ZoomClaim, DbError> {
    let result = run(
        db,
        "UPDATE type::record('booking', $id)
            SET zoom_claim = { token: $claim_token, until: time::now() + type::duration($lease) },
                zoom_pending = time::now()
            WHERE status = 'active' AND zoom_meeting = NONE AND hold_until = NONE
                AND (zoom_claim = NONE OR zoom_claim.until < time::now())
            RETURN BEFORE;",
        json!({ "id": booking_id, "claim_token": token, "lease": format!("{ZOOM_CLAIM_SECONDS}s") }),
    )
    .await;
    match result {
        Ok(mut rows) => Ok(match rows.first::<BeforeClaim>(0)? {
            Some(before) => ZoomClaim::Won {
                earlier_outcome_unknown: before.zoom_pending.is_some(),
            },
            None => ZoomClaim::Lost,
        }),
        // Someone else wrote the booking at the same instant: they hold it.
        Err(DbError::Conflict) => Ok(ZoomClaim::Lost),
        Err(e) => Err(e),
    }
}

/// Gives the claim up after a failed attempt. `outcome_unknown`: a meeting may exist at Zoom,
/// so the booking stays marked for the next attempt to look for it.
pub async fn release_zoom_claim(
    db: &Db,
    booking_id: &str,
    token: &str,
    outcome_unknown: bool,
) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('booking', $id)
            SET zoom_claim = NONE, zoom_pending = IF $unknown THEN zoom_pending ELSE NONE END
            WHERE zoom_claim.token = $claim_token;",
        json!({ "id": booking_id, "claim_token": token, "unknown": outcome_unknown }),
    )
    .await
    .map(|_| ())
}

/// Why a created meeting was not saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveRefusal {
    /// The claim on the booking expired or was taken over.
    ClaimLost,
    /// The slot moved while the meeting was being made: the meeting and its email carry the
    /// old time.
    SlotMoved,
}

impl SaveRefusal {
    const ALL: [Self; 2] = [Self::ClaimLost, Self::SlotMoved];

    fn tag(self) -> &'static str {
        match self {
            Self::ClaimLost => "zoom:claim-lost",
            Self::SlotMoved => "zoom:slot-moved",
        }
    }
}

/// A meeting Zoom made for a booking, to save with the jobs that follow it.
pub struct MeetingToSave<'a> {
    pub meeting: &'a StoredMeeting,
    /// The Zoom user hosting it, as Zoom said.
    pub host_id: Option<&'a str>,
    /// The customer's email and the attendance check.
    pub jobs: &'a [jobs::NewJob],
    /// Made by the automatic fallback rather than a click.
    pub automatic: bool,
    /// The slot's schedule version the meeting was made for.
    pub schedule_version: u32,
}

/// Saves the meeting and queues its jobs in one transaction, provided this caller still holds
/// the claim and the slot is still at the time (`schedule_version`) the meeting was made for.
pub async fn save_meeting(
    db: &Db,
    booking_id: &str,
    token: &str,
    save: &MeetingToSave<'_>,
) -> Result<Result<(), SaveRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $version = (SELECT VALUE slot.schedule_version FROM type::record('booking', $id))[0];
        IF $version != $schedule_version {{ THROW '{moved}'; }};
        LET $saved = (UPDATE type::record('booking', $id)
            SET zoom_meeting = {{
                zoomMeetingId: $m.zoomMeetingId, joinUrl: $m.joinUrl, startUrl: $m.startUrl,
                password: $m.password, createdAt: type::datetime($m.createdAt),
                recurring: $m.recurring
            }}, zoom_claim = NONE, zoom_pending = NONE, zoom_auto_created = $automatic,
            zoom_host_id = $host_id, zoom_changed = NONE
            WHERE zoom_claim.token = $claim_token AND zoom_meeting = NONE AND status = 'active'
            RETURN AFTER);
        IF array::len($saved) = 0 {{ THROW '{lost}'; }};
        {queue}
        COMMIT TRANSACTION;",
        lost = SaveRefusal::ClaimLost.tag(),
        moved = SaveRefusal::SlotMoved.tag(),
        queue = queue_statement("jobs")
    );
    let result = run(
        db,
        &sql,
        json!({
            "id": booking_id, "claim_token": token, "m": save.meeting,
            "automatic": save.automatic, "schedule_version": save.schedule_version,
            "host_id": save.host_id, "jobs": jobs::bind(save.jobs),
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Ok(())),
        Err(e) => refused(e, &SaveRefusal::ALL, SaveRefusal::tag),
    }
}

/// A cancellation to store, with the emails it sends.
pub struct Cancel<'a> {
    pub booking_id: &'a str,
    /// `customer` or `specialist`.
    pub by: &'a str,
    pub reason: Option<&'a str>,
    /// The slot's schedule version the emails were rendered for.
    pub schedule_version: u32,
    /// The emails, and the jobs of a promoted customer's new booking.
    pub jobs: &'a [jobs::NewJob],
    /// Jobs that must not run any more (the booking's reminders).
    pub cancel_keys: &'a [String],
    /// The first customer waiting, booked into the freed seat in the same transaction.
    pub promotions: &'a [super::waitlist::Promotion],
    /// Only a guest's hold whose time is up (the release of an unconfirmed hold): a hold
    /// confirmed meanwhile is not cancelled.
    pub expired_hold_only: bool,
}

/// Why a cancellation was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRefusal {
    /// Cancelled (or moved) already.
    NotActive,
    /// The slot's time changed after the emails were rendered: render again and retry.
    Changed,
}

impl CancelRefusal {
    const ALL: [Self; 2] = [Self::NotActive, Self::Changed];

    fn tag(self) -> &'static str {
        match self {
            Self::NotActive => "cancel:not-active",
            Self::Changed => "cancel:changed",
        }
    }
}

/// Cancels a booking in one transaction: its status, the seat freed, the emails, and the
/// deletion of its Zoom meeting if it has one by now.
pub async fn cancel(db: &Db, c: &Cancel<'_>) -> Result<Result<(), CancelRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $b = (SELECT * FROM type::record('booking', $booking_id))[0];
        IF $b = NONE OR $b.status != 'active' {{ THROW '{not_active}'; }};
        IF $expired_hold_only AND ($b.hold_until = NONE OR $b.hold_until > time::now()) {{
            THROW '{not_active}';
        }};
        IF (SELECT VALUE schedule_version FROM ONLY $b.slot) != $version {{ THROW '{changed}'; }};
        UPDATE $b.id SET status = 'cancelled', hold_until = NONE, cancelled_at = time::now(), cancelled_by = $by,
            cancellation_reason = $reason, zoom_claim = NONE;
        UPDATE $b.slot SET booked -= 1;
        LET $slot_of_b = $b.slot;
        {promote}
        {queue}
        {delete_meeting}
        {cancel_jobs}
        COMMIT TRANSACTION;",
        promote = super::waitlist::promote_statement(
            "slot_of_b",
            "promotions",
            CancelRefusal::Changed.tag()
        ),
        cancel_jobs = super::jobs::cancel_statement("cancel_keys"),
        not_active = CancelRefusal::NotActive.tag(),
        changed = CancelRefusal::Changed.tag(),
        queue = queue_statement("jobs"),
        delete_meeting = super::jobs::zoom_delete_statement("b"),
    );
    let result = run(
        db,
        &sql,
        json!({
            "booking_id": c.booking_id, "by": c.by, "reason": c.reason,
            "version": c.schedule_version, "jobs": jobs::bind(c.jobs),
            "cancel_keys": c.cancel_keys, "promotions": c.promotions,
            "expired_hold_only": c.expired_hold_only,
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Ok(())),
        Err(e) => refused(e, &CancelRefusal::ALL, CancelRefusal::tag),
    }
}

/// What confirming a guest's hold found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldConfirmed {
    /// Confirmed now: the booking counts, and its follow-up is queued.
    Now,
    /// It counted already (confirmed before, or never held).
    Already,
}

/// Why a hold was not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldRefusal {
    /// Its 30 minutes are up (the seat is released, or about to be).
    Expired,
    /// Cancelled or moved.
    NotActive,
}

impl HoldRefusal {
    const ALL: [Self; 2] = [Self::Expired, Self::NotActive];

    fn tag(self) -> &'static str {
        match self {
            Self::Expired => "hold:expired",
            Self::NotActive => "hold:not-active",
        }
    }
}

/// Confirms the guest's hold on booking `booking_id` while its time runs, queuing `follow_up`
/// (the emails a new booking gets) in the same transaction. The hold's release checks the
/// same record in its own transaction, so exactly one of them wins.
pub async fn confirm_hold(
    db: &Db,
    booking_id: &str,
    follow_up: &[jobs::NewJob],
) -> Result<Result<HoldConfirmed, HoldRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $b = (SELECT id, status, hold_until FROM type::record('booking', $booking_id))[0];
        IF $b = NONE OR $b.status != 'active' {{ THROW '{not_active}'; }};
        LET $held = $b.hold_until != NONE;
        IF $held AND $b.hold_until <= time::now() {{ THROW '{expired}'; }};
        IF $held {{
            UPDATE $b.id SET hold_until = NONE;
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN $held;",
        not_active = HoldRefusal::NotActive.tag(),
        expired = HoldRefusal::Expired.tag(),
        queue = queue_statement("jobs"),
    );
    let vars = json!({ "booking_id": booking_id, "jobs": jobs::bind(follow_up) });
    match run(db, &sql, vars).await {
        Ok(mut rows) => Ok(Ok(if rows.last::<bool>()?.unwrap_or(false) {
            HoldConfirmed::Now
        } else {
            HoldConfirmed::Already
        })),
        Err(e) => refused(e, &HoldRefusal::ALL, HoldRefusal::tag),
    }
}

/// The booking that holds seat `seat` now: the booking first made as `seat`, or the last
/// one it was moved to (its successors carry the seat as their `invite_uid`).
pub async fn current_of_seat(db: &Db, seat: &str) -> Result<Option<BookingRow>, DbError> {
    let Some(first) = by_id(db, seat).await? else {
        return Ok(None);
    };
    if first.rescheduled_to.is_none() {
        return Ok(Some(first));
    }
    let sql = format!(
        "SELECT {BOOKING_FIELDS} FROM booking WHERE invite_uid = $seat AND rescheduled_to = NONE
            ORDER BY booked_at DESC LIMIT 1"
    );
    run(db, &sql, json!({ "seat": seat })).await?.first(0)
}

/// A move of an active booking to another slot, with the jobs it queues.
pub struct Reschedule<'a> {
    pub booking_id: &'a str,
    pub new_booking_id: &'a str,
    pub target_slot: &'a str,
    /// The slots' schedule versions the emails were rendered for.
    pub target_version: u32,
    pub source_version: u32,
    pub invite_uid: &'a str,
    pub invite_sequence_base: u32,
    pub jobs: &'a [jobs::NewJob],
    /// Jobs of the old booking that must not run any more (its reminders).
    pub cancel_keys: &'a [String],
    /// The first customer waiting for the old slot, booked into the seat it frees.
    pub promotions: &'a [super::waitlist::Promotion],
}

/// Why a booking was not moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescheduleRefusal {
    NotActive,
    TargetGone,
    AlreadyBooked,
    Full,
    /// A slot's time changed after the emails were rendered: render again and retry.
    Changed,
    /// The target is a session a busy time of the specialist now overlaps.
    SpecialistBusy,
}

impl RescheduleRefusal {
    const ALL: [Self; 6] = [
        Self::NotActive,
        Self::TargetGone,
        Self::AlreadyBooked,
        Self::Full,
        Self::Changed,
        Self::SpecialistBusy,
    ];

    fn tag(self) -> &'static str {
        match self {
            Self::NotActive => "move:not-active",
            Self::TargetGone => "move:target-gone",
            Self::AlreadyBooked => "move:already-booked",
            Self::Full => "move:full",
            Self::Changed => "move:changed",
            Self::SpecialistBusy => "move:specialist-busy",
        }
    }
}

/// Moves a booking in one transaction: a seat taken in the target (conditionally, as in
/// `book`), the new booking holding the meeting, the old one marked `rescheduled` with its
/// seat freed, and the jobs (emails, the meeting's move). Returns the new booking's index.
pub async fn reschedule(
    db: &Db,
    r: &Reschedule<'_>,
) -> Result<Result<u32, RescheduleRefusal>, DbError> {
    use RescheduleRefusal::*;
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $old = (SELECT * FROM type::record('booking', $booking_id))[0];
        IF $old = NONE OR $old.status != 'active' {{ THROW '{not_active}'; }};
        IF (SELECT VALUE schedule_version FROM ONLY $old.slot) != $source_version {{ THROW '{changed}'; }};
        LET $target = type::record('slot', $target_slot);
        LET $t = (SELECT starts_at, schedule_version, cancelled_at, offering, specialist, duration
            FROM $target)[0];
        IF $t = NONE OR $t.starts_at <= time::now() OR $t.cancelled_at != NONE {{ THROW '{gone}'; }};
        IF $t.schedule_version != $target_version {{ THROW '{changed}'; }};
        {busy}
        LET $customer = $old.customer;
        IF array::len((SELECT id FROM booking WHERE slot = $target AND customer = $customer AND status = 'active')) > 0 {{
            THROW '{already}';
        }};
        LET $taken = (UPDATE $target SET booked += 1, next_index += 1 WHERE booked < capacity RETURN AFTER)[0];
        IF $taken = NONE {{ THROW '{full}'; }};
        CREATE type::record('booking', $new_id) CONTENT {{
            slot: $target, index: $taken.next_index - 1, customer: $old.customer,
            customer_email: $old.customer_email, customer_name: $old.customer_name,
            booked_at: time::now(), additional_notes: $old.additional_notes, status: 'active',
            zoom_meeting: $old.zoom_meeting, invite_uid: $invite_uid,
            invite_sequence_base: $sequence_base
        }};
        UPDATE $old.id SET status = 'rescheduled', zoom_meeting = NONE, zoom_claim = NONE,
            rescheduled_to = {{ slotId: $target_slot, bookingIndex: $taken.next_index - 1 }};
        UPDATE $old.slot SET booked -= 1;
        LET $old_slot = $old.slot;
        {promote}
        {queue}
        {cancel_jobs}
        {sweep}
        COMMIT TRANSACTION;
        SELECT VALUE index FROM type::record('booking', $new_id);",
        cancel_jobs = super::jobs::cancel_statement("cancel_keys"),
        sweep = super::jobs::zoom_sweep_statement("old"),
        promote = super::waitlist::promote_statement("old_slot", "promotions", Changed.tag()),
        not_active = NotActive.tag(),
        gone = TargetGone.tag(),
        already = AlreadyBooked.tag(),
        full = Full.tag(),
        changed = Changed.tag(),
        busy = busy_session_statement("t", SpecialistBusy.tag()),
        queue = queue_statement("jobs"),
    );
    let result = run(
        db,
        &sql,
        json!({
            "booking_id": r.booking_id, "new_id": r.new_booking_id, "target_slot": r.target_slot,
            "target_version": r.target_version, "source_version": r.source_version,
            "invite_uid": r.invite_uid, "sequence_base": r.invite_sequence_base,
            "jobs": jobs::bind(r.jobs), "cancel_keys": r.cancel_keys, "promotions": r.promotions,
        }),
    )
    .await;
    let mut rows = match result {
        Ok(rows) => rows,
        // Another booking took the same index: retry with a fresh read.
        Err(DbError::Unique { .. }) => return Err(DbError::Conflict),
        Err(e) => return refused(e, &RescheduleRefusal::ALL, RescheduleRefusal::tag),
    };
    rows.last::<u32>()?
        .map(Ok)
        .ok_or_else(|| DbError::Decode("new booking index missing after commit".into()))
}

/// Takes a meeting deleted in Zoom off the booking that still holds it (kept in its history),
/// so the specialist can create another; its Ready email's key is set aside for the next
/// meeting's. Returns whether the booking held it (and the `jobs` were queued).
pub async fn drop_deleted_meeting(
    db: &Db,
    booking_id: &str,
    meeting_id: &str,
    ready_key: &str,
    jobs: &[jobs::NewJob],
) -> Result<bool, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $b = (SELECT * FROM type::record('booking', $id))[0];
        LET $holds = $b != NONE AND $b.status = 'active' AND $b.zoom_meeting.zoomMeetingId = $meeting;
        IF $holds {{
            UPDATE $b.id SET meeting_history += {{
                    zoomMeetingId: $meeting, createdAt: $b.zoom_meeting.createdAt,
                    removedAt: time::now(), reason: 'deleted in Zoom'
                }},
                zoom_meeting = NONE, zoom_changed = NONE, zoom_pending = NONE, zoom_host_id = NONE;
            LET $key = $ready_key;
            UPDATE job SET key = string::concat(key, ':', $meeting) WHERE key = $key;
            {queue}
        }};
        COMMIT TRANSACTION;
        RETURN $holds;",
        queue = queue_statement("jobs"),
    );
    let vars = json!({
        "id": booking_id, "meeting": meeting_id, "ready_key": ready_key,
        "jobs": jobs::bind(jobs),
    });
    let mut rows = crate::server::db::with_conflict_retry("drop_deleted_meeting", || {
        run(db, &sql, vars.clone())
    })
    .await?;
    Ok(rows.last::<bool>()?.unwrap_or(false))
}

/// Records (or, with `None`, clears) how the meeting's time in Zoom differs from the slot's,
/// as of Zoom's change at `changed_at` (ms): an older change arriving late is ignored.
pub async fn set_zoom_change(
    db: &Db,
    booking_id: &str,
    meeting_id: &str,
    change: Option<&ZoomChange>,
    changed_at: i64,
) -> Result<(), DbError> {
    crate::server::db::with_conflict_retry("set_zoom_change", || {
        run(
            db,
            "LET $c = $change;
            UPDATE type::record('booking', $id)
                SET zoom_changed = IF $c != NONE THEN {
                        zoomStartTime: type::datetime($c.zoomStartTime), zoomDuration: $c.zoomDuration,
                        slotStartTime: type::datetime($c.slotStartTime), slotDuration: $c.slotDuration,
                    } END,
                    zoom_changed_ts = $ts
                WHERE status = 'active' AND zoom_meeting.zoomMeetingId = $meeting
                    AND (zoom_changed_ts = NONE OR zoom_changed_ts <= $ts);",
            json!({ "id": booking_id, "meeting": meeting_id, "change": change, "ts": changed_at }),
        )
    })
    .await
    .map(|_| ())
}

/// Clears the "changed in Zoom" flag once the meeting was put back at the slot's time.
pub async fn clear_zoom_change(db: &Db, booking_id: &str, meeting_id: &str) -> Result<(), DbError> {
    crate::server::db::with_conflict_retry("clear_zoom_change", || {
        run(
            db,
            "UPDATE type::record('booking', $id) SET zoom_changed = NONE
                WHERE zoom_meeting.zoomMeetingId = $meeting;",
            json!({ "id": booking_id, "meeting": meeting_id }),
        )
    })
    .await
    .map(|_| ())
}

/// The slot and index of each active booking of the account `customer` whose slot is still to
/// start.
pub async fn upcoming_of_customer(db: &Db, customer: &str) -> Result<Vec<(String, u32)>, DbError> {
    #[derive(Deserialize)]
    struct Seat {
        slot: String,
        index: u32,
    }
    let seats: Vec<Seat> = run(
        db,
        "SELECT record::id(slot) AS slot, index FROM booking
            WHERE customer = type::record('user', $customer) AND status = 'active'
                AND slot.starts_at > time::now()",
        json!({ "customer": customer }),
    )
    .await?
    .all(0)?;
    Ok(seats.into_iter().map(|s| (s.slot, s.index)).collect())
}
