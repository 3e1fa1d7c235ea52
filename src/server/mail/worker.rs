//! The delivery worker: claims due outbox rows, sends them, records the outcome.
//!
//! Delivery is at least once. The window for a duplicate is a worker that sent a message and
//! died (or lost the database) before marking it sent: after the lease expires (120 s)
//! another worker sends it again. Everything else is exactly once.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;

use super::outbox::{self, ClaimedEmail};
use super::transport::{build_message, MailTransport};
use crate::server::db::{Db, DbError};

pub const MAX_ATTEMPTS: u32 = 8;
const BATCH: usize = 20;

#[derive(Clone)]
pub struct MailWorker {
    db: Db,
    transport: MailTransport,
    from: Mailbox,
    /// Identifies this worker's leases.
    owner: Arc<str>,
    max_attempts: u32,
}

impl MailWorker {
    pub fn new(db: Db, transport: MailTransport, from: Mailbox) -> Self {
        let owner: Arc<str> = format!("worker-{}", uuid::Uuid::new_v4()).into();
        Self {
            db,
            transport,
            from,
            owner,
            max_attempts: MAX_ATTEMPTS,
        }
    }

    /// One pass: claims what is due and tries to send each. Returns how many were sent.
    /// Public so tests can drain the outbox deterministically.
    pub async fn run_once(&self) -> Result<usize, DbError> {
        let claimed = outbox::claim_due(&self.db, &self.owner, BATCH).await?;
        let mut sent = 0;
        for email in claimed {
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

    /// Runs until `stop` is cancelled. A pass in progress finishes first, so an email being
    /// handed to the server is not cut off half-way.
    pub async fn run(self, poll: Duration, stop: CancellationToken) {
        loop {
            if let Err(e) = self.run_once().await {
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
