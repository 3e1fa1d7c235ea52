//! Registration, login and the current user.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{AuthPayload, PendingConfirmation, Role, UserView, ZoomSettings};
use crate::server::app_state::AppState;
use crate::server::security::secret_links::token_hash;
use std::net::IpAddr;

use crate::server::auth::{Caller, TOKEN_LIFETIME_SECONDS};
use crate::server::db::{new_key, DbError};
use crate::server::domain::{Email, PersonName, TimeZone};
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Attendee};
use crate::server::mail::OutgoingEmail;
use crate::server::repo::verifications::{self, ConfirmRefusal, NewConfirmation};
use crate::server::repo::{jobs, sessions, slots};

use super::throttle;
use crate::server::repo::users::{self, NewUser};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub name: String,
    #[schema(format = Email, example = "ada@example.com")]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub password: String,
    /// `customer` or `specialist`.
    #[schema(example = "customer")]
    pub role: String,
    /// An IANA zone (`UTC` when left out).
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
}

pub const MIN_PASSWORD_CHARS: usize = 8;

/// The rules every new password passes, at registration and on a reset.
pub fn check_new_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_request(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > 1024 {
        return Err(AppError::bad_request(
            "password is too long (at most 1024 bytes)",
        ));
    }
    Ok(())
}

pub async fn register(
    state: &AppState,
    client: Option<IpAddr>,
    input: Registration,
) -> AppResult<AuthPayload> {
    // As for logins: a flood beyond the hashing threads is turned away before any work.
    let hashing = state.passwords.reserve()?;
    throttle::sign_in_request(state, client).await?;
    let name = PersonName::parse(&input.name, "name")?;
    let email = Email::parse(&input.email, "email")?;
    check_new_password(&input.password)?;
    let role = Role::parse(input.role.trim())
        .ok_or_else(|| AppError::bad_request("role must be customer or specialist"))?;
    let timezone = TimeZone::parse_optional(input.timezone.as_deref(), "timezone")?
        .map_or("UTC", TimeZone::name);

    let hash = hashing.hash(input.password).await?;
    let id = new_key();
    let link = ConfirmationLink::new(state);
    let recipient = Attendee {
        name: name.as_str().to_string(),
        email: email.as_str().to_string(),
        timezone: timezone.to_string(),
    };
    let confirmation_email = templates::email_confirmation(&recipient, role, &link.id, &link.url);
    let created = users::create_unverified(
        &state.db,
        NewUser {
            id: &id,
            name: name.as_str(),
            email: email.as_str(),
            password_hash: &hash,
            role,
            timezone,
            email_verified: false,
        },
        &link.record(&confirmation_email),
    )
    .await;
    let user = match created {
        Ok(user) => user,
        Err(DbError::Unique { .. }) => {
            return Err(AppError::conflict(
                "An account with this email already exists",
            ))
        }
        Err(e) => return Err(super::unexpected("creating a user")(e)),
    };
    tracing::info!(user = %user.id, role = role.as_str(), "registered");
    Ok(AuthPayload {
        token: open_session(state, &user.id).await?,
        user: user.view(),
    })
}

/// How long a confirmation link works.
pub const CONFIRMATION_LINK_SECONDS: i64 = 48 * 3600;

/// A fresh single-use confirmation link: the token goes into the email, its hash (the `id`)
/// into the database.
struct ConfirmationLink {
    id: String,
    url: String,
}

impl ConfirmationLink {
    fn new(state: &AppState) -> Self {
        use base64::Engine;
        let token =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Self {
            id: token_hash(&token),
            url: format!("{}/verify-email?token={token}", state.config.http.base_url),
        }
    }

    fn record<'a>(&'a self, email: &OutgoingEmail) -> NewConfirmation<'a> {
        NewConfirmation {
            token_hash: &self.id,
            lifetime_seconds: CONFIRMATION_LINK_SECONDS,
            email: NewJob::email(email),
        }
    }
}

/// Confirms the address of the account a link was sent to.
pub async fn confirm_email(state: &AppState, token: &str) -> AppResult<()> {
    let token_hash = confirmation_token_hash(token)?;
    match verifications::confirm(&state.db, &token_hash).await {
        Ok(Ok(confirmed)) => {
            super::guest_booking::claim(state, &confirmed.user, &confirmed.email).await;
            Ok(())
        }
        Ok(Err(r)) => Err(confirmation_refused(r)),
        Err(e) => Err(super::unexpected("confirming an email address")(e)),
    }
}

/// Whose address a link would confirm, without confirming it: the link's page shows this with
/// a button, since mail scanners and link previews fetch links (GET) but never post forms.
pub async fn pending_confirmation(state: &AppState, token: &str) -> AppResult<PendingConfirmation> {
    let token_hash = confirmation_token_hash(token)?;
    match verifications::pending(&state.db, &token_hash).await {
        Ok(Ok(pending)) => Ok(pending),
        Ok(Err(r)) => Err(confirmation_refused(r)),
        Err(e) => Err(super::unexpected("reading a confirmation link")(e)),
    }
}

fn confirmation_token_hash(token: &str) -> AppResult<String> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(confirmation_refused(ConfirmRefusal::Unknown));
    }
    Ok(token_hash(token))
}

fn confirmation_refused(r: ConfirmRefusal) -> AppError {
    AppError::bad_request(match r {
        ConfirmRefusal::Unknown => "This confirmation link is not valid. Check that you opened the whole link from the email.",
        ConfirmRefusal::Used => "This confirmation link has already been used.",
        ConfirmRefusal::Expired => "This confirmation link has expired. Log in and ask for a new one.",
    })
}

/// Emails the caller a new confirmation link.
pub async fn resend_confirmation(state: &AppState, caller: Option<&Caller>) -> AppResult<()> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let user = users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(super::unexpected("reading a user"))?
        .ok_or_else(AppError::login_required)?;
    if user.email_verified {
        return Err(AppError::conflict(
            "Your email address is already confirmed.",
        ));
    }
    throttle::resend_confirmation(state, &user.id).await?;
    let link = ConfirmationLink::new(state);
    let recipient = Attendee {
        name: user.name.clone(),
        email: user.email.clone(),
        timezone: user.timezone.clone(),
    };
    let email = templates::email_confirmation(&recipient, user.role, &link.id, &link.url);
    verifications::create(&state.db, &user.id, &link.record(&email))
        .await
        .map_err(super::unexpected("storing a confirmation link"))
}

/// Turns the caller's reminder emails on or off.
pub async fn set_reminders(
    state: &AppState,
    caller: Option<&Caller>,
    enabled: bool,
) -> AppResult<UserView> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    users::set_reminders(&state.db, &caller.user_id, enabled)
        .await
        .map_err(super::unexpected("saving the reminder setting"))?;
    me(state, Some(caller)).await
}

/// The one-click unsubscribe link of reminder emails.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<()> {
    let token = token.trim();
    let invalid = || AppError::bad_request("This unsubscribe link is not valid.");
    if token.is_empty() || token.len() > 64 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid());
    }
    match users::unsubscribe(&state.db, token).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(invalid()),
        Err(e) => Err(super::unexpected("unsubscribing")(e)),
    }
}

/// Starts a session for `user_id` and returns the token that names it.
pub async fn open_session(state: &AppState, user_id: &str) -> AppResult<String> {
    let session_id = new_key();
    sessions::create(&state.db, &session_id, user_id, TOKEN_LIFETIME_SECONDS)
        .await
        .map_err(super::unexpected("starting a session"))?;
    Ok(state.jwt.issue(user_id, &session_id))
}

/// Ends the caller's session: its token stops working everywhere at once.
pub async fn logout(state: &AppState, caller: Option<&Caller>) -> AppResult<()> {
    // An API token has no session to end: it is revoked through /api/tokens.
    if let Some(caller) = caller.filter(|c| c.api_token.is_none()) {
        sessions::delete(&state.db, &caller.session_id)
            .await
            .map_err(super::unexpected("ending a session"))?;
        // At once here; other instances hear of it through their live queries.
        state.session_cache.forget(&caller.session_id);
        tracing::info!(user = %caller.user_id, "logged out");
    }
    Ok(())
}

pub async fn login(
    state: &AppState,
    client: Option<IpAddr>,
    email: &str,
    password: String,
) -> AppResult<AuthPayload> {
    // A flood beyond what the hashing threads can take is turned away before any database
    // work (the rate counter alone is a write all of one client's requests contend for).
    let hashing = state.passwords.reserve()?;
    throttle::sign_in_request(state, client).await?;
    let invalid = || AppError::unauthorized("Invalid email or password");
    let Ok(email) = Email::parse(email, "email") else {
        // Costs a verification like any other failure.
        hashing.verify(password, None).await?;
        return Err(invalid());
    };
    throttle::check_login_allowed(state, &email, client).await?;
    let user = users::by_email(&state.db, email.as_str())
        .await
        .map_err(super::unexpected("reading a user"))?;
    // Verify even without a user, so an unknown email costs the same time as a wrong password.
    let ok = hashing
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    match user {
        Some(user) if ok => {
            throttle::record_login_success(state, &email, client).await?;
            // Guest bookings made with this address since it was confirmed become theirs.
            if user.email_verified && user.role == Role::Customer {
                super::guest_booking::claim(state, &user.id, &user.email).await;
            }
            Ok(AuthPayload {
                token: open_session(state, &user.id).await?,
                user: user.view(),
            })
        }
        _ => {
            throttle::record_login_failure(state, &email).await?;
            Err(invalid())
        }
    }
}

/// The signed-in owner changes their password: the current one first (wrong guesses count
/// towards the login lockout), the new one by the registration's rules. Every other session
/// of the account ends; this one stays.
pub async fn change_password(
    state: &AppState,
    caller: Option<&Caller>,
    current: String,
    new: String,
) -> AppResult<()> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    super::require_session(caller, "Password changes")?;
    check_new_password(&new)?;
    let hashing = state.passwords.reserve()?;
    confirm_password(state, caller, current).await?;
    let hash = hashing.hash(new).await?;
    users::set_password_hash(&state.db, &caller.user_id, &hash)
        .await
        .map_err(super::unexpected("setting a password"))?;
    let ended = crate::server::repo::grants::end_other_sessions(
        &state.db,
        &caller.user_id,
        &caller.session_id,
    )
    .await
    .map_err(super::unexpected("ending other sessions"))?;
    tracing::info!(user = %caller.user_id, other_sessions_ended = ended, "password changed");
    Ok(())
}

/// Checks the signed-in caller's own password before a change that needs it (a new password
/// or address, deleting the account). Wrong guesses count towards the login lockout.
pub async fn confirm_password(
    state: &AppState,
    caller: &Caller,
    password: String,
) -> AppResult<users::UserRow> {
    let verifying = state.passwords.reserve()?;
    let email = Email::parse(&caller.email, "email")?;
    throttle::check_login_allowed(state, &email, None).await?;
    let user = users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(super::unexpected("reading a user"))?
        .ok_or_else(AppError::login_required)?;
    if !verifying
        .verify(password, Some(user.password_hash.clone()))
        .await?
    {
        throttle::record_login_failure(state, &email).await?;
        return Err(AppError::bad_request("The current password is not right"));
    }
    Ok(user)
}

pub async fn me(state: &AppState, caller: Option<&Caller>) -> AppResult<UserView> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(super::unexpected("reading a user"))?
        .map(|u| u.view())
        .ok_or_else(AppError::login_required)
}

fn specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    super::require_role(
        caller,
        Role::Specialist,
        "Only specialists have Zoom settings.",
    )
}

pub async fn zoom_settings(state: &AppState, caller: Option<&Caller>) -> AppResult<ZoomSettings> {
    let caller = specialist(caller)?;
    users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(super::unexpected("reading a user"))?
        .map(|u| u.zoom)
        .ok_or_else(AppError::login_required)
}

/// A Zoom user is `me`, a user id or an email address: one word, at most 128 characters.
pub fn validate_zoom_user(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(u)
            if u.len() <= 128
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c)) =>
        {
            Ok(Some(u.to_string()))
        }
        Some(_) => Err(AppError::bad_request(
            "zoomUser must be me, a Zoom user id or an email address",
        )),
    }
}

pub const HOST_ASSIGNED_BY_OPERATOR: &str = "Only an operator can assign another Zoom user as the host of your meetings. Leave the Zoom user empty, or give your own email address.";

/// Saves the specialist's meeting defaults. The host is theirs to choose only as themselves
/// (their own, verified, email): any other Zoom user is assigned by an operator
/// (`specialistly admin set-zoom-host`), never through this form.
pub async fn update_zoom_settings(
    state: &AppState,
    caller: Option<&Caller>,
    input: ZoomSettings,
) -> AppResult<ZoomSettings> {
    let caller = specialist(caller)?;
    let user = users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(super::unexpected("reading a user"))?
        .ok_or_else(AppError::login_required)?;
    let requested = validate_zoom_user(input.zoom_user.as_deref())?;
    let host_change = match requested {
        // Unchanged (empty, or the host already assigned): nothing to decide.
        None => None,
        Some(u) if Some(&u) == user.zoom.zoom_user.as_ref() => None,
        // Themselves: their own account email hosts again.
        Some(u) if u.eq_ignore_ascii_case(&user.email) => Some(None),
        Some(_) => return Err(AppError::forbidden(HOST_ASSIGNED_BY_OPERATOR)),
    };
    if let Some(m) = input.auto_create_minutes {
        if !(5..=120).contains(&m) {
            return Err(AppError::bad_request(
                "autoCreateMinutes must be between 5 and 120 (or empty to turn it off)",
            ));
        }
    }
    if let Some(host) = host_change {
        users::set_zoom_host(&state.db, &user.id, host)
            .await
            .map_err(super::unexpected("saving Zoom settings"))?;
    }
    users::update_meeting_defaults(&state.db, &user.id, &input.meeting)
        .await
        .map_err(super::unexpected("saving Zoom settings"))?;
    if input.auto_create_minutes != user.zoom.auto_create_minutes {
        users::set_auto_create(&state.db, &user.id, input.auto_create_minutes)
            .await
            .map_err(super::unexpected("saving Zoom settings"))?;
        if let Some(minutes) = input.auto_create_minutes {
            schedule_auto_create(state, &user.id, minutes).await?;
        }
    }
    zoom_settings(state, Some(caller)).await
}

/// Queues the automatic creation for every upcoming booking of the specialist that has no
/// meeting yet (jobs queued under an earlier setting find it changed and do nothing).
async fn schedule_auto_create(state: &AppState, specialist: &str, minutes: u32) -> AppResult<()> {
    let managed = slots::managed_by(&state.db, specialist)
        .await
        .map_err(super::unexpected("reading upcoming bookings"))?;
    let queued: Vec<NewJob> = managed
        .iter()
        .flat_map(|m| {
            m.bookings
                .iter()
                .filter(|b| {
                    b.booking.status == crate::model::BookingStatus::Active
                        && b.booking.zoom_meeting.is_none()
                })
                .filter_map(|b| {
                    NewJob::auto_create(
                        &b.booking.id,
                        minutes,
                        m.slot.schedule_version,
                        m.slot.fields.starts_at,
                    )
                })
        })
        .collect();
    jobs::queue(&state.db, &queued)
        .await
        .map_err(super::unexpected("queueing automatic meetings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_users_are_one_safe_word() {
        assert_eq!(
            validate_zoom_user(Some(" me ")).unwrap().as_deref(),
            Some("me")
        );
        assert_eq!(validate_zoom_user(Some("")).unwrap(), None);
        assert!(validate_zoom_user(Some("a/b")).is_err());
        assert!(validate_zoom_user(Some("two words")).is_err());
    }
}
