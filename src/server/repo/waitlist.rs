//! The waitlist of full slots: join and leave, and the promotion of the first customer waiting
//! inside the transaction that frees a seat.

use serde::Deserialize;
use serde_json::json;

use super::slot_row::{SlotRow, SLOT_FIELDS};
use super::{refused, rows_for_records};
use crate::server::db::{run, Db, DbError};

/// Why a customer could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    Missing,
    Started,
    SeatsAvailable,
    Booked,
    AlreadyWaiting,
}

impl JoinRefusal {
    const ALL: [Self; 5] = [
        Self::Missing,
        Self::Started,
        Self::SeatsAvailable,
        Self::Booked,
        Self::AlreadyWaiting,
    ];

    fn tag(self) -> &'static str {
        match self {
            Self::Missing => "wait:missing",
            Self::Started => "wait:started",
            Self::SeatsAvailable => "wait:seats-available",
            Self::Booked => "wait:booked",
            Self::AlreadyWaiting => "wait:already",
        }
    }
}

/// Joins the slot's waitlist; returns the place (1 = next to be promoted).
pub async fn join(
    db: &Db,
    slot_id: &str,
    customer_id: &str,
    email: &str,
    name: &str,
) -> Result<Result<u32, JoinRefusal>, DbError> {
    use JoinRefusal::*;
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $slot_id);
        LET $customer = type::record('user', $customer_id);
        LET $s = (SELECT * FROM $slot)[0];
        IF $s = NONE {{ THROW '{missing}'; }};
        IF $s.starts_at <= time::now() OR $s.cancelled_at != NONE {{ THROW '{started}'; }};
        IF $s.booked < $s.capacity {{ THROW '{seats}'; }};
        IF array::len((SELECT id FROM booking WHERE slot = $slot AND customer = $customer AND status = 'active')) > 0 {{
            THROW '{booked}';
        }};
        IF array::len((SELECT id FROM waitlist WHERE slot = $slot AND customer = $customer AND status = 'waiting')) > 0 {{
            THROW '{already}';
        }};
        LET $next = (UPDATE $slot SET waitlist_seq += 1 RETURN AFTER)[0].waitlist_seq;
        CREATE waitlist CONTENT {{
            slot: $slot, customer: $customer, customer_email: $email, customer_name: $name,
            seq: $next, status: 'waiting'
        }};
        COMMIT TRANSACTION;
        SELECT VALUE count() FROM waitlist WHERE slot = type::record('slot', $slot_id) AND status = 'waiting'
            AND seq <= (SELECT VALUE seq FROM waitlist WHERE slot = type::record('slot', $slot_id)
                AND customer = type::record('user', $customer_id) AND status = 'waiting')[0] GROUP ALL;",
        missing = Missing.tag(),
        started = Started.tag(),
        seats = SeatsAvailable.tag(),
        booked = Booked.tag(),
        already = AlreadyWaiting.tag(),
    );
    let result = run(
        db,
        &sql,
        json!({ "slot_id": slot_id, "customer_id": customer_id, "email": email, "name": name }),
    )
    .await;
    match result {
        Ok(mut rows) => Ok(Ok(rows.last::<u32>()?.unwrap_or(1))),
        Err(e) => refused(e, &JoinRefusal::ALL, JoinRefusal::tag),
    }
}

/// Leaves the slot's waitlist; whether the customer was waiting.
pub async fn leave(db: &Db, slot_id: &str, customer_id: &str) -> Result<bool, DbError> {
    let mut rows = run(
        db,
        "UPDATE waitlist SET status = 'left'
            WHERE slot = type::record('slot', $slot_id) AND customer = type::record('user', $customer_id)
                AND status = 'waiting'
            RETURN VALUE record::id(id);",
        json!({ "slot_id": slot_id, "customer_id": customer_id }),
    )
    .await?;
    Ok(rows.first::<String>(0)?.is_some())
}

/// The first customer waiting for a seat in a slot.
#[derive(Debug, Clone, Deserialize)]
pub struct Waiter {
    pub id: String,
    pub customer: String,
    pub customer_email: String,
    pub customer_name: String,
    pub customer_timezone: String,
}

/// A customer's place on a waitlist.
#[derive(Debug, Clone, Deserialize)]
pub struct Place {
    pub slot: SlotRow,
    pub position: u32,
}

/// The customer's places in line: their slots and sequence numbers.
pub(crate) const PLACES_OF_CUSTOMER: &str = "SELECT record::id(slot) AS slot, seq FROM waitlist
    WHERE customer = type::record('user', $customer) AND status = 'waiting'";

/// Everyone waiting for the slots in `$records`, to count who is ahead. (A count per place in
/// a subquery on `$parent.slot` walked the whole waitlist table for each place.)
pub(crate) const WAITING_FOR_SLOTS: &str =
    "SELECT record::id(slot) AS slot, seq FROM waitlist WHERE slot IN $records AND status = 'waiting'";

#[derive(Deserialize)]
struct InLine {
    slot: String,
    seq: u64,
}

/// Where the customer waits, soonest slot first. Most customers wait nowhere: that takes one
/// statement, and the slots and lines are read only for places there are.
pub async fn places_of(db: &Db, customer_id: &str) -> Result<Vec<Place>, DbError> {
    let mine: Vec<InLine> = run(db, PLACES_OF_CUSTOMER, json!({ "customer": customer_id }))
        .await?
        .all(0)?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = mine.iter().map(|m| m.slot.as_str()).collect();
    let slots_of = format!("SELECT {SLOT_FIELDS} FROM $records");
    let slots: Vec<SlotRow> = rows_for_records(db, "slot", &slots_of, &ids).await?;
    let everyone: Vec<InLine> = rows_for_records(db, "slot", WAITING_FOR_SLOTS, &ids).await?;
    let mut places: Vec<Place> = slots
        .into_iter()
        .filter_map(|slot| {
            let me = mine.iter().find(|m| m.slot == slot.id)?;
            let position = everyone
                .iter()
                .filter(|w| w.slot == me.slot && w.seq <= me.seq)
                .count() as u32;
            Some(Place { position, slot })
        })
        .collect();
    places.sort_by_key(|p| p.slot.fields.starts_at);
    Ok(places)
}

/// A promotion of the first customer waiting into a free seat, with its new booking's id.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Promotion {
    pub waiter_id: String,
    pub booking_id: String,
}

/// SurrealQL for a transaction that frees or adds seats in the slot `$<slot_var>`: books the
/// customers waiting, in order, as `$<list_var>` (promotions) names them, and refuses
/// (`changed_tag`) when the line is not as the caller saw it, or a seat stays free while
/// someone still waits.
pub fn promote_statement(slot_var: &str, list_var: &str, changed_tag: &str) -> String {
    format!(
        "IF array::len(${list_var}) > 0 AND (SELECT VALUE cancelled_at FROM ${slot_var})[0] != NONE {{
            THROW '{changed_tag}';
        }};
        FOR $p IN ${list_var} {{
            LET $w = (SELECT * FROM waitlist WHERE slot = ${slot_var} AND status = 'waiting' ORDER BY seq LIMIT 1)[0];
            IF $w = NONE OR record::id($w.id) != $p.waiter_id {{ THROW '{changed_tag}'; }};
            LET $seat = (UPDATE ${slot_var} SET booked += 1, next_index += 1 WHERE booked < capacity RETURN AFTER)[0];
            IF $seat = NONE {{ THROW '{changed_tag}'; }};
            CREATE type::record('booking', $p.booking_id) CONTENT {{
                slot: ${slot_var}, index: $seat.next_index - 1, customer: $w.customer,
                customer_email: $w.customer_email, customer_name: $w.customer_name,
                booked_at: time::now(), status: 'active', promoted_at: time::now()
            }};
            UPDATE $w.id SET status = 'promoted',
                promoted_booking = type::record('booking', $p.booking_id);
        }};
        LET $after = (SELECT booked, capacity FROM ${slot_var})[0];
        IF $after.booked < $after.capacity
            AND array::len((SELECT id FROM waitlist WHERE slot = ${slot_var} AND status = 'waiting')) > 0 {{
            THROW '{changed_tag}';
        }};"
    )
}

const WAITING: &str =
    "SELECT record::id(id) AS id, record::id(customer) AS customer, customer_email,
        customer_name, customer.timezone AS customer_timezone, seq
    FROM waitlist WHERE slot = type::record('slot', $slot_id) AND status = 'waiting'
    ORDER BY seq";

/// The first `n` customers waiting for a seat in a slot, in order.
pub async fn first_waiting_n(db: &Db, slot_id: &str, n: u32) -> Result<Vec<Waiter>, DbError> {
    run(
        db,
        &format!("{WAITING} LIMIT $n"),
        json!({ "slot_id": slot_id, "n": n }),
    )
    .await?
    .all(0)
}

/// Every customer waiting for a seat in a slot, in order.
pub async fn all_waiting(db: &Db, slot_id: &str) -> Result<Vec<Waiter>, DbError> {
    run(db, WAITING, json!({ "slot_id": slot_id }))
        .await?
        .all(0)
}

/// Closes the slot's waitlist; returns those who were still waiting.
pub async fn close(db: &Db, slot_id: &str) -> Result<Vec<Waiter>, DbError> {
    run(
        db,
        "UPDATE waitlist SET status = 'closed'
            WHERE slot = type::record('slot', $slot_id) AND status = 'waiting'
            RETURN record::id(id) AS id, record::id(customer) AS customer, customer_email,
                customer_name, customer.timezone AS customer_timezone;",
        json!({ "slot_id": slot_id }),
    )
    .await?
    .all(0)
}
