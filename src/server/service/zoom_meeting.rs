//! createZoomMeetingForBooking: the specialist creates a booking's Zoom meeting on demand,
//! exactly once, and the customer is emailed.

use chrono::Utc;
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::model::{BookingStatus, CreatedMeeting, CreatedMeetingBooking, MeetingPreview};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::db::DbError;
use crate::server::domain::BookingIndex;
use crate::server::jobs::{AutoCreate, NewJob};
use crate::server::mail::templates::{self, Appointment, MeetingDetails};
use crate::server::outgoing_webhooks::EventType;
use crate::server::repo::bookings::{
    self, BookingRow, MeetingToSave, SaveRefusal, StoredMeeting, ZoomClaim,
};
use crate::server::repo::slots::{self, SlotRow};
use crate::server::repo::users::{self, UserRow};
use crate::server::repo::{jobs, recurring};
use crate::server::zoom::{generate_password, MeetingRequest, ZoomError, ZoomMeeting};

pub const UNAUTHORIZED: &str = "Unauthorized. Please login as a specialist.";
pub const FORBIDDEN: &str = "Forbidden. You can only create Zoom meetings for your own slots.";
pub const ALREADY_CREATED: &str = "Zoom meeting already created for this booking";
pub const IN_PROGRESS: &str = "Zoom meeting creation is already in progress";
pub const FAILED: &str = "Could not create the Zoom meeting. Please try again.";
pub const SLOT_MOVED: &str =
    "The slot was moved while its Zoom meeting was being created. Please create it again for the new time.";
pub const ZOOM_TOO_SLOW: &str = "Zoom did not answer in time. Please try again in a minute.";
pub const VERIFY_EMAIL_FIRST: &str =
    "Please verify your email address before creating Zoom meetings.";

/// What the caller of a specialist's meeting action is told when it cannot go ahead.
pub struct Refusals {
    pub unauthorized: &'static str,
    pub forbidden: &'static str,
    /// For a database or Zoom failure (500).
    pub failure: &'static str,
}

const CREATE: Refusals = Refusals {
    unauthorized: UNAUTHORIZED,
    forbidden: FORBIDDEN,
    failure: FAILED,
};
const START: Refusals = Refusals {
    unauthorized: UNAUTHORIZED,
    forbidden: "Forbidden. You can only start meetings for your own slots.",
    failure: "Could not get a start link from Zoom. Please try again.",
};

/// A failure the user can only retry: logged with its cause, answered with `message`.
fn failed(context: &'static str, message: &'static str) -> impl Fn(DbError) -> AppError {
    move |e| {
        tracing::error!(error = %e, "{context}");
        super::database_failure(&e, || AppError::new(500, message))
    }
}

/// The slot and booking a specialist may act on, checked in the spec's order:
/// 401, 404 slot, 403 owner, 400 index.
async fn owned_booking(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
    refusals: &Refusals,
) -> AppResult<(SlotRow, BookingRow)> {
    let caller = caller.ok_or_else(|| AppError::unauthorized(refusals.unauthorized))?;
    let slot = slots::by_id(&state.db, slot_id)
        .await
        .map_err(failed("reading a slot", refusals.failure))?
        .ok_or_else(|| AppError::not_found("Slot not found"))?;
    if slot.specialist != caller.user_id {
        return Err(AppError::forbidden(refusals.forbidden));
    }
    let invalid_index = || AppError::bad_request("Invalid booking index");
    let index = BookingIndex::parse(raw_index)
        .map(BookingIndex::get)
        .filter(|i| *i < slot.next_index)
        .ok_or_else(invalid_index)?;
    let booking = bookings::by_slot_index(&state.db, slot_id, index)
        .await
        .map_err(failed("reading a booking", refusals.failure))?
        .ok_or_else(invalid_index)?;
    Ok((slot, booking))
}

fn already_created(meeting: &StoredMeeting) -> AppError {
    AppError::conflict(ALREADY_CREATED).with_data(json!(meeting))
}

pub async fn create_zoom_meeting_for_booking(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<CreatedMeeting> {
    create(state, caller, slot_id, raw_index, false).await
}

/// The automatic fallback: creates the meeting of a booking that still has none, as its
/// specialist would with the button (the same claim, so a click at the same moment still makes
/// one meeting). Nothing to do when the booking is gone, has a meeting, or the slot or the
/// specialist's setting changed since the job was queued.
pub async fn create_automatically(state: &AppState, job: &AutoCreate) -> AppResult<()> {
    let Some(booking) = bookings::by_id(&state.db, &job.booking_id)
        .await
        .map_err(failed("reading a booking", FAILED))?
    else {
        return Ok(());
    };
    let Some(slot) = slots::by_id(&state.db, &booking.slot)
        .await
        .map_err(failed("reading a slot", FAILED))?
    else {
        return Ok(());
    };
    let current = booking.status == BookingStatus::Active
        && booking.zoom_meeting.is_none()
        && slot.schedule_version == job.version
        && slot.host.auto_create_minutes == Some(job.minutes);
    if !current {
        return Ok(());
    }
    let caller = Caller {
        user_id: slot.specialist.clone(),
        role: crate::model::Role::Specialist,
        session_id: String::new(),
        api_token: None,
        name: slot.host.name.clone(),
        email: slot.host.email.clone(),
        timezone: slot.host.timezone.clone(),
    };
    match create(
        state,
        Some(&caller),
        &slot.id,
        &booking.index.to_string(),
        true,
    )
    .await
    {
        Ok(_) => Ok(()),
        // Made by a click meanwhile, or no longer possible: nothing left to do.
        Err(e) if e.status == 409 || e.status == 400 || e.status == 403 => Ok(()),
        Err(e) => Err(e),
    }
}

async fn create(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
    automatic: bool,
) -> AppResult<CreatedMeeting> {
    let (slot, booking) = owned_booking(state, caller, slot_id, raw_index, &CREATE).await?;
    match booking.status {
        BookingStatus::Active => {}
        BookingStatus::Cancelled => {
            return Err(AppError::conflict("This booking has been cancelled"))
        }
        BookingStatus::Rescheduled => {
            return Err(AppError::conflict(
                "This booking was moved to another slot; its meeting moved with it",
            ))
        }
    }
    if let Some(meeting) = &booking.zoom_meeting {
        return Err(already_created(meeting));
    }
    if booking.hold_until.is_some() {
        return Err(AppError::conflict(
            "This guest has not confirmed the booking yet: the meeting can be created once they do",
        ));
    }
    if slot.fields.ends_at() <= Utc::now() {
        return Err(AppError::bad_request("This appointment has already ended"));
    }

    let specialist = users::by_id(&state.db, &slot.specialist)
        .await
        .map_err(failed("reading the specialist", FAILED))?
        .ok_or_else(|| AppError::new(500, FAILED))?;
    // A real Zoom account hosts only someone who proved their address (the simulated one
    // hosts nobody).
    if state.zoom.is_live() && !specialist.email_verified {
        return Err(AppError::forbidden(VERIFY_EMAIL_FIRST));
    }

    // Claim the booking before talking to Zoom: of any number of concurrent requests, one
    // gets the claim and the rest are told the meeting exists or is being made.
    let token = uuid::Uuid::new_v4().to_string();
    let claim = bookings::claim_zoom(&state.db, &booking.id, &token)
        .await
        .map_err(failed("claiming a booking", FAILED))?;
    let ZoomClaim::Won {
        earlier_outcome_unknown,
    } = claim
    else {
        let current = bookings::by_slot_index(&state.db, slot_id, booking.index)
            .await
            .map_err(failed("reading a booking", FAILED))?;
        return Err(match current {
            Some(b) if b.status == BookingStatus::Cancelled => {
                AppError::conflict("This booking has been cancelled")
            }
            Some(b) if b.zoom_meeting.is_some() => {
                already_created(b.zoom_meeting.as_ref().unwrap())
            }
            _ => AppError::conflict(IN_PROGRESS),
        });
    };

    let attempt = Attempt {
        state,
        automatic,
        slot: &slot,
        booking: &booking,
        specialist: &specialist,
        token: &token,
    };
    match attempt.run(earlier_outcome_unknown).await {
        Ok(created) => Ok(created),
        Err(failure) => {
            let released = bookings::release_zoom_claim(
                &state.db,
                &booking.id,
                &token,
                failure.outcome_unknown,
            )
            .await;
            if let Err(release) = released {
                tracing::warn!(error = %release, "could not release a Zoom claim; it expires with its lease");
            }
            Err(failure.error)
        }
    }
}

/// A failed attempt, and whether a meeting may nevertheless exist at Zoom.
struct Failure {
    error: AppError,
    outcome_unknown: bool,
}

/// The Zoom user hosting a specialist's meetings: the operator's choice for everyone, else the
/// operator's choice for this specialist, else their own verified address.
fn host_of(state: &AppState, specialist: &UserRow) -> String {
    state
        .config
        .zoom
        .default_host
        .clone()
        .or_else(|| specialist.zoom.zoom_user.clone())
        .unwrap_or_else(|| specialist.email.clone())
}

/// Deletes the meeting a creation whose answer was lost may have made for a booking that is
/// no longer active (cancelled or moved away). An active booking is left alone: its next
/// attempt adopts the meeting, and one may be under way right now.
pub async fn sweep(state: &AppState, booking_id: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let Some(booking) = bookings::by_id(&state.db, booking_id).await? else {
        return Ok(());
    };
    if booking.status == BookingStatus::Active {
        return Ok(());
    }
    let Some(slot) = slots::by_id(&state.db, &booking.slot).await? else {
        return Ok(());
    };
    let specialist = users::by_id(&state.db, &slot.specialist)
        .await?
        .context("the slot's specialist is gone")?;
    let (host, marker) = (host_of(state, &specialist), agenda_marker(&booking.id));
    let search = state.zoom.find_meeting(&host, &marker);
    let found = tokio::time::timeout(state.config.zoom.attempt_deadline, search)
        .await
        .context("Zoom did not answer the search in time")?
        .context("looking for a lost meeting at Zoom")?;
    if let Some(meeting) = found {
        tracing::info!(meeting = %meeting.id, booking = %booking.id, "deleting the meeting a lost creation left for a booking no longer active");
        state
            .zoom
            .delete_meeting(&meeting.id)
            .await
            .context("deleting a lost meeting at Zoom")?;
    }
    Ok(())
}

/// Marks the meeting as ours in Zoom, so an attempt whose answer got lost can be found again.
pub fn agenda_marker(booking_id: &str) -> String {
    format!("Specialistly booking {booking_id}")
}

/// One claimed attempt at a booking's meeting.
struct Attempt<'a> {
    state: &'a AppState,
    /// Made by the automatic fallback rather than a click.
    automatic: bool,
    slot: &'a SlotRow,
    booking: &'a BookingRow,
    specialist: &'a UserRow,
    token: &'a str,
}

impl Attempt<'_> {
    /// Adopts the meeting an earlier attempt may have left at Zoom, or creates one; then saves
    /// it with the customer's email.
    async fn run(&self, earlier_outcome_unknown: bool) -> Result<CreatedMeeting, Failure> {
        let (slot, booking, specialist) = (self.slot, self.booking, self.specialist);
        let recurring = self.recurring().await?;
        if recurring {
            if let Some(shared) = self.shared_meeting().await? {
                return self.save(shared, Shared::Reused).await;
            }
        }
        let zoom_failure = |e: ZoomError, what: &str| {
            tracing::error!(error = %e, slot = %slot.id, index = booking.index, "{what}");
            Failure {
                error: AppError::new(500, e.user_message()),
                outcome_unknown: e.outcome_unknown(),
            }
        };
        let host = host_of(self.state, specialist);
        let marker = agenda_marker(&booking.id);
        let too_slow = || {
            tracing::error!(slot = %slot.id, index = booking.index, "Zoom did not answer within the attempt's deadline");
            Failure {
                error: AppError::new(504, ZOOM_TOO_SLOW),
                outcome_unknown: true,
            }
        };
        // One deadline over the search and the creation together (review G6): each with a
        // deadline of its own, an attempt could outlive the booking's claim on it.
        let deadline = tokio::time::Instant::now() + self.state.config.zoom.attempt_deadline;
        let adopted = if earlier_outcome_unknown {
            let found =
                tokio::time::timeout_at(deadline, self.state.zoom.find_meeting(&host, &marker))
                    .await
                    .map_err(|_| too_slow())?;
            // Until the search completes, the earlier attempt stays unknown.
            let found = found.map_err(|e| Failure {
                outcome_unknown: true,
                ..zoom_failure(e, "looking for an earlier attempt's Zoom meeting failed")
            })?;
            if let Some(m) = &found {
                tracing::info!(meeting = %m.id, slot = %slot.id, index = booking.index, "adopting the meeting an earlier attempt created");
            }
            found
        } else {
            None
        };
        let meeting = match adopted {
            Some(meeting) => meeting,
            None => {
                let mut request = meeting_request(host, slot, booking, specialist);
                request.recurring = recurring;
                tokio::time::timeout_at(deadline, self.state.zoom.create_meeting(&request))
                    .await
                    .map_err(|_| too_slow())?
                    .map_err(|e| zoom_failure(e, "Zoom meeting creation failed"))?
            }
        };
        if !recurring {
            return self.save(meeting, Shared::No).await;
        }
        // The pair's first shared meeting; two bookings made at once keep the first one.
        let stored = stored_meeting(&meeting, true);
        let kept = recurring::remember(
            &self.state.db,
            &slot.specialist,
            &booking.customer,
            &stored,
            meeting.host_id.as_deref(),
        )
        .await
        .map_err(|e| Failure {
            outcome_unknown: true,
            ..db_failure(e, "keeping a recurring meeting")
        })?;
        match kept {
            None => self.save(meeting, Shared::New).await,
            Some((existing, host_id)) => {
                if let Err(e) = self.state.zoom.delete_meeting(&meeting.id).await {
                    tracing::warn!(error = %e, meeting = %meeting.id, "could not delete a second recurring meeting");
                }
                self.save(zoom_meeting_of(existing, host_id), Shared::Reused)
                    .await
            }
        }
    }

    /// Whether this booking gets its customer's shared meeting: the specialist's setting, and
    /// a customer who booked them before.
    async fn recurring(&self) -> Result<bool, Failure> {
        if !self.specialist.zoom.meeting.recurring_links {
            return Ok(false);
        }
        recurring::is_returning(&self.state.db, self.booking, &self.slot.specialist)
            .await
            .map_err(|e| db_failure(e, "reading earlier bookings"))
    }

    async fn shared_meeting(&self) -> Result<Option<ZoomMeeting>, Failure> {
        let found = recurring::meeting_of(
            &self.state.db,
            &self.slot.specialist,
            &self.booking.customer,
        )
        .await
        .map_err(|e| db_failure(e, "reading a recurring meeting"))?;
        Ok(found.map(|(m, host_id)| zoom_meeting_of(m, host_id)))
    }

    /// Saves the meeting and queues the customer's email; if that fails, a meeting of this
    /// booking alone is deleted at Zoom (and if even that fails, the next attempt adopts it).
    async fn save(&self, meeting: ZoomMeeting, shared: Shared) -> Result<CreatedMeeting, Failure> {
        let (state, slot, booking) = (self.state, self.slot, self.booking);

        let stored = stored_meeting(&meeting, shared != Shared::No);
        let appointment = Appointment::for_booking(slot, booking, &state.manage_links());
        let email = templates::zoom_meeting_ready(
            &appointment,
            &MeetingDetails {
                join_url: meeting.join_url.clone(),
                meeting_id: meeting.id.clone(),
                password: meeting.password.clone(),
            },
        );
        let check =
            super::zoom_events::scheduled_attendance_check(state, slot, &booking.id, &meeting.id);
        let saved = bookings::save_meeting(
            &state.db,
            &booking.id,
            self.token,
            &MeetingToSave {
                meeting: &stored,
                host_id: meeting.host_id.as_deref(),
                jobs: &[
                    NewJob::email(&email),
                    check,
                    NewJob::webhook_event(
                        EventType::MeetingCreated,
                        &slot.specialist,
                        &booking.id,
                        &meeting.id,
                        json!({}),
                    ),
                ],
                automatic: self.automatic,
                schedule_version: slot.schedule_version,
            },
        )
        .await;
        let failure = match saved {
            Ok(Ok(())) => None,
            Ok(Err(SaveRefusal::ClaimLost)) => {
                Some("the claim on the booking was lost".to_string())
            }
            Ok(Err(SaveRefusal::SlotMoved)) if shared != Shared::No => {
                // A shared meeting has no fixed time: the next click saves it again.
                return Err(Failure {
                    error: AppError::conflict(SLOT_MOVED),
                    outcome_unknown: false,
                });
            }
            Ok(Err(SaveRefusal::SlotMoved)) => {
                // Made for the old time: gone, and the next click (or auto-create run) makes
                // it for the new one.
                tracing::warn!(meeting = %meeting.id, "the slot moved while its meeting was made; deleting it at Zoom");
                let deleted = state.zoom.delete_meeting(&meeting.id).await;
                return Err(Failure {
                    error: AppError::conflict(SLOT_MOVED),
                    outcome_unknown: deleted.is_err(),
                });
            }
            // The save may still have committed (a timeout): look before deleting anything.
            Err(e) => match bookings::by_id(&state.db, &booking.id).await {
                Ok(Some(b))
                    if b.zoom_meeting.as_ref().map(|m| &m.zoom_meeting_id) == Some(&meeting.id) =>
                {
                    tracing::info!(error = %e, meeting = %meeting.id, "the save answered with an error but committed");
                    None
                }
                Ok(_) => Some(e.to_string()),
                Err(read) => {
                    // Unknown whether it committed: keep the meeting for adoption.
                    tracing::error!(error = %e, %read, meeting = %meeting.id, "saving the Zoom meeting: outcome unknown; the next attempt adopts it");
                    return Err(Failure {
                        error: AppError::new(500, FAILED),
                        outcome_unknown: true,
                    });
                }
            },
        };
        if let (Some(error), true) = (&failure, shared != Shared::No) {
            // Other bookings of the customer use it (or will): it stays.
            tracing::error!(%error, meeting = %meeting.id, "saving a recurring Zoom meeting failed");
            return Err(Failure {
                error: AppError::new(500, FAILED),
                outcome_unknown: false,
            });
        }
        if let Some(error) = failure {
            tracing::error!(%error, meeting = %meeting.id, "saving the Zoom meeting failed; deleting it at Zoom");
            let deleted = state.zoom.delete_meeting(&meeting.id).await;
            if let Err(delete) = &deleted {
                // The booking may have been cancelled meanwhile (its claim lost): then no
                // attempt follows to adopt the meeting, and a sweep deletes it.
                tracing::error!(error = %delete, meeting = %meeting.id, "could not delete an orphaned Zoom meeting; the next attempt adopts it, or a sweep deletes it");
                if let Err(e) = jobs::queue(&state.db, &[NewJob::zoom_sweep(&booking.id)]).await {
                    tracing::error!(error = %e, "could not queue the sweep of an orphaned Zoom meeting");
                }
            }
            return Err(Failure {
                error: AppError::new(500, FAILED),
                outcome_unknown: deleted.is_err(),
            });
        }
        tracing::info!(slot = %slot.id, index = booking.index, meeting = %meeting.id, "Zoom meeting created");
        Ok(CreatedMeeting {
            zoom_meeting: stored.view(),
            booking_details: CreatedMeetingBooking {
                customer_name: booking.customer_name.clone(),
                customer_email: booking.customer_email.clone(),
                booked_at: booking.booked_at,
            },
        })
    }
}

/// Whether a saved meeting is a regular customer's shared one, and whether this booking
/// reuses it or made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shared {
    No,
    New,
    Reused,
}

fn stored_meeting(meeting: &ZoomMeeting, recurring: bool) -> StoredMeeting {
    StoredMeeting {
        zoom_meeting_id: meeting.id.clone(),
        join_url: meeting.join_url.clone(),
        start_url: meeting.start_url.clone(),
        password: meeting.password.clone(),
        created_at: Utc::now(),
        recurring: recurring.then_some(true),
    }
}

fn zoom_meeting_of(m: StoredMeeting, host_id: Option<String>) -> ZoomMeeting {
    ZoomMeeting {
        id: m.zoom_meeting_id,
        host_id,
        join_url: m.join_url,
        start_url: m.start_url,
        password: m.password,
    }
}

fn db_failure(e: DbError, context: &str) -> Failure {
    tracing::error!(error = %e, "{context}");
    Failure {
        error: super::database_failure(&e, || AppError::new(500, FAILED)),
        outcome_unknown: false,
    }
}

/// The meeting to ask Zoom for (with a new password).
fn meeting_request(
    host: String,
    slot: &SlotRow,
    booking: &BookingRow,
    specialist: &UserRow,
) -> MeetingRequest {
    MeetingRequest {
        host,
        topic: format!("Consulting Session - {}", booking.customer_name),
        agenda: agenda(&agenda_marker(&booking.id), slot, booking, specialist),
        starts_at: slot.fields.starts_at,
        duration_minutes: slot.fields.duration,
        timezone: slot.fields.timezone.clone(),
        password: generate_password(),
        settings: specialist.zoom.meeting,
        recurring: false,
    }
}

/// What Create would make for a booking, as its specialist sees it before pressing it: the
/// same checks as Create (401, 404, 403, 400, 409), and nothing is sent to Zoom.
pub async fn preview(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<MeetingPreview> {
    let (slot, booking) = owned_booking(state, caller, slot_id, raw_index, &CREATE).await?;
    if booking.status != BookingStatus::Active {
        return Err(AppError::conflict("This booking is no longer active"));
    }
    if let Some(meeting) = &booking.zoom_meeting {
        return Err(already_created(meeting));
    }
    let specialist = users::by_id(&state.db, &slot.specialist)
        .await
        .map_err(failed("reading the specialist", FAILED))?
        .ok_or_else(|| AppError::new(500, FAILED))?;
    let request = meeting_request(host_of(state, &specialist), &slot, &booking, &specialist);
    let recurring = specialist.zoom.meeting.recurring_links
        && recurring::is_returning(&state.db, &booking, &slot.specialist)
            .await
            .map_err(failed("reading earlier bookings", FAILED))?;
    Ok(MeetingPreview {
        recurring,
        local_start_time: crate::time_fmt::date_time_in(request.starts_at, &specialist.timezone),
        timezone: specialist.timezone.clone(),
        topic: request.topic,
        agenda: request.agenda,
        start_time: request.starts_at,
        duration: request.duration_minutes,
        host: request.host,
        settings: request.settings,
        simulated: !state.zoom.is_live(),
    })
}

/// What the meeting is about, marked first (listings cut agendas at 250 characters).
fn agenda(marker: &str, slot: &SlotRow, booking: &BookingRow, specialist: &UserRow) -> String {
    let mut agenda = format!(
        "{marker}\n{} with {} for {}.",
        slot.fields.title, specialist.name, booking.customer_name
    );
    if let Some(notes) = &booking.additional_notes {
        agenda.push_str("\n\nNotes from the customer:\n");
        agenda.push_str(notes);
    }
    agenda
}

pub const NOT_CHANGED_IN_ZOOM: &str = "This booking's meeting is at the slot's time in Zoom";

/// Puts a meeting that was moved in Zoom back at the slot's time (by a Zoom update job).
pub async fn put_back_in_step(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<()> {
    let (_, booking) = owned_booking(state, caller, slot_id, raw_index, &CREATE).await?;
    let meeting = booking
        .zoom_meeting
        .as_ref()
        .filter(|_| booking.zoom_changed.is_some() && booking.status == BookingStatus::Active)
        .ok_or_else(|| AppError::conflict(NOT_CHANGED_IN_ZOOM))?;
    let job = NewJob::zoom_put_back(
        &meeting.zoom_meeting_id,
        &booking.id,
        Utc::now().timestamp_millis(),
    );
    jobs::queue(&state.db, &[job])
        .await
        .map_err(failed("queuing a Zoom update", FAILED))
}

/// A start URL issued now, for the slot's specialist only.
pub async fn fresh_start_url(
    state: &AppState,
    caller: Option<&Caller>,
    slot_id: &str,
    raw_index: &str,
) -> AppResult<String> {
    let (_, booking) = owned_booking(state, caller, slot_id, raw_index, &START).await?;
    let meeting = booking
        .zoom_meeting
        .ok_or_else(|| AppError::not_found("This booking has no Zoom meeting yet"))?;
    state
        .zoom
        .fresh_start_url(&meeting.zoom_meeting_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "fetching a fresh start URL failed");
            AppError::new(502, START.failure)
        })
}
