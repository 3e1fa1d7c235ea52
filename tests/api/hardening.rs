//! The holes a security review found, each pinned by a test that failed before its fix.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{form_body, json_body, non_loopback_address, spawn_app, spawn_with, Options};

/// A `Location` a browser would follow to this site only.
fn is_local(location: &str) -> bool {
    location.starts_with('/')
        && !location.starts_with("//")
        && location.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

fn next_values() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "/[\\x00-\\x7f]{0,20}",
        "[/\\\\\\t\\r\\n ]{1,4}[a-z.:]{0,12}",
        Just("/\t/evil.example".to_string()),
        Just("/\r\n/evil.example".to_string()),
        Just("//evil.example".to_string()),
        Just("/\\evil.example".to_string()),
        Just("https://evil.example/".to_string()),
    ]
}

#[tokio::test]
async fn a_next_parameter_never_sends_a_logged_in_user_to_another_site() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Nia").await;
    let mut runner = TestRunner::deterministic();
    let strategy = next_values();
    for _ in 0..48 {
        let next = strategy.new_tree(&mut runner).unwrap().current();
        // As a browser without wasm posts the login form: it follows the Location.
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("email", &user.email),
                ("password", crate::helpers::PASSWORD),
                ("next", &next),
            ]))
            .send()
            .await
            .unwrap_or_else(|e| panic!("connection dropped for next={next:?}: {e}"));
        assert!(res.status().is_redirection(), "{next:?}: {}", res.status());
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(
            is_local(&location),
            "next={next:?} sent the user to {location:?}"
        );
        if !(next.starts_with('/') && is_local(&next)) {
            assert_eq!(location, "/slots", "next={next:?}: the user's home instead");
        }
    }
}

#[tokio::test]
async fn a_control_character_in_next_is_answered_not_dropped() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Ola").await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("email", &user.email),
            ("password", crate::helpers::PASSWORD),
            ("next", "/\r\nSet-Cookie: evil=1"),
        ]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/slots");
}

#[tokio::test]
async fn dev_pages_answer_loopback_clients_only() {
    let app = spawn_with(Options {
        bind: Some("0.0.0.0:0"),
        ..Default::default()
    })
    .await;
    let local = app.get("/dev/mail", None).await;
    assert_eq!(local.status(), StatusCode::OK);
    let port = app.base.rsplit(':').next().unwrap();
    let remote = app
        .client
        .get(format!("http://{}:{port}/dev/mail", non_loopback_address()))
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
    let zoom_page = app
        .client
        .get(format!(
            "http://{}:{port}/dev/zoom/sim-1",
            non_loopback_address()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(zoom_page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn slot_dates_more_than_two_years_ahead_are_refused() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Ida").await;
    let too_far = chrono::Utc::now() + chrono::Duration::days(800);
    for date in [
        too_far.format("%Y-%m-%d").to_string(),
        "+99999-01-01".to_string(),
    ] {
        let body = json!({ "date": date, "startTime": "10:00", "duration": 30, "capacity": 1, "title": "Far", "timezone": "UTC" });
        let (status, body) = json_body(
            app.post_json("/api/consulting-slots", Some(&spec.token), &body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{date}: {body}");
        assert!(
            body["message"].as_str().unwrap().starts_with("date"),
            "{body}"
        );
    }
    assert_eq!(app.count("slot").await, 0);
    // Moving an existing slot that far is refused too.
    let slot = app.slot(&spec, 24, 1).await;
    let (status, _) = json_body(
        app.patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "date": too_far.format("%Y-%m-%d").to_string() }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn creating_a_meeting_after_the_appointment_ended_is_refused() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Eli").await;
    let cust = app.user(Role::Customer, "Fay").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    // The session took place yesterday.
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 1d",
        json!({ "s": slot }),
    )
    .await;
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "This appointment has already ended");
    assert!(app
        .zoom
        .as_ref()
        .unwrap()
        .create_requests()
        .await
        .is_empty());
}
