//! The state every request handler and server function reaches: no per-instance state that
//! another instance would need (sessions are signed tokens, work is claimed in the database).

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use leptos::config::LeptosOptions;

use super::auth::{token_from_headers, Caller, JwtKeys};
use super::config::Config;
use super::db::Db;
use super::zoom::Zoom;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub zoom: Arc<Zoom>,
}

impl AppState {
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        token_from_headers(headers).and_then(|t| self.jwt.verify(&t))
    }
}
