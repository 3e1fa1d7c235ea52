//! The state every request handler and server function reaches: no per-instance state that
//! another instance would need (sessions are signed tokens, work is claimed in the database).

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use leptos::config::LeptosOptions;

use super::auth::{token_from_headers, Caller, JwtKeys};
use super::booking_queue::BookingQueue;
use super::config::Config;
use super::db::Db;
use super::password::HashPool;
use super::repo::sessions;
use super::zoom::Zoom;
use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub zoom: Arc<Zoom>,
    pub passwords: HashPool,
    /// Bookings waiting to be written, and the turns on each slot's seat counter.
    pub booking_queue: Arc<BookingQueue>,
}

impl AppState {
    /// The caller of a request: its token's session must be live in the database, and the
    /// role is the one the database holds now. No token, a bad one or an ended session: `None`.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Option<Caller>, AppError> {
        let Some(subject) = token_from_headers(headers).and_then(|t| self.jwt.verify(&t)) else {
            return Ok(None);
        };
        let user = sessions::live_user(&self.db, &subject.session_id, &subject.user_id)
            .await
            .map_err(crate::server::service::unexpected("reading a session"))?;
        Ok(user.map(|u| Caller {
            user_id: u.user_id,
            role: u.role,
            session_id: subject.session_id,
            name: u.name,
            email: u.email,
            timezone: u.timezone,
        }))
    }
}
