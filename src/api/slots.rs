use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{BookingConfirmation, SlotPage, SlotView};

#[server(endpoint = "browse_slots")]
pub async fn browse_slots(page: u32) -> Result<SlotPage, AppError> {
    use crate::server::service::slots;
    crate::api::serve::serve(|state, _| async move {
        slots::browse(
            &state,
            slots::BrowseQuery {
                page: Some(page.max(1).to_string()),
                include_full: Some(true),
                ..Default::default()
            },
        )
        .await
    })
    .await
}

#[server(endpoint = "my_slots")]
pub async fn my_slots() -> Result<Vec<SlotView>, AppError> {
    use crate::server::service::slots;
    crate::api::serve::serve(
        |state, caller| async move { slots::mine(&state, caller.as_ref()).await },
    )
    .await
}

#[server(endpoint = "create_slot")]
pub async fn create_slot(
    date: String,
    start_time: String,
    duration: i64,
    capacity: i64,
    title: String,
    description: Option<String>,
    timezone: Option<String>,
) -> Result<SlotView, AppError> {
    use crate::server::service::slots;
    crate::api::serve::serve(|state, caller| async move {
        let input = slots::SlotInput {
            date: Some(date),
            start_time: Some(start_time),
            duration: Some(duration),
            capacity: Some(capacity),
            title: Some(title),
            description,
            timezone,
        };
        let created = slots::create(&state, caller.as_ref(), input).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/specialist/slots?published=1");
        }
        Ok(created)
    })
    .await
}

#[server(endpoint = "delete_slot")]
pub async fn delete_slot(slot_id: String) -> Result<(), AppError> {
    use crate::server::service::slots;
    crate::api::serve::serve(|state, caller| async move {
        slots::delete(&state, caller.as_ref(), &slot_id).await
    })
    .await
}

#[server(endpoint = "book_slot")]
pub async fn book_slot(
    slot_id: String,
    additional_notes: Option<String>,
) -> Result<BookingConfirmation, AppError> {
    use crate::server::service::booking;
    crate::api::serve::serve(|state, caller| async move {
        let request = booking::BookingRequest {
            customer_name: None,
            additional_notes,
        };
        let confirmation = booking::book_slot(&state, caller.as_ref(), &slot_id, request).await?;
        // A plain form post (no wasm) lands on the new appointment's page.
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect(&format!(
                "/appointments/{}/{}?booked=1",
                confirmation.slot_id, confirmation.booking_index
            ));
        }
        Ok(confirmation)
    })
    .await
}

/// Joins a full slot's waitlist; returns the place in line.
#[server(endpoint = "join_waitlist")]
pub async fn join_waitlist(slot_id: String) -> Result<u32, AppError> {
    use crate::server::service::waitlist;
    crate::api::serve::serve(|state, caller| async move {
        let position = waitlist::join(&state, caller.as_ref(), &slot_id).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/appointments");
        }
        Ok(position)
    })
    .await
}

#[server(endpoint = "leave_waitlist")]
pub async fn leave_waitlist(slot_id: String) -> Result<(), AppError> {
    use crate::server::service::waitlist;
    crate::api::serve::serve(|state, caller| async move {
        waitlist::leave(&state, caller.as_ref(), &slot_id).await?;
        if crate::api::serve::is_plain_form_post() {
            leptos_axum::redirect("/appointments");
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "my_waitlist")]
pub async fn my_waitlist() -> Result<Vec<crate::model::WaitlistPlace>, AppError> {
    use crate::server::service::waitlist;
    crate::api::serve::serve(|state, caller| async move {
        waitlist::places(&state, caller.as_ref()).await
    })
    .await
}
