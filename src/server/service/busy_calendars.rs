//! A specialist's own calendars: added by their secret iCalendar address, read by a job every
//! 15 minutes (conditional GET, limits on size and time, the outgoing-request rules of the
//! webhooks), their busy times kept free of sessions. A calendar that fails keeps its last
//! busy times, and its owner sees since when it fails.

use anyhow::Context;
use chrono::{Duration, Utc};
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;

use crate::error::{AppError, AppResult};
use crate::model::{BusyCalendarInput, BusyCalendarView, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::busy_times::{self, Busy};
use crate::server::db::new_key;
use crate::server::jobs::NewJob;
use crate::server::outgoing_webhooks::client;
use crate::server::repo::busy_calendars::{self, CalendarRow, Fetched};
use crate::server::repo::{offerings, users};
use crate::server::security::public_address;

use super::{require_role, unexpected};

pub const NOT_FOUND: &str = "Calendar not found";
const MAX_URL_LEN: usize = 2000;
/// The largest calendar file read.
const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Busy times kept ahead (and a day behind, for sessions under way).
const AHEAD_DAYS: i64 = 400;

fn specialist(caller: Option<&Caller>) -> AppResult<&Caller> {
    require_role(
        caller,
        Role::Specialist,
        "Only specialists can add calendars.",
    )
}

/// The address to fetch: `webcal://` is the same as `https://`.
async fn checked_url(state: &AppState, raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(AppError::bad_request(format!(
            "url is required and at most {MAX_URL_LEN} characters"
        )));
    }
    let raw = match raw.strip_prefix("webcal://") {
        Some(rest) => format!("https://{rest}"),
        None => raw.to_string(),
    };
    let url = reqwest::Url::parse(&raw)
        .map_err(|_| AppError::bad_request("url must be an https:// (or webcal://) address"))?;
    public_address::may_reach(&url, state.config.webhooks.public_only)
        .await
        .map_err(AppError::bad_request)?;
    Ok(url.to_string())
}

/// The address as shown back: its scheme and host, and its last four characters.
fn masked(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let scheme = parsed
        .as_ref()
        .map(|u| u.scheme().to_string())
        .unwrap_or_default();
    let tail: String = url
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{scheme}://{host}/…{tail}")
}

fn view(row: &CalendarRow) -> BusyCalendarView {
    BusyCalendarView {
        id: row.id.clone(),
        label: row.label.clone(),
        address: masked(&row.url),
        fetched_at: row.fetched_at,
        failing_since: row.failing_since,
        last_error: row.last_error.clone(),
        busy_count: row.busy.len(),
    }
}

pub async fn add(
    state: &AppState,
    caller: Option<&Caller>,
    input: BusyCalendarInput,
) -> AppResult<BusyCalendarView> {
    let caller = specialist(caller)?;
    super::require_session(caller, "Calendars")?;
    let url = checked_url(state, &input.url).await?;
    let label = input
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().take(80).collect::<String>());
    let row = busy_calendars::create(
        &state.db,
        &new_key(),
        &caller.user_id,
        &url,
        label.as_deref(),
    )
    .await
    .map_err(unexpected("saving a calendar"))?
    .ok_or_else(|| {
        AppError::conflict(format!(
            "A specialist can add at most {} calendars: remove one first",
            busy_calendars::MAX_PER_SPECIALIST
        ))
    })?;
    Ok(view(&row))
}

pub async fn list(state: &AppState, caller: Option<&Caller>) -> AppResult<Vec<BusyCalendarView>> {
    let caller = specialist(caller)?;
    let rows = busy_calendars::of_specialist(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("listing calendars"))?;
    Ok(rows.iter().map(view).collect())
}

pub async fn remove(state: &AppState, caller: Option<&Caller>, id: &str) -> AppResult<()> {
    let caller = specialist(caller)?;
    let remakes = remakes_of(state, &caller.user_id, "calendar-removed")
        .await
        .map_err(unexpected("removing a calendar"))?;
    busy_calendars::delete(&state.db, id, &caller.user_id, &remakes)
        .await
        .map_err(unexpected("removing a calendar"))?
        .then_some(())
        .ok_or_else(|| AppError::not_found(NOT_FOUND))
}

/// Jobs that make the specialist's offerings' sessions again (their busy times changed).
async fn remakes_of(
    state: &AppState,
    specialist: &str,
    why: &str,
) -> Result<Vec<NewJob>, crate::server::db::DbError> {
    let stamp = format!("{why}-{}", Utc::now().timestamp_micros());
    Ok(offerings::of_specialist(&state.db, specialist)
        .await?
        .iter()
        .map(|o| NewJob::offering_sessions(&o.id, &stamp))
        .collect())
}

/// The job: reads the calendar and keeps its busy times (or keeps the last ones and records
/// the failure). A failing calendar is not the job's failure: it is tried again in 15 minutes.
pub async fn fetch(state: &AppState, calendar_id: &str) -> anyhow::Result<()> {
    let Some(row) = busy_calendars::by_id(&state.db, calendar_id).await? else {
        return Ok(());
    };
    let zone: chrono_tz::Tz = users::by_id(&state.db, &row.specialist)
        .await?
        .and_then(|u| u.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let fetched = match read(state, &row, zone).await {
        Ok(Read::NotModified) => {
            busy_calendars::record_fetch(&state.db, &row.id, Fetched::Unchanged).await?;
            return Ok(());
        }
        Ok(Read::Busy {
            busy,
            etag,
            last_modified,
        }) => (busy, etag, last_modified),
        Err(e) => {
            let error = format!("{e:#}");
            tracing::info!(calendar = %row.id, %error, "a calendar could not be read");
            busy_calendars::record_fetch(&state.db, &row.id, Fetched::Failed { error: &error })
                .await?;
            return Ok(());
        }
    };
    let (busy, etag, last_modified) = fetched;
    if busy == row.busy && row.failing_since.is_none() && row.fetched_at.is_some() {
        busy_calendars::record_fetch(&state.db, &row.id, Fetched::Unchanged).await?;
        return Ok(());
    }
    let remakes = remakes_of(state, &row.specialist, "busy").await?;
    busy_calendars::record_fetch(
        &state.db,
        &row.id,
        Fetched::Changed {
            busy: &busy,
            etag: etag.as_deref(),
            last_modified: last_modified.as_deref(),
            remakes: &remakes,
        },
    )
    .await?;
    Ok(())
}

enum Read {
    NotModified,
    Busy {
        busy: Vec<Busy>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

async fn read(state: &AppState, row: &CalendarRow, zone: chrono_tz::Tz) -> anyhow::Result<Read> {
    let url = reqwest::Url::parse(&row.url).context("the address is not a URL")?;
    let public_only = state.config.webhooks.public_only;
    if let Some(why) = public_address::refusal(&url, public_only) {
        anyhow::bail!("not fetched: {why}");
    }
    let http = client::build_for(
        public_only,
        concat!("Specialistly-Calendar/", env!("CARGO_PKG_VERSION")),
    );
    let mut request = http.get(url);
    if let Some(etag) = &row.etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &row.last_modified {
        request = request.header(IF_MODIFIED_SINCE, modified);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Read::NotModified);
    }
    if !response.status().is_success() {
        anyhow::bail!("the calendar's server answered HTTP {}", response.status());
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BYTES {
            anyhow::bail!("the calendar is larger than {} MB", MAX_BYTES / 1024 / 1024);
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body);
    let now = Utc::now();
    let busy = busy_times::busy_between(
        &text,
        zone,
        now - Duration::days(1),
        now + Duration::days(AHEAD_DAYS),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    Ok(Read::Busy {
        busy,
        etag,
        last_modified,
    })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "the calendar's server did not answer in time".into();
    }
    let mut text = "the calendar could not be fetched".to_string();
    if let Some(cause) = client::innermost_cause(e, 200) {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}
