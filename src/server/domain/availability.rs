//! Availability a specialist states once: weekly hours in an IANA zone, dates with other hours
//! (or none), a start interval, buffers, a minimum notice and a booking window. From it come
//! the session starts offered, as instants.
//!
//! Wall-clock times are read in the schedule's zone on each date, so a session at 09:00 stays
//! at 09:00 across a daylight-saving change. A time that does not exist on a spring-forward
//! day is skipped; one that exists twice on a fall-back day is offered once, at its first
//! occurrence. Sessions never overlap one another or what is taken already, buffers included.

use std::collections::BTreeMap;

use crate::error::AppError;
use crate::model::{HoursView, ScheduleView};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Hours on one day, on the zone's clock: `start` up to `end` (same day, `end` after `start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A span of time nobody can book: another session of the specialist (with its buffers) or a
/// busy time from their calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Taken {
    fn overlaps(&self, other: &Taken) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub zone: Tz,
    /// Monday first.
    pub weekly: [Vec<Window>; 7],
    /// Dates with other hours than their weekday's; no windows is a day off.
    pub overrides: BTreeMap<NaiveDate, Vec<Window>>,
    /// Minutes between possible starts within a window.
    pub interval_minutes: u32,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// No session starting sooner than this after now.
    pub notice_minutes: u32,
    /// No session starting this many days or more after now.
    pub window_days: u32,
}

impl Availability {
    /// The windows of `date` in the zone: its override, or its weekday's hours.
    pub fn windows_on(&self, date: NaiveDate) -> &[Window] {
        self.overrides
            .get(&date)
            .unwrap_or(&self.weekly[date.weekday().num_days_from_monday() as usize])
    }

    /// A session starting at `start`, with its buffers.
    pub fn padded(&self, start: DateTime<Utc>) -> Taken {
        Taken {
            start: start - minutes(self.buffer_before_minutes),
            end: start + minutes(self.duration_minutes + self.buffer_after_minutes),
        }
    }

    /// The starts offered from `now` to the end of the booking window, in order: each on a
    /// window's interval grid, the whole session (read on the zone's clock) inside that window,
    /// and none whose session with its buffers overlaps `taken` or an earlier start.
    pub fn starts(&self, now: DateTime<Utc>, taken: &[Taken]) -> Vec<DateTime<Utc>> {
        let earliest = now + minutes(self.notice_minutes);
        let latest = now + Duration::days(i64::from(self.window_days));
        let interval = minutes(self.interval_minutes.max(1));
        let duration = minutes(self.duration_minutes);
        let mut chosen: Vec<DateTime<Utc>> = Vec::new();
        // The local dates the window touches, with a day either side for the zone's offset.
        let first = (now - Duration::days(1))
            .with_timezone(&self.zone)
            .date_naive();
        let last = (latest + Duration::days(1))
            .with_timezone(&self.zone)
            .date_naive();
        let mut date = first;
        while date <= last {
            let mut starts_today = Vec::new();
            for window in self.windows_on(date) {
                // The window as instants: from the clock's first reading of its start to its
                // first reading of its end (a session may span the change itself).
                let opens = reading_at_or_after(self.zone, date.and_time(window.start));
                let closes = reading_at_or_after(self.zone, date.and_time(window.end));
                let mut wall = date.and_time(window.start);
                while wall < date.and_time(window.end) {
                    if let Some(start) = first_instant(self.zone, wall) {
                        if start >= opens && start + duration <= closes {
                            starts_today.push(start);
                        }
                    }
                    wall += interval;
                }
            }
            starts_today.sort();
            starts_today.dedup();
            for start in starts_today {
                if start < earliest || start >= latest {
                    continue;
                }
                let session = self.padded(start);
                let clashes = taken.iter().any(|t| t.overlaps(&session))
                    || chosen.iter().any(|c| self.padded(*c).overlaps(&session));
                if !clashes {
                    chosen.push(start);
                }
            }
            date = date.succ_opt().expect("dates far before the end of time");
        }
        chosen.sort();
        chosen
    }
}

/// Weekday names as the API writes them, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Windows one day may have.
const MAX_WINDOWS_A_DAY: usize = 10;
const MAX_OVERRIDES: usize = 366;
pub const DEFAULT_WINDOW_DAYS: u32 = 30;

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message)
}

fn clock_time(raw: &str, field: &str) -> Result<NaiveTime, AppError> {
    let ok = raw.len() == 5 && raw.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| bad(format!("{field} must be a time such as 09:30")))
}

fn window(start: &str, end: &str, field: &str) -> Result<Window, AppError> {
    let start = clock_time(start, &format!("{field}.start"))?;
    let end = clock_time(end, &format!("{field}.end"))?;
    if end <= start {
        return Err(bad(format!("{field}: the end must be after the start")));
    }
    Ok(Window { start, end })
}

/// A day's windows, in order, refused when two overlap.
fn day(mut windows: Vec<Window>, field: &str) -> Result<Vec<Window>, AppError> {
    if windows.len() > MAX_WINDOWS_A_DAY {
        return Err(bad(format!(
            "{field}: at most {MAX_WINDOWS_A_DAY} windows a day"
        )));
    }
    windows.sort();
    if windows.windows(2).any(|pair| pair[1].start < pair[0].end) {
        return Err(bad(format!("{field}: hours on one day must not overlap")));
    }
    Ok(windows)
}

fn within(value: u32, range: std::ops::RangeInclusive<u32>, field: &str) -> Result<u32, AppError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(bad(format!(
            "{field} must be between {} and {}",
            range.start(),
            range.end()
        )))
    }
}

impl Availability {
    /// A schedule as the API writes it, checked, for sessions of `duration_minutes`.
    pub fn from_view(view: &ScheduleView, duration_minutes: u32) -> Result<Self, AppError> {
        let zone = super::TimeZone::parse(&view.timezone, "schedule.timezone")?.tz();
        let mut weekly: [Vec<Window>; 7] = Default::default();
        for (i, hours) in view.weekly.iter().enumerate() {
            let field = format!("schedule.weekly[{i}]");
            let Some(d) = WEEKDAYS
                .iter()
                .position(|d| *d == hours.day.trim().to_ascii_lowercase())
            else {
                return Err(bad(format!(
                    "{field}.day must be one of {}",
                    WEEKDAYS.join(", ")
                )));
            };
            weekly[d].push(window(&hours.start, &hours.end, &field)?);
        }
        for (d, windows) in weekly.iter_mut().enumerate() {
            *windows = day(
                std::mem::take(windows),
                &format!("schedule.weekly ({})", WEEKDAYS[d]),
            )?;
        }
        if view.overrides.len() > MAX_OVERRIDES {
            return Err(bad(format!(
                "schedule.overrides: at most {MAX_OVERRIDES} dates"
            )));
        }
        let mut overrides = BTreeMap::new();
        for (i, o) in view.overrides.iter().enumerate() {
            let field = format!("schedule.overrides[{i}]");
            let date = NaiveDate::parse_from_str(o.date.trim(), "%Y-%m-%d")
                .map_err(|_| bad(format!("{field}.date must be a date such as 2027-12-24")))?;
            let windows = o
                .hours
                .iter()
                .enumerate()
                .map(|(j, HoursView { start, end })| {
                    window(start, end, &format!("{field}.hours[{j}]"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if overrides.insert(date, day(windows, &field)?).is_some() {
                return Err(bad(format!("{field}: {date} is given twice")));
            }
        }
        Ok(Self {
            zone,
            weekly,
            overrides,
            interval_minutes: within(
                view.interval_minutes.unwrap_or(duration_minutes),
                5..=240,
                "schedule.intervalMinutes",
            )?,
            duration_minutes,
            buffer_before_minutes: within(
                view.buffer_before_minutes,
                0..=120,
                "schedule.bufferBeforeMinutes",
            )?,
            buffer_after_minutes: within(
                view.buffer_after_minutes,
                0..=120,
                "schedule.bufferAfterMinutes",
            )?,
            notice_minutes: within(view.notice_hours, 0..=720, "schedule.noticeHours")? * 60,
            window_days: within(
                view.window_days.unwrap_or(DEFAULT_WINDOW_DAYS),
                1..=365,
                "schedule.windowDays",
            )?,
        })
    }

    /// The schedule as the API shows it (and the database keeps it), defaults written out.
    pub fn view(&self) -> ScheduleView {
        let hhmm = |t: NaiveTime| t.format("%H:%M").to_string();
        let hours = |w: &Window| HoursView {
            start: hhmm(w.start),
            end: hhmm(w.end),
        };
        ScheduleView {
            timezone: self.zone.name().to_string(),
            weekly: self
                .weekly
                .iter()
                .enumerate()
                .flat_map(|(d, windows)| {
                    windows.iter().map(move |w| crate::model::WeeklyHoursView {
                        day: WEEKDAYS[d].to_string(),
                        start: hhmm(w.start),
                        end: hhmm(w.end),
                    })
                })
                .collect(),
            overrides: self
                .overrides
                .iter()
                .map(|(date, windows)| crate::model::DateOverrideView {
                    date: date.format("%Y-%m-%d").to_string(),
                    hours: windows.iter().map(hours).collect(),
                })
                .collect(),
            interval_minutes: Some(self.interval_minutes),
            buffer_before_minutes: self.buffer_before_minutes,
            buffer_after_minutes: self.buffer_after_minutes,
            notice_hours: self.notice_minutes / 60,
            window_days: Some(self.window_days),
        }
    }
}

fn minutes(n: u32) -> Duration {
    Duration::minutes(i64::from(n))
}

/// The first instant at which `zone`'s clock reads `wall` or later: in a spring-forward gap,
/// the instant the clock jumps past it.
pub fn reading_at_or_after(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    let mut at = wall;
    loop {
        if let Some(instant) = first_instant(zone, at) {
            return instant;
        }
        // Gaps start and end on whole minutes, and last hours at most.
        at += Duration::minutes(1);
    }
}

/// The instant a wall-clock time first shows in `zone`: none in a spring-forward gap, the
/// earlier of two in a fall-back repeat.
pub fn first_instant(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => Some(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn every_day(windows: Vec<Window>, zone: Tz) -> Availability {
        Availability {
            zone,
            weekly: std::array::from_fn(|_| windows.clone()),
            overrides: BTreeMap::new(),
            interval_minutes: 30,
            duration_minutes: 30,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            notice_minutes: 0,
            window_days: 3,
        }
    }

    fn local(starts: &[DateTime<Utc>], zone: Tz, date: NaiveDate) -> Vec<String> {
        starts
            .iter()
            .map(|s| s.with_timezone(&zone))
            .filter(|s| s.date_naive() == date)
            .map(|s| s.format("%H:%M%:z").to_string())
            .collect()
    }

    fn utc(y: i32, mo: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_schedule_is_read_checked_and_written_back_with_its_defaults() {
        let view: ScheduleView = serde_json::from_value(serde_json::json!({
            "timezone": "Europe/Berlin",
            "weekly": [
                { "day": "mon", "start": "09:00", "end": "12:00" },
                { "day": "tue", "start": "14:00", "end": "17:00" },
                { "day": "tue", "start": "09:00", "end": "12:00" }
            ],
            "overrides": [{ "date": "2027-12-24", "hours": [] }]
        }))
        .unwrap();
        let a = Availability::from_view(&view, 45).unwrap();
        assert_eq!(a.interval_minutes, 45);
        assert_eq!(a.window_days, DEFAULT_WINDOW_DAYS);
        assert_eq!(a.weekly[1].len(), 2);
        assert!(a.weekly[1][0].start < a.weekly[1][1].start, "sorted");
        assert_eq!(Availability::from_view(&a.view(), 45).unwrap(), a);

        let refused = |change: serde_json::Value| {
            let mut v = serde_json::to_value(&view).unwrap();
            for (k, val) in change.as_object().unwrap() {
                v[k] = val.clone();
            }
            let v: ScheduleView = serde_json::from_value(v).unwrap();
            Availability::from_view(&v, 45).unwrap_err().message
        };
        assert!(refused(serde_json::json!({ "timezone": "Mars/Base" })).contains("IANA"));
        assert!(refused(
            serde_json::json!({ "weekly": [{ "day": "funday", "start": "09:00", "end": "10:00" }] })
        )
        .contains("mon, tue"));
        assert!(refused(
            serde_json::json!({ "weekly": [{ "day": "mon", "start": "10:00", "end": "09:00" }] })
        )
        .contains("after the start"));
        assert!(refused(
            serde_json::json!({ "weekly": [{ "day": "mon", "start": "9:00", "end": "10:00" }] })
        )
        .contains("such as 09:30"));
        assert!(refused(serde_json::json!({ "weekly": [
            { "day": "mon", "start": "09:00", "end": "11:00" },
            { "day": "mon", "start": "10:00", "end": "12:00" }] }))
        .contains("must not overlap"));
        assert!(refused(serde_json::json!({ "overrides": [
            { "date": "2027-12-24", "hours": [] }, { "date": "2027-12-24", "hours": [] }] }))
        .contains("given twice"));
        assert!(
            refused(serde_json::json!({ "overrides": [{ "date": "24.12.2027" }] }))
                .contains("such as 2027-12-24")
        );
        assert!(refused(serde_json::json!({ "intervalMinutes": 2 })).contains("between 5 and 240"));
        assert!(
            refused(serde_json::json!({ "bufferAfterMinutes": 121 })).contains("between 0 and 120")
        );
        assert!(refused(serde_json::json!({ "windowDays": 0 })).contains("between 1 and 365"));
    }

    #[test]
    fn a_spring_forward_day_skips_the_hour_that_does_not_exist() {
        let zone = chrono_tz::Europe::Berlin;
        let a = every_day(
            vec![Window {
                start: t(1, 0),
                end: t(4, 0),
            }],
            zone,
        );
        let starts = a.starts(utc(2027, 3, 27), &[]);
        let day = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        // 01:30 + 30 min is 03:00 on that day's clock.
        assert_eq!(
            local(&starts, zone, day),
            ["01:00+01:00", "01:30+01:00", "03:00+02:00", "03:30+02:00"]
        );
    }

    #[test]
    fn a_session_reaching_across_the_gap_keeps_the_next_start_free() {
        let zone = chrono_tz::Europe::Berlin;
        let mut a = every_day(
            vec![Window {
                start: t(0, 0),
                end: t(3, 45),
            }],
            zone,
        );
        a.interval_minutes = 45;
        a.duration_minutes = 45;
        let starts = a.starts(utc(2027, 3, 27), &[]);
        let day = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        // 02:15 does not exist; 01:30 + 45 min is 03:15, past the 03:00 start.
        assert_eq!(
            local(&starts, zone, day),
            ["00:00+01:00", "00:45+01:00", "01:30+01:00"]
        );
    }

    #[test]
    fn a_fall_back_day_offers_the_repeated_hour_once() {
        let zone = chrono_tz::Europe::Berlin;
        let a = every_day(
            vec![Window {
                start: t(1, 0),
                end: t(4, 0),
            }],
            zone,
        );
        let starts = a.starts(utc(2027, 10, 30), &[]);
        let day = NaiveDate::from_ymd_opt(2027, 10, 31).unwrap();
        assert_eq!(
            local(&starts, zone, day),
            [
                "01:00+02:00",
                "01:30+02:00",
                "02:00+02:00",
                "02:30+02:00",
                "03:00+01:00",
                "03:30+01:00"
            ]
        );
    }

    #[test]
    fn nine_oclock_stays_nine_oclock_across_the_change() {
        let zone = chrono_tz::America::New_York;
        let a = every_day(
            vec![Window {
                start: t(9, 0),
                end: t(9, 30),
            }],
            zone,
        );
        let starts = a.starts(utc(2027, 3, 13), &[]);
        let hours: Vec<String> = starts
            .iter()
            .map(|s| s.with_timezone(&zone).format("%d %H:%M").to_string())
            .collect();
        assert_eq!(hours, ["13 09:00", "14 09:00", "15 09:00"]);
        let utc_hours: Vec<u32> = starts
            .iter()
            .map(|s| chrono::Timelike::hour(&s.time()))
            .collect();
        assert_eq!(utc_hours, [14, 13, 13]);
    }

    #[test]
    fn buffers_notice_overrides_and_taken_times_are_honoured() {
        let zone = chrono_tz::Asia::Kolkata;
        let mut a = every_day(
            vec![Window {
                start: t(9, 0),
                end: t(12, 0),
            }],
            zone,
        );
        a.duration_minutes = 45;
        a.interval_minutes = 15;
        a.buffer_after_minutes = 15;
        let day = NaiveDate::from_ymd_opt(2027, 6, 2).unwrap();
        a.overrides.insert(day, vec![]);
        let now = zone
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2027, 6, 1)
                    .unwrap()
                    .and_time(t(9, 20)),
            )
            .unwrap()
            .with_timezone(&Utc);
        a.notice_minutes = 60;
        let busy_start = zone
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2027, 6, 3)
                    .unwrap()
                    .and_time(t(10, 0)),
            )
            .unwrap()
            .with_timezone(&Utc);
        let taken = [Taken {
            start: busy_start,
            end: busy_start + Duration::minutes(30),
        }];
        let starts = a.starts(now, &taken);
        // June 1: not before 10:20; one hour apart (45 min and a 15-minute buffer).
        assert_eq!(
            local(&starts, zone, NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()),
            ["10:30+05:30"]
        );
        // June 2 is a day off.
        assert!(local(&starts, zone, day).is_empty());
        // June 3: nothing touching 10:00–10:30 (the session before it ends, buffer included, by then).
        assert_eq!(
            local(&starts, zone, NaiveDate::from_ymd_opt(2027, 6, 3).unwrap()),
            ["09:00+05:30", "10:30+05:30"]
        );
    }

    /// The four zones and their 2027 changes (Kolkata has none: a zone without DST must come
    /// out as plainly).
    type Date = (i32, u32, u32);
    const CHANGES: [(&str, [Date; 2]); 4] = [
        ("Europe/Berlin", [(2027, 3, 28), (2027, 10, 31)]),
        ("America/New_York", [(2027, 3, 14), (2027, 11, 7)]),
        ("Australia/Sydney", [(2027, 4, 4), (2027, 10, 3)]),
        ("Asia/Kolkata", [(2027, 3, 28), (2027, 10, 31)]),
    ];

    fn window_strategy() -> impl Strategy<Value = Window> {
        (0u32..96, 1u32..48).prop_map(|(from, len)| {
            let start = from * 15;
            let end = (start + len * 15).min(24 * 60 - 1);
            Window {
                start: t(start / 60, start % 60),
                end: t(end / 60, end % 60),
            }
        })
    }

    prop_compose! {
        fn case()(
            zone in 0usize..4,
            change in 0usize..2,
            before in 0i64..72,
            windows in proptest::collection::vec(window_strategy(), 1..3),
            interval in prop::sample::select(vec![15u32, 20, 30, 45, 60]),
            duration in prop::sample::select(vec![15u32, 30, 45, 60, 90]),
            buffer_before in prop::sample::select(vec![0u32, 5, 15]),
            buffer_after in prop::sample::select(vec![0u32, 10, 15]),
            notice in prop::sample::select(vec![0u32, 60, 240]),
        ) -> (Availability, DateTime<Utc>) {
            let (name, days) = CHANGES[zone];
            let zone: Tz = name.parse().unwrap();
            let (y, m, d) = days[change];
            let now = utc(y, m, d) - Duration::hours(before);
            let mut a = every_day(windows, zone);
            a.interval_minutes = interval;
            a.duration_minutes = duration;
            a.buffer_before_minutes = buffer_before;
            a.buffer_after_minutes = buffer_after;
            a.notice_minutes = notice;
            (a, now)
        }
    }

    /// Every wall-clock start the schedule allows, found without `first_instant`: walking the
    /// instants minute by minute and keeping the first at which each local time shows.
    fn oracle(a: &Availability, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let earliest = now + minutes(a.notice_minutes);
        let latest = now + Duration::days(i64::from(a.window_days));
        // Every minute from well before to well after, with the zone's reading of it.
        let mut clock = Vec::new();
        let mut u = earliest - Duration::days(2);
        while u < latest + Duration::days(2) {
            clock.push((u, u.with_timezone(&a.zone).naive_local()));
            u += Duration::minutes(1);
        }
        let first_reading_of = |wall: NaiveDateTime| {
            clock
                .iter()
                .find(|(_, l)| *l >= wall)
                .map(|(u, _)| *u)
                .unwrap()
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (u, l) in &clock {
            let first_time_shown = seen.insert(*l);
            if !first_time_shown || *u < earliest || *u >= latest {
                continue;
            }
            let on_grid = a.windows_on(l.date()).iter().any(|w| {
                let from = l.time().signed_duration_since(w.start).num_minutes();
                from >= 0
                    && from % i64::from(a.interval_minutes) == 0
                    && l.time() < w.end
                    && *u >= first_reading_of(l.date().and_time(w.start))
                    && *u + minutes(a.duration_minutes)
                        <= first_reading_of(l.date().and_time(w.end))
            });
            if on_grid {
                out.push(*u);
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every start is one the oracle allows (on a window's grid on its local date, inside the
        /// window, after the notice, inside the booking window, a wall-clock time's first
        /// reading), and no two sessions overlap with their buffers.
        #[test]
        fn starts_follow_the_wall_clock_and_never_overlap((a, now) in case()) {
            let starts = a.starts(now, &[]);
            for pair in starts.windows(2) {
                prop_assert!(pair[0] < pair[1]);
                prop_assert!(!a.padded(pair[0]).overlaps(&a.padded(pair[1])), "{pair:?}");
            }
            let expected = oracle(&a, now);
            for s in &starts {
                prop_assert!(expected.contains(s), "{s} is not an allowed start");
            }
        }

        /// With one window a day, no buffers and sessions no longer than the interval, every
        /// start the oracle finds is offered, once, but for one overlapping the session before
        /// it (which happens only across a spring-forward gap: 01:30 + 45 min is 03:15).
        #[test]
        fn every_allowed_start_is_offered_once((mut a, now) in case(), window in window_strategy()) {
            a.weekly = std::array::from_fn(|_| vec![window]);
            a.buffer_before_minutes = 0;
            a.buffer_after_minutes = 0;
            a.duration_minutes = a.duration_minutes.min(a.interval_minutes);
            let mut expected: Vec<DateTime<Utc>> = Vec::new();
            for start in oracle(&a, now) {
                if expected.last().is_none_or(|last| *last + minutes(a.duration_minutes) <= start) {
                    expected.push(start);
                }
            }
            prop_assert_eq!(a.starts(now, &[]), expected);
        }
    }
}
