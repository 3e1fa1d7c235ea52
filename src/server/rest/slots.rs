use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use serde_json::json;

use super::caller::MaybeCaller;
use super::idempotency;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use crate::error::AppError;
use crate::model::{
    BookingConfirmation, BookingView, CreatedMeeting, ManagedSlot, MeetingPreview, MyAppointment,
    SlotPage, SlotView, WaitlistPlace,
};
use crate::server::app_state::AppState;
use crate::server::http_error::{body_rejection, ApiJson};
use crate::server::service::booking::{self, BookingRequest};
use crate::server::service::reschedule::{self, RescheduleRequest};
use crate::server::service::slots::{self, BrowseQuery, SlotInput};
use crate::server::service::zoom_meeting;
use crate::server::service::{appointments, cancellation, waitlist};

/// The routes; the writes a client may retry honour `Idempotency-Key`.
pub fn router(state: &AppState) -> Router<AppState> {
    let idempotent =
        || axum::middleware::from_fn_with_state(state.clone(), idempotency::replay_or_run);
    Router::new()
        .route("/api/consulting-slots", get(browse).post(create))
        .route("/api/consulting-slots/mine", get(mine))
        .route(
            "/api/consulting-slots/{slot_id}",
            patch(update).delete(remove),
        )
        .route(
            "/api/consulting-slots/{slot_id}/book",
            post(book).layer(idempotent()),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}",
            get(details),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/create-zoom",
            post(create_zoom).layer(idempotent()),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/create-zoom/preview",
            get(preview_zoom),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/start-url",
            get(start_url),
        )
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/cancel",
            post(cancel_booking).layer(idempotent()),
        )
        .route("/api/consulting-slots/{slot_id}/cancel", post(cancel_slot))
        .route(
            "/api/consulting-slots/{slot_id}/waitlist",
            post(join_waitlist)
                .layer(idempotent())
                .delete(leave_waitlist),
        )
        .route("/api/waitlist", get(my_waitlist))
        .route(
            "/api/consulting-slots/{slot_id}/booking/{booking_index}/reschedule",
            post(reschedule_booking).layer(idempotent()),
        )
        .route("/api/appointments", get(my_appointments))
        .route("/api/meeting-manager", get(meeting_manager))
        .route(
            "/meetings/{slot_id}/{booking_index}/start",
            get(start_redirect),
        )
}

#[utoipa::path(operation_id = "browseSlots", get, path = "/api/consulting-slots", tag = "Slots and bookings", params(BrowseQuery), responses((status = 200, body = Envelope<SlotPage>), (status = 400, body = ErrorBody)))]
pub(super) async fn browse(
    State(state): State<AppState>,
    query: Result<Query<BrowseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    Ok(ok(
        StatusCode::OK,
        None,
        slots::browse(&state, query).await?,
    ))
}

#[utoipa::path(operation_id = "createSlot", post, path = "/api/consulting-slots", tag = "Slots and bookings", request_body = SlotInput, responses((status = 201, body = Envelope<SlotView>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiJson(input): ApiJson<SlotInput>,
) -> Result<Response, AppError> {
    let slot = slots::create(&state, caller.as_ref(), input).await?;
    Ok(ok(StatusCode::CREATED, Some("Slot created"), slot))
}

#[utoipa::path(operation_id = "listMySlots", get, path = "/api/consulting-slots/mine", tag = "Slots and bookings", responses((status = 200, body = Envelope<Vec<SlotView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn mine(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        slots::mine(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "updateSlot", patch, path = "/api/consulting-slots/{slot_id}", tag = "Slots and bookings", request_body = SlotInput, params(("slot_id" = String, Path)), responses((status = 200, body = Envelope<SlotView>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn update(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
    ApiJson(input): ApiJson<SlotInput>,
) -> Result<Response, AppError> {
    let slot = slots::update(&state, caller.as_ref(), &slot_id, input).await?;
    Ok(ok(StatusCode::OK, Some("Slot updated"), slot))
}

#[utoipa::path(operation_id = "deleteSlot", delete, path = "/api/consulting-slots/{slot_id}", tag = "Slots and bookings", params(("slot_id" = String, Path)), responses((status = 200, body = Envelope<serde_json::Value>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn remove(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
) -> Result<Response, AppError> {
    slots::delete(&state, caller.as_ref(), &slot_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("Slot deleted"),
        json!({ "id": slot_id }),
    ))
}

#[utoipa::path(operation_id = "bookSlot", post, path = "/api/consulting-slots/{slot_id}/book", tag = "Slots and bookings", request_body = BookingRequest, params(("slot_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Any ASCII key of up to 255 characters: a retry with the same key and body within 24 h gets the first answer again (`Idempotent-Replayed: true`) and changes nothing")), responses((status = 201, body = Envelope<BookingConfirmation>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, description = "Idempotency-Key reused with another request", body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn book(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    // The body is optional: an empty one books with the account's name and no notes.
    let body = body.map_err(body_rejection)?;
    let request: BookingRequest = if body.iter().all(u8::is_ascii_whitespace) {
        BookingRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::bad_request(format!("Invalid JSON body: {e}")))?
    };
    let confirmation = booking::book_slot(&state, caller.as_ref(), &slot_id, request).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("Slot booked successfully"),
        confirmation,
    ))
}

#[utoipa::path(operation_id = "createZoomMeeting", post, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/create-zoom", tag = "Slots and bookings", params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order"), ("Idempotency-Key" = Option<String>, Header, description = "Any ASCII key of up to 255 characters: a retry with the same key and body within 24 h gets the first answer again (`Idempotent-Replayed: true`) and changes nothing")), responses((status = 200, body = Envelope<CreatedMeeting>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 500, description = "Zoom failed; nothing was saved", body = ErrorBody), (status = 504, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn create_zoom(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let created =
        zoom_meeting::create_zoom_meeting_for_booking(&state, caller.as_ref(), &slot_id, &index)
            .await?;
    Ok(ok(
        StatusCode::OK,
        Some("Zoom meeting created successfully"),
        created,
    ))
}

#[utoipa::path(operation_id = "previewZoomMeeting", get, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/create-zoom/preview", tag = "Slots and bookings", params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order")), responses((status = 200, body = Envelope<MeetingPreview>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn preview_zoom(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let preview = zoom_meeting::preview(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(ok(StatusCode::OK, None, preview))
}

#[utoipa::path(operation_id = "getAppointment", get, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}", tag = "Slots and bookings", params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order")), responses((status = 200, body = Envelope<serde_json::Value>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn details(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let view = appointments::details(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(ok(
        StatusCode::OK,
        None,
        json!({ "slot": view.slot, "booking": view.booking, "zoomMeeting": view.zoom_meeting }),
    ))
}

#[utoipa::path(operation_id = "getStartUrl", get, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/start-url", tag = "Slots and bookings", params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order")), responses((status = 200, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn start_url(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let url = zoom_meeting::fresh_start_url(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(ok(StatusCode::OK, None, json!({ "startUrl": url })))
}

#[utoipa::path(operation_id = "listMyAppointments", get, path = "/api/appointments", tag = "Slots and bookings", responses((status = 200, body = Envelope<Vec<MyAppointment>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn my_appointments(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        appointments::mine(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "getMeetingManager", get, path = "/api/meeting-manager", tag = "Slots and bookings", responses((status = 200, body = Envelope<Vec<ManagedSlot>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn meeting_manager(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        appointments::meeting_manager(&state, caller.as_ref()).await?,
    ))
}

/// `{"reason": "…"}`: optional for the customer, required for the specialist.
#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelRequest {
    #[serde(default)]
    pub(super) reason: Option<String>,
}

#[utoipa::path(operation_id = "cancelBooking", post, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/cancel", tag = "Slots and bookings", request_body = CancelRequest, params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order"), ("Idempotency-Key" = Option<String>, Header, description = "Any ASCII key of up to 255 characters: a retry with the same key and body within 24 h gets the first answer again (`Idempotent-Replayed: true`) and changes nothing")), responses((status = 200, body = Envelope<BookingView>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn cancel_booking(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
    ApiJson(input): ApiJson<CancelRequest>,
) -> Result<Response, AppError> {
    let booking = cancellation::cancel_booking(
        &state,
        caller.as_ref(),
        &slot_id,
        &index,
        input.reason.as_deref(),
    )
    .await?;
    Ok(ok(StatusCode::OK, Some("Booking cancelled"), booking))
}

#[utoipa::path(operation_id = "rescheduleBooking", post, path = "/api/consulting-slots/{slot_id}/booking/{booking_index}/reschedule", tag = "Slots and bookings", request_body = RescheduleRequest, params(("slot_id" = String, Path), ("booking_index" = String, Path, description = "0, 1, 2… in booking order"), ("Idempotency-Key" = Option<String>, Header, description = "Any ASCII key of up to 255 characters: a retry with the same key and body within 24 h gets the first answer again (`Idempotent-Replayed: true`) and changes nothing")), responses((status = 200, body = Envelope<BookingConfirmation>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn reschedule_booking(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
    ApiJson(input): ApiJson<RescheduleRequest>,
) -> Result<Response, AppError> {
    let moved =
        reschedule::reschedule(&state, caller.as_ref(), &slot_id, &index, &input.to_slot_id)
            .await?;
    Ok(ok(StatusCode::OK, Some("Booking rescheduled"), moved))
}

#[utoipa::path(operation_id = "joinWaitlist", post, path = "/api/consulting-slots/{slot_id}/waitlist", tag = "Slots and bookings", params(("slot_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Any ASCII key of up to 255 characters: a retry with the same key and body within 24 h gets the first answer again (`Idempotent-Replayed: true`) and changes nothing")), responses((status = 201, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn join_waitlist(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
) -> Result<Response, AppError> {
    let position = waitlist::join(&state, caller.as_ref(), &slot_id).await?;
    Ok(ok(
        StatusCode::CREATED,
        Some("You are on the waitlist"),
        json!({ "position": position }),
    ))
}

#[utoipa::path(operation_id = "leaveWaitlist", delete, path = "/api/consulting-slots/{slot_id}/waitlist", tag = "Slots and bookings", params(("slot_id" = String, Path)), responses((status = 200, body = Envelope<serde_json::Value>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn leave_waitlist(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
) -> Result<Response, AppError> {
    waitlist::leave(&state, caller.as_ref(), &slot_id).await?;
    Ok(ok(
        StatusCode::OK,
        Some("You left the waitlist"),
        json!(null),
    ))
}

#[utoipa::path(operation_id = "listMyWaitlist", get, path = "/api/waitlist", tag = "Slots and bookings", responses((status = 200, body = Envelope<Vec<WaitlistPlace>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn my_waitlist(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        waitlist::places(&state, caller.as_ref()).await?,
    ))
}

#[utoipa::path(operation_id = "cancelSlot", post, path = "/api/consulting-slots/{slot_id}/cancel", tag = "Slots and bookings", request_body = CancelRequest, params(("slot_id" = String, Path)), responses((status = 200, body = Envelope<serde_json::Value>), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = []), ()))]
pub(super) async fn cancel_slot(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(slot_id): Path<String>,
    ApiJson(input): ApiJson<CancelRequest>,
) -> Result<Response, AppError> {
    let cancelled =
        cancellation::cancel_slot(&state, caller.as_ref(), &slot_id, input.reason.as_deref())
            .await?;
    Ok(ok(
        StatusCode::OK,
        Some("Slot cancelled"),
        json!({ "cancelled": cancelled }),
    ))
}

/// "Start Meeting as Host": a link the browser opens in a new tab, answered with a redirect
/// to a start URL fetched just now (Zoom's expire two hours after issue). A navigation that
/// another site started gets a page with the link instead: following it launches the Zoom
/// client as host, which no other site may do for the specialist.
async fn start_redirect(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let from_elsewhere = headers
        .get("sec-fetch-site")
        .is_some_and(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"));
    if from_elsewhere {
        return start_interstitial(&slot_id, &index);
    }
    match zoom_meeting::fresh_start_url(&state, caller.as_ref(), &slot_id, &index).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) if e.status == 401 => {
            Redirect::to(&format!("/login?next=/meetings/{slot_id}/{index}/start")).into_response()
        }
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY),
            e.message,
        )
            .into_response(),
    }
}

/// The page a cross-site navigation to a start link gets: nothing is fetched from Zoom, and
/// the specialist continues with a click of their own (a same-origin navigation).
fn start_interstitial(slot_id: &str, index: &str) -> Response {
    use crate::server::mail::templates::document::escape_html;
    let path = escape_html(&format!(
        "/meetings/{}/{}/start",
        percent_encoding::utf8_percent_encode(slot_id, percent_encoding::NON_ALPHANUMERIC),
        percent_encoding::utf8_percent_encode(index, percent_encoding::NON_ALPHANUMERIC),
    ));
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Start the meeting</title></head>
<body><main><h1>Start the meeting as host?</h1>
<p>Another site sent you here. Starting opens Zoom as the meeting's host.</p>
<p><a href="{path}" data-testid="start-as-host">Start the meeting as host</a> or go to the <a href="/specialist/meetings">Meeting Manager</a>.</p></main></body></html>"#
    );
    (
        StatusCode::OK,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::response::Html(html),
    )
        .into_response()
}
