//! A local stand-in for Zoom that checks requests the way Zoom does (Basic credentials, grant
//! type and account id on the token endpoint; a Bearer token it issued; the meeting body's
//! required fields, their types and Zoom's limits) and answers with Zoom-shaped JSON.
//! Tests can queue faults for the next meeting creations.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const ACCOUNT_ID: &str = "acct-123";
pub const CLIENT_ID: &str = "client-abc";
pub const CLIENT_SECRET: &str = "very-secret-value";

/// What the next meeting creation answers instead of a 201.
#[derive(Debug, Clone)]
pub enum Fault {
    ServerError,
    /// 429 with `Retry-After: 1`.
    TooManyRequests,
    /// Zoom's daily limit of meeting creations for the host.
    DailyLimit,
    /// 401 as if the token had been revoked.
    RevokedToken,
    /// Answers normally, but only after this long.
    Slow(Duration),
}

/// A meeting the double holds, as Zoom would: its host and its full answer.
#[derive(Clone)]
struct Held {
    host: String,
    meeting: Value,
}

#[derive(Default)]
struct Shared {
    tokens_issued: u32,
    valid_tokens: HashSet<String>,
    meetings_created: Vec<Value>,
    held: Vec<Held>,
    /// Largest page `GET /users/{id}/meetings` answers (Zoom: 300).
    list_page_size: usize,
    /// How long each listing takes to answer.
    list_delay: Duration,
    deleted: Vec<String>,
    faults: VecDeque<Fault>,
    /// Answers for the next deletions instead of a 204.
    delete_faults: VecDeque<Fault>,
    /// Every deletion request answered with a 204.
    deletions_answered: u32,
    next_id: u64,
    token_lifetime: u64,
    /// Zoom's report of past meetings' participants, by uuid or meeting id.
    past_participants: std::collections::HashMap<String, Vec<Value>>,
    /// Largest page `GET /past_meetings/{uuid}/participants` answers (Zoom: 300).
    participants_page_size: usize,
    /// Cloud recordings by meeting uuid: each file's id and bytes.
    recordings: std::collections::HashMap<String, Vec<(String, Vec<u8>)>>,
    /// The download tokens recording files accept (a webhook's, and those issued fresh).
    download_tokens: HashSet<String>,
    /// Download tokens issued by `GET /meetings/{uuid}/recordings`.
    fresh_download_tokens: u32,
}

pub struct ZoomDouble {
    pub server: MockServer,
    shared: Arc<Mutex<Shared>>,
}

impl ZoomDouble {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let shared = Arc::new(Mutex::new(Shared {
            next_id: 85_012_345_678,
            token_lifetime: 3599,
            list_page_size: 300,
            list_delay: Duration::ZERO,
            participants_page_size: 300,
            ..Default::default()
        }));
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(TokenEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/v2/users/[^/]+/meetings$"))
            .respond_with(CreateEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v2/users/[^/]+/meetings$"))
            .respond_with(ListEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path_regex(r"^/v2/meetings/\d+$"))
            .respond_with(MeetingEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/v2/meetings/\d+$"))
            .respond_with(MeetingEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v2/meetings/\d+$"))
            .respond_with(MeetingEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v2/meetings/[^/]+/recordings$"))
            .respond_with(RecordingsEndpoint(shared.clone(), server.uri()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/rec/[^/]+$"))
            .respond_with(DownloadEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/files/[^/]+$"))
            .respond_with(FileEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v2/past_meetings/[^/]+/participants$"))
            .respond_with(ParticipantsEndpoint(shared.clone()))
            .mount(&server)
            .await;
        Self { server, shared }
    }

    /// What Zoom reports of a past meeting (`instance`: its uuid, or the meeting id for its
    /// latest instance): `(name, email, user id, join, leave)` for each stay.
    pub fn set_past_participants(&self, instance: &str, participants: Vec<Value>) {
        self.shared
            .lock()
            .unwrap()
            .past_participants
            .insert(instance.to_string(), participants);
    }

    /// A meeting instance's cloud recording, and the download token its webhook carries.
    pub fn record(&self, uuid: &str, files: Vec<(&str, Vec<u8>)>, webhook_token: &str) {
        let mut s = self.shared.lock().unwrap();
        s.recordings.insert(
            uuid.to_string(),
            files
                .into_iter()
                .map(|(id, b)| (id.to_string(), b))
                .collect(),
        );
        s.download_tokens.insert(webhook_token.to_string());
    }

    /// Where Zoom lets a recording file be downloaded (with a token; it redirects).
    pub fn download_url(&self, file_id: &str) -> String {
        format!("{}/rec/{file_id}", self.server.uri())
    }

    /// Download tokens issued through `GET /meetings/{uuid}/recordings`.
    pub fn fresh_download_tokens(&self) -> u32 {
        self.shared.lock().unwrap().fresh_download_tokens
    }

    /// The download requests received (`/rec/…`), with the token each carried.
    pub async fn download_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().starts_with("/rec/"))
            .collect()
    }

    pub fn set_participants_page_size(&self, n: usize) {
        self.shared.lock().unwrap().participants_page_size = n;
    }

    /// The `GET /past_meetings/…/participants` requests received.
    pub async fn participant_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().starts_with("/v2/past_meetings/"))
            .collect()
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZOOM_ACCOUNT_ID", ACCOUNT_ID.into()),
            ("ZOOM_CLIENT_ID", CLIENT_ID.into()),
            ("ZOOM_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("ZOOM_API_URL", format!("{}/v2", self.server.uri())),
            (
                "ZOOM_OAUTH_URL",
                format!("{}/oauth/token", self.server.uri()),
            ),
            // Recordings come from the double's own address, as from Zoom's hosts.
            ("ZOOM_DOWNLOAD_HOSTS", "127.0.0.1".into()),
        ]
    }

    pub fn push_delete_fault(&self, fault: Fault) {
        self.shared.lock().unwrap().delete_faults.push_back(fault);
    }

    /// How many DELETE requests were answered 204.
    pub fn deletions_answered(&self) -> u32 {
        self.shared.lock().unwrap().deletions_answered
    }

    /// `PATCH /meetings/{id}` requests received.
    pub async fn update_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == "PATCH")
            .collect()
    }

    pub async fn delete_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == "DELETE")
            .collect()
    }

    pub fn push_fault(&self, fault: Fault) {
        self.shared.lock().unwrap().faults.push_back(fault);
    }

    /// The `expires_in` of the tokens issued from now on.
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.shared.lock().unwrap().token_lifetime = seconds;
    }

    /// Makes every listing answer only after `delay` (a slow search for an earlier meeting).
    pub fn set_list_delay(&self, delay: Duration) {
        self.shared.lock().unwrap().list_delay = delay;
    }

    /// Makes listings answer at most `n` meetings a page, so clients must follow the pages.
    pub fn set_list_page_size(&self, n: usize) {
        self.shared.lock().unwrap().list_page_size = n;
    }

    /// Creates a meeting directly, as another app (or a lost earlier attempt) would have.
    pub fn hold_meeting(&self, host: &str, agenda: &str) -> u64 {
        let mut s = self.shared.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        let meeting = meeting_answer(
            id,
            &json!({ "topic": "Other", "agenda": agenda, "password": "Other1", "start_time": "2030-01-01T10:00:00Z", "duration": 30, "timezone": "UTC" }),
        );
        s.held.push(Held {
            host: host.into(),
            meeting,
        });
        id
    }

    /// The `GET /users/{id}/meetings` requests received.
    pub async fn list_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/meetings"))
            .collect()
    }

    pub fn tokens_issued(&self) -> u32 {
        self.shared.lock().unwrap().tokens_issued
    }

    /// The bodies of the meetings created (201 answers only).
    pub fn meetings(&self) -> Vec<Value> {
        self.shared.lock().unwrap().meetings_created.clone()
    }

    pub fn deleted(&self) -> Vec<String> {
        self.shared.lock().unwrap().deleted.clone()
    }

    pub async fn create_requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/meetings"))
            .collect()
    }
}

fn zoom_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "code": code, "message": message }))
}

struct TokenEndpoint(Arc<Mutex<Shared>>);

impl Respond for TokenEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if auth != expected {
            return ResponseTemplate::new(401).set_body_json(json!({ "reason": "Invalid client_id or client_secret", "error": "invalid_client" }));
        }
        let query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let has = |k: &str, v: &str| query.iter().any(|(a, b)| a == k && b == v);
        if !has("grant_type", "account_credentials") {
            return ResponseTemplate::new(400).set_body_json(
                json!({ "reason": "Unsupported grant type", "error": "unsupported_grant_type" }),
            );
        }
        if !has("account_id", ACCOUNT_ID) {
            return ResponseTemplate::new(400).set_body_json(
                json!({ "reason": "Invalid account_id", "error": "invalid_request" }),
            );
        }
        let mut s = self.0.lock().unwrap();
        s.tokens_issued += 1;
        let token = format!("access-token-{}", s.tokens_issued);
        s.valid_tokens.insert(token.clone());
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "bearer", "expires_in": s.token_lifetime,
            "scope": "meeting:write:meeting:admin meeting:read:meeting:admin", "api_url": "https://api.zoom.us"
        }))
    }
}

fn bearer_ok(shared: &Mutex<Shared>, req: &Request) -> bool {
    let auth = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    auth.strip_prefix("Bearer ")
        .is_some_and(|t| shared.lock().unwrap().valid_tokens.contains(t))
}

/// Checks the body of `POST /users/{userId}/meetings` as Zoom validates it.
fn check_meeting_body(body: &Value) -> Result<(), String> {
    let topic = body["topic"].as_str().ok_or("topic must be a string")?;
    if topic.chars().count() > 200 {
        return Err("topic is longer than 200 characters".into());
    }
    match body["type"].as_u64() {
        // Scheduled: a start and a duration.
        Some(2) => {
            let start = body["start_time"]
                .as_str()
                .ok_or("start_time must be a string")?;
            chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M:%SZ")
                .map_err(|_| "start_time must be yyyy-MM-ddTHH:mm:ssZ")?;
            body["duration"]
                .as_u64()
                .filter(|d| *d > 0)
                .ok_or("duration must be a positive integer")?;
        }
        // Recurring with no fixed time: no start (Zoom ignores one, the app sends none).
        Some(3) => {
            if !body["start_time"].is_null() {
                return Err("a type 3 meeting has no start_time".into());
            }
        }
        _ => return Err("type must be 2 (scheduled) or 3 (recurring, no fixed time)".into()),
    }
    let tz = body["timezone"]
        .as_str()
        .ok_or("timezone must be a string")?;
    tz.parse::<chrono_tz::Tz>()
        .map_err(|_| "timezone is not a valid zone")?;
    if body["agenda"]
        .as_str()
        .ok_or("agenda must be a string")?
        .chars()
        .count()
        > 2000
    {
        return Err("agenda is longer than 2000 characters".into());
    }
    let password = body["password"]
        .as_str()
        .ok_or("password must be a string")?;
    if password.is_empty()
        || password.len() > 10
        || !password
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@-_*".contains(c))
    {
        return Err("password must be at most 10 characters from [a-zA-Z0-9@-_*]".into());
    }
    for key in [
        "waiting_room",
        "join_before_host",
        "host_video",
        "participant_video",
        "mute_upon_entry",
    ] {
        if !body["settings"][key].is_boolean() {
            return Err(format!("settings.{key} must be a boolean"));
        }
    }
    let recording = &body["settings"]["auto_recording"];
    if !(recording.is_null()
        || ["local", "cloud", "none"].contains(&recording.as_str().unwrap_or("?")))
    {
        return Err("settings.auto_recording must be local, cloud or none".into());
    }
    Ok(())
}

struct CreateEndpoint(Arc<Mutex<Shared>>);

impl Respond for CreateEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(&self.0, req) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let fault = self.0.lock().unwrap().faults.pop_front();
        let mut delay = None;
        match fault {
            Some(Fault::ServerError) => return zoom_error(500, 500, "Internal server error"),
            Some(Fault::TooManyRequests) => {
                return zoom_error(429, 429, "Too many requests. Please try again later.").insert_header("Retry-After", "1")
            }
            Some(Fault::DailyLimit) => {
                return zoom_error(429, 429, "You have reached the maximum daily rate limit for this API. Maximum daily limit: 100")
                    .insert_header("X-RateLimit-Type", "Daily-limit")
            }
            Some(Fault::RevokedToken) => {
                let token = req.headers["authorization"].to_str().unwrap().trim_start_matches("Bearer ").to_string();
                self.0.lock().unwrap().valid_tokens.remove(&token);
                return zoom_error(401, 124, "Invalid access token.");
            }
            Some(Fault::Slow(d)) => delay = Some(d),
            None => {}
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(_) => return zoom_error(400, 300, "Invalid request body"),
        };
        if let Err(message) = check_meeting_body(&body) {
            return zoom_error(400, 300, &message);
        }
        let mut s = self.0.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.meetings_created.push(body.clone());
        let meeting = meeting_answer(id, &body);
        let host = req
            .url
            .path()
            .split('/')
            .nth(3)
            .unwrap_or_default()
            .to_string();
        s.held.push(Held {
            host,
            meeting: meeting.clone(),
        });
        let response = ResponseTemplate::new(201).set_body_json(meeting);
        match delay {
            Some(d) => response.set_delay(d),
            None => response,
        }
    }
}

/// Zoom's answer for a meeting made from `body`.
fn meeting_answer(id: u64, body: &Value) -> Value {
    let password = body["password"].as_str().unwrap_or_default();
    json!({
        "uuid": format!("uuid-{id}"), "id": id, "host_id": "host-1", "host_email": "host@example.com",
        "topic": body["topic"], "type": body["type"], "status": "waiting", "start_time": body["start_time"],
        "duration": body["duration"], "timezone": body["timezone"], "agenda": body["agenda"],
        "created_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "start_url": format!("https://zoom.us/s/{id}?zak=first-start-token"),
        "join_url": format!("https://zoom.us/j/{id}?pwd=encoded{password}"),
        "password": password, "h323_password": "123456", "pstn_password": "123456",
        "encrypted_password": format!("encoded{password}"), "settings": body["settings"], "pre_schedule": false
    })
}

/// `GET /users/{userId}/meetings`: that host's meetings, `page_size` at a time (capped),
/// with `next_page_token` while more remain; agendas cut at 250 characters, as Zoom does.
struct ListEndpoint(Arc<Mutex<Shared>>);

impl Respond for ListEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(&self.0, req) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let query: std::collections::HashMap<String, String> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        if query.get("type").map(String::as_str) != Some("upcoming") {
            return zoom_error(400, 300, "this double lists type=upcoming only");
        }
        let s = self.0.lock().unwrap();
        let page_size = query
            .get("page_size")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, 300)
            .min(s.list_page_size);
        let start = query
            .get("next_page_token")
            .filter(|t| !t.is_empty())
            .map(|t| t.trim_start_matches("page-").parse::<usize>().unwrap_or(0))
            .unwrap_or(0);
        let host = req.url.path().split('/').nth(3).unwrap_or_default();
        let mine: Vec<&Held> = s
            .held
            .iter()
            .filter(|h| h.host == host)
            .filter(|h| !s.deleted.contains(&h.meeting["id"].to_string()))
            .collect();
        let page: Vec<Value> = mine
            .iter()
            .skip(start)
            .take(page_size)
            .map(|h| {
                let m = &h.meeting;
                let agenda: String = m["agenda"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(250)
                    .collect();
                json!({
                    "uuid": m["uuid"], "id": m["id"], "host_id": m["host_id"], "topic": m["topic"],
                    "type": 2, "start_time": m["start_time"], "duration": m["duration"],
                    "timezone": m["timezone"], "agenda": agenda, "created_at": m["created_at"],
                    "join_url": m["join_url"]
                })
            })
            .collect();
        let next = if start + page_size < mine.len() {
            format!("page-{}", start + page_size)
        } else {
            String::new()
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "page_size": page_size, "total_records": mine.len(), "next_page_token": next,
                "meetings": page
            }))
            .set_delay(s.list_delay)
    }
}

struct MeetingEndpoint(Arc<Mutex<Shared>>);

impl Respond for MeetingEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(&self.0, req) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let id = req
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut s = self.0.lock().unwrap();
        let held = s
            .held
            .iter()
            .find(|h| {
                h.meeting["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id.as_str())
            })
            .cloned();
        let Some(held) = held.filter(|_| !s.deleted.contains(&id)) else {
            return zoom_error(404, 3001, &format!("Meeting does not exist: {id}."));
        };
        if req.method.as_str() == "DELETE" {
            if let Some(Fault::ServerError) = s.delete_faults.pop_front() {
                return zoom_error(500, 500, "Internal server error");
            }
            let query = req.url.query().unwrap_or_default();
            if !query.contains("schedule_for_reminder=false")
                || !query.contains("cancel_meeting_reminder=false")
            {
                return zoom_error(400, 300, "this double expects Zoom's reminders off");
            }
            s.deleted.push(id);
            s.deletions_answered += 1;
            return ResponseTemplate::new(204);
        }
        if req.method.as_str() == "PATCH" {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(held) = s.held.iter_mut().find(|h| {
                h.meeting["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id.as_str())
            }) else {
                return zoom_error(404, 3001, "Meeting does not exist");
            };
            for key in ["start_time", "duration", "timezone"] {
                if !body[key].is_null() {
                    held.meeting[key] = body[key].clone();
                }
            }
            return ResponseTemplate::new(204);
        }
        let mut meeting = held.meeting;
        meeting["start_url"] = json!(format!(
            "https://zoom.us/s/{id}?zak=fresh-{}",
            chrono::Utc::now().timestamp_millis()
        ));
        ResponseTemplate::new(200).set_body_json(meeting)
    }
}

/// `GET /past_meetings/{meetingUUID}/participants`, page by page. A uuid that starts with `/`
/// or holds `//` is found only when double-encoded, as Zoom requires.
struct ParticipantsEndpoint(Arc<Mutex<Shared>>);

impl Respond for ParticipantsEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(&self.0, req) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let raw = req.url.path().split('/').nth(3).unwrap_or_default();
        let once = decode(raw);
        let twice = decode(&once);
        let needs_double = twice.starts_with('/') || twice.contains("//");
        let instance = if needs_double {
            if once == twice {
                return zoom_error(
                    404,
                    3001,
                    "Meeting does not exist (the uuid was not double-encoded).",
                );
            }
            twice
        } else {
            once
        };
        let s = self.0.lock().unwrap();
        let Some(all) = s.past_participants.get(&instance) else {
            return zoom_error(404, 3001, "Meeting does not exist.");
        };
        let query: std::collections::HashMap<String, String> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let size = query
            .get("page_size")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .min(s.participants_page_size)
            .max(1);
        let from = query
            .get("next_page_token")
            .and_then(|t| t.strip_prefix("page-"))
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let page: Vec<Value> = all.iter().skip(from).take(size).cloned().collect();
        let next = if from + size < all.len() {
            format!("page-{}", from + size)
        } else {
            String::new()
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "page_count": all.len().div_ceil(size), "page_size": size,
            "total_records": all.len(), "next_page_token": next, "participants": page,
        }))
    }
}

fn file_bytes(shared: &Shared, file_id: &str) -> Option<Vec<u8>> {
    shared
        .recordings
        .values()
        .flatten()
        .find(|(id, _)| id == file_id)
        .map(|(_, b)| b.clone())
}

/// `GET /meetings/{meetingUUID}/recordings?include_fields=download_access_token`: the files
/// and a fresh download token.
struct RecordingsEndpoint(Arc<Mutex<Shared>>, String);

impl Respond for RecordingsEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !bearer_ok(&self.0, req) {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let raw = req.url.path().split('/').nth(3).unwrap_or_default();
        let uuid = percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned();
        let wants_token = req
            .url
            .query_pairs()
            .any(|(k, v)| k == "include_fields" && v == "download_access_token");
        let mut s = self.0.lock().unwrap();
        let Some(files) = s.recordings.get(&uuid).cloned() else {
            return zoom_error(404, 3301, "This recording does not exist.");
        };
        let mut body = json!({
            "uuid": uuid,
            "recording_files": files.iter().map(|(id, bytes)| json!({
                "id": id, "file_type": "MP4", "file_extension": "MP4", "file_size": bytes.len(),
                "download_url": format!("{}/rec/{id}", self.1),
                "status": "completed", "recording_type": "shared_screen_with_speaker_view",
            })).collect::<Vec<_>>(),
        });
        if wants_token {
            s.fresh_download_tokens += 1;
            let token = format!("fresh-download-token-{}", s.fresh_download_tokens);
            s.download_tokens.insert(token.clone());
            body["download_access_token"] = json!(token);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// `GET /rec/{fileId}` with `Authorization: Bearer <download token>`: redirects to the file,
/// as Zoom's download URLs do.
struct DownloadEndpoint(Arc<Mutex<Shared>>);

impl Respond for DownloadEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        let s = self.0.lock().unwrap();
        if !s.download_tokens.contains(&token) {
            return zoom_error(401, 124, "Invalid download token.");
        }
        let id = req.url.path().rsplit('/').next().unwrap_or_default();
        if file_bytes(&s, id).is_none() {
            return zoom_error(404, 3301, "This recording does not exist.");
        }
        ResponseTemplate::new(302).insert_header("location", format!("/files/{id}?signature=ok"))
    }
}

struct FileEndpoint(Arc<Mutex<Shared>>);

impl Respond for FileEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req.url.path().rsplit('/').next().unwrap_or_default();
        match file_bytes(&self.0.lock().unwrap(), id) {
            Some(bytes) if req.url.query() == Some("signature=ok") => ResponseTemplate::new(200)
                .insert_header("content-type", "video/mp4")
                .set_body_bytes(bytes),
            _ => ResponseTemplate::new(403),
        }
    }
}
