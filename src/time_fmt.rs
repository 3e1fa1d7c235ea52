//! Dates and times as people read them: always in a named zone. The server formats with
//! chrono-tz; the browser asks its own `Intl` for the zone's offset, so the wasm bundle does
//! not carry a copy of the time-zone database. Both produce the same text.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

/// `Tue 3 Mar 2026, 14:00 (Europe/Berlin)`
pub fn date_time_in(at: DateTime<Utc>, zone_name: &str) -> String {
    let (local, zone) = local::in_zone(at, zone_name);
    format!("{}, {} ({zone})", date(&local), clock(&local))
}

/// `Tue 3 Mar 2026`
pub fn date_in(at: DateTime<Utc>, zone_name: &str) -> String {
    date(&local::in_zone(at, zone_name).0)
}

/// `14:00 (Europe/Berlin)`
pub fn time_in(at: DateTime<Utc>, zone_name: &str) -> String {
    let (local, zone) = local::in_zone(at, zone_name);
    format!("{} ({zone})", clock(&local))
}

// Written out rather than through chrono's `format`, whose pattern parser would be most of
// this module's share of the wasm bundle.
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn date(local: &NaiveDateTime) -> String {
    format!(
        "{} {} {} {}",
        WEEKDAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        local.year()
    )
}

fn clock(local: &NaiveDateTime) -> String {
    format!("{:02}:{:02}", local.hour(), local.minute())
}

#[cfg(feature = "ssr")]
mod local {
    use chrono::{DateTime, NaiveDateTime, Utc};
    use chrono_tz::Tz;

    /// The wall-clock time in `zone_name` and the zone's name; UTC for an unknown zone.
    pub fn in_zone(at: DateTime<Utc>, zone_name: &str) -> (NaiveDateTime, String) {
        let tz: Tz = zone_name.parse().unwrap_or(Tz::UTC);
        (at.with_timezone(&tz).naive_local(), tz.name().to_string())
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod local {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    /// The wall-clock time in `zone_name` as the browser's `Intl` computes it, and the zone's
    /// name; UTC for a zone the browser does not know.
    pub fn in_zone(at: DateTime<Utc>, zone_name: &str) -> (NaiveDateTime, String) {
        wall_clock(at, zone_name)
            .map(|local| (local, zone_name.to_string()))
            .unwrap_or_else(|| (at.naive_utc(), "UTC".to_string()))
    }

    fn wall_clock(at: DateTime<Utc>, zone_name: &str) -> Option<NaiveDateTime> {
        let options = Object::new();
        for (key, value) in [
            ("timeZone", zone_name),
            ("hourCycle", "h23"),
            ("year", "numeric"),
            ("month", "numeric"),
            ("day", "numeric"),
            ("hour", "numeric"),
            ("minute", "numeric"),
        ] {
            Reflect::set(&options, &key.into(), &value.into()).ok()?;
        }
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let constructor: js_sys::Function = Reflect::get(&intl, &"DateTimeFormat".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let locales = Array::of1(&"en-US".into());
        // An unknown zone throws a RangeError: caught here, it means UTC.
        let format = Reflect::construct(&constructor, &Array::of2(&locales, &options)).ok()?;
        let format_to_parts: js_sys::Function = Reflect::get(&format, &"formatToParts".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
        let parts: Array = format_to_parts
            .call1(&format, &date)
            .ok()?
            .dyn_into()
            .ok()?;
        let mut fields = [0u32; 5];
        for part in parts.iter() {
            let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                _ => continue,
            };
            let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
            fields[slot] = value.parse().ok()?;
        }
        let [year, month, day, hour, minute] = fields;
        NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour % 24, minute, 0)
    }
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
    fn reads_as_chronos_own_formatting_on_every_day_of_a_year() {
        let mut at = Utc.with_ymd_and_hms(2027, 1, 1, 0, 5, 0).unwrap();
        for _ in 0..365 {
            let local = at.naive_utc();
            assert_eq!(
                date_time_in(at, "UTC"),
                format!("{} (UTC)", local.format("%a %-d %b %Y, %H:%M"))
            );
            at += chrono::Duration::hours(25);
        }
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
