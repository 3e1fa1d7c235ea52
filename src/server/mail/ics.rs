//! iCalendar (RFC 5545) invites: one VEVENT per booking, CRLF line ends, lines folded at
//! 75 octets, text values escaped.

use chrono::{DateTime, Utc};

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
    /// The join link, once a meeting exists.
    pub join_url: Option<&'a str>,
    /// A cancellation (`METHOD:CANCEL`, `STATUS:CANCELLED`) instead of a request.
    pub cancelled: bool,
}

pub fn uid_for_booking(booking_id: &str) -> String {
    format!("booking-{booking_id}@specialistly")
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (CN=…) may not hold quotes or control characters; quote it.
fn param_value(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// Folds a content line into chunks of at most 75 octets, never splitting a UTF-8 character;
/// continuation lines start with one space.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
    out
}

/// An invite to email: a calendar of one event with its method (`REQUEST` or `CANCEL`).
pub fn render(invite: &Invite<'_>) -> String {
    let method = if invite.cancelled {
        "METHOD:CANCEL"
    } else {
        "METHOD:REQUEST"
    };
    let mut lines = calendar_head();
    lines.push(method.into());
    lines.extend(event_lines(invite));
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

/// One event's folded lines, for a feed ([`render_feed`]).
pub fn render_event(invite: &Invite<'_>) -> String {
    event_lines(invite).iter().map(|l| fold(l)).collect()
}

/// A subscribed calendar (RFC 7986): its name, how often clients should read it again, and
/// its events (from [`render_event`]).
pub fn render_feed(name: &str, events: &[String]) -> String {
    let mut head = calendar_head();
    head.extend([
        format!("NAME:{}", escape_text(name)),
        format!("X-WR-CALNAME:{}", escape_text(name)),
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H".into(),
        "X-PUBLISHED-TTL:PT1H".into(),
    ]);
    let mut out: String = head.iter().map(|l| fold(l)).collect();
    out.extend(events.iter().map(String::as_str));
    out.push_str(&fold("END:VCALENDAR"));
    out
}

fn calendar_head() -> Vec<String> {
    vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Specialistly//Consulting Slots//EN".into(),
        "CALSCALE:GREGORIAN".into(),
    ]
}

fn event_lines(invite: &Invite<'_>) -> Vec<String> {
    let ends_at = invite.starts_at + chrono::Duration::minutes(invite.duration_minutes as i64);
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", invite.uid),
        format!("SEQUENCE:{}", invite.sequence),
        format!("DTSTAMP:{}", stamp(Utc::now())),
        format!("DTSTART:{}", stamp(invite.starts_at)),
        format!("DTEND:{}", stamp(ends_at)),
        format!("SUMMARY:{}", escape_text(invite.summary)),
        format!("DESCRIPTION:{}", escape_text(invite.description)),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            param_value(invite.organizer_name),
            invite.organizer_email
        ),
        format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{}",
            param_value(invite.attendee_name),
            invite.attendee_email
        ),
    ];
    if let Some(url) = invite.join_url {
        lines.push(format!("LOCATION:{}", escape_text(url)));
        lines.push(format!("URL:{url}"));
    }
    lines.push(
        if invite.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        }
        .into(),
    );
    lines.push("END:VEVENT".into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invite(join_url: Option<&str>) -> String {
        render(&Invite {
            uid: uid_for_booking("abc"),
            sequence: 1,
            starts_at: Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap(),
            duration_minutes: 45,
            summary: "Consulting Session; with, Ann",
            description: "Line one\nLine two with a long text that will certainly need folding because it is much longer than seventy five octets — ünïcödé",
            organizer_name: "Dr \"Ann\" Smith",
            organizer_email: "ann@example.com",
            attendee_name: "Bob",
            attendee_email: "bob@example.com",
            join_url,
            cancelled: false,
        })
    }

    #[test]
    fn renders_a_request_with_utc_times_and_escaping() {
        let ics = invite(None);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("METHOD:REQUEST\r\n"));
        assert!(ics.contains("UID:booking-abc@specialistly\r\n"));
        assert!(ics.contains("DTSTART:20260303T130000Z\r\n"));
        assert!(ics.contains("DTEND:20260303T134500Z\r\n"));
        assert!(ics.contains("SUMMARY:Consulting Session\\; with\\, Ann\r\n"));
        assert!(ics.contains("ORGANIZER;CN=\"Dr Ann Smith\":mailto:ann@example.com"));
        assert!(!ics.contains("LOCATION"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1);
    }

    #[test]
    fn lines_are_folded_at_75_octets_with_crlf() {
        let ics = invite(Some("https://zoom.us/j/123?pwd=abc"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line too long: {line:?}");
            assert!(!line.contains('\n'));
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("ünïcödé"));
        assert!(unfolded.contains("LOCATION:https://zoom.us/j/123?pwd=abc\r\n"));
        assert!(unfolded.contains("URL:https://zoom.us/j/123?pwd=abc\r\n"));
    }
}
