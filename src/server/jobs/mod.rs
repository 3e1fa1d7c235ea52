//! The durable job queue: everything that follows a change outside its transaction (emails,
//! Zoom deletions and updates) is a job row written in that transaction, and a worker runs it
//! with a lease, backs off on failure and ends `failed` with the error kept.

pub mod availability_tick;
pub mod cleanup;
pub mod keys;
mod mail_outage;
pub mod reminders;
pub mod worker;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::mail::OutgoingEmail;
use super::outgoing_webhooks::{DeliveryJob, EventType, QueuedEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Email,
    ZoomDelete,
    ZoomUpdate,
    Reminder,
    AutoCreate,
    /// Closes a slot's waitlist when it starts and tells those still waiting.
    WaitlistClose,
    /// Finds and deletes the meeting an unanswered creation may have left at Zoom for a
    /// booking that was cancelled or moved away since.
    ZoomSweep,
    /// Applies one webhook delivery from Zoom.
    ZoomEvent,
    /// Reads Zoom's report of a past meeting's participants, for what the webhooks missed.
    AttendanceCheck,
    /// Copies one cloud recording file from Zoom to the object store.
    RecordingFetch,
    /// Writes one delivery per endpoint subscribed to an outgoing webhook event.
    WebhookEvent,
    /// One attempt at sending an outgoing webhook delivery.
    WebhookDelivery,
    /// Turns a booking just made into its emails, invites, reminders, automatic meeting and
    /// webhook event, rendered from the booking as it is then (the booking's transaction
    /// writes only this).
    BookingCreated,
    /// Makes an offering's sessions what its schedule says, up to its booking window.
    OfferingSessions,
    /// Reads one of a specialist's own calendars for its busy times.
    BusyCalendarFetch,
    /// Releases a guest's held seat that was not confirmed in time.
    GuestHoldRelease,
}

impl JobKind {
    pub const ALL: [Self; 16] = [
        Self::Email,
        Self::ZoomDelete,
        Self::ZoomUpdate,
        Self::Reminder,
        Self::AutoCreate,
        Self::WaitlistClose,
        Self::ZoomSweep,
        Self::ZoomEvent,
        Self::AttendanceCheck,
        Self::RecordingFetch,
        Self::WebhookEvent,
        Self::WebhookDelivery,
        Self::BookingCreated,
        Self::OfferingSessions,
        Self::BusyCalendarFetch,
        Self::GuestHoldRelease,
    ];

    /// The name the schema stores (and the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::ZoomDelete => "zoom_delete",
            Self::ZoomUpdate => "zoom_update",
            Self::Reminder => "reminder",
            Self::AutoCreate => "auto_create",
            Self::WaitlistClose => "waitlist_close",
            Self::ZoomSweep => "zoom_sweep",
            Self::ZoomEvent => "zoom_event",
            Self::AttendanceCheck => "attendance_check",
            Self::RecordingFetch => "recording_fetch",
            Self::WebhookEvent => "webhook_event",
            Self::WebhookDelivery => "webhook_delivery",
            Self::BookingCreated => "booking_created",
            Self::OfferingSessions => "offering_sessions",
            Self::BusyCalendarFetch => "busy_calendar_fetch",
            Self::GuestHoldRelease => "guest_hold_release",
        }
    }

    /// Whether running the job sends an email.
    pub fn sends_email(self) -> bool {
        matches!(self, Self::Email | Self::Reminder)
    }

    /// The lane the job is claimed in (the schema computes the same from the kind).
    pub fn lane(self) -> Lane {
        match self {
            Self::WebhookDelivery => Lane::Deliveries,
            _ => Lane::Main,
        }
    }
}

/// Jobs are claimed and run in two lanes, each with its own workers: deliveries to
/// specialists' endpoints wait on servers nobody here controls, and must never hold up
/// everyone's emails, reminders and meetings (G1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Main,
    Deliveries,
}

impl Lane {
    pub const ALL: [Self; 2] = [Self::Main, Self::Deliveries];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Deliveries => "deliveries",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// A job to queue.
#[derive(Debug, Clone, Serialize)]
pub struct NewJob {
    pub kind: JobKind,
    /// Unique: queuing a key again is a no-op, and a job is cancelled by its key.
    pub key: String,
    pub payload: Value,
    /// Seconds from now until it is due.
    pub delay_seconds: u64,
}

/// A deletion's key is this and the meeting id: one deletion per meeting.
pub const ZOOM_DELETE_KEY_PREFIX: &str = "zoom-delete:";

/// A sweep's key is this and the booking id: one sweep per booking.
pub const ZOOM_SWEEP_KEY_PREFIX: &str = "zoom-sweep:";

/// What a Zoom job acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoomJob {
    pub meeting_id: String,
    pub booking_id: String,
}

impl NewJob {
    pub fn email(email: &OutgoingEmail) -> Self {
        Self {
            kind: JobKind::Email,
            key: email.idempotency_key.clone(),
            payload: serde_json::to_value(email).expect("emails serialise"),
            delay_seconds: 0,
        }
    }

    /// Deletes the meeting at Zoom (a cancelled booking's).
    pub fn zoom_delete(meeting_id: &str, booking_id: &str) -> Self {
        Self {
            kind: JobKind::ZoomDelete,
            key: format!("{ZOOM_DELETE_KEY_PREFIX}{meeting_id}"),
            payload: json!(ZoomJob {
                meeting_id: meeting_id.into(),
                booking_id: booking_id.into()
            }),
            delay_seconds: 0,
        }
    }

    /// Looks for the meeting an unanswered creation may have made for the booking, and
    /// deletes it unless the booking is active again.
    pub fn zoom_sweep(booking_id: &str) -> Self {
        Self {
            kind: JobKind::ZoomSweep,
            key: format!("{ZOOM_SWEEP_KEY_PREFIX}{booking_id}"),
            payload: json!({ "booking_id": booking_id }),
            delay_seconds: 0,
        }
    }

    /// Puts a meeting changed in Zoom back at its booking's slot time, as its specialist asked
    /// at `requested_ms`.
    pub fn zoom_put_back(meeting_id: &str, booking_id: &str, requested_ms: i64) -> Self {
        Self {
            key: format!("zoom-update:{meeting_id}:{booking_id}:put-back:{requested_ms}"),
            ..Self::zoom_update(meeting_id, booking_id, 0)
        }
    }

    /// Moves the meeting at Zoom to its booking's slot as it stands when the job runs.
    /// `version` makes each move a job of its own.
    pub fn zoom_update(meeting_id: &str, booking_id: &str, version: u32) -> Self {
        Self {
            kind: JobKind::ZoomUpdate,
            key: format!("zoom-update:{meeting_id}:{booking_id}:{version}"),
            payload: json!(ZoomJob {
                meeting_id: meeting_id.into(),
                booking_id: booking_id.into()
            }),
            delay_seconds: 0,
        }
    }
}

impl NewJob {
    /// Applies the stored webhook delivery `event_id`.
    pub fn zoom_event(event_id: &str) -> Self {
        Self {
            kind: JobKind::ZoomEvent,
            key: format!("zoom-event:{event_id}"),
            payload: json!({ "event_id": event_id }),
            delay_seconds: 0,
        }
    }

    /// Reads the participants of the booking's meeting from Zoom `delay_seconds` from now.
    /// `occasion` tells the checks of one meeting apart (its scheduled end, each end Zoom
    /// reported).
    pub fn attendance_check(check: &AttendanceCheck, occasion: &str, delay_seconds: u64) -> Self {
        Self {
            kind: JobKind::AttendanceCheck,
            key: format!(
                "attendance-check:{}:{}:{occasion}",
                check.booking_id, check.meeting_id
            ),
            payload: json!(check),
            delay_seconds,
        }
    }
}

impl NewJob {
    /// Reports `event_type` about a booking to the specialist's webhook endpoints.
    /// `occasion` tells events of one type and booking apart (a meeting id, an outcome).
    pub fn webhook_event(
        event_type: EventType,
        specialist_id: &str,
        booking_id: &str,
        occasion: &str,
        details: Value,
    ) -> Self {
        let event = QueuedEvent {
            event_type,
            specialist_id: specialist_id.into(),
            booking_id: booking_id.into(),
            occurred_at: chrono::Utc::now(),
            details,
        };
        Self {
            kind: JobKind::WebhookEvent,
            key: format!(
                "webhook-event:{}:{booking_id}:{occasion}",
                event_type.as_str()
            ),
            payload: json!(event),
            delay_seconds: 0,
        }
    }

    /// Attempt `attempt` at sending a webhook delivery, `delay_seconds` from now.
    pub fn webhook_delivery(delivery_id: &str, attempt: u32, delay_seconds: u64) -> Self {
        Self {
            kind: JobKind::WebhookDelivery,
            key: format!("webhook-delivery:{delivery_id}:{attempt}"),
            payload: json!(DeliveryJob {
                delivery_id: delivery_id.into(),
                attempt,
            }),
            delay_seconds,
        }
    }

    /// Reads a specialist's calendar; `occasion` tells runs apart (added, a quarter hour).
    pub fn busy_calendar_fetch(calendar_id: &str, occasion: impl std::fmt::Display) -> Self {
        Self {
            kind: JobKind::BusyCalendarFetch,
            key: format!("busy-calendar:{calendar_id}:{occasion}"),
            payload: json!({ "calendar_id": calendar_id }),
            delay_seconds: 0,
        }
    }

    /// Makes an offering's sessions; `occasion` tells runs apart (an edit, an hour's roll).
    pub fn offering_sessions(offering_id: &str, occasion: impl std::fmt::Display) -> Self {
        Self {
            kind: JobKind::OfferingSessions,
            key: format!("offering-sessions:{offering_id}:{occasion}"),
            payload: json!({ "offering_id": offering_id }),
            delay_seconds: 0,
        }
    }
}

/// Which meeting's participants to read, and for which booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceCheck {
    pub booking_id: String,
    pub meeting_id: String,
    /// The instance Zoom reported ended; without it, Zoom's latest instance of the meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// Creates a booking's meeting if it is still missing, `minutes` before the start of the slot
/// at schedule `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoCreate {
    pub booking_id: String,
    pub minutes: u32,
    pub version: u32,
}

impl NewJob {
    /// The automatic creation of a booking's meeting, or none when its time has passed.
    pub fn auto_create(
        booking_id: &str,
        minutes: u32,
        version: u32,
        starts_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Self> {
        let due = starts_at - chrono::Duration::minutes(i64::from(minutes));
        let delay = (due - chrono::Utc::now()).num_seconds();
        (delay > 0).then(|| Self {
            kind: JobKind::AutoCreate,
            key: format!("auto-create:{booking_id}:{minutes}m:v{version}"),
            payload: json!(AutoCreate {
                booking_id: booking_id.into(),
                minutes,
                version
            }),
            delay_seconds: delay as u64,
        })
    }
}

impl NewJob {
    /// What follows a new booking (see [`JobKind::BookingCreated`]).
    pub fn booking_created(booking_id: &str) -> Self {
        Self {
            kind: JobKind::BookingCreated,
            key: format!("booking-created:{booking_id}"),
            payload: json!({ "booking_id": booking_id }),
            delay_seconds: 0,
        }
    }

    /// What follows a guest's confirmation of their held seat: the same as a new booking's,
    /// under a key of its own (the hold's own job asked them to confirm).
    pub fn booking_confirmed(booking_id: &str) -> Self {
        Self {
            key: format!("booking-confirmed:{booking_id}"),
            ..Self::booking_created(booking_id)
        }
    }

    /// Releases a guest's held seat `delay_seconds` from now, unless confirmed by then.
    pub fn guest_hold_release(booking_id: &str, delay_seconds: u64) -> Self {
        Self {
            kind: JobKind::GuestHoldRelease,
            key: format!("guest-hold-release:{booking_id}"),
            payload: json!({ "booking_id": booking_id }),
            delay_seconds,
        }
    }

    /// The closing of a slot's waitlist at its start (`version` of the slot's time).
    pub fn waitlist_close(
        slot_id: &str,
        version: u32,
        starts_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            kind: JobKind::WaitlistClose,
            key: format!("waitlist-close:{slot_id}:v{version}"),
            payload: json!({ "slot_id": slot_id, "version": version }),
            delay_seconds: (starts_at - chrono::Utc::now()).num_seconds().max(0) as u64,
        }
    }
}

/// Jobs as one bound query parameter (see `repo::jobs::queue_statement`).
pub fn bind(jobs: &[NewJob]) -> Value {
    serde_json::to_value(jobs).expect("jobs serialise")
}

/// Email jobs for `emails`.
pub fn emails(emails: &[OutgoingEmail]) -> Vec<NewJob> {
    emails.iter().map(NewJob::email).collect()
}

/// 30 s after the first failure, doubling, at most an hour.
pub fn backoff_seconds(attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(16);
    (30u64 << exp).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff_seconds(1), 30);
        assert_eq!(backoff_seconds(2), 60);
        assert_eq!(backoff_seconds(3), 120);
        assert_eq!(backoff_seconds(7), 1920);
        assert_eq!(backoff_seconds(8), 3600);
        assert_eq!(backoff_seconds(30), 3600);
    }

    #[test]
    fn kinds_and_statuses_are_stored_as_the_schema_asserts() {
        assert_eq!(json!(JobKind::ZoomDelete), "zoom_delete");
        use JobKind::*;
        for kind in [
            Email,
            ZoomDelete,
            ZoomUpdate,
            Reminder,
            AutoCreate,
            WaitlistClose,
            ZoomSweep,
            ZoomEvent,
            AttendanceCheck,
            RecordingFetch,
        ] {
            assert_eq!(json!(kind), kind.as_str());
        }
        assert_eq!(json!(JobStatus::Cancelled), "cancelled");
        assert_eq!(NewJob::zoom_update("1", "b", 2).key, "zoom-update:1:b:2");
    }
}
