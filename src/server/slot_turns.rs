//! Writes of one slot's seat counter take turns inside this instance: the booking queue's
//! batches (`booking_queue`) and moves between slots. Concurrent writers of a counter would
//! all but one lose a conflict in the database and start over; waiting here costs less. Only
//! a coordination aid: the database transaction still decides, and conflicts between
//! instances are still retried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

#[derive(Default)]
pub struct SlotTurns {
    /// Only slots someone is booking or waiting for right now: an entry dies with its last
    /// guard and is swept when the next slot is added.
    locks: Mutex<HashMap<String, Weak<TurnLock<()>>>>,
}

impl SlotTurns {
    /// Waits until nothing else in this instance writes `slot`'s seat counter; the turn lasts
    /// as long as the guard.
    pub async fn wait(&self, slot: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().expect("slot turns poisoned");
            match locks.get(slot).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    locks.retain(|_, lock| lock.strong_count() > 0);
                    let lock = Arc::new(TurnLock::new(()));
                    locks.insert(slot.to_string(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// A turn on two slots (a booking moving from one to the other writes both counters).
    /// Taken in name order, so two moves in opposite directions cannot wait for each other.
    pub async fn wait_both(
        &self,
        a: &str,
        b: &str,
    ) -> (OwnedMutexGuard<()>, Option<OwnedMutexGuard<()>>) {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let first_turn = self.wait(first).await;
        let second_turn = match first == second {
            true => None,
            false => Some(self.wait(second).await),
        };
        (first_turn, second_turn)
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.locks.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[engine_test]
    async fn one_slot_at_a_time_and_other_slots_in_parallel() {
        let turns = Arc::new(SlotTurns::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (turns, inside, most) = (turns.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = turns.wait("popular").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        // Another slot is not held up by the queue on the popular one.
        let other = tokio::time::timeout(Duration::from_millis(20), turns.wait("quiet")).await;
        assert!(other.is_ok());
        drop(other);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        // Finished slots are forgotten when the next one arrives.
        drop(turns.wait("later").await);
        assert_eq!(turns.tracked(), 1);
    }

    #[engine_test]
    async fn moves_in_opposite_directions_take_turns_without_waiting_for_each_other() {
        let turns = Arc::new(SlotTurns::default());
        let mut tasks = Vec::new();
        for i in 0..20 {
            let turns = turns.clone();
            tasks.push(tokio::spawn(async move {
                let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
                let _turns = turns.wait_both(from, to).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }));
        }
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        assert!(tokio::time::timeout(Duration::from_secs(5), all)
            .await
            .is_ok());
        // A move holds the slot a booking of it waits for.
        let held = turns.wait_both("a", "b").await;
        assert!(
            tokio::time::timeout(Duration::from_millis(20), turns.wait("b"))
                .await
                .is_err()
        );
        drop(held);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), turns.wait("b"))
                .await
                .is_ok()
        );
        // Moving within one slot is one turn.
        drop(turns.wait_both("c", "c").await);
    }
}
