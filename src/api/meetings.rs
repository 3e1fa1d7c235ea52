use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AppointmentView, CreatedMeeting, ManagedSlot, MeetingPreview, MyAppointment};

#[server(endpoint = "create_zoom_meeting")]
pub async fn create_zoom_meeting(
    slot_id: String,
    booking_index: String,
) -> Result<CreatedMeeting, AppError> {
    use crate::server::service::zoom_meeting;
    crate::api::serve::serve(|state, caller| async move {
        zoom_meeting::create_zoom_meeting_for_booking(
            &state,
            caller.as_ref(),
            &slot_id,
            &booking_index,
        )
        .await
    })
    .await
}

#[server(endpoint = "zoom_meeting_preview")]
pub async fn zoom_meeting_preview(
    slot_id: String,
    booking_index: String,
) -> Result<MeetingPreview, AppError> {
    use crate::server::service::zoom_meeting;
    crate::api::serve::serve(|state, caller| async move {
        zoom_meeting::preview(&state, caller.as_ref(), &slot_id, &booking_index).await
    })
    .await
}

#[server(endpoint = "meeting_manager")]
pub async fn meeting_manager() -> Result<Vec<ManagedSlot>, AppError> {
    use crate::server::service::appointments;
    crate::api::serve::serve(|state, caller| async move {
        appointments::meeting_manager(&state, caller.as_ref()).await
    })
    .await
}

#[server(endpoint = "appointment")]
pub async fn appointment(
    slot_id: String,
    booking_index: String,
) -> Result<AppointmentView, AppError> {
    use crate::server::service::appointments;
    crate::api::serve::serve(|state, caller| async move {
        appointments::details(&state, caller.as_ref(), &slot_id, &booking_index).await
    })
    .await
}

#[server(endpoint = "my_appointments")]
pub async fn my_appointments() -> Result<Vec<MyAppointment>, AppError> {
    use crate::server::service::appointments;
    crate::api::serve::serve(|state, caller| async move {
        appointments::mine(&state, caller.as_ref()).await
    })
    .await
}

/// How often a pending appointment page checks again, in seconds.
#[server(endpoint = "refresh_seconds")]
pub async fn refresh_seconds() -> Result<u32, AppError> {
    crate::api::serve::serve(
        |state, _| async move { Ok(state.config.http.appointment_refresh_seconds) },
    )
    .await
}

/// Cancels a booking; a plain form post (no wasm) lands back on the page it came from.
#[server(endpoint = "cancel_booking")]
pub async fn cancel_booking(
    slot_id: String,
    booking_index: String,
    reason: Option<String>,
    back_to: Option<String>,
) -> Result<crate::model::BookingView, AppError> {
    use crate::server::service::cancellation;
    crate::api::serve::serve(|state, caller| async move {
        let booking = cancellation::cancel_booking(
            &state,
            caller.as_ref(),
            &slot_id,
            &booking_index,
            reason.as_deref(),
        )
        .await?;
        if crate::api::serve::is_plain_form_post() {
            let target = back_to
                .as_deref()
                .and_then(crate::api::accounts::safe_next)
                .unwrap_or_else(|| format!("/appointments/{slot_id}/{booking_index}"));
            leptos_axum::redirect(&target);
        }
        Ok(booking)
    })
    .await
}

/// Cancels a whole slot with a reason; returns how many bookings were cancelled.
#[server(endpoint = "cancel_slot")]
pub async fn cancel_slot(slot_id: String, reason: Option<String>) -> Result<u32, AppError> {
    use crate::server::service::cancellation;
    crate::api::serve::serve(|state, caller| async move {
        let n =
            cancellation::cancel_slot(&state, caller.as_ref(), &slot_id, reason.as_deref()).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/specialist/meetings");
        }
        Ok(n)
    })
    .await
}

/// Moves a booking to another slot of the same specialist; a plain form post (no wasm)
/// lands on the new appointment's page.
#[server(endpoint = "reschedule_booking")]
pub async fn reschedule_booking(
    slot_id: String,
    booking_index: String,
    to_slot_id: String,
) -> Result<crate::model::BookingConfirmation, AppError> {
    use crate::server::service::reschedule;
    crate::api::serve::serve(|state, caller| async move {
        let moved = reschedule::reschedule(
            &state,
            caller.as_ref(),
            &slot_id,
            &booking_index,
            &to_slot_id,
        )
        .await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect(&format!(
                "/appointments/{}/{}?moved=1",
                moved.slot_id, moved.booking_index
            ));
        }
        Ok(moved)
    })
    .await
}

/// Where the customer may move this booking to.
#[server(endpoint = "reschedule_options")]
pub async fn reschedule_options(
    slot_id: String,
    booking_index: String,
) -> Result<Vec<crate::model::SlotView>, AppError> {
    use crate::server::service::appointments;
    crate::api::serve::serve(|state, caller| async move {
        appointments::reschedule_options(&state, caller.as_ref(), &slot_id, &booking_index).await
    })
    .await
}

/// Puts a meeting that was moved in Zoom back at the slot's time; a plain form post lands
/// back on the Meeting Manager.
#[server(endpoint = "put_zoom_back")]
pub async fn put_zoom_back(slot_id: String, booking_index: String) -> Result<(), AppError> {
    use crate::server::service::zoom_meeting;
    crate::api::serve::serve(|state, caller| async move {
        zoom_meeting::put_back_in_step(&state, caller.as_ref(), &slot_id, &booking_index).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/specialist/meetings");
        }
        Ok(())
    })
    .await
}
