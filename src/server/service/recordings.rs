//! Cloud recordings: when Zoom says a meeting's recording is ready, each file is copied (by a
//! job) into the recording store, and served to the booking's customer and specialist only,
//! until its retention ends.

use anyhow::Context;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::jobs::{JobKind, NewJob};
use crate::server::repo::bookings;
use crate::server::repo::recordings::{self, NewRecording, RecordingRow};
use crate::server::zoom::webhook::RecordingFile;
use crate::server::zoom::ZoomError;

use super::unexpected;

/// Zoom's download token lasts 24 h from the event; past it (less a margin for a transfer
/// under way) a fresh one is asked for.
const TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;
const TOKEN_MARGIN_MS: i64 = 10 * 60 * 1000;

/// One file to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetch {
    pub recording_id: String,
    pub meeting_uuid: String,
    pub file_id: String,
    pub download_url: String,
    #[serde(default)]
    pub download_token: Option<String>,
    /// When the webhook's token stops working (ms since the epoch).
    pub token_expires_ms: i64,
}

/// The record key of a file: the same file announced twice is one recording.
fn recording_id(uuid: &str, file_id: &str) -> String {
    let hash = hex::encode(Sha256::digest(format!("{uuid}|{file_id}").as_bytes()));
    format!("r{}", &hash[..19])
}

fn content_type(file: &RecordingFile) -> &'static str {
    let kind = file.file_type.to_ascii_uppercase();
    let extension = file
        .file_extension
        .as_deref()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match (kind.as_str(), extension.as_str()) {
        ("MP4", _) | (_, "MP4") => "video/mp4",
        ("M4A", _) | (_, "M4A") => "audio/mp4",
        ("TRANSCRIPT" | "CC", _) | (_, "VTT") => "text/vtt",
        ("CHAT", _) | (_, "TXT") => "text/plain; charset=utf-8",
        (_, "CSV") => "text/csv",
        (_, "JSON") => "application/json",
        _ => "application/octet-stream",
    }
}

/// A file's extension, safe as part of an object key.
fn extension(file: &RecordingFile) -> String {
    let raw = file
        .file_extension
        .clone()
        .unwrap_or_else(|| file.file_type.clone())
        .to_ascii_lowercase();
    let clean: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    if clean.is_empty() {
        "bin".into()
    } else {
        clean
    }
}

/// `recording.completed` for a booking's meeting: each finished file gets a row and a job
/// that copies it.
pub async fn on_completed(
    state: &AppState,
    meeting_id: &str,
    uuid: &str,
    files: &[RecordingFile],
    download_token: Option<&str>,
    sent_at_ms: i64,
) -> anyhow::Result<()> {
    // A recurring meeting's recordings go to its first holder (active first).
    let Some(booking) = bookings::by_meeting(&state.db, meeting_id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let sent_at = if sent_at_ms > 0 {
        sent_at_ms
    } else {
        Utc::now().timestamp_millis()
    };
    let mut rows = Vec::new();
    let mut jobs = Vec::new();
    for file in files {
        let finished = file
            .status
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("completed"));
        if !finished || file.download_url.is_empty() {
            continue;
        }
        if let Some(why) = state.zoom.download_refusal(&file.download_url) {
            tracing::warn!(meeting = %meeting_id, file = %file.id, %why, "recording file not copied");
            continue;
        }
        let id = recording_id(uuid, &file.id);
        let extension = extension(file);
        rows.push(NewRecording {
            object_key: format!("{}/{id}.{extension}", booking.id),
            id: id.clone(),
            file_type: file.file_type.clone(),
            recording_type: file.recording_type.clone(),
            extension,
            content_type: content_type(file).into(),
            size: file.file_size.unwrap_or(0),
            recording_start: file
                .recording_start
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        });
        let fetch = Fetch {
            recording_id: id.clone(),
            meeting_uuid: uuid.into(),
            file_id: file.id.clone(),
            download_url: file.download_url.clone(),
            download_token: download_token.map(str::to_string),
            token_expires_ms: sent_at + TOKEN_LIFETIME_MS,
        };
        jobs.push(NewJob {
            kind: JobKind::RecordingFetch,
            key: format!("recording-fetch:{id}"),
            payload: serde_json::to_value(&fetch).expect("fetches serialise"),
            delay_seconds: 0,
        });
    }
    if rows.is_empty() {
        return Ok(());
    }
    recordings::create_pending(&state.db, &booking.id, meeting_id, &rows, &jobs).await?;
    Ok(())
}

/// Copies one file into the store. With the webhook's token while it lasts; once it expired
/// (or Zoom refuses it), with a fresh one from the meeting's recordings.
pub async fn fetch(state: &AppState, job: &Fetch) -> anyhow::Result<()> {
    let Some(row) = recordings::by_id(&state.db, &job.recording_id).await? else {
        return Ok(());
    };
    if row.status == "stored" {
        return Ok(());
    }
    let usable = job
        .download_token
        .clone()
        .filter(|_| Utc::now().timestamp_millis() < job.token_expires_ms - TOKEN_MARGIN_MS);
    let response = match usable {
        Some(token) => match state.zoom.download(&job.download_url, &token).await {
            Err(ZoomError::Api {
                status: 401 | 403, ..
            }) => fresh_download(state, job).await?,
            other => other.context("downloading a recording from Zoom")?,
        },
        None => fresh_download(state, job).await?,
    };
    let size = store(state, &row, response).await?;
    recordings::mark_stored(&state.db, &row.id, size).await?;
    tracing::info!(recording = %row.id, size, "recording stored");
    Ok(())
}

async fn fresh_download(state: &AppState, job: &Fetch) -> anyhow::Result<reqwest::Response> {
    let (token, files) = state
        .zoom
        .recording_files(&job.meeting_uuid)
        .await
        .context("asking Zoom for a fresh download token")?;
    let url = files
        .iter()
        .find(|f| f.id == job.file_id)
        .map(|f| f.download_url.clone())
        .context("the recording file is no longer at Zoom")?;
    state
        .zoom
        .download(&url, &token)
        .await
        .context("downloading a recording from Zoom with a fresh token")
}

/// Streams the body into the store in parts (memory stays bounded); returns its size.
async fn store(
    state: &AppState,
    row: &RecordingRow,
    response: reqwest::Response,
) -> anyhow::Result<u64> {
    let body = futures::stream::unfold(response, |mut response| async move {
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), response)),
            Ok(None) => None,
            Err(e) => Some((
                Err(anyhow::Error::new(e).context("reading a recording from Zoom")),
                response,
            )),
        }
    });
    state.recordings.write_stream(&row.object_key, body).await
}

/// The recording if the caller is its booking's customer or specialist; to anyone else it
/// does not exist.
pub async fn readable(
    state: &AppState,
    caller: Option<&Caller>,
    id: &str,
) -> AppResult<RecordingRow> {
    let caller = caller.ok_or_else(AppError::login_required)?;
    let not_found = || AppError::not_found("Recording not found");
    let row = recordings::by_id(&state.db, id)
        .await
        .map_err(unexpected("reading a recording"))?
        .ok_or_else(not_found)?;
    let allowed = caller.user_id == row.customer || caller.user_id == row.specialist;
    if !allowed || row.status != "stored" {
        return Err(not_found());
    }
    Ok(row)
}

/// Deletes recordings past their retention, from the store and then their rows; how many.
pub async fn purge_expired(state: &AppState) -> anyhow::Result<usize> {
    let mut purged = 0;
    loop {
        let batch = recordings::expired(&state.db, state.config.retention.recordings).await?;
        if batch.is_empty() {
            return Ok(purged);
        }
        for (id, key) in batch {
            state
                .recordings
                .delete(&key)
                .await
                .with_context(|| format!("deleting recording {id} from the store"))?;
            recordings::delete(&state.db, &id).await?;
            purged += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(kind: &str, ext: Option<&str>) -> RecordingFile {
        RecordingFile {
            id: "f".into(),
            file_type: kind.into(),
            file_extension: ext.map(Into::into),
            file_size: None,
            download_url: "u".into(),
            recording_type: None,
            recording_start: None,
            status: None,
        }
    }

    #[test]
    fn files_get_their_type_and_a_safe_extension() {
        assert_eq!(content_type(&file("MP4", Some("MP4"))), "video/mp4");
        assert_eq!(content_type(&file("M4A", None)), "audio/mp4");
        assert_eq!(content_type(&file("TRANSCRIPT", Some("VTT"))), "text/vtt");
        assert_eq!(
            content_type(&file("TIMELINE", Some("JSON"))),
            "application/json"
        );
        assert_eq!(extension(&file("MP4", Some("../../x"))), "x");
        assert_eq!(extension(&file("CHAT", None)), "chat");
        assert_eq!(recording_id("u", "f"), recording_id("u", "f"));
        assert_ne!(recording_id("u", "f"), recording_id("u", "g"));
        assert!(crate::server::db::is_valid_key(&recording_id("u", "f")));
    }
}
