//! Server-Sent Events: `changed` whenever the data behind a page changes, so an open page
//! reads it again at once instead of waiting for its next poll.

use super::schemas::ErrorBody;
use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};

use super::caller::MaybeCaller;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::service::live_updates;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/events/appointments/{slot_id}/{booking_index}",
            get(appointment),
        )
        .route("/api/events/meeting-manager", get(meeting_manager))
}

#[utoipa::path(operation_id = "streamAppointmentEvents", get, path = "/api/events/appointments/{slot_id}/{booking_index}", tag = "Live updates", params(("slot_id" = String, Path), ("booking_index" = String, Path)), responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events: ready, then changed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn appointment(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let changes = live_updates::appointment(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(events(&state, changes))
}

#[utoipa::path(operation_id = "streamMeetingManagerEvents", get, path = "/api/events/meeting-manager", tag = "Live updates", responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events: ready, then changed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub(super) async fn meeting_manager(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let changes = live_updates::meeting_manager(&state, caller.as_ref()).await?;
    Ok(events(&state, changes))
}

/// `ready` once the watch is in place (a page reads again then, for what changed before),
/// then `changed` per change; ends when the server stops, so a shutdown does not wait for
/// open pages (browsers reconnect by themselves).
fn events(
    state: &AppState,
    changes: impl Stream<Item = ()> + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let ready = futures::stream::once(async { Event::default().event("ready").data("{}") });
    let changed = changes.map(|()| Event::default().event("changed").data("{}"));
    let stopping = state.stopping.clone().cancelled_owned();
    Sse::new(ready.chain(changed).map(Ok).take_until(stopping)).keep_alive(KeepAlive::default())
}
