//! Zoom's webhooks through `POST /api/webhooks/zoom`, signed as Zoom signs them: attendance,
//! the meeting's end, meetings deleted or moved in Zoom, reconciliation from Zoom's report of
//! past participants, and feedback after an attended session.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, TestUser};

pub const SECRET: &str = "zoom-webhook-secret-token";

/// What Zoom sends: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
pub fn zoom_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn deliver_raw(
    app: &TestApp,
    body: &[u8],
    timestamp: Option<i64>,
    signature: Option<String>,
) -> Response {
    let mut request = app
        .client
        .post(app.url("/api/webhooks/zoom"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(ts) = timestamp {
        request = request.header("x-zm-request-timestamp", ts.to_string());
    }
    if let Some(sig) = signature {
        request = request.header("x-zm-signature", sig);
    }
    request.send().await.unwrap()
}

/// Delivers `event` signed now with the app's secret.
pub async fn deliver(app: &TestApp, event: &Value) -> (StatusCode, Value) {
    let body = serde_json::to_vec(event).unwrap();
    let ts = Utc::now().timestamp();
    json_body(
        deliver_raw(
            app,
            &body,
            Some(ts),
            Some(zoom_signature(SECRET, ts, &body)),
        )
        .await,
    )
    .await
}

fn z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A participant as Zoom names them in events: `(participant_uuid, Zoom user id, email)`.
#[derive(Clone, Copy)]
struct Who(&'static str, &'static str, &'static str);

/// The double's meetings are hosted by `host-1`.
const HOST: Who = Who("p-host", "host-1", "");

fn participant_event(name: &str, meeting: &str, who: Who, at: DateTime<Utc>) -> Value {
    let time_field = if name.ends_with("joined") {
        "join_time"
    } else {
        "leave_time"
    };
    json!({
        "event": format!("meeting.participant_{name}"),
        "event_ts": at.timestamp_millis(),
        "payload": { "account_id": "acct-123", "object": {
            "id": meeting, "uuid": "inst-1==", "host_id": "host-1", "topic": "Consulting",
            "type": 2, "start_time": z(at), "timezone": "UTC", "duration": 60,
            "participant": {
                "user_id": format!("1677{}", who.0.len()), "user_name": who.0, "id": who.1,
                "participant_uuid": who.0, time_field: z(at), "email": who.2,
                "participant_user_id": who.1,
            }
        }}
    })
}

fn ended(meeting: &str, uuid: &str, at: DateTime<Utc>) -> Value {
    json!({
        "event": "meeting.ended", "event_ts": at.timestamp_millis(),
        "payload": { "account_id": "acct-123", "object": {
            "id": meeting, "uuid": uuid, "host_id": "host-1", "topic": "Consulting", "type": 2,
            "start_time": z(at - Duration::minutes(30)), "end_time": z(at), "duration": 60,
            "timezone": "UTC"
        }}
    })
}

fn deleted(meeting: &str) -> Value {
    json!({
        "event": "meeting.deleted", "event_ts": Utc::now().timestamp_millis(),
        "payload": { "account_id": "acct-123", "operator": "host@example.com",
            "object": { "id": meeting.parse::<u64>().unwrap(), "uuid": "inst-1==",
                "host_id": "host-1", "topic": "Consulting", "type": 2 } }
    })
}

fn updated(meeting: &str, start: DateTime<Utc>, duration: u32, changed_at: i64) -> Value {
    json!({
        "event": "meeting.updated", "event_ts": changed_at,
        "payload": { "account_id": "acct-123", "operator": "host@example.com",
            "time_stamp": changed_at,
            "object": { "id": meeting.parse::<u64>().unwrap(), "start_time": z(start),
                "duration": duration, "timezone": "UTC" },
            "old_object": { "id": meeting.parse::<u64>().unwrap() } }
    })
}

pub async fn webhook_app(extra: Vec<(&'static str, String)>) -> TestApp {
    let mut env = vec![
        ("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET.to_string()),
        ("ATTENDANCE_CHECK_MINUTES", "0".to_string()),
    ];
    env.extend(extra);
    spawn_with(Options {
        zoom: true,
        smtp: true,
        extra: env,
        ..Default::default()
    })
    .await
}

struct Booked {
    spec: TestUser,
    cust: TestUser,
    slot: String,
    meeting: String,
}

/// A booking whose meeting was created at the Zoom double (customer `customer@…`).
async fn booked_with_meeting(app: &TestApp, name: &str) -> Booked {
    let spec = app
        .user(Role::Specialist, &format!("{name} Specialist"))
        .await;
    let cust = app.user(Role::Customer, &format!("{name} Customer")).await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    let meeting = body["data"]["zoomMeeting"]["zoomMeetingId"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain_jobs().await;
    Booked {
        spec,
        cust,
        slot,
        meeting,
    }
}

async fn booking_json(app: &TestApp, b: &Booked, token: &str) -> Value {
    let (status, body) = json_body(
        app.get(
            &format!("/api/consulting-slots/{}/booking/0", b.slot),
            Some(token),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["booking"].clone()
}

fn customer(b: &Booked) -> Who {
    // Zoom gives the email it knows; test users' addresses are their own.
    Who(
        "p-cust",
        "",
        Box::leak(b.cust.email.clone().into_boxed_str()),
    )
}

#[engine_test]
async fn deliveries_without_a_valid_signature_get_401_and_store_nothing() {
    let app = webhook_app(vec![]).await;
    let body = serde_json::to_vec(&deleted("85012345679")).unwrap();
    let now = Utc::now().timestamp();
    let good = zoom_signature(SECRET, now, &body);
    type Case = (&'static str, Vec<u8>, Option<i64>, Option<String>);
    let cases: Vec<Case> = vec![
        ("no headers", body.clone(), None, None),
        ("no signature", body.clone(), Some(now), None),
        ("no timestamp", body.clone(), None, Some(good.clone())),
        (
            "another secret",
            body.clone(),
            Some(now),
            Some(zoom_signature("other", now, &body)),
        ),
        (
            "not v0",
            body.clone(),
            Some(now),
            Some(good.replace("v0=", "v1=")),
        ),
        ("not hex", body.clone(), Some(now), Some("v0=zz".into())),
        (
            "another timestamp",
            body.clone(),
            Some(now + 1),
            Some(good.clone()),
        ),
        (
            "stale",
            body.clone(),
            Some(now - 301),
            Some(zoom_signature(SECRET, now - 301, &body)),
        ),
        (
            // A minute past the 300 s allowed: `now` was read before the requests, and on a
            // loaded machine one second past let a later request in.
            "from the future",
            body.clone(),
            Some(now + 360),
            Some(zoom_signature(SECRET, now + 360, &body)),
        ),
        (
            "body altered by one byte",
            {
                let mut b = body.clone();
                let at = b.len() - 3;
                b[at] ^= 1;
                b
            },
            Some(now),
            Some(good.clone()),
        ),
    ];
    for (case, body, ts, sig) in cases {
        let (status, json) = json_body(deliver_raw(&app, &body, ts, sig).await).await;
        assert_eq!(status, 401, "{case}: {json}");
        assert_eq!(json["message"], "Invalid webhook signature", "{case}");
    }
    assert_eq!(app.count("zoom_event").await, 0);
    assert_eq!(app.count("job").await, 0);

    // Signed right (299 s ago is inside the window): stored and answered 200.
    let (status, json) = json_body(
        deliver_raw(
            &app,
            &body,
            Some(now - 299),
            Some(zoom_signature(SECRET, now - 299, &body)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(app.count("zoom_event").await, 1);
}

#[engine_test]
async fn without_a_secret_token_every_delivery_is_refused() {
    let app = spawn_with(Options::default()).await;
    let body = serde_json::to_vec(&deleted("1")).unwrap();
    let now = Utc::now().timestamp();
    let (status, json) = json_body(
        deliver_raw(
            &app,
            &body,
            Some(now),
            Some(zoom_signature(SECRET, now, &body)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 503, "{json}");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .contains("ZOOM_WEBHOOK_SECRET_TOKEN"));
    assert_eq!(app.count("zoom_event").await, 0);
}

#[engine_test]
async fn the_url_validation_is_answered_with_the_hmac_of_the_plain_token() {
    let app = webhook_app(vec![]).await;
    let (status, body) = deliver(
        &app,
        &json!({ "event": "endpoint.url_validation", "event_ts": 1_700_000_000_000i64,
            "payload": { "plainToken": "qgg8vlvZRS6UYooatFL8Aw" } }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        body,
        json!({ "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": hex::encode(mac.finalize().into_bytes()) })
    );
    // A handshake is not an event: nothing stored.
    assert_eq!(app.count("zoom_event").await, 0);

    // Unsigned, it is refused like any delivery.
    let raw = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}"#;
    let res = deliver_raw(&app, raw, Some(Utc::now().timestamp()), None).await;
    assert_eq!(res.status(), 401);
}

#[engine_test]
async fn attendance_folds_joins_and_leaves_by_their_own_times_whatever_the_order_and_repeats() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Att").await;
    let t0 = Utc::now() - Duration::minutes(50);
    let cust = customer(&b);
    // Out of order: the customer's leave first, the host's join last; one delivered twice.
    let events = [
        participant_event("left", &b.meeting, cust, t0 + Duration::minutes(32)),
        participant_event("joined", &b.meeting, cust, t0 + Duration::minutes(2)),
        participant_event("joined", &b.meeting, cust, t0 + Duration::minutes(2)),
        participant_event("joined", &b.meeting, HOST, t0),
    ];
    for e in &events {
        let (status, body) = deliver(&app, e).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        app.count("zoom_event").await,
        3,
        "the repeat is stored once"
    );
    app.drain_jobs().await;

    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(
        booking["attendance"],
        json!({
            "customerJoinedAt": z(t0 + Duration::minutes(2)),
            "customerLeftAt": z(t0 + Duration::minutes(32)),
            "customerMinutes": 30,
            "hostJoinedAt": z(t0),
        })
    );
    assert_eq!(booking["outcome"], Value::Null, "not ended yet");

    let (status, _) = deliver(
        &app,
        &ended(&b.meeting, "inst-1==", t0 + Duration::minutes(40)),
    )
    .await;
    assert_eq!(status, 200);
    app.drain_jobs().await;
    let booking = booking_json(&app, &b, &b.cust.token).await;
    assert_eq!(booking["outcome"], "attended");

    // In the customer's list and the specialist's Meeting Manager too.
    let (_, mine) = json_body(app.get("/api/appointments", Some(&b.cust.token)).await).await;
    assert_eq!(mine["data"][0]["outcome"], "attended", "{mine}");
    assert_eq!(mine["data"][0]["attendance"]["customerMinutes"], 30);
    let (_, manager) = json_body(app.get("/api/meeting-manager", Some(&b.spec.token)).await).await;
    assert_eq!(
        manager["data"][0]["bookings"][0]["outcome"], "attended",
        "{manager}"
    );
}

#[engine_test]
async fn the_same_event_in_another_body_is_applied_once() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Dup").await;
    let mut first = deleted(&b.meeting);
    let mut second = first.clone();
    first["event_ts"] = json!(1);
    second["event_ts"] = json!(2);
    let (_, a) = deliver(&app, &first).await;
    let (_, again) = deliver(&app, &second).await;
    assert_eq!(a["message"], "Event received");
    assert_eq!(again["message"], "Event already received");
    assert_eq!(app.count("zoom_event").await, 1);
    app.drain_jobs().await;
    let emails = app
        .query(
            "SELECT VALUE key FROM job WHERE key CONTAINS 'zoom-deleted'",
            json!({}),
        )
        .await;
    assert_eq!(emails.len(), 1, "{emails:?}");
}

#[engine_test]
async fn events_for_unknown_meetings_and_unknown_events_are_answered_and_ignored() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Unk").await;
    let before = booking_json(&app, &b, &b.spec.token).await;
    for event in [
        deleted("99999999999"),
        participant_event("joined", "99999999999", HOST, Utc::now()),
        json!({ "event": "meeting.sharing_started", "event_ts": 5, "payload": { "object": { "id": b.meeting } } }),
    ] {
        let (status, body) = deliver(&app, &event).await;
        assert_eq!(status, 200, "{body}");
    }
    app.drain_jobs().await;
    let failed = app
        .query(
            "SELECT VALUE last_error FROM job WHERE last_error != NONE",
            json!({}),
        )
        .await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(booking_json(&app, &b, &b.spec.token).await, before);

    // Not JSON (but signed): a clear 400, nothing stored.
    let ts = Utc::now().timestamp();
    let res = deliver_raw(
        &app,
        b"not json",
        Some(ts),
        Some(zoom_signature(SECRET, ts, b"not json")),
    )
    .await;
    assert_eq!(res.status(), 400);
}

/// Moves the booking's slot into the past (as if its time had come and gone) and makes its
/// queued attendance check due now.
async fn let_the_meeting_pass(app: &TestApp, slot: &str) {
    app.query(
        "UPDATE type::record('slot', $slot) SET starts_at = time::now() - 2h;
         UPDATE job SET run_at = time::now() WHERE kind = 'attendance_check' AND status = 'pending';",
        json!({ "slot": slot }),
    )
    .await;
}

#[engine_test]
async fn without_webhooks_attendance_is_read_from_zooms_report_of_past_participants() {
    let app = webhook_app(vec![]).await;
    let zoom = app.zoom.as_ref().unwrap();
    let b = booked_with_meeting(&app, "Rec").await;
    let t0 = Utc::now() - Duration::minutes(100);
    let stay = |id: &str, email: &str, from: i64, to: i64| {
        json!({ "id": id, "user_id": format!("u-{id}-{from}"), "name": id, "user_email": email,
            "join_time": z(t0 + Duration::minutes(from)), "leave_time": z(t0 + Duration::minutes(to)),
            "duration": (to - from) * 60 })
    };
    // Three pages of one participant each: the client must follow them all.
    zoom.set_participants_page_size(1);
    zoom.set_past_participants(
        &b.meeting,
        vec![
            stay("host-1", "", 0, 45),
            stay("", &b.cust.email, 5, 20),
            stay("", &b.cust.email, 25, 40),
        ],
    );
    // Queued with the meeting, due after its scheduled end: nothing happens before.
    assert_eq!(app.drain_jobs().await, 0);
    let_the_meeting_pass(&app, &b.slot).await;
    app.drain_jobs().await;
    assert_eq!(zoom.participant_requests().await.len(), 3);

    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["outcome"], "attended", "{booking}");
    assert_eq!(booking["attendance"]["customerMinutes"], 30);
    assert_eq!(
        booking["attendance"]["customerJoinedAt"],
        z(t0 + Duration::minutes(5))
    );
    assert_eq!(booking["attendance"]["hostJoinedAt"], z(t0));
}

#[engine_test]
async fn a_uuid_with_slashes_is_double_encoded_when_the_report_is_read_after_the_end() {
    let app = webhook_app(vec![]).await;
    let zoom = app.zoom.as_ref().unwrap();
    let b = booked_with_meeting(&app, "Slash").await;
    let uuid = "/ajXp112QmuoKj4854875==";
    let end = Utc::now() - Duration::minutes(1);
    zoom.set_past_participants(
        uuid,
        vec![
            json!({ "id": "", "user_id": "c1", "name": "Customer", "user_email": b.cust.email,
            "join_time": z(end - Duration::minutes(20)), "leave_time": z(end), "duration": 1200 }),
        ],
    );
    // The webhooks of the joins were lost; only the end arrives.
    let (status, _) = deliver(&app, &ended(&b.meeting, uuid, end)).await;
    assert_eq!(status, 200);
    app.drain_jobs().await;
    let paths: Vec<String> = zoom
        .participant_requests()
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        vec!["/v2/past_meetings/%252FajXp112QmuoKj4854875%253D%253D/participants"]
    );
    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["outcome"], "attended", "{booking}");
    assert_eq!(booking["attendance"]["customerMinutes"], 20);
}

#[engine_test]
async fn a_customer_who_never_joined_is_a_no_show_and_gets_no_feedback_link() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "NoShow").await;
    let t0 = Utc::now() - Duration::minutes(30);
    deliver(&app, &participant_event("joined", &b.meeting, HOST, t0)).await;
    deliver(
        &app,
        &participant_event("left", &b.meeting, HOST, t0 + Duration::minutes(15)),
    )
    .await;
    deliver(
        &app,
        &ended(&b.meeting, "inst-9==", t0 + Duration::minutes(15)),
    )
    .await;
    app.drain_jobs().await;
    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["outcome"], "no_show", "{booking}");
    assert_eq!(booking["attendance"]["customerJoinedAt"], Value::Null);
    assert_eq!(app.count("feedback_request").await, 0);

    // A meeting nobody held, with no webhook at all: a no-show once its time has passed.
    let other = booked_with_meeting(&app, "Never").await;
    let_the_meeting_pass(&app, &other.slot).await;
    app.drain_jobs().await;
    let booking = booking_json(&app, &other, &other.spec.token).await;
    assert_eq!(booking["outcome"], "no_show", "{booking}");
}

#[engine_test]
async fn a_meeting_deleted_in_zoom_can_be_created_again_and_our_own_deletions_are_not_echoed() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Del").await;
    let (status, _) = deliver(&app, &deleted(&b.meeting)).await;
    assert_eq!(status, 200);
    app.drain_jobs().await;

    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["zoomMeeting"], Value::Null, "{booking}");
    assert_eq!(
        booking["meetingHistory"][0]["zoomMeetingId"],
        b.meeting.as_str()
    );
    assert_eq!(booking["meetingHistory"][0]["reason"], "deleted in Zoom");
    // The customer's page is back to pending.
    let (_, details) = json_body(
        app.get(
            &format!("/api/consulting-slots/{}/booking/0", b.slot),
            Some(&b.cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(details["data"]["zoomMeeting"], Value::Null);
    assert_eq!(details["data"]["booking"]["customerNotified"], false);
    // The specialist was told, by email through the SMTP server.
    let smtp = app.smtp.as_ref().unwrap();
    let told = smtp
        .messages()
        .iter()
        .map(|m| String::from_utf8_lossy(m).to_string())
        .filter(|m| m.contains("was deleted in Zoom"))
        .count();
    assert_eq!(told, 1);

    // Create again: a new meeting and a new Ready email to the customer.
    let (status, body) = json_body(app.create_zoom(&b.slot, "0", Some(&b.spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    let new_meeting = body["data"]["zoomMeeting"]["zoomMeetingId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_meeting, b.meeting);
    app.drain_jobs().await;
    let ready = smtp
        .messages()
        .iter()
        .map(|m| String::from_utf8_lossy(m).to_string())
        .filter(|m| m.contains(&new_meeting) && m.contains("Zoom Meeting Ready"))
        .count();
    assert_eq!(ready, 1);
    let (_, details) = json_body(
        app.get(
            &format!("/api/consulting-slots/{}/booking/0", b.slot),
            Some(&b.cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(details["data"]["booking"]["customerNotified"], true);

    // The customer cancels: we delete the meeting at Zoom, and Zoom's echo changes nothing.
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{}/booking/0/cancel", b.slot),
            Some(&b.cust.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.drain_jobs().await;
    let sent_before = smtp.messages().len();
    deliver(&app, &deleted(&new_meeting)).await;
    app.drain_jobs().await;
    assert_eq!(
        smtp.messages().len(),
        sent_before,
        "no email for our own deletion"
    );
    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["meetingHistory"].as_array().unwrap().len(), 1);
}

#[engine_test]
async fn a_meeting_moved_in_zoom_is_flagged_and_put_back_by_the_specialist() {
    let app = webhook_app(vec![]).await;
    let zoom = app.zoom.as_ref().unwrap();
    let b = booked_with_meeting(&app, "Move").await;
    let slot_start: DateTime<Utc> = booking_slot_start(&app, &b).await;
    let moved = slot_start + Duration::hours(3);
    let now_ms = Utc::now().timestamp_millis();

    deliver(&app, &updated(&b.meeting, moved, 90, now_ms)).await;
    app.drain_jobs().await;
    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(
        booking["zoomChanged"],
        json!({ "zoomStartTime": z(moved), "zoomDuration": 90,
            "slotStartTime": z(slot_start), "slotDuration": 45 }),
        "{booking}"
    );
    // An older update arriving late changes nothing.
    deliver(
        &app,
        &updated(&b.meeting, moved + Duration::hours(1), 45, now_ms - 1000),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["zoomChanged"]["zoomStartTime"],
        z(moved)
    );

    // Only the slot's specialist may put it back.
    let path = format!("/api/consulting-slots/{}/booking/0/zoom-put-back", b.slot);
    assert_eq!(
        app.post_json(&path, Some(&b.cust.token), &json!({}))
            .await
            .status(),
        403
    );
    let res = app.post_json(&path, Some(&b.spec.token), &json!({})).await;
    assert_eq!(res.status(), 202);
    app.drain_jobs().await;
    let patches = zoom.update_requests().await;
    assert_eq!(patches.len(), 1);
    let sent: Value = serde_json::from_slice(&patches[0].body).unwrap();
    assert_eq!(sent["start_time"], z(slot_start));
    assert_eq!(sent["duration"], 45);
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["zoomChanged"],
        Value::Null
    );

    // Zoom's echo of our own move (the slot's time) is not a change.
    deliver(
        &app,
        &updated(&b.meeting, slot_start, 45, Utc::now().timestamp_millis()),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["zoomChanged"],
        Value::Null
    );
    // Nothing to put back now.
    assert_eq!(
        app.post_json(&path, Some(&b.spec.token), &json!({}))
            .await
            .status(),
        409
    );
}

async fn booking_slot_start(app: &TestApp, b: &Booked) -> DateTime<Utc> {
    let (_, details) = json_body(
        app.get(
            &format!("/api/consulting-slots/{}/booking/0", b.slot),
            Some(&b.spec.token),
        )
        .await,
    )
    .await;
    details["data"]["slot"]["startsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The feedback link in the email the SMTP server received.
fn feedback_link(app: &TestApp) -> String {
    let messages = app.smtp.as_ref().unwrap().messages();
    let text = messages
        .iter()
        .map(|m| String::from_utf8_lossy(m).to_string())
        .find(|m| m.contains("How was your session"))
        .expect("the feedback email");
    let at = text.find("/feedback/").expect("a feedback link");
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect()
}

/// The customer joins at `t0` and the meeting `instance` ends 30 minutes later.
async fn customer_joins_and_the_meeting_ends(
    app: &TestApp,
    b: &Booked,
    t0: DateTime<Utc>,
    instance: &str,
) {
    deliver(
        app,
        &participant_event("joined", &b.meeting, customer(b), t0),
    )
    .await;
    deliver(
        app,
        &ended(&b.meeting, instance, t0 + Duration::minutes(30)),
    )
    .await;
}

#[engine_test]
async fn an_attended_session_gets_one_feedback_link_whose_answer_the_specialist_sees() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Fb").await;
    let t0 = Utc::now() - Duration::minutes(40);
    customer_joins_and_the_meeting_ends(&app, &b, t0, "inst-fb==").await;
    // The end delivered again, and a late join: still one link.
    deliver(
        &app,
        &ended(&b.meeting, "inst-fb==", t0 + Duration::minutes(30)),
    )
    .await;
    deliver(&app, &participant_event("joined", &b.meeting, HOST, t0)).await;
    app.drain_jobs().await;
    assert_eq!(app.count("feedback_request").await, 1);
    // A repeat with nothing new to fold is no failure: every job succeeded the first time.
    let errors = app
        .query(
            "SELECT kind, last_error FROM job WHERE last_error != NONE",
            json!({}),
        )
        .await;
    assert!(errors.is_empty(), "{errors:?}");
    let link = feedback_link(&app);
    let api = format!("/api{link}");

    let (status, invite) = json_body(app.get(&api, None).await).await;
    assert_eq!(status, 200, "{invite}");
    assert_eq!(invite["data"]["given"], Value::Null);

    for (body, message) in [
        (json!({ "rating": 0 }), "rating must be between 1 and 5"),
        (json!({ "rating": 6 }), "rating must be between 1 and 5"),
        (json!({ "rating": 2.5 }), "rating must be between 1 and 5"),
        (
            json!({ "comment": "no rating" }),
            "rating must be between 1 and 5",
        ),
        (
            json!({ "rating": 4, "comment": "x".repeat(2001) }),
            "comment must be at most 2,000 characters",
        ),
    ] {
        let (status, json) = json_body(app.post_json(&api, None, &body).await).await;
        assert_eq!(
            (status.as_u16(), json["message"].as_str().unwrap()),
            (400, message)
        );
    }
    let (status, json) = json_body(
        app.post_json(
            &api,
            None,
            &json!({ "rating": 4, "comment": "Clear and useful." }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let (status, json) = json_body(app.post_json(&api, None, &json!({ "rating": 1 })).await).await;
    assert_eq!(status, 409);
    assert_eq!(json["message"], "Feedback was already given");
    let (status, _) = json_body(
        app.post_json(
            "/api/feedback/unknowntoken123",
            None,
            &json!({ "rating": 3 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    // The specialist sees it on the booking and in their summary; the customer has no summary.
    let booking = booking_json(&app, &b, &b.spec.token).await;
    assert_eq!(booking["feedback"]["rating"], 4);
    assert_eq!(booking["feedback"]["comment"], "Clear and useful.");
    let (status, summary) = json_body(app.get("/api/feedback", Some(&b.spec.token)).await).await;
    assert_eq!(status, 200);
    assert_eq!(summary["data"]["average"], 4.0);
    assert_eq!(summary["data"]["count"], 1);
    assert_eq!(summary["data"]["latest"][0]["customerName"], "Fb Customer");
    let (status, _) = json_body(app.get("/api/feedback", Some(&b.cust.token)).await).await;
    assert_eq!(status, 403);
    // Another specialist sees none of it.
    let other = app.user(Role::Specialist, "Other Specialist").await;
    let (_, summary) = json_body(app.get("/api/feedback", Some(&other.token)).await).await;
    assert_eq!(summary["data"]["count"], 0);
}

/// G7: the fold that makes a booking attended commits before its feedback request is made; if
/// that request never happened (a failure in between), the next event of the meeting makes it.
#[engine_test]
async fn an_attended_booking_whose_feedback_request_was_lost_gets_it_with_the_next_event() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Lost").await;
    let t0 = Utc::now() - Duration::minutes(40);
    customer_joins_and_the_meeting_ends(&app, &b, t0, "inst-lost==").await;
    app.drain_jobs().await;
    assert_eq!(app.count("feedback_request").await, 1);
    // As if the request had failed after the fold committed.
    app.query("DELETE feedback_request", json!({})).await;
    deliver(&app, &participant_event("joined", &b.meeting, HOST, t0)).await;
    app.drain_jobs().await;
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["outcome"],
        "attended"
    );
    assert_eq!(app.count("feedback_request").await, 1);
}

#[engine_test]
async fn a_join_arriving_after_the_end_turns_a_no_show_into_attended_with_its_feedback_link() {
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Late").await;
    let t0 = Utc::now() - Duration::minutes(40);
    deliver(
        &app,
        &ended(&b.meeting, "inst-late==", t0 + Duration::minutes(30)),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["outcome"],
        "no_show"
    );
    assert_eq!(app.count("feedback_request").await, 0);
    deliver(
        &app,
        &participant_event("joined", &b.meeting, customer(&b), t0),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(
        booking_json(&app, &b, &b.spec.token).await["outcome"],
        "attended"
    );
    assert_eq!(app.count("feedback_request").await, 1);
}

#[engine_test]
async fn a_new_outcome_is_sent_to_the_specialists_webhook_once() {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let app = webhook_app(vec![]).await;
    let b = booked_with_meeting(&app, "Hooked").await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    let (status, body) = json_body(
        app.post_json(
            "/api/webhooks",
            Some(&b.spec.token),
            &json!({ "url": format!("{}/hooks", hooks.uri()), "events": ["attendance.recorded"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let t0 = Utc::now() - Duration::minutes(50);
    for e in [
        participant_event(
            "joined",
            &b.meeting,
            customer(&b),
            t0 + Duration::minutes(1),
        ),
        ended(&b.meeting, "inst-h==", t0 + Duration::minutes(40)),
    ] {
        assert_eq!(deliver(&app, &e).await.0, 200);
        app.drain_jobs().await;
    }
    // A later fold that changes nothing sends nothing more.
    let late = participant_event("left", &b.meeting, customer(&b), t0 + Duration::minutes(39));
    assert_eq!(deliver(&app, &late).await.0, 200);
    app.drain_jobs().await;

    let received = hooks.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let message: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(message["type"], "attendance.recorded");
    assert_eq!(message["data"]["outcome"], "attended");
    // As it was when the message left: until the end, before the late leave arrived.
    assert_eq!(message["data"]["attendance"]["customerMinutes"], 39);
}

#[engine_test]
async fn events_of_a_recurring_meeting_go_to_the_booking_they_happen_at() {
    let app = webhook_app(vec![]).await;
    let spec = app.user(Role::Specialist, "Recur Spec").await;
    let cust = app.user(Role::Customer, "Recur Cust").await;
    let res = app
        .put_json(
            "/api/profile/zoom-settings",
            &spec.token,
            &json!({ "zoomUser": null, "waitingRoom": true, "joinBeforeHost": false,
                "hostVideo": true, "participantVideo": true, "muteUponEntry": true,
                "recurringLinks": true }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut slots = Vec::new();
    for hours in [24, 48, 72] {
        let slot = app.slot(&spec, hours, 1).await;
        assert_eq!(app.book(&slot, &cust).await.status(), 201);
        assert_eq!(
            app.create_zoom(&slot, "0", Some(&spec.token))
                .await
                .status(),
            200
        );
        slots.push(slot);
    }
    let meeting_of = |slot: &str| {
        let (app, slot) = (&app, slot.to_string());
        async move {
            app.query(
                "SELECT VALUE zoom_meeting.zoomMeetingId FROM booking WHERE slot = type::record('slot', $s)",
                json!({ "s": slot }),
            )
            .await[0]
                .clone()
        }
    };
    let shared = meeting_of(&slots[1]).await;
    assert_eq!(
        shared,
        meeting_of(&slots[2]).await,
        "the second and third share one"
    );
    let shared = shared.as_str().unwrap().to_string();
    app.drain_jobs().await;

    // A join near the third slot's start is the third booking's.
    let starts: Vec<Value> = app
        .query(
            "SELECT VALUE starts_at FROM slot ORDER BY starts_at",
            json!({}),
        )
        .await;
    let third_start: DateTime<Utc> = serde_json::from_value(starts[2].clone()).unwrap();
    let who = Who("p-cust", "", Box::leak(cust.email.clone().into_boxed_str()));
    let join = participant_event("joined", &shared, who, third_start + Duration::minutes(1));
    assert_eq!(deliver(&app, &join).await.0, 200);
    app.drain_jobs().await;
    let attendance = |slot: &str| {
        let (app, slot) = (&app, slot.to_string());
        async move {
            app.query(
                "SELECT VALUE attendance FROM booking WHERE slot = type::record('slot', $s)",
                json!({ "s": slot }),
            )
            .await[0]
                .clone()
        }
    };
    assert!(attendance(&slots[2]).await.is_object());
    assert!(attendance(&slots[1]).await.is_null());

    // Deleted in Zoom: both bookings let it go, and the next booking makes a new one.
    assert_eq!(deliver(&app, &deleted(&shared)).await.0, 200);
    app.drain_jobs().await;
    assert!(meeting_of(&slots[1]).await.is_null());
    assert!(meeting_of(&slots[2]).await.is_null());
    assert!(
        meeting_of(&slots[0]).await.is_string(),
        "the first one's own meeting stays"
    );
    assert_eq!(app.count("recurring_meeting").await, 0);
}
