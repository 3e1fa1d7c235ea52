//! Reminders: jobs scheduled in the transaction that books, moves or reschedules, cancelled in
//! the one that cancels, and rendered when they run, from the booking, slot, meeting and
//! recipient as they are then. A reminder whose slot has moved since it was queued stays
//! silent: the move queued its successor.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{JobKind, NewJob};
use crate::model::BookingStatus;
use crate::server::config::HttpConfig;
use crate::server::db::Db;
use crate::server::mail::templates::{self, Appointment, MeetingDetails};
use crate::server::mail::OutgoingEmail;
use crate::server::manage_links::ManageLinks;
use crate::server::repo::{bookings, slots, users};

/// What a reminder job remembers: whom to remind of what, and for which version of the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Reminder {
    Customer {
        booking_id: String,
        offset_seconds: u64,
        version: u32,
    },
    Specialist {
        slot_id: String,
        offset_seconds: u64,
        version: u32,
    },
}

fn customer_key(booking_id: &str, offset: Duration, version: u32) -> String {
    format!(
        "reminder:{booking_id}:customer:{}s:v{version}",
        offset.as_secs()
    )
}

fn specialist_key(slot_id: &str, offset: Duration, version: u32) -> String {
    format!(
        "reminder:slot:{slot_id}:specialist:{}s:v{version}",
        offset.as_secs()
    )
}

/// A job at `starts_at - offset`, or none when that moment has passed (a booking made 2 hours
/// before the start gets no 24-hour reminder).
fn at(
    key: String,
    reminder: Reminder,
    starts_at: DateTime<Utc>,
    offset: Duration,
) -> Option<NewJob> {
    let due = starts_at - chrono::Duration::from_std(offset).ok()?;
    let delay = (due - Utc::now()).num_seconds();
    (delay > 0).then(|| NewJob {
        kind: JobKind::Reminder,
        key,
        payload: json!(reminder),
        delay_seconds: delay as u64,
    })
}

/// The reminders of one booking of a slot starting at `starts_at` (schedule `version`): the
/// customer's, and the specialist's for the slot (queued once per slot and version).
pub fn for_booking(
    config: &HttpConfig,
    slot_id: &str,
    starts_at: DateTime<Utc>,
    version: u32,
    booking_id: &str,
) -> Vec<NewJob> {
    let mut jobs: Vec<NewJob> = config
        .customer_reminders
        .iter()
        .filter_map(|offset| {
            at(
                customer_key(booking_id, *offset, version),
                Reminder::Customer {
                    booking_id: booking_id.into(),
                    offset_seconds: offset.as_secs(),
                    version,
                },
                starts_at,
                *offset,
            )
        })
        .collect();
    let offset = config.specialist_reminder;
    jobs.extend(at(
        specialist_key(slot_id, offset, version),
        Reminder::Specialist {
            slot_id: slot_id.into(),
            offset_seconds: offset.as_secs(),
            version,
        },
        starts_at,
        offset,
    ));
    jobs
}

/// The keys of a booking's customer reminders at `version`, to cancel them.
pub fn customer_keys(config: &HttpConfig, booking_id: &str, version: u32) -> Vec<String> {
    config
        .customer_reminders
        .iter()
        .map(|o| customer_key(booking_id, *o, version))
        .collect()
}

/// The key of a slot's specialist reminder at `version`.
pub fn specialist_keys(config: &HttpConfig, slot_id: &str, version: u32) -> Vec<String> {
    vec![specialist_key(slot_id, config.specialist_reminder, version)]
}

/// "30 minutes", "24 hours", "2 days", "45 seconds".
pub fn humanise(offset: Duration) -> String {
    let s = offset.as_secs();
    let (n, unit) = if s.is_multiple_of(86_400) && s >= 2 * 86_400 {
        (s / 86_400, "day")
    } else if s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Renders the reminder as things stand now; `None` when there is nothing to say (cancelled,
/// moved since, reminders turned off, every meeting created).
pub async fn render(
    db: &Db,
    base_url: &str,
    links: &ManageLinks,
    reminder: &Reminder,
) -> anyhow::Result<Option<OutgoingEmail>> {
    match reminder {
        Reminder::Customer {
            booking_id,
            offset_seconds,
            version,
        } => {
            let Some(booking) = bookings::by_id(db, booking_id).await? else {
                return Ok(None);
            };
            if booking.status != BookingStatus::Active {
                return Ok(None);
            }
            let slot = slots::by_id(db, &booking.slot)
                .await?
                .context("the booking's slot")?;
            if slot.schedule_version != *version {
                return Ok(None);
            }
            // An account's or a guest's: either has the setting and its unsubscribe token.
            let customer = bookings::customer_reminders(db, &booking.id).await?;
            let Some(customer) = customer.filter(|c| c.reminders_enabled) else {
                return Ok(None);
            };
            let meeting = booking.zoom_meeting.as_ref().map(MeetingDetails::from);
            let appointment = Appointment::for_booking(&slot, &booking, links);
            Ok(Some(templates::reminder_customer(
                &appointment,
                meeting.as_ref(),
                &humanise(Duration::from_secs(*offset_seconds)),
                &templates::ReminderLinks {
                    page: appointment.manage_url(),
                    unsubscribe: unsubscribe_url(base_url, &customer.unsubscribe_token),
                },
            )))
        }
        Reminder::Specialist {
            slot_id,
            offset_seconds,
            version,
        } => {
            let Some(slot) = slots::by_id(db, slot_id).await? else {
                return Ok(None);
            };
            if slot.schedule_version != *version || slot.cancelled_at.is_some() {
                return Ok(None);
            }
            let specialist = users::by_id(db, &slot.specialist).await?;
            let Some(specialist) = specialist.filter(|s| s.reminders_enabled) else {
                return Ok(None);
            };
            let waiting: Vec<String> = bookings::of_slot(db, slot_id)
                .await?
                .into_iter()
                .filter(|b| b.status == BookingStatus::Active && b.zoom_meeting.is_none())
                .map(|b| b.customer_name)
                .collect();
            if waiting.is_empty() {
                return Ok(None);
            }
            Ok(Some(templates::reminder_specialist(
                &slot,
                &waiting,
                &humanise(Duration::from_secs(*offset_seconds)),
                &templates::ReminderLinks {
                    page: format!("{base_url}/specialist/meetings"),
                    unsubscribe: unsubscribe_url(base_url, &specialist.unsubscribe_token),
                },
            )))
        }
    }
}

pub fn unsubscribe_url(base_url: &str, token: &str) -> String {
    format!("{base_url}/unsubscribe?token={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_people_say_them() {
        assert_eq!(humanise(Duration::from_secs(30 * 60)), "30 minutes");
        assert_eq!(humanise(Duration::from_secs(24 * 3600)), "24 hours");
        assert_eq!(humanise(Duration::from_secs(3600)), "1 hour");
        assert_eq!(humanise(Duration::from_secs(2 * 86_400)), "2 days");
        assert_eq!(humanise(Duration::from_secs(45)), "45 seconds");
    }

    #[test]
    fn reminders_already_past_are_not_queued() {
        let config = crate::server::config::Config::from_lookup(|_| None)
            .unwrap()
            .http;
        let soon = Utc::now() + chrono::Duration::hours(2);
        let jobs = for_booking(&config, "s1", soon, 0, "b1");
        let keys: Vec<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "reminder:b1:customer:1800s:v0",
                "reminder:slot:s1:specialist:3600s:v0"
            ]
        );
        assert!(jobs[0].delay_seconds > 5000 && jobs[0].delay_seconds <= 5400);
    }
}
