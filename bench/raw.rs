//! The reference: the server's own booking transaction (`repo::bookings::book_batch` with one
//! booking, with the same emails and reminders queued) run directly on an embedded SurrealKV
//! database in this process, at the same concurrency, with nothing of HTTP, sessions, reads
//! or batching around it.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use specialistly::model::Role;
use specialistly::server::config::{Config, DatabaseConfig, HttpConfig};
use specialistly::server::db::{self, new_key, with_conflict_retry, Db, DbError};
use specialistly::server::jobs::{self, reminders};
use specialistly::server::mail::templates::{self, Appointment, Attendee};
use specialistly::server::repo::bookings::{self, BookRefusal, NewBooking};
use specialistly::server::repo::slots::{self, SlotFields, SlotRow};
use specialistly::server::repo::users::{self, NewUser};

use crate::load::{self, Stats};

pub struct RawDb {
    db: Db,
    http: HttpConfig,
    customers: Vec<Attendee>,
    customer_ids: Vec<String>,
}

/// The database the server keeps under `dir` (its `DATA_DIR`), opened embedded.
pub fn surrealkv_under(dir: &Path) -> DatabaseConfig {
    DatabaseConfig::embedded(
        format!("surrealkv://{}", dir.join("db").display()),
        "specialistly",
        "main",
    )
}

pub async fn open(dir: &Path, customers: usize) -> RawDb {
    let db = db::connect(&surrealkv_under(dir))
        .await
        .expect("opening the raw database");
    db::migrate(&db).await.expect("migrating the raw database");
    let http = Config::from_lookup(|_| None).expect("defaults").http;
    let mut raw = RawDb {
        db,
        http,
        customers: Vec::new(),
        customer_ids: Vec::new(),
    };
    for i in 0..customers {
        let id = new_key();
        let email = format!("raw{i}@example.com");
        users::create(
            &raw.db,
            NewUser {
                id: &id,
                name: "Raw Customer",
                email: &email,
                password_hash: "not-used",
                role: Role::Customer,
                timezone: "Europe/Berlin",
                email_verified: true,
            },
        )
        .await
        .expect("creating a raw customer");
        raw.customers.push(Attendee {
            name: "Raw Customer".into(),
            email,
            timezone: "Europe/Berlin".into(),
        });
        raw.customer_ids.push(id);
    }
    raw
}

impl RawDb {
    pub async fn slots(&self, count: usize, capacity: u32) -> Vec<SlotRow> {
        let specialist = new_key();
        users::create(
            &self.db,
            NewUser {
                id: &specialist,
                name: "Raw Specialist",
                email: &format!("{specialist}@example.com"),
                password_hash: "not-used",
                role: Role::Specialist,
                timezone: "UTC",
                email_verified: true,
            },
        )
        .await
        .expect("creating the raw specialist");
        let mut rows = Vec::new();
        for i in 0..count {
            let starts_at = Utc::now() + Duration::days(3) + Duration::minutes(i as i64 * 30);
            let fields = SlotFields {
                title: format!("Raw slot {i}"),
                description: None,
                date: starts_at.format("%Y-%m-%d").to_string(),
                start_time: starts_at.format("%H:%M").to_string(),
                timezone: "UTC".into(),
                starts_at,
                duration: 30,
                capacity,
            };
            rows.push(
                slots::create(&self.db, &new_key(), &specialist, &fields)
                    .await
                    .expect("creating a raw slot"),
            );
        }
        rows
    }

    /// `n` bookings by `concurrency` workers; operation `i` books `pick(i)` = (slot, customer).
    pub async fn book(
        self: &Arc<Self>,
        slots: Arc<Vec<SlotRow>>,
        concurrency: usize,
        n: usize,
        pick: impl Fn(usize) -> (usize, usize) + Send + Sync + 'static,
    ) -> Stats {
        let raw = self.clone();
        load::run(concurrency, n, move |i| {
            let (slot, customer) = pick(i);
            let raw = raw.clone();
            let slot = slots[slot].clone();
            async move { raw.book_one(&slot, customer).await }
        })
        .await
    }

    async fn book_one(&self, slot: &SlotRow, customer: usize) -> u16 {
        let booking_id = new_key();
        let attendee = self.customers[customer].clone();
        let appointment = Appointment::new(slot, &booking_id, attendee.clone());
        let emails = [
            templates::customer_confirmation(&appointment),
            templates::specialist_notification(&appointment),
        ];
        let mut queued = jobs::emails(&emails);
        queued.extend(reminders::for_booking(
            &self.http,
            &slot.id,
            slot.fields.starts_at,
            slot.schedule_version,
            &booking_id,
        ));
        let new = [NewBooking {
            id: booking_id,
            customer: self.customer_ids[customer].clone(),
            customer_email: attendee.email,
            customer_name: attendee.name,
            additional_notes: None,
            schedule_version: slot.schedule_version,
            jobs: queued,
        }];
        let outcome = with_conflict_retry("raw_booking", || async {
            match bookings::book_batch(&self.db, &slot.id, &new).await {
                Ok(Err(refused)) if refused.refusal == BookRefusal::Changed => {
                    Err(DbError::Conflict)
                }
                Ok(Err(refused)) => Ok(Err(refused.refusal)),
                Ok(Ok(_)) => Ok(Ok(())),
                Err(e) => Err(e),
            }
        })
        .await;
        match outcome {
            Ok(Ok(_)) => 201,
            Ok(Err(BookRefusal::Full | BookRefusal::AlreadyBooked)) => 409,
            Ok(Err(_)) => 400,
            Err(DbError::Conflict) => 503,
            Err(_) => 500,
        }
    }
}
