//! A stand-in for Zoom when no credentials are configured: obviously fake ids and links to a
//! page of this app that says the meeting is simulated.

use rand::Rng;

use super::{MeetingRequest, ZoomMeeting};
use crate::model::SIMULATED_MEETING_PREFIX;

pub struct SimulatedZoom {
    base_url: String,
}

impl SimulatedZoom {
    pub fn new(base_url: String) -> Self {
        Self { base_url }
    }

    pub fn create_meeting(&self, request: &MeetingRequest) -> ZoomMeeting {
        let number: u64 = rand::rng().random_range(10_000_000_000..99_999_999_999);
        let id = format!("{SIMULATED_MEETING_PREFIX}{number}");
        ZoomMeeting {
            join_url: format!("{}/dev/zoom/{id}?pwd={}", self.base_url, request.password),
            start_url: self.start_url(&id),
            password: request.password.clone(),
            host_id: None,
            id,
        }
    }

    /// The name of one of the simulated recordings this app serves under `/dev`.
    fn own_recording<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(&format!("{}/dev/zoom/recordings/", self.base_url))
            .filter(|n| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
    }

    pub fn download_refusal(&self, url: &str) -> Option<String> {
        self.own_recording(url)
            .is_none()
            .then(|| "the simulated Zoom only has its own recordings".into())
    }

    /// Downloads only the simulated recordings this app serves (the provider fetches nothing
    /// else).
    pub async fn download(&self, url: &str) -> Result<reqwest::Response, super::ZoomError> {
        let own = format!("{}/dev/zoom/recordings/", self.base_url);
        let name = self.own_recording(url).ok_or_else(|| {
            super::ZoomError::Refused("the simulated Zoom only has its own recordings".into())
        })?;
        let response = reqwest::get(format!("{own}{name}"))
            .await
            .map_err(|e| super::ZoomError::Network(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(super::ZoomError::Api {
                status: response.status().as_u16(),
                code: None,
                message: "simulated recording".into(),
            });
        }
        Ok(response)
    }

    pub fn start_url(&self, id: &str) -> String {
        format!("{}/dev/zoom/{id}?role=host", self.base_url)
    }
}
