// `save_zoom_settings` takes one argument per field of its form (as a plain form post sends
// them), and the code `#[server]` generates for it does not carry an item-level allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DemoAccount, UserView};

#[cfg(feature = "ssr")]
fn set_cookie(value: String) {
    use axum::http::{header, HeaderValue};
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&value),
    ) {
        options.append_header(header::SET_COOKIE, value);
    }
}

/// Where to go after logging in: a path of this site only. One leading `/` (not `//`, which
/// a browser reads as another host), no `\` (read as `/`), and printable ASCII only: browsers
/// drop tabs and line breaks (`/\t/evil.example` becomes `//evil.example`), and a control
/// character cannot go into a `Location` header at all.
pub fn safe_next(next: &str) -> Option<String> {
    let ok = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then(|| next.to_string())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_kept() {
        for good in ["/", "/slots?book=abc", "/appointments/x/0", "/a%2Fb"] {
            assert_eq!(safe_next(good).as_deref(), Some(good));
        }
        for bad in [
            "",
            "slots",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=y",
            "https://evil.example",
            "javascript:alert(1)",
            " /slots",
            "/é",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}

#[server(endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<UserView, AppError> {
    use crate::server::{auth::login_cookie, service::accounts};
    crate::api::serve::serve(|state, _| async move {
        let payload =
            accounts::login(&state, crate::api::serve::client_ip(), &email, password).await?;
        set_cookie(login_cookie(&payload.token, state.config.secure_cookies()));
        let target = next
            .as_deref()
            .and_then(safe_next)
            .unwrap_or_else(|| payload.user.role.home_path().to_string());
        leptos_axum::redirect(&target);
        Ok(payload.user)
    })
    .await
}

#[server(endpoint = "register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    role: String,
    timezone: Option<String>,
) -> Result<UserView, AppError> {
    use crate::server::{auth::login_cookie, service::accounts};
    crate::api::serve::serve(|state, _| async move {
        let payload = accounts::register(
            &state,
            crate::api::serve::client_ip(),
            accounts::Registration {
                name,
                email,
                password,
                role,
                timezone,
            },
        )
        .await?;
        set_cookie(login_cookie(&payload.token, state.config.secure_cookies()));
        leptos_axum::redirect(payload.user.role.home_path());
        Ok(payload.user)
    })
    .await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{auth::logout_cookie, service::accounts};
    crate::api::serve::serve(|state, caller| async move {
        accounts::logout(&state, caller.as_ref()).await?;
        set_cookie(logout_cookie(state.config.secure_cookies()));
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        if caller.is_none() {
            return Ok(None);
        }
        Ok(accounts::me(&state, caller.as_ref()).await.ok())
    })
    .await
}

/// The demo logins, shown on the login page in development only.
#[server(endpoint = "demo_accounts")]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, AppError> {
    use crate::server::seed;
    crate::api::serve::serve(|state, _| async move {
        Ok(
            if state.config.seed_demo_data && !state.config.is_production() {
                seed::demo_accounts()
            } else {
                vec![]
            },
        )
    })
    .await
}

/// Confirms the address a link names. Only a POST does: the link's page shows a button.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, _| async move {
        accounts::confirm_email(&state, &token).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/verify-email?confirmed=1");
        }
        Ok(())
    })
    .await
}

/// The account a confirmation link names, for its page; confirms nothing.
#[server(endpoint = "pending_confirmation")]
pub async fn pending_confirmation(
    token: String,
) -> Result<crate::model::PendingConfirmation, AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, _| async move {
        accounts::pending_confirmation(&state, &token).await
    })
    .await
}

#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        accounts::resend_confirmation(&state, caller.as_ref()).await?;
        // A plain form post (the dashboard's forms are not islands) comes back saying so.
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/specialist?link_sent=1");
        }
        Ok(())
    })
    .await
}

/// The reminder toggle: a checkbox, present when ticked.
#[server(endpoint = "set_reminders")]
pub async fn set_reminders(enabled: Option<String>) -> Result<UserView, AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        accounts::set_reminders(&state, caller.as_ref(), enabled.is_some()).await
    })
    .await
}

/// Turns reminders off for the account an unsubscribe link names; the link's page posts it.
#[server(endpoint = "unsubscribe")]
pub async fn unsubscribe(token: String) -> Result<(), AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, _| async move {
        accounts::unsubscribe(&state, &token).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/unsubscribe?done=1");
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "zoom_settings")]
pub async fn zoom_settings() -> Result<crate::model::ZoomSettings, AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        accounts::zoom_settings(&state, caller.as_ref()).await
    })
    .await
}

/// Checkboxes arrive as "on" when ticked and not at all otherwise. One argument per field of
/// the form, as a plain form post (no wasm) sends them.
#[server(endpoint = "save_zoom_settings")]
pub async fn save_zoom_settings(
    zoom_user: Option<String>,
    waiting_room: Option<String>,
    join_before_host: Option<String>,
    host_video: Option<String>,
    participant_video: Option<String>,
    mute_upon_entry: Option<String>,
    cloud_recording: Option<String>,
    recurring_links: Option<String>,
    auto_create_minutes: Option<String>,
) -> Result<crate::model::ZoomSettings, AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        let auto_create_minutes = match auto_create_minutes.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) => Some(m.parse::<u32>().map_err(|_| {
                AppError::bad_request("autoCreateMinutes must be a whole number of minutes")
            })?),
        };
        let settings = crate::model::ZoomSettings {
            auto_create_minutes,
            zoom_user,
            meeting: crate::model::MeetingDefaults {
                waiting_room: waiting_room.is_some(),
                join_before_host: join_before_host.is_some(),
                host_video: host_video.is_some(),
                participant_video: participant_video.is_some(),
                mute_upon_entry: mute_upon_entry.is_some(),
                cloud_recording: cloud_recording.is_some(),
                recurring_links: recurring_links.is_some(),
            },
        };
        let saved = accounts::update_zoom_settings(&state, caller.as_ref(), settings).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/specialist?zoom_saved=1");
        }
        Ok(saved)
    })
    .await
}

/// A new calendar feed address for the caller (any earlier one stops working).
#[server(endpoint = "new_calendar_link")]
pub async fn new_calendar_link() -> Result<crate::model::CalendarLink, AppError> {
    use crate::server::service::calendar_feed;
    crate::api::serve::serve(|state, caller| async move {
        calendar_feed::new_link(&state, caller.as_ref()).await
    })
    .await
}

/// Ends the caller's calendar feed address.
#[server(endpoint = "revoke_calendar_link")]
pub async fn revoke_calendar_link() -> Result<(), AppError> {
    use crate::server::service::calendar_feed;
    crate::api::serve::serve(|state, caller| async move {
        calendar_feed::revoke(&state, caller.as_ref()).await
    })
    .await
}

/// Emails a password reset link when an account has the address; the answer is the same
/// either way. A plain form post comes back to the page, which says so.
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    use crate::server::service::password_reset;
    crate::api::serve::serve(|state, _| async move {
        let client = crate::api::serve::client_ip();
        password_reset::request(&state, client, &email).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/forgot-password?sent=1");
        }
        Ok(())
    })
    .await
}

/// Whether a reset link works now (its page shows the form only then).
#[server(endpoint = "check_reset_link")]
pub async fn check_reset_link(token: String) -> Result<(), AppError> {
    use crate::server::service::password_reset;
    crate::api::serve::serve(|state, _| async move { password_reset::check(&state, &token).await })
        .await
}

/// Sets a new password with a reset link; the visitor then logs in with it.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::server::service::password_reset;
    crate::api::serve::serve(|state, _| async move {
        password_reset::reset(&state, &token, password).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/login?password_reset=1");
        }
        Ok(())
    })
    .await
}

/// The signed-in owner changes their password (the account page's form).
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::server::service::accounts;
    crate::api::serve::serve(|state, caller| async move {
        accounts::change_password(&state, caller.as_ref(), current_password, new_password).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/account?password_changed=1");
        }
        Ok(())
    })
    .await
}

/// The account page's name and time zone.
#[server(endpoint = "save_profile")]
pub async fn save_profile(name: String, timezone: String) -> Result<(), AppError> {
    use crate::server::service::profile;
    crate::api::serve::serve(|state, caller| async move {
        profile::update(
            &state,
            caller.as_ref(),
            crate::model::ProfileInput { name, timezone },
        )
        .await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/account?profile_saved=1");
        }
        Ok(())
    })
    .await
}

/// The account page's new address: a link goes to it, a notice to the old one.
#[server(endpoint = "change_email")]
pub async fn change_email(new_email: String, password: String) -> Result<(), AppError> {
    use crate::server::service::account_changes;
    crate::api::serve::serve(|state, caller| async move {
        account_changes::request_email_change(&state, caller.as_ref(), &new_email, password)
            .await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/account?email_change_sent=1");
        }
        Ok(())
    })
    .await
}

/// The button on the page the new address's link opens.
#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use crate::server::service::account_changes;
    crate::api::serve::serve(|state, _caller| async move {
        account_changes::confirm_email_change(&state, &token).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/confirm-email-change?changed=1");
        }
        Ok(())
    })
    .await
}

/// Deletes the signed-in account (its password again, and the box ticked), signs the browser
/// out and goes to the home page.
#[server(endpoint = "delete_account")]
pub async fn delete_account(password: String, sure: Option<String>) -> Result<(), AppError> {
    use crate::server::{auth::logout_cookie, service::account_changes};
    crate::api::serve::serve(|state, caller| async move {
        if sure.as_deref() != Some("yes") {
            return Err(AppError::bad_request(
                "Tick the box to say you want your account deleted",
            ));
        }
        account_changes::delete_account(&state, caller.as_ref(), password).await?;
        set_cookie(logout_cookie(state.config.secure_cookies()));
        leptos_axum::redirect("/?account_deleted=1");
        Ok(())
    })
    .await
}
