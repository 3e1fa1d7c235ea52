//! Zoom's webhook deliveries: the signature check, the URL validation answer, and the events
//! read into types.
//!
//! A delivery is signed `v0=` + hex HMAC-SHA256(secret token, `v0:{timestamp}:{raw body}`),
//! with the timestamp (seconds) in its own header. Zoom carries no event id, so a delivery is
//! known again by a hash of its raw body, and an event by its business key.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How far a delivery's timestamp may be from now (Zoom's sample uses five minutes).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the x-zm-signature or x-zm-request-timestamp header is missing")]
    Missing,
    #[error("the request timestamp is not within five minutes of now")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// Checks a delivery's signature over its raw body, in constant time, and its timestamp.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Stale)?;
    // Checked: a made-up timestamp near i64::MIN must be refused, not overflow (G10).
    let skew = now
        .timestamp()
        .checked_sub(seconds)
        .and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > MAX_CLOCK_SKEW_SECONDS) {
        return Err(SignatureError::Stale);
    }
    let given = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Mismatch)?;
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// The signature header Zoom would send for `body` at `timestamp` (tests and tools).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The answer to `endpoint.url_validation`: the plain token and its HMAC.
pub fn url_validation_answer(secret: &str, plain_token: &str) -> Value {
    let mut mac = mac(secret);
    mac.update(plain_token.as_bytes());
    json!({
        "plainToken": plain_token,
        "encryptedToken": hex::encode(mac.finalize().into_bytes()),
    })
}

/// A delivery's identity: the hash of its raw body.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Someone in a meeting, as a participant event names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Stable within the meeting: Zoom's participant id, else its user id, else the name.
    pub key: String,
    /// The Zoom user id (the host's equals the meeting's `host_id`).
    pub user_id: Option<String>,
    pub email: Option<String>,
}

/// A delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    ParticipantJoined {
        meeting_id: String,
        host_id: Option<String>,
        participant: Participant,
        at: DateTime<Utc>,
    },
    ParticipantLeft {
        meeting_id: String,
        host_id: Option<String>,
        participant: Participant,
        at: DateTime<Utc>,
    },
    Ended {
        meeting_id: String,
        uuid: String,
        at: DateTime<Utc>,
    },
    Deleted {
        meeting_id: String,
    },
    /// The meeting's new time, as far as the update changed it.
    Updated {
        meeting_id: String,
        start_time: Option<DateTime<Utc>>,
        duration: Option<u32>,
        /// When Zoom made the change (milliseconds), to order updates.
        changed_at: i64,
    },
    /// Cloud recording files ready to download with `download_token` (valid 24 h from `sent_at`).
    RecordingCompleted {
        meeting_id: String,
        uuid: String,
        files: Vec<RecordingFile>,
        download_token: Option<String>,
        /// When Zoom sent it (ms), from which the token's lifetime counts.
        sent_at: i64,
    },
    /// Anything else: stored, and ignored.
    Other,
}

/// One file of a cloud recording, as Zoom lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordingFile {
    pub id: String,
    /// MP4, M4A, TRANSCRIPT, CHAT, TIMELINE, …
    pub file_type: String,
    #[serde(default)]
    pub file_extension: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    pub download_url: String,
    #[serde(default)]
    pub recording_type: Option<String>,
    #[serde(default)]
    pub recording_start: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// `payload.object.id`: a string in some events, a number in others.
fn meeting_id(object: &Value) -> Option<String> {
    match object.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn time(value: &Value, field: &str) -> Option<DateTime<Utc>> {
    text(value, field)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn participant(object: &Value) -> Option<Participant> {
    let p = object.get("participant")?;
    let user_id = text(p, "id");
    let key = text(p, "participant_uuid")
        .or_else(|| text(p, "user_id"))
        .or_else(|| user_id.clone())
        .or_else(|| text(p, "user_name"))?;
    Some(Participant {
        key,
        user_id,
        email: text(p, "email"),
    })
}

impl Event {
    /// The event's name and, for the events we act on, what it says. `None`: not an event.
    pub fn read(body: &Value) -> Option<(String, Self)> {
        let name = text(body, "event")?;
        let object = body
            .get("payload")
            .and_then(|p| p.get("object"))
            .unwrap_or(&Value::Null);
        let host_id = text(object, "host_id");
        let event = (|| {
            Some(match name.as_str() {
                "meeting.participant_joined" => Self::ParticipantJoined {
                    meeting_id: meeting_id(object)?,
                    host_id,
                    at: object
                        .get("participant")
                        .and_then(|p| time(p, "join_time"))?,
                    participant: participant(object)?,
                },
                "meeting.participant_left" => Self::ParticipantLeft {
                    meeting_id: meeting_id(object)?,
                    host_id,
                    at: object
                        .get("participant")
                        .and_then(|p| time(p, "leave_time"))?,
                    participant: participant(object)?,
                },
                "meeting.ended" => Self::Ended {
                    meeting_id: meeting_id(object)?,
                    uuid: text(object, "uuid")?,
                    at: time(object, "end_time")
                        .or_else(|| body.get("event_ts")?.as_i64().and_then(from_millis))?,
                },
                "meeting.deleted" => Self::Deleted {
                    meeting_id: meeting_id(object)?,
                },
                "meeting.updated" => Self::Updated {
                    meeting_id: meeting_id(object)?,
                    start_time: time(object, "start_time"),
                    duration: object
                        .get("duration")
                        .and_then(Value::as_u64)
                        .and_then(|d| u32::try_from(d).ok()),
                    changed_at: body
                        .get("payload")
                        .and_then(|p| p.get("time_stamp"))
                        .and_then(Value::as_i64)
                        .or_else(|| body.get("event_ts")?.as_i64())
                        .unwrap_or(0),
                },
                "recording.completed" => Self::RecordingCompleted {
                    meeting_id: meeting_id(object)?,
                    uuid: text(object, "uuid")?,
                    files: object
                        .get("recording_files")
                        .and_then(Value::as_array)
                        .map(|files| {
                            files
                                .iter()
                                .filter_map(|f| serde_json::from_value(f.clone()).ok())
                                .collect()
                        })
                        .unwrap_or_default(),
                    download_token: text(body, "download_token"),
                    sent_at: body.get("event_ts").and_then(Value::as_i64).unwrap_or(0),
                },
                _ => Self::Other,
            })
        })()
        .unwrap_or(Self::Other);
        Some((name, event))
    }

    /// What makes two deliveries the same event, whatever else differs between them.
    pub fn business_key(&self, name: &str, hash: &str) -> String {
        match self {
            Self::ParticipantJoined {
                meeting_id,
                participant,
                at,
                ..
            } => format!("joined:{meeting_id}:{}:{}", participant.key, at.timestamp()),
            Self::ParticipantLeft {
                meeting_id,
                participant,
                at,
                ..
            } => format!("left:{meeting_id}:{}:{}", participant.key, at.timestamp()),
            Self::Ended { uuid, .. } => format!("ended:{uuid}"),
            Self::Deleted { meeting_id } => format!("deleted:{meeting_id}"),
            Self::Updated {
                meeting_id,
                changed_at,
                ..
            } => format!("updated:{meeting_id}:{changed_at}"),
            Self::RecordingCompleted { uuid, .. } => format!("recording:{uuid}"),
            Self::Other => format!("{name}:{hash}"),
        }
    }
}

fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec-test";

    #[test]
    fn a_timestamp_at_the_ends_of_the_integers_is_stale_not_an_overflow() {
        let now = Utc::now();
        let body = br#"{"event":"meeting.ended"}"#;
        for ts in [i64::MIN, i64::MIN + 1, i64::MAX] {
            assert_eq!(
                verify(SECRET, Some(&ts.to_string()), Some("v0=00"), body, now),
                Err(SignatureError::Stale),
                "{ts}"
            );
        }
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies_and_any_change_fails() {
        let now = Utc::now();
        let body = br#"{"event":"meeting.ended"}"#;
        let ts = now.timestamp().to_string();
        let sig = sign(SECRET, now.timestamp(), body);
        assert_eq!(verify(SECRET, Some(&ts), Some(&sig), body, now), Ok(()));
        let mut altered = body.to_vec();
        altered[3] ^= 1;
        assert_eq!(
            verify(SECRET, Some(&ts), Some(&sig), &altered, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", Some(&ts), Some(&sig), body, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, None, Some(&sig), body, now),
            Err(SignatureError::Missing)
        );
        let old = (now.timestamp() - 301).to_string();
        let old_sig = sign(SECRET, now.timestamp() - 301, body);
        assert_eq!(
            verify(SECRET, Some(&old), Some(&old_sig), body, now),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn the_validation_answer_is_the_hmac_of_the_plain_token() {
        // HMAC-SHA256("whsec-test", "abc"), computed independently with Python's hmac.
        let answer = url_validation_answer(SECRET, "abc");
        assert_eq!(answer["plainToken"], "abc");
        assert_eq!(
            answer["encryptedToken"],
            "7bc0de878d994a1a32186c8c64a31cada090c4cd7098bad8b6adb7b77fc0deb6"
        );
    }

    #[test]
    fn meeting_ids_are_read_as_strings_and_as_numbers() {
        let deleted = json!({"event":"meeting.deleted","payload":{"object":{"id":85012345678u64}}});
        assert_eq!(
            Event::read(&deleted).unwrap().1,
            Event::Deleted {
                meeting_id: "85012345678".into()
            }
        );
        let joined = json!({"event":"meeting.participant_joined","payload":{"object":{
            "id":"85012345678","uuid":"u==","host_id":"h1",
            "participant":{"user_id":"16778240","user_name":"Ann","id":"","email":"ann@example.com",
                "join_time":"2026-12-03T10:00:05Z","participant_uuid":"p-1"}}}});
        let (name, event) = Event::read(&joined).unwrap();
        assert_eq!(name, "meeting.participant_joined");
        let Event::ParticipantJoined {
            meeting_id,
            participant,
            ..
        } = &event
        else {
            panic!("{event:?}")
        };
        assert_eq!(meeting_id, "85012345678");
        assert_eq!(participant.key, "p-1");
        assert_eq!(participant.user_id, None);
        assert_eq!(
            event.business_key(&name, "h"),
            "joined:85012345678:p-1:1796292005"
        );
    }
}
