//! Booking without an account (`POST /api/consulting-slots/:id/guest-bookings`) and a seat's
//! manage link (`/api/manage/:token…`), which acts as that one booking's customer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::caller::ClientIp;
use super::ok;
use super::schemas::{Envelope, ErrorBody};
use super::slots::CancelRequest;
use crate::error::AppError;
use crate::model::{
    BookingConfirmation, BookingView, GuestBookingAnswer, GuestBookingRequest, GuestBookingState,
    ManagedAppointment, SlotView, GUEST_HOLD_SENT,
};
use crate::server::app_state::AppState;
use crate::server::http_error::ApiJson;
use crate::server::service::reschedule::RescheduleRequest;
use crate::server::service::{guest_booking, manage};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/consulting-slots/{slot_id}/guest-bookings",
            post(book_as_guest),
        )
        .route("/api/manage/{token}", get(managed))
        .route("/api/manage/{token}/confirm", post(confirm))
        .route("/api/manage/{token}/cancel", post(cancel))
        .route("/api/manage/{token}/reschedule-options", get(options))
        .route("/api/manage/{token}/reschedule", post(reschedule))
}

#[utoipa::path(operation_id = "bookAsGuest", post, path = "/api/consulting-slots/{slot_id}/guest-bookings", tag = "Guest bookings",
    request_body = GuestBookingRequest, params(("slot_id" = String, Path)),
    responses(
        (status = 201, description = "Booked at once (the specialist's `guestBooking` is `instant`); the manage link is emailed", body = Envelope<GuestBookingAnswer>),
        (status = 202, description = "Seat held until `holdExpiresAt` (`confirm`): the emailed link confirms it", body = Envelope<GuestBookingAnswer>),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 403, description = "The specialist takes bookings from accounts only (`off`)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Full, started, or this address booked it already", body = ErrorBody),
        (status = 429, description = "Too many guest bookings from the client or for the address in an hour, or 3 upcoming with this specialist; `Retry-After` says when", body = ErrorBody),
    ))]
pub(super) async fn book_as_guest(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(slot_id): Path<String>,
    ApiJson(input): ApiJson<GuestBookingRequest>,
) -> Result<Response, AppError> {
    let answer = guest_booking::book(&state, client, &slot_id, input).await?;
    Ok(match answer.state {
        GuestBookingState::Confirmed => ok(StatusCode::CREATED, Some("Booked"), answer),
        GuestBookingState::AwaitingConfirmation => {
            ok(StatusCode::ACCEPTED, Some(GUEST_HOLD_SENT), answer)
        }
    })
}

#[utoipa::path(operation_id = "getManagedBooking", get, path = "/api/manage/{token}", tag = "Guest bookings",
    params(("token" = String, Path, description = "The token of the manage link emailed to the booking's customer")),
    responses(
        (status = 200, description = "The booking as its customer sees it", body = Envelope<ManagedAppointment>),
        (status = 404, description = "Not a valid link", body = ErrorBody),
        (status = 410, description = "More than 30 days after the appointment", body = ErrorBody),
    ))]
pub(super) async fn managed(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    Ok(ok(
        StatusCode::OK,
        None,
        manage::view(&state, &token).await?,
    ))
}

#[utoipa::path(operation_id = "confirmGuestBooking", post, path = "/api/manage/{token}/confirm", tag = "Guest bookings",
    params(("token" = String, Path)),
    responses(
        (status = 200, description = "The booking counts (confirming again changes nothing)", body = Envelope<ManagedAppointment>),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Cancelled or moved", body = ErrorBody),
        (status = 410, description = "The hold's time is up, or the link expired", body = ErrorBody),
    ))]
pub(super) async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let view = manage::confirm(&state, &token).await?;
    Ok(ok(StatusCode::OK, Some("Booking confirmed"), view))
}

#[utoipa::path(operation_id = "cancelManagedBooking", post, path = "/api/manage/{token}/cancel", tag = "Guest bookings",
    request_body = CancelRequest, params(("token" = String, Path)),
    responses(
        (status = 200, body = Envelope<BookingView>),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 409, description = "Already cancelled, or inside the cutoff", body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody),
    ))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(input): ApiJson<CancelRequest>,
) -> Result<Response, AppError> {
    let booking = manage::cancel(&state, &token, input.reason.as_deref()).await?;
    Ok(ok(StatusCode::OK, Some("Booking cancelled"), booking))
}

#[utoipa::path(operation_id = "managedRescheduleOptions", get, path = "/api/manage/{token}/reschedule-options", tag = "Guest bookings",
    params(("token" = String, Path)),
    responses(
        (status = 200, description = "The same specialist's sessions with a seat free", body = Envelope<Vec<SlotView>>),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody),
    ))]
pub(super) async fn options(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let slots = manage::reschedule_options(&state, &token).await?;
    Ok(ok(StatusCode::OK, None, slots))
}

#[utoipa::path(operation_id = "rescheduleManagedBooking", post, path = "/api/manage/{token}/reschedule", tag = "Guest bookings",
    request_body = RescheduleRequest, params(("token" = String, Path)),
    responses(
        (status = 200, description = "Moved; the same link now leads to the new booking", body = Envelope<BookingConfirmation>),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 409, description = "Full, inside the cutoff, or a hold not confirmed yet", body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody),
    ))]
pub(super) async fn reschedule(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(input): ApiJson<RescheduleRequest>,
) -> Result<Response, AppError> {
    let moved = manage::reschedule(&state, &token, &input.to_slot_id).await?;
    Ok(ok(StatusCode::OK, Some("Booking moved"), moved))
}
