//! What a calendar feed lists: a user's bookings from 30 days back on, each with its slot.

use serde_json::json;

use super::bookings::{BookingRow, BOOKING_FIELDS};
use super::rows_for_records;
use super::slots::{managed_bookings_sql, SlotRow, SLOT_FIELDS};
use crate::server::db::{run, Db, DbError};

/// How far back a feed reaches.
const FEED_PAST: &str = "30d";

/// A customer's bookings (all but those moved on: their successor carries the event), with
/// their slots, from 30 days back on.
pub async fn of_customer(db: &Db, customer: &str) -> Result<Vec<(SlotRow, BookingRow)>, DbError> {
    let bookings: Vec<BookingRow> = run(
        db,
        &format!(
            "SELECT {BOOKING_FIELDS} FROM booking
            WHERE customer = type::record('user', $customer) AND status != 'rescheduled'"
        ),
        json!({ "customer": customer }),
    )
    .await?
    .all(0)?;
    let slot_ids: Vec<&str> = bookings.iter().map(|b| b.slot.as_str()).collect();
    let slots: Vec<SlotRow> = rows_for_records(
        db,
        "slot",
        &format!("SELECT {SLOT_FIELDS} FROM $records WHERE starts_at > time::now() - {FEED_PAST}"),
        &slot_ids,
    )
    .await?;
    Ok(pair(slots, bookings))
}

/// Every booking of a specialist's slots from 30 days back on, with its slot.
pub async fn of_specialist(
    db: &Db,
    specialist: &str,
) -> Result<Vec<(SlotRow, BookingRow)>, DbError> {
    let slots: Vec<SlotRow> = run(
        db,
        &format!(
            "SELECT {SLOT_FIELDS} FROM slot WHERE specialist = type::record('user', $specialist)
                AND starts_at > time::now() - {FEED_PAST} AND next_index > 0"
        ),
        json!({ "specialist": specialist }),
    )
    .await?
    .all(0)?;
    let slot_ids: Vec<&str> = slots.iter().map(|s| s.id.as_str()).collect();
    let bookings: Vec<BookingRow> =
        rows_for_records(db, "slot", &managed_bookings_sql(), &slot_ids).await?;
    Ok(pair(slots, bookings))
}

/// Each booking with its slot (bookings whose slot was not read are left out), soonest first.
fn pair(slots: Vec<SlotRow>, bookings: Vec<BookingRow>) -> Vec<(SlotRow, BookingRow)> {
    let mut pairs: Vec<(SlotRow, BookingRow)> = bookings
        .into_iter()
        .filter_map(|b| {
            let slot = slots.iter().find(|s| s.id == b.slot)?.clone();
            Some((slot, b))
        })
        .collect();
    pairs.sort_by_key(|(s, b)| (s.fields.starts_at, b.index));
    pairs
}
