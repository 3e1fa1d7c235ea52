//! Specialists publish, edit and delete slots; anyone browses the future ones.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{Role, SlotPage, SlotView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{is_valid_key, new_key, with_conflict_retry, Attempt, DbError};
use crate::server::domain::{
    BookingStatus, Capacity, Description, Duration, LocalStart, SlotTitle, TimeZone,
};
use crate::server::jobs::{reminders, NewJob};
use crate::server::mail::templates::{self, Appointment, MeetingDetails};
use crate::server::repo::bookings;
use crate::server::repo::slots::{
    self, BrowseFilter, HasBookings, SlotEdit, SlotEditRefusal, SlotFields, SlotRow,
};

use super::booking::follow_up_jobs;
use super::waitlist as waitlist_service;
use super::{require_role, unexpected};

pub const PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotInput {
    /// The local date in `timezone`, in the future and at most 2 years ahead.
    #[schema(format = Date, example = "2027-01-15")]
    pub date: Option<String>,
    /// The local start time, 24-hour `HH:MM`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:30")]
    pub start_time: Option<String>,
    /// Minutes.
    #[schema(minimum = 15, maximum = 240)]
    pub duration: Option<i64>,
    /// Seats.
    #[schema(minimum = 1, maximum = 100)]
    pub capacity: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// An IANA zone; the specialist's own when left out.
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
}

fn require_specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    require_role(
        caller,
        Role::Specialist,
        "Only specialists can manage consulting slots.",
    )
}

/// `field` of the input, or 400 "`field` is required".
fn required<T: Clone>(value: &Option<T>, field: &str) -> AppResult<T> {
    value
        .clone()
        .ok_or_else(|| AppError::bad_request(format!("{field} is required")))
}

/// How far ahead a slot may be published.
pub const MAX_DAYS_AHEAD: i64 = 731;

fn future_start(start: &LocalStart) -> AppResult<()> {
    let now = Utc::now();
    if start.instant <= now {
        return Err(AppError::bad_request(
            "date and startTime must be in the future",
        ));
    }
    if start.instant > now + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err(AppError::bad_request("date must be at most 2 years ahead"));
    }
    Ok(())
}

/// A slot's settings, each valid on its own.
struct ValidSlot {
    start: LocalStart,
    duration: Duration,
    capacity: Capacity,
    title: SlotTitle,
    description: Option<Description>,
}

impl ValidSlot {
    fn fields(&self) -> SlotFields {
        SlotFields {
            title: self.title.as_str().to_string(),
            description: self.description.as_ref().map(|d| d.as_str().to_string()),
            date: self.start.date_text(),
            start_time: self.start.time_text(),
            timezone: self.start.zone.name().to_string(),
            starts_at: self.start.instant,
            duration: self.duration.minutes(),
            capacity: self.capacity.seats(),
        }
    }
}

pub async fn create(
    state: &AppState,
    caller: Option<&Caller>,
    input: SlotInput,
) -> AppResult<SlotView> {
    let caller = require_specialist(caller)?;
    let date = LocalStart::parse_date(&required(&input.date, "date")?)?;
    let time = LocalStart::parse_time(&required(&input.start_time, "startTime")?)?;
    let duration = Duration::parse(required(&input.duration, "duration")?)?;
    let capacity = Capacity::parse(required(&input.capacity, "capacity")?)?;
    let title = SlotTitle::parse(input.title.as_deref().unwrap_or(""), "title")?;
    let description = Description::parse(input.description.as_deref(), "description")?;
    let zone = match TimeZone::parse_optional(input.timezone.as_deref(), "timezone")? {
        Some(zone) => zone,
        None => TimeZone::parse(&caller.timezone, "timezone")?,
    };
    let start = LocalStart::new(date, time, zone)?;
    future_start(&start)?;
    let slot = ValidSlot {
        start,
        duration,
        capacity,
        title,
        description,
    };
    let row = slots::create(&state.db, &new_key(), &caller.user_id, &slot.fields())
        .await
        .map_err(unexpected("creating a slot"))?;
    Ok(row.view())
}

pub async fn mine(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<SlotView>> {
    let caller = require_specialist(caller)?;
    let rows = slots::of_specialist(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("listing slots"))?;
    Ok(rows.iter().map(SlotRow::view).collect())
}

async fn owned_slot(state: &AppState, caller: &Caller, slot_id: &str) -> AppResult<SlotRow> {
    let slot = slots::by_id(&state.db, slot_id)
        .await
        .map_err(unexpected("reading a slot"))?
        .ok_or_else(|| AppError::not_found("Slot not found"))?;
    if slot.specialist != caller.user_id {
        return Err(AppError::forbidden(
            "Forbidden. You can only change your own slots.",
        ));
    }
    Ok(slot)
}

/// The slot after applying a PATCH, validated, and whether its time moved.
struct SlotChange {
    slot: ValidSlot,
    time_changed: bool,
}

fn apply_change(slot: &SlotRow, input: &SlotInput) -> AppResult<SlotChange> {
    let date = LocalStart::parse_date(input.date.as_deref().unwrap_or(&slot.fields.date))?;
    let time = LocalStart::parse_time(
        input
            .start_time
            .as_deref()
            .unwrap_or(&slot.fields.start_time),
    )?;
    let zone = match TimeZone::parse_optional(input.timezone.as_deref(), "timezone")? {
        Some(zone) => zone,
        None => TimeZone::parse(&slot.fields.timezone, "timezone")?,
    };
    let duration = Duration::parse(input.duration.unwrap_or(i64::from(slot.fields.duration)))?;
    let capacity = Capacity::parse(input.capacity.unwrap_or(i64::from(slot.fields.capacity)))?;
    let title = SlotTitle::parse(
        input.title.as_deref().unwrap_or(&slot.fields.title),
        "title",
    )?;
    let description = match input.description.as_deref() {
        Some(d) => Description::parse(Some(d), "description")?,
        None => Description::parse(slot.fields.description.as_deref(), "description")?,
    };
    let start = LocalStart::new(date, time, zone)?;
    let time_changed =
        start.instant != slot.fields.starts_at || duration.minutes() != slot.fields.duration;
    if time_changed {
        future_start(&start)?;
    }
    Ok(SlotChange {
        slot: ValidSlot {
            start,
            duration,
            capacity,
            title,
            description,
        },
        time_changed,
    })
}

/// When the time moves: an updated invite for every active booking, a move of each
/// booking's Zoom meeting (same link and password), and reminders at the new time; and the
/// keys of the reminders for the old time, to cancel.
async fn reschedule_jobs(
    state: &AppState,
    slot: &SlotRow,
    change: &SlotChange,
    version: u32,
) -> Result<(Vec<NewJob>, Vec<String>), DbError> {
    if !change.time_changed || slot.next_index == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let config = &state.config.http;
    let mut stale = reminders::specialist_keys(config, &slot.id, slot.schedule_version);
    let moved = SlotRow {
        fields: change.slot.fields(),
        schedule_version: version,
        ..slot.clone()
    };
    let bookings = bookings::of_slot(&state.db, &slot.id).await?;
    let mut queued = Vec::new();
    let links = state.manage_links();
    for b in bookings
        .iter()
        .filter(|b| b.status == BookingStatus::Active)
    {
        let appointment = Appointment::for_booking(&moved, b, &links);
        let meeting = b.zoom_meeting.as_ref().map(MeetingDetails::from);
        queued.push(NewJob::email(&templates::rescheduled(
            &appointment,
            meeting.as_ref(),
        )));
        if let Some(m) = &b.zoom_meeting {
            queued.push(NewJob::zoom_update(&m.zoom_meeting_id, &b.id, version));
        }
        queued.extend(follow_up_jobs(state, &moved, &b.id, meeting.is_some()));
        stale.extend(reminders::customer_keys(
            config,
            &b.id,
            slot.schedule_version,
        ));
    }
    Ok((queued, stale))
}

pub async fn update(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    input: SlotInput,
) -> AppResult<SlotView> {
    let caller = require_specialist(caller)?;
    // The change, its emails and the write are redone from a fresh read when a booking (or
    // another edit) lands in between, so every customer booked at commit time is re-notified.
    let outcome = with_conflict_retry("slot_update", || async {
        let slot = owned_slot(state, caller, slot_id)
            .await
            .map_err(Attempt::Refused)?;
        if slot.cancelled_at.is_some() {
            return Err(Attempt::Refused(AppError::conflict(
                "This slot is cancelled and can no longer be changed.",
            )));
        }
        let change = apply_change(&slot, &input).map_err(Attempt::Refused)?;
        let version = slot.schedule_version + u32::from(change.time_changed);
        let (mut jobs, stale) = reschedule_jobs(state, &slot, &change, version)
            .await
            .map_err(Attempt::Db)?;
        // Seats a larger capacity adds go to the customers waiting, in order.
        let free = change.slot.capacity.seats().saturating_sub(slot.booked);
        let edited = SlotRow {
            fields: change.slot.fields(),
            schedule_version: version,
            ..slot.clone()
        };
        let (promotions, promoted_jobs) = waitlist_service::promotions(state, &edited, free)
            .await
            .map_err(Attempt::Db)?;
        jobs.extend(promoted_jobs);
        let edit = SlotEdit {
            promotions,
            id: slot_id,
            fields: change.slot.fields(),
            schedule_version: version,
            seen_next_index: slot.next_index,
            seen_schedule_version: slot.schedule_version,
            cancel_keys: stale,
        };
        match slots::update(&state.db, &edit, &jobs).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(SlotEditRefusal::Changed)) => Err(Attempt::Db(DbError::Conflict)),
            Ok(Err(SlotEditRefusal::CapacityBelowBooked)) => {
                Err(Attempt::Refused(AppError::bad_request(format!(
                    "capacity cannot be below the {} seats already booked",
                    slot.booked
                ))))
            }
            Err(e) => Err(Attempt::Db(e)),
        }
    })
    .await;
    match outcome {
        Ok(()) => {}
        Err(Attempt::Refused(e)) => return Err(e),
        Err(Attempt::Db(e)) => return Err(unexpected("updating a slot")(e)),
    }
    let row = slots::by_id(&state.db, slot_id)
        .await
        .map_err(unexpected("reading a slot"))?
        .ok_or_else(|| AppError::not_found("Slot not found"))?;
    Ok(row.view())
}

pub async fn delete(state: &AppState, caller: Option<&Caller>, slot_id: &str) -> AppResult<()> {
    let caller = require_specialist(caller)?;
    owned_slot(state, caller, slot_id).await?;
    match with_conflict_retry("slot_delete", || slots::delete(&state.db, slot_id)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(HasBookings)) => Err(AppError::conflict(
            "This slot has bookings, cancelled ones or a waitlist, and cannot be deleted. Cancel the slot instead, with a reason for your customers.",
        )),
        Err(e) => Err(unexpected("deleting a slot")(e)),
    }
}
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct BrowseQuery {
    pub specialist_id: Option<String>,
    /// Slots starting at or after: a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
    #[param(example = "2027-01-15")]
    pub from: Option<String>,
    /// Slots starting before: a date or an RFC 3339 time.
    #[param(example = "2027-02-01T00:00:00Z")]
    pub to: Option<String>,
    /// The page number, from 1 (`hasMore` says whether a next one exists).
    pub page: Option<String>,
    /// Full slots too, with their waitlists (the browsing page shows them).
    #[serde(default)]
    pub include_full: Option<bool>,
}

fn parse_bound(raw: Option<&str>, field: &str) -> AppResult<Option<DateTime<Utc>>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bound = match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
            .map_err(|_| {
                AppError::bad_request(format!(
                    "{field} must be a date (YYYY-MM-DD) or an RFC 3339 time"
                ))
            })?,
    };
    // chrono reads years like +99999, which the database's datetimes refuse.
    if !(1970..=9999).contains(&bound.year()) {
        return Err(AppError::bad_request(format!(
            "{field} must be between the years 1970 and 9999"
        )));
    }
    Ok(Some(bound))
}

/// The deepest page anyone may ask for: each deeper one makes the database walk past every
/// earlier slot. Later slots are reached by narrowing `from`.
const MAX_BROWSE_PAGE: u32 = 100;

pub async fn browse(state: &AppState, q: BrowseQuery) -> AppResult<SlotPage> {
    let page = match q.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=MAX_BROWSE_PAGE).contains(p))
            .ok_or_else(|| {
                AppError::bad_request(format!(
                    "page must be a whole number from 1 to {MAX_BROWSE_PAGE}; narrow the dates (from, to) to see later slots"
                ))
            })?,
    };
    let specialist = q.specialist_id.filter(|s| !s.is_empty());
    if let Some(s) = &specialist {
        if !is_valid_key(s) {
            return Err(AppError::bad_request("specialistId is not a valid id"));
        }
    }
    let filter = BrowseFilter {
        specialist,
        from: parse_bound(q.from.as_deref(), "from")?,
        to: parse_bound(q.to.as_deref(), "to")?,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE + 1,
        include_full: q.include_full.unwrap_or(false),
    };
    let key = format!(
        "browse:{page}:{:?}:{:?}:{:?}:{}",
        filter.specialist, filter.from, filter.to, filter.include_full
    );
    state
        .read_cache
        .get_or_read(key, || async {
            let mut rows = slots::browse(&state.db, &filter)
                .await
                .map_err(unexpected("browsing slots"))?;
            let has_more = rows.len() > PAGE_SIZE as usize;
            rows.truncate(PAGE_SIZE as usize);
            Ok(SlotPage {
                slots: rows.iter().map(SlotRow::view).collect(),
                page,
                has_more,
            })
        })
        .await
}
