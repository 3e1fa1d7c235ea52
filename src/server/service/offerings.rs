//! Offerings: a specialist states once what they offer and when they work; the sessions
//! customers book are made from that, by a job, as slots of the usual kind (so booking, seats,
//! waitlist, Zoom and reminders work on them unchanged).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::error::{AppError, AppResult};
use crate::model::{OfferingInput, OfferingView, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::new_key;
use crate::server::domain::availability::{Availability, Taken};
use crate::server::domain::{Capacity, Description, Duration as SessionLength, SlotTitle};
use crate::server::repo::busy_calendars;
use crate::server::repo::offerings::{self, OfferingFields, OfferingRow, Session};
use crate::server::repo::slot_row::SlotFields;

use super::{require_role, unexpected};

pub const NOT_FOUND: &str = "Offering not found";

fn specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    require_role(
        caller,
        Role::Specialist,
        "Only specialists can manage offerings.",
    )
}

/// An offering's fields, checked, with its schedule.
fn checked(input: &OfferingInput) -> AppResult<(OfferingFields, Availability)> {
    let title = SlotTitle::parse(&input.title, "title")?;
    let description = Description::parse(input.description.as_deref(), "description")?;
    let duration = SessionLength::parse(i64::from(input.duration))?;
    let capacity = Capacity::parse(i64::from(input.capacity))?;
    let availability = Availability::from_view(&input.schedule, duration.minutes())?;
    let schedule = serde_json::to_string(&availability.view()).expect("a schedule serialises");
    Ok((
        OfferingFields {
            title: title.as_str().to_string(),
            description: description.map(|d| d.as_str().to_string()),
            duration: duration.minutes(),
            capacity: capacity.seats(),
            schedule,
            buffer_before: availability.buffer_before_minutes,
            buffer_after: availability.buffer_after_minutes,
        },
        availability,
    ))
}

fn availability_of(row: &OfferingRow) -> anyhow::Result<Availability> {
    let view = serde_json::from_str(&row.schedule)?;
    Availability::from_view(&view, row.duration).map_err(|e| {
        anyhow::anyhow!(
            "offering {}: a stored schedule no longer reads: {}",
            row.id,
            e.message
        )
    })
}

pub async fn create(
    state: &AppState,
    caller: Option<&Caller>,
    input: OfferingInput,
) -> AppResult<OfferingView> {
    let caller = specialist(caller)?;
    let (fields, _) = checked(&input)?;
    let row = offerings::create(&state.db, &new_key(), &caller.user_id, &fields)
        .await
        .map_err(unexpected("saving an offering"))?
        .ok_or_else(|| {
            AppError::conflict(format!(
                "A specialist can have at most {} offerings: remove one first",
                offerings::MAX_PER_SPECIALIST
            ))
        })?;
    view(state, &row, &siblings_of(state, &row).await?).await
}

pub async fn update(
    state: &AppState,
    caller: Option<&Caller>,
    id: &str,
    input: OfferingInput,
) -> AppResult<OfferingView> {
    let caller = specialist(caller)?;
    let (fields, _) = checked(&input)?;
    let row = offerings::update(&state.db, id, &caller.user_id, &fields)
        .await
        .map_err(unexpected("saving an offering"))?
        .ok_or_else(|| AppError::not_found(NOT_FOUND))?;
    view(state, &row, &siblings_of(state, &row).await?).await
}

pub async fn remove(state: &AppState, caller: Option<&Caller>, id: &str) -> AppResult<()> {
    let caller = specialist(caller)?;
    offerings::delete(&state.db, id, &caller.user_id)
        .await
        .map_err(unexpected("removing an offering"))?
        .then_some(())
        .ok_or_else(|| AppError::not_found(NOT_FOUND))
}

pub async fn mine(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<OfferingView>> {
    let caller = specialist(caller)?;
    let rows = offerings::of_specialist(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("listing offerings"))?;
    let mut views = Vec::with_capacity(rows.len());
    for row in &rows {
        views.push(view(state, row, &rows).await?);
    }
    Ok(views)
}

pub async fn one(state: &AppState, caller: Option<&Caller>, id: &str) -> AppResult<OfferingView> {
    let caller = specialist(caller)?;
    let row = offerings::by_id(&state.db, id)
        .await
        .map_err(unexpected("reading an offering"))?
        .filter(|row| row.specialist == caller.user_id)
        .ok_or_else(|| AppError::not_found(NOT_FOUND))?;
    view(state, &row, &siblings_of(state, &row).await?).await
}

/// The specialist's offerings, `row`'s siblings (whose buffers its sessions keep clear of).
async fn siblings_of(state: &AppState, row: &OfferingRow) -> AppResult<Vec<OfferingRow>> {
    offerings::of_specialist(&state.db, &row.specialist)
        .await
        .map_err(unexpected("reading the specialist's offerings"))
}

/// The offering with the booked sessions its hours no longer cover; `siblings` are the
/// specialist's offerings.
async fn view(
    state: &AppState,
    row: &OfferingRow,
    siblings: &[OfferingRow],
) -> AppResult<OfferingView> {
    let availability = availability_of(row).map_err(|e| {
        tracing::error!(error = %e, "reading an offering");
        AppError::new(500, "Something went wrong on our side. Please try again.")
    })?;
    let booked = offerings::booked_sessions(&state.db, &row.id)
        .await
        .map_err(unexpected("reading an offering's sessions"))?;
    let plan = plan(state, row, &availability, siblings)
        .await
        .map_err(unexpected("reading the specialist's sessions"))?;
    let outside_hours = booked
        .iter()
        .filter(|slot| {
            !plan.fitting.contains(&slot.fields.starts_at) || slot.fields.duration != row.duration
        })
        .map(|slot| slot.view())
        .collect();
    Ok(OfferingView {
        id: row.id.clone(),
        title: row.title.clone(),
        description: row.description.clone(),
        duration: row.duration,
        capacity: row.capacity,
        schedule: availability.view(),
        outside_hours,
    })
}

/// What the schedule asks for now.
struct Plan {
    /// The starts to have (sessions to make where missing).
    wanted: Vec<DateTime<Utc>>,
    /// The starts the schedule allows beside the specialist's other sessions: a booked session
    /// of this offering at one of them still fits.
    fitting: BTreeSet<DateTime<Utc>>,
    /// This offering's future sessions nobody ever booked, by start.
    unbooked: HashMap<DateTime<Utc>, Session>,
}

/// The starts the schedule asks for, around the specialist's other sessions (each with its
/// own offering's buffers) and this offering's booked ones.
async fn plan(
    state: &AppState,
    row: &OfferingRow,
    availability: &Availability,
    siblings: &[OfferingRow],
) -> Result<Plan, crate::server::db::DbError> {
    let now = Utc::now();
    let horizon = now + Duration::days(i64::from(availability.window_days));
    let sessions = offerings::sessions_between(
        &state.db,
        &row.specialist,
        now - Duration::days(1),
        horizon + Duration::days(1),
    )
    .await?;
    let buffers = buffers_of(siblings);
    let span = |s: &Session| {
        let (before, after) = s
            .offering
            .as_ref()
            .and_then(|o| buffers.get(o))
            .copied()
            .unwrap_or((0, 0));
        Taken {
            start: s.starts_at - Duration::minutes(i64::from(before)),
            end: s.starts_at + Duration::minutes(i64::from(s.duration + after)),
        }
    };
    let ours = |s: &Session| s.offering.as_deref() == Some(row.id.as_str());
    let mut others: Vec<Taken> = sessions.iter().filter(|s| !ours(s)).map(span).collect();
    // Busy times from the specialist's own calendars.
    let busy = busy_calendars::busy_of(
        &state.db,
        &row.specialist,
        now - Duration::days(1),
        horizon + Duration::days(1),
    )
    .await?;
    others.extend(busy.iter().map(|b| Taken {
        start: b.start,
        end: b.end,
    }));
    let fitting: BTreeSet<_> = availability.starts(now, &others).into_iter().collect();
    let mut taken = others;
    taken.extend(
        sessions
            .iter()
            .filter(|s| ours(s) && s.ever_booked)
            .map(span),
    );
    Ok(Plan {
        wanted: availability.starts(now, &taken),
        fitting,
        unbooked: sessions
            .iter()
            .filter(|s| ours(s) && !s.ever_booked && s.starts_at > now)
            .map(|s| (s.starts_at, s.clone()))
            .collect(),
    })
}

/// Each offering's buffers before and after its sessions, by offering.
fn buffers_of(offerings: &[OfferingRow]) -> HashMap<String, (u32, u32)> {
    offerings
        .iter()
        .filter_map(|row| {
            let a = availability_of(row).ok()?;
            Some((
                row.id.clone(),
                (a.buffer_before_minutes, a.buffer_after_minutes),
            ))
        })
        .collect()
}

/// The job: makes the offering's sessions what its schedule says up to its booking window.
/// Sessions nobody booked that the schedule no longer wants go; booked ones stay (the
/// offering's page lists those outside its hours).
pub async fn make_sessions(state: &AppState, offering_id: &str) -> anyhow::Result<()> {
    let Some(row) = offerings::by_id(&state.db, offering_id).await? else {
        return Ok(());
    };
    let availability = availability_of(&row)?;
    let siblings = offerings::of_specialist(&state.db, &row.specialist).await?;
    let mut plan = plan(state, &row, &availability, &siblings).await?;
    let mut new = Vec::new();
    for start in &plan.wanted {
        let id = offerings::session_key(&row.id, *start);
        let fields = session_fields(&row, &availability, *start);
        let unchanged = plan.unbooked.get(start).is_some_and(|s| {
            s.id == id
                && s.title == fields.title
                && s.description == fields.description
                && s.duration == fields.duration
                && s.capacity == fields.capacity
        });
        if unchanged {
            plan.unbooked.remove(start);
        } else {
            new.push((id, fields));
        }
    }
    // Left over: sessions nobody booked that the schedule no longer wants, or with fields it
    // no longer has (made again, under the same key, in the same transaction).
    let stale: Vec<String> = plan.unbooked.into_values().map(|s| s.id).collect();
    offerings::remake_sessions(&state.db, &row.id, &row.specialist, &stale, &new).await?;
    if !new.is_empty() || !stale.is_empty() {
        tracing::info!(offering = %row.id, made = new.len(), removed = stale.len(), "offering sessions made");
    }
    Ok(())
}

fn session_fields(
    row: &OfferingRow,
    availability: &Availability,
    start: DateTime<Utc>,
) -> SlotFields {
    let local = start.with_timezone(&availability.zone);
    SlotFields {
        title: row.title.clone(),
        description: row.description.clone(),
        date: local.format("%Y-%m-%d").to_string(),
        start_time: local.format("%H:%M").to_string(),
        timezone: availability.zone.name().to_string(),
        starts_at: start,
        duration: row.duration,
        capacity: row.capacity,
    }
}
