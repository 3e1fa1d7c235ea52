//! `Idempotency-Key` on book, cancel, reschedule, create-zoom and waitlist joins: the same key
//! and body replays the first answer with no second effect; another body is 422; keys belong
//! to the account; a failure on our side frees the key for the retry.

use reqwest::Response;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, spawn_with, Options, TestApp};
use crate::zoom_double::Fault;

pub async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn jobs(app: &TestApp) -> usize {
    app.count("job").await
}

#[engine_test]
async fn the_same_key_and_body_replays_the_first_booking_and_books_once() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Idem Spec").await;
    let cust = app.user(Role::Customer, "Idem Cust").await;
    let other = app.user(Role::Customer, "Other Cust").await;
    let slot = app.slot(&spec, 48, 3).await;
    let book = format!("/api/consulting-slots/{slot}/book");

    let first = post_with_key(&app, &book, &cust.token, "book-1", &json!({})).await;
    assert!(!replayed(&first));
    let (status, first_body) = json_body(first).await;
    assert_eq!(status, 201, "{first_body}");
    let jobs_after_first = jobs(&app).await;

    let again = post_with_key(&app, &book, &cust.token, "book-1", &json!({})).await;
    assert!(replayed(&again));
    assert_eq!(
        again.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let (status, again_body) = json_body(again).await;
    assert_eq!((status.as_u16(), &again_body), (201, &first_body));
    assert_eq!(app.count("booking").await, 1);
    assert_eq!(jobs(&app).await, jobs_after_first, "no second email");

    // The same key with another body: 422, nothing changes.
    let res = post_with_key(
        &app,
        &book,
        &cust.token,
        "book-1",
        &json!({ "notes": "hi" }),
    )
    .await;
    let (status, body) = json_body(res).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("different request"));
    // ...or on another route.
    let res = post_with_key(
        &app,
        &format!("/api/consulting-slots/{slot}/waitlist"),
        &cust.token,
        "book-1",
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), 422);

    // Keys are per account: another customer's "book-1" is their own booking.
    let res = post_with_key(&app, &book, &other.token, "book-1", &json!({})).await;
    assert!(!replayed(&res));
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("booking").await, 2);

    // A key too long, empty or not ASCII: 400 and nothing booked.
    let third = app.user(Role::Customer, "Third Cust").await;
    for key in ["k".repeat(256), "\"\"".to_string()] {
        let res = post_with_key(&app, &book, &third.token, &key, &json!({})).await;
        assert_eq!(res.status(), 400, "{key}");
    }
    let res = post_with_key(&app, &book, &third.token, &"k".repeat(255), &json!({})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("booking").await, 3);

    // Cancelling with a key: the replay says "cancelled" again and sends nothing more.
    let cancel = format!("/api/consulting-slots/{slot}/booking/0/cancel");
    let (status, body) =
        json_body(post_with_key(&app, &cancel, &cust.token, "cancel-1", &json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    let jobs_after_cancel = jobs(&app).await;
    let res = post_with_key(&app, &cancel, &cust.token, "cancel-1", &json!({})).await;
    assert!(replayed(&res));
    assert_eq!(json_body(res).await, (reqwest::StatusCode::OK, body));
    assert_eq!(jobs(&app).await, jobs_after_cancel);
    // Without the key the second cancel is refused as usual: the key is what replays.
    let res = app.post_json(&cancel, Some(&cust.token), &json!({})).await;
    assert_eq!(res.status(), 409);

    // Every key is stored for 24 hours, for its account.
    let rows = app
        .query(
            "SELECT VALUE expires_at - created_at FROM idempotency_key WHERE user = type::record('user', $u)",
            json!({ "u": cust.id }),
        )
        .await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|d| d == "1d"), "{rows:?}");
}

#[engine_test]
async fn a_failure_on_our_side_frees_the_key_and_the_retry_creates_the_meeting() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Zoom Idem Spec").await;
    let cust = app.user(Role::Customer, "Zoom Idem Cust").await;
    let slot = app.slot(&spec, 48, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let create = format!("/api/consulting-slots/{slot}/booking/0/create-zoom");
    let zoom = app.zoom.as_ref().unwrap();

    zoom.push_fault(Fault::ServerError);
    let res = post_with_key(&app, &create, &spec.token, "zoom-1", &json!({})).await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        app.count("idempotency_key").await,
        0,
        "the key is free again"
    );

    let res = post_with_key(&app, &create, &spec.token, "zoom-1", &json!({})).await;
    assert!(!replayed(&res));
    let (status, created) = json_body(res).await;
    assert_eq!(status, 200, "{created}");
    let res = post_with_key(&app, &create, &spec.token, "zoom-1", &json!({})).await;
    assert!(replayed(&res));
    assert_eq!(json_body(res).await.1, created);
    assert_eq!(zoom.meetings().len(), 1);
    assert_eq!(
        zoom.create_requests().await.len(),
        2,
        "the failed one and the retry"
    );
}

#[engine_test]
async fn rescheduling_and_waitlist_joins_replay_too() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Move Spec").await;
    let cust = app.user(Role::Customer, "Move Cust").await;
    let waiter = app.user(Role::Customer, "Wait Cust").await;
    let from = app.slot(&spec, 48, 1).await;
    let to = app.slot(&spec, 72, 1).await;
    assert_eq!(app.book(&from, &cust).await.status(), 201);

    let path = format!("/api/consulting-slots/{from}/booking/0/reschedule");
    let body = json!({ "toSlotId": to });
    let (status, first) =
        json_body(post_with_key(&app, &path, &cust.token, "move-1", &body).await).await;
    assert_eq!(status, 200, "{first}");
    let res = post_with_key(&app, &path, &cust.token, "move-1", &body).await;
    assert!(replayed(&res));
    assert_eq!(json_body(res).await.1, first);
    let live = app
        .query(
            "SELECT VALUE id FROM booking WHERE status = 'active'",
            json!({}),
        )
        .await;
    assert_eq!(live.len(), 1, "moved once");

    // The second slot is now full: wait for it.
    let join = format!("/api/consulting-slots/{to}/waitlist");
    let (status, joined) =
        json_body(post_with_key(&app, &join, &waiter.token, "wait-1", &json!({})).await).await;
    assert_eq!(status, 201, "{joined}");
    let res = post_with_key(&app, &join, &waiter.token, "wait-1", &json!({})).await;
    assert!(replayed(&res));
    assert_eq!(json_body(res).await.1, joined);
    assert_eq!(app.count("waitlist").await, 1);
}

#[engine_test]
async fn a_read_only_api_token_cannot_use_a_key_to_write() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Scope Spec").await;
    let cust = app.user(Role::Customer, "Scope Cust").await;
    let slot = app.slot(&spec, 48, 1).await;
    let (_, made) = json_body(
        app.post_json(
            "/api/tokens",
            Some(&cust.token),
            &json!({ "name": "ro", "scopes": ["read"] }),
        )
        .await,
    )
    .await;
    let token = made["data"]["token"].as_str().unwrap();
    let book = format!("/api/consulting-slots/{slot}/book");
    let res = post_with_key(&app, &book, token, "ro-1", &json!({})).await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("booking").await, 0);
    assert_eq!(app.count("idempotency_key").await, 0);
}

/// G6: a request that outlived its claim on a key (Zoom slow past the claim) must neither free
/// nor answer for the request that took the key over since: that one stays in flight, and its
/// answer is the one replayed.
#[engine_test]
async fn a_request_past_its_claim_neither_frees_nor_answers_for_the_one_that_took_the_key_over() {
    use specialistly::server::repo::idempotency::{self, Claim, StoredAnswer};
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Claim Holder").await;
    let db = &app.state.db;
    let Claim::Claimed { token: first } =
        idempotency::claim(db, "k1", &user.id, "f").await.unwrap()
    else {
        panic!("the first claim wins");
    };
    // The first request's claim lapses; a retry takes the key over.
    app.query(
        "UPDATE idempotency_key:k1 SET locked_until = time::now() - 1s",
        json!({}),
    )
    .await;
    let Claim::Claimed { token: second } =
        idempotency::claim(db, "k1", &user.id, "f").await.unwrap()
    else {
        panic!("the lapsed claim is taken over");
    };
    // The first ends late: a 5xx would free the key, an answer would be stored.
    idempotency::release(db, "k1", &first).await.unwrap();
    assert!(
        matches!(
            idempotency::claim(db, "k1", &user.id, "f").await.unwrap(),
            Claim::InFlight
        ),
        "the second request still holds the key"
    );
    let answer = |status, body: &str| StoredAnswer {
        status,
        content_type: Some("application/json".into()),
        body: body.into(),
    };
    idempotency::finish(db, "k1", &first, &answer(201, "first"))
        .await
        .unwrap();
    idempotency::finish(db, "k1", &second, &answer(201, "second"))
        .await
        .unwrap();
    match idempotency::claim(db, "k1", &user.id, "f").await.unwrap() {
        Claim::Answered(stored) => assert_eq!(stored.body, "second"),
        other => panic!("expected the second answer, found {other:?}"),
    }
}
