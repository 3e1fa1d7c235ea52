//! The state every request handler and server function reaches: no per-instance state that
//! another instance would need (sessions are signed tokens, work is claimed in the database,
//! the caches are kept in step with the database).
//! The composition root: it holds the parts (storage, Zoom, passwords, configuration) and
//! does nothing with them, so no part needs to import it.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::auth::JwtKeys;
use super::booking_queue::BookingQueue;
use super::config::Config;
use super::db::Db;
use super::password::HashPool;
use super::zoom::Zoom;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub zoom: Arc<Zoom>,
    pub passwords: HashPool,
    /// Live sessions already read, kept in step with the database (`session_cache.rs`).
    pub session_cache: Arc<super::session_cache::SessionCache>,
    /// The pages read most, as last answered, kept in step with the database (`read_cache.rs`).
    pub read_cache: Arc<super::read_cache::ReadCache>,
    /// Bookings waiting to be written, and the turns on each slot's seat counter.
    pub booking_queue: Arc<BookingQueue>,
    /// Where cloud recordings are kept.
    pub recordings: Arc<super::recording_store::RecordingStore>,
    /// Sends outgoing webhooks (public addresses only in production).
    pub webhook_client: reqwest::Client,
    /// Cancelled when the server stops: long-lived responses (event streams) end then.
    pub stopping: tokio_util::sync::CancellationToken,
    /// The event streams open here, counted per account and in all.
    pub open_streams: Arc<super::open_streams::OpenStreams>,
}

impl AppState {
    /// Makes and reads the seats' manage links, at this deployment's address.
    pub fn manage_links(&self) -> super::manage_links::ManageLinks {
        super::manage_links::ManageLinks::new(&self.config.http.base_url, self.jwt.link_key)
    }
}
