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

/// Where to go after logging in: a local path only, never another site.
pub fn safe_next(next: &str) -> Option<String> {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    ok.then(|| next.to_string())
}

#[server(endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<UserView, AppError> {
    use crate::server::{app_state, auth::login_cookie, service::accounts};
    let (state, _) = app_state::context().await?;
    let payload = accounts::login(&state, &email, password).await?;
    set_cookie(login_cookie(&payload.token, state.config.secure_cookies()));
    let target = next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or_else(|| home_for(&payload.user).to_string());
    leptos_axum::redirect(&target);
    Ok(payload.user)
}

#[server(endpoint = "register")]
pub async fn register(
    name: String,
    email: String,
    password: String,
    role: String,
    timezone: Option<String>,
) -> Result<UserView, AppError> {
    use crate::server::{app_state, auth::login_cookie, service::accounts};
    let (state, _) = app_state::context().await?;
    let payload = accounts::register(
        &state,
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
    leptos_axum::redirect(home_for(&payload.user));
    Ok(payload.user)
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{app_state, auth::logout_cookie};
    let (state, _) = app_state::context().await?;
    set_cookie(logout_cookie(state.config.secure_cookies()));
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    use crate::server::{app_state, service::accounts};
    let (state, caller) = app_state::context().await?;
    if caller.is_none() {
        return Ok(None);
    }
    Ok(accounts::me(&state, caller.as_ref()).await.ok())
}

/// The demo logins, shown on the login page in development only.
#[server(endpoint = "demo_accounts")]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, AppError> {
    use crate::server::{app_state, seed};
    let (state, _) = app_state::context().await?;
    Ok(
        if state.config.seed_demo_data && !state.config.is_production() {
            seed::demo_accounts()
        } else {
            vec![]
        },
    )
}

pub fn home_for(user: &UserView) -> &'static str {
    match user.role {
        crate::model::Role::Specialist => "/specialist",
        crate::model::Role::Customer => "/slots",
    }
}
