//! The account page's two weighty changes, each behind the current password: a new email
//! address (confirmed through that address, the old one told), and deleting the account
//! (upcoming bookings or sessions cancelled with the usual emails and Zoom deletions, then
//! everything personal removed; the address may register again).

use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::domain::Email;
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Attendee};
use crate::server::repo::email_changes::{self, ChangeRefusal};
use crate::server::repo::{bookings, grants, jobs, slots, users};
use crate::server::security::secret_links::{new_token, token_hash};

use super::unexpected;

/// How long the link to a new address works.
pub const EMAIL_CHANGE_SECONDS: i64 = 24 * 3600;

pub const CHANGE_LINK_SPENT: &str =
    "This link does not work any more (it was used, replaced by a newer one, or is over a day old). Ask for the change again on your account page.";
const TAKEN: &str = "An account with this email already exists";
/// What a slot of a specialist closing their account tells its customers.
pub const SPECIALIST_LEFT: &str = "The specialist closed their account.";

fn attendee(user: &users::UserRow) -> Attendee {
    Attendee {
        name: user.name.clone(),
        email: user.email.clone(),
        timezone: user.timezone.clone(),
    }
}

/// Emails a link to `new_email` that moves the caller's account to it, and tells the old
/// address. The account keeps its address until the link is opened.
pub async fn request_email_change(
    state: &AppState,
    caller: Option<&Caller>,
    new_email: &str,
    password: String,
) -> AppResult<()> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    super::require_session(caller, "Email changes")?;
    let new_email = Email::parse(new_email, "newEmail")?;
    if new_email.as_str() == caller.email {
        return Err(AppError::bad_request("That is already your address"));
    }
    let user = super::accounts::confirm_password(state, caller, password).await?;
    let taken = users::by_email(&state.db, new_email.as_str())
        .await
        .map_err(unexpected("reading a user"))?;
    if taken.is_some() {
        return Err(AppError::conflict(TAKEN));
    }
    // Each request emails two addresses, one of them anybody's.
    super::throttle::mail_action(state, &caller.user_id).await?;
    let token = new_token();
    let id = token_hash(&token);
    let link = format!(
        "{}/confirm-email-change?token={token}",
        state.config.http.base_url
    );
    let old = attendee(&user);
    let new = Attendee {
        email: new_email.as_str().to_string(),
        ..old.clone()
    };
    let emails = [
        NewJob::email(&templates::email_change_confirm(&new, &id, &link)),
        NewJob::email(&templates::email_change_requested(
            &old,
            new_email.as_str(),
            &id,
        )),
    ];
    email_changes::create(
        &state.db,
        &user.id,
        new_email.as_str(),
        &id,
        EMAIL_CHANGE_SECONDS,
        &emails,
    )
    .await
    .map_err(unexpected("storing an email change"))?;
    tracing::info!(user = %user.id, "email change requested");
    Ok(())
}

/// Applies the change a link was sent for: the account takes the address (confirmed by this
/// very link), the old address is told, and guest bookings made with the new one become the
/// account's.
pub async fn confirm_email_change(state: &AppState, token: &str) -> AppResult<()> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::bad_request(CHANGE_LINK_SPENT));
    }
    let id = token_hash(token);
    let outcome = email_changes::apply(&state.db, &id, |c| {
        let old = Attendee {
            name: c.name.clone(),
            email: c.old_email.clone(),
            timezone: c.timezone.clone(),
        };
        NewJob::email(&templates::email_changed(&old, &c.new_email, &id))
    })
    .await
    .map_err(unexpected("changing an email address"))?;
    match outcome {
        Ok(changed) => {
            tracing::info!(user = %changed.user, "email address changed");
            super::guest_booking::claim(state, &changed.user, &changed.new_email).await;
            Ok(())
        }
        Err(ChangeRefusal::Spent) => Err(AppError::bad_request(CHANGE_LINK_SPENT)),
        Err(ChangeRefusal::Taken) => Err(AppError::conflict(TAKEN)),
    }
}

/// Deletes the caller's account: a customer's upcoming bookings and a specialist's upcoming
/// slots are cancelled the usual way (the other side emailed, meetings deleted at Zoom, the
/// waitlist moving), every session and token ends, and the record keeps nothing personal.
/// How many bookings or slots were cancelled.
pub async fn delete_account(
    state: &AppState,
    caller: Option<&Caller>,
    password: String,
) -> AppResult<usize> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    super::require_session(caller, "Account deletions")?;
    let user = super::accounts::confirm_password(state, caller, password).await?;
    let cancelled = match user.role {
        Role::Customer => {
            let upcoming = bookings::upcoming_of_customer(&state.db, &user.id)
                .await
                .map_err(unexpected("reading upcoming bookings"))?;
            for (slot, index) in &upcoming {
                match super::cancellation::cancel_for_closed_account(state, &user.id, slot, *index)
                    .await
                {
                    // Started or cancelled meanwhile: nothing left to cancel.
                    Ok(_) => {}
                    Err(e) if e.status == 409 => {}
                    Err(e) => return Err(e),
                }
            }
            upcoming.len()
        }
        Role::Specialist => {
            let upcoming = slots::upcoming_of_specialist(&state.db, &user.id)
                .await
                .map_err(unexpected("reading upcoming slots"))?;
            for slot in &upcoming {
                match super::cancellation::cancel_slot(
                    state,
                    Some(caller),
                    slot,
                    Some(SPECIALIST_LEFT),
                )
                .await
                {
                    Ok(_) => {}
                    Err(e) if e.status == 409 => {}
                    Err(e) => return Err(e),
                }
            }
            upcoming.len()
        }
    };
    grants::end_all_of(&state.db, &user.id)
        .await
        .map_err(unexpected("ending an account's sessions"))?;
    let goodbye = NewJob::email(&templates::account_deleted(
        &attendee(&user),
        &user.id,
        cancelled,
    ));
    let unusable = format!("deleted: {}", new_token());
    users::anonymise(&state.db, &user.id, &unusable)
        .await
        .map_err(unexpected("deleting an account"))?;
    jobs::queue(&state.db, std::slice::from_ref(&goodbye))
        .await
        .map_err(unexpected("queueing an email"))?;
    state.session_cache.forget(&caller.session_id);
    tracing::info!(user = %user.id, cancelled, "account deleted");
    Ok(cancelled)
}
