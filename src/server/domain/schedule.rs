//! When a slot takes place: a local date and time in a zone, a duration, a capacity.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};

use super::TimeZone;
use crate::error::AppError;

/// A slot's length in minutes: 15 to 240.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(u32);

impl Duration {
    pub fn parse(minutes: i64) -> Result<Self, AppError> {
        if (15..=240).contains(&minutes) {
            Ok(Self(minutes as u32))
        } else {
            Err(AppError::bad_request(
                "duration must be between 15 and 240 minutes",
            ))
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

/// Seats in a slot: 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity(u32);

impl Capacity {
    pub fn parse(seats: i64) -> Result<Self, AppError> {
        if (1..=100).contains(&seats) {
            Ok(Self(seats as u32))
        } else {
            Err(AppError::bad_request("capacity must be between 1 and 100"))
        }
    }

    pub fn seats(self) -> u32 {
        self.0
    }
}

/// A wall-clock start in a zone, as the specialist typed it, and the instant it denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalStart {
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub zone: TimeZone,
    pub instant: DateTime<Utc>,
}

impl LocalStart {
    /// A time skipped by a clock change is refused; an ambiguous one is its first occurrence.
    pub fn new(date: NaiveDate, time: NaiveTime, zone: TimeZone) -> Result<Self, AppError> {
        let instant = zone
            .tz()
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                AppError::bad_request(
                    "startTime does not exist on that date in that time zone (the clocks change)",
                )
            })?;
        Ok(Self {
            date,
            time,
            zone,
            instant,
        })
    }

    pub fn parse_date(raw: &str) -> Result<NaiveDate, AppError> {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::bad_request("date must be a calendar date as YYYY-MM-DD"))
    }

    pub fn parse_time(raw: &str) -> Result<NaiveTime, AppError> {
        let raw = raw.trim();
        let invalid = || AppError::bad_request("startTime must be a time as HH:MM");
        if raw.len() != 5 {
            return Err(invalid());
        }
        NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| invalid())
    }

    /// `date` as stored and shown: `YYYY-MM-DD`.
    pub fn date_text(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    /// `startTime` as stored and shown: `HH:MM`.
    pub fn time_text(&self) -> String {
        self.time.format("%H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name, "timezone").unwrap()
    }

    #[test]
    fn local_times_convert_through_the_zone() {
        let d = LocalStart::parse_date("2026-07-01").unwrap();
        let t = LocalStart::parse_time("14:00").unwrap();
        let start = LocalStart::new(d, t, zone("Europe/Berlin")).unwrap();
        assert_eq!(start.instant.to_rfc3339(), "2026-07-01T12:00:00+00:00");
        assert_eq!(
            (start.date_text().as_str(), start.time_text().as_str()),
            ("2026-07-01", "14:00")
        );
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_refused() {
        let d = LocalStart::parse_date("2026-03-29").unwrap();
        let t = LocalStart::parse_time("02:30").unwrap();
        let err = LocalStart::new(d, t, zone("Europe/Berlin")).unwrap_err();
        assert!(err.message.contains("startTime"));
    }

    #[test]
    fn field_checks_name_the_field() {
        assert!(LocalStart::parse_date("2026-02-30")
            .unwrap_err()
            .message
            .starts_with("date"));
        assert!(LocalStart::parse_time("25:00")
            .unwrap_err()
            .message
            .starts_with("startTime"));
        assert!(LocalStart::parse_time("9:00").is_err());
        assert!(Duration::parse(14)
            .unwrap_err()
            .message
            .starts_with("duration"));
        assert!(Duration::parse(241).is_err());
        assert_eq!(Duration::parse(240).unwrap().minutes(), 240);
        assert!(Capacity::parse(0)
            .unwrap_err()
            .message
            .starts_with("capacity"));
        assert!(Capacity::parse(101).is_err());
        assert_eq!(Capacity::parse(100).unwrap().seats(), 100);
    }
}
