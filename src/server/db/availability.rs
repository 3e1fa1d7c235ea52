//! Whether a SurrealDB server is reachable.
//!
//! While a `ws://` connection is down, the SDK reconnects by itself but holds every query until
//! it is back, so a request would hang. A watcher per connection checks once a second that the
//! server accepts TCP connections: when it does not, or when a query loses its connection, the
//! database counts as unavailable and queries fail at once (the request answers 503). When the
//! server accepts connections again, one query through the SDK proves it reconnected, which
//! makes the database available again. A slow server is not a lost one: a query that runs out
//! of time fails alone. Embedded engines cannot be unreachable and have no watcher.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use surrealdb::engine::any::Any;
use surrealdb::Surreal;

const WATCH_EVERY: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the query that proves the reconnection may wait for the SDK's reconnection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Availability {
    /// `host:port` of the server; `None` for an embedded engine.
    server: Option<String>,
    query_timeout: Duration,
    down: AtomicBool,
}

impl Availability {
    /// For the database at `url`: a server (`ws://host:port`, `wss://…`) or an embedded engine.
    pub fn new(url: &str, query_timeout: Duration) -> Self {
        Self {
            server: server_address(url),
            query_timeout,
            down: AtomicBool::new(false),
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Whether the database is a server at the other end of connections.
    pub fn is_remote(&self) -> bool {
        self.server.is_some()
    }

    /// A deadline for a query to a server; `None` for an embedded engine.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.server.as_ref().map(|_| self.query_timeout)
    }

    /// The connection to the server broke.
    pub fn mark_down(&self) {
        if self.server.is_some() && !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!("the database server is unreachable; answering 503 until it is back");
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("the database server is reachable again");
        }
    }

    /// Watches the server for as long as the connections exist (a no-op when embedded).
    pub fn watch(self: &Arc<Self>, conns: &Arc<Vec<Surreal<Any>>>) {
        let Some(address) = self.server.clone() else {
            return;
        };
        let (this, conns) = (Arc::downgrade(self), Arc::downgrade(conns));
        tokio::spawn(watch(address, this, conns));
    }
}

async fn watch(address: String, this: Weak<Availability>, conns: Weak<Vec<Surreal<Any>>>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let (Some(this), Some(conns)) = (this.upgrade(), conns.upgrade()) else {
            return;
        };
        let accepts = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect(address.as_str()),
        )
        .await
        .is_ok_and(|connected| connected.is_ok());
        if !accepts {
            this.mark_down();
        } else if this.is_down() && reconnected(&conns).await {
            this.mark_up();
        }
    }
}

/// Whether every connection answers a query again.
async fn reconnected(conns: &[Surreal<Any>]) -> bool {
    for conn in conns {
        let answer = tokio::time::timeout(PROBE_TIMEOUT, conn.query("RETURN 1")).await;
        if !matches!(answer, Ok(Ok(_))) {
            return false;
        }
    }
    true
}

/// `ws://db.internal:8000/rpc` → `db.internal:8000` (the scheme's port when none is given).
fn server_address(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme {
        "ws" | "http" => 80,
        "wss" | "https" => 443,
        _ => return None,
    };
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit('@').next()?;
    let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']')
    });
    Some(if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{default_port}")
    })
}

#[cfg(test)]
mod tests {
    use super::server_address;

    #[test]
    fn the_server_address_is_read_from_the_url() {
        assert_eq!(
            server_address("ws://127.0.0.1:8000").as_deref(),
            Some("127.0.0.1:8000")
        );
        assert_eq!(
            server_address("ws://db.internal:8000/rpc").as_deref(),
            Some("db.internal:8000")
        );
        assert_eq!(
            server_address("wss://db.example.com").as_deref(),
            Some("db.example.com:443")
        );
        assert_eq!(
            server_address("ws://[::1]:8000").as_deref(),
            Some("[::1]:8000")
        );
        assert_eq!(server_address("ws://[::1]").as_deref(), Some("[::1]:80"));
        assert_eq!(server_address("mem://"), None);
        assert_eq!(server_address("surrealkv://data/db"), None);
    }
}
