//! The account page's API: name and time zone, and the export of an account's data.

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, TestApp};

async fn put_profile(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    json_body(app.put_json("/api/profile", token, &body).await).await
}

#[engine_test]
async fn a_user_changes_their_name_and_time_zone_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Pia Profile").await;
    let (status, body) = put_profile(
        &app,
        &user.token,
        json!({ "name": "Pia P. Profile", "timezone": "America/New_York" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Pia P. Profile");
    let (_, me) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(me["data"]["name"], "Pia P. Profile");
    assert_eq!(me["data"]["timezone"], "America/New_York");
    for bad in [
        json!({ "name": "Pia", "timezone": "Mars/Olympus" }),
        json!({ "name": "  ", "timezone": "UTC" }),
        json!({ "name": "Pia" }),
    ] {
        let (status, body) = put_profile(&app, &user.token, bad.clone()).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status} {body}"
        );
    }
    let (_, me) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(me["data"]["timezone"], "America/New_York");
    let (status, _) = put_profile(&app, "nobody", json!({ "name": "X", "timezone": "UTC" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[engine_test]
async fn an_export_holds_the_accounts_data_and_no_secret() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Ezra Export").await;
    let cust = app.user(Role::Customer, "Cora Export").await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let (status, endpoint) = json_body(
        app.post_json(
            "/api/webhooks",
            Some(&spec.token),
            &json!({ "url": "https://hooks.example.com/in", "events": ["booking.created"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let secret = endpoint["data"]["secret"].as_str().unwrap().to_string();

    let res = app.get("/api/profile/export", Some(&spec.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = res.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["account"]["name"], "Ezra Export");
    assert_eq!(export["slots"].as_array().unwrap().len(), 1);
    assert_eq!(export["slots"][0]["booked"], 1);
    assert_eq!(
        export["webhookEndpoints"][0]["url"],
        "https://hooks.example.com/in"
    );
    assert!(!text.contains(&secret), "the signing secret stays out");
    assert!(!text.contains("argon2"), "no password hash");
    assert!(!text.contains(&spec.token), "no session token");

    let (_, export) = json_body(app.get("/api/profile/export", Some(&cust.token)).await).await;
    assert_eq!(export["account"]["role"], "customer");
    assert_eq!(export["appointments"][0]["slot"]["id"], json!(slot));
    assert_eq!(export["slots"], json!([]));

    assert_eq!(app.get("/api/profile/export", None).await.status(), 401);
    let (_, token) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&cust.token),
            &json!({ "name": "script", "scopes": ["read"] }),
        )
        .await,
    )
    .await;
    let api_token = token["data"]["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/profile/export", Some(api_token))
            .await
            .status(),
        403
    );
}
