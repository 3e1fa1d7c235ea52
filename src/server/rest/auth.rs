use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::model::ZoomSettings;
use axum::Router;
use serde::Deserialize;

use super::caller::{ClientIp, MaybeCaller};
use super::ok;
use crate::error::AppError;
use crate::model::AuthPayload;
use crate::server::app_state::AppState;
use crate::server::auth::{login_cookie, logout_cookie};
use crate::server::http_error::ApiJson;
use crate::server::service::accounts::{self, Registration};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/verify-email", post(verify_email))
        .route("/api/profile/reminders", axum::routing::put(set_reminders))
        .route("/unsubscribe", post(one_click_unsubscribe))
        .route("/api/auth/resend-verification", post(resend_verification))
        .route(
            "/api/profile/zoom-settings",
            get(zoom_settings).put(save_zoom_settings),
        )
}

fn with_cookie(state: &AppState, status: StatusCode, payload: AuthPayload) -> Response {
    let cookie = login_cookie(&payload.token, state.config.secure_cookies());
    let mut response = ok(status, None, payload);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie.parse().expect("cookie header"));
    response
}

async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(input): ApiJson<Registration>,
) -> Result<Response, AppError> {
    let payload = accounts::register(&state, client, input).await?;
    Ok(with_cookie(&state, StatusCode::CREATED, payload))
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(input): ApiJson<Login>,
) -> Result<Response, AppError> {
    let payload = accounts::login(&state, client, &input.email, input.password).await?;
    Ok(with_cookie(&state, StatusCode::OK, payload))
}

async fn logout(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    accounts::logout(&state, caller.as_ref()).await?;
    let mut response = ok(StatusCode::OK, Some("Logged out"), serde_json::Value::Null);
    response.headers_mut().insert(
        header::SET_COOKIE,
        logout_cookie(state.config.secure_cookies())
            .parse()
            .expect("cookie header"),
    );
    Ok(response.into_response())
}

#[derive(Deserialize)]
struct VerifyEmail {
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<VerifyEmail>,
) -> Result<Response, AppError> {
    accounts::confirm_email(&state, &input.token).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Email address confirmed"),
        serde_json::Value::Null,
    ))
}

async fn resend_verification(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    accounts::resend_confirmation(&state, caller.as_ref()).await?;
    Ok(ok(
        StatusCode::OK,
        Some("A new confirmation link is on its way"),
        serde_json::Value::Null,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reminders {
    enabled: bool,
}

async fn set_reminders(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<Reminders>,
) -> Result<Response, AppError> {
    let user = accounts::set_reminders(&state, caller.as_ref(), input.enabled).await?;
    Ok(ok(StatusCode::OK, Some("Reminder setting saved"), user))
}

#[derive(Deserialize)]
struct UnsubscribeQuery {
    #[serde(default)]
    token: String,
}

/// RFC 8058: mail clients POST to the `List-Unsubscribe` address to unsubscribe in one click.
async fn one_click_unsubscribe(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<UnsubscribeQuery>,
) -> Result<Response, AppError> {
    accounts::unsubscribe(&state, &q.token).await?;
    Ok(ok(
        StatusCode::OK,
        Some("You will not get reminder emails any more"),
        serde_json::Value::Null,
    ))
}

async fn me(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    let user = accounts::me(&state, caller.as_ref()).await?;
    Ok(ok(StatusCode::OK, None, user))
}

async fn zoom_settings(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        accounts::zoom_settings(&state, caller.as_ref()).await?,
    ))
}

async fn save_zoom_settings(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<ZoomSettings>,
) -> Result<Response, AppError> {
    let saved = accounts::update_zoom_settings(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::OK, Some("Zoom settings saved"), saved))
}
