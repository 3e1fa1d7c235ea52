//! The clock of availability: every 15 minutes each of the specialists' own calendars is read
//! again, and every hour each offering's sessions are made again up to its booking window (the
//! window moves on with the days). One job per calendar and quarter hour, per offering and
//! hour, by their keys, however many instances queue them.

use chrono::{Timelike, Utc};
use tokio_util::sync::CancellationToken;

use super::NewJob;
use crate::server::app_state::AppState;
use crate::server::repo::{busy_calendars, jobs, offerings};

const EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Queues this quarter hour's calendar reads and this hour's offering jobs; how many.
pub async fn queue_now(state: &AppState) -> Result<usize, crate::server::db::DbError> {
    let now = Utc::now();
    let hour = now.format("%Y%m%d%H").to_string();
    let quarter = format!("{hour}q{}", now.minute() / 15);
    let mut due: Vec<NewJob> = busy_calendars::all_ids(&state.db)
        .await?
        .iter()
        .map(|id| NewJob::busy_calendar_fetch(id, &quarter))
        .collect();
    due.extend(
        offerings::all_ids(&state.db)
            .await?
            .iter()
            .map(|id| NewJob::offering_sessions(id, &hour)),
    );
    for chunk in due.chunks(100) {
        jobs::queue(&state.db, chunk).await?;
    }
    Ok(due.len())
}

/// At start and then every 15 minutes, until `stop`.
pub async fn run(state: AppState, stop: CancellationToken) {
    loop {
        if let Err(e) = queue_now(&state).await {
            tracing::warn!(error = %e, "queueing calendar reads and offering sessions failed; it runs again later");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
