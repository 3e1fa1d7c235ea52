//! A booking read with its slot in one query (one round trip and one transaction where
//! separate reads took one each): an appointment as its details page shows it, and a booking
//! as the worker follows it up.

use serde::Deserialize;
use serde_json::json;

use crate::model::RecordingView;
use crate::server::db::{is_valid_key, run, Db, DbError};
use crate::server::jobs::keys::ZOOM_READY;

use super::bookings::{BookingRow, BOOKING_FIELDS};
use super::recordings::{StoredRecording, STORED_RECORDING_FIELDS};
use super::slots::{SlotRow, SLOT_FIELDS};

/// Booking `index` of a slot, with the slot and what its page shows about it.
pub struct AppointmentRows {
    pub slot: SlotRow,
    pub booking: BookingRow,
    /// The meeting's Ready email has been sent (only a booking with a meeting has one).
    pub notified: bool,
    pub recordings: Vec<RecordingView>,
}

#[derive(Deserialize)]
struct Read {
    slot: Option<SlotRow>,
    booking: Option<BookingRow>,
    ready: Option<String>,
    #[serde(default)]
    recordings: Vec<StoredRecording>,
}

/// Booking `index` of slot `slot_id` with its slot; `None` when either does not exist.
pub async fn by_slot_index(
    db: &Db,
    slot_id: &str,
    index: u32,
) -> Result<Option<AppointmentRows>, DbError> {
    if !is_valid_key(slot_id) {
        return Ok(None);
    }
    let sql = format!(
        "LET $slot = type::record('slot', $slot_id);
        LET $b = (SELECT {BOOKING_FIELDS} FROM booking WHERE slot = $slot AND index = $index)[0];
        RETURN {{
            slot: (SELECT {SLOT_FIELDS} FROM $slot)[0],
            booking: $b,
            ready: IF $b.zoom_meeting != NONE {{
                (SELECT VALUE status FROM job
                    WHERE key = string::concat('{ready_prefix}', $b.id, '{ready_suffix}'))[0]
            }} ELSE {{ NONE }},
            recordings: IF $b != NONE {{
                (SELECT {STORED_RECORDING_FIELDS} FROM recording
                    WHERE booking = type::record('booking', $b.id) AND status = 'stored'
                    ORDER BY created_at)
            }} ELSE {{ [] }},
        }};",
        ready_prefix = ZOOM_READY.0,
        ready_suffix = ZOOM_READY.1,
    );
    let read: Option<Read> = run(db, &sql, json!({ "slot_id": slot_id, "index": index }))
        .await?
        .last()?;
    let Some(Read {
        slot: Some(slot),
        booking: Some(booking),
        ready,
        recordings,
    }) = read
    else {
        return Ok(None);
    };
    Ok(Some(AppointmentRows {
        slot,
        booking,
        notified: ready.as_deref() == Some("done"),
        recordings: recordings.into_iter().map(|r| r.into_view().1).collect(),
    }))
}

/// Booking `booking_id` with its slot, in one query; `None` when either is gone.
pub async fn by_booking_id(
    db: &Db,
    booking_id: &str,
) -> Result<Option<(BookingRow, SlotRow)>, DbError> {
    if !is_valid_key(booking_id) {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Read {
        booking: Option<BookingRow>,
        slot: Option<SlotRow>,
    }
    let sql = format!(
        "LET $b = (SELECT {BOOKING_FIELDS} FROM type::record('booking', $id))[0];
        RETURN {{
            booking: $b,
            slot: IF $b != NONE {{
                (SELECT {SLOT_FIELDS} FROM type::record('slot', $b.slot))[0]
            }} ELSE {{ NONE }},
        }};"
    );
    let read: Option<Read> = run(db, &sql, json!({ "id": booking_id })).await?.last()?;
    Ok(match read {
        Some(Read {
            booking: Some(booking),
            slot: Some(slot),
        }) => Some((booking, slot)),
        _ => None,
    })
}
