//! Outgoing webhooks, the Standard Webhooks way: a specialist's endpoints receive signed JSON
//! messages about their bookings. An event is queued as a job in the transaction of the
//! change it reports; that job writes one delivery per subscribed endpoint, and each
//! delivery is sent by jobs of its own, retried with back-off for a day.

pub mod client;
pub mod signature;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a message reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "booking.created")]
    BookingCreated,
    #[serde(rename = "booking.cancelled")]
    BookingCancelled,
    #[serde(rename = "booking.rescheduled")]
    BookingRescheduled,
    #[serde(rename = "meeting.created")]
    MeetingCreated,
    #[serde(rename = "meeting.deleted")]
    MeetingDeleted,
    #[serde(rename = "attendance.recorded")]
    AttendanceRecorded,
}

impl EventType {
    pub const ALL: [Self; 6] = [
        Self::BookingCreated,
        Self::BookingCancelled,
        Self::BookingRescheduled,
        Self::MeetingCreated,
        Self::MeetingDeleted,
        Self::AttendanceRecorded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingCreated => "booking.created",
            Self::BookingCancelled => "booking.cancelled",
            Self::BookingRescheduled => "booking.rescheduled",
            Self::MeetingCreated => "meeting.created",
            Self::MeetingDeleted => "meeting.deleted",
            Self::AttendanceRecorded => "attendance.recorded",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An event as its change queued it: which booking, and what only the moment knew (a
/// reason, the meeting deleted). The message is rendered from the booking as it is when the
/// event job runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub event_type: EventType,
    pub specialist_id: String,
    pub booking_id: String,
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub details: Value,
}

/// One attempt at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: String,
    /// Counts from 1; a replay continues the count.
    pub attempt: u32,
}

/// A specialist's sends under way at most, across instances: one endpoint that never answers
/// holds one, and a specialist with many holds this many (G1).
pub const SENDS_PER_SPECIALIST: usize = 2;

/// How long a turn to send is held at most: the attempt's own limit and a margin. A crashed
/// instance's turn lapses after this.
pub const TURN_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// A delivery that waits: its endpoint has a send under way, or its specialist has
/// [`SENDS_PER_SPECIALIST`]. The worker queues it again after `wait` without spending an attempt.
#[derive(Debug, thiserror::Error)]
#[error("waiting its turn: the endpoint or its specialist has sends under way")]
pub struct EndpointBusy {
    pub wait: std::time::Duration,
}

/// How long a delivery waits for its turn, given when the sends in its way started: one that
/// started under a second ago likely ends soon (a healthy endpoint with a burst of deliveries);
/// one running longer is slow, and ends by the attempt's time limit. Waiting for that instead
/// of polling keeps an endpoint that never answers from costing a claim per delivery per second.
pub fn turn_wait(in_the_way: &[DateTime<Utc>], now: DateTime<Utc>) -> std::time::Duration {
    let limit = client::ATTEMPT_TIMEOUT;
    let second = std::time::Duration::from_secs(1);
    in_the_way
        .iter()
        .map(|started| {
            let running = (now - *started).to_std().unwrap_or_default();
            if running < second {
                second
            } else {
                limit.saturating_sub(running).max(second)
            }
        })
        .min()
        .unwrap_or(second)
}

/// Delays before each retry, from the Standard Webhooks schedule; the last one repeats until
/// the retry window (24 hours) is over.
pub const RETRY_SCHEDULE_SECONDS: [u64; 6] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600];

/// The wait before attempt `attempt + 1` after attempt `attempt` failed.
pub fn retry_delay(attempt: u32) -> std::time::Duration {
    let i = (attempt.max(1) as usize - 1).min(RETRY_SCHEDULE_SECONDS.len() - 1);
    std::time::Duration::from_secs(RETRY_SCHEDULE_SECONDS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_event_list_is_this_one() {
        assert_eq!(
            EventType::ALL.map(EventType::as_str),
            crate::model::WEBHOOK_EVENTS
        );
    }

    #[test]
    fn event_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(EventType::parse("booking.deleted"), None);
    }

    #[test]
    fn a_delivery_waits_briefly_behind_a_fresh_send_and_long_behind_a_slow_one() {
        let now = Utc::now();
        let ago = |ms| now - chrono::Duration::milliseconds(ms);
        assert_eq!(turn_wait(&[ago(200)], now).as_secs(), 1);
        assert_eq!(turn_wait(&[ago(5_000)], now).as_secs(), 10);
        assert_eq!(turn_wait(&[ago(5_000), ago(100)], now).as_secs(), 1);
        assert_eq!(turn_wait(&[ago(60_000)], now).as_secs(), 1);
        assert_eq!(turn_wait(&[], now).as_secs(), 1);
    }

    #[test]
    fn retries_back_off_to_ten_hours() {
        assert_eq!(retry_delay(1).as_secs(), 5);
        assert_eq!(retry_delay(2).as_secs(), 300);
        assert_eq!(retry_delay(6).as_secs(), 36_000);
        assert_eq!(retry_delay(60).as_secs(), 36_000);
    }
}
