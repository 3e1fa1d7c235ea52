//! The references, run directly on an embedded SurrealKV database in this process at the
//! same concurrency as the HTTP runs, with nothing of HTTP, sessions, reads or batching around
//! them: the server's own booking transaction (`repo::bookings::book_batch` with one booking
//! and the job it queues), and the minimal booking (the seat counter's check-and-increment and
//! one booking row, no jobs), the floor any booking transaction on this engine stands on.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::json;
use specialistly::model::Role;
use specialistly::server::config::DatabaseConfig;
use specialistly::server::db::{self, new_key, with_conflict_retry, Db, DbError};
use specialistly::server::jobs::NewJob;
use specialistly::server::mail::templates::Attendee;
use specialistly::server::repo::bookings::{self, BookRefusal, NewBooking};
use specialistly::server::repo::slots::{self, SlotFields, SlotRow};
use specialistly::server::repo::users::{self, NewUser};

use crate::load::{self, Stats};

/// Which booking transaction a run measures.
#[derive(Debug, Clone, Copy)]
pub enum Transaction {
    /// The server's own (`book_batch` with one booking and its job).
    App,
    /// The seat counter's check-and-increment and one booking row.
    Minimal,
}

pub struct RawDb {
    db: Db,
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
    let mut raw = RawDb {
        db,
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

    /// `n` bookings with transaction `tx` by `concurrency` workers; operation `i` books
    /// `pick(i)` = (slot, customer).
    pub async fn book(
        self: &Arc<Self>,
        tx: Transaction,
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
            async move {
                match tx {
                    Transaction::App => raw.book_one(&slot, customer).await,
                    Transaction::Minimal => raw.book_minimal_one(&slot.id, customer).await,
                }
            }
        })
        .await
    }

    async fn book_one(&self, slot: &SlotRow, customer: usize) -> u16 {
        let booking_id = new_key();
        let attendee = &self.customers[customer];
        let new = [NewBooking {
            follow_up: vec![NewJob::booking_created(&booking_id)],
            guest: false,
            hold_seconds: None,
            id: booking_id,
            customer: self.customer_ids[customer].clone(),
            customer_email: attendee.email.clone(),
            customer_name: attendee.name.clone(),
            additional_notes: None,
        }];
        let outcome = with_conflict_retry("raw_booking", || async {
            match bookings::book_batch(&self.db, &slot.id, &new).await {
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

    /// The seat counter checked and incremented, and one booking row: what every booking
    /// must write atomically.
    async fn book_minimal_one(&self, slot: &str, customer: usize) -> u16 {
        const MINIMAL: &str = "BEGIN TRANSACTION;
            LET $slot = type::record('slot', $slot_id);
            LET $taken = (UPDATE $slot SET booked += 1, next_index += 1
                WHERE booked < capacity RETURN AFTER)[0];
            IF $taken = NONE { THROW 'full'; };
            CREATE type::record('booking', $id) CONTENT {
                slot: $slot, index: $taken.next_index - 1,
                customer: type::record('user', $customer), customer_email: $email,
                customer_name: $name, booked_at: time::now(), status: 'active'
            } RETURN NONE;
            COMMIT TRANSACTION;";
        let attendee = &self.customers[customer];
        let vars = json!({
            "slot_id": slot,
            "id": new_key(),
            "customer": self.customer_ids[customer],
            "email": attendee.email,
            "name": attendee.name,
        });
        match with_conflict_retry("raw_minimal_booking", || {
            db::run(&self.db, MINIMAL, vars.clone())
        })
        .await
        {
            Ok(_) => 201,
            Err(DbError::Thrown(_)) => 409,
            Err(DbError::Conflict) => 503,
            Err(_) => 500,
        }
    }
}
