//! Server functions of the availability page: the specialist's page settings, offerings with
//! their weekly hours, and busy calendars. Its forms work without wasm: each posts here and
//! comes back to the page.

// A plain form posts one field per input: the offering's form has many.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{BusyCalendarView, MyPageView, OfferingView, PageInput};

#[cfg(feature = "ssr")]
const PAGE: &str = "/specialist/availability";

#[server(endpoint = "my_page")]
pub async fn my_page() -> Result<MyPageView, AppError> {
    use crate::server::service::pages;
    crate::api::serve::serve(
        |state, caller| async move { pages::mine(&state, caller.as_ref()).await },
    )
    .await
}

#[server(endpoint = "save_page")]
pub async fn save_page(
    handle: String,
    bio: Option<String>,
    guest_booking: Option<String>,
) -> Result<PageInput, AppError> {
    use crate::server::service::pages;
    crate::api::serve::serve(|state, caller| async move {
        let guest_booking = match guest_booking.as_deref() {
            None => None,
            Some(raw) => Some(crate::model::GuestBooking::parse(raw).ok_or_else(|| {
                AppError::bad_request("guestBooking must be off, confirm or instant")
            })?),
        };
        let input = PageInput {
            handle,
            bio,
            guest_booking,
        };
        let saved = pages::set(&state, caller.as_ref(), input).await?;
        back_to_page("page_saved");
        Ok(saved)
    })
    .await
}

#[server(endpoint = "my_offerings")]
pub async fn my_offerings() -> Result<Vec<OfferingView>, AppError> {
    use crate::server::service::offerings;
    crate::api::serve::serve(|state, caller| async move {
        offerings::mine(&state, caller.as_ref()).await
    })
    .await
}

/// An offering as the editor's form sends it: every field as typed, the weekly hours a text
/// per weekday and the overrides a line per date (`model::parse_hours_text`).
#[server(endpoint = "save_offering")]
pub async fn save_offering(
    offering_id: Option<String>,
    title: String,
    description: Option<String>,
    duration: String,
    capacity: String,
    timezone: String,
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
    overrides: Option<String>,
    interval_minutes: Option<String>,
    buffer_before_minutes: Option<String>,
    buffer_after_minutes: Option<String>,
    notice_hours: Option<String>,
    window_days: Option<String>,
) -> Result<OfferingView, AppError> {
    use crate::model::{
        parse_hours_text, parse_overrides_text, OfferingInput, ScheduleView, WeeklyHoursView,
    };
    use crate::server::service::offerings;
    crate::api::serve::serve(|state, caller| async move {
        let mut weekly = Vec::new();
        for (day, text) in [
            ("mon", mon),
            ("tue", tue),
            ("wed", wed),
            ("thu", thu),
            ("fri", fri),
            ("sat", sat),
            ("sun", sun),
        ] {
            let hours = parse_hours_text(text.as_deref().unwrap_or_default())
                .map_err(|e| AppError::bad_request(format!("{day}: {e}")))?;
            weekly.extend(hours.into_iter().map(|h| WeeklyHoursView {
                day: day.into(),
                start: h.start,
                end: h.end,
            }));
        }
        let overrides = parse_overrides_text(overrides.as_deref().unwrap_or_default())
            .map_err(|e| AppError::bad_request(format!("date overrides: {e}")))?;
        let input = OfferingInput {
            title,
            description: description.filter(|d| !d.trim().is_empty()),
            duration: whole("duration", &duration)?,
            capacity: whole("seats", &capacity)?,
            schedule: ScheduleView {
                timezone: timezone.trim().to_string(),
                weekly,
                overrides,
                interval_minutes: optional("start interval", interval_minutes)?,
                buffer_before_minutes: optional("buffer before", buffer_before_minutes)?
                    .unwrap_or(0),
                buffer_after_minutes: optional("buffer after", buffer_after_minutes)?.unwrap_or(0),
                notice_hours: optional("minimum notice", notice_hours)?.unwrap_or(0),
                window_days: optional("booking window", window_days)?,
            },
        };
        let saved = match offering_id.filter(|id| !id.is_empty()) {
            Some(id) => offerings::update(&state, caller.as_ref(), &id, input).await?,
            None => offerings::create(&state, caller.as_ref(), input).await?,
        };
        back_to_page("offering_saved");
        Ok(saved)
    })
    .await
}

#[server(endpoint = "remove_offering")]
pub async fn remove_offering(offering_id: String) -> Result<(), AppError> {
    use crate::server::service::offerings;
    crate::api::serve::serve(|state, caller| async move {
        offerings::remove(&state, caller.as_ref(), &offering_id).await?;
        back_to_page("offering_removed");
        Ok(())
    })
    .await
}

#[server(endpoint = "my_busy_calendars")]
pub async fn my_busy_calendars() -> Result<Vec<BusyCalendarView>, AppError> {
    use crate::server::service::busy_calendars;
    crate::api::serve::serve(|state, caller| async move {
        busy_calendars::list(&state, caller.as_ref()).await
    })
    .await
}

#[server(endpoint = "add_busy_calendar")]
pub async fn add_busy_calendar(
    url: String,
    label: Option<String>,
) -> Result<BusyCalendarView, AppError> {
    use crate::model::BusyCalendarInput;
    use crate::server::service::busy_calendars;
    crate::api::serve::serve(|state, caller| async move {
        let added =
            busy_calendars::add(&state, caller.as_ref(), BusyCalendarInput { url, label }).await?;
        back_to_page("calendar_added");
        Ok(added)
    })
    .await
}

#[server(endpoint = "remove_busy_calendar")]
pub async fn remove_busy_calendar(calendar_id: String) -> Result<(), AppError> {
    use crate::server::service::busy_calendars;
    crate::api::serve::serve(|state, caller| async move {
        busy_calendars::remove(&state, caller.as_ref(), &calendar_id).await?;
        back_to_page("calendar_removed");
        Ok(())
    })
    .await
}

/// A form posted without wasm goes back to the page, saying what was done.
#[cfg(feature = "ssr")]
fn back_to_page(done: &str) {
    if crate::api::serve::is_plain_form_post() {
        leptos_axum::redirect(&format!("{PAGE}?{done}=1"));
    }
}

/// A whole number the form sent, or a 400 naming the field.
#[cfg(feature = "ssr")]
fn whole(field: &str, text: &str) -> Result<u32, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::bad_request(format!("{field} must be a whole number")))
}

/// [`whole`] for a field that may be left empty.
#[cfg(feature = "ssr")]
fn optional(field: &str, text: Option<String>) -> Result<Option<u32>, AppError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => whole(field, t).map(Some),
    }
}
