//! Offerings: what a specialist offers (title, length, seats) and when they work, from which
//! the bookable sessions come.

use serde::{Deserialize, Serialize};

use super::SlotView;

/// Hours on one day, on the schedule's clock (`HH:MM`, the end after the start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoursView {
    #[cfg_attr(feature = "ssr", schema(example = "09:00"))]
    pub start: String,
    #[cfg_attr(feature = "ssr", schema(example = "12:00"))]
    pub end: String,
}

/// Weekly hours: a weekday (`mon` … `sun`) and its hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklyHoursView {
    #[cfg_attr(feature = "ssr", schema(example = "mon"))]
    pub day: String,
    pub start: String,
    pub end: String,
}

/// A date with other hours than its weekday's; no hours is a day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DateOverrideView {
    #[cfg_attr(feature = "ssr", schema(example = "2027-12-24"))]
    pub date: String,
    #[serde(default)]
    pub hours: Vec<HoursView>,
}

/// When the specialist works, on the clock of `timezone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleView {
    /// An IANA zone.
    #[cfg_attr(feature = "ssr", schema(example = "Europe/Berlin"))]
    pub timezone: String,
    pub weekly: Vec<WeeklyHoursView>,
    #[serde(default)]
    pub overrides: Vec<DateOverrideView>,
    /// Minutes between possible starts (5–240; the session's length when left out).
    #[serde(default)]
    pub interval_minutes: Option<u32>,
    /// Free minutes kept before and after each session (0–120).
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    /// No session bookable later than this many hours before its start (0–720).
    #[serde(default)]
    pub notice_hours: u32,
    /// Sessions are offered this many days ahead (1–365; 30 when left out).
    #[serde(default)]
    pub window_days: Option<u32>,
}

/// An offering as written: its sessions' fields and its schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferingInput {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Minutes (15–240).
    pub duration: u32,
    /// Seats per session (1–100).
    pub capacity: u32,
    pub schedule: ScheduleView,
}

/// An offering as its specialist sees it, with the booked sessions its hours no longer cover
/// (to keep, or to cancel with the usual emails).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfferingView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub duration: u32,
    pub capacity: u32,
    pub schedule: ScheduleView,
    /// Future sessions of this offering with bookings that its hours no longer cover.
    #[serde(default)]
    pub outside_hours: Vec<SlotView>,
}

/// One of a specialist's own calendars whose busy times keep sessions free. The address is a
/// secret: only its host and last characters are shown back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BusyCalendarView {
    pub id: String,
    pub label: Option<String>,
    /// `https://calendar.google.com/…abcd`
    pub address: String,
    /// The last fetch that worked.
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Fetches fail since then (the last busy times stay in use meanwhile).
    pub failing_since: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    /// Busy intervals known.
    pub busy_count: usize,
}

/// `POST /api/busy-calendars`: the secret iCalendar address (`https://…` or `webcal://…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusyCalendarInput {
    pub url: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// `PUT /api/profile/page`: the handle of the specialist's page (`/s/<handle>`) and a short bio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageInput {
    /// 3–30 of `a-z`, `0-9` and single hyphens inside.
    #[cfg_attr(feature = "ssr", schema(example = "dr-maria-lopez"))]
    pub handle: String,
    /// At most 500 characters.
    #[serde(default)]
    pub bio: Option<String>,
}

/// What an offering shows on its specialist's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfferingSummary {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub duration: u32,
    pub capacity: u32,
}

/// A specialist's page, for anyone: who they are, what they offer, the sessions open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SpecialistPage {
    pub handle: String,
    pub name: String,
    pub bio: Option<String>,
    /// The specialist's own zone.
    pub timezone: String,
    pub offerings: Vec<OfferingSummary>,
    /// Sessions with seats left, soonest first (the next 100 at most).
    pub sessions: Vec<SlotView>,
}

/// What `/s/<handle>` shows: the page, or where a former handle leads now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PageAnswer {
    Page(Box<SpecialistPage>),
    MovedTo(String),
}
