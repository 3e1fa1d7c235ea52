//! Limits on signing in: a lockout after repeated failed logins for one email, and a cap on
//! login and registration requests per client address. Counted in the database, so they
//! hold across instances.

use std::net::IpAddr;

use crate::error::{AppError, AppResult};
use crate::server::app_state::AppState;
use crate::server::db::DbError;
use crate::server::domain::Email;
use crate::server::repo::counters;

/// How long failed logins are remembered (and a lockout lasts).
pub const LOGIN_WINDOW_SECONDS: u64 = 15 * 60;
const IP_WINDOW_SECONDS: u64 = 60;

fn failures_key(email: &str) -> String {
    format!("login-failures:{email}")
}

fn unavailable(e: DbError) -> AppError {
    match e {
        // A counter so contended that its writes keep colliding: a flood; turn it away.
        DbError::Conflict => AppError::busy(),
        e => super::unexpected("reading a rate counter")(e),
    }
}

/// Counts one login or registration request from `ip`; 429 beyond the configured rate.
pub async fn sign_in_request(state: &AppState, ip: Option<IpAddr>) -> AppResult<()> {
    let Some(ip) = ip else { return Ok(()) };
    let window = counters::hit(&state.db, &format!("auth-ip:{ip}"), IP_WINDOW_SECONDS)
        .await
        .map_err(unavailable)?;
    if window.count > state.config.auth.rate_per_ip_per_minute {
        tracing::warn!(%ip, count = window.count, "sign-in rate limit reached");
        return Err(AppError::too_many(
            "Too many requests. Please wait a minute and try again.",
            window.seconds_left.max(1) as u64,
        ));
    }
    Ok(())
}

fn locked_out(seconds_left: i64) -> AppError {
    let seconds = seconds_left.max(1) as u64;
    let minutes = seconds.div_ceil(60);
    AppError::too_many(
        format!(
            "Too many login attempts. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
        seconds,
    )
}

/// 429 while `email` is locked out by its failed logins.
pub async fn check_login_allowed(state: &AppState, email: &Email) -> AppResult<()> {
    let current = counters::current(&state.db, &failures_key(email.as_str()))
        .await
        .map_err(unavailable)?;
    match current {
        Some(w) if w.count >= state.config.auth.login_max_failures => {
            Err(locked_out(w.seconds_left))
        }
        _ => Ok(()),
    }
}

pub async fn record_login_failure(state: &AppState, email: &Email) -> AppResult<()> {
    let window = counters::hit(
        &state.db,
        &failures_key(email.as_str()),
        LOGIN_WINDOW_SECONDS,
    )
    .await
    .map_err(unavailable)?;
    if window.count >= state.config.auth.login_max_failures {
        tracing::warn!(failures = window.count, "login locked out for an email");
    }
    Ok(())
}

pub async fn record_login_success(state: &AppState, email: &Email) -> AppResult<()> {
    counters::clear(&state.db, &failures_key(email.as_str()))
        .await
        .map_err(unavailable)
}
