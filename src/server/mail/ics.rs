//! iCalendar (RFC 5545) invites and feeds, written by the `icalendar` crate (the one that
//! parses busy calendars): one VEVENT per booking, CRLF line ends, lines folded at 75 octets,
//! text values escaped.
//!
//! The crate escapes TEXT values but passes a parameter value (`CN=…`) through as given and
//! keeps carriage returns in text: names and texts are cleaned here first, so no value can
//! end a content line or open a quoted parameter early.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};

pub struct Invite<'a> {
    /// Stable per booking, so calendar apps update the same event.
    pub uid: String,
    pub sequence: u32,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub summary: &'a str,
    pub description: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
    /// The join link, once a meeting exists: the event's LOCATION.
    pub join_url: Option<&'a str>,
    /// The booking's own page (its manage link): the event's URL.
    pub page_url: Option<&'a str>,
    /// A cancellation (`METHOD:CANCEL`, `STATUS:CANCELLED`) instead of a request.
    pub cancelled: bool,
}

const PRODID: &str = "-//Specialistly//Consulting Slots//EN";

pub fn uid_for_booking(booking_id: &str) -> String {
    format!("booking-{booking_id}@specialistly")
}

/// A TEXT value as the crate should get it: line breaks as `\n` alone, no other control
/// character (the crate escapes `\n`, `,`, `;` and `\`).
fn text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// A parameter value (`CN=…`), always quoted: it may hold neither quotes nor control
/// characters (RFC 5545 §3.2), so those are dropped.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// `mailto:` an address (addresses are validated on sign-up; controls are dropped regardless).
fn mailto(address: &str) -> String {
    let clean: String = address.chars().filter(|c| !c.is_control()).collect();
    format!("mailto:{clean}")
}

/// A calendar with this product's PRODID and no event yet.
fn calendar() -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"));
    calendar
}

/// An invite to email: a calendar of one event with its method (`REQUEST` or `CANCEL`).
pub fn render(invite: &Invite<'_>) -> String {
    let method = if invite.cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    let mut calendar = calendar();
    calendar
        .append_property(Property::new("METHOD", method))
        .push(event(invite));
    calendar.to_string()
}

/// A subscribed calendar (RFC 7986): its name, how often clients should read it again, and
/// its events (from [`event`]).
pub fn render_feed(name: &str, events: Vec<icalendar::Event>) -> String {
    let name = text(name);
    let mut calendar = calendar();
    calendar
        .name(&name)
        .append_property(
            Property::new("REFRESH-INTERVAL", "PT1H")
                .add_parameter("VALUE", "DURATION")
                .done(),
        )
        .append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    calendar.extend(events);
    calendar.to_string()
}

/// One booking's event.
pub fn event(invite: &Invite<'_>) -> icalendar::Event {
    let ends_at = invite.starts_at + chrono::Duration::minutes(invite.duration_minutes as i64);
    let mut event = icalendar::Event::new();
    event
        .uid(&invite.uid)
        .sequence(invite.sequence)
        .timestamp(Utc::now())
        .starts(invite.starts_at)
        .ends(ends_at)
        .summary(&text(invite.summary))
        .description(&text(invite.description))
        .status(if invite.cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        })
        .append_property(
            Property::new("ORGANIZER", mailto(invite.organizer_email))
                .add_parameter("CN", &param(invite.organizer_name))
                .done(),
        )
        .append_multi_property(
            Property::new("ATTENDEE", mailto(invite.attendee_email))
                .add_parameter("CN", &param(invite.attendee_name))
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", "ACCEPTED")
                .done(),
        );
    if let Some(url) = invite.join_url {
        event.location(&text(url));
    }
    if let Some(url) = invite.page_url.or(invite.join_url) {
        event.url(&text(url));
    }
    event.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invite_with(join_url: Option<&str>, attendee_name: &str, description: &str) -> String {
        render(&Invite {
            uid: uid_for_booking("abc"),
            sequence: 1,
            starts_at: Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap(),
            duration_minutes: 45,
            summary: "Consulting Session; with, Ann",
            description,
            organizer_name: "Dr \"Ann\" Smith",
            organizer_email: "ann@example.com",
            attendee_name,
            attendee_email: "bob@example.com",
            join_url,
            page_url: None,
            cancelled: false,
        })
    }

    const LONG: &str = "Line one\nLine two with a long text that will certainly need folding because it is much longer than seventy five octets — ünïcödé";

    fn invite(join_url: Option<&str>) -> String {
        invite_with(join_url, "Bob", LONG)
    }

    #[test]
    fn renders_a_request_with_utc_times_and_escaping() {
        let ics = invite(None);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("PRODID:-//Specialistly//Consulting Slots//EN\r\n"));
        assert!(ics.contains("METHOD:REQUEST\r\n"));
        assert!(ics.contains("UID:booking-abc@specialistly\r\n"));
        assert!(ics.contains("SEQUENCE:1\r\n"));
        assert!(ics.contains("DTSTART:20260303T130000Z\r\n"));
        assert!(ics.contains("DTEND:20260303T134500Z\r\n"));
        assert!(ics.contains("SUMMARY:Consulting Session\\; with\\, Ann\r\n"));
        assert!(ics.contains("STATUS:CONFIRMED\r\n"));
        assert!(ics.contains("ORGANIZER;CN=\"Dr Ann Smith\":mailto:ann@example.com"));
        assert!(ics.replace("\r\n ", "").contains(
            "ATTENDEE;CN=\"Bob\";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r\n"
        ));
        assert!(!ics.contains("LOCATION"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1);
        assert_eq!(ics.matches("DTSTAMP:").count(), 1);
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn lines_are_folded_at_75_octets_with_crlf() {
        let ics = invite(Some("https://zoom.us/j/123?pwd=abc"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line too long: {line:?}");
            assert!(!line.contains('\n') && !line.contains('\r'));
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("ünïcödé"));
        assert!(unfolded.contains("LOCATION:https://zoom.us/j/123?pwd=abc\r\n"));
        assert!(unfolded.contains("URL:https://zoom.us/j/123?pwd=abc\r\n"));
    }

    /// A name or a text with line breaks, quotes and separators cannot add a property or a
    /// parameter: every content line is one the writer meant.
    #[test]
    fn no_value_can_break_out_of_its_line() {
        let ics = invite_with(
            None,
            "Eve\r\nATTENDEE:mailto:evil@example.com\";X=\"y",
            "Notes\r\nMETHOD:CANCEL\rand more",
        );
        let unfolded = ics.replace("\r\n ", "");
        let lines: Vec<&str> = unfolded.split("\r\n").collect();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("ATTENDEE")).count(),
            1
        );
        assert_eq!(lines.iter().filter(|l| l.starts_with("METHOD")).count(), 1);
        assert!(unfolded.contains("DESCRIPTION:Notes\\nMETHOD:CANCELand more\r\n"));
        let attendee = lines.iter().find(|l| l.starts_with("ATTENDEE")).unwrap();
        assert!(
            attendee.starts_with("ATTENDEE;CN=\"EveATTENDEE:mailto:evil@example.com;X=y\";"),
            "{attendee}"
        );
    }

    /// What is written reads back, with the same crate busy calendars are parsed with.
    #[test]
    fn an_invite_reads_back_as_written() {
        use icalendar::{CalendarComponent, DatePerhapsTime};
        let ics = invite(Some("https://zoom.us/j/123?pwd=abc"));
        let calendar: Calendar = ics.parse().unwrap();
        let event = calendar
            .components
            .iter()
            .find_map(CalendarComponent::as_event)
            .unwrap();
        assert_eq!(event.get_summary(), Some("Consulting Session; with, Ann"));
        assert_eq!(event.get_description(), Some(LONG));
        assert_eq!(event.get_uid(), Some("booking-abc@specialistly"));
        assert_eq!(
            event.get_start(),
            Some(DatePerhapsTime::DateTime(
                Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap().into()
            ))
        );
    }

    #[test]
    fn a_feed_names_itself_and_holds_its_events() {
        let starts_at = Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap();
        let events = ["one", "two"]
            .iter()
            .map(|id| {
                event(&Invite {
                    uid: uid_for_booking(id),
                    sequence: 0,
                    starts_at,
                    duration_minutes: 30,
                    summary: "Session",
                    description: "",
                    organizer_name: "Ann",
                    organizer_email: "ann@example.com",
                    attendee_name: "Bob",
                    attendee_email: "bob@example.com",
                    join_url: None,
                    page_url: None,
                    cancelled: true,
                })
            })
            .collect();
        let feed = render_feed("Specialistly: Ann, PhD", events);
        assert!(feed.contains("NAME:Specialistly: Ann"), "{feed}");
        assert!(
            feed.contains("X-WR-CALNAME:Specialistly: Ann\\, PhD\r\n"),
            "{feed}"
        );
        assert!(feed.contains("REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"));
        assert!(!feed.contains("METHOD"));
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2);
        assert_eq!(feed.matches("STATUS:CANCELLED").count(), 2);
    }
}
