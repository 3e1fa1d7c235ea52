//! Forgotten passwords, as OWASP's Forgot Password cheat sheet has them: the same answer
//! whether or not an account has the address; a random single-use token, stored hashed and
//! valid for an hour; limits per address and per client; the new password passes the
//! registration rules; no signing in afterwards, and every grant of the account ends
//! (`repo::grants`, the one place that decides what ending access takes away).

use std::net::IpAddr;

use crate::error::{AppError, AppResult};
use crate::server::app_state::AppState;
use crate::server::domain::Email;
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Attendee};
use crate::server::repo::grants;
use crate::server::repo::password_resets::{self, ResetRefusal};
use crate::server::security::secret_links::{new_token, token_hash};

use super::{throttle, unexpected};

/// How long a reset link works.
pub const RESET_LINK_SECONDS: i64 = 3600;

pub const LINK_DOES_NOT_WORK: &str =
    "This password reset link does not work any more (it was used, or is over an hour old). Please ask for a new one.";

/// Emails a reset link to `email` when an account has that address. The caller is answered
/// the same either way.
pub async fn request(state: &AppState, client: Option<IpAddr>, email: &str) -> AppResult<()> {
    let email = Email::parse(email, "email")?;
    throttle::password_reset_request(state, client, &email).await?;
    let token = new_token();
    let id = token_hash(&token);
    let link = format!(
        "{}/reset-password?token={token}",
        state.config.http.base_url
    );
    let reset_email = NewJob::email(&templates::password_reset(email.as_str(), &id, &link));
    password_resets::create_for_email(
        &state.db,
        email.as_str(),
        &id,
        RESET_LINK_SECONDS,
        &reset_email,
    )
    .await
    .map_err(unexpected("storing a password reset link"))?;
    Ok(())
}

/// Whether `token` would reset a password now (the page asks before showing its form).
pub async fn check(state: &AppState, token: &str) -> AppResult<()> {
    password_resets::account_of(&state.db, &token_hash(token))
        .await
        .map_err(unexpected("reading a password reset link"))?
        .map(|_| ())
        .map_err(|_| AppError::bad_request(LINK_DOES_NOT_WORK))
}

/// Sets the password of the account `token`'s link was sent for, spends the link, and ends
/// every session, API token and open stream of the account (the caller signs in again).
pub async fn reset(state: &AppState, token: &str, password: String) -> AppResult<()> {
    super::accounts::check_new_password(&password)?;
    let hashing = state.passwords.reserve()?;
    let id = token_hash(token);
    let refused = |_: ResetRefusal| AppError::bad_request(LINK_DOES_NOT_WORK);
    let account = password_resets::account_of(&state.db, &id)
        .await
        .map_err(unexpected("reading a password reset link"))?
        .map_err(refused)?;
    let password_hash = hashing.hash(password).await?;
    let to = Attendee {
        name: account.name.clone(),
        email: account.email.clone(),
        timezone: account.timezone.clone(),
    };
    let changed = NewJob::email(&templates::password_changed(&to, &id));
    password_resets::use_link(&state.db, &id, &password_hash, &changed)
        .await
        .map_err(unexpected("setting a new password"))?
        .map_err(refused)?;
    let ended = grants::end_all_of(&state.db, &account.id)
        .await
        .map_err(unexpected("ending an account's sessions"))?;
    tracing::info!(user = %account.id, sessions = ended.sessions, api_tokens = ended.api_tokens, "password reset");
    Ok(())
}
