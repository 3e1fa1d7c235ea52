//! Dates and times as people read them: always in a named zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Parses an IANA zone name, falling back to UTC for an unknown one.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// `Tue 3 Mar 2026, 14:00 (Europe/Berlin)`
pub fn date_time_in(at: DateTime<Utc>, zone_name: &str) -> String {
    let tz = zone(zone_name);
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M"),
        tz.name()
    )
}

/// `Tue 3 Mar 2026`
pub fn date_in(at: DateTime<Utc>, zone_name: &str) -> String {
    at.with_timezone(&zone(zone_name))
        .format("%a %-d %b %Y")
        .to_string()
}

/// `14:00 (Europe/Berlin)`
pub fn time_in(at: DateTime<Utc>, zone_name: &str) -> String {
    let tz = zone(zone_name);
    format!("{} ({})", at.with_timezone(&tz).format("%H:%M"), tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_in_the_named_zone() {
        let at = Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap();
        assert_eq!(
            date_time_in(at, "Europe/Berlin"),
            "Tue 3 Mar 2026, 14:00 (Europe/Berlin)"
        );
        assert_eq!(time_in(at, "America/New_York"), "08:00 (America/New_York)");
    }

    #[test]
    fn follows_daylight_saving_changes() {
        // Berlin moves to summer time on 29 Mar 2026 at 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(time_in(before, "Europe/Berlin"), "01:30 (Europe/Berlin)");
        assert_eq!(time_in(after, "Europe/Berlin"), "03:30 (Europe/Berlin)");
    }

    #[test]
    fn unknown_zone_falls_back_to_utc() {
        let at = Utc.with_ymd_and_hms(2026, 3, 3, 13, 0, 0).unwrap();
        assert_eq!(
            date_time_in(at, "Mars/Olympus"),
            "Tue 3 Mar 2026, 13:00 (UTC)"
        );
    }
}
