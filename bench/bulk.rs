//! Fills the (stopped) server's database with other people's data: specialists, customers,
//! slots half in the past and half ahead, and their bookings, so that reads can be measured
//! against a million bookings that are not the reader's.

use std::path::Path;
use std::time::Instant;

use chrono::{Duration, Utc};
use serde_json::json;
use specialistly::server::db::{self, run};

pub const SPECIALISTS: usize = 1_000;
pub const CUSTOMERS: usize = 20_000;
pub const BOOKINGS_PER_SLOT: usize = 10;
/// Rows per transaction: each must fit SurrealKV's memtable (`DATABASE_MEMTABLE_MIB`).
const SLOTS_PER_QUERY: usize = 100;
const USERS_PER_QUERY: usize = 1_000;

/// Adds `bookings` bookings (and the slots and users they need). Returns the seconds taken.
pub async fn fill(dir: &Path, bookings: usize) -> f64 {
    let started = Instant::now();
    let db = db::connect(&crate::raw::surrealkv_under(dir))
        .await
        .expect("opening the database to fill");
    for (role, count, prefix) in [
        ("specialist", SPECIALISTS, "bulkspec"),
        ("customer", CUSTOMERS, "bulkcust"),
    ] {
        for first in (0..count).step_by(USERS_PER_QUERY) {
            run(
                &db,
                "FOR $i IN $first..$end {
                    CREATE type::record('user', $prefix + <string>$i) CONTENT {
                        name: 'Other ' + <string>$i, email: $prefix + <string>$i + '@example.com',
                        password_hash: 'not-used', role: $role, timezone: 'UTC', email_verified: true
                    };
                };",
                json!({ "first": first, "end": (first + USERS_PER_QUERY).min(count), "prefix": prefix, "role": role }),
            )
            .await
            .expect("creating other users");
        }
    }
    let slots = bookings.div_ceil(BOOKINGS_PER_SLOT);
    let now = Utc::now();
    for first in (0..slots).step_by(SLOTS_PER_QUERY) {
        let rows: Vec<_> = (first..(first + SLOTS_PER_QUERY).min(slots))
            .map(|s| {
                // Even slots in the past year, odd ones in the coming two years.
                let days = (s % 700) as i64 / 2 + 1;
                let at = if s % 2 == 0 {
                    now - Duration::days(days)
                } else {
                    now + Duration::days(days)
                };
                json!({
                    "key": format!("bulk{s}"), "spec": format!("bulkspec{}", s % SPECIALISTS),
                    "at": at.to_rfc3339(), "date": at.format("%Y-%m-%d").to_string(),
                    "customers": (0..BOOKINGS_PER_SLOT).map(|k| (s * 7 + k * 1_999) % CUSTOMERS).collect::<Vec<_>>(),
                })
            })
            .collect();
        run(
            &db,
            "FOR $r IN $rows {
                LET $slot = type::record('slot', $r.key);
                CREATE $slot CONTENT {
                    specialist: type::record('user', $r.spec), title: 'Another session',
                    date: $r.date, start_time: '10:00', timezone: 'UTC',
                    starts_at: type::datetime($r.at), duration: 30, capacity: $per_slot * 2,
                    booked: $per_slot, next_index: $per_slot, schedule_version: 0
                };
                FOR $k IN 0..$per_slot {
                    LET $c = $r.customers[$k];
                    CREATE booking CONTENT {
                        slot: $slot, index: $k, customer: type::record('user', 'bulkcust' + <string>$c),
                        customer_email: 'bulkcust' + <string>$c + '@example.com',
                        customer_name: 'Other ' + <string>$c, booked_at: time::now(), status: 'active'
                    };
                };
            };",
            json!({ "rows": rows, "per_slot": BOOKINGS_PER_SLOT }),
        )
        .await
        .expect("creating other slots and bookings");
    }
    drop(db);
    started.elapsed().as_secs_f64()
}
