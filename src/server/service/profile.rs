//! The account page's own changes (name and time zone) and the export of what the product
//! keeps of an account, for its owner.

use crate::error::{AppError, AppResult};
use crate::model::{AccountExport, ProfileInput, Role, UserView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::domain::{PersonName, TimeZone};
use crate::server::repo::users;

use super::unexpected;

/// Sets the caller's name and time zone; the account as it is now.
pub async fn update(
    state: &AppState,
    caller: Option<&Caller>,
    input: ProfileInput,
) -> AppResult<UserView> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let name = PersonName::parse(&input.name, "name")?;
    let timezone = TimeZone::parse(&input.timezone, "timezone")?;
    users::set_name_and_timezone(&state.db, &caller.user_id, name.as_str(), timezone.name())
        .await
        .map_err(unexpected("saving a profile"))?;
    // This instance's cached caller now, the others' through their live queries.
    state.session_cache.forget(&caller.session_id);
    super::accounts::me(state, Some(caller)).await
}

/// Everything of the caller's account the product keeps, without a secret. From a signed-in
/// session only, as tokens are listed.
pub async fn export(state: &AppState, caller: Option<&Caller>) -> AppResult<AccountExport> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    super::require_session(caller, "Exports")?;
    let account = super::accounts::me(state, Some(caller)).await?;
    let specialist = account.role == Role::Specialist;
    let some = Some(caller);
    Ok(AccountExport {
        exported_at: chrono::Utc::now(),
        appointments: if specialist {
            Vec::new()
        } else {
            super::appointments::mine(state, some).await?
        },
        slots: if specialist {
            super::slots::mine(state, some).await?
        } else {
            Vec::new()
        },
        offerings: if specialist {
            super::offerings::mine(state, some).await?
        } else {
            Vec::new()
        },
        busy_calendars: if specialist {
            super::busy_calendars::list(state, some).await?
        } else {
            Vec::new()
        },
        feedback: if specialist {
            Some(super::feedback::summary(state, some).await?)
        } else {
            None
        },
        webhook_endpoints: if specialist {
            super::webhooks::endpoints(state, some).await?
        } else {
            Vec::new()
        },
        api_tokens: super::api_tokens::list(state, some).await?,
        account,
    })
}
