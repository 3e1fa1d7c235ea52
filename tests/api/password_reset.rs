//! Forgotten passwords (OWASP's Forgot Password cheat sheet): the same answer for any address,
//! a single-use link valid for an hour, limits per address and per client, the registration
//! rules for the new password, and every grant of the account ended, with no sign-in.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, parse, spawn_with, to_address, Options, TestApp, PASSWORD};

async fn forgot(app: &TestApp, email: &str) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            "/api/auth/forgot-password",
            None,
            &json!({ "email": email }),
        )
        .await,
    )
    .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            "/api/auth/reset-password",
            None,
            &json!({ "token": token, "password": password }),
        )
        .await,
    )
    .await
}

/// The tokens of the reset links emailed to `email`, oldest first.
async fn reset_tokens(app: &TestApp, email: &str) -> Vec<String> {
    app.drain_jobs().await;
    let sink = app.smtp.as_ref().unwrap();
    sink.messages()
        .iter()
        .map(|raw| parse(raw))
        .filter(|m| to_address(m) == email && m.subject() == Some("🔑 Reset your password"))
        .map(|m| {
            let text = m.body_text(0).unwrap().to_string();
            let link = text
                .lines()
                .find(|l| l.contains("/reset-password?token="))
                .expect("the link in the text")
                .trim()
                .to_string();
            assert!(link.starts_with("http://127.0.0.1:3000/reset-password?token="));
            link.split("token=").nth(1).unwrap().to_string()
        })
        .collect()
}

fn with_smtp() -> Options {
    Options {
        smtp: true,
        ..Default::default()
    }
}

#[engine_test]
async fn a_forgotten_password_is_reset_once_with_the_emailed_link_and_every_grant_ends() {
    let app = spawn_with(with_smtp()).await;
    let user = app
        .user_with_email(Role::Customer, "Fay Forgot", "fay@example.com")
        .await;
    let (status, body) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&user.token),
            &json!({ "name": "script", "scopes": ["read"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let api_token = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/auth/me", Some(&api_token)).await.status(),
        200
    );

    let (status, body) = forgot(&app, "Fay@Example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let tokens = reset_tokens(&app, "fay@example.com").await;
    assert_eq!(tokens.len(), 1);
    // Stored hashed: the token itself is nowhere in the database.
    let stored = app.query("SELECT * FROM password_reset", json!({})).await;
    assert_eq!(stored.len(), 1);
    assert!(!serde_json::to_string(&stored).unwrap().contains(&tokens[0]));

    // A password the registration would refuse is refused, and the link still works.
    let (status, body) = reset(&app, &tokens[0], "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("at least 8"));
    // A tampered link does nothing.
    let tampered = format!("{}x", &tokens[0][..tokens[0].len() - 1]);
    let (status, _) = reset(&app, &tampered, "a-brand-new-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = reset(&app, &tokens[0], "a-brand-new-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // No sign-in: nothing in the answer, and every session and API token has ended.
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        app.get("/api/auth/me", Some(&user.token)).await.status(),
        401
    );
    assert_eq!(
        app.get("/api/auth/me", Some(&api_token)).await.status(),
        401
    );
    assert_eq!(app.login("fay@example.com", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("fay@example.com", "a-brand-new-password")
            .await
            .status(),
        200
    );
    // Used once: the link does not work again.
    let (status, body) = reset(&app, &tokens[0], "yet-another-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("does not work"));
    // The owner is told, once.
    app.drain_jobs().await;
    let told = app
        .smtp
        .as_ref()
        .unwrap()
        .messages()
        .iter()
        .filter(|raw| parse(raw).subject() == Some("🔒 Your password was changed"))
        .count();
    assert_eq!(told, 1);
}

#[engine_test]
async fn an_unknown_address_gets_the_same_answer_and_no_email() {
    // Behind a trusted proxy, so the timed requests below come from clients of their own
    // (one client may ask only so often).
    let app = spawn_with(Options {
        smtp: true,
        extra: vec![("TRUSTED_PROXIES", "127.0.0.1".into())],
        ..Default::default()
    })
    .await;
    app.user_with_email(Role::Specialist, "Kim Known", "known@example.com")
        .await;
    let (known_status, known) = forgot(&app, "known@example.com").await;
    let (unknown_status, unknown) = forgot(&app, "nobody@example.com").await;
    assert_eq!(known_status, StatusCode::ACCEPTED);
    assert_eq!((unknown_status, &unknown), (known_status, &known));
    assert_eq!(reset_tokens(&app, "nobody@example.com").await.len(), 0);
    assert_eq!(reset_tokens(&app, "known@example.com").await.len(), 1);
    assert_eq!(app.count("password_reset").await, 1);

    // In time too, within noise: the median of a few requests each (alternating, and each
    // address asked once per hour-budget, so no limit answers instead).
    let mut times = (Vec::new(), Vec::new());
    for i in 0..10 {
        for (known, list) in [(true, &mut times.0), (false, &mut times.1)] {
            let email = if known {
                let email = format!("known{i}@example.com");
                app.user_with_email(Role::Customer, "Timed", &email).await;
                email
            } else {
                format!("unknown{i}@example.com")
            };
            let started = Instant::now();
            let res = app
                .client
                .post(app.url("/api/auth/forgot-password"))
                .header(
                    "x-forwarded-for",
                    format!("203.0.113.{}", i * 2 + usize::from(known)),
                )
                .json(&json!({ "email": email }))
                .send()
                .await
                .unwrap();
            list.push(started.elapsed());
            assert_eq!(res.status(), StatusCode::ACCEPTED);
        }
    }
    let median = |list: &mut Vec<Duration>| {
        list.sort();
        list[list.len() / 2]
    };
    let (known, unknown) = (median(&mut times.0), median(&mut times.1));
    let gap = known.abs_diff(unknown);
    assert!(
        gap < Duration::from_millis(25) || gap < known.max(unknown) / 2,
        "known {known:?}, unknown {unknown:?}"
    );
}

#[engine_test]
async fn a_link_over_an_hour_old_does_not_work_and_asking_is_limited() {
    let app = spawn_with(with_smtp()).await;
    app.user_with_email(Role::Customer, "Old Link", "old@example.com")
        .await;
    assert_eq!(
        forgot(&app, "old@example.com").await.0,
        StatusCode::ACCEPTED
    );
    let token = reset_tokens(&app, "old@example.com").await.remove(0);
    app.query(
        "UPDATE password_reset SET expires_at = time::now() - 1s",
        json!({}),
    )
    .await;
    let (status, body) = reset(&app, &token, "a-brand-new-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("does not work"));
    assert_eq!(
        app.login("old@example.com", PASSWORD).await.status(),
        200,
        "the password stays as it was"
    );

    // Three links an hour for one address (known or not); the fourth ask is refused.
    for email in ["old@example.com", "ghost@example.com"] {
        let asked_before = if email == "old@example.com" { 1 } else { 0 };
        for _ in asked_before..3 {
            assert_eq!(forgot(&app, email).await.0, StatusCode::ACCEPTED);
        }
        let res = app
            .post_json(
                "/api/auth/forgot-password",
                None,
                &json!({ "email": email }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(res.headers().contains_key("retry-after"));
    }
    // A malformed address is a 400, and counts for nothing.
    assert_eq!(
        forgot(&app, "not-an-address").await.0,
        StatusCode::BAD_REQUEST
    );
}

async fn change(app: &TestApp, token: &str, current: &str, new: &str) -> (StatusCode, Value) {
    json_body(
        app.put_json(
            "/api/profile/password",
            token,
            &json!({ "currentPassword": current, "newPassword": new }),
        )
        .await,
    )
    .await
}

/// Signed in, the owner changes their password with the current one: the session they changed
/// it from stays, every other one ends; an API token may not change it.
#[engine_test]
async fn a_signed_in_owner_changes_their_password_and_their_other_sessions_end() {
    let app = spawn_with(Options::default()).await;
    let user = app
        .user_with_email(Role::Specialist, "Cal Change", "cal@example.com")
        .await;
    let (_, other) = json_body(app.login("cal@example.com", PASSWORD).await).await;
    let other = other["data"]["token"].as_str().unwrap().to_string();

    let (status, body) = change(&app, &user.token, "not-the-password", "a-new-password-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("current password"));
    let (status, _) = change(&app, &user.token, PASSWORD, "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/auth/me", Some(&other)).await.status(),
        200,
        "nothing changed yet"
    );

    let (status, body) = change(&app, &user.token, PASSWORD, "a-new-password-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.get("/api/auth/me", Some(&user.token)).await.status(),
        200
    );
    assert_eq!(app.get("/api/auth/me", Some(&other)).await.status(), 401);
    assert_eq!(app.login("cal@example.com", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("cal@example.com", "a-new-password-1")
            .await
            .status(),
        200
    );

    let (_, token) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&user.token),
            &json!({ "name": "script", "scopes": ["read", "write"] }),
        )
        .await,
    )
    .await;
    let api_token = token["data"]["token"].as_str().unwrap().to_string();
    let (status, _) = change(&app, &api_token, "a-new-password-1", "a-third-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/profile/password", None).await.status(), 405);
    let (status, _) = change(&app, "nobody", "x", "a-third-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
