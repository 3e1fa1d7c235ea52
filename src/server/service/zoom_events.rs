//! What Zoom tells us by webhook: each delivery is stored once and answered at once, then
//! applied by a job (attendance, the meeting's end, a meeting deleted or moved in Zoom). Zoom's
//! report of past participants fills in what the webhooks missed.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::model::{BookingStatus, ZoomChange};
use crate::server::app_state::AppState;
use crate::server::domain::attendance::{Point, PointKind, Role};
use crate::server::jobs::{keys, AttendanceCheck, NewJob};
use crate::server::mail::templates::{self, Appointment};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::bookings::{self, BookingRow};
use crate::server::repo::slots::{self, SlotRow};
use crate::server::repo::zoom_events::{self, Stored};
use crate::server::repo::{attendance, jobs, recurring, users};
use crate::server::zoom::webhook::{self, Event};

use super::unexpected;

/// What a verified delivery gets back.
pub enum Received {
    /// The answer to Zoom's URL validation.
    Validation(Value),
    Stored,
    Duplicate,
}

/// Handles a delivery whose signature was verified: the URL validation is answered; any
/// other event is stored with the job that applies it (once, however often it arrives).
pub async fn receive(state: &AppState, secret: &str, body: &[u8]) -> AppResult<Received> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| AppError::bad_request("The body is not JSON"))?;
    let (name, event) =
        Event::read(&json).ok_or_else(|| AppError::bad_request("The body names no event"))?;
    if name == "endpoint.url_validation" {
        let plain = json
            .pointer("/payload/plainToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::bad_request("payload.plainToken is missing"))?;
        return Ok(Received::Validation(webhook::url_validation_answer(
            secret, plain,
        )));
    }
    let hash = webhook::body_hash(body);
    let key = event.business_key(&name, &hash);
    let text = String::from_utf8_lossy(body);
    let stored = zoom_events::store(&state.db, &hash, &name, &key, &text)
        .await
        .map_err(unexpected("storing a Zoom webhook delivery"))?;
    crate::server::telemetry::zoom_webhook(&name, stored == Stored::New);
    Ok(match stored {
        Stored::New => Received::Stored,
        Stored::Duplicate => Received::Duplicate,
    })
}

/// The job of a stored delivery.
pub async fn apply(state: &AppState, event_id: &str) -> anyhow::Result<()> {
    let Some(stored) = zoom_events::by_id(&state.db, event_id).await? else {
        return Ok(());
    };
    let body: Value = serde_json::from_str(&stored.body).context("stored webhook body")?;
    let Some((_, event)) = Event::read(&body) else {
        return Ok(());
    };
    match event {
        Event::ParticipantJoined {
            meeting_id,
            host_id,
            participant,
            at,
        }
        | Event::ParticipantLeft {
            meeting_id,
            host_id,
            participant,
            at,
        } => {
            let kind = if stored.event == "meeting.participant_joined" {
                PointKind::Join
            } else {
                PointKind::Leave
            };
            let Some((slot, booking)) = booking_of(state, &meeting_id, Some(at)).await? else {
                return Ok(());
            };
            let hosts = host_identities(state, &slot, &booking, host_id).await?;
            let point = Point {
                role: role_of(
                    &hosts,
                    &booking,
                    participant.user_id.as_deref(),
                    participant.email.as_deref(),
                ),
                participant: participant.key,
                kind,
                at,
            };
            record(state, &slot, &booking, &meeting_id, &[point]).await
        }
        Event::Ended {
            meeting_id,
            uuid,
            at,
        } => {
            let Some((slot, booking)) = booking_of(state, &meeting_id, Some(at)).await? else {
                return Ok(());
            };
            let end = Point {
                role: Role::Meeting,
                participant: String::new(),
                kind: PointKind::End,
                at,
            };
            record(state, &slot, &booking, &meeting_id, &[end]).await?;
            // Zoom's report of the instance, for joins and leaves the webhooks missed.
            let check = AttendanceCheck {
                booking_id: booking.id.clone(),
                meeting_id,
                uuid: Some(uuid.clone()),
            };
            let delay = u64::from(state.config.zoom.attendance_check_minutes) * 60;
            let occasion = format!("ended:{}", webhook::body_hash(uuid.as_bytes()));
            jobs::queue(
                &state.db,
                &[NewJob::attendance_check(&check, &occasion, delay)],
            )
            .await?;
            Ok(())
        }
        Event::Deleted { meeting_id } => deleted_in_zoom(state, &meeting_id).await,
        Event::Updated {
            meeting_id,
            start_time,
            duration,
            changed_at,
        } => updated_in_zoom(state, &meeting_id, start_time, duration, changed_at).await,
        Event::RecordingCompleted {
            meeting_id,
            uuid,
            files,
            download_token,
            sent_at,
        } => {
            super::recordings::on_completed(
                state,
                &meeting_id,
                &uuid,
                &files,
                download_token.as_deref(),
                sent_at,
            )
            .await
        }
        Event::Other => Ok(()),
    }
}

/// The booking holding Zoom's meeting `meeting_id`, with its slot; `None` for a meeting that
/// is not one of ours. A regular customer's recurring meeting is held by several bookings: the
/// event belongs to the active one whose slot starts nearest to `at`.
async fn booking_of(
    state: &AppState,
    meeting_id: &str,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<(SlotRow, BookingRow)>> {
    Ok(holders_of(state, meeting_id)
        .await?
        .into_iter()
        .min_by_key(|(slot, _)| at.map_or(0, |t| (slot.fields.starts_at - t).num_seconds().abs())))
}

/// Every booking holding the meeting, with its slot: the active ones, or when none is active
/// the first of the others.
async fn holders_of(
    state: &AppState,
    meeting_id: &str,
) -> anyhow::Result<Vec<(SlotRow, BookingRow)>> {
    let all = bookings::by_meeting(&state.db, meeting_id).await?;
    let any_active = all.iter().any(|b| b.status == BookingStatus::Active);
    let mut holders = Vec::new();
    for booking in all {
        if any_active && booking.status != BookingStatus::Active {
            continue;
        }
        if let Some(slot) = slots::by_id(&state.db, &booking.slot).await? {
            holders.push((slot, booking));
        }
        if !any_active {
            break;
        }
    }
    Ok(holders)
}

/// How the host shows up in Zoom's reports: the meeting's host id, and the addresses a
/// specialist's meetings are hosted under.
struct Hosts {
    user_id: Option<String>,
    emails: Vec<String>,
}

async fn host_identities(
    state: &AppState,
    slot: &SlotRow,
    booking: &BookingRow,
    reported_host: Option<String>,
) -> anyhow::Result<Hosts> {
    let mut emails = vec![slot.host.email.to_lowercase()];
    if let Some(user) = users::by_id(&state.db, &slot.specialist).await? {
        emails.extend(user.zoom.zoom_user.map(|u| u.to_lowercase()));
    }
    emails.extend(
        state
            .config
            .zoom
            .default_host
            .as_ref()
            .map(|h| h.to_lowercase()),
    );
    Ok(Hosts {
        user_id: booking.zoom_host_id.clone().or(reported_host),
        emails,
    })
}

/// The host is known by their Zoom user id or address; anyone else is the customer, unless
/// Zoom names them by an address that is not the customer's.
fn role_of(
    hosts: &Hosts,
    booking: &BookingRow,
    user_id: Option<&str>,
    email: Option<&str>,
) -> Role {
    let email = email.map(str::to_lowercase);
    if user_id.is_some() && user_id == hosts.user_id.as_deref() {
        return Role::Host;
    }
    match email {
        Some(e) if hosts.emails.contains(&e) => Role::Host,
        Some(e) if e != booking.customer_email.to_lowercase() => Role::Other,
        _ => Role::Customer,
    }
}

/// Records points of the booking's meeting; when the outcome becomes "attended" (also after a
/// "no show" folded before the customer's join arrived), the customer is asked for feedback,
/// once per booking.
async fn record(
    state: &AppState,
    slot: &SlotRow,
    booking: &BookingRow,
    meeting_id: &str,
    points: &[Point],
) -> anyhow::Result<()> {
    // The webhook event of a new outcome is queued with the fold that sets it.
    let recorded = |outcome: crate::model::Outcome| {
        let occasion = serde_json::to_value(outcome).unwrap_or_default();
        vec![NewJob::webhook_event(
            EventType::AttendanceRecorded,
            &slot.specialist,
            &booking.id,
            occasion.as_str().unwrap_or_default(),
            serde_json::json!({}),
        )]
    };
    let changed = attendance::record(&state.db, &booking.id, meeting_id, points, recorded).await?;
    // Asked whenever the booking is attended, not only when this fold made it so: a request
    // that failed after an earlier fold committed is made now (once per booking; review G7).
    let attended = Some(crate::model::Outcome::Attended);
    if changed == attended || booking.outcome == attended {
        super::feedback::request(state, slot, booking).await?;
    }
    Ok(())
}

/// The check queued with a meeting: its participants some minutes after its scheduled end.
pub fn scheduled_attendance_check(
    state: &AppState,
    slot: &SlotRow,
    booking_id: &str,
    meeting_id: &str,
) -> NewJob {
    let due = slot.fields.ends_at()
        + chrono::Duration::minutes(i64::from(state.config.zoom.attendance_check_minutes));
    let check = AttendanceCheck {
        booking_id: booking_id.into(),
        meeting_id: meeting_id.into(),
        uuid: None,
    };
    NewJob::attendance_check(
        &check,
        &format!("scheduled-v{}", slot.schedule_version),
        (due - Utc::now()).num_seconds().max(0) as u64,
    )
}

/// Reads a past meeting's participants from Zoom and records them. A meeting Zoom knows no
/// past instance of, past its time and with nothing reported, ended without anyone: the
/// customer did not show up.
pub async fn check_attendance(state: &AppState, check: &AttendanceCheck) -> anyhow::Result<()> {
    let Some(booking) = bookings::by_id(&state.db, &check.booking_id).await? else {
        return Ok(());
    };
    let holds = booking
        .zoom_meeting
        .as_ref()
        .is_some_and(|m| m.zoom_meeting_id == check.meeting_id);
    if !holds || booking.status != BookingStatus::Active {
        return Ok(());
    }
    let Some(slot) = slots::by_id(&state.db, &booking.slot).await? else {
        return Ok(());
    };
    if check.uuid.is_none() {
        // Moved later since it was queued: check after the new time instead.
        let again = scheduled_attendance_check(state, &slot, &booking.id, &check.meeting_id);
        if again.delay_seconds > 0 {
            jobs::queue(&state.db, &[again]).await?;
            return Ok(());
        }
    }
    let instance = check.uuid.as_deref().unwrap_or(&check.meeting_id);
    let report = tokio::time::timeout(
        state.config.zoom.attempt_deadline,
        state.zoom.past_participants(instance),
    )
    .await
    .context("Zoom did not answer in time")?
    .context("reading the meeting's participants from Zoom")?;
    let (any_reported, ended) = attendance::reported(&state.db, &booking.id).await?;
    let mut points = Vec::new();
    match report {
        Some(participants) => {
            let hosts = host_identities(state, &slot, &booking, None).await?;
            let mut last_leave = None;
            for p in participants {
                let role = role_of(&hosts, &booking, p.id.as_deref(), p.user_email.as_deref());
                let key = p
                    .user_id
                    .clone()
                    .or(p.id.clone())
                    .or(p.name.clone())
                    .unwrap_or_default();
                last_leave = last_leave.max(Some(p.leave_time));
                for (kind, at) in [
                    (PointKind::Join, p.join_time),
                    (PointKind::Leave, p.leave_time),
                ] {
                    points.push(Point {
                        role,
                        participant: key.clone(),
                        kind,
                        at,
                    });
                }
            }
            // Zoom reports only ended instances: without a webhook, its last leave is its end.
            if let (false, Some(at)) = (ended, last_leave) {
                points.push(Point {
                    role: Role::Meeting,
                    participant: String::new(),
                    kind: PointKind::End,
                    at,
                });
            }
        }
        None if any_reported && !ended => {
            anyhow::bail!("Zoom has no report of a meeting that started and has not ended yet")
        }
        None if ended => {}
        None => points.push(Point {
            role: Role::Meeting,
            participant: String::new(),
            kind: PointKind::End,
            at: slot.fields.ends_at(),
        }),
    }
    if points.is_empty() {
        return Ok(());
    }
    record(state, &slot, &booking, &check.meeting_id, &points).await
}

/// A meeting deleted in Zoom: the bookings that still hold it (our own deletions are of
/// cancelled or moved bookings' meetings; a recurring meeting is held by several) let it go
/// and the specialist is told of each.
async fn deleted_in_zoom(state: &AppState, meeting_id: &str) -> anyhow::Result<()> {
    for (slot, booking) in holders_of(state, meeting_id).await? {
        if booking.status != BookingStatus::Active {
            continue;
        }
        let email = templates::meeting_deleted_in_zoom(
            &Appointment::for_booking(&slot, &booking, &state.manage_links()),
            meeting_id,
            &format!("{}/meeting-manager", state.config.http.base_url),
        );
        let dropped = bookings::drop_deleted_meeting(
            &state.db,
            &booking.id,
            meeting_id,
            &keys::zoom_ready(&booking.id),
            &[
                NewJob::email(&email),
                NewJob::webhook_event(
                    EventType::MeetingDeleted,
                    &slot.specialist,
                    &booking.id,
                    meeting_id,
                    serde_json::json!({ "deletedMeeting": { "meetingId": meeting_id } }),
                ),
            ],
        )
        .await?;
        if dropped {
            tracing::warn!(meeting = %meeting_id, booking = %booking.id, "Zoom meeting deleted in Zoom; the specialist can create another");
        }
    }
    // A regular customer's next booking makes a new recurring meeting.
    recurring::forget(&state.db, meeting_id).await?;
    Ok(())
}

/// A meeting moved in Zoom: flagged while its time there differs from the slot's (our own
/// moves put it at the slot's time, so their echo clears the flag instead).
async fn updated_in_zoom(
    state: &AppState,
    meeting_id: &str,
    start_time: Option<DateTime<Utc>>,
    duration: Option<u32>,
    changed_at: i64,
) -> anyhow::Result<()> {
    if start_time.is_none() && duration.is_none() {
        return Ok(());
    }
    let Some((slot, booking)) = booking_of(state, meeting_id, None).await? else {
        return Ok(());
    };
    // A recurring meeting has no time of its own to fall out of step with.
    let recurring = booking
        .zoom_meeting
        .as_ref()
        .is_some_and(|m| m.is_recurring());
    if booking.status != BookingStatus::Active || recurring {
        return Ok(());
    }
    let known = booking.zoom_changed.as_ref();
    let zoom_start_time = start_time
        .or(known.map(|c| c.zoom_start_time))
        .unwrap_or(slot.fields.starts_at);
    let zoom_duration = duration
        .or(known.map(|c| c.zoom_duration))
        .unwrap_or(slot.fields.duration);
    let change = (zoom_start_time != slot.fields.starts_at
        || zoom_duration != slot.fields.duration)
        .then_some(ZoomChange {
            zoom_start_time,
            zoom_duration,
            slot_start_time: slot.fields.starts_at,
            slot_duration: slot.fields.duration,
        });
    bookings::set_zoom_change(
        &state.db,
        &booking.id,
        meeting_id,
        change.as_ref(),
        changed_at,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(customer_email: &str) -> BookingRow {
        serde_json::from_value(serde_json::json!({
            "id": "b1", "slot": "s1", "index": 0, "customer": "u1",
            "customer_email": customer_email, "customer_name": "Bob",
            "booked_at": "2026-12-01T10:00:00Z", "status": "active",
            "customer_timezone": "UTC",
        }))
        .unwrap()
    }

    #[test]
    fn the_host_is_known_by_id_or_address_and_a_stranger_by_another_address() {
        let hosts = Hosts {
            user_id: Some("H1".into()),
            emails: vec!["ann@example.com".into()],
        };
        let b = booking("Bob@Example.com");
        assert_eq!(role_of(&hosts, &b, Some("H1"), None), Role::Host);
        assert_eq!(
            role_of(&hosts, &b, None, Some("ANN@example.com")),
            Role::Host
        );
        assert_eq!(
            role_of(&hosts, &b, Some("x"), Some("bob@example.com")),
            Role::Customer
        );
        assert_eq!(role_of(&hosts, &b, None, None), Role::Customer);
        assert_eq!(
            role_of(&hosts, &b, None, Some("eve@example.com")),
            Role::Other
        );
    }
}
