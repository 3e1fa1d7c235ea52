//! The delivery worker: claims due outbox rows, sends them, records the outcome.
//!
//! Rows are claimed one at a time, each under a lease longer than the transport may take to
//! send it, so no row is sent after its lease expired. Delivery is still at least once: a
//! worker that handed a message to the server and died (or lost the database) before marking
//! it sent leaves a lease that expires, and another worker sends the message again.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;

use super::outbox::{self, ClaimedEmail};
use super::transport::{build_message, MailTransport};
use crate::server::db::{Db, DbError};

pub const MAX_ATTEMPTS: u32 = 8;
/// Rows one pass sends at most, so a pass ends even while new mail keeps arriving.
const BATCH: usize = 20;

#[derive(Clone)]
pub struct MailWorker {
    db: Db,
    transport: MailTransport,
    from: Mailbox,
    /// Identifies this worker's leases.
    owner: Arc<str>,
    max_attempts: u32,
    lease_seconds: u64,
}

impl MailWorker {
    pub fn new(db: Db, transport: MailTransport, from: Mailbox, lease_seconds: u64) -> Self {
        let owner: Arc<str> = format!("worker-{}", uuid::Uuid::new_v4()).into();
        Self {
            db,
            transport,
            from,
            owner,
            max_attempts: MAX_ATTEMPTS,
            lease_seconds,
        }
    }

    /// One pass: claims due rows one at a time and tries to send each. Returns how many were
    /// sent. Public so tests can drain the outbox deterministically.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        self.pass(None).await
    }

    /// Like `run_once`, but stops claiming once `stop` is cancelled.
    async fn pass(&self, stop: Option<&CancellationToken>) -> Result<usize, DbError> {
        let mut sent = 0;
        for _ in 0..BATCH {
            if stop.is_some_and(CancellationToken::is_cancelled) {
                break;
            }
            let Some(email) = outbox::claim_next(&self.db, &self.owner, self.lease_seconds).await?
            else {
                break;
            };
            if self.deliver(&email).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    async fn deliver(&self, email: &ClaimedEmail) -> Result<bool, DbError> {
        let outcome = match build_message(&self.from, email) {
            Ok(message) => self.transport.send(message).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                outbox::mark_sent(&self.db, &email.id, &self.owner).await?;
                tracing::info!(key = %email.idempotency_key, "email sent");
                Ok(true)
            }
            Err(e) => {
                let error = format!("{e:#}");
                outbox::mark_failed(
                    &self.db,
                    &email.id,
                    &self.owner,
                    &error,
                    email.attempts,
                    self.max_attempts,
                )
                .await?;
                if email.attempts >= self.max_attempts {
                    tracing::error!(key = %email.idempotency_key, attempts = email.attempts, %error, "email failed for good");
                } else {
                    tracing::warn!(key = %email.idempotency_key, attempts = email.attempts, %error, "email delivery failed; will retry");
                }
                Ok(false)
            }
        }
    }

    /// Runs until `stop` is cancelled. The email being handed to the server then is finished
    /// first; no new one is claimed.
    pub async fn run(self, poll: Duration, stop: CancellationToken) {
        loop {
            if let Err(e) = self.pass(Some(&stop)).await {
                tracing::warn!(error = %e, "outbox pass failed");
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!("mail worker stopped");
    }
}
