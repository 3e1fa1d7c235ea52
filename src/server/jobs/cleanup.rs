//! The periodic clean-up: every `CLEANUP_EVERY_MINUTES`, deletes finished jobs, used and
//! expired confirmation links, expired sessions, idempotency keys, rate counters and Zoom's event
//! bodies past their retention
//! (`RETAIN_*` settings), a batch at a time until none is left.

use tokio_util::sync::CancellationToken;

use crate::server::app_state::AppState;
use crate::server::config::RetentionConfig;
use crate::server::db::Db;
use crate::server::repo::cleanup::{self, Deleted};

/// Deletes everything past its retention now; what went.
pub async fn run_once(
    db: &Db,
    retention: &RetentionConfig,
) -> Result<Deleted, crate::server::db::DbError> {
    let mut all = Deleted::default();
    loop {
        let batch = cleanup::delete_expired(db, retention).await?;
        all.jobs += batch.jobs;
        all.sessions += batch.sessions;
        all.verifications += batch.verifications;
        all.counters += batch.counters;
        all.idempotency_keys += batch.idempotency_keys;
        all.webhook_deliveries += batch.webhook_deliveries;
        all.zoom_events += batch.zoom_events;
        if batch.total() == 0 {
            return Ok(all);
        }
    }
}

/// Runs the clean-up every `retention.every` until `stop`: the records above, and the
/// recordings past `RECORDING_RETENTION_DAYS` (store first, then row).
pub async fn run(state: AppState, stop: CancellationToken) {
    let retention = state.config.retention.clone();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(retention.every) => {}
        }
        match run_once(&state.db, &retention).await {
            Ok(deleted) if deleted.total() > 0 => tracing::info!(?deleted, "clean-up"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "clean-up failed; it runs again later"),
        }
        match crate::server::service::recordings::purge_expired(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(recordings = n, "recordings past their retention deleted"),
            Err(e) => {
                tracing::warn!(error = %e, "deleting old recordings failed; it runs again later")
            }
        }
    }
}
