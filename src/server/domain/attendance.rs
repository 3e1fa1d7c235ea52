//! Attendance folded from what Zoom reported (joins, leaves, the meeting's end), in any order
//! and with duplicates: the points are sorted by their own times before they are paired, so
//! the same set of points gives the same summary whatever order it arrived in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Attendance, Outcome};

/// Who a point is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Host,
    Customer,
    /// Someone else in the meeting (another email than the customer's).
    Other,
    /// The meeting itself (its end).
    Meeting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointKind {
    // Declared first: a join and a leave at the same second pair up as join, then leave.
    Join,
    Leave,
    End,
}

/// One thing Zoom reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub role: Role,
    /// Zoom's id of the participant (for the meeting: empty).
    pub participant: String,
    pub kind: PointKind,
    pub at: DateTime<Utc>,
}

/// The attendance and, once the meeting ended, the outcome.
pub fn fold(points: &[Point]) -> (Option<Attendance>, Option<Outcome>) {
    let ended_at = points
        .iter()
        .filter(|p| p.kind == PointKind::End)
        .map(|p| p.at)
        .max();
    let host_joined_at = first_join(points, Role::Host);
    let customer = intervals(points, Role::Customer, ended_at);
    let customer_joined_at = first_join(points, Role::Customer);
    let outcome = ended_at.map(|_| match customer_joined_at {
        Some(_) => Outcome::Attended,
        None => Outcome::NoShow,
    });
    if host_joined_at.is_none() && customer_joined_at.is_none() {
        return (None, outcome);
    }
    let still_in = customer.iter().any(|(_, end)| end.is_none());
    let customer_left_at = if still_in {
        None
    } else {
        customer.iter().filter_map(|(_, end)| *end).max()
    };
    let seconds: i64 = union_seconds(&customer);
    (
        Some(Attendance {
            customer_joined_at,
            customer_left_at,
            customer_minutes: u32::try_from((seconds + 30) / 60).unwrap_or(u32::MAX),
            host_joined_at,
        }),
        outcome,
    )
}

fn first_join(points: &[Point], role: Role) -> Option<DateTime<Utc>> {
    points
        .iter()
        .filter(|p| p.role == role && p.kind == PointKind::Join)
        .map(|p| p.at)
        .min()
}

type Interval = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Each participant's stays: a join opens one (a second join while open changes nothing: its
/// leave was lost), a leave closes it, the meeting's end closes what is still open.
fn intervals(points: &[Point], role: Role, ended_at: Option<DateTime<Utc>>) -> Vec<Interval> {
    let mut by_participant: BTreeMap<&str, Vec<&Point>> = BTreeMap::new();
    for p in points.iter().filter(|p| p.role == role) {
        by_participant.entry(&p.participant).or_default().push(p);
    }
    let mut out = Vec::new();
    for (_, mut own) in by_participant {
        own.sort_by_key(|p| (p.at, p.kind));
        let mut open: Option<DateTime<Utc>> = None;
        for p in own {
            match (p.kind, open) {
                (PointKind::Join, None) => open = Some(p.at),
                (PointKind::Leave, Some(from)) => {
                    out.push((from, Some(p.at)));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(from) = open {
            out.push((from, ended_at.filter(|end| *end >= from)));
        }
    }
    out
}

/// Seconds covered by the closed intervals (overlaps, as from two devices, count once).
fn union_seconds(intervals: &[Interval]) -> i64 {
    let mut closed: Vec<(DateTime<Utc>, DateTime<Utc>)> = intervals
        .iter()
        .filter_map(|(from, to)| to.map(|to| (*from, to)))
        .collect();
    closed.sort();
    let mut total = 0;
    let mut current: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (from, to) in closed {
        current = match current {
            Some((f, t)) if from <= t => Some((f, t.max(to))),
            Some((f, t)) => {
                total += (t - f).num_seconds();
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some((f, t)) = current {
        total += (t - f).num_seconds();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap()
    }

    fn point(role: Role, who: &str, kind: PointKind, minute: i64) -> Point {
        Point {
            role,
            participant: who.into(),
            kind,
            at: at(minute),
        }
    }

    #[test]
    fn a_customer_who_came_and_left_has_their_minutes_and_attended() {
        use PointKind::*;
        let points = [
            point(Role::Host, "h", Join, 0),
            point(Role::Customer, "c", Join, 2),
            point(Role::Customer, "c", Leave, 20),
            point(Role::Customer, "c", Join, 25),
            point(Role::Customer, "c", Leave, 30),
            point(Role::Meeting, "", End, 31),
        ];
        let (attendance, outcome) = fold(&points);
        let a = attendance.unwrap();
        assert_eq!(a.customer_joined_at, Some(at(2)));
        assert_eq!(a.customer_left_at, Some(at(30)));
        assert_eq!(a.customer_minutes, 23);
        assert_eq!(a.host_joined_at, Some(at(0)));
        assert_eq!(outcome, Some(Outcome::Attended));
    }

    #[test]
    fn nobody_but_the_host_is_a_no_show_once_the_meeting_ended() {
        use PointKind::*;
        let points = [
            point(Role::Host, "h", Join, 0),
            point(Role::Host, "h", Leave, 10),
        ];
        assert_eq!(fold(&points).1, None, "not ended yet: no outcome");
        let mut ended = points.to_vec();
        ended.push(point(Role::Meeting, "", End, 10));
        let (attendance, outcome) = fold(&ended);
        assert_eq!(outcome, Some(Outcome::NoShow));
        assert_eq!(attendance.unwrap().customer_minutes, 0);
    }

    #[test]
    fn a_stay_still_open_at_the_end_closes_there_and_before_it_has_no_leave_time() {
        use PointKind::*;
        let open = [point(Role::Customer, "c", Join, 5)];
        let a = fold(&open).0.unwrap();
        assert_eq!((a.customer_left_at, a.customer_minutes), (None, 0));
        let ended = [open[0].clone(), point(Role::Meeting, "", End, 45)];
        let a = fold(&ended).0.unwrap();
        assert_eq!((a.customer_left_at, a.customer_minutes), (Some(at(45)), 40));
    }

    #[test]
    fn two_devices_at_once_count_their_overlap_once() {
        use PointKind::*;
        let points = [
            point(Role::Customer, "phone", Join, 0),
            point(Role::Customer, "laptop", Join, 5),
            point(Role::Customer, "phone", Leave, 10),
            point(Role::Customer, "laptop", Leave, 15),
        ];
        assert_eq!(fold(&points).0.unwrap().customer_minutes, 15);
    }

    fn any_point() -> impl Strategy<Value = Point> {
        (
            prop_oneof![Just(Role::Host), Just(Role::Customer), Just(Role::Meeting)],
            prop_oneof![Just("a"), Just("b")],
            prop_oneof![
                Just(PointKind::Join),
                Just(PointKind::Leave),
                Just(PointKind::End)
            ],
            0i64..120,
        )
            .prop_map(|(role, who, kind, minute)| point(role, who, kind, minute))
    }

    proptest! {
        /// Zoom delivers out of order and more than once: neither changes the summary.
        #[test]
        fn order_and_duplicates_do_not_change_the_summary(
            points in proptest::collection::vec(any_point(), 0..12),
            seed in any::<u64>(),
        ) {
            let mut shuffled = points.clone();
            shuffled.extend(points.iter().take(seed as usize % 4).cloned());
            let n = shuffled.len();
            for i in 0..n {
                shuffled.swap(i, (seed as usize).wrapping_mul(31).wrapping_add(i * 7) % n);
            }
            prop_assert_eq!(fold(&points), fold(&shuffled));
        }
    }
}
