use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{BookingConfirmation, SlotPage, SlotView};

#[server(endpoint = "browse_slots")]
pub async fn browse_slots(page: u32) -> Result<SlotPage, AppError> {
    crate::server::app_state::respond(
        async move {
            use crate::server::{app_state, service::slots};
            let (state, _) = app_state::context().await?;
            slots::browse(
                &state,
                slots::BrowseQuery {
                    page: Some(page.max(1).to_string()),
                    ..Default::default()
                },
            )
            .await
        }
        .await,
    )
}

#[server(endpoint = "my_slots")]
pub async fn my_slots() -> Result<Vec<SlotView>, AppError> {
    crate::server::app_state::respond(
        async move {
            use crate::server::{app_state, service::slots};
            let (state, caller) = app_state::context().await?;
            slots::mine(&state, caller.as_ref()).await
        }
        .await,
    )
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
    crate::server::app_state::respond(
        async move {
            use crate::server::{app_state, service::slots};
            let (state, caller) = app_state::context().await?;
            let input = slots::SlotInput {
                date: Some(date),
                start_time: Some(start_time),
                duration: Some(duration),
                capacity: Some(capacity),
                title: Some(title),
                description,
                timezone,
            };
            slots::create(&state, caller.as_ref(), input).await
        }
        .await,
    )
}

#[server(endpoint = "delete_slot")]
pub async fn delete_slot(slot_id: String) -> Result<(), AppError> {
    crate::server::app_state::respond(
        async move {
            use crate::server::{app_state, service::slots};
            let (state, caller) = app_state::context().await?;
            slots::delete(&state, caller.as_ref(), &slot_id).await
        }
        .await,
    )
}

#[server(endpoint = "book_slot")]
pub async fn book_slot(
    slot_id: String,
    additional_notes: Option<String>,
) -> Result<BookingConfirmation, AppError> {
    crate::server::app_state::respond(
        async move {
            use crate::server::{app_state, service::booking};
            let (state, caller) = app_state::context().await?;
            let request = booking::BookingRequest {
                customer_name: None,
                additional_notes,
            };
            let confirmation =
                booking::book_slot(&state, caller.as_ref(), &slot_id, request).await?;
            // A plain form post (no wasm) lands on the new appointment's page.
            let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
            let wants_html = headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            if wants_html {
                leptos_axum::redirect(&format!(
                    "/appointments/{}/{}?booked=1",
                    confirmation.slot_id, confirmation.booking_index
                ));
            }
            Ok(confirmation)
        }
        .await,
    )
}
