//! Specialists' pages: `GET` and `PUT /api/profile/page` (handle and bio) and, for anyone,
//! `GET /api/specialists/:handle`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

use super::caller::MaybeCaller;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{MyPageView, PageInput, SpecialistPage};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::pages::{self, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/profile/page", put(set_page).get(my_page))
        .route("/api/specialists/{handle}", get(specialist))
}

#[utoipa::path(operation_id = "setPage", put, path = "/api/profile/page", tag = "Offerings",
    request_body = PageInput,
    responses(
        (status = 200, description = "Saved; a former handle leads here for 90 days", body = Envelope<PageInput>),
        (status = 400, body = ErrorBody),
        (status = 413, description = "Body over 64 KB", body = ErrorBody),
        (status = 415, description = "Body not sent as JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
        (status = 409, description = "The handle is another specialist's", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn set_page(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<PageInput>,
) -> Result<Response, AppError> {
    let saved = pages::set(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::OK, Some("Page saved"), saved))
}

#[utoipa::path(operation_id = "getMyPage", get, path = "/api/profile/page", tag = "Offerings",
    responses(
        (status = 200, description = "The caller's handle (none: no page yet) and bio", body = Envelope<MyPageView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a specialist", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub(super) async fn my_page(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    let page = pages::mine(&state, caller.as_ref()).await?;
    Ok(ok(StatusCode::OK, None, page))
}

#[utoipa::path(operation_id = "getSpecialistPage", get, path = "/api/specialists/{handle}", tag = "Offerings",
    params(("handle" = String, Path)),
    responses(
        (status = 200, description = "The specialist, their offerings and the sessions open", body = Envelope<SpecialistPage>),
        (status = 301, description = "A former handle: `Location` names the page's address now"),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn specialist(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Response, AppError> {
    match pages::by_handle(&state, &handle).await? {
        Page::Found(page) => Ok(ok(StatusCode::OK, None, page)),
        Page::Moved(current) => Ok((
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, format!("/api/specialists/{current}"))],
        )
            .into_response()),
    }
}
