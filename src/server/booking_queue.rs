//! Bookings of one slot queue up in this instance and are written in batches: while one
//! transaction takes seats, everyone who asks for the same slot meanwhile waits, and the
//! next transaction takes all their seats at once. Each commit waits for the disk, so
//! writing a popular slot's bookings one by one would make them crawl; in batches one
//! sync serves up to [`MOST_PER_BATCH`] customers. The database still decides every seat,
//! and conflicts with other instances are retried by the callers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Semaphore, SemaphorePermit};

use crate::server::db::{Db, DbError};
use crate::server::repo::bookings::{self, BatchRefused, BookRefusal, Booked, NewBooking};
use crate::server::slot_turns::SlotTurns;

/// Enough for a burst of customers to share one commit, small enough that one batch stays
/// a modest transaction.
pub const MOST_PER_BATCH: usize = 32;

/// Bookings being prepared or written at once in this instance. Each holds its rendered
/// emails and its share of a transaction; past this many, more at once only add memory
/// (and contention for two cores), not throughput, so the rest wait before starting.
pub const MOST_IN_FLIGHT: usize = 16;

/// What the transaction decided for one booking.
pub type BookOutcome = Result<Result<Booked, BookRefusal>, DbError>;

struct Waiting {
    booking: NewBooking,
    reply: oneshot::Sender<BookOutcome>,
}

pub struct BookingQueue {
    /// Slots with bookings waiting or being written; a slot's entry exists exactly while a
    /// writer task runs for it.
    waiting: Mutex<HashMap<String, Vec<Waiting>>>,
    /// Moves between slots write seat counters too; a batch takes the slot's turn.
    turns: SlotTurns,
    in_flight: Semaphore,
}

impl Default for BookingQueue {
    fn default() -> Self {
        Self {
            waiting: Mutex::default(),
            turns: SlotTurns::default(),
            in_flight: Semaphore::new(MOST_IN_FLIGHT),
        }
    }
}

impl BookingQueue {
    /// The slots' turns, which the batches take: a move between slots, writing two seat
    /// counters outside the queue, takes them too.
    pub fn turns(&self) -> &SlotTurns {
        &self.turns
    }

    /// Waits until fewer than [`MOST_IN_FLIGHT`] bookings are under way in this instance; the
    /// booking is under way as long as the permit lives.
    pub async fn admit(&self) -> SemaphorePermit<'_> {
        self.in_flight.acquire().await.expect("never closed")
    }

    /// Books a seat of `slot` in the next batch of that slot. The writing happens on a task
    /// of its own, so a caller that goes away does not stop the others' batch.
    pub async fn book(self: &Arc<Self>, db: &Db, slot: &str, booking: NewBooking) -> BookOutcome {
        let (reply, answer) = oneshot::channel();
        let item = Waiting { booking, reply };
        let first = {
            let mut waiting = self.waiting.lock().expect("booking queue poisoned");
            match waiting.get_mut(slot) {
                Some(queue) => {
                    queue.push(item);
                    false
                }
                None => {
                    waiting.insert(slot.to_string(), vec![item]);
                    true
                }
            }
        };
        if first {
            self.start_writer(db.clone(), slot.to_string());
        }
        answer
            .await
            .unwrap_or_else(|_| Err(DbError::Other("the booking writer stopped".into())))
    }

    fn start_writer(self: &Arc<Self>, db: Db, slot: String) {
        let queue = self.clone();
        tokio::spawn(async move {
            // Should the writer panic, its waiters get an error (their replies drop) and the
            // next booking of the slot starts a new writer.
            let _forget = ForgetOnPanic {
                queue: &queue,
                slot: &slot,
            };
            loop {
                let _turn = queue.turns.wait(&slot).await;
                let Some(batch) = queue.next_batch(&slot) else {
                    return;
                };
                write(&db, &slot, batch).await;
            }
        });
    }

    /// Takes the next batch off the slot's queue, oldest first, at most one booking per
    /// customer (a second one waits for the next batch, where it is refused as a repeat);
    /// `None`, and the slot forgotten, when nobody waits.
    fn next_batch(&self, slot: &str) -> Option<Vec<Waiting>> {
        let mut waiting = self.waiting.lock().expect("booking queue poisoned");
        let queue = waiting.get_mut(slot)?;
        if queue.is_empty() {
            waiting.remove(slot);
            return None;
        }
        let mut customers = HashSet::new();
        let mut batch = Vec::new();
        let mut later = Vec::new();
        for item in queue.drain(..) {
            if batch.len() < MOST_PER_BATCH && customers.insert(item.booking.customer.clone()) {
                batch.push(item);
            } else {
                later.push(item);
            }
        }
        *queue = later;
        Some(batch)
    }
}

struct ForgetOnPanic<'a> {
    queue: &'a BookingQueue,
    slot: &'a str,
}

impl Drop for ForgetOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut waiting) = self.queue.waiting.lock() {
                waiting.remove(self.slot);
            }
        }
    }
}

/// Writes one batch and answers each of its callers. A refused booking leaves the batch and
/// the rest is written again: a repeat concerns one caller, and a missing or started slot
/// all of them. When the seats ran out at some booking, that one and
/// everyone after it wait aside while the ones before are written; only if all of those
/// commit are the seats truly gone for the ones aside.
async fn write(db: &Db, slot: &str, batch: Vec<Waiting>) {
    let mut pending = batch;
    let mut aside: Vec<Waiting> = Vec::new();
    loop {
        if pending.is_empty() {
            return answer_all(aside, || Ok(Err(BookRefusal::Full)));
        }
        let bookings: Vec<NewBooking> = pending.iter().map(|w| w.booking.clone()).collect();
        match bookings::book_batch(db, slot, &bookings).await {
            Ok(Ok(booked)) => {
                for (waiting, seat) in pending.into_iter().zip(booked) {
                    let _ = waiting.reply.send(Ok(Ok(seat)));
                }
                return answer_all(aside, || Ok(Err(BookRefusal::Full)));
            }
            Ok(Err(BatchRefused { refusal, .. })) if refusal.is_about_the_slot() => {
                pending.append(&mut aside);
                return answer_all(pending, || Ok(Err(refusal)));
            }
            Ok(Err(BatchRefused {
                position,
                refusal: BookRefusal::Full,
            })) => {
                let mut tail = pending.split_off(position.min(pending.len()));
                tail.append(&mut aside);
                aside = tail;
            }
            Ok(Err(BatchRefused { position, refusal })) => {
                let refused = pending.remove(position.min(pending.len() - 1));
                let _ = refused.reply.send(Ok(Err(refusal)));
                pending.append(&mut aside);
            }
            Err(error) => {
                pending.append(&mut aside);
                return answer_all(pending, || Err(error.clone()));
            }
        }
    }
}

fn answer_all(waiting: Vec<Waiting>, outcome: impl Fn() -> BookOutcome) {
    for w in waiting {
        let _ = w.reply.send(outcome());
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use serde_json::json;

    use super::*;
    use crate::model::Role;
    use crate::server::config::DatabaseConfig;
    use crate::server::db::{self, new_key, run};
    use crate::server::jobs::NewJob;
    use crate::server::repo::slots::{self, SlotFields, SlotRow};
    use crate::server::repo::users::{self, NewUser};

    async fn database() -> Db {
        let db = db::connect(&DatabaseConfig::embedded("mem://", "queue", "queue"))
            .await
            .unwrap();
        db::migrate(&db).await.unwrap();
        db
    }

    async fn user(db: &Db, role: Role) -> String {
        let id = new_key();
        let email = format!("{id}@example.com");
        let new = NewUser {
            id: &id,
            name: "Pat",
            email: &email,
            password_hash: "not-used",
            role,
            timezone: "UTC",
            email_verified: true,
        };
        users::create(db, new).await.unwrap();
        id
    }

    async fn slot(db: &Db, capacity: u32) -> SlotRow {
        let specialist = user(db, Role::Specialist).await;
        let starts_at = Utc::now() + Duration::days(2);
        let fields = SlotFields {
            title: "Popular".into(),
            description: None,
            date: starts_at.format("%Y-%m-%d").to_string(),
            start_time: starts_at.format("%H:%M").to_string(),
            timezone: "UTC".into(),
            starts_at,
            duration: 30,
            capacity,
        };
        slots::create(db, &new_key(), &specialist, &fields)
            .await
            .unwrap()
    }

    fn booking(customer: &str) -> NewBooking {
        let id = new_key();
        NewBooking {
            follow_up: vec![NewJob::booking_created(&id)],
            guest: false,
            hold_seconds: None,
            id,
            customer: customer.to_string(),
            customer_email: format!("{customer}@example.com"),
            customer_name: "Pat".into(),
            additional_notes: None,
        }
    }

    fn waiting(booking: NewBooking) -> (Waiting, oneshot::Receiver<BookOutcome>) {
        let (reply, answer) = oneshot::channel();
        (Waiting { booking, reply }, answer)
    }

    async fn outcome(answer: oneshot::Receiver<BookOutcome>) -> Result<u32, BookRefusal> {
        answer.await.unwrap().unwrap().map(|seat| seat.index)
    }

    /// (seats taken, active bookings) as stored.
    async fn stored(db: &Db, slot: &str) -> (i64, usize) {
        let mut rows = run(
            db,
            "SELECT VALUE booked FROM type::record('slot', $slot);
             SELECT VALUE id FROM booking WHERE slot = type::record('slot', $slot) AND status = 'active';",
            json!({ "slot": slot }),
        )
        .await
        .unwrap();
        let booked: Option<i64> = rows.first(0).unwrap();
        let active: Vec<serde_json::Value> = rows.all(1).unwrap();
        (booked.unwrap(), active.len())
    }

    /// The follow-up jobs queued for the bookings of `slot`.
    async fn follow_ups(db: &Db, slot: &str) -> usize {
        let mut rows = run(
            db,
            "SELECT VALUE id FROM job WHERE kind = 'booking_created' AND payload.booking_id IN
                (SELECT VALUE record::id(id) FROM booking WHERE slot = type::record('slot', $slot))",
            json!({ "slot": slot }),
        )
        .await
        .unwrap();
        rows.all::<serde_json::Value>(0).unwrap().len()
    }

    #[engine_test]
    async fn a_batch_answers_each_booking_and_takes_only_the_seats_there_are() {
        let db = database().await;
        let slot = slot(&db, 3).await;
        let mut customers = Vec::new();
        for _ in 0..4 {
            customers.push(user(&db, Role::Customer).await);
        }
        let (first, answer) = waiting(booking(&customers[0]));
        write(&db, &slot.id, vec![first]).await;
        assert_eq!(outcome(answer).await, Ok(0));

        // A repeat, two that fit, one too many.
        let batch = [
            booking(&customers[0]),
            booking(&customers[1]),
            booking(&customers[2]),
            booking(&customers[3]),
        ];
        let (batch, answers): (Vec<_>, Vec<_>) = batch.into_iter().map(waiting).unzip();
        write(&db, &slot.id, batch).await;
        let mut outcomes = Vec::new();
        for answer in answers {
            outcomes.push(outcome(answer).await);
        }
        assert_eq!(
            outcomes,
            [
                Err(BookRefusal::AlreadyBooked),
                Ok(1),
                Ok(2),
                Err(BookRefusal::Full),
            ]
        );
        assert_eq!(stored(&db, &slot.id).await, (3, 3));
        assert_eq!(
            follow_ups(&db, &slot.id).await,
            3,
            "one per booking written"
        );
    }

    #[engine_test]
    async fn a_batch_on_a_cancelled_slot_refuses_everyone_and_writes_nothing() {
        let db = database().await;
        let slot = slot(&db, 5).await;
        run(
            &db,
            "UPDATE type::record('slot', $slot) SET cancelled_at = time::now()",
            json!({ "slot": slot.id }),
        )
        .await
        .unwrap();
        let (item, answer) = waiting(booking(&user(&db, Role::Customer).await));
        let (other, other_answer) = waiting(booking(&user(&db, Role::Customer).await));
        write(&db, &slot.id, vec![item, other]).await;
        assert_eq!(outcome(answer).await, Err(BookRefusal::Started));
        assert_eq!(outcome(other_answer).await, Err(BookRefusal::Started));
        assert_eq!(stored(&db, &slot.id).await, (0, 0));
        assert_eq!(follow_ups(&db, &slot.id).await, 0);
    }

    #[engine_test]
    async fn a_batch_on_a_missing_slot_refuses_everyone_and_writes_nothing() {
        let db = database().await;
        let customer = user(&db, Role::Customer).await;
        let (item, answer) = waiting(booking(&customer));
        let (other, other_answer) = waiting(booking(&user(&db, Role::Customer).await));
        write(&db, "nosuchslot", vec![item, other]).await;
        assert_eq!(outcome(answer).await, Err(BookRefusal::Missing));
        assert_eq!(outcome(other_answer).await, Err(BookRefusal::Missing));
        let mut rows = run(&db, "SELECT VALUE id FROM booking", json!({}))
            .await
            .unwrap();
        assert!(rows.all::<serde_json::Value>(0).unwrap().is_empty());
    }

    #[engine_test]
    async fn everyone_who_queues_behind_a_write_shares_the_next_commit() {
        let db = database().await;
        let slot = slot(&db, 100).await;
        let queue = Arc::new(BookingQueue::default());
        let queued = |queue: &BookingQueue| {
            let waiting = queue.waiting.lock().unwrap();
            waiting.get(&slot.id).map_or(0, Vec::len)
        };

        // A move holds the slot's turn while 40 customers and one repeat queue up, in order.
        let turn = queue.turns().wait(&slot.id).await;
        let mut customers = Vec::new();
        for _ in 0..40 {
            customers.push(user(&db, Role::Customer).await);
        }
        customers.push(customers[0].clone());
        let mut tasks = Vec::new();
        for (i, customer) in customers.iter().enumerate() {
            let (writer, db, slot_id) = (queue.clone(), db.clone(), slot.id.clone());
            let new = booking(customer);
            tasks.push(tokio::spawn(async move {
                writer.book(&db, &slot_id, new).await
            }));
            while queued(&queue) < i + 1 {
                tokio::task::yield_now().await;
            }
        }
        drop(turn);

        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().unwrap());
        }
        let indexes: Vec<_> = outcomes
            .iter()
            .map(|o| o.as_ref().map(|seat| seat.index).map_err(|r| *r))
            .collect();
        let mut expected: Vec<_> = (0..40).map(Ok).collect();
        expected.push(Err(BookRefusal::AlreadyBooked));
        assert_eq!(indexes, expected, "arrival order");
        // One commit for the first 32, one for the rest (each batch has its own moment).
        let moments: Vec<_> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|seat| seat.booked_at))
            .collect();
        assert!(moments[..MOST_PER_BATCH].iter().all(|m| *m == moments[0]));
        assert!(moments[MOST_PER_BATCH..]
            .iter()
            .all(|m| *m == moments[MOST_PER_BATCH]));
        assert_ne!(moments[0], moments[MOST_PER_BATCH]);
        assert_eq!(stored(&db, &slot.id).await, (40, 40));
        // The writer ended with its queue, and the next booking starts another.
        assert!(queue.waiting.lock().unwrap().is_empty());
        let late = user(&db, Role::Customer).await;
        let seat = queue
            .book(&db, &slot.id, booking(&late))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seat.index, 40);
    }
}
