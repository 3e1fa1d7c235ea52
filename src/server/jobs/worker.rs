//! The job worker: claims due jobs a few at a time, runs those together, records the outcomes.
//!
//! Each claim holds a lease, renewed while the job runs, and every job has an overall deadline
//! shorter than the lease: a peer that accepts a connection and then stops answering (an SMTP
//! server mid-DATA, a stuck Zoom call) costs one deadline, never the worker, and no job runs
//! after its lease lapsed. Jobs still run at least once, not exactly once: a worker that
//! finished a job's work and died before recording it leaves a lease that expires, and another
//! worker runs the job again. For emails that means a duplicate; Zoom deletions and updates
//! are idempotent.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;

use super::mail_outage::MailOutage;
use super::reminders::{self, Reminder};
use super::{AttendanceCheck, AutoCreate, JobKind, Lane, NewJob, ZoomJob};
use crate::server::app_state::AppState;
use crate::server::db::DbError;
use crate::server::mail::templates::{self, Attendee};
use crate::server::mail::transport::{build_message, MailServerUnreachable, MailTransport};
use crate::server::mail::OutgoingEmail;
use crate::server::outgoing_webhooks::{DeliveryJob, EndpointBusy, QueuedEvent};
use crate::server::repo::jobs::{self, ClaimedJob};
use crate::server::repo::{bookings, slots, waitlist};
use crate::server::service::{
    booking, busy_calendars, guest_booking, offerings, recordings, webhooks, zoom_events,
    zoom_meeting,
};
use crate::server::telemetry;

pub const MAX_ATTEMPTS: u32 = 8;
/// Jobs one pass runs at most, so a pass ends even while new work keeps arriving.
const BATCH: usize = 20;

/// Jobs of a lane run at once. In the main lane each one's writes wait for the disk and each
/// email for the SMTP server's answer; run together they share the flushes and the SMTP
/// connection pool, where one at a time a burst of emails left at a few dozen per second.
/// Deliveries mostly wait on endpoints (up to 15 s each), and each specialist has a few
/// sends at a time at most, so more of them run at once.
fn parallel(lane: Lane) -> usize {
    match lane {
        Lane::Main => 4,
        Lane::Deliveries => 8,
    }
}

/// What one pass did.
#[derive(Default)]
struct Pass {
    claimed: usize,
    succeeded: usize,
}

#[derive(Clone)]
pub struct JobWorker {
    /// The application a job acts in (database, Zoom, configuration).
    state: AppState,
    transport: MailTransport,
    from: Mailbox,
    /// Identifies this worker's leases.
    owner: Arc<str>,
    max_attempts: u32,
    lease_seconds: u64,
    /// Emails wait while the mail server is out of reach (shared by this worker's clones).
    mail_outage: MailOutage,
}

impl JobWorker {
    pub fn new(
        state: AppState,
        transport: MailTransport,
        from: Mailbox,
        lease_seconds: u64,
    ) -> Self {
        let owner: Arc<str> = format!("worker-{}", uuid::Uuid::new_v4()).into();
        Self {
            state,
            transport,
            from,
            owner,
            max_attempts: MAX_ATTEMPTS,
            lease_seconds,
            mail_outage: MailOutage::default(),
        }
    }

    /// One pass of each lane: claims due jobs a few at a time and runs them. Returns how many
    /// succeeded. Public so tests can drain the queue deterministically.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        let mut succeeded = 0;
        for lane in Lane::ALL {
            succeeded += self.pass(lane, None).await?.succeeded;
        }
        Ok(succeeded)
    }

    /// A pass of one lane, which stops claiming once `stop` is cancelled.
    async fn pass(&self, lane: Lane, stop: Option<&CancellationToken>) -> Result<Pass, DbError> {
        let mut pass = Pass::default();
        while pass.claimed < BATCH {
            if stop.is_some_and(CancellationToken::is_cancelled) {
                break;
            }
            // While the mail server is out of reach, emails stay queued as they are.
            let emails = self.mail_outage.remaining().is_none();
            let most = parallel(lane).min(BATCH - pass.claimed);
            let claimed = jobs::claim_due(
                &self.state.db,
                &self.owner,
                self.lease_seconds,
                lane,
                emails,
                most,
            )
            .await?;
            pass.claimed += claimed.len();
            let finished = join_all(claimed.iter().map(|job| self.finish(job))).await;
            if claimed.iter().any(may_change_pages) {
                self.state.read_cache.forget_all();
            }
            for finished in finished {
                if finished? {
                    pass.succeeded += 1;
                }
            }
            if claimed.len() < most {
                // Nothing more is due now.
                break;
            }
        }
        Ok(pass)
    }

    async fn finish(&self, job: &ClaimedJob) -> Result<bool, DbError> {
        let sends_email = job.kind.sends_email();
        if let Some(wait) = self.mail_outage.remaining().filter(|_| sends_email) {
            // Claimed before another email found the server out of reach (or its lease
            // lapsed): it waits too, without trying.
            telemetry::email("deferred");
            let reason = "waiting for the mail server to be reachable again";
            jobs::defer(&self.state.db, &job.id, &self.owner, wait, reason).await?;
            return Ok(false);
        }
        let outcome = self.execute_within_lease(job).await;
        if sends_email {
            telemetry::email(if outcome.is_ok() { "sent" } else { "failed" });
        }
        match outcome {
            // Its endpoint (or its specialist) has sends under way: it waits its turn without
            // spending an attempt.
            Err(e) if e.downcast_ref::<EndpointBusy>().is_some() => {
                let wait = e
                    .downcast_ref::<EndpointBusy>()
                    .map(|b| b.wait)
                    .unwrap_or_default();
                jobs::defer(
                    &self.state.db,
                    &job.id,
                    &self.owner,
                    wait,
                    &format!("{e:#}"),
                )
                .await?;
                Ok(false)
            }
            // Not the email's failure: it keeps its attempts and waits with every other email.
            Err(e) if sends_email && e.downcast_ref::<MailServerUnreachable>().is_some() => {
                let wait = self.mail_outage.unreachable();
                tracing::warn!(key = %job.key, error = %e, ?wait, "mail server unreachable; emails wait");
                jobs::defer(
                    &self.state.db,
                    &job.id,
                    &self.owner,
                    wait,
                    &format!("{e:#}"),
                )
                .await?;
                Ok(false)
            }
            Ok(()) => {
                if sends_email {
                    self.mail_outage.reached();
                }
                jobs::mark_done(&self.state.db, &job.id, &self.owner).await?;
                tracing::info!(key = %job.key, kind = ?job.kind, "job done");
                Ok(true)
            }
            Err(e) => {
                telemetry::job_failed(job.kind.as_str());
                let error = format!("{e:#}");
                jobs::mark_failed(
                    &self.state.db,
                    &job.id,
                    &self.owner,
                    &error,
                    job.attempts,
                    self.max_attempts,
                )
                .await?;
                if job.attempts >= self.max_attempts {
                    tracing::error!(key = %job.key, kind = ?job.kind, attempts = job.attempts, %error, "job failed for good");
                } else {
                    tracing::warn!(key = %job.key, kind = ?job.kind, attempts = job.attempts, %error, "job failed; will retry");
                }
                Ok(false)
            }
        }
    }

    /// The longest a job may run: three quarters of its lease, so that even a lease that could
    /// not be renewed has not lapsed when the job is given up.
    fn deadline(&self) -> Duration {
        Duration::from_millis(self.lease_seconds * 750)
    }

    /// Runs `job` under its deadline while renewing its lease. A deadline missed by an email
    /// counts as the mail server being out of reach: a message is the server's only once it
    /// answered the end of DATA, and the connection is dropped (not pooled) with the future.
    async fn execute_within_lease(&self, job: &ClaimedJob) -> anyhow::Result<()> {
        let deadline = self.deadline();
        let renewing = async {
            let period = Duration::from_millis(self.lease_seconds * 1000 / 3);
            loop {
                tokio::time::sleep(period).await;
                match jobs::renew(&self.state.db, &job.id, &self.owner, self.lease_seconds).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(key = %job.key, "lost the lease of a running job");
                        return std::future::pending().await;
                    }
                    Err(e) => tracing::warn!(key = %job.key, error = %e, "renewing a lease"),
                }
            }
        };
        tokio::select! {
            finished = tokio::time::timeout(deadline, self.execute(job)) => match finished {
                Ok(outcome) => outcome,
                Err(_) if job.kind.sends_email() => Err(MailServerUnreachable::new(format!(
                    "no answer within {deadline:?}"
                ))
                .into()),
                Err(_) => Err(anyhow::anyhow!("did not finish within {deadline:?}")),
            },
            never = renewing => never,
        }
    }

    async fn execute(&self, job: &ClaimedJob) -> anyhow::Result<()> {
        match job.kind {
            JobKind::Email => {
                let email: OutgoingEmail =
                    serde_json::from_value(job.payload.clone()).context("email payload")?;
                let message = build_message(&self.from, &email)?;
                self.transport.send(message).await
            }
            JobKind::ZoomDelete => {
                let z: ZoomJob =
                    serde_json::from_value(job.payload.clone()).context("zoom payload")?;
                self.state
                    .zoom
                    .delete_meeting(&z.meeting_id)
                    .await
                    .context("deleting the Zoom meeting")
            }
            JobKind::Reminder => {
                let reminder: Reminder =
                    serde_json::from_value(job.payload.clone()).context("reminder payload")?;
                let links = self.state.manage_links();
                let base_url = &self.state.config.http.base_url;
                match reminders::render(&self.state.db, base_url, &links, &reminder).await? {
                    Some(email) => {
                        let message = build_message(&self.from, &email)?;
                        self.transport.send(message).await
                    }
                    // Cancelled, moved or turned off since: nothing to send.
                    None => Ok(()),
                }
            }
            JobKind::AutoCreate => {
                let job: AutoCreate =
                    serde_json::from_value(job.payload.clone()).context("auto-create payload")?;
                zoom_meeting::create_automatically(&self.state, &job)
                    .await
                    .map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.status))
            }
            JobKind::WaitlistClose => {
                let slot_id = job.payload["slot_id"]
                    .as_str()
                    .context("waitlist payload")?;
                let Some(slot) = slots::by_id(&self.state.db, slot_id).await? else {
                    return Ok(());
                };
                // Moved later since: close at the new time instead.
                if slot.fields.starts_at > chrono::Utc::now() {
                    let later = NewJob::waitlist_close(
                        &slot.id,
                        slot.schedule_version,
                        slot.fields.starts_at,
                    );
                    jobs::queue(&self.state.db, &[later]).await?;
                    return Ok(());
                }
                let closed = waitlist::close(&self.state.db, slot_id).await?;
                let emails: Vec<_> = closed
                    .iter()
                    .map(|w| {
                        let to = Attendee {
                            name: w.customer_name.clone(),
                            email: w.customer_email.clone(),
                            timezone: w.customer_timezone.clone(),
                        };
                        NewJob::email(&templates::waitlist_closed(
                            &to,
                            &slot.fields.title,
                            &w.id,
                            templates::WaitlistClosedBecause::Started,
                        ))
                    })
                    .collect();
                jobs::queue(&self.state.db, &emails).await?;
                Ok(())
            }
            JobKind::ZoomSweep => {
                let booking_id = job.payload["booking_id"]
                    .as_str()
                    .context("zoom sweep payload")?;
                zoom_meeting::sweep(&self.state, booking_id).await
            }
            JobKind::ZoomUpdate => {
                let z: ZoomJob =
                    serde_json::from_value(job.payload.clone()).context("zoom payload")?;
                self.move_meeting(&z).await
            }
            JobKind::ZoomEvent => {
                let event_id = job.payload["event_id"]
                    .as_str()
                    .context("zoom event payload")?;
                zoom_events::apply(&self.state, event_id).await
            }
            JobKind::RecordingFetch => {
                let fetch: recordings::Fetch = serde_json::from_value(job.payload.clone())
                    .context("recording fetch payload")?;
                recordings::fetch(&self.state, &fetch).await
            }
            JobKind::WebhookEvent => {
                let event: QueuedEvent =
                    serde_json::from_value(job.payload.clone()).context("webhook event payload")?;
                webhooks::fan_out(&self.state, &job.key, &event).await
            }
            JobKind::WebhookDelivery => {
                let delivery: DeliveryJob = serde_json::from_value(job.payload.clone())
                    .context("webhook delivery payload")?;
                webhooks::deliver(&self.state, &delivery).await
            }
            JobKind::BusyCalendarFetch => {
                let calendar = job.payload["calendar_id"]
                    .as_str()
                    .context("calendar fetch payload")?;
                busy_calendars::fetch(&self.state, calendar).await
            }
            JobKind::OfferingSessions => {
                let offering = job.payload["offering_id"]
                    .as_str()
                    .context("offering sessions payload")?;
                offerings::make_sessions(&self.state, offering).await
            }
            JobKind::BookingCreated => {
                let booking_id = job.payload["booking_id"]
                    .as_str()
                    .context("booking follow-up payload")?;
                booking::follow_up(&self.state, booking_id).await
            }
            JobKind::GuestHoldRelease => {
                let booking_id = job.payload["booking_id"]
                    .as_str()
                    .context("guest hold payload")?;
                guest_booking::release_hold(&self.state, booking_id).await
            }
            JobKind::AttendanceCheck => {
                let check: AttendanceCheck = serde_json::from_value(job.payload.clone())
                    .context("attendance check payload")?;
                zoom_events::check_attendance(&self.state, &check).await
            }
        }
    }

    /// Moves a meeting to its booking's slot as it stands now (not as it stood when the job
    /// was queued); nothing to do when the booking no longer holds that meeting.
    async fn move_meeting(&self, z: &ZoomJob) -> anyhow::Result<()> {
        let Some(booking) = bookings::by_id(&self.state.db, &z.booking_id).await? else {
            return Ok(());
        };
        // A cancelled or moved booking's meeting is being deleted, and a regular customer's
        // shared meeting has no fixed time: nothing to move.
        let holds = booking.status == crate::model::BookingStatus::Active
            && booking
                .zoom_meeting
                .as_ref()
                .is_some_and(|m| m.zoom_meeting_id == z.meeting_id && !m.is_recurring());
        let Some(slot) = slots::by_id(&self.state.db, &booking.slot).await? else {
            return Ok(());
        };
        if !holds {
            return Ok(());
        }
        self.state
            .zoom
            .update_meeting(
                &z.meeting_id,
                slot.fields.starts_at,
                slot.fields.duration,
                &slot.fields.timezone,
            )
            .await
            .context("moving the Zoom meeting")?;
        // In step with the slot again, whatever was changed in Zoom before.
        bookings::clear_zoom_change(&self.state.db, &z.booking_id, &z.meeting_id).await?;
        Ok(())
    }

    /// Runs both lanes until `stop` is cancelled. The jobs in hand then are finished first; no
    /// new one is claimed.
    pub async fn run(self, poll: Duration, stop: CancellationToken) {
        tokio::join!(
            self.run_main_lane(poll, &stop),
            self.run_deliveries_lane(poll, &stop)
        );
        tracing::info!("job worker stopped");
    }

    /// Deliveries run as a pool: each claimed one holds a place until it ends, and a free place
    /// is filled at once. (In passes, a pass waits for its slowest job: one endpoint that
    /// never answers would hold every delivery behind it for 15 s.)
    async fn run_deliveries_lane(&self, poll: Duration, stop: &CancellationToken) {
        let lane = Lane::Deliveries;
        let places = Arc::new(tokio::sync::Semaphore::new(parallel(lane)));
        while !stop.is_cancelled() {
            let free = places.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    // A place is free again (given straight back: the claim takes it).
                    _ = places.acquire() => continue,
                }
            }
            let emails = self.mail_outage.remaining().is_none();
            let claimed = match jobs::claim_due(
                &self.state.db,
                &self.owner,
                self.lease_seconds,
                lane,
                emails,
                free,
            )
            .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, lane = lane.as_str(), "claiming jobs failed");
                    Vec::new()
                }
            };
            let all_due = claimed.len() < free;
            for job in claimed {
                let place = places.clone().acquire_owned().await.expect("never closed");
                let worker = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = worker.finish(&job).await {
                        tracing::warn!(key = %job.key, error = %e, "recording a job's outcome");
                    }
                    drop(place);
                });
            }
            if all_due {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        }
        // The jobs in hand finish first.
        let _ = places.acquire_many(parallel(lane) as u32).await;
    }

    async fn run_main_lane(&self, poll: Duration, stop: &CancellationToken) {
        let lane = Lane::Main;
        loop {
            match self.pass(lane, Some(stop)).await {
                // A full pass means more may be due: a burst of emails goes out back to back,
                // not one batch per poll period.
                Ok(pass) if pass.claimed == BATCH => {
                    tokio::task::yield_now().await;
                    if !stop.is_cancelled() {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, lane = lane.as_str(), "job pass failed"),
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

/// Whether running `job` may change what a cached page shows (a meeting made or deleted, its
/// Ready email sent): the pages are then forgotten at once, before the live queries tell. The
/// other emails, the reminders, a booking's follow-up and the webhooks write nothing but job
/// rows and deliveries no cached page reads, so the steady stream of them that bookings bring
/// leaves the pages kept.
fn may_change_pages(job: &ClaimedJob) -> bool {
    match job.kind {
        JobKind::Email => job.key.ends_with(super::keys::ZOOM_READY.1),
        JobKind::Reminder
        | JobKind::BookingCreated
        | JobKind::WebhookEvent
        | JobKind::WebhookDelivery => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, key: &str) -> ClaimedJob {
        ClaimedJob {
            id: "j".into(),
            kind,
            key: key.into(),
            payload: serde_json::Value::Null,
            attempts: 1,
        }
    }

    #[test]
    fn only_jobs_that_change_what_a_page_shows_forget_the_pages() {
        let ready = super::super::keys::zoom_ready("b1");
        assert!(may_change_pages(&job(JobKind::Email, &ready)));
        for kind in [
            JobKind::ZoomUpdate,
            JobKind::ZoomDelete,
            JobKind::AutoCreate,
        ] {
            assert!(may_change_pages(&job(kind, "k")), "{kind:?}");
        }
        for kind in [
            JobKind::Email,
            JobKind::Reminder,
            JobKind::BookingCreated,
            JobKind::WebhookEvent,
            JobKind::WebhookDelivery,
        ] {
            assert!(
                !may_change_pages(&job(kind, "booking:b1:confirmation")),
                "{kind:?}"
            );
        }
    }
}
