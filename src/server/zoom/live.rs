//! Zoom's REST API over reqwest with Server-to-Server OAuth.
//!
//! The access token is cached until shortly before it expires; the cache's mutex is held
//! while fetching, so concurrent requests share one token request. A 401 from the API drops
//! the token and retries once with a new one.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::{
    truncate_chars, MeetingRequest, ZoomError, ZoomMeeting, MAX_AGENDA_CHARS, MAX_TOPIC_CHARS,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::server::config::ZoomCredentials;

/// Retries after a 429 that is not the daily limit.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Longest `Retry-After` we are willing to wait inside a request.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Pages of upcoming meetings read at most when looking for one (300 each).
const MAX_LIST_PAGES: usize = 20;
/// Renew this long before Zoom's expiry.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

struct CachedToken {
    value: String,
    expires: Instant,
}

pub struct ZoomClient {
    http: reqwest::Client,
    /// For recording files: no limit on the whole transfer (files are large), only on
    /// connecting and on each read.
    downloads: reqwest::Client,
    download_rule: super::DownloadRule,
    credentials: ZoomCredentials,
    api_url: String,
    oauth_url: String,
    token: Mutex<Option<CachedToken>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct MeetingAnswer {
    id: serde_json::Value,
    join_url: String,
    start_url: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    host_id: Option<String>,
}

impl MeetingAnswer {
    fn into_meeting(self, password: String) -> Result<ZoomMeeting, ZoomError> {
        Ok(ZoomMeeting {
            id: meeting_id(&self.id)?,
            host_id: self.host_id.filter(|h| !h.is_empty()),
            join_url: self.join_url,
            start_url: self.start_url,
            password,
        })
    }
}

/// Meeting ids are 64-bit numbers; some answers quote them.
fn meeting_id(id: &serde_json::Value) -> Result<String, ZoomError> {
    match id {
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::String(s) => Ok(s.clone()),
        other => Err(ZoomError::Decode(format!("meeting id {other}"))),
    }
}

#[derive(Deserialize)]
struct MeetingTime {
    start_time: Option<String>,
}

#[derive(Deserialize)]
struct MeetingList {
    #[serde(default)]
    meetings: Vec<ListedMeeting>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct ListedMeeting {
    id: serde_json::Value,
    agenda: Option<String>,
}

#[derive(Deserialize)]
struct ParticipantPage {
    #[serde(default)]
    participants: Vec<PastParticipant>,
    next_page_token: Option<String>,
}

/// One stay of someone in a past meeting, from Zoom's report.
#[derive(Debug, Clone, Deserialize)]
pub struct PastParticipant {
    /// The Zoom user id (the host's equals the meeting's host id); may be empty.
    #[serde(default)]
    pub id: Option<String>,
    /// The participant's id within the meeting.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    pub join_time: DateTime<Utc>,
    pub leave_time: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

impl ZoomClient {
    pub fn new(
        credentials: ZoomCredentials,
        api_url: String,
        oauth_url: String,
        timeout: Duration,
        download_rule: super::DownloadRule,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("building the HTTP client");
        let downloads = download_rule.client(timeout);
        Self {
            http,
            downloads,
            download_rule,
            credentials,
            api_url,
            oauth_url,
            token: Mutex::new(None),
        }
    }

    async fn token(&self) -> Result<String, ZoomError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.expires > Instant::now()) {
            return Ok(t.value.clone());
        }
        let response = self
            .http
            .post(&self.oauth_url)
            .query(&[
                ("grant_type", "account_credentials"),
                ("account_id", &self.credentials.account_id),
            ])
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose()),
            )
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            tracing::error!(status, "Zoom refused the OAuth token request");
            return Err(ZoomError::Auth);
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|e| ZoomError::Decode(e.to_string()))?;
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        *cached = Some(CachedToken {
            value: answer.access_token.clone(),
            expires: Instant::now() + lifetime,
        });
        Ok(answer.access_token)
    }

    async fn forget_token(&self, stale: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == stale) {
            *cached = None;
        }
    }

    /// Sends a request built by `build` with a Bearer token, handling a stale token (one
    /// retry with a new one) and 429s (Retry-After, bounded; the daily limit is final).
    async fn call(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<Response, ZoomError> {
        let mut refreshed = false;
        let mut rate_limited = 0;
        loop {
            let token = self.token().await?;
            let response = build(&token)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(transport_error)?;
            match response.status() {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    refreshed = true;
                    self.forget_token(&token).await;
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let headers = response.headers().clone();
                    let body = error_body(response).await;
                    let daily = headers
                        .get("x-ratelimit-type")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.to_ascii_lowercase().contains("daily"))
                        || body.1.to_ascii_lowercase().contains("daily");
                    if daily {
                        tracing::warn!(code = ?body.0, message = %body.1, "Zoom daily rate limit reached");
                        return Err(ZoomError::DailyLimit);
                    }
                    rate_limited += 1;
                    if rate_limited > MAX_RATE_LIMIT_RETRIES {
                        return Err(ZoomError::RateLimited);
                    }
                    let wait = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or(Duration::from_secs(1))
                        .min(MAX_RETRY_AFTER);
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "Zoom answered 429; waiting"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(response),
            }
        }
    }

    pub async fn create_meeting(&self, request: &MeetingRequest) -> Result<ZoomMeeting, ZoomError> {
        let url = format!(
            "{}/users/{}/meetings",
            self.api_url,
            urlencode(&request.host)
        );
        let mut body = json!({
            "topic": truncate_chars(&request.topic, MAX_TOPIC_CHARS),
            "type": if request.recurring { 3 } else { 2 },
            "timezone": request.timezone,
            "agenda": truncate_chars(&request.agenda, MAX_AGENDA_CHARS),
            "password": request.password,
            "settings": {
                "waiting_room": request.settings.waiting_room,
                "join_before_host": request.settings.join_before_host,
                "host_video": request.settings.host_video,
                "participant_video": request.settings.participant_video,
                "mute_upon_entry": request.settings.mute_upon_entry,
                "auto_recording": if request.settings.cloud_recording { "cloud" } else { "none" },
            },
        });
        // A recurring meeting with no fixed time has neither a start nor a duration.
        if !request.recurring {
            body["start_time"] = json!(request.starts_at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            body["duration"] = json!(request.duration_minutes);
        }
        let response = self.call(|_| self.http.post(&url).json(&body)).await?;
        if response.status() != StatusCode::CREATED && response.status() != StatusCode::OK {
            return Err(api_error(response).await);
        }
        let answer: MeetingAnswer = response
            .json()
            .await
            .map_err(|e| ZoomError::Decode(e.to_string()))?;
        let password = answer.password.clone();
        answer.into_meeting(password.unwrap_or_else(|| request.password.clone()))
    }

    /// The upcoming meeting of `host` whose agenda carries `marker`, read in full; `None`
    /// when there is none. Walks every page of `GET /users/{host}/meetings?type=upcoming`
    /// (agendas there are cut at 250 characters, so the marker comes first).
    pub async fn find_meeting(
        &self,
        host: &str,
        marker: &str,
    ) -> Result<Option<ZoomMeeting>, ZoomError> {
        let url = format!("{}/users/{}/meetings", self.api_url, urlencode(host));
        let mut page_token = String::new();
        for _ in 0..MAX_LIST_PAGES {
            let response = self
                .call(|_| {
                    self.http.get(&url).query(&[
                        ("type", "upcoming"),
                        ("page_size", "300"),
                        ("next_page_token", page_token.as_str()),
                    ])
                })
                .await?;
            if !response.status().is_success() {
                return Err(api_error(response).await);
            }
            let page: MeetingList = response
                .json()
                .await
                .map_err(|e| ZoomError::Decode(e.to_string()))?;
            if let Some(found) = page
                .meetings
                .iter()
                .find(|m| m.agenda.as_deref().is_some_and(|a| a.contains(marker)))
            {
                return self.meeting(&meeting_id(&found.id)?).await.map(Some);
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => page_token = next,
                None => return Ok(None),
            }
        }
        Err(ZoomError::Decode(
            "too many pages of upcoming meetings".into(),
        ))
    }

    /// `GET /meetings/{id}`, decoded as `T`.
    async fn get_meeting<T: serde::de::DeserializeOwned>(&self, id: &str) -> Result<T, ZoomError> {
        let url = format!("{}/meetings/{}", self.api_url, urlencode(id));
        let response = self.call(|_| self.http.get(&url)).await?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        response
            .json()
            .await
            .map_err(|e| ZoomError::Decode(e.to_string()))
    }

    /// One meeting in full: its links and password.
    async fn meeting(&self, id: &str) -> Result<ZoomMeeting, ZoomError> {
        let answer: MeetingAnswer = self.get_meeting(id).await?;
        let password = answer
            .password
            .clone()
            .ok_or_else(|| ZoomError::Decode("meeting without a password".into()))?;
        answer.into_meeting(password)
    }

    /// `PATCH /meetings/{id}` (204, no body), then reads the meeting back to confirm the move.
    pub async fn update_meeting(
        &self,
        id: &str,
        starts_at: DateTime<Utc>,
        duration_minutes: u32,
        timezone: &str,
    ) -> Result<(), ZoomError> {
        let url = format!("{}/meetings/{}", self.api_url, urlencode(id));
        let start = starts_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let body =
            json!({ "start_time": start, "duration": duration_minutes, "timezone": timezone });
        let response = self.call(|_| self.http.patch(&url).json(&body)).await?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        let now: MeetingTime = self.get_meeting(id).await?;
        if now.start_time.as_deref() != Some(start.as_str()) {
            return Err(ZoomError::Decode(format!(
                "the meeting starts at {:?} after the update, not {start}",
                now.start_time
            )));
        }
        Ok(())
    }

    /// Deletes a meeting without Zoom's own emails (we send ours); already gone counts as done.
    pub async fn delete_meeting(&self, id: &str) -> Result<(), ZoomError> {
        let url = format!("{}/meetings/{}", self.api_url, urlencode(id));
        let response = self
            .call(|_| {
                self.http.delete(&url).query(&[
                    ("schedule_for_reminder", "false"),
                    ("cancel_meeting_reminder", "false"),
                ])
            })
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        match api_error(response).await {
            // "Meeting does not exist": already gone, which is what we wanted.
            ZoomError::Api {
                status: 404,
                code: Some(3001),
                ..
            } => Ok(()),
            other => Err(other),
        }
    }

    /// Everyone who was in a past meeting (`meeting`: an instance's uuid, or the meeting id
    /// for its latest instance), every page; `None` when Zoom knows no past instance.
    pub async fn past_participants(
        &self,
        meeting: &str,
    ) -> Result<Option<Vec<PastParticipant>>, ZoomError> {
        let url = format!(
            "{}/past_meetings/{}/participants",
            self.api_url,
            past_meeting_segment(meeting)
        );
        let mut all = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_LIST_PAGES {
            let response = self
                .call(|_| {
                    self.http.get(&url).query(&[
                        ("page_size", "300"),
                        ("next_page_token", page_token.as_str()),
                    ])
                })
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(api_error(response).await);
            }
            let page: ParticipantPage = response
                .json()
                .await
                .map_err(|e| ZoomError::Decode(e.to_string()))?;
            all.extend(page.participants);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => page_token = next,
                None => return Ok(Some(all)),
            }
        }
        Err(ZoomError::Decode("too many pages of participants".into()))
    }

    /// A meeting instance's cloud recording files with a fresh download token
    /// (`GET /meetings/{uuid}/recordings?include_fields=download_access_token`).
    pub async fn recording_files(
        &self,
        uuid: &str,
    ) -> Result<(String, Vec<super::webhook::RecordingFile>), ZoomError> {
        #[derive(Deserialize)]
        struct Recordings {
            #[serde(default)]
            recording_files: Vec<super::webhook::RecordingFile>,
            download_access_token: Option<String>,
        }
        let url = format!(
            "{}/meetings/{}/recordings",
            self.api_url,
            past_meeting_segment(uuid)
        );
        let response = self
            .call(|_| {
                self.http
                    .get(&url)
                    .query(&[("include_fields", "download_access_token")])
            })
            .await?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        let answer: Recordings = response
            .json()
            .await
            .map_err(|e| ZoomError::Decode(e.to_string()))?;
        let token = answer
            .download_access_token
            .ok_or_else(|| ZoomError::Decode("no download_access_token".into()))?;
        Ok((token, answer.recording_files))
    }

    pub fn download_refusal(&self, url: &str) -> Option<String> {
        self.download_rule.refusal(url)
    }

    /// Starts downloading a recording file: `Authorization: Bearer` with a download token,
    /// redirects followed (the header is not sent on to another host).
    pub async fn download(&self, url: &str, token: &str) -> Result<Response, ZoomError> {
        if let Some(why) = self.download_refusal(url) {
            return Err(ZoomError::Refused(why));
        }
        let response = self
            .downloads
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        Ok(response)
    }

    pub async fn fresh_start_url(&self, id: &str) -> Result<String, ZoomError> {
        let answer: MeetingAnswer = self.get_meeting(id).await?;
        Ok(answer.start_url)
    }
}

fn transport_error(e: reqwest::Error) -> ZoomError {
    if e.is_timeout() {
        return ZoomError::Timeout;
    }
    // Without the URL: it may carry the account id, never a secret, but keep logs plain. The
    // causes say what went wrong (refused, reset, TLS…).
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ZoomError::Network(message)
}

async fn error_body(response: Response) -> (Option<i64>, String) {
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => (b.code, b.message.unwrap_or_default()),
        Err(_) => (None, text.chars().take(200).collect()),
    }
}

async fn api_error(response: Response) -> ZoomError {
    let status = response.status().as_u16();
    let (code, message) = error_body(response).await;
    tracing::error!(status, code = ?code, %message, "Zoom API error");
    ZoomError::Api {
        status,
        code,
        message,
    }
}

/// A meeting uuid as a path segment: Zoom wants one that starts with `/` or holds `//`
/// encoded twice.
fn past_meeting_segment(meeting: &str) -> String {
    let once = urlencode(meeting);
    if meeting.starts_with('/') || meeting.contains("//") {
        urlencode(&once)
    } else {
        once
    }
}

/// Percent-encodes a path segment; a host may be an email address, whose `@` Zoom expects
/// as is.
fn urlencode(segment: &str) -> String {
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'@');
    utf8_percent_encode(segment, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::past_meeting_segment;

    #[test]
    fn uuids_with_a_leading_or_double_slash_are_encoded_twice() {
        assert_eq!(
            past_meeting_segment("4444AAAiAAAAAiAiAiiAii=="),
            "4444AAAiAAAAAiAiAiiAii%3D%3D"
        );
        assert_eq!(
            past_meeting_segment("/ajXp112QmuoKj4854875=="),
            "%252FajXp112QmuoKj4854875%253D%253D"
        );
        assert_eq!(past_meeting_segment("ab//cd"), "ab%252F%252Fcd");
        assert_eq!(past_meeting_segment("85012345678"), "85012345678");
    }
}
