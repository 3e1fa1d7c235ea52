use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::model::ZoomSettings;
use axum::Router;
use serde::Deserialize;

use super::caller::{ClientIp, MaybeCaller};
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{AccountExport, AuthPayload, ProfileInput, UserView};
use crate::server::app_state::AppState;
use crate::server::auth::{login_cookie, logout_cookie};
use crate::server::http_error::ApiJson;
use crate::server::service::accounts::{self, Registration};
use crate::server::service::{password_reset, profile};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/verify-email", post(verify_email))
        .route("/api/auth/forgot-password", post(forgot_password))
        .route("/api/auth/reset-password", post(reset_password))
        .route("/api/profile/password", axum::routing::put(change_password))
        .route("/api/profile", axum::routing::put(update_profile))
        .route("/api/profile/export", get(export_account))
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

#[utoipa::path(operation_id = "register", post, path = "/api/auth/register", tag = "Accounts", request_body = Registration, responses((status = 201, body = Envelope<AuthPayload>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(input): ApiJson<Registration>,
) -> Result<Response, AppError> {
    let payload = accounts::register(&state, client, input).await?;
    Ok(with_cookie(&state, StatusCode::CREATED, payload))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct Login {
    email: String,
    password: String,
}

#[utoipa::path(operation_id = "login", post, path = "/api/auth/login", tag = "Accounts", request_body = Login, responses((status = 200, body = Envelope<AuthPayload>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(input): ApiJson<Login>,
) -> Result<Response, AppError> {
    let payload = accounts::login(&state, client, &input.email, input.password).await?;
    Ok(with_cookie(&state, StatusCode::OK, payload))
}

#[utoipa::path(operation_id = "logout", post, path = "/api/auth/logout", tag = "Accounts", responses((status = 200, body = Envelope<serde_json::Value>)), security(("bearer" = []), ()))]
pub(super) async fn logout(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    accounts::logout(&state, caller.as_ref()).await?;
    let response = ok(StatusCode::OK, Some("Logged out"), serde_json::Value::Null);
    Ok(signed_out(&state, response))
}

/// `response` with the login cookie cleared: the browser's session is over.
pub(super) fn signed_out(state: &AppState, mut response: Response) -> Response {
    response.headers_mut().insert(
        header::SET_COOKIE,
        logout_cookie(state.config.secure_cookies())
            .parse()
            .expect("cookie header"),
    );
    response
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct VerifyEmail {
    token: String,
}

#[utoipa::path(operation_id = "verifyEmail", post, path = "/api/auth/verify-email", tag = "Accounts", request_body = VerifyEmail, responses((status = 200, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub(super) async fn verify_email(
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

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ForgotPassword {
    #[schema(format = Email, example = "ada@example.com")]
    email: String,
}

#[utoipa::path(operation_id = "forgotPassword", post, path = "/api/auth/forgot-password", tag = "Accounts", request_body = ForgotPassword,
    responses(
        (status = 202, description = "The same answer whether or not an account has the address", body = Envelope<serde_json::Value>),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, description = "Too many requests for the address or from the client", body = ErrorBody),
    ))]
pub(super) async fn forgot_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(input): ApiJson<ForgotPassword>,
) -> Result<Response, AppError> {
    password_reset::request(&state, client, &input.email).await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        Some(crate::model::RESET_LINK_SENT),
        serde_json::Value::Null,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ResetPassword {
    /// The token of the emailed link.
    token: String,
    /// The new password: at least 8 characters.
    #[schema(min_length = 8)]
    password: String,
}

#[utoipa::path(operation_id = "resetPassword", post, path = "/api/auth/reset-password", tag = "Accounts", request_body = ResetPassword,
    responses(
        (status = 200, description = "Password set; every session and API token of the account ended (sign in again)", body = Envelope<serde_json::Value>),
        (status = 400, description = "The link does not work (unknown, used or over an hour old), or the password breaks a rule", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub(super) async fn reset_password(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ResetPassword>,
) -> Result<Response, AppError> {
    password_reset::reset(&state, &input.token, input.password).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Your password is set. Please log in with it."),
        serde_json::Value::Null,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ChangePassword {
    current_password: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    new_password: String,
}

#[utoipa::path(operation_id = "changePassword", put, path = "/api/profile/password", tag = "Accounts", request_body = ChangePassword,
    responses(
        (status = 200, description = "Password changed; every other session of the account ended", body = Envelope<serde_json::Value>),
        (status = 400, description = "The current password is not right, or the new one breaks a rule", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Asked with an API token", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn change_password(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<ChangePassword>,
) -> Result<Response, AppError> {
    accounts::change_password(
        &state,
        caller.as_ref(),
        input.current_password,
        input.new_password,
    )
    .await?;
    Ok(ok(
        StatusCode::OK,
        Some("Password changed. Your other sessions have ended."),
        serde_json::Value::Null,
    ))
}

#[utoipa::path(operation_id = "updateProfile", put, path = "/api/profile", tag = "Accounts", request_body = ProfileInput,
    responses(
        (status = 200, description = "The account as it is now", body = Envelope<UserView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn update_profile(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<Response, AppError> {
    let user = profile::update(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::OK, Some("Profile saved"), user))
}

#[utoipa::path(operation_id = "exportAccount", get, path = "/api/profile/export", tag = "Accounts",
    responses(
        (status = 200, description = "Everything kept of the account, without a secret, as a JSON download", body = AccountExport),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Asked with an API token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn export_account(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    let export = profile::export(&state, caller.as_ref()).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"specialistly-account.json\"",
        )],
        axum::Json(export),
    )
        .into_response())
}

#[utoipa::path(operation_id = "resendVerification", post, path = "/api/auth/resend-verification", tag = "Accounts", responses((status = 200, body = Envelope<serde_json::Value>), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn resend_verification(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Reminders {
    enabled: bool,
}

#[utoipa::path(operation_id = "setReminders", put, path = "/api/profile/reminders", tag = "Accounts", request_body = Reminders, responses((status = 200, body = Envelope<UserView>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn set_reminders(
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

#[utoipa::path(operation_id = "getMe", get, path = "/api/auth/me", tag = "Accounts", responses((status = 200, body = Envelope<UserView>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn me(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    let user = accounts::me(&state, caller.as_ref()).await?;
    Ok(ok(StatusCode::OK, None, user))
}

#[utoipa::path(operation_id = "getZoomSettings", get, path = "/api/profile/zoom-settings", tag = "Accounts", responses((status = 200, body = Envelope<ZoomSettings>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn zoom_settings(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        accounts::zoom_settings(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "saveZoomSettings", put, path = "/api/profile/zoom-settings", tag = "Accounts", request_body = ZoomSettings, responses((status = 200, body = Envelope<ZoomSettings>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn save_zoom_settings(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<ZoomSettings>,
) -> Result<Response, AppError> {
    let saved = accounts::update_zoom_settings(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::OK, Some("Zoom settings saved"), saved))
}
