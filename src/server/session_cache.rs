//! Live sessions this instance has read, kept in step with the database by `LIVE SELECT`s on
//! the session and user tables, so a signed-in request does not query its session each time.
//!
//! A cached session is used only while the live queries run: any change to a session or a
//! user that is not a creation forgets every cached session, and so does losing the live
//! queries (a SurrealDB server out of reach) until they run again. A read that started before
//! such a change is not cached (the generation moved on). An instance ending a session
//! forgets it at once; other instances hear of it through their live queries. A cached
//! session is also refused once it expires, and read again after `MAX_AGE` at the latest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::db::{self, Change, Db};
use super::repo::sessions::LiveUser;

/// How long a cached session is trusted without reading it again, however quiet the live
/// queries are: a bound on what a lost notification could cost.
const MAX_AGE: Duration = Duration::from_secs(30);
/// Sessions kept at most; when full, the cache starts afresh (it refills from the database).
const CAPACITY: usize = 20_000;
/// How often the watcher checks that the database is reachable, and waits before watching
/// again after losing its live queries.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct SessionCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Whether the live queries run: the cache is neither read nor filled otherwise.
    watching: bool,
    /// Moves on with every forgetting: a read from an older generation is not cached.
    generation: u64,
    sessions: HashMap<String, Entry>,
}

struct Entry {
    live: LiveUser,
    cached_at: Instant,
}

impl State {
    fn forget_all(&mut self) {
        self.generation += 1;
        self.sessions.clear();
    }
}

impl SessionCache {
    /// Session `id` of `user` as last read, if it may be trusted now.
    pub fn get(&self, id: &str, user: &str) -> Option<LiveUser> {
        let state = self.state.lock().expect("session cache");
        let entry = state.sessions.get(id).filter(|_| state.watching)?;
        (entry.live.user.user_id == user
            && entry.live.expires_at > Utc::now()
            && entry.cached_at.elapsed() < MAX_AGE)
            .then(|| entry.live.clone())
    }

    /// The generation a read starting now belongs to; `None` when nothing may be cached.
    pub fn generation(&self) -> Option<u64> {
        let state = self.state.lock().expect("session cache");
        state.watching.then_some(state.generation)
    }

    /// Keeps what a read of `generation` found, unless something was forgotten since.
    pub fn insert(&self, generation: u64, id: &str, live: &LiveUser) {
        let mut state = self.state.lock().expect("session cache");
        if !state.watching || state.generation != generation {
            return;
        }
        if state.sessions.len() >= CAPACITY {
            state.sessions.clear();
        }
        state.sessions.insert(
            id.to_string(),
            Entry {
                live: live.clone(),
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets session `id` (ended here): a read racing with the ending is not cached.
    pub fn forget(&self, id: &str) {
        let mut state = self.state.lock().expect("session cache");
        state.generation += 1;
        state.sessions.remove(id);
    }

    /// How many sessions are cached.
    pub fn len(&self) -> usize {
        self.state.lock().expect("session cache").sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_watching(&self, watching: bool) {
        let mut state = self.state.lock().expect("session cache");
        state.watching = watching;
        state.forget_all();
    }

    fn forget_all(&self) {
        self.state.lock().expect("session cache").forget_all();
    }

    /// Runs the live queries that keep the cache in step with `db` until `stopping` is
    /// cancelled or the cache is dropped; the cache is used only while they run.
    pub fn keep_in_step(self: &Arc<Self>, db: Db, stopping: CancellationToken) {
        tokio::spawn(watch(Arc::downgrade(self), db, stopping));
    }
}

async fn watch(cache: Weak<SessionCache>, db: Db, stopping: CancellationToken) {
    loop {
        if db.is_available() {
            let watches = tokio::try_join!(
                db::watch_changes(&db, "LIVE SELECT id FROM session"),
                db::watch_changes(&db, "LIVE SELECT id FROM user"),
            );
            match watches {
                Ok((sessions, users)) => {
                    if !follow(&cache, &db, &stopping, sessions, users).await {
                        return;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not watch sessions; not caching them"),
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

/// Uses the cache while both live queries run. False when the watching should end for good.
async fn follow(
    cache: &Weak<SessionCache>,
    db: &Db,
    stopping: &CancellationToken,
    mut sessions: db::Watch<Change>,
    mut users: db::Watch<Change>,
) -> bool {
    let Some(this) = cache.upgrade() else {
        return false;
    };
    this.set_watching(true);
    let mut check = tokio::time::interval(CHECK_EVERY);
    let go_on = loop {
        let change = tokio::select! {
            change = sessions.next() => change,
            change = users.next() => change,
            _ = check.tick() => {
                if !db.is_available() || cache.strong_count() == 1 {
                    break cache.strong_count() > 1;
                }
                continue;
            }
            _ = stopping.cancelled() => break false,
        };
        match change {
            Some(Change::Created) => {}
            Some(Change::Other) => this.forget_all(),
            // The live query ended: the server went away or killed it.
            None => break true,
        }
    };
    this.set_watching(false);
    go_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::server::repo::sessions::SessionUser;

    fn live(user: &str, expires_in: chrono::Duration) -> LiveUser {
        LiveUser {
            user: SessionUser {
                user_id: user.into(),
                role: Role::Customer,
                name: "Ann".into(),
                email: "ann@example.com".into(),
                timezone: "UTC".into(),
            },
            expires_at: Utc::now() + expires_in,
        }
    }

    fn watching() -> SessionCache {
        let cache = SessionCache::default();
        cache.set_watching(true);
        cache
    }

    #[test]
    fn nothing_is_cached_or_read_while_not_watching() {
        let cache = SessionCache::default();
        assert_eq!(cache.generation(), None);
        let cache = watching();
        let generation = cache.generation().unwrap();
        cache.insert(generation, "s1", &live("u1", chrono::Duration::hours(1)));
        assert!(cache.get("s1", "u1").is_some());
        cache.set_watching(false);
        assert!(cache.get("s1", "u1").is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_read_older_than_a_forgetting_is_not_kept() {
        let cache = watching();
        let generation = cache.generation().unwrap();
        cache.forget("s1");
        cache.insert(generation, "s1", &live("u1", chrono::Duration::hours(1)));
        assert!(cache.get("s1", "u1").is_none());
        let generation = cache.generation().unwrap();
        cache.insert(generation, "s1", &live("u1", chrono::Duration::hours(1)));
        cache.forget_all();
        assert!(cache.get("s1", "u1").is_none());
    }

    #[test]
    fn a_session_is_refused_for_another_user_and_once_expired() {
        let cache = watching();
        let generation = cache.generation().unwrap();
        cache.insert(generation, "s1", &live("u1", chrono::Duration::hours(1)));
        cache.insert(generation, "s2", &live("u2", chrono::Duration::seconds(-1)));
        assert!(cache.get("s1", "u2").is_none());
        assert!(cache.get("s2", "u2").is_none());
        assert_eq!(cache.get("s1", "u1").unwrap().user.user_id, "u1");
    }
}
