//! Server functions of booking without an account and of a seat's manage link. Their forms
//! are plain (the pages a visitor opens load no wasm): each posts here and comes back to its
//! page with what happened in the address.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{GuestBookingAnswer, ManagedAppointment, SlotView};

/// A visitor books `slot_id` with a name and an email, from the page at `back` (`/slots…` or
/// `/s/<handle>…`), which the browser goes back to with `guest=held` or `guest=booked`.
#[server(endpoint = "book_as_guest")]
pub async fn book_as_guest(
    slot_id: String,
    name: String,
    email: String,
    additional_notes: Option<String>,
    back: String,
) -> Result<GuestBookingAnswer, AppError> {
    use crate::model::{GuestBookingRequest, GuestBookingState};
    use crate::server::service::guest_booking;
    crate::api::serve::serve(|state, _caller| async move {
        let request = GuestBookingRequest {
            name,
            email,
            additional_notes,
            timezone: None,
        };
        let client = crate::api::serve::client_ip();
        let answer = guest_booking::book(&state, client, &slot_id, request).await?;
        if crate::api::serve::is_plain_form_post() {
            let outcome = match answer.state {
                GuestBookingState::AwaitingConfirmation => "held",
                GuestBookingState::Confirmed => "booked",
            };
            leptos_axum::redirect(&with_query(&local_page(&back), "guest", outcome));
        }
        Ok(answer)
    })
    .await
}

#[server(endpoint = "managed_booking")]
pub async fn managed_booking(token: String) -> Result<ManagedAppointment, AppError> {
    use crate::server::service::manage;
    crate::api::serve::serve(|state, _caller| async move { manage::view(&state, &token).await })
        .await
}

#[server(endpoint = "managed_options")]
pub async fn managed_options(token: String) -> Result<Vec<SlotView>, AppError> {
    use crate::server::service::manage;
    crate::api::serve::serve(|state, _caller| async move {
        manage::reschedule_options(&state, &token).await
    })
    .await
}

#[server(endpoint = "confirm_managed")]
pub async fn confirm_managed(token: String) -> Result<(), AppError> {
    use crate::server::service::manage;
    crate::api::serve::serve(|state, _caller| async move {
        manage::confirm(&state, &token).await?;
        back_to_link(&token, "confirmed");
        Ok(())
    })
    .await
}

#[server(endpoint = "cancel_managed")]
pub async fn cancel_managed(token: String, reason: Option<String>) -> Result<(), AppError> {
    use crate::server::service::manage;
    crate::api::serve::serve(|state, _caller| async move {
        manage::cancel(&state, &token, reason.as_deref()).await?;
        back_to_link(&token, "cancelled");
        Ok(())
    })
    .await
}

#[server(endpoint = "reschedule_managed")]
pub async fn reschedule_managed(token: String, to_slot_id: String) -> Result<(), AppError> {
    use crate::server::service::manage;
    crate::api::serve::serve(|state, _caller| async move {
        manage::reschedule(&state, &token, &to_slot_id).await?;
        back_to_link(&token, "moved");
        Ok(())
    })
    .await
}

/// Back to the link's page (the token was just accepted, so it is a well-formed one).
#[cfg(feature = "ssr")]
fn back_to_link(token: &str, done: &str) {
    if crate::api::serve::is_plain_form_post() {
        leptos_axum::redirect(&format!("/manage/{token}?done={done}"));
    }
}

/// `back` when it is one of the pages a visitor books from, else `/slots`: the address comes
/// from the form, so it must not lead anywhere else.
pub fn local_page(back: &str) -> String {
    let path = back.split(['?', '#']).next().unwrap_or("");
    let allowed = path == "/slots"
        || path.strip_prefix("/s/").is_some_and(|handle| {
            !handle.is_empty()
                && handle
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    let query_ok = back
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/?&=-_.%".contains(&b));
    if allowed && query_ok {
        back.split('#').next().unwrap_or("/slots").to_string()
    } else {
        "/slots".to_string()
    }
}

/// `page` with `key=value` added to its query, and any `book=` (the open form) left out.
pub fn with_query(page: &str, key: &str, value: &str) -> String {
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("book=") && !p.starts_with(&format!("{key}=")))
        .collect();
    let added = format!("{key}={value}");
    pairs.push(&added);
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_booking_pages_are_gone_back_to() {
        assert_eq!(
            local_page("/slots?page=2&book=abc"),
            "/slots?page=2&book=abc"
        );
        assert_eq!(
            local_page("/s/maria-keller?tz=UTC"),
            "/s/maria-keller?tz=UTC"
        );
        for foreign in [
            "https://evil.test/slots",
            "//evil.test/slots",
            "/slots/../admin",
            "/s/",
            "/s/a/b",
            "/account",
            "/slots?x=\"><script>",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_page(foreign), "/slots", "{foreign}");
        }
        assert_eq!(
            with_query("/slots?page=2&book=abc", "guest", "held"),
            "/slots?page=2&guest=held"
        );
        assert_eq!(
            with_query("/s/ann", "guest", "booked"),
            "/s/ann?guest=booked"
        );
    }
}
