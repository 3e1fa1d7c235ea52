//! Specialists publish, edit and delete slots; anyone browses the future ones.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::model::{Role, SlotPage, SlotView};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::{new_key, run, with_conflict_retry, Attempt, DbError};
use crate::server::mail::templates;
use crate::server::mail::{outbox, OutgoingEmail};
use crate::server::repo::bookings;
use crate::server::repo::slots::{self, BrowseFilter, NewSlot, SlotRow};
use crate::server::repo::users;

use super::accounts::validate_timezone;
use super::{require_role, unexpected};

pub const PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotInput {
    pub date: Option<String>,
    pub start_time: Option<String>,
    pub duration: Option<i64>,
    pub capacity: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub timezone: Option<String>,
}

fn require_specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    require_role(
        caller,
        Role::Specialist,
        "Only specialists can manage consulting slots.",
    )
}

fn parse_date(raw: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("date must be a calendar date as YYYY-MM-DD"))
}

fn parse_time(raw: &str) -> AppResult<NaiveTime> {
    let raw = raw.trim();
    if raw.len() != 5 {
        return Err(AppError::bad_request("startTime must be a time as HH:MM"));
    }
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| AppError::bad_request("startTime must be a time as HH:MM"))
}

fn check_duration(d: i64) -> AppResult<u32> {
    if (15..=240).contains(&d) {
        Ok(d as u32)
    } else {
        Err(AppError::bad_request(
            "duration must be between 15 and 240 minutes",
        ))
    }
}

fn check_capacity(c: i64) -> AppResult<u32> {
    if (1..=100).contains(&c) {
        Ok(c as u32)
    } else {
        Err(AppError::bad_request("capacity must be between 1 and 100"))
    }
}

fn check_title(t: &str) -> AppResult<String> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 120 || t.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "title is required (at most 120 characters, one line)",
        ));
    }
    Ok(t.to_string())
}

fn check_description(d: Option<&str>) -> AppResult<Option<String>> {
    match d.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > 2000 => Err(AppError::bad_request(
            "description must be at most 2000 characters",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

/// The instant a local date and time in `tz` denote; a time skipped by a clock change is an error.
pub fn local_to_utc(date: NaiveDate, time: NaiveTime, tz: &str) -> AppResult<DateTime<Utc>> {
    let zone: chrono_tz::Tz = tz
        .parse()
        .map_err(|_| AppError::bad_request("timezone must be an IANA time zone"))?;
    zone.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            AppError::bad_request(
                "startTime does not exist on that date in that time zone (the clocks change)",
            )
        })
}

pub async fn create(
    state: &AppState,
    caller: Option<&Caller>,
    input: SlotInput,
) -> AppResult<SlotView> {
    let caller = require_specialist(caller)?;
    let date = parse_date(
        input
            .date
            .as_deref()
            .ok_or_else(|| AppError::bad_request("date is required"))?,
    )?;
    let time = parse_time(
        input
            .start_time
            .as_deref()
            .ok_or_else(|| AppError::bad_request("startTime is required"))?,
    )?;
    let duration = check_duration(
        input
            .duration
            .ok_or_else(|| AppError::bad_request("duration is required"))?,
    )?;
    let capacity = check_capacity(
        input
            .capacity
            .ok_or_else(|| AppError::bad_request("capacity is required"))?,
    )?;
    let title = check_title(input.title.as_deref().unwrap_or(""))?;
    let description = check_description(input.description.as_deref())?;
    let specialist = users::by_id(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading a user"))?
        .ok_or_else(AppError::login_required)?;
    let timezone =
        validate_timezone(input.timezone.as_deref(), "timezone")?.unwrap_or(specialist.timezone);
    let starts_at = local_to_utc(date, time, &timezone)?;
    if starts_at <= Utc::now() {
        return Err(AppError::bad_request(
            "date and startTime must be in the future",
        ));
    }
    let id = new_key();
    let row = slots::create(
        &state.db,
        NewSlot {
            id: &id,
            specialist: &caller.user_id,
            title: &title,
            description: description.as_deref(),
            date: &date.format("%Y-%m-%d").to_string(),
            start_time: &time.format("%H:%M").to_string(),
            timezone: &timezone,
            starts_at,
            duration,
            capacity,
        },
    )
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

const CAPACITY_BELOW_BOOKED: &str = "capacity-below-booked";
const HAS_BOOKINGS: &str = "slot-has-bookings";

/// The slot's fields after applying a PATCH, validated.
struct SlotChange {
    date: NaiveDate,
    time: NaiveTime,
    timezone: String,
    starts_at: DateTime<Utc>,
    duration: u32,
    capacity: u32,
    title: String,
    description: Option<String>,
    time_changed: bool,
}

fn apply_change(slot: &SlotRow, input: &SlotInput) -> AppResult<SlotChange> {
    let date = parse_date(input.date.as_deref().unwrap_or(&slot.date))?;
    let time = parse_time(input.start_time.as_deref().unwrap_or(&slot.start_time))?;
    let timezone =
        validate_timezone(input.timezone.as_deref(), "timezone")?.unwrap_or(slot.timezone.clone());
    let duration = input
        .duration
        .map(check_duration)
        .transpose()?
        .unwrap_or(slot.duration);
    let capacity = input
        .capacity
        .map(check_capacity)
        .transpose()?
        .unwrap_or(slot.capacity);
    let title = match input.title.as_deref() {
        Some(t) => check_title(t)?,
        None => slot.title.clone(),
    };
    let description = match input.description.as_deref() {
        Some(d) => check_description(Some(d))?,
        None => slot.description.clone(),
    };
    let starts_at = local_to_utc(date, time, &timezone)?;
    let time_changed = starts_at != slot.starts_at || duration != slot.duration;
    if time_changed && starts_at <= Utc::now() {
        return Err(AppError::bad_request(
            "date and startTime must be in the future",
        ));
    }
    Ok(SlotChange {
        date,
        time,
        timezone,
        starts_at,
        duration,
        capacity,
        title,
        description,
        time_changed,
    })
}

/// An updated invite for every active booking, when the time moves.
async fn reschedule_emails(
    state: &AppState,
    slot: &SlotRow,
    change: &SlotChange,
    version: u32,
) -> AppResult<Vec<OutgoingEmail>> {
    if !change.time_changed || slot.next_index == 0 {
        return Ok(Vec::new());
    }
    let bookings = bookings::of_slot(&state.db, &slot.id)
        .await
        .map_err(unexpected("reading bookings"))?;
    let mut emails = Vec::new();
    for b in bookings.iter().filter(|b| b.status == "active") {
        let customer = users::by_id(&state.db, &b.customer)
            .await
            .map_err(unexpected("reading a user"))?;
        let a = templates::Appointment {
            booking_id: b.id.clone(),
            slot_title: change.title.clone(),
            starts_at: change.starts_at,
            duration_minutes: change.duration,
            schedule_version: version,
            specialist_name: slot.specialist_name.clone(),
            specialist_email: slot.specialist_email.clone(),
            specialist_timezone: slot.specialist_timezone.clone(),
            customer_name: b.customer_name.clone(),
            customer_email: b.customer_email.clone(),
            customer_timezone: customer
                .map(|c| c.timezone)
                .unwrap_or_else(|| change.timezone.clone()),
        };
        emails.push(templates::rescheduled(&a));
    }
    Ok(emails)
}

const SLOT_CHANGED: &str = "slot-changed-meanwhile";

pub async fn update(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    input: SlotInput,
) -> AppResult<SlotView> {
    let caller = require_specialist(caller)?;
    // The change, its emails and the write are redone from a fresh read when a booking (or
    // another edit) lands in between, so every customer booked at commit time is re-notified.
    let outcome = with_conflict_retry(|| async {
        let slot = owned_slot(state, caller, slot_id).await.map_err(Attempt::Refused)?;
        let change = apply_change(&slot, &input).map_err(Attempt::Refused)?;
        let version = slot.schedule_version + u32::from(change.time_changed);
        let emails = reschedule_emails(state, &slot, &change, version).await.map_err(Attempt::Refused)?;
        let sql = format!(
            "BEGIN TRANSACTION;
            LET $s = (SELECT booked, next_index, schedule_version FROM type::record('slot', $id))[0];
            IF $s = NONE OR $s.next_index != $old_next_index OR $s.schedule_version != $old_version {{
                THROW '{SLOT_CHANGED}';
            }};
            IF $s.booked > $capacity {{ THROW '{CAPACITY_BELOW_BOOKED}'; }};
            UPDATE type::record('slot', $id) SET
                date = $date, start_time = $start_time, timezone = $timezone,
                starts_at = type::datetime($starts_at), duration = $duration, capacity = $capacity,
                title = $title, description = $description, schedule_version = $version;
            {queue}
            COMMIT TRANSACTION;",
            queue = outbox::queue_statement("emails")
        );
        let vars = json!({
            "id": slot_id, "date": change.date.format("%Y-%m-%d").to_string(),
            "start_time": change.time.format("%H:%M").to_string(), "timezone": change.timezone,
            "starts_at": change.starts_at.to_rfc3339(), "duration": change.duration, "capacity": change.capacity,
            "title": change.title, "description": change.description, "version": version,
            "old_version": slot.schedule_version, "old_next_index": slot.next_index,
            "emails": outbox::bind_emails(&emails),
        });
        match run(&state.db, &sql, vars).await {
            Ok(_) => Ok(()),
            Err(DbError::Thrown(m)) if m.contains(SLOT_CHANGED) => Err(Attempt::Db(DbError::Conflict)),
            Err(DbError::Thrown(m)) if m.contains(CAPACITY_BELOW_BOOKED) => Err(Attempt::Refused(AppError::bad_request(
                format!("capacity cannot be below the {} seats already booked", slot.booked),
            ))),
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
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $slot = type::record('slot', $id);
        IF array::len((SELECT id FROM booking WHERE slot = $slot AND status = 'active')) > 0 {{ THROW '{HAS_BOOKINGS}'; }};
        LET $gone = (DELETE $slot WHERE booked = 0 RETURN BEFORE);
        IF array::len($gone) = 0 {{ THROW '{HAS_BOOKINGS}'; }};
        COMMIT TRANSACTION;"
    );
    match with_conflict_retry(|| run(&state.db, &sql, json!({ "id": slot_id }))).await {
        Ok(_) => Ok(()),
        Err(DbError::Thrown(m)) if m.contains(HAS_BOOKINGS) => Err(AppError::conflict(
            "This slot has bookings and cannot be deleted",
        )),
        Err(e) => Err(unexpected("deleting a slot")(e)),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseQuery {
    pub specialist_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
}

fn parse_bound(raw: Option<&str>, field: &str) -> AppResult<Option<DateTime<Utc>>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
        .map_err(|_| {
            AppError::bad_request(format!(
                "{field} must be a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

pub async fn browse(state: &AppState, q: BrowseQuery) -> AppResult<SlotPage> {
    let page = match q.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| AppError::bad_request("page must be a whole number from 1"))?,
    };
    let specialist = q.specialist_id.filter(|s| !s.is_empty());
    if let Some(s) = &specialist {
        if !crate::server::db::is_valid_key(s) {
            return Err(AppError::bad_request("specialistId is not a valid id"));
        }
    }
    let filter = BrowseFilter {
        specialist,
        from: parse_bound(q.from.as_deref(), "from")?,
        to: parse_bound(q.to.as_deref(), "to")?,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE + 1,
    };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_convert_through_the_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let t = NaiveTime::from_hms_opt(14, 0, 0).unwrap();
        assert_eq!(
            local_to_utc(d, t, "Europe/Berlin").unwrap().to_rfc3339(),
            "2026-07-01T12:00:00+00:00"
        );
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_refused() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let t = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let err = local_to_utc(d, t, "Europe/Berlin").unwrap_err();
        assert!(err.message.contains("startTime"));
    }

    #[test]
    fn field_checks_name_the_field() {
        assert!(parse_date("2026-02-30")
            .unwrap_err()
            .message
            .starts_with("date"));
        assert!(parse_time("25:00")
            .unwrap_err()
            .message
            .starts_with("startTime"));
        assert!(parse_time("9:00").is_err());
        assert!(check_duration(14)
            .unwrap_err()
            .message
            .starts_with("duration"));
        assert!(check_duration(241).is_err());
        assert!(check_capacity(0)
            .unwrap_err()
            .message
            .starts_with("capacity"));
        assert!(check_capacity(101).is_err());
        assert!(check_title("  ").unwrap_err().message.starts_with("title"));
    }
}
