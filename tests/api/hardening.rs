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

#[tokio::test]
async fn cross_site_requests_without_a_bearer_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Pia").await;
    let spec = app.user(Role::Specialist, "Quin").await;
    let slot = app.slot(&spec, 24, 5).await;
    let host = app.base.trim_start_matches("http://").to_string();
    let login = form_body(&[
        ("email", &user.email),
        ("password", crate::helpers::PASSWORD),
    ]);
    let refused = json!({ "success": false, "message": "Cross-site request refused" });

    // Login CSRF: another site logging the victim in (server function and REST).
    let sessions_before = app.count("session").await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site".to_string()),
        ("sec-fetch-site", "same-site".to_string()),
        ("origin", "https://evil.example".to_string()),
        ("referer", "https://evil.example/page".to_string()),
        ("origin", "null".to_string()),
    ] {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, &value)
            .body(login.clone())
            .send()
            .await
            .unwrap();
        let (status, body) = json_body(res).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(body, refused);
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .header(name, &value)
            .json(&json!({ "email": user.email, "password": crate::helpers::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "REST {name}: {value}");
    }
    assert_eq!(app.count("session").await, sessions_before);

    // A forged booking with the victim's cookie.
    let res = app
        .client
        .post(app.url("/api/book_slot"))
        .header("cookie", format!("specialistly_token={}", user.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://evil.example")
        .body(form_body(&[("slot_id", &slot)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("booking").await, 0);

    // The same page opened as another name of this host is same-origin: allowed.
    let res = app
        .client
        .post(app.url("/api/book_slot"))
        .header("cookie", format!("specialistly_token={}", user.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .body(form_body(&[("slot_id", &slot)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(app.count("booking").await, 1);

    // Bearer-token clients are not affected.
    let other = app.user(Role::Customer, "Rae").await;
    let res = app
        .client
        .post(app.url(&format!("/api/consulting-slots/{slot}/book")))
        .bearer_auth(&other.token)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_fresh_script_nonce() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = app.get("/login", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.contains("'unsafe-inline' 'wasm")
                && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .expect("a script nonce")
            .to_string();
        let html = res.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "the page hydrates");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script carries this response's nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
    for path in ["/api/consulting-slots", "/api/nothing-here", "/healthz"] {
        let res = app.get(path, None).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(h.contains_key("content-security-policy"));
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
}

#[tokio::test]
async fn https_deployments_get_hsts() {
    let app = spawn_with(Options {
        extra: vec![("APP_BASE_URL", "https://book.example.com".into())],
        ..Default::default()
    })
    .await;
    let res = app.get("/healthz", None).await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}
