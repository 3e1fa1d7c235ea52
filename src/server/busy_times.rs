//! Busy times read from a specialist's own calendar (the secret iCalendar address Google
//! Calendar, Outlook or iCloud gives): each event that blocks time, recurrences expanded
//! (RRULE, RDATE, EXDATE, and instances moved with RECURRENCE-ID), within a span.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::{read_calendar, unfold, Component, Property};

/// Occurrences of one recurring event read at most.
const MAX_OCCURRENCES: u16 = 2_000;
/// Busy intervals kept at most per calendar.
pub const MAX_INTERVALS: usize = 5_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The busy intervals of `ics` that touch `from`..`to`, in order; floating times and all-day
/// events are read in `zone` (the specialist's).
pub fn busy_between(
    ics: &str,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>, String> {
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).map_err(|e| {
        format!(
            "not an iCalendar file: {}",
            e.chars().take(120).collect::<String>()
        )
    })?;
    let mut events = Vec::new();
    for component in &calendar.components {
        collect_events(component, &mut events);
    }
    // Instances moved or cancelled one by one: their originals are left out of the series.
    let mut moved: HashMap<String, HashSet<DateTime<Utc>>> = HashMap::new();
    for event in &events {
        if let (Some(uid), Some(id)) = (prop(event, "UID"), prop(event, "RECURRENCE-ID")) {
            if let Some(at) = instant(id, zone) {
                moved.entry(uid.val.to_string()).or_default().insert(at.0);
            }
        }
    }
    let mut busy = Vec::new();
    for event in &events {
        let cancelled =
            prop(event, "STATUS").is_some_and(|p| p.val.as_ref().eq_ignore_ascii_case("CANCELLED"));
        let free = prop(event, "TRANSP")
            .is_some_and(|p| p.val.as_ref().eq_ignore_ascii_case("TRANSPARENT"));
        if cancelled || free {
            continue;
        }
        let Some(start_prop) = prop(event, "DTSTART") else {
            continue;
        };
        let Some((start, all_day)) = instant(start_prop, zone) else {
            continue;
        };
        let length = match (
            prop(event, "DTEND").and_then(|p| instant(p, zone)),
            prop(event, "DURATION"),
        ) {
            (Some((end, _)), _) if end > start => end - start,
            (_, Some(d)) => duration(d.val.as_ref()).unwrap_or_default(),
            _ if all_day => Duration::days(1),
            _ => Duration::zero(),
        };
        if length <= Duration::zero() {
            continue;
        }
        let starts = if prop(event, "RRULE").is_some() || prop(event, "RDATE").is_some() {
            let skip = prop(event, "UID")
                .and_then(|uid| moved.get(uid.val.as_ref()))
                .cloned()
                .unwrap_or_default();
            occurrences(event, from - length, to)?
                .into_iter()
                .filter(|s| !skip.contains(s))
                .collect()
        } else {
            vec![start]
        };
        for s in starts {
            let interval = Busy {
                start: s,
                end: s + length,
            };
            if interval.end > from && interval.start < to {
                busy.push(interval);
            }
        }
    }
    busy.sort();
    busy.dedup();
    busy.truncate(MAX_INTERVALS);
    Ok(busy)
}

fn collect_events<'a>(component: &'a Component<'a>, out: &mut Vec<&'a Component<'a>>) {
    if component.name.as_ref().eq_ignore_ascii_case("VEVENT") {
        out.push(component);
    }
    for child in &component.components {
        collect_events(child, out);
    }
}

fn prop<'a>(component: &'a Component<'a>, name: &str) -> Option<&'a Property<'a>> {
    component
        .properties
        .iter()
        .find(|p| p.name.as_ref().eq_ignore_ascii_case(name))
}

fn param<'a>(property: &'a Property<'a>, key: &str) -> Option<&'a str> {
    property
        .params
        .iter()
        .find(|p| p.key.as_ref().eq_ignore_ascii_case(key))
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_ref())
}

/// A DTSTART-like value as an instant, and whether it was a date (an all-day event): UTC with
/// `Z`, local in its `TZID`, otherwise (floating, a date, a zone we do not know) in `zone`.
fn instant(property: &Property<'_>, zone: Tz) -> Option<(DateTime<Utc>, bool)> {
    let value = property.val.as_ref().trim();
    let local_zone: Tz = param(property, "TZID")
        .and_then(|z| z.trim_matches('"').parse().ok())
        .unwrap_or(zone);
    if let Some(utc) = value.strip_suffix('Z') {
        let naive = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some((Utc.from_utc_datetime(&naive), false));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
        return Some((
            crate::server::domain::availability::reading_at_or_after(local_zone, naive),
            false,
        ));
    }
    let date = NaiveDate::parse_from_str(value, "%Y%m%d").ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?;
    Some((
        crate::server::domain::availability::reading_at_or_after(zone, midnight),
        true,
    ))
}

/// An RFC 5545 duration such as `PT1H30M`, `P1D` or `P2W`.
fn duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim().trim_start_matches('+');
    let rest = raw.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => number.push(c),
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    Some(total)
}

/// The starts of a recurring event between `from` and `to`, by the `rrule` crate from the
/// event's own DTSTART, RRULE, RDATE and EXDATE lines.
fn occurrences(
    event: &Component<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, String> {
    let mut lines = Vec::new();
    for p in &event.properties {
        let name = p.name.as_ref().to_ascii_uppercase();
        if !matches!(name.as_str(), "DTSTART" | "RRULE" | "RDATE" | "EXDATE") {
            continue;
        }
        let params: String = p
            .params
            .iter()
            .filter(|q| {
                q.key.as_ref().eq_ignore_ascii_case("TZID")
                    || q.key.as_ref().eq_ignore_ascii_case("VALUE")
            })
            .filter_map(|q| {
                q.val
                    .as_ref()
                    .map(|v| format!(";{}={}", q.key.as_ref(), v.as_ref()))
            })
            .collect();
        lines.push(format!("{name}{params}:{}", p.val.as_ref()));
    }
    let set: rrule::RRuleSet = lines
        .join("\n")
        .parse()
        .map_err(|e| format!("a recurrence could not be read: {e}"))?;
    let utc = |t: DateTime<Utc>| t.with_timezone(&rrule::Tz::UTC);
    let result = set.after(utc(from)).before(utc(to)).all(MAX_OCCURRENCES);
    Ok(result
        .dates
        .into_iter()
        .map(|d| d.with_timezone(&Utc))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const CALENDAR: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:single\r\nDTSTART:20270315T100000Z\r\nDTEND:20270315T110000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART;TZID=Europe/Berlin:20270301T090000\r\nDURATION:PT30M\r\n\
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6\r\nEXDATE;TZID=Europe/Berlin:20270308T090000\r\nSUMMARY:Stand-\r\n up\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270315T090000\r\nDTSTART;TZID=Europe/Berlin:20270315T140000\r\nDTEND;TZID=Europe/Berlin:20270315T143000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:free\r\nDTSTART:20270316T100000Z\r\nDTEND:20270316T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:off\r\nDTSTART:20270317T100000Z\r\nDTEND:20270317T110000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:holiday\r\nDTSTART;VALUE=DATE:20270318\r\nDTEND;VALUE=DATE:20270319\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn events_recurrences_exceptions_and_moved_instances_become_busy_times() {
        let zone = chrono_tz::Europe::Berlin;
        let busy = busy_between(
            CALENDAR,
            zone,
            at("2027-03-01T00:00:00Z"),
            at("2027-04-30T00:00:00Z"),
        )
        .unwrap();
        let shown: Vec<String> = busy
            .iter()
            .map(|b| {
                format!(
                    "{} {}",
                    b.start.format("%m-%d %H:%M"),
                    (b.end - b.start).num_minutes()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                // Mondays 09:00 Berlin (08:00Z before the change on the 28th, 07:00Z after),
                // without the 8th (EXDATE) and with the 15th moved to 14:00.
                "03-01 08:00 30",
                "03-15 10:00 60",
                "03-15 13:00 30",
                "03-17 23:00 1440",
                "03-22 08:00 30",
                "03-29 07:00 30",
                "04-05 07:00 30",
            ]
        );
    }

    #[test]
    fn only_what_touches_the_span_is_kept_and_garbage_is_refused() {
        let zone = chrono_tz::UTC;
        let busy = busy_between(
            CALENDAR,
            zone,
            at("2027-03-15T10:30:00Z"),
            at("2027-03-15T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(busy.len(), 1);
        assert!(busy_between(
            "<html>no</html>",
            zone,
            at("2027-03-01T00:00:00Z"),
            at("2027-04-01T00:00:00Z")
        )
        .is_err());
        assert_eq!(duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(duration("P1W"), Some(Duration::days(7)));
        assert_eq!(duration("1H"), None);
    }
}
