//! The periodic clean-up's deletions: records whose use is over. Sessions and counters go when
//! they expire, as do replayable answers of idempotency keys; finished jobs, webhook delivery
//! logs (as long as failed jobs), Zoom's event bodies once applied, and confirmation and
//! password reset links after their retention. Each call
//! deletes at most one batch, so no transaction grows with the backlog.

use serde_json::json;

use crate::server::config::RetentionConfig;
use crate::server::db::{run, Db, DbError};

const BATCH: u32 = 1000;

/// What one clean-up pass deleted, per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub jobs: usize,
    pub sessions: usize,
    /// Email confirmation and password reset links.
    pub verifications: usize,
    pub counters: usize,
    pub idempotency_keys: usize,
    pub webhook_deliveries: usize,
    pub zoom_events: usize,
}

impl Deleted {
    pub fn total(&self) -> usize {
        self.jobs
            + self.sessions
            + self.verifications
            + self.counters
            + self.idempotency_keys
            + self.webhook_deliveries
            + self.zoom_events
    }
}

/// One batch of each kind of expired record.
pub async fn delete_expired(db: &Db, retention: &RetentionConfig) -> Result<Deleted, DbError> {
    let seconds = |d: std::time::Duration| format!("{}s", d.as_secs());
    let mut rows = run(
        db,
        "LET $finished = (SELECT VALUE id FROM job
            WHERE (status IN ['done', 'cancelled'] AND done_at < time::now() - type::duration($jobs))
               OR (status = 'failed' AND run_at < time::now() - type::duration($failed))
            LIMIT $batch);
        DELETE $finished RETURN NONE;
        LET $sessions = (SELECT VALUE id FROM session WHERE expires_at < time::now() LIMIT $batch);
        DELETE $sessions RETURN NONE;
        LET $links = (SELECT VALUE id FROM email_verification
            WHERE expires_at < time::now() - type::duration($link_retention) LIMIT $batch);
        DELETE $links RETURN NONE;
        LET $resets = (SELECT VALUE id FROM password_reset
            WHERE expires_at < time::now() - type::duration($link_retention) LIMIT $batch);
        DELETE $resets RETURN NONE;
        LET $counters = (SELECT VALUE id FROM rate_counter WHERE window_end < time::now() LIMIT $batch);
        DELETE $counters RETURN NONE;
        LET $keys = (SELECT VALUE id FROM idempotency_key WHERE expires_at < time::now() LIMIT $batch);
        DELETE $keys RETURN NONE;
        LET $deliveries = (SELECT VALUE id FROM webhook_delivery
            WHERE created_at < time::now() - type::duration($failed) AND status != 'pending'
            LIMIT $batch);
        DELETE $deliveries RETURN NONE;
        -- Raw bodies with participants' emails and download tokens (G9); one whose job still
        -- has to apply it stays.
        LET $events = (SELECT VALUE id FROM zoom_event
            WHERE received_at < time::now() - type::duration($zoom_events)
              AND count((SELECT id FROM job
                  WHERE key = string::concat('zoom-event:', record::id($parent.id))
                    AND status IN ['pending', 'running'])) = 0
            LIMIT $batch);
        DELETE $events RETURN NONE;
        RETURN [array::len($finished), array::len($sessions), array::len($links) + array::len($resets),
            array::len($counters), array::len($keys), array::len($deliveries),
            array::len($events)];",
        json!({
            "jobs": seconds(retention.finished_jobs),
            "failed": seconds(retention.failed_jobs),
            "link_retention": seconds(retention.verifications),
            "zoom_events": seconds(retention.zoom_events),
            "batch": BATCH,
        }),
    )
    .await?;
    let last = rows.count() - 1;
    let counts = rows.all::<usize>(last)?;
    let [jobs, sessions, verifications, counters, idempotency_keys, webhook_deliveries, zoom_events] =
        counts[..]
    else {
        return Err(DbError::Decode(format!("clean-up counts: {counts:?}")));
    };
    Ok(Deleted {
        jobs,
        sessions,
        verifications,
        counters,
        idempotency_keys,
        webhook_deliveries,
        zoom_events,
    })
}
