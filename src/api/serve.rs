//! The server functions' plumbing: the request's state and caller, and errors answered with
//! their own HTTP status.

use axum::http::HeaderMap;
use axum::response::IntoResponse;

use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;

/// Runs a server function's body with the request's state and caller, and answers its error
/// with that error's own HTTP status.
pub async fn serve<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(AppState, Option<Caller>) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let result = match context().await {
        Ok((state, caller)) => body(state, caller).await,
        Err(e) => Err(e),
    };
    respond(result)
}

/// Whether the current server function was called by a browser posting a form without wasm
/// (it asks for HTML; the wasm client asks for JSON).
pub fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// The client's address of the current server function call.
pub fn client_ip() -> Option<std::net::IpAddr> {
    let state = leptos::prelude::use_context::<AppState>()?;
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| crate::server::rest::caller::client_ip(&parts, &state))
}

/// Inside a server function: the state and the caller of the current request.
async fn context() -> Result<(AppState, Option<Caller>), AppError> {
    let state = leptos::prelude::use_context::<AppState>().ok_or_else(AppError::internal)?;
    let headers: HeaderMap = leptos_axum::extract()
        .await
        .map_err(|_| AppError::internal())?;
    let caller = crate::server::service::sessions::caller(&state, &headers).await?;
    // Server functions are called with POST: a read-only API token reads through the REST API.
    crate::server::service::sessions::check_scope(caller.as_ref(), &axum::http::Method::POST)?;
    Ok((state, caller))
}

/// A server function's result with the HTTP status of its error (a wrong password is a 401,
/// not a 500, in the response and in the logs). Plain form posts (no wasm) keep the redirect
/// back to the form that leptos_axum answers them with.
fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    let form_post = is_plain_form_post();
    if let (Err(e), false) = (&result, form_post) {
        if let (Some(options), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            axum::http::StatusCode::from_u16(e.status),
        ) {
            options.set_status(status);
            if let Some(seconds) = e.retry_after_seconds {
                options.insert_header(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(seconds),
                );
            }
        }
    }
    result
}

/// Server functions whose arguments cannot even be decoded never reach [`serve`]; the
/// framework answers them with 500 although the error inside says 400. This puts the error's
/// own status on such responses (REST errors carry no `status` field and pass unchanged).
pub async fn error_status(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Some(status) = serde_json::from_slice::<AppError>(&bytes)
        .ok()
        .and_then(|e| StatusCode::from_u16(e.status).ok())
    {
        parts.status = status;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
