//! Zoom meetings: the live client for Zoom's REST API and a simulated provider for local runs.

mod download_address;
mod live;
mod simulated;
pub mod webhook;

use chrono::{DateTime, Utc};

pub use download_address::{DownloadRule, DEFAULT_HOSTS as DEFAULT_DOWNLOAD_HOSTS};
pub use live::{PastParticipant, ZoomClient};
pub use simulated::SimulatedZoom;

use super::config::ZoomConfig;
use crate::model::MeetingDefaults;

/// What we ask Zoom for.
#[derive(Debug, Clone)]
pub struct MeetingRequest {
    /// The Zoom user the meeting belongs to (`me`, an email or a user id).
    pub host: String,
    pub topic: String,
    pub agenda: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub timezone: String,
    pub password: String,
    pub settings: MeetingDefaults,
    /// A meeting with no fixed time (Zoom type 3), shared by a regular customer's bookings.
    pub recurring: bool,
}

/// What Zoom answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomMeeting {
    pub id: String,
    /// The Zoom user hosting it (told apart from the customer in attendance reports).
    pub host_id: Option<String>,
    pub join_url: String,
    pub start_url: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoomError {
    #[error("Zoom rejected the account credentials")]
    Auth,
    #[error("the host's daily limit of Zoom meeting creations is used up")]
    DailyLimit,
    #[error("Zoom kept answering 429 Too Many Requests")]
    RateLimited,
    #[error("Zoom API error {status} (code {code:?}): {message}")]
    Api {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    #[error("Zoom did not answer in time")]
    Timeout,
    #[error("could not reach Zoom: {0}")]
    Network(String),
    #[error("unexpected answer from Zoom: {0}")]
    Decode(String),
    /// Not sent: the request would have left Zoom (a download address from a webhook).
    #[error("not sent: {0}")]
    Refused(String),
}

impl ZoomError {
    /// A short name of what went wrong, for the metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth => "auth_error",
            Self::DailyLimit => "daily_limit",
            Self::RateLimited => "rate_limited",
            Self::Api { .. } => "api_error",
            Self::Timeout => "timeout",
            Self::Network(_) => "network_error",
            Self::Decode(_) => "bad_answer",
            Self::Refused(_) => "refused",
        }
    }

    /// Whether Zoom may have acted although the call failed: no answer, or a server error.
    /// A meeting may then exist, and the next attempt looks for it before creating one.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Timeout | Self::Network(_) | Self::Decode(_) => true,
            Self::Api { status, .. } => *status >= 500,
            Self::Auth | Self::DailyLimit | Self::RateLimited | Self::Refused(_) => false,
        }
    }

    /// What the specialist reads when creating a meeting fails.
    pub fn user_message(&self) -> String {
        match self {
            Self::DailyLimit => "Zoom allows 100 meeting creations per host per day and that limit has been reached. It resets at 00:00 UTC; please try again then.".into(),
            Self::Api { code: Some(1001), .. } => "Could not create the Zoom meeting: your Zoom user was not found. Check the Zoom user in your profile.".into(),
            _ => "Could not create the Zoom meeting. Please try again.".into(),
        }
    }
}

/// Zoom's limits on meeting fields.
pub const MAX_TOPIC_CHARS: usize = 200;
pub const MAX_AGENDA_CHARS: usize = 2000;
pub const PASSWORD_CHARS: usize = 10;

pub fn truncate_chars(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// A meeting password Zoom accepts: 10 characters from [a-zA-Z0-9].
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..PASSWORD_CHARS)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub enum Zoom {
    Live(Box<ZoomClient>),
    Simulated(SimulatedZoom),
}

impl Zoom {
    /// The live client with credentials; otherwise the simulated provider, whose fake links
    /// point at `base_url`. With `public_only`, recordings are downloaded only over `https`
    /// from public addresses (as webhooks are sent).
    pub fn from_config(config: &ZoomConfig, base_url: &str, public_only: bool) -> Self {
        match &config.credentials {
            Some(credentials) => Self::Live(Box::new(ZoomClient::new(
                credentials.clone(),
                config.api_url.clone(),
                config.oauth_url.clone(),
                config.timeout,
                DownloadRule::new(config.download_hosts.clone(), public_only),
            ))),
            None => Self::Simulated(SimulatedZoom::new(base_url.to_string())),
        }
    }

    /// Whether meetings are made at Zoom (not simulated).
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live(_))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Live(_) => "Zoom API (Server-to-Server OAuth)",
            Self::Simulated(_) => "simulated Zoom (no Zoom credentials set; meetings are fake)",
        }
    }

    pub async fn create_meeting(&self, request: &MeetingRequest) -> Result<ZoomMeeting, ZoomError> {
        let result = match self {
            Self::Live(c) => c.create_meeting(request).await,
            Self::Simulated(s) => Ok(s.create_meeting(request)),
        };
        counted("create", result)
    }

    /// The meeting an earlier attempt may have created: the upcoming meeting of `host` whose
    /// agenda carries `marker`. The simulated provider never leaves one behind.
    pub async fn find_meeting(
        &self,
        host: &str,
        marker: &str,
    ) -> Result<Option<ZoomMeeting>, ZoomError> {
        let result = match self {
            Self::Live(c) => c.find_meeting(host, marker).await,
            Self::Simulated(_) => Ok(None),
        };
        counted("find", result)
    }

    /// Moves a meeting; its join link and password stay as they are.
    pub async fn update_meeting(
        &self,
        id: &str,
        starts_at: DateTime<Utc>,
        duration_minutes: u32,
        timezone: &str,
    ) -> Result<(), ZoomError> {
        let result = match self {
            Self::Live(c) => {
                c.update_meeting(id, starts_at, duration_minutes, timezone)
                    .await
            }
            Self::Simulated(_) => Ok(()),
        };
        counted("update", result)
    }

    pub async fn delete_meeting(&self, id: &str) -> Result<(), ZoomError> {
        let result = match self {
            Self::Live(c) => c.delete_meeting(id).await,
            Self::Simulated(_) => Ok(()),
        };
        counted("delete", result)
    }

    /// Everyone who was in a past meeting (an instance's uuid, or the meeting id for its
    /// latest instance); `None` when there was none. The simulated provider holds no meetings.
    pub async fn past_participants(
        &self,
        meeting: &str,
    ) -> Result<Option<Vec<PastParticipant>>, ZoomError> {
        let result = match self {
            Self::Live(c) => c.past_participants(meeting).await,
            Self::Simulated(_) => Ok(None),
        };
        counted("past_participants", result)
    }

    /// A meeting instance's recording files with a fresh download token.
    pub async fn recording_files(
        &self,
        uuid: &str,
    ) -> Result<(String, Vec<webhook::RecordingFile>), ZoomError> {
        let result = match self {
            Self::Live(c) => c.recording_files(uuid).await,
            Self::Simulated(_) => Err(ZoomError::Api {
                status: 404,
                code: Some(3301),
                message: "the simulated Zoom records nothing".into(),
            }),
        };
        counted("recording_files", result)
    }

    /// Why a recording may not be downloaded from `url`, if it may not.
    pub fn download_refusal(&self, url: &str) -> Option<String> {
        match self {
            Self::Live(c) => c.download_refusal(url),
            Self::Simulated(s) => s.download_refusal(url),
        }
    }

    /// Starts downloading a recording file with a download token.
    pub async fn download(&self, url: &str, token: &str) -> Result<reqwest::Response, ZoomError> {
        let result = match self {
            Self::Live(c) => c.download(url, token).await,
            Self::Simulated(s) => s.download(url).await,
        };
        counted("download", result)
    }

    /// A start URL issued now (Zoom's expire two hours after issue).
    pub async fn fresh_start_url(&self, id: &str) -> Result<String, ZoomError> {
        let result = match self {
            Self::Live(c) => c.fresh_start_url(id).await,
            Self::Simulated(s) => Ok(s.start_url(id)),
        };
        counted("start_url", result)
    }
}

/// Counts a call to the provider by operation and outcome.
fn counted<T>(operation: &'static str, result: Result<T, ZoomError>) -> Result<T, ZoomError> {
    let outcome = result.as_ref().err().map_or("ok", ZoomError::kind);
    crate::server::telemetry::zoom_call(operation, outcome);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_fit_zooms_rules() {
        for _ in 0..100 {
            let p = generate_password();
            assert_eq!(p.len(), 10);
            assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("ééé", 2), "éé");
    }
}
