//! Server-Sent Events: `changed` whenever the data behind a page changes, so an open page
//! reads it again at once instead of waiting for its next poll. A stream holds one of its
//! account's few places (`open_streams.rs`), and ends when its session or API token does,
//! when it has been open for an hour (browsers reconnect by themselves) or when the server
//! stops.

use super::schemas::ErrorBody;
use std::convert::Infallible;

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};

use super::caller::MaybeCaller;
use crate::error::AppError;
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::open_streams::StreamSlot;
use crate::server::service::{live_updates, sessions};

/// The longest a stream stays open; the browser's `EventSource` then opens a new one, which
/// is checked afresh.
const MOST_OPEN: Duration = Duration::from_secs(60 * 60);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/events/appointments/{slot_id}/{booking_index}",
            get(appointment),
        )
        .route("/api/events/meeting-manager", get(meeting_manager))
}

#[utoipa::path(operation_id = "streamAppointmentEvents", get, path = "/api/events/appointments/{slot_id}/{booking_index}", tag = "Live updates", params(("slot_id" = String, Path), ("booking_index" = String, Path)), responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events: ready, then changed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "The account or the server holds as many open streams as it may")), security(("bearer" = [])))]
pub(super) async fn appointment(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Path((slot_id, index)): Path<(String, String)>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let slot = place(&state, caller.as_ref())?;
    let changes = live_updates::appointment(&state, caller.as_ref(), &slot_id, &index).await?;
    Ok(events(&state, changes, slot, caller, headers))
}

#[utoipa::path(operation_id = "streamMeetingManagerEvents", get, path = "/api/events/meeting-manager", tag = "Live updates", responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events: ready, then changed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody, description = "The account or the server holds as many open streams as it may")), security(("bearer" = [])))]
pub(super) async fn meeting_manager(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let slot = place(&state, caller.as_ref())?;
    let changes = live_updates::meeting_manager(&state, caller.as_ref()).await?;
    Ok(events(&state, changes, slot, caller, headers))
}

/// The caller's place for one more stream, taken before its live query is made (429 when
/// the account or the instance holds all it may). Without a caller, none: the use case then
/// answers 401.
fn place(state: &AppState, caller: Option<&Caller>) -> Result<Option<StreamSlot>, AppError> {
    caller
        .map(|c| state.open_streams.open(&c.user_id))
        .transpose()
}

/// `ready` once the watch is in place (a page reads again then, for what changed before),
/// then `changed` per change. Ends when the server stops (a shutdown does not wait for open
/// pages), when the caller's session or token ends, or after [`MOST_OPEN`]; the place is given
/// back with the stream.
fn events(
    state: &AppState,
    changes: impl Stream<Item = ()> + Send + 'static,
    slot: Option<StreamSlot>,
    caller: Option<Caller>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let ready = futures::stream::once(async { Event::default().event("ready").data("{}") });
    let changed = changes.map(|()| Event::default().event("changed").data("{}"));
    let stopping = state.stopping.clone().cancelled_owned();
    let revoked = caller_ends(state.clone(), headers, caller.map(|c| c.user_id));
    let stream = ready
        .chain(changed)
        .map(move |event| {
            // Held by the stream, so dropped (and the place freed) with it.
            let _held = &slot;
            Ok::<_, Infallible>(event)
        })
        .take_until(stopping)
        .take_until(Box::pin(revoked));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Resolves once the request's session or API token no longer stands for `user_id` (logout,
/// revocation, an account disabled), checked every `EVENT_STREAM_RECHECK_SECONDS`, or after
/// [`MOST_OPEN`]. A database out of reach ends nothing: the check runs again later.
async fn caller_ends(state: AppState, headers: HeaderMap, user_id: Option<String>) {
    let every = state.config.http.event_stream_recheck;
    let until = tokio::time::Instant::now() + MOST_OPEN;
    loop {
        tokio::time::sleep_until(until.min(tokio::time::Instant::now() + every)).await;
        if tokio::time::Instant::now() >= until {
            return;
        }
        match sessions::caller(&state, &headers).await {
            Ok(Some(now)) if Some(&now.user_id) == user_id.as_ref() => {}
            Ok(_) => return,
            Err(_) => {}
        }
    }
}
