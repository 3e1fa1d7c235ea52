//! API tokens: made from a signed-in session and shown once, accepted as a Bearer token,
//! listed and revoked; a read token reads but cannot change anything (403, nothing written).

use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, TestApp, TestUser};

async fn make_token(app: &TestApp, user: &TestUser, name: &str, scopes: &[&str]) -> Value {
    let (status, body) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&user.token),
            &json!({ "name": name, "scopes": scopes }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

#[engine_test]
async fn a_read_token_reads_and_a_write_token_books() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Token Spec").await;
    let cust = app.user(Role::Customer, "Token Cust").await;
    let slot = app.slot(&spec, 48, 3).await;

    let read = make_token(&app, &cust, "Reporting", &["read"]).await;
    let write = make_token(&app, &cust, "CRM sync", &["read", "write"]).await;
    let read_token = read["token"].as_str().unwrap();
    let write_token = write["token"].as_str().unwrap();
    assert!(read_token.starts_with("spt_"), "{read}");
    assert_eq!(read["scopes"], json!(["read"]));
    assert_eq!(write["scopes"], json!(["read", "write"]));

    // Only the secret's hash is stored.
    let stored = app
        .query("SELECT VALUE token_hash FROM api_token", json!({}))
        .await;
    assert_eq!(stored.len(), 2);
    for hash in &stored {
        let hash = hash.as_str().unwrap();
        assert!(!read_token.contains(hash) && !write_token.contains(hash));
    }

    // A read token cannot book: 403 and no booking.
    let book = format!("/api/consulting-slots/{slot}/book");
    let (status, body) = json_body(app.post_json(&book, Some(read_token), &json!({})).await).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("write scope"));
    assert_eq!(app.count("booking").await, 0);

    // A write token books as its owner; the read token then sees the appointment.
    let (status, body) = json_body(app.post_json(&book, Some(write_token), &json!({})).await).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = json_body(app.get("/api/appointments", Some(read_token)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");

    // A read token cannot delete either.
    let res = app
        .delete(
            &format!("/api/consulting-slots/{slot}/waitlist"),
            read_token,
        )
        .await;
    assert_eq!(res.status(), 403);

    // The list shows both tokens, without their secrets, and when they were last used.
    let (status, body) = json_body(app.get("/api/tokens", Some(&cust.token)).await).await;
    assert_eq!(status, 200, "{body}");
    let listed = body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.get("token").is_none()));
    assert!(listed.iter().all(|t| t["lastUsedAt"].is_string()), "{body}");
}

#[engine_test]
async fn a_revoked_token_stops_working_and_tokens_cannot_manage_tokens() {
    let app = spawn_app().await;
    let cust = app.user(Role::Customer, "Revoke Cust").await;
    let other = app.user(Role::Customer, "Other Cust").await;
    let made = make_token(&app, &cust, "Script", &["read", "write"]).await;
    let token = made["token"].as_str().unwrap();
    let id = made["id"].as_str().unwrap();

    // A token can neither make, list nor revoke tokens.
    let res = app
        .post_json(
            "/api/tokens",
            Some(token),
            &json!({ "name": "x", "scopes": ["read"] }),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.get("/api/tokens", Some(token)).await.status(), 403);
    assert_eq!(
        app.delete(&format!("/api/tokens/{id}"), token)
            .await
            .status(),
        403
    );

    // Another account cannot revoke it: 404 and it still works.
    let res = app.delete(&format!("/api/tokens/{id}"), &other.token).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.get("/api/appointments", Some(token)).await.status(),
        200
    );

    let (status, body) =
        json_body(app.delete(&format!("/api/tokens/{id}"), &cust.token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.get("/api/appointments", Some(token)).await.status(),
        401
    );
    assert_eq!(app.count("api_token").await, 0);
    let res = app.delete(&format!("/api/tokens/{id}"), &cust.token).await;
    assert_eq!(res.status(), 404);

    // A look-alike token, or the real one in the login cookie, is no caller.
    let res = app.get("/api/appointments", Some("spt_notatoken")).await;
    assert_eq!(res.status(), 401);
    let fresh = make_token(&app, &cust, "Cookie", &["read"]).await;
    let res = app
        .client
        .get(app.url("/api/appointments"))
        .header(
            "cookie",
            format!("specialistly_token={}", fresh["token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[engine_test]
async fn bad_token_requests_get_clear_errors_and_make_nothing() {
    let app = spawn_app().await;
    let cust = app.user(Role::Customer, "Bad Token Cust").await;
    for (body, says) in [
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (json!({ "name": "x", "scopes": ["admin"] }), "Unknown scope"),
        (json!({ "name": " ", "scopes": ["read"] }), "name"),
        (
            json!({ "name": "x".repeat(101), "scopes": ["read"] }),
            "name",
        ),
        (
            json!({ "name": "x", "scopes": ["read"], "role": "admin" }),
            "role",
        ),
        (json!({ "scopes": ["read"] }), "name"),
    ] {
        let (status, answer) =
            json_body(app.post_json("/api/tokens", Some(&cust.token), &body).await).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    let res = app
        .post_json(
            "/api/tokens",
            None,
            &json!({ "name": "x", "scopes": ["read"] }),
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(app.count("api_token").await, 0);

    // At most 20 per account.
    for i in 0..20 {
        make_token(&app, &cust, &format!("t{i}"), &["read"]).await;
    }
    let (status, body) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&cust.token),
            &json!({ "name": "one too many", "scopes": ["read"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.count("api_token").await, 20);
}
