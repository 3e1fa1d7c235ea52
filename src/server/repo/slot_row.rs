//! A slot as the repositories read it, shared by the slots, bookings and waitlist queries
//! (a module of its own, so none of them imports another for it).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::SlotView;

#[derive(Debug, Clone, Deserialize)]
pub struct SlotRow {
    pub id: String,
    pub specialist: String,
    pub host: SlotHost,
    #[serde(flatten)]
    pub fields: SlotFields,
    pub booked: u32,
    pub next_index: u32,
    pub schedule_version: u32,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Customers on the waitlist, where the query counts them.
    #[serde(default)]
    pub waiting: u32,
}

impl SlotRow {
    pub fn view(&self) -> SlotView {
        let f = &self.fields;
        SlotView {
            id: self.id.clone(),
            specialist_id: self.specialist.clone(),
            specialist_name: self.host.name.clone(),
            title: f.title.clone(),
            description: f.description.clone(),
            date: f.date.clone(),
            start_time: f.start_time.clone(),
            timezone: f.timezone.clone(),
            starts_at: f.starts_at,
            duration: f.duration,
            capacity: f.capacity,
            booked: self.booked,
            waiting: self.waiting,
            seats_left: f.capacity.saturating_sub(self.booked),
            guest_booking: self.host.guest_booking.unwrap_or_default(),
        }
    }
}

/// The slot's specialist as [`SlotRow::host`] holds them.
#[derive(Debug, Clone, Deserialize)]
pub struct SlotHost {
    pub name: String,
    pub email: String,
    pub timezone: String,
    /// Automatic meeting creation, minutes before the start.
    pub auto_create_minutes: Option<u32>,
    /// Whether the specialist confirmed their address: notifications that others cause are
    /// budgeted per day until they do.
    #[serde(default)]
    pub email_verified: bool,
    /// Whether visitors without an account may book (`NONE` until set: the default).
    #[serde(default)]
    pub guest_booking: Option<crate::model::GuestBooking>,
}

/// The host is read as one object: each `specialist.<field>` of its own fetched and decoded
/// the whole user record again (a browse page on the database alone, 16 at a time: 1.7k/s
/// with four of them, 2.8k/s with one).
pub const SLOT_FIELDS: &str = "record::id(id) AS id, record::id(specialist) AS specialist,
    specialist.{name, email, timezone, auto_create_minutes, email_verified, guest_booking} AS host, title, description, date,
    start_time, timezone, starts_at, duration, capacity, booked, next_index, schedule_version,
    cancelled_at";

/// What a specialist sets on a slot, validated by the service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotFields {
    pub title: String,
    pub description: Option<String>,
    pub date: String,
    pub start_time: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub duration: u32,
    pub capacity: u32,
}

impl SlotFields {
    /// When the session is over, as scheduled.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(i64::from(self.duration))
    }
}
