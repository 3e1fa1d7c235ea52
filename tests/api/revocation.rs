//! Revoked means revoked (review G3): what an operator's `revoke-sessions` and production's
//! switch-off of the demo accounts take away, one grant at a time: sessions, API tokens, the
//! calendar feed address, webhook endpoints and open event streams. And the grants that
//! outlive a token are made from a signed-in session only, so a stolen token cannot plant them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, TestUser};

/// Every grant an account can hold, made as its owner would.
struct Grants {
    session: String,
    api_token: String,
    feed: String,
    endpoint: String,
    stream: reqwest::Response,
    /// A slot of the account's, booked once the grants are gone (its endpoint must hear nothing).
    slot: String,
}

async fn grants_of(app: &TestApp, user: &TestUser, hooks: &wiremock::MockServer) -> Grants {
    let (status, body) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&user.token),
            &json!({ "name": "CRM", "scopes": ["read", "write"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let api_token = body["data"]["token"].as_str().unwrap().to_string();
    let (status, body) = json_body(
        app.post_json("/api/calendar/token", Some(&user.token), &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // The address as the app's public base names it; the path reaches this test's app.
    let url = body["data"]["url"].as_str().unwrap();
    let feed = app.url(&url[url.find("/calendar/").unwrap()..]);
    let (status, body) = json_body(
        app.post_json(
            "/api/webhooks",
            Some(&user.token),
            &json!({ "url": format!("{}/hooks", hooks.uri()), "events": ["booking.created"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let endpoint = body["data"]["id"].as_str().unwrap().to_string();
    let mut stream = app
        .get("/api/events/meeting-manager", Some(&user.token))
        .await;
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().unwrap_or_default();
    assert!(String::from_utf8_lossy(&first).contains("ready"));
    let slot = app.slot(user, 72, 2).await;
    Grants {
        slot,
        session: user.token.clone(),
        api_token,
        feed,
        endpoint,
        stream,
    }
}

/// Each grant is gone: the session and the API token answer 401, the feed 404, the endpoint is
/// off and sent nothing for a new booking, and the stream ended.
async fn assert_all_gone(app: &TestApp, mut grants: Grants, hooks: &wiremock::MockServer) {
    for token in [&grants.session, &grants.api_token] {
        assert_eq!(
            app.status_becomes("/api/auth/me", token, StatusCode::UNAUTHORIZED)
                .await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.client.get(&grants.feed).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let enabled = app
        .query(
            "SELECT VALUE enabled FROM type::record('webhook_endpoint', $id)",
            json!({ "id": grants.endpoint }),
        )
        .await;
    assert_eq!(enabled, [json!(false)], "{enabled:?}");
    let ended = tokio::time::timeout(Duration::from_secs(4), async {
        while let Ok(Some(_)) = grants.stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream outlived the revocation");
    let cust = app.user(Role::Customer, "After Revocation").await;
    assert_eq!(app.book(&grants.slot, &cust).await.status(), 201);
    app.drain_jobs().await;
    assert!(hooks.received_requests().await.unwrap().is_empty());
}

async fn hooks() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn app_options() -> Options {
    Options {
        extra: vec![("EVENT_STREAM_RECHECK_SECONDS", "1".into())],
        ..Default::default()
    }
}

#[engine_test]
async fn the_operators_revocation_takes_away_every_grant_of_the_account_and_no_one_elses() {
    let app = spawn_with(app_options()).await;
    let hooks = hooks().await;
    let victim = app.user(Role::Specialist, "Robbed Spec").await;
    let other = app.user(Role::Specialist, "Untouched Spec").await;
    let grants = grants_of(&app, &victim, &hooks).await;
    let others = grants_of(&app, &other, &hooks).await;
    let said = specialistly::server::admin::revoke_sessions(&app.state.db, &victim.email)
        .await
        .unwrap();
    assert_eq!(
        said,
        format!(
            "{}: 1 session(s) ended, 1 API token(s) revoked, 1 calendar feed address(es) ended, 1 webhook endpoint(s) turned off",
            victim.email
        )
    );
    assert_all_gone(&app, grants, &hooks).await;
    // The other account keeps everything.
    for token in [&others.session, &others.api_token] {
        assert_eq!(app.get("/api/auth/me", Some(token)).await.status(), 200);
    }
    assert_eq!(
        app.client.get(&others.feed).send().await.unwrap().status(),
        200
    );
}

#[engine_test]
async fn production_switching_off_the_demo_accounts_takes_away_their_grants_too() {
    use specialistly::server::seed;
    let app = spawn_with(Options {
        extra: vec![
            ("SEED_DEMO_DATA", "true".into()),
            ("EVENT_STREAM_RECHECK_SECONDS", "1".into()),
        ],
        ..Default::default()
    })
    .await;
    let hooks = hooks().await;
    let (status, body) = json_body(
        app.login(seed::DEMO_SPECIALIST_EMAIL, seed::DEMO_PASSWORD)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let demo = TestUser {
        id: body["data"]["user"]["id"].as_str().unwrap().to_string(),
        email: seed::DEMO_SPECIALIST_EMAIL.into(),
        token: body["data"]["token"].as_str().unwrap().to_string(),
    };
    let grants = grants_of(&app, &demo, &hooks).await;
    seed::disable_demo_accounts(&app.state.db).await.unwrap();
    assert_all_gone(&app, grants, &hooks).await;
}

#[engine_test]
async fn a_write_api_token_cannot_make_a_feed_address_or_a_webhook_endpoint() {
    let app = spawn_with(Options::default()).await;
    let spec = app.user(Role::Specialist, "Token Holder").await;
    let (_, body) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&spec.token),
            &json!({ "name": "CRM", "scopes": ["read", "write"] }),
        )
        .await,
    )
    .await;
    let token = body["data"]["token"].as_str().unwrap().to_string();
    for (path, body) in [
        ("/api/calendar/token", json!({})),
        (
            "/api/webhooks",
            json!({ "url": "http://127.0.0.1:9/hooks", "events": ["booking.created"] }),
        ),
    ] {
        let (status, answer): (StatusCode, Value) =
            json_body(app.post_json(path, Some(&token), &body).await).await;
        assert_eq!(status, 403, "{path}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("signed-in session"),
            "{answer}"
        );
    }
    assert_eq!(app.count("webhook_endpoint").await, 0);
    let feed = app
        .query(
            "SELECT VALUE calendar_token FROM type::record('user', $id)",
            json!({ "id": spec.id }),
        )
        .await;
    assert_eq!(feed, [Value::Null], "{feed:?}");
}
