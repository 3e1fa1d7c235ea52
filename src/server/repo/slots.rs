use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::bookings::{BookingRow, BOOKING_FIELDS};
use super::jobs::queue_statement;
use super::{refused, rows_for_list, rows_for_records};
use crate::server::db::{binding, is_valid_key, run, Db, DbError};
use crate::server::jobs::keys;
use crate::server::jobs::{self, NewJob};

pub use super::slot_row::{SlotFields, SlotHost, SlotRow, SLOT_FIELDS};

pub async fn by_id(db: &Db, id: &str) -> Result<Option<SlotRow>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {SLOT_FIELDS} FROM type::record('slot', $id)");
    run(db, &sql, json!({ "id": id })).await?.first(0)
}

/// The SurrealQL assignments of [`SlotFields`] bound as `$f`.
const SET_FIELDS: &str = "title = $f.title, description = $f.description, date = $f.date,
    start_time = $f.start_time, timezone = $f.timezone, starts_at = type::datetime($f.starts_at),
    duration = $f.duration, capacity = $f.capacity";

pub async fn create(
    db: &Db,
    id: &str,
    specialist: &str,
    fields: &SlotFields,
) -> Result<SlotRow, DbError> {
    let sql = format!(
        "CREATE type::record('slot', $id) SET specialist = type::record('user', $specialist),
            {SET_FIELDS}, booked = 0, next_index = 0, schedule_version = 0;"
    );
    run(
        db,
        &sql,
        json!({ "id": id, "specialist": specialist, "f": binding(fields) }),
    )
    .await?;
    by_id(db, id)
        .await?
        .ok_or_else(|| DbError::Decode("created slot not found".into()))
}

pub async fn of_specialist(db: &Db, specialist: &str) -> Result<Vec<SlotRow>, DbError> {
    let sql = format!(
        "SELECT {SLOT_FIELDS} FROM slot WHERE specialist = type::record('user', $specialist) ORDER BY starts_at"
    );
    run(db, &sql, json!({ "specialist": specialist }))
        .await?
        .all(0)
}

pub struct BrowseFilter {
    pub specialist: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub offset: u32,
    pub limit: u32,
    /// Full slots too (for joining their waitlist).
    pub include_full: bool,
}

/// Future slots with seats left (or full ones too), soonest first, with how many wait.
pub async fn browse(db: &Db, f: &BrowseFilter) -> Result<Vec<SlotRow>, DbError> {
    let mut page: Vec<SlotRow> = run(
        db,
        &browse_sql(f),
        json!({
            "specialist": f.specialist, "from": f.from.map(|d| d.to_rfc3339()),
            "to": f.to.map(|d| d.to_rfc3339()), "limit": f.limit, "offset": f.offset,
        }),
    )
    .await?
    .all(0)?;
    // Only a full slot has a line: joining refuses a slot with seats, and every transaction
    // that frees or adds seats books those waiting first (`waitlist::promote_statement`).
    let full: Vec<&str> = page
        .iter()
        .filter(|s| s.booked >= s.fields.capacity)
        .map(|s| s.id.as_str())
        .collect();
    let waiting: Vec<String> = rows_for_records(db, "slot", WAITING_FOR, &full).await?;
    for slot in &mut page {
        slot.waiting = waiting.iter().filter(|w| **w == slot.id).count() as u32;
    }
    Ok(page)
}

/// One waiting customer per row, of the slots in `$records`. (Counted per slot in a
/// subquery, each count walked the whole waitlist table: SurrealDB plans a predicate on
/// `$parent` as a table scan; a plain parameter is a value.)
pub(crate) const WAITING_FOR: &str =
    "SELECT VALUE record::id(slot) FROM waitlist WHERE slot IN $records AND status = 'waiting'";

/// One page of browsable slots.
pub(crate) fn browse_sql(f: &BrowseFilter) -> String {
    // `bookable` and `listed` are kept by the database (migration 14), so the page is one
    // range of an index that the scan stops reading after `LIMIT` rows.
    let mut conditions = vec![
        if f.include_full {
            "listed = true"
        } else {
            "bookable = true"
        },
        "starts_at > time::now()",
    ];
    if f.specialist.is_some() {
        conditions.push("specialist = type::record('user', $specialist)");
    }
    if f.from.is_some() {
        conditions.push("starts_at >= type::datetime($from)");
    }
    if f.to.is_some() {
        conditions.push("starts_at < type::datetime($to)");
    }
    format!(
        "SELECT {SLOT_FIELDS} FROM slot WHERE {} ORDER BY starts_at LIMIT $limit START $offset",
        conditions.join(" AND ")
    )
}

/// An edit of a slot, and the slot as the edit saw it: a booking or another edit since then
/// changes the latter two.
pub struct SlotEdit<'a> {
    pub id: &'a str,
    pub fields: SlotFields,
    pub schedule_version: u32,
    pub seen_next_index: u32,
    pub seen_schedule_version: u32,
    /// Jobs made stale by the edit (reminders of the old time).
    pub cancel_keys: Vec<String>,
    /// Customers waiting, booked into the seats a larger capacity adds.
    pub promotions: Vec<super::waitlist::Promotion>,
}

/// Why an edit was not saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotEditRefusal {
    /// A booking or another edit landed since the slot was read: read it again and redo.
    Changed,
    CapacityBelowBooked,
}

impl SlotEditRefusal {
    const ALL: [Self; 2] = [Self::Changed, Self::CapacityBelowBooked];

    fn tag(self) -> &'static str {
        match self {
            Self::Changed => "slot-edit:changed",
            Self::CapacityBelowBooked => "slot-edit:capacity-below-booked",
        }
    }
}

/// Saves an edit and queues its jobs (emails, meeting moves) in one transaction, provided the slot is still as
/// the edit saw it.
pub async fn update(
    db: &Db,
    e: &SlotEdit<'_>,
    jobs: &[NewJob],
) -> Result<Result<(), SlotEditRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $s = (SELECT booked, next_index, schedule_version, cancelled_at FROM type::record('slot', $id))[0];
        IF $s = NONE OR $s.next_index != $seen_next_index OR $s.schedule_version != $seen_version
            OR $s.cancelled_at != NONE {{
            THROW '{changed}';
        }};
        IF $s.booked > $f.capacity {{ THROW '{below}'; }};
        UPDATE type::record('slot', $id) SET {SET_FIELDS}, schedule_version = $version;
        LET $edited = type::record('slot', $id);
        {promote}
        {queue}
        {cancel_jobs}
        COMMIT TRANSACTION;",
        cancel_jobs = super::jobs::cancel_statement("cancel_keys"),
        promote = super::waitlist::promote_statement(
            "edited",
            "promotions",
            SlotEditRefusal::Changed.tag()
        ),
        changed = SlotEditRefusal::Changed.tag(),
        below = SlotEditRefusal::CapacityBelowBooked.tag(),
        queue = queue_statement("jobs")
    );
    let vars = json!({
        "id": e.id, "f": binding(&e.fields), "version": e.schedule_version,
        "seen_version": e.seen_schedule_version, "seen_next_index": e.seen_next_index,
        "jobs": jobs::bind(jobs), "cancel_keys": e.cancel_keys, "promotions": e.promotions,
    });
    match run(db, &sql, vars).await {
        Ok(_) => Ok(Ok(())),
        Err(error) => refused(error, &SlotEditRefusal::ALL, SlotEditRefusal::tag),
    }
}

/// Bookings (of any status) or waitlist entries still refer to the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasBookings;

impl HasBookings {
    const TAG: &'static str = "slot-delete:has-bookings";
}

/// Deletes a slot that no booking, of any status, and no waitlist entry refers to (checked on
/// the seat counter too, which every booking writes, so a booking cannot slip in between): a
/// cancelled booking stays on its customer's list and must keep its slot.
pub async fn delete(db: &Db, id: &str) -> Result<Result<(), HasBookings>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $id);
        IF array::len((SELECT id FROM booking WHERE slot = $slot LIMIT 1)) > 0
            OR array::len((SELECT id FROM waitlist WHERE slot = $slot LIMIT 1)) > 0 {{ THROW '{has}'; }};
        LET $gone = (DELETE $slot WHERE booked = 0 RETURN BEFORE);
        IF array::len($gone) = 0 {{ THROW '{has}'; }};
        COMMIT TRANSACTION;",
        has = HasBookings::TAG
    );
    match run(db, &sql, json!({ "id": id })).await {
        Ok(_) => Ok(Ok(())),
        Err(error) => refused(error, &[HasBookings], |_| HasBookings::TAG),
    }
}

/// A slot with its active bookings, each with whether its Zoom Meeting Ready email left.
#[derive(Debug, Clone)]
pub struct ManagedSlotRow {
    pub slot: SlotRow,
    pub bookings: Vec<ManagedBookingRow>,
}

#[derive(Debug, Clone)]
pub struct ManagedBookingRow {
    pub booking: BookingRow,
    pub notified: bool,
    /// A Zoom update or deletion for it is still queued.
    pub zoom_job_pending: bool,
}

/// How long after its start a slot stays in the Meeting Manager, with its attendance.
pub const MANAGED_AFTER_START: &str = "7d";

/// The specialist's slots that have had bookings, from those of the past week (their
/// attendance and feedback) to the upcoming ones, soonest first.
pub(crate) fn managed_slots_sql() -> String {
    format!(
        "SELECT {SLOT_FIELDS} FROM slot
        WHERE specialist = type::record('user', $specialist)
            AND starts_at > time::now() - {MANAGED_AFTER_START} AND next_index > 0
        ORDER BY starts_at"
    )
}

/// The bookings (all but rescheduled ones) of the slots in `$records`.
pub(crate) fn managed_bookings_sql() -> String {
    format!(
        "SELECT {BOOKING_FIELDS} FROM booking WHERE slot IN $records AND status != 'rescheduled'
        ORDER BY index"
    )
}

/// The status of the jobs whose keys are in `$list`.
pub(crate) const JOB_STATUSES: &str = "SELECT key, status FROM job WHERE key IN $list";

/// The Zoom updates and deletions still queued for the bookings in `$list`, found through the
/// `job_booking` index (which also holds each booking's reminders and automatic creation).
pub(crate) const ZOOM_JOBS_PENDING: &str = "SELECT VALUE payload.booking_id FROM job
    WHERE payload.booking_id IN $list AND kind IN ['zoom_update', 'zoom_delete']
    AND status IN ['pending', 'running']";

#[derive(Deserialize)]
struct JobStatus {
    key: String,
    status: String,
}

/// The specialist's upcoming slots that have had bookings, soonest first, with their active
/// bookings. Every statement starts from an index on values known when it is planned: a
/// correlated subquery (`WHERE slot = $parent.id`) is planned by SurrealDB as a scan of the
/// whole table, once per row.
pub async fn managed_by(db: &Db, specialist: &str) -> Result<Vec<ManagedSlotRow>, DbError> {
    let slots: Vec<SlotRow> = run(
        db,
        &managed_slots_sql(),
        json!({ "specialist": specialist }),
    )
    .await?
    .all(0)?;
    let slot_ids: Vec<&str> = slots.iter().map(|s| s.id.as_str()).collect();
    let bookings: Vec<BookingRow> =
        rows_for_records(db, "slot", &managed_bookings_sql(), &slot_ids).await?;
    // Both flags are about a stored meeting: its Ready email is queued with it, and updates
    // and deletions are of it. Most bookings have none yet (meetings are made shortly
    // before), and each email job read is the whole email, attachments and all.
    let ids: Vec<&str> = bookings
        .iter()
        .filter(|b| b.zoom_meeting.is_some())
        .map(|b| b.id.as_str())
        .collect();
    let ready_keys: Vec<String> = ids.iter().map(|id| keys::zoom_ready(id)).collect();
    let ready: Vec<JobStatus> = rows_for_list(db, JOB_STATUSES, &ready_keys).await?;
    let zoom_pending: Vec<String> = rows_for_list(db, ZOOM_JOBS_PENDING, &ids).await?;
    let mut managed: Vec<ManagedSlotRow> = slots
        .into_iter()
        .map(|slot| ManagedSlotRow {
            slot,
            bookings: Vec::new(),
        })
        .collect();
    for booking in bookings {
        let key = keys::zoom_ready(&booking.id);
        let notified = ready.iter().any(|j| j.key == key && j.status == "done");
        let zoom_job_pending = zoom_pending.contains(&booking.id);
        if let Some(slot) = managed.iter_mut().find(|m| m.slot.id == booking.slot) {
            slot.bookings.push(ManagedBookingRow {
                booking,
                notified,
                zoom_job_pending,
            });
        }
    }
    Ok(managed)
}

/// One of a customer's bookings with its slot.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerBookingRow {
    pub index: u32,
    pub has_meeting: bool,
    pub attendance: Option<crate::model::Attendance>,
    pub outcome: Option<crate::model::Outcome>,
    pub slot: SlotRow,
}

/// Every booking of a customer with its slot: one query, following the record link.
pub async fn booked_by(db: &Db, customer: &str) -> Result<Vec<CustomerBookingRow>, DbError> {
    run(db, &booked_by_sql(), json!({ "customer": customer }))
        .await?
        .all(0)
}

pub(crate) fn booked_by_sql() -> String {
    format!(
        "SELECT index, zoom_meeting != NONE AS has_meeting, attendance, outcome,
            (SELECT {SLOT_FIELDS} FROM ONLY $parent.slot) AS slot
        FROM booking WHERE customer = type::record('user', $customer) AND record::exists(slot)"
    )
}

/// A whole slot's cancellation, computed from the slot as `seen_*` describe it.
pub struct CancelSlot<'a> {
    pub id: &'a str,
    pub reason: &'a str,
    pub seen_next_index: u32,
    pub seen_booked: u32,
    pub seen_schedule_version: u32,
    /// The waitlist entries still waiting, as the emails to them were written.
    pub seen_waiters: &'a [String],
    /// The emails and webhook events, as jobs.
    pub jobs: &'a [NewJob],
    /// The reminders of the cancelled bookings and of the slot.
    pub cancel_keys: &'a [String],
}

/// Why a slot's cancellation was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelSlotRefusal {
    AlreadyCancelled,
    /// A booking, cancellation or edit landed since the slot was read: read it again.
    Changed,
}

impl CancelSlotRefusal {
    const ALL: [Self; 2] = [Self::AlreadyCancelled, Self::Changed];

    fn tag(self) -> &'static str {
        match self {
            Self::AlreadyCancelled => "cancel-slot:already",
            Self::Changed => "cancel-slot:changed",
        }
    }
}

/// Cancels every active booking of the slot (status, emails, meeting deletions), closes its
/// waitlist (refused as changed unless those waiting are `seen_waiters`) and takes the slot
/// out of browsing, in one transaction.
pub async fn cancel(db: &Db, c: &CancelSlot<'_>) -> Result<Result<(), CancelSlotRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $id);
        LET $s = (SELECT * FROM $slot)[0];
        IF $s.cancelled_at != NONE {{ THROW '{already}'; }};
        IF $s.next_index != $seen_next_index OR $s.booked != $seen_booked
            OR $s.schedule_version != $seen_version {{ THROW '{changed}'; }};
        FOR $b IN (SELECT * FROM booking WHERE slot = $slot AND status = 'active') {{
            UPDATE $b.id SET status = 'cancelled', cancelled_at = time::now(),
                cancelled_by = 'specialist', cancellation_reason = $reason, zoom_claim = NONE;
            {delete_meeting}
        }};
        UPDATE $slot SET booked = 0, cancelled_at = time::now();
        LET $closed = (UPDATE waitlist SET status = 'closed' WHERE slot = $slot AND status = 'waiting'
            RETURN VALUE record::id(id));
        IF array::sort($closed) != array::sort($seen_waiters) {{ THROW '{changed}'; }};
        {queue}
        {cancel_jobs}
        COMMIT TRANSACTION;",
        cancel_jobs = super::jobs::cancel_statement("cancel_keys"),
        already = CancelSlotRefusal::AlreadyCancelled.tag(),
        changed = CancelSlotRefusal::Changed.tag(),
        delete_meeting = super::jobs::zoom_delete_statement("b"),
        queue = queue_statement("jobs"),
    );
    let result = run(
        db,
        &sql,
        json!({
            "id": c.id, "reason": c.reason, "seen_next_index": c.seen_next_index,
            "seen_booked": c.seen_booked, "seen_version": c.seen_schedule_version,
            "seen_waiters": c.seen_waiters,
            "jobs": jobs::bind(c.jobs), "cancel_keys": c.cancel_keys,
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Ok(())),
        Err(e) => refused(e, &CancelSlotRefusal::ALL, CancelSlotRefusal::tag),
    }
}

/// The ids of the specialist's slots still to start and not cancelled.
pub async fn upcoming_of_specialist(db: &Db, specialist: &str) -> Result<Vec<String>, DbError> {
    run(
        db,
        "SELECT VALUE record::id(id) FROM slot
            WHERE specialist = type::record('user', $specialist) AND cancelled_at = NONE
                AND starts_at > time::now()",
        json!({ "specialist": specialist }),
    )
    .await?
    .all(0)
}
