//! A specialist's own calendars: read from their iCalendar address (conditional GET), busy
//! times kept free of sessions, a failing calendar keeps its last busy times and says since
//! when it fails.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use specialistly::model::Role;
use specialistly::server::service::busy_calendars::fetch;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{json_body, spawn_app, spawn_with, Options, TestApp, TestUser};
use crate::offerings::every_day;

fn ics_time(days: i64, hh_mm: &str) -> String {
    format!(
        "{}T{}00Z",
        (Utc::now().date_naive() + Duration::days(days)).format("%Y%m%d"),
        hh_mm.replace(':', "")
    )
}

/// Tomorrow: busy 09:30–10:30; a free (transparent) event at 12:00 and a cancelled one at 11:00.
fn calendar() -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:busy\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Private\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:free\r\nDTSTART:{}\r\nDTEND:{}\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:off\r\nDTSTART:{}\r\nDTEND:{}\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n",
        ics_time(1, "09:30"),
        ics_time(1, "10:30"),
        ics_time(1, "12:00"),
        ics_time(1, "13:00"),
        ics_time(1, "11:00"),
        ics_time(1, "12:00"),
    )
}

async fn tomorrows_sessions(app: &TestApp, spec: &TestUser) -> Vec<String> {
    let tomorrow = (Utc::now().date_naive() + Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    app.query(
        "SELECT VALUE start_time FROM slot WHERE specialist = type::record('user', $u)
            AND date = $d AND cancelled_at = NONE ORDER BY starts_at",
        json!({ "u": spec.id, "d": tomorrow }),
    )
    .await
    .into_iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect()
}

async fn calendars(app: &TestApp, spec: &TestUser) -> Vec<Value> {
    let (status, body) = json_body(app.get("/api/busy-calendars", Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[engine_test]
async fn busy_times_keep_sessions_free_and_a_failing_calendar_keeps_its_last_ones() {
    let app = spawn_app().await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/private/secret-token-1234/basic.ics"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/private/secret-token-1234/basic.ics"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .insert_header("content-type", "text/calendar")
                .set_body_string(calendar()),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let spec = app.user(Role::Specialist, "Calendar Spec").await;
    let weekly = every_day(&[("09:00", "13:00")]);
    let res = app
        .post_json(
            "/api/offerings",
            Some(&spec.token),
            &json!({ "title": "Hour", "duration": 60, "capacity": 1,
                     "schedule": { "timezone": "UTC", "weekly": weekly, "windowDays": 5 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let url = format!("{}/private/secret-token-1234/basic.ics", server.uri());
    let (status, added) = json_body(
        app.post_json(
            "/api/busy-calendars",
            Some(&spec.token),
            &json!({ "url": url, "label": "Personal" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let address = added["data"]["address"].as_str().unwrap();
    assert!(!address.contains("secret-token"), "{address}");
    assert!(address.ends_with(".ics"), "{address}");
    app.drain_jobs().await;
    // 09:00 and 10:00 touch 09:30–10:30; the free and the cancelled events block nothing.
    assert_eq!(tomorrows_sessions(&app, &spec).await, ["11:00", "12:00"]);
    let listed = calendars(&app, &spec).await;
    assert_eq!(listed[0]["busyCount"], 1, "{listed:?}");
    assert!(listed[0]["fetchedAt"].is_string());
    assert!(listed[0]["failingSince"].is_null());

    // Read again: conditionally, and 304 changes nothing.
    let id = listed[0]["id"].as_str().unwrap().to_string();
    fetch(&app.state, &id).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(calendars(&app, &spec).await[0]["busyCount"], 1);

    // The calendar's server fails: the busy times stay, and the page says since when.
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    fetch(&app.state, &id).await.unwrap();
    app.drain_jobs().await;
    let failing = &calendars(&app, &spec).await[0];
    assert!(failing["failingSince"].is_string(), "{failing}");
    assert!(
        failing["lastError"].as_str().unwrap().contains("HTTP 500"),
        "{failing}"
    );
    assert_eq!(failing["busyCount"], 1);
    assert_eq!(tomorrows_sessions(&app, &spec).await, ["11:00", "12:00"]);

    // Removed: its busy times no longer hold sessions back.
    let res = app
        .delete(&format!("/api/busy-calendars/{id}"), &spec.token)
        .await;
    assert_eq!(res.status(), 200);
    app.drain_jobs().await;
    assert_eq!(
        tomorrows_sessions(&app, &spec).await,
        ["09:00", "10:00", "11:00", "12:00"]
    );
}

#[engine_test]
async fn calendar_addresses_follow_the_outgoing_request_rules() {
    let app = spawn_with(Options {
        extra: vec![("WEBHOOK_PUBLIC_ONLY", "true".into())],
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Rules Spec").await;
    for (url, message) in [
        ("http://calendar.example.com/x.ics", "https://"),
        ("https://127.0.0.1/x.ics", "public address"),
        ("ftp://example.com/x.ics", "https://"),
        ("", "required"),
    ] {
        let (status, body) = json_body(
            app.post_json(
                "/api/busy-calendars",
                Some(&spec.token),
                &json!({ "url": url }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{url}: {body}"
        );
    }
    let cust = app.user(Role::Customer, "Rules Cust").await;
    let res = app
        .post_json(
            "/api/busy-calendars",
            Some(&cust.token),
            &json!({ "url": "https://example.com/x.ics" }),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("busy_calendar").await, 0);
}

/// Between a calendar's new busy time and the job that removes the sessions it overlaps, a
/// booking of such a session is refused.
#[engine_test]
async fn a_session_a_busy_time_now_overlaps_cannot_be_booked() {
    let app = spawn_app().await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(calendar()))
        .mount(&server)
        .await;
    let spec = app.user(Role::Specialist, "Busy Booking Spec").await;
    let weekly = every_day(&[("09:00", "11:00")]);
    let res = app
        .post_json(
            "/api/offerings",
            Some(&spec.token),
            &json!({ "title": "Hour", "duration": 60, "capacity": 2,
                     "schedule": { "timezone": "UTC", "weekly": weekly, "windowDays": 3 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.drain_jobs().await;
    assert_eq!(tomorrows_sessions(&app, &spec).await, ["09:00", "10:00"]);
    // The calendar is read, and its busy time (09:30–10:30) is known before the sessions are
    // made again.
    app.query(
        "CREATE busy_calendar:cal SET specialist = type::record('user', $u), url = $url, busy = []",
        json!({ "u": spec.id, "url": format!("{}/cal.ics", server.uri()) }),
    )
    .await;
    fetch(&app.state, "cal").await.unwrap();
    let tomorrow = (Utc::now().date_naive() + Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let slot = app
        .query(
            "SELECT VALUE record::id(id) FROM slot WHERE specialist = type::record('user', $u)
                AND date = $d AND start_time = '09:00'",
            json!({ "u": spec.id, "d": tomorrow }),
        )
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    let cust = app.user(Role::Customer, "Busy Booking Cust").await;
    let (status, body) = json_body(app.book(&slot, &cust).await).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["message"],
        "The specialist is not available at that time"
    );
    assert_eq!(app.count("booking").await, 0);
    // Another day's session (past the reschedule cutoff) is booked as usual.
    let other = app
        .query(
            "SELECT VALUE record::id(id) FROM slot WHERE specialist = type::record('user', $u)
                AND date != $d AND starts_at > time::now() + 1d ORDER BY starts_at LIMIT 1",
            json!({ "u": spec.id, "d": tomorrow }),
        )
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.book(&other, &cust).await.status(), 201);
    // Nor can a booking be moved into the busy session; it stays where it was.
    let (status, body) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{other}/booking/0/reschedule"),
            Some(&cust.token),
            &json!({ "toSlotId": slot }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["message"],
        "The specialist is not available at that time"
    );
    let active = app
        .query(
            "SELECT VALUE record::id(slot) FROM booking WHERE status = 'active'",
            json!({}),
        )
        .await;
    assert_eq!(active, [json!(other)]);
}

/// The busy-time check of a booking counts the offering's buffers: a busy time that touches
/// only the free minutes after a session refuses it too, as it keeps the session from being
/// made in the first place.
#[engine_test]
async fn a_busy_time_over_a_sessions_buffer_refuses_its_booking() {
    let app = spawn_app().await;
    let server = MockServer::start().await;
    let busy_after = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:after\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Private\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n",
        ics_time(2, "10:15"),
        ics_time(2, "10:45"),
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(busy_after))
        .mount(&server)
        .await;
    let spec = app.user(Role::Specialist, "Buffer Spec").await;
    let res = app
        .post_json(
            "/api/offerings",
            Some(&spec.token),
            &json!({ "title": "Hour", "duration": 60, "capacity": 2,
                     "schedule": { "timezone": "UTC", "weekly": every_day(&[("09:00", "10:00")]),
                                   "bufferAfterMinutes": 30, "windowDays": 4 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.drain_jobs().await;
    let day = |days: i64| {
        (Utc::now().date_naive() + Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let session_on = |date: String| {
        let app = &app;
        let spec = &spec;
        async move {
            app.query(
                "SELECT VALUE record::id(id) FROM slot WHERE specialist = type::record('user', $u)
                    AND date = $d",
                json!({ "u": spec.id, "d": date }),
            )
            .await[0]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (busy_day, other_day) = (session_on(day(2)).await, session_on(day(3)).await);
    // The calendar is read before its sessions are made again: 10:15–10:45 is in the
    // 30 minutes after the 09:00–10:00 session, not in the session.
    app.query(
        "CREATE busy_calendar:cal SET specialist = type::record('user', $u), url = $url, busy = []",
        json!({ "u": spec.id, "url": format!("{}/cal.ics", server.uri()) }),
    )
    .await;
    fetch(&app.state, "cal").await.unwrap();
    let cust = app.user(Role::Customer, "Buffer Cust").await;
    let (status, body) = json_body(app.book(&busy_day, &cust).await).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["message"],
        "The specialist is not available at that time"
    );
    assert_eq!(app.book(&other_day, &cust).await.status(), 201);
    // Nor can the booking move there.
    let (status, _) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{other_day}/booking/0/reschedule"),
            Some(&cust.token),
            &json!({ "toSlotId": busy_day }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
}
