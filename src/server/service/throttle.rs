//! Limits on signing in: a lockout after repeated failed logins for one email, and a cap on
//! login and registration requests per client address (per /64 network for IPv6, where one
//! client holds billions of addresses). Counted in the database, so they hold across
//! instances. A lockout cannot keep an account's owner out: a client network that signed in
//! to the account successfully before is let through (it still pays for each wrong password).

use std::net::IpAddr;

use crate::error::{AppError, AppResult};
use crate::server::app_state::AppState;
use crate::server::db::DbError;
use crate::server::domain::Email;
use crate::server::repo::counters;

/// How long failed logins are remembered (and a lockout lasts).
pub const LOGIN_WINDOW_SECONDS: u64 = 15 * 60;
const IP_WINDOW_SECONDS: u64 = 60;
/// How long a client network that signed in to an account stays known to it.
const KNOWN_CLIENT_SECONDS: u64 = 90 * 86_400;

fn failures_key(email: &str) -> String {
    format!("login-failures:{email}")
}

fn known_client_key(email: &str, client: &str) -> String {
    format!("known-client:{email}:{client}")
}

/// The client as the limits count it: an IPv4 address, or the IPv6 network of `prefix` bits.
pub fn client_key(ip: IpAddr, ipv6_prefix: u8) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = u128::MAX
                .checked_shl(128 - u32::from(ipv6_prefix))
                .unwrap_or(0);
            format!("{}/{ipv6_prefix}", std::net::Ipv6Addr::from(bits & mask))
        }
    }
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
    let client = client_key(ip, state.config.auth.ipv6_prefix);
    let window = counters::hit(&state.db, &format!("auth-ip:{client}"), IP_WINDOW_SECONDS)
        .await
        .map_err(unavailable)?;
    if window.count > state.config.auth.rate_per_ip_per_minute {
        tracing::warn!(%client, count = window.count, "sign-in rate limit reached");
        return Err(AppError::too_many(
            "Too many requests. Please wait a minute and try again.",
            window.seconds_left.max(1) as u64,
        ));
    }
    Ok(())
}

/// Confirmation emails one account may ask for again: one a minute, five a day.
const RESENDS_PER_MINUTE: u32 = 1;
const RESENDS_PER_DAY: u32 = 5;

/// Counts one more confirmation email for `user_id`; 429 beyond its budget.
pub async fn resend_confirmation(state: &AppState, user_id: &str) -> AppResult<()> {
    for (key, window, cap, wait) in [
        (
            format!("resend-minute:{user_id}"),
            60,
            RESENDS_PER_MINUTE,
            "a minute",
        ),
        (
            format!("resend-day:{user_id}"),
            86_400,
            RESENDS_PER_DAY,
            "a day",
        ),
    ] {
        let w = counters::hit(&state.db, &key, window)
            .await
            .map_err(unavailable)?;
        if w.count > cap {
            return Err(AppError::too_many(
                format!("A new link was sent recently. You can ask for another one in {wait}; check your spam folder meanwhile."),
                w.seconds_left.max(1) as u64,
            ));
        }
    }
    Ok(())
}

/// Counts one cancellation or move by `user_id`, each of which emails the other side; 429
/// beyond `MAIL_ACTIONS_PER_HOUR`. Booking needs no count: a customer books a slot once, so
/// it is the cancel in a book-and-cancel loop that is limited.
pub async fn mail_action(state: &AppState, user_id: &str) -> AppResult<()> {
    let w = counters::hit(&state.db, &format!("mail-actions:{user_id}"), 3600)
        .await
        .map_err(unavailable)?;
    if w.count > state.config.mail.actions_per_hour {
        tracing::warn!(user = user_id, count = w.count, "mail action quota reached");
        return Err(AppError::too_many(
            "You have cancelled or moved many bookings in the last hour. Please wait before the next change, or contact the specialist.",
            w.seconds_left.max(1) as u64,
        ));
    }
    Ok(())
}

/// Whether the unconfirmed `address` may get one more notification caused by someone else
/// today (at most `MAIL_PER_ADDRESS_PER_DAY`); counts it when so. Over the quota the
/// notification is left out and the action itself goes ahead. (A confirmed address is its
/// owner's, who chose to receive these.)
pub async fn notify_address(state: &AppState, address: &str) -> AppResult<bool> {
    let w = counters::hit(
        &state.db,
        &format!("mail-to:{}", address.to_lowercase()),
        86_400,
    )
    .await
    .map_err(unavailable)?;
    if w.count > state.config.mail.per_address_per_day {
        tracing::warn!(
            count = w.count,
            "daily notification quota of an address reached; notification left out"
        );
        return Ok(false);
    }
    Ok(true)
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

/// 429 while `email` is locked out by its failed logins, unless `ip` is a client network
/// that signed in to it before.
pub async fn check_login_allowed(
    state: &AppState,
    email: &Email,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let current = counters::current(&state.db, &failures_key(email.as_str()))
        .await
        .map_err(unavailable)?;
    let Some(w) = current.filter(|w| w.count >= state.config.auth.login_max_failures) else {
        return Ok(());
    };
    if let Some(ip) = ip {
        let client = client_key(ip, state.config.auth.ipv6_prefix);
        let known = counters::current(&state.db, &known_client_key(email.as_str(), &client))
            .await
            .map_err(unavailable)?;
        if known.is_some() {
            return Ok(());
        }
    }
    Err(locked_out(w.seconds_left))
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

/// Clears the email's failures and remembers the client network as one of the account's own.
pub async fn record_login_success(
    state: &AppState,
    email: &Email,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    counters::clear(&state.db, &failures_key(email.as_str()))
        .await
        .map_err(unavailable)?;
    if let Some(ip) = ip {
        let client = client_key(ip, state.config.auth.ipv6_prefix);
        counters::remember(
            &state.db,
            &known_client_key(email.as_str(), &client),
            KNOWN_CLIENT_SECONDS,
        )
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Password reset links one address may be sent in an hour, and requests one client may make.
const RESETS_PER_EMAIL_PER_HOUR: u32 = 3;
const RESETS_PER_CLIENT_PER_HOUR: u32 = 10;

/// Counts one password reset request for `email` from `ip`; 429 beyond either budget. Counted
/// whether or not an account has the address, so the limit says nothing about that.
pub async fn password_reset_request(
    state: &AppState,
    ip: Option<IpAddr>,
    email: &Email,
) -> AppResult<()> {
    let mut budgets = vec![(
        format!("reset-email:{}", email.as_str()),
        RESETS_PER_EMAIL_PER_HOUR,
    )];
    if let Some(ip) = ip {
        budgets.push((
            format!("reset-ip:{}", client_key(ip, state.config.auth.ipv6_prefix)),
            RESETS_PER_CLIENT_PER_HOUR,
        ));
    }
    for (key, cap) in budgets {
        let w = counters::hit(&state.db, &key, 3600)
            .await
            .map_err(unavailable)?;
        if w.count > cap {
            return Err(AppError::too_many(
                "Too many password reset requests. Please wait an hour and try again; check your spam folder meanwhile.",
                w.seconds_left.max(1) as u64,
            ));
        }
    }
    Ok(())
}

/// Guest bookings one client address, and one email address, may make in an hour.
pub const GUESTS_PER_CLIENT_PER_HOUR: u32 = 10;
pub const GUESTS_PER_EMAIL_PER_HOUR: u32 = 5;

/// Counts one guest booking from `client` and for `email`; 429 beyond either hourly budget.
pub async fn guest_booking_request(
    state: &AppState,
    client: Option<IpAddr>,
    email: &Email,
) -> AppResult<()> {
    let mut budgets = vec![(
        format!("guest-email:{}", email.as_str()),
        GUESTS_PER_EMAIL_PER_HOUR,
    )];
    if let Some(ip) = client {
        let client = client_key(ip, state.config.auth.ipv6_prefix);
        budgets.push((format!("guest-ip:{client}"), GUESTS_PER_CLIENT_PER_HOUR));
    }
    // Every budget counts the request, refused or not, so one limit cannot hide the other.
    let mut over: Option<u64> = None;
    for (key, cap) in budgets {
        let w = counters::hit(&state.db, &key, 3600)
            .await
            .map_err(unavailable)?;
        if w.count > cap {
            tracing::warn!(%key, count = w.count, "guest booking limit reached");
            let wait = w.seconds_left.max(1) as u64;
            over = Some(over.map_or(wait, |o| o.max(wait)));
        }
    }
    match over {
        Some(wait) => Err(AppError::too_many(
            "Too many bookings without an account from here or for this address. Please wait an hour, or register to book.",
            wait,
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_per_network_and_ipv4_per_address() {
        let key = |ip: &str, prefix| client_key(ip.parse().unwrap(), prefix);
        assert_eq!(key("203.0.113.7", 64), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7", 64), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1", 64), "2001:db8:1:2::/64");
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff", 64),
            "2001:db8:1:2::/64"
        );
        assert_ne!(key("2001:db8:1:3::1", 64), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:aaaa::1", 48), "2001:db8:1::/48");
        assert_eq!(key("2001:db8::1", 128), "2001:db8::1/128");
    }
}
