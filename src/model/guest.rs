//! Booking without an account: a specialist's guest setting, a guest's request and the answer,
//! and what a seat's manage link shows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AppointmentView, SlotView};

/// Whether visitors without an account may book a specialist's sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum GuestBooking {
    /// Only customers with an account book.
    Off,
    /// A guest's seat is held until they open the link emailed to them.
    #[default]
    Confirm,
    /// A guest's booking counts at once.
    Instant,
}

impl GuestBooking {
    pub const ALL: [Self; 3] = [Self::Off, Self::Confirm, Self::Instant];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Confirm => "confirm",
            Self::Instant => "instant",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    /// How the schedule editor describes the choice.
    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Only customers with an account",
            Self::Confirm => "Guests too, once they confirm by email (seat held 30 minutes)",
            Self::Instant => "Guests too, booked at once",
        }
    }
}

/// `POST /api/consulting-slots/:id/guest-bookings`: a visitor books with a name and an email.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestBookingRequest {
    #[cfg_attr(feature = "ssr", schema(example = "Jane Doe"))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(example = "jane@example.com"))]
    pub email: String,
    #[serde(default)]
    pub additional_notes: Option<String>,
    /// An IANA zone the guest's emails show times in; the slot's own zone when absent.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Where a guest's booking stands once made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum GuestBookingState {
    /// The seat is held until `holdExpiresAt`; the emailed link confirms it.
    AwaitingConfirmation,
    Confirmed,
}

/// The answer to a guest's booking. The manage link is only ever emailed: whoever knows the
/// address is who may use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GuestBookingAnswer {
    pub state: GuestBookingState,
    pub slot: SlotView,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

/// What a seat's manage link shows: the appointment as its customer sees it, whether the
/// guest still has to confirm it, and until when the link works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ManagedAppointment {
    pub appointment: AppointmentView,
    /// Set while a guest's seat is held and not yet confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub link_expires_at: DateTime<Utc>,
}

/// What the guest booking form answers once sent.
pub const GUEST_HOLD_SENT: &str =
    "We have held your seat for 30 minutes and emailed you a link: open it to confirm the booking.";
