//! Whether a SurrealDB server is reachable, as the app's own queries found out.
//!
//! While a `ws://` connection is down, the SDK reconnects by itself but holds every new query
//! until it is back, so a request would hang. Once a query times out or loses its connection,
//! the database counts as unavailable: queries fail at once (the request answers 503) and one
//! probe waits for the reconnection, which makes it available again. Embedded engines cannot be
//! unreachable and are never marked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use surrealdb::engine::any::Any;
use surrealdb::Surreal;

/// How long one probe query may wait for the SDK's reconnection before the next one is sent.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
const PROBE_PAUSE: Duration = Duration::from_millis(250);

pub struct Availability {
    /// A server at the other end of a connection, as opposed to an embedded engine.
    remote: bool,
    query_timeout: Duration,
    down: AtomicBool,
    probing: AtomicBool,
}

impl Availability {
    pub fn new(remote: bool, query_timeout: Duration) -> Self {
        Self {
            remote,
            query_timeout,
            down: AtomicBool::new(false),
            probing: AtomicBool::new(false),
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// A deadline for a query to a server; `None` for an embedded engine.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.remote.then_some(self.query_timeout)
    }

    /// Marks the server unreachable and starts the one probe that notices its return.
    pub fn mark_down(self: &Arc<Self>, conn: &Arc<Surreal<Any>>) {
        if !self.remote {
            return;
        }
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!("the database server is unreachable; answering 503 until it is back");
        }
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let conn = conn.clone();
        tokio::spawn(async move {
            loop {
                let answer = tokio::time::timeout(PROBE_TIMEOUT, conn.query("RETURN 1")).await;
                if matches!(answer, Ok(Ok(_))) {
                    break;
                }
                tokio::time::sleep(PROBE_PAUSE).await;
            }
            this.down.store(false, Ordering::Release);
            this.probing.store(false, Ordering::Release);
            tracing::info!("the database server is reachable again");
        });
    }
}
