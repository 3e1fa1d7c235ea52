//! A cache of what this instance read from the database, kept in step with it by `LIVE
//! SELECT`s on the tables the cached values come from (on a SurrealDB server they hear every
//! instance's writes).
//!
//! A cached value is used only while every live query runs: a change they report forgets the
//! whole cache, and losing them (a SurrealDB server out of reach) turns the cache off until
//! they run again. A read that started before a forgetting is not kept (the generation moved
//! on), so a slow read cannot put back what a write made stale. Each value is also read again
//! after `max_age` at the latest: what a lost notification could cost, and the bound on
//! values that depend on the clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use futures::stream::{select_all, StreamExt};
use tokio_util::sync::CancellationToken;

use super::db::{self, Change, Db};

/// How often the watcher checks that the database is reachable, and waits before watching
/// again after losing its live queries.
const CHECK_EVERY: Duration = Duration::from_secs(1);

pub struct LiveCache<V> {
    state: Mutex<State<V>>,
    /// Whether a created row forgets nothing (a cache of rows read by id, such as sessions).
    creations_change_nothing: bool,
    max_age: Duration,
    capacity: usize,
}

struct State<V> {
    /// Whether the live queries run: the cache is neither read nor filled otherwise.
    watching: bool,
    /// Moves on with every forgetting: a read from an older generation is not kept.
    generation: u64,
    values: HashMap<String, (V, Instant)>,
}

impl<V: Clone + Send + 'static> LiveCache<V> {
    pub fn new(max_age: Duration, capacity: usize, creations_change_nothing: bool) -> Self {
        Self {
            state: Mutex::new(State {
                watching: false,
                generation: 0,
                values: HashMap::new(),
            }),
            creations_change_nothing,
            max_age,
            capacity,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<V>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`, if it may be trusted now.
    pub fn get(&self, key: &str) -> Option<V> {
        let state = self.state();
        let (value, cached_at) = state.values.get(key).filter(|_| state.watching)?;
        (cached_at.elapsed() < self.max_age).then(|| value.clone())
    }

    /// The generation a read starting now belongs to; `None` when nothing may be cached.
    pub fn generation(&self) -> Option<u64> {
        let state = self.state();
        state.watching.then_some(state.generation)
    }

    /// Keeps what a read of `generation` found, unless something was forgotten since.
    pub fn insert(&self, generation: u64, key: &str, value: V) {
        let mut state = self.state();
        if !state.watching || state.generation != generation {
            return;
        }
        if state.values.len() >= self.capacity {
            // Full: drop what aged out, and start afresh if that was not enough.
            let max_age = self.max_age;
            state.values.retain(|_, (_, at)| at.elapsed() < max_age);
            if state.values.len() >= self.capacity {
                state.values.clear();
            }
        }
        state
            .values
            .insert(key.to_string(), (value, Instant::now()));
    }

    /// Forgets `key` (changed here): a read racing with the change is not kept.
    pub fn forget(&self, key: &str) {
        let mut state = self.state();
        state.generation += 1;
        state.values.remove(key);
    }

    /// Forgets everything (a change that may touch any value).
    pub fn forget_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.values.clear();
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.state().values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_watching(&self, watching: bool) {
        let mut state = self.state();
        state.watching = watching;
        state.generation += 1;
        state.values.clear();
    }

    /// Runs `live_queries` (`LIVE SELECT`s of the rows the values come from) until `stopping`
    /// is cancelled or the cache is dropped; the cache is used only while they all run.
    pub fn keep_in_step(
        self: &Arc<Self>,
        db: Db,
        stopping: CancellationToken,
        live_queries: &'static [&'static str],
    ) {
        tokio::spawn(watch(Arc::downgrade(self), db, stopping, live_queries));
    }
}

async fn watch<V: Clone + Send + 'static>(
    cache: Weak<LiveCache<V>>,
    db: Db,
    stopping: CancellationToken,
    live_queries: &'static [&'static str],
) {
    loop {
        if db.is_available() {
            match try_join_all(live_queries.iter().map(|sql| db::watch_changes(&db, sql))).await {
                Ok(watches) => {
                    if !follow(&cache, &db, &stopping, watches).await {
                        return;
                    }
                }
                // Live queries started at once (each instance's caches, the pages' streams)
                // may conflict registering themselves: tried again below, nothing is wrong.
                Err(db::DbError::Conflict) => {
                    tracing::debug!("a cache's live queries conflicted starting; trying again")
                }
                Err(e) => tracing::warn!(error = %e, "could not start a cache's live queries"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = stopping.cancelled() => return,
        }
        if cache.strong_count() == 0 {
            return;
        }
    }
}

/// Uses the cache while every live query runs. False when the watching should end for good.
async fn follow<V: Clone + Send + 'static>(
    cache: &Weak<LiveCache<V>>,
    db: &Db,
    stopping: &CancellationToken,
    watches: Vec<db::Watch<Change>>,
) -> bool {
    let Some(this) = cache.upgrade() else {
        return false;
    };
    // Each live query's end shows as a `None` of its own.
    let ends = || futures::stream::iter([None]);
    let mut changes = select_all(watches.into_iter().map(|w| w.map(Some).chain(ends())));
    this.set_watching(true);
    let mut check = tokio::time::interval(CHECK_EVERY);
    let go_on = loop {
        let change = tokio::select! {
            change = changes.next() => change,
            _ = check.tick() => {
                // Owned by this task alone: the application let go of the cache.
                if !db.is_available() || cache.strong_count() == 1 {
                    break cache.strong_count() > 1;
                }
                continue;
            }
            _ = stopping.cancelled() => break false,
        };
        match change {
            Some(Some(Change::Created)) if this.creations_change_nothing => {}
            Some(Some(_)) => this.forget_all(),
            // A live query ended: the server went away or killed it.
            Some(None) | None => break true,
        }
    };
    this.set_watching(false);
    go_on
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watching(creations_change_nothing: bool) -> LiveCache<u32> {
        let cache = LiveCache::new(Duration::from_secs(30), 2, creations_change_nothing);
        cache.set_watching(true);
        cache
    }

    #[test]
    fn nothing_is_kept_or_read_while_not_watching() {
        let cache = LiveCache::<u32>::new(Duration::from_secs(30), 10, false);
        assert_eq!(cache.generation(), None);
        cache.insert(0, "a", 1);
        assert!(cache.is_empty());
        let cache = watching(false);
        let generation = cache.generation().unwrap();
        cache.insert(generation, "a", 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.set_watching(false);
        assert_eq!(cache.get("a"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_read_older_than_a_forgetting_is_not_kept() {
        let cache = watching(false);
        let generation = cache.generation().unwrap();
        cache.forget("a");
        cache.insert(generation, "a", 1);
        assert_eq!(cache.get("a"), None);
        let generation = cache.generation().unwrap();
        cache.insert(generation, "a", 1);
        cache.forget_all();
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn values_age_out_and_a_full_cache_drops_the_aged_or_starts_afresh() {
        let cache = LiveCache::new(Duration::ZERO, 10, false);
        cache.set_watching(true);
        let generation = cache.generation().unwrap();
        cache.insert(generation, "a", 1);
        assert_eq!(cache.get("a"), None, "older than max_age");
        let cache = watching(false);
        let generation = cache.generation().unwrap();
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            cache.insert(generation, key, i as u32);
        }
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("c"), Some(2));
        let cache = LiveCache::new(Duration::from_millis(50), 2, false);
        cache.set_watching(true);
        let generation = cache.generation().unwrap();
        cache.insert(generation, "old", 0);
        std::thread::sleep(Duration::from_millis(60));
        cache.insert(generation, "new", 1);
        cache.insert(generation, "newer", 2);
        assert_eq!((cache.get("new"), cache.get("newer")), (Some(1), Some(2)));
    }
}
