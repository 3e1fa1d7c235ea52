use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Prefix of meeting ids made by the simulated Zoom provider: obviously not a real Zoom id.
pub const SIMULATED_MEETING_PREFIX: &str = "sim-";

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Active,
    Cancelled,
    /// Moved to another slot by its customer; the new booking holds it now.
    Rescheduled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Cancelled => "cancelled",
            Self::Rescheduled => "rescheduled",
        }
    }
}

/// A consulting slot as anyone may see it: no customer data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SlotView {
    pub id: String,
    pub specialist_id: String,
    pub specialist_name: String,
    pub title: String,
    pub description: Option<String>,
    /// Local date and start time in the slot's zone, as the specialist entered them.
    pub date: String,
    pub start_time: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub duration: u32,
    pub capacity: u32,
    pub booked: u32,
    pub seats_left: u32,
    /// Customers waiting for a seat (when the slot is full).
    #[serde(default)]
    pub waiting: u32,
    /// Whether visitors without an account may book it, and how.
    #[serde(default)]
    pub guest_booking: super::GuestBooking,
}

/// The Zoom meeting saved on a booking. `start_url` is the host's link: only the slot's
/// specialist ever receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ZoomMeetingView {
    pub zoom_meeting_id: String,
    pub join_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    pub password: String,
    pub created_at: DateTime<Utc>,
}

impl ZoomMeetingView {
    pub fn is_simulated(&self) -> bool {
        self.zoom_meeting_id.starts_with(SIMULATED_MEETING_PREFIX)
    }
    pub fn without_start_url(mut self) -> Self {
        self.start_url = None;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingView {
    pub booking_index: u32,
    pub customer_id: String,
    pub customer_email: String,
    pub customer_name: String,
    pub booked_at: DateTime<Utc>,
    pub additional_notes: Option<String>,
    pub status: BookingStatus,
    pub zoom_meeting: Option<ZoomMeetingView>,
    /// Whether the Zoom Meeting Ready email has been sent.
    pub customer_notified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `customer` or `specialist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// Where a rescheduled booking went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduled_to: Option<BookingRef>,
    /// A Zoom update or deletion for this booking is still queued.
    #[serde(default)]
    pub zoom_job_pending: bool,
    /// The meeting was created by the automatic fallback, not by a click.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub zoom_created_automatically: bool,
    #[serde(default)]
    pub attendance: Option<Attendance>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Set while the meeting's time in Zoom differs from the slot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_changed: Option<ZoomChange>,
    /// Meetings this booking had before (deleted in Zoom).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meeting_history: Vec<PastMeeting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
    /// The meeting's cloud recordings, once copied here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<RecordingView>,
    /// A guest's seat held until then, not yet confirmed from the emailed link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_confirmation_until: Option<DateTime<Utc>>,
    /// Booked without an account.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guest: bool,
}

/// Who was in the meeting, from Zoom's reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attendance {
    pub customer_joined_at: Option<DateTime<Utc>>,
    pub customer_left_at: Option<DateTime<Utc>>,
    /// Time the customer spent in the meeting (overlapping devices count once).
    pub customer_minutes: u32,
    pub host_joined_at: Option<DateTime<Utc>>,
}

/// How a booking's meeting went, once Zoom says it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Attended,
    NoShow,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Attended => "Attended",
            Self::NoShow => "No-show",
        }
    }
}

/// A cloud recording file of a booking's meeting, kept here for its customer and specialist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecordingView {
    pub id: String,
    /// Zoom's kind of file: MP4, M4A, TRANSCRIPT, CHAT…
    pub file_type: String,
    pub content_type: String,
    pub size: u64,
    #[serde(default)]
    pub recording_start: Option<DateTime<Utc>>,
    /// Where to play or download it (`GET /api/recordings/:id`, with Range support).
    pub url: String,
}

/// A user's calendar feed address (shown once, when made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CalendarLink {
    pub url: String,
}

/// What a customer said after a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    pub rating: u8,
    #[serde(default)]
    pub comment: Option<String>,
    pub given_at: DateTime<Utc>,
}

/// One session's feedback in the specialist's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedbackItem {
    pub slot_id: String,
    pub booking_index: u32,
    pub slot_title: String,
    pub starts_at: DateTime<Utc>,
    pub customer_name: String,
    pub feedback: Feedback,
}

/// A specialist's feedback: the average rating and the latest answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedbackSummary {
    /// None until someone answered.
    pub average: Option<f64>,
    pub count: u32,
    pub latest: Vec<FeedbackItem>,
}

/// What the feedback page shows about the session it asks about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeedbackInvite {
    pub slot_title: String,
    pub specialist_name: String,
    pub starts_at: DateTime<Utc>,
    /// Set once answered.
    pub given: Option<Feedback>,
}

/// The meeting's time as someone changed it in Zoom, unlike the slot's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ZoomChange {
    pub zoom_start_time: DateTime<Utc>,
    pub zoom_duration: u32,
    pub slot_start_time: DateTime<Utc>,
    pub slot_duration: u32,
}

/// A meeting the booking had before (deleted in Zoom).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PastMeeting {
    pub zoom_meeting_id: String,
    pub created_at: DateTime<Utc>,
    pub removed_at: DateTime<Utc>,
    pub reason: String,
}

/// A booking named the way URLs name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingRef {
    pub slot_id: String,
    pub booking_index: u32,
}

/// One slot with its bookings, as its specialist sees it in the Meeting Manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ManagedSlot {
    pub slot: SlotView,
    pub bookings: Vec<BookingView>,
}

/// What the appointment details page and its JSON twin show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppointmentView {
    pub slot: SlotView,
    pub booking: BookingView,
    pub zoom_meeting: Option<ZoomMeetingView>,
    pub viewer_is_specialist: bool,
    /// Whether the viewer may still cancel (and, the customer, reschedule) this booking.
    #[serde(default)]
    pub may_change: bool,
    /// Customers change bookings until this many hours before the start.
    #[serde(default)]
    pub change_cutoff_hours: u32,
}

/// A customer's booking in their list of appointments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyAppointment {
    pub slot: SlotView,
    /// The booking's index; absent for a place on the slot's waitlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_index: Option<u32>,
    pub has_meeting: bool,
    /// The place in line, for a slot the customer waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist_position: Option<u32>,
    #[serde(default)]
    pub attendance: Option<Attendance>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingConfirmation {
    pub slot_id: String,
    pub booking_index: u32,
    pub booking: BookedSeat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookedSeat {
    pub customer_id: String,
    pub customer_email: String,
    pub customer_name: String,
    pub booked_at: DateTime<Utc>,
    pub additional_notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SlotPage {
    pub slots: Vec<SlotView>,
    pub page: u32,
    pub has_more: bool,
}

/// What pressing Create would ask Zoom for, shown before it is pressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MeetingPreview {
    pub topic: String,
    pub agenda: String,
    pub start_time: DateTime<Utc>,
    /// The start as the specialist reads it, in their own zone.
    pub local_start_time: String,
    /// The specialist's zone.
    pub timezone: String,
    pub duration: u32,
    /// The Zoom user who will host it.
    pub host: String,
    pub settings: crate::model::MeetingDefaults,
    /// The local simulated provider would "create" it, not Zoom.
    pub simulated: bool,
    /// The customer's shared recurring link (no fixed time) is used: made now or reused.
    #[serde(default)]
    pub recurring: bool,
}

/// The success answer of creating a Zoom meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedMeeting {
    pub zoom_meeting: ZoomMeetingView,
    pub booking_details: CreatedMeetingBooking,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedMeetingBooking {
    pub customer_name: String,
    pub customer_email: String,
    pub booked_at: DateTime<Utc>,
}

/// A customer's place on a full slot's waitlist (1: next to get a seat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitlistPlace {
    pub slot: SlotView,
    pub position: u32,
}
