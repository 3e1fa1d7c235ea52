//! Registration, login and the current user.

use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{AuthPayload, Role, UserView, ZoomSettings};
use crate::server::app_state::AppState;
use std::net::IpAddr;

use crate::server::auth::{Caller, TOKEN_LIFETIME_SECONDS};
use crate::server::db::{new_key, DbError};
use crate::server::domain::{Email, PersonName, TimeZone};
use crate::server::repo::sessions;

use super::throttle;
use crate::server::repo::users::{self, NewUser};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub timezone: Option<String>,
}

pub const MIN_PASSWORD_CHARS: usize = 8;

pub async fn register(
    state: &AppState,
    client: Option<IpAddr>,
    input: Registration,
) -> AppResult<AuthPayload> {
    throttle::sign_in_request(state, client).await?;
    let name = PersonName::parse(&input.name, "name")?;
    let email = Email::parse(&input.email, "email")?;
    if input.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_request(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if input.password.len() > 1024 {
        return Err(AppError::bad_request(
            "password is too long (at most 1024 bytes)",
        ));
    }
    let role = Role::parse(input.role.trim())
        .ok_or_else(|| AppError::bad_request("role must be customer or specialist"))?;
    let timezone = TimeZone::parse_optional(input.timezone.as_deref(), "timezone")?
        .map_or("UTC", TimeZone::name);

    let hash = state.passwords.hash(input.password).await?;
    let id = new_key();
    let created = users::create(
        &state.db,
        NewUser {
            id: &id,
            name: name.as_str(),
            email: email.as_str(),
            password_hash: &hash,
            role,
            timezone,
        },
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
    if let Some(caller) = caller {
        sessions::delete(&state.db, &caller.session_id)
            .await
            .map_err(super::unexpected("ending a session"))?;
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
    throttle::sign_in_request(state, client).await?;
    let invalid = || AppError::unauthorized("Invalid email or password");
    let Ok(email) = Email::parse(email, "email") else {
        // Costs a verification like any other failure.
        state.passwords.verify(password, None).await?;
        return Err(invalid());
    };
    throttle::check_login_allowed(state, &email).await?;
    let user = users::by_email(&state.db, email.as_str())
        .await
        .map_err(super::unexpected("reading a user"))?;
    // Verify even without a user, so an unknown email costs the same time as a wrong password.
    let ok = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    match user {
        Some(user) if ok => {
            throttle::record_login_success(state, &email).await?;
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

pub async fn update_zoom_settings(
    state: &AppState,
    caller: Option<&Caller>,
    mut input: ZoomSettings,
) -> AppResult<ZoomSettings> {
    let caller = specialist(caller)?;
    input.zoom_user = validate_zoom_user(input.zoom_user.as_deref())?;
    users::update_zoom_settings(&state.db, &caller.user_id, &input)
        .await
        .map_err(super::unexpected("saving Zoom settings"))?;
    zoom_settings(state, Some(caller)).await
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
