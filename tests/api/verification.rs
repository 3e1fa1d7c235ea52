//! Email verification and who may host a specialist's Zoom meetings.

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;
use specialistly::server::admin;

use crate::helpers::{form_body, json_body, parse, spawn_with, to_address, Options, TestApp};

/// Registers through the API and returns the token and the link emailed to the new account.
async fn sign_up(app: &TestApp, email: &str, role: &str) -> (String, String) {
    let (status, body) = json_body(
        app.post_json(
            "/api/auth/register",
            None,
            &json!({ "name": "Vera", "email": email, "password": "long-password", "role": role }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["user"]["emailVerified"], false);
    app.drain_jobs().await;
    let messages = app.smtp.as_ref().unwrap().wait_for(1).await;
    let confirmation = messages
        .iter()
        .map(|raw| parse(raw))
        .find(|m| to_address(m) == email)
        .expect("a confirmation email");
    assert_eq!(
        confirmation.subject().unwrap(),
        "📧 Confirm your email address"
    );
    let text = confirmation.body_text(0).unwrap().to_string();
    let link = text
        .lines()
        .find(|l| l.contains("/verify-email?token="))
        .expect("the link in the text part")
        .trim()
        .to_string();
    // The app's public address (APP_BASE_URL; the default in tests), then the page's path.
    assert!(
        link.starts_with("http://127.0.0.1:3000/verify-email?token="),
        "{link}"
    );
    (body["data"]["token"].as_str().unwrap().to_string(), link)
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

async fn verify(app: &TestApp, token: &str) -> (StatusCode, Value) {
    json_body(
        app.post_json("/api/auth/verify-email", None, &json!({ "token": token }))
            .await,
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (_, body) = json_body(app.get("/api/auth/me", Some(token)).await).await;
    body["data"].clone()
}

#[engine_test]
async fn a_sign_up_is_confirmed_once_through_the_emailed_link() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let (session, link) = sign_up(&app, "vera@example.com", "specialist").await;
    assert_eq!(me(&app, &session).await["emailVerified"], false);

    let (status, body) = verify(&app, &token_of(&link)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Email address confirmed");
    assert_eq!(me(&app, &session).await["emailVerified"], true);

    let (status, body) = verify(&app, &token_of(&link)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "This confirmation link has already been used."
    );
    for bad in ["", "not-a-token", &"x".repeat(500)] {
        let (status, body) = verify(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(
            body["message"].as_str().unwrap().contains("not valid"),
            "{body}"
        );
    }
}

#[engine_test]
async fn an_expired_link_is_refused_and_a_new_one_can_be_asked_for() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let (session, link) = sign_up(&app, "walt@example.com", "customer").await;
    app.query(
        "UPDATE email_verification SET expires_at = time::now() - 1s",
        json!({}),
    )
    .await;
    let (status, body) = verify(&app, &token_of(&link)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("expired"));
    assert_eq!(me(&app, &session).await["emailVerified"], false);

    let res = app
        .post_json("/api/auth/resend-verification", Some(&session), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.drain_jobs().await;
    let messages = app.smtp.as_ref().unwrap().wait_for(2).await;
    let newest = messages
        .iter()
        .map(|raw| parse(raw).body_text(0).unwrap().to_string())
        .find(|t| !t.contains(&token_of(&link)))
        .expect("a second link");
    let second = newest
        .lines()
        .find(|l| l.contains("token="))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(verify(&app, &token_of(&second)).await.0, StatusCode::OK);
    assert_eq!(me(&app, &session).await["emailVerified"], true);
}

/// Mail scanners and link previews fetch the link: opening it shows whose address it is and a
/// button, and only the button's form post (no JavaScript needed) confirms.
#[engine_test]
async fn the_link_page_confirms_only_when_its_button_is_pressed() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let (session, link) = sign_up(&app, "xena@example.com", "specialist").await;
    let path = link.trim_start_matches("http://127.0.0.1:3000");
    for _ in 0..2 {
        let page = app.get(path, None).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("data-testid=\"pending-confirmation\""),
            "{html}"
        );
        assert!(
            html.contains("xena@example.com") && html.contains("Vera"),
            "{html}"
        );
        assert!(html.contains("specialist account"), "{html}");
        assert!(html.contains("action=\"/api/verify_email\""), "{html}");
        assert_eq!(me(&app, &session).await["emailVerified"], false);
    }

    let press = || async {
        app.client
            .post(app.url("/api/verify_email"))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("referer", app.url(path))
            .body(form_body(&[("token", &token_of(&link))]))
            .send()
            .await
            .unwrap()
    };
    let res = press().await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/verify-email?confirmed=1");
    assert_eq!(me(&app, &session).await["emailVerified"], true);
    let done = app
        .get("/verify-email?confirmed=1", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(done.contains("your email address is confirmed"), "{done}");

    // Pressed again, or opened again: the link is used.
    let again = press().await;
    assert!(again.status().is_redirection(), "{}", again.status());
    let page = app.get(path, None).await.text().await.unwrap();
    assert!(page.contains("already been used"), "{page}");
    assert!(!page.contains("pending-confirmation"), "{page}");
}

async fn zoom_app(extra: Vec<(&'static str, String)>) -> TestApp {
    spawn_with(Options {
        zoom: true,
        extra,
        ..Default::default()
    })
    .await
}

#[engine_test]
async fn an_unverified_specialist_cannot_create_live_meetings_and_zoom_hears_nothing() {
    let app = zoom_app(vec![]).await;
    let spec = app.unverified_user(Role::Specialist, "Una").await;
    let cust = app.user(Role::Customer, "Vic").await;
    let slot = app.slot(&spec, 24, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let expected = json!({ "success": false, "message": "Please verify your email address before creating Zoom meetings." });
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, expected.clone()));
    // The server function the Meeting Manager (and its bulk button) calls.
    let res = app
        .client
        .post(app.url("/api/create_zoom_meeting"))
        .bearer_auth(&spec.token)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::helpers::form_body(&[
            ("slot_id", &slot),
            ("booking_index", "0"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("verify your email"));
    let zoom = app.zoom.as_ref().unwrap();
    assert!(zoom.create_requests().await.is_empty());
    assert_eq!(zoom.tokens_issued(), 0, "not even a token was asked for");
}

#[engine_test]
async fn the_simulated_provider_needs_no_verification() {
    let app = spawn_with(Options::default()).await;
    let spec = app.unverified_user(Role::Specialist, "Wes").await;
    let cust = app.user(Role::Customer, "Xan").await;
    let slot = app.slot(&spec, 24, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn put_settings(app: &TestApp, token: &str, settings: &Value) -> (StatusCode, Value) {
    json_body(
        app.put_json("/api/profile/zoom-settings", token, settings)
            .await,
    )
    .await
}

fn settings(zoom_user: Option<&str>, waiting_room: bool) -> Value {
    json!({
        "zoomUser": zoom_user, "waitingRoom": waiting_room, "joinBeforeHost": false,
        "hostVideo": true, "participantVideo": true, "muteUponEntry": true, "cloudRecording": false,
        "recurringLinks": false, "autoCreateMinutes": null
    })
}

#[engine_test]
async fn a_specialist_cannot_make_another_zoom_user_host_their_meetings() {
    let app = zoom_app(vec![]).await;
    let spec = app.user(Role::Specialist, "Yara").await;
    for other in ["me", "ceo@example.com", "AbCdEf123"] {
        let (status, body) = put_settings(&app, &spec.token, &settings(Some(other), false)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{other}");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("Only an operator"));
    }
    // Nothing was saved, not even the meeting defaults sent along.
    let (_, current) = json_body(
        app.get("/api/profile/zoom-settings", Some(&spec.token))
            .await,
    )
    .await;
    assert_eq!(current["data"], settings(None, true));
    // Their own address, or none, is fine; the defaults are theirs to set.
    let own = spec.email.to_uppercase();
    let (status, body) = put_settings(&app, &spec.token, &settings(Some(&own), false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], settings(None, false));

    let cust = app.user(Role::Customer, "Zed").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    let path = app.zoom.as_ref().unwrap().create_requests().await[0]
        .url
        .path()
        .to_string();
    assert_eq!(path, format!("/v2/users/{}/meetings", spec.email));
}

#[engine_test]
async fn an_operator_assigns_a_host_and_the_default_host_overrides_everyone() {
    let app = zoom_app(vec![]).await;
    let spec = app.user(Role::Specialist, "Abe").await;
    let cust = app.user(Role::Customer, "Bea").await;
    let done = admin::set_zoom_host(&app.state.db, &spec.email, "host@company.example")
        .await
        .unwrap();
    assert!(done.contains("host@company.example"));
    assert!(
        admin::set_zoom_host(&app.state.db, &cust.email, "me")
            .await
            .is_err(),
        "customers host nothing"
    );
    assert!(
        admin::set_zoom_host(&app.state.db, "nobody@example.com", "me")
            .await
            .is_err()
    );
    assert!(
        admin::set_zoom_host(&app.state.db, &spec.email, "two words")
            .await
            .is_err()
    );

    let (_, current) = json_body(
        app.get("/api/profile/zoom-settings", Some(&spec.token))
            .await,
    )
    .await;
    assert_eq!(current["data"]["zoomUser"], "host@company.example");
    // Saving the form as it is keeps the operator's host.
    let (status, _) = put_settings(&app, &spec.token, &current["data"]).await;
    assert_eq!(status, StatusCode::OK);
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    let path = app.zoom.as_ref().unwrap().create_requests().await[0]
        .url
        .path()
        .to_string();
    assert_eq!(path, "/v2/users/host@company.example/meetings");

    let app = zoom_app(vec![("ZOOM_DEFAULT_HOST", "me".into())]).await;
    let spec = app.user(Role::Specialist, "Cal").await;
    let cust = app.user(Role::Customer, "Dee").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    let path = app.zoom.as_ref().unwrap().create_requests().await[0]
        .url
        .path()
        .to_string();
    assert_eq!(path, "/v2/users/me/meetings");
}

#[engine_test]
async fn the_admin_command_of_the_server_binary_refuses_unknown_accounts_and_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_specialistly"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("surrealkv://{}", dir.path().join("db").display()),
            )
            .env("DATA_DIR", dir.path())
            .env("SEED_DEMO_DATA", "false")
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&["admin", "set-zoom-host", "nobody@example.com", "me"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no account with the email nobody@example.com"));
    let out = run(&["admin", "frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("set-zoom-host <specialist-email> <zoom-user>"));
}
