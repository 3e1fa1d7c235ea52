//! The account's weighty changes: a new email address (`POST /api/profile/email`, confirmed with
//! `POST /api/auth/confirm-email-change`) and deleting the account (`DELETE /api/profile`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, post};
use axum::Router;
use serde::Deserialize;

use super::caller::MaybeCaller;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::account_changes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/profile/email", post(change_email))
        .route("/api/auth/confirm-email-change", post(confirm_email_change))
        .route("/api/profile", delete(delete_account))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ChangeEmail {
    new_email: String,
    /// The account's current password.
    password: String,
}

#[utoipa::path(operation_id = "changeEmail", post, path = "/api/profile/email", tag = "Accounts", request_body = ChangeEmail,
    responses(
        (status = 202, description = "A link went to the new address, a notice to the old one; nothing changes until the link is opened", body = Envelope<serde_json::Value>),
        (status = 400, description = "Not an address, the same address, or the password is not right", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Asked with an API token", body = ErrorBody),
        (status = 409, description = "Another account has the address", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn change_email(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<ChangeEmail>,
) -> Result<Response, AppError> {
    account_changes::request_email_change(
        &state,
        caller.as_ref(),
        &input.new_email,
        input.password,
    )
    .await?;
    Ok(ok(
        StatusCode::ACCEPTED,
        Some(crate::model::EMAIL_CHANGE_SENT),
        serde_json::Value::Null,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmEmailChange {
    /// The token of the link emailed to the new address.
    token: String,
}

#[utoipa::path(operation_id = "confirmEmailChange", post, path = "/api/auth/confirm-email-change", tag = "Accounts", request_body = ConfirmEmailChange,
    responses(
        (status = 200, description = "The account uses the new address; the old one was told", body = Envelope<serde_json::Value>),
        (status = 400, description = "The link was used, replaced or is over a day old", body = ErrorBody),
        (status = 409, description = "Another account took the address meanwhile", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    ))]
pub(super) async fn confirm_email_change(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ConfirmEmailChange>,
) -> Result<Response, AppError> {
    account_changes::confirm_email_change(&state, &input.token).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Your account uses its new address now."),
        serde_json::Value::Null,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteAccount {
    /// The account's current password.
    password: String,
}

#[utoipa::path(operation_id = "deleteAccount", delete, path = "/api/profile", tag = "Accounts", request_body = DeleteAccount,
    responses(
        (status = 200, description = "Deleted: upcoming bookings or slots cancelled (how many), every session ended, nothing personal kept", body = Envelope<serde_json::Value>),
        (status = 400, description = "The password is not right", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Asked with an API token", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn delete_account(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<DeleteAccount>,
) -> Result<Response, AppError> {
    let cancelled =
        account_changes::delete_account(&state, caller.as_ref(), input.password).await?;
    let response = ok(
        StatusCode::OK,
        Some("Your account is deleted."),
        serde_json::json!({ "cancelled": cancelled }),
    );
    Ok(super::auth::signed_out(&state, response))
}
