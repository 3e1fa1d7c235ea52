//! The account page's weighty changes: a new email address (confirmed through it, the old one
//! told), and deleting the account (upcoming bookings or slots cancelled with their emails
//! and Zoom deletions, nothing personal kept, the address free to register again).

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, PASSWORD};

async fn delete_account(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .delete(app.url("/api/profile"))
        .bearer_auth(token)
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap();
    json_body(res).await
}

#[engine_test]
async fn a_new_address_counts_once_it_confirms_and_the_old_one_is_told_twice() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let user = app
        .user_with_email(Role::Customer, "Ed Change", "ed@example.com")
        .await;
    let other = app
        .user_with_email(Role::Customer, "Taken Tim", "tim@example.com")
        .await;
    let ask = |new: &str, password: &str| {
        let body = json!({ "newEmail": new, "password": password });
        let token = user.token.clone();
        let app = &app;
        async move {
            json_body(
                app.post_json("/api/profile/email", Some(&token), &body)
                    .await,
            )
            .await
        }
    };
    let (status, _) = ask("ed.new@example.com", "wrong-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = ask(&other.email, PASSWORD).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = ask("ed@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = ask("not an address", PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        app.mail_to("ed@example.com").await.is_empty(),
        "refusals email nobody"
    );

    let (status, body) = ask("Ed.New@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // Nothing changes until the new address confirms.
    let (_, me) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(me["data"]["email"], "ed@example.com");
    let told = app.mail_to("ed@example.com").await;
    assert_eq!(told.len(), 1);
    assert!(told[0].0.starts_with("🔔 A change of your email address"));
    assert!(told[0].1.contains("ed.new@example.com"));
    assert!(
        !told[0].1.contains("confirm-email-change"),
        "the link goes to the new address only"
    );
    let link_mail = app.mail_to("ed.new@example.com").await;
    assert_eq!(link_mail.len(), 1);
    let link = link_mail[0]
        .1
        .lines()
        .find(|l| l.contains("/confirm-email-change?token="))
        .unwrap()
        .trim()
        .to_string();
    let token = link.split("token=").nth(1).unwrap().to_string();

    let confirm = |token: String| {
        let app = &app;
        async move {
            json_body(
                app.post_json(
                    "/api/auth/confirm-email-change",
                    None,
                    &json!({ "token": token }),
                )
                .await,
            )
            .await
        }
    };
    let (status, body) = confirm(format!("{token}x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = confirm(token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(me["data"]["email"], "ed.new@example.com");
    assert_eq!(me["data"]["emailVerified"], true);
    let told = app.mail_to("ed@example.com").await;
    assert_eq!(told.len(), 2);
    assert!(told[1].0.starts_with("✉️ Your email address was changed"));
    let (status, _) = confirm(token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a link works once");
    assert_eq!(
        app.login("ed.new@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("ed@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[engine_test]
async fn deleting_a_customer_cancels_their_upcoming_bookings_once_and_keeps_nothing_personal() {
    let app = spawn_with(Options {
        smtp: true,
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Sam Spec").await;
    let cust = app
        .user_with_email(Role::Customer, "Del Leaving", "del@example.com")
        .await;
    let later = app.slot(&spec, 72, 2).await;
    let soon = app.slot(&spec, 3, 2).await;
    let past = app.slot(&spec, 48, 2).await;
    for slot in [&later, &soon, &past] {
        assert_eq!(app.book(slot, &cust).await.status(), StatusCode::CREATED);
    }
    let (status, _) = json_body(app.create_zoom(&later, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 2d",
        json!({ "s": past }),
    )
    .await;
    app.drain_jobs().await;
    let before_spec = app.mail_to(&spec.email).await.len();
    let before_cust = app.mail_to("del@example.com").await.len();

    let (status, _) = delete_account(&app, &cust.token, "wrong-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/auth/me", Some(&cust.token)).await.status(),
        StatusCode::OK,
        "a wrong password changes nothing"
    );

    let (status, body) = delete_account(&app, &cust.token, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["cancelled"], 2,
        "the two upcoming, the one inside the cutoff too"
    );
    app.drain_jobs().await;
    app.drain_jobs().await;

    let rows = app
        .query(
            "SELECT record::id(slot) AS slot, status, customer_name, customer_email, cancelled_by,
                cancellation_reason FROM booking WHERE customer = type::record('user', $c)",
            json!({ "c": cust.id }),
        )
        .await;
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["customer_name"], "Deleted user");
        assert!(!row["customer_email"].as_str().unwrap().contains("del@"));
        let upcoming = row["slot"] != past.as_str();
        assert_eq!(
            row["status"],
            if upcoming { "cancelled" } else { "active" },
            "{row}"
        );
    }
    let user = app
        .query(
            "SELECT name, email, deleted_at FROM type::record('user', $c)",
            json!({ "c": cust.id }),
        )
        .await;
    assert_eq!(user[0]["name"], "Deleted user");
    assert!(user[0]["deleted_at"].is_string());
    // The meeting of the cancelled booking is deleted at Zoom, once.
    let deletions = app.zoom.as_ref().unwrap().delete_requests().await;
    assert_eq!(deletions.len(), 1, "{deletions:?}");
    // The specialist hears of each cancellation, with the reason; the customer gets one email.
    let to_spec = app.mail_to(&spec.email).await;
    assert_eq!(to_spec.len() - before_spec, 2, "{to_spec:?}");
    assert!(to_spec.last().unwrap().1.contains("closed their account"));
    let to_cust = app.mail_to("del@example.com").await;
    assert_eq!(to_cust.len() - before_cust, 1, "{to_cust:?}");
    assert!(to_cust
        .last()
        .unwrap()
        .0
        .starts_with("👋 Your Specialistly account was deleted"));

    // Signed out everywhere; the address may register again.
    assert_eq!(
        app.get("/api/auth/me", Some(&cust.token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("del@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = json_body(
        app.post_json(
            "/api/auth/register",
            None,
            &json!({ "name": "Del Again", "email": "del@example.com", "password": "long-password",
                     "role": "customer" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[engine_test]
async fn deleting_a_specialist_cancels_their_upcoming_slots_with_the_customers_told() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let spec = app
        .user_with_email(Role::Specialist, "Sid Leaving", "sid@example.com")
        .await;
    let cust = app.user(Role::Customer, "Cy Cust").await;
    let slot = app.slot(&spec, 72, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CREATED);
    let (status, _) = json_body(
        app.put_json(
            "/api/profile/page",
            &spec.token,
            &json!({ "handle": "sid-leaving" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // An API token cannot delete the account it belongs to.
    let (_, made) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&spec.token),
            &json!({ "name": "script", "scopes": ["read", "write"] }),
        )
        .await,
    )
    .await;
    let api_token = made["data"]["token"].as_str().unwrap().to_string();
    let (status, _) = delete_account(&app, &api_token, PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = delete_account(&app, &spec.token, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["cancelled"], 1);
    let cancelled = app
        .query(
            "SELECT VALUE cancelled_at FROM type::record('slot', $s)",
            json!({ "s": slot }),
        )
        .await;
    assert!(cancelled[0].is_string(), "{cancelled:?}");
    let to_cust = app.mail_to(&cust.email).await;
    assert!(to_cust
        .iter()
        .any(|(s, t)| s.starts_with("❌ Appointment Cancelled")
            && t.contains("closed their account")));
    assert_eq!(
        app.get("/api/specialists/sid-leaving", None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/auth/me", Some(&api_token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
