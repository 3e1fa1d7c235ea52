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
    /// Whether visitors without an account may book; unchanged when absent.
    #[serde(default)]
    pub guest_booking: Option<super::GuestBooking>,
}

/// A specialist's own page settings: the handle (none yet: no page) and the bio.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyPageView {
    pub handle: Option<String>,
    pub bio: Option<String>,
    #[serde(default)]
    pub guest_booking: super::GuestBooking,
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
    #[serde(default)]
    pub guest_booking: super::GuestBooking,
}

/// What `/s/<handle>` shows: the page, or where a former handle leads now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PageAnswer {
    Page(Box<SpecialistPage>),
    MovedTo(String),
}

/// The schedule editor's text form of a day's hours: `09:00-12:00, 14:00-17:00` (an en dash
/// works too); empty is no hours.
pub fn hours_text(hours: &[HoursView]) -> String {
    hours
        .iter()
        .map(|h| format!("{}-{}", h.start, h.end))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads [`hours_text`] back; the times themselves are checked with the schedule.
pub fn parse_hours_text(text: &str) -> Result<Vec<HoursView>, String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (start, end) = part
                .split_once(['-', '–'])
                .ok_or_else(|| format!("\"{part}\" is not a start and an end, as 09:00-12:00"))?;
            Ok(HoursView {
                start: start.trim().to_string(),
                end: end.trim().to_string(),
            })
        })
        .collect()
}

/// The editor's text form of date overrides, a line each: `2027-12-24 off` or
/// `2027-12-31 09:00-12:00`.
pub fn overrides_text(overrides: &[DateOverrideView]) -> String {
    overrides
        .iter()
        .map(|o| match o.hours.as_slice() {
            [] => format!("{} off", o.date),
            hours => format!("{} {}", o.date, hours_text(hours)),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads [`overrides_text`] back: a date alone, or followed by `off`, is a day off.
pub fn parse_overrides_text(text: &str) -> Result<Vec<DateOverrideView>, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (date, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            let hours = if rest.is_empty() || rest.eq_ignore_ascii_case("off") {
                Vec::new()
            } else {
                parse_hours_text(rest).map_err(|e| format!("{date}: {e}"))?
            };
            Ok(DateOverrideView {
                date: date.to_string(),
                hours,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(start: &str, end: &str) -> HoursView {
        HoursView {
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn hours_read_back_what_they_write() {
        let written = vec![hours("09:00", "12:00"), hours("14:00", "17:30")];
        assert_eq!(hours_text(&written), "09:00-12:00, 14:00-17:30");
        assert_eq!(parse_hours_text(&hours_text(&written)), Ok(written));
        assert_eq!(
            parse_hours_text(" 09:00 – 12:00 ;14:00-15:00,"),
            Ok(vec![hours("09:00", "12:00"), hours("14:00", "15:00")])
        );
        assert_eq!(parse_hours_text("  "), Ok(vec![]));
        assert!(parse_hours_text("09:00")
            .unwrap_err()
            .contains("09:00-12:00"));
    }

    #[test]
    fn overrides_read_back_what_they_write() {
        let written = vec![
            DateOverrideView {
                date: "2027-12-24".into(),
                hours: vec![],
            },
            DateOverrideView {
                date: "2027-12-31".into(),
                hours: vec![hours("09:00", "12:00")],
            },
        ];
        assert_eq!(
            overrides_text(&written),
            "2027-12-24 off\n2027-12-31 09:00-12:00"
        );
        assert_eq!(parse_overrides_text(&overrides_text(&written)), Ok(written));
        assert_eq!(
            parse_overrides_text("2027-01-01\n\n2027-01-02 OFF").map(|o| o.len()),
            Ok(2)
        );
        assert!(parse_overrides_text("2027-01-03 nine")
            .unwrap_err()
            .starts_with("2027-01-03"));
    }
}
