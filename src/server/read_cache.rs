//! The pages read most (browse, appointment details, Meeting Manager, My appointments) as this
//! instance last answered them, kept in step with the database (`live_cache`) by live queries
//! on every table they read, so a page asked again a moment later is not read again.
//!
//! Any change to those rows forgets every page, and so does any change made through this
//! instance (`startup::forget_pages_after_changes`, the job worker, a live page told of a
//! change): a user sees
//! what they just did, and a page told to refresh reads afresh. A page is kept one second at
//! most, so what depends on the clock (a slot that just started, a meeting about to open) is
//! late by no more than that.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::db::Db;
use super::live_cache::LiveCache;
use crate::error::AppResult;

const MAX_AGE: Duration = Duration::from_secs(1);
/// Pages kept at most (a page of slots is some 10 KB): when full, the aged ones go, or all.
const CAPACITY: usize = 2_000;
/// Every table the cached pages read. Of the jobs, only those a page shows: a meeting's Ready
/// email (sent or not) and its pending updates and deletions.
const LIVE_QUERIES: &[&str] = &[
    "LIVE SELECT id FROM slot",
    "LIVE SELECT id FROM booking",
    "LIVE SELECT id FROM waitlist",
    "LIVE SELECT id FROM recording",
    "LIVE SELECT id FROM user",
    "LIVE SELECT id FROM job WHERE kind IN ['zoom_update', 'zoom_delete']
        OR string::ends_with(key, ':zoom-ready')",
];

type Page = Arc<dyn Any + Send + Sync>;

pub struct ReadCache(Arc<LiveCache<Page>>);

impl Default for ReadCache {
    fn default() -> Self {
        Self(Arc::new(LiveCache::new(MAX_AGE, CAPACITY, false)))
    }
}

impl ReadCache {
    /// The page under `key` as kept, or as `read` answers it now (kept when it succeeds).
    /// A key names the page and everything its answer depends on, the caller included.
    pub async fn get_or_read<T, F, Fut>(&self, key: String, read: F) -> AppResult<T>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<T>>,
    {
        if let Some(page) = self.get::<T>(&key) {
            return Ok(page);
        }
        let generation = self.generation();
        let page = read().await?;
        if let Some(generation) = generation {
            self.keep(generation, &key, page.clone());
        }
        Ok(page)
    }

    /// The page under `key`, if one of type `T` is kept and may be trusted now.
    pub fn get<T: Clone + 'static>(&self, key: &str) -> Option<T> {
        self.0.get(key)?.downcast_ref::<T>().cloned()
    }

    /// The generation a read starting now belongs to, for `keep`; `None` when nothing may be
    /// kept (the live queries do not run).
    pub fn generation(&self) -> Option<u64> {
        self.0.generation()
    }

    /// Keeps what a read of `generation` found, unless something was forgotten since.
    pub fn keep<T: Send + Sync + 'static>(&self, generation: u64, key: &str, page: T) {
        self.0.insert(generation, key, Arc::new(page));
    }

    /// Forgets every page: something changed through this instance.
    pub fn forget_all(&self) {
        self.0.forget_all();
    }

    /// Whether pages are being kept (the live queries run).
    pub fn is_running(&self) -> bool {
        self.generation().is_some()
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Starts the live queries that keep the cache in step with `db` (until `stopping`).
    pub fn keep_in_step(&self, db: Db, stopping: CancellationToken) {
        self.0.keep_in_step(db, stopping, LIVE_QUERIES);
    }
}
