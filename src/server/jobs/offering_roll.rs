//! The rolling horizon of offerings: every hour each offering's sessions are made again up to
//! its booking window (the window moves on with the days). One job per offering and hour, by
//! its key, however many instances queue it.

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::NewJob;
use crate::server::app_state::AppState;
use crate::server::repo::{jobs, offerings};

const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Queues this hour's job of every offering.
pub async fn queue_this_hour(state: &AppState) -> Result<usize, crate::server::db::DbError> {
    let hour = Utc::now().format("%Y%m%d%H").to_string();
    let ids = offerings::all_ids(&state.db).await?;
    let due: Vec<NewJob> = ids
        .iter()
        .map(|id| NewJob::offering_sessions(id, &hour))
        .collect();
    for chunk in due.chunks(100) {
        jobs::queue(&state.db, chunk).await?;
    }
    Ok(due.len())
}

/// At start and then every hour, until `stop`.
pub async fn run(state: AppState, stop: CancellationToken) {
    loop {
        if let Err(e) = queue_this_hour(&state).await {
            tracing::warn!(error = %e, "queueing the offerings' hourly sessions failed; it runs again later");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
