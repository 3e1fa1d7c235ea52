//! Every REST route and server function, called by everyone who might: the answer each gets,
//! and a database left exactly as it was whenever the call is refused.

use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{form_body, spawn_app, TestApp, JWT_SECRET};

/// Who calls, in this order in every row's expectations.
const CALLERS: [&str; 8] = [
    "anonymous",
    "the booking's customer",
    "another customer",
    "the owning specialist",
    "another specialist",
    "an expired token",
    "a tampered token",
    "a logged-out session",
];

/// A world with one booked slot and every kind of caller.
struct World {
    app: TestApp,
    slot: String,
    /// Another upcoming slot of the same specialist (a reschedule's target).
    other_slot: String,
    tokens: [Option<String>; 8],
}

async fn world() -> World {
    let app = spawn_app().await;
    let customer = app.user(Role::Customer, "Cara").await;
    let other_customer = app.user(Role::Customer, "Olaf").await;
    let owner = app.user(Role::Specialist, "Owen").await;
    let other_specialist = app.user(Role::Specialist, "Sid").await;
    let slot = app.slot(&owner, 48, 5).await;
    let other_slot = app.slot(&owner, 96, 5).await;
    app.user_with_email(Role::Customer, "Taken", "taken@example.com")
        .await;
    assert_eq!(app.book(&slot, &customer).await.status(), 201);

    let now = chrono::Utc::now().timestamp();
    let session = app
        .query(
            "SELECT VALUE record::id(id) FROM session WHERE user = type::record('user', $u)",
            json!({ "u": customer.id }),
        )
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    let expired = encode(
        &Header::default(),
        &json!({ "sub": customer.id, "sid": session, "iat": now - 7200, "exp": now - 60 }),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    // The customer's token, its subject swapped for the owner's: the signature no longer fits.
    let mut parts: Vec<String> = customer.token.split('.').map(String::from).collect();
    parts[1] = base64_url(
        &json!({ "sub": owner.id, "sid": session, "iat": now, "exp": now + 3600 }).to_string(),
    );
    let tampered = parts.join(".");
    let logged_out = app.user(Role::Customer, "Cara again").await.token;
    let res = app
        .post_json("/api/auth/logout", Some(&logged_out), &json!({}))
        .await;
    assert_eq!(res.status(), 200);

    World {
        app,
        slot,
        other_slot,
        tokens: [
            None,
            Some(customer.token),
            Some(other_customer.token),
            Some(owner.token),
            Some(other_specialist.token),
            Some(expired),
            Some(tampered),
            Some(logged_out),
        ],
    }
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

enum Call {
    Rest(Method, String, Option<Value>),
    /// A server function by endpoint, with its form fields.
    ServerFn(&'static str, Vec<(&'static str, String)>),
}

async fn send(w: &World, call: &Call, token: Option<&str>) -> (StatusCode, Value) {
    let app = &w.app;
    let mut req = match call {
        Call::Rest(method, path, body) => {
            let mut r = app.client.request(method.clone(), app.url(path));
            if let Some(b) = body {
                r = r.json(b);
            }
            r
        }
        Call::ServerFn(endpoint, fields) => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.client
                .post(app.url(&format!("/api/{endpoint}")))
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_body(&fields))
        }
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// One row: a call and what each caller (in `CALLERS` order) gets. Messages are checked for
/// refusals whose wording the spec or this product fixes.
struct Row {
    name: &'static str,
    /// Built from the slot and the other slot.
    call: fn(&str, &str) -> Call,
    expect: [u16; 8],
    messages: &'static [(u16, &'static str)],
    /// Several callers may change things: each gets a world of its own.
    fresh_per_caller: bool,
}

const LOGIN: &str = "Unauthorized. Please login.";
const LOGIN_SPECIALIST: &str = "Unauthorized. Please login as a specialist.";
const SLOTS_FOR_SPECIALISTS: &str = "Only specialists can manage consulting slots.";

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Call::{Rest, ServerFn};
    vec![
        Row { name: "GET /api/auth/me", call: |_, _| Rest(Method::GET, "/api/auth/me".into(), None),
              expect: [401, 200, 200, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "POST /api/auth/register (an email in use)", call: |_, _| Rest(Method::POST, "/api/auth/register".into(), Some(json!({ "name": "Dup", "email": "taken@example.com", "password": "long-password", "role": "customer" }))),
              expect: [409; 8], messages: &[(409, "An account with this email already exists")], fresh_per_caller: false },
        Row { name: "POST /api/auth/login (wrong password)", call: |_, _| Rest(Method::POST, "/api/auth/login".into(), Some(json!({ "email": "taken@example.com", "password": "wrong-password" }))),
              expect: [401; 8], messages: &[(401, "Invalid email or password")], fresh_per_caller: false },
        Row { name: "GET /meetings/:id/:i/start", call: |s, _| Rest(Method::GET, format!("/meetings/{s}/0/start"), None),
              expect: [303, 403, 403, 404, 403, 303, 303, 303], messages: &[], fresh_per_caller: false },
        Row { name: "POST /api/auth/logout", call: |_, _| Rest(Method::POST, "/api/auth/logout".into(), Some(json!({}))),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "POST /api/auth/resend-verification", call: |_, _| Rest(Method::POST, "/api/auth/resend-verification".into(), Some(json!({}))),
              expect: [401, 409, 409, 409, 409, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "POST /api/auth/verify-email (unknown token)", call: |_, _| Rest(Method::POST, "/api/auth/verify-email".into(), Some(json!({ "token": "nope" }))),
              expect: [400; 8], messages: &[], fresh_per_caller: false },
        Row { name: "GET /api/profile/zoom-settings", call: |_, _| Rest(Method::GET, "/api/profile/zoom-settings".into(), None),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN), (403, "Only specialists have Zoom settings.")], fresh_per_caller: false },
        Row { name: "PUT /api/profile/zoom-settings", call: |_, _| Rest(Method::PUT, "/api/profile/zoom-settings".into(), Some(json!({ "zoomUser": null, "waitingRoom": false, "joinBeforeHost": false, "hostVideo": true, "participantVideo": true, "muteUponEntry": true }))),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "GET /api/consulting-slots", call: |_, _| Rest(Method::GET, "/api/consulting-slots".into(), None),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "POST /api/consulting-slots", call: |_, _| {
                  let at = chrono::Utc::now() + chrono::Duration::days(3);
                  Rest(Method::POST, "/api/consulting-slots".into(), Some(json!({ "date": at.format("%Y-%m-%d").to_string(), "startTime": "10:00", "duration": 30, "capacity": 2, "title": "New", "timezone": "UTC" })))
              },
              expect: [401, 403, 403, 201, 201, 401, 401, 401], messages: &[(401, LOGIN), (403, SLOTS_FOR_SPECIALISTS)], fresh_per_caller: false },
        Row { name: "GET /api/consulting-slots/mine", call: |_, _| Rest(Method::GET, "/api/consulting-slots/mine".into(), None),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN), (403, SLOTS_FOR_SPECIALISTS)], fresh_per_caller: false },
        Row { name: "PATCH /api/consulting-slots/:id", call: |s, _| Rest(Method::PATCH, format!("/api/consulting-slots/{s}"), Some(json!({ "title": "Renamed" }))),
              expect: [401, 403, 403, 200, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "DELETE /api/consulting-slots/:id", call: |s, _| Rest(Method::DELETE, format!("/api/consulting-slots/{s}"), None),
              expect: [401, 403, 403, 409, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "POST /api/consulting-slots/:id/book", call: |s, _| Rest(Method::POST, format!("/api/consulting-slots/{s}/book"), Some(json!({}))),
              expect: [401, 409, 201, 403, 403, 401, 401, 401], messages: &[(401, LOGIN), (403, "Only customers can book consulting slots.")], fresh_per_caller: false },
        Row { name: "GET /api/consulting-slots/:id/booking/:i", call: |s, _| Rest(Method::GET, format!("/api/consulting-slots/{s}/booking/0"), None),
              expect: [401, 200, 404, 200, 404, 401, 401, 401], messages: &[(401, LOGIN), (404, "Booking not found")], fresh_per_caller: false },
        Row { name: "POST /api/consulting-slots/:id/booking/:i/create-zoom", call: |s, _| Rest(Method::POST, format!("/api/consulting-slots/{s}/booking/0/create-zoom"), Some(json!({}))),
              expect: [401, 403, 403, 200, 403, 401, 401, 401],
              messages: &[(401, LOGIN_SPECIALIST), (403, "Forbidden. You can only create Zoom meetings for your own slots.")], fresh_per_caller: false },
        Row { name: "GET /api/consulting-slots/:id/booking/:i/start-url", call: |s, _| Rest(Method::GET, format!("/api/consulting-slots/{s}/booking/0/start-url"), None),
              expect: [401, 403, 403, 404, 403, 401, 401, 401], messages: &[(401, LOGIN_SPECIALIST)], fresh_per_caller: false },
        Row { name: "GET /api/appointments", call: |_, _| Rest(Method::GET, "/api/appointments".into(), None),
              expect: [401, 200, 200, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "GET /api/meeting-manager", call: |_, _| Rest(Method::GET, "/api/meeting-manager".into(), None),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN_SPECIALIST)], fresh_per_caller: false },
        Row { name: "server fn current_user", call: |_, _| ServerFn("current_user", vec![]),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "server fn demo_accounts", call: |_, _| ServerFn("demo_accounts", vec![]),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "server fn logout", call: |_, _| ServerFn("logout", vec![]),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "server fn login (wrong password)", call: |_, _| ServerFn("login", vec![("email", "cara@example.com".into()), ("password", "wrong-password".into())]),
              expect: [401; 8], messages: &[(401, "Invalid email or password")], fresh_per_caller: false },
        Row { name: "server fn verify_email (unknown token)", call: |_, _| ServerFn("verify_email", vec![("token", "nope".into())]),
              expect: [400; 8], messages: &[], fresh_per_caller: false },
        Row { name: "server fn resend_verification", call: |_, _| ServerFn("resend_verification", vec![]),
              expect: [401, 409, 409, 409, 409, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn zoom_settings", call: |_, _| ServerFn("zoom_settings", vec![]),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn save_zoom_settings", call: |_, _| ServerFn("save_zoom_settings", vec![("waiting_room", "on".into())]),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn browse_slots", call: |_, _| ServerFn("browse_slots", vec![("page", "1".into())]),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
        Row { name: "server fn my_slots", call: |_, _| ServerFn("my_slots", vec![]),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN), (403, SLOTS_FOR_SPECIALISTS)], fresh_per_caller: false },
        Row { name: "server fn create_slot", call: |_, _| {
                  let at = chrono::Utc::now() + chrono::Duration::days(3);
                  ServerFn("create_slot", vec![("date", at.format("%Y-%m-%d").to_string()), ("start_time", "10:00".into()), ("duration", "30".into()), ("capacity", "2".into()), ("title", "New".into()), ("timezone", "UTC".into())])
              },
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN), (403, SLOTS_FOR_SPECIALISTS)], fresh_per_caller: false },
        Row { name: "server fn delete_slot", call: |s, _| ServerFn("delete_slot", vec![("slot_id", s.into())]),
              expect: [401, 403, 403, 409, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn book_slot", call: |s, _| ServerFn("book_slot", vec![("slot_id", s.into())]),
              expect: [401, 409, 200, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn create_zoom_meeting", call: |s, _| ServerFn("create_zoom_meeting", vec![("slot_id", s.into()), ("booking_index", "0".into())]),
              expect: [401, 403, 403, 200, 403, 401, 401, 401], messages: &[(401, LOGIN_SPECIALIST)], fresh_per_caller: false },
        Row { name: "server fn meeting_manager", call: |_, _| ServerFn("meeting_manager", vec![]),
              expect: [401, 403, 403, 200, 200, 401, 401, 401], messages: &[(401, LOGIN_SPECIALIST)], fresh_per_caller: false },
        Row { name: "server fn appointment", call: |s, _| ServerFn("appointment", vec![("slot_id", s.into()), ("booking_index", "0".into())]),
              expect: [401, 200, 404, 200, 404, 401, 401, 401], messages: &[(404, "Booking not found")], fresh_per_caller: false },
        Row { name: "server fn my_appointments", call: |_, _| ServerFn("my_appointments", vec![]),
              expect: [401, 200, 200, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "POST /api/consulting-slots/:id/booking/:i/cancel", call: |s, _| Rest(Method::POST, format!("/api/consulting-slots/{s}/booking/0/cancel"), Some(json!({ "reason": "Ill" }))),
              expect: [401, 200, 404, 200, 404, 401, 401, 401], messages: &[(401, LOGIN), (404, "Booking not found")], fresh_per_caller: true },
        Row { name: "POST /api/consulting-slots/:id/booking/:i/reschedule", call: |s, o| Rest(Method::POST, format!("/api/consulting-slots/{s}/booking/0/reschedule"), Some(json!({ "toSlotId": o }))),
              expect: [401, 200, 404, 404, 404, 401, 401, 401], messages: &[(401, LOGIN), (404, "Booking not found")], fresh_per_caller: true },
        Row { name: "POST /api/consulting-slots/:id/cancel", call: |s, _| Rest(Method::POST, format!("/api/consulting-slots/{s}/cancel"), Some(json!({ "reason": "Travel" }))),
              expect: [401, 403, 403, 200, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn cancel_booking", call: |s, _| ServerFn("cancel_booking", vec![("slot_id", s.into()), ("booking_index", "0".into()), ("reason", "Ill".into())]),
              expect: [401, 200, 404, 200, 404, 401, 401, 401], messages: &[(404, "Booking not found")], fresh_per_caller: true },
        Row { name: "server fn reschedule_booking", call: |s, o| ServerFn("reschedule_booking", vec![("slot_id", s.into()), ("booking_index", "0".into()), ("to_slot_id", o.into())]),
              expect: [401, 200, 404, 404, 404, 401, 401, 401], messages: &[(404, "Booking not found")], fresh_per_caller: true },
        Row { name: "server fn cancel_slot", call: |s, _| ServerFn("cancel_slot", vec![("slot_id", s.into()), ("reason", "Travel".into())]),
              expect: [401, 403, 403, 200, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "PUT /api/profile/reminders", call: |_, _| Rest(Method::PUT, "/api/profile/reminders".into(), Some(json!({ "enabled": false }))),
              expect: [401, 200, 200, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "POST /unsubscribe (unknown token)", call: |_, _| Rest(Method::POST, "/unsubscribe?token=nope".into(), None),
              expect: [400; 8], messages: &[(400, "This unsubscribe link is not valid.")], fresh_per_caller: false },
        Row { name: "server fn set_reminders", call: |_, _| ServerFn("set_reminders", vec![]),
              expect: [401, 200, 200, 200, 200, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn unsubscribe (unknown token)", call: |_, _| ServerFn("unsubscribe", vec![("token", "nope".into())]),
              expect: [400; 8], messages: &[(400, "This unsubscribe link is not valid.")], fresh_per_caller: false },
        Row { name: "server fn reschedule_options", call: |s, _| ServerFn("reschedule_options", vec![("slot_id", s.into()), ("booking_index", "0".into())]),
              expect: [401, 200, 404, 200, 404, 401, 401, 401], messages: &[(404, "Booking not found")], fresh_per_caller: false },
        Row { name: "POST /api/consulting-slots/:id/waitlist (seats left)", call: |s, _| Rest(Method::POST, format!("/api/consulting-slots/{s}/waitlist"), Some(json!({}))),
              expect: [401, 409, 409, 403, 403, 401, 401, 401], messages: &[(401, LOGIN), (403, "Only customers can join a waitlist.")], fresh_per_caller: false },
        Row { name: "DELETE /api/consulting-slots/:id/waitlist", call: |s, _| Rest(Method::DELETE, format!("/api/consulting-slots/{s}/waitlist"), None),
              expect: [401, 404, 404, 403, 403, 401, 401, 401], messages: &[(401, LOGIN), (404, "You are not on the waitlist for this slot")], fresh_per_caller: false },
        Row { name: "GET /api/waitlist", call: |_, _| Rest(Method::GET, "/api/waitlist".into(), None),
              expect: [401, 200, 200, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn join_waitlist (seats left)", call: |s, _| ServerFn("join_waitlist", vec![("slot_id", s.into())]),
              expect: [401, 409, 409, 403, 403, 401, 401, 401], messages: &[(401, LOGIN), (403, "Only customers can join a waitlist.")], fresh_per_caller: false },
        Row { name: "server fn leave_waitlist", call: |s, _| ServerFn("leave_waitlist", vec![("slot_id", s.into())]),
              expect: [401, 404, 404, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn my_waitlist", call: |_, _| ServerFn("my_waitlist", vec![]),
              expect: [401, 200, 200, 403, 403, 401, 401, 401], messages: &[(401, LOGIN)], fresh_per_caller: false },
        Row { name: "server fn refresh_seconds", call: |_, _| ServerFn("refresh_seconds", vec![]),
              expect: [200; 8], messages: &[], fresh_per_caller: false },
    ]

}

#[engine_test]
async fn every_route_answers_every_caller_as_it_should_and_refusals_change_nothing() {
    let mut failures = Vec::new();
    for row in rows() {
        let mut w = world().await;
        // Refused callers first, so a call that may change things runs after them.
        let mut order: Vec<usize> = (0..CALLERS.len()).collect();
        order.sort_by_key(|&i| (200..300).contains(&row.expect[i]));
        for i in order {
            if row.fresh_per_caller && (200..300).contains(&row.expect[i]) {
                w = world().await;
            }
            let before = w.app.dump().await;
            let call = (row.call)(&w.slot, &w.other_slot);
            let (status, body) = send(&w, &call, w.tokens[i].as_deref()).await;
            let expected = row.expect[i];
            if status.as_u16() != expected {
                failures.push(format!(
                    "{} by {}: {status} (expected {expected}): {body}",
                    row.name, CALLERS[i]
                ));
                continue;
            }
            if !(200..300).contains(&expected) {
                if let Some((_, message)) = row.messages.iter().find(|(s, _)| *s == expected) {
                    let got = body["message"].as_str().unwrap_or_default();
                    if got != *message {
                        failures.push(format!(
                            "{} by {}: message {got:?}, expected {message:?}",
                            row.name, CALLERS[i]
                        ));
                    }
                }
                if w.app.dump().await != before {
                    failures.push(format!(
                        "{} by {}: refused, yet the database changed",
                        row.name, CALLERS[i]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
