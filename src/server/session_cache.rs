//! Live sessions this instance has read, kept in step with the database (`live_cache`) by live
//! queries on the session and user tables, so a signed-in request does not query its session
//! each time. Any change to a session or a user but a creation (a login) forgets them all; an
//! instance ending a session forgets it at once, other instances hear of it through their live
//! queries. A cached session is refused once it expires, and read again after `MAX_AGE`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::db::Db;
use super::live_cache::LiveCache;
use super::repo::sessions::LiveUser;

/// How long a cached session is trusted without reading it again, however quiet the live
/// queries are: a bound on what a lost notification could cost.
const MAX_AGE: Duration = Duration::from_secs(30);
/// Sessions kept at most; when full, the aged ones go, or all (it refills from the database).
const CAPACITY: usize = 20_000;
const LIVE_QUERIES: &[&str] = &["LIVE SELECT id FROM session", "LIVE SELECT id FROM user"];

pub struct SessionCache(Arc<LiveCache<LiveUser>>);

impl Default for SessionCache {
    fn default() -> Self {
        Self(Arc::new(LiveCache::new(MAX_AGE, CAPACITY, true)))
    }
}

impl SessionCache {
    /// Session `id` of `user` as last read, if it may be trusted now.
    pub fn get(&self, id: &str, user: &str) -> Option<LiveUser> {
        self.0
            .get(id)
            .filter(|live| live.user.user_id == user && live.expires_at > Utc::now())
    }

    /// The generation a read starting now belongs to; `None` when nothing may be cached.
    pub fn generation(&self) -> Option<u64> {
        self.0.generation()
    }

    /// Keeps what a read of `generation` found, unless something was forgotten since.
    pub fn insert(&self, generation: u64, id: &str, live: &LiveUser) {
        self.0.insert(generation, id, live.clone());
    }

    /// Forgets session `id` (ended here): a read racing with the ending is not kept.
    pub fn forget(&self, id: &str) {
        self.0.forget(id);
    }

    /// How many sessions are cached.
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
