use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app};

#[engine_test]
async fn a_customer_books_a_seat_and_both_emails_are_queued() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let slot = app.slot(&spec, 48, 2).await;
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/book"),
            Some(&cust.token),
            &json!({ "additionalNotes": "About taxes" }),
        )
        .await;
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Slot booked successfully");
    assert_eq!(body["data"]["slotId"], slot.as_str());
    assert_eq!(body["data"]["bookingIndex"], 0);
    assert_eq!(body["data"]["booking"]["customerId"], cust.id.as_str());
    assert_eq!(
        body["data"]["booking"]["customerEmail"],
        cust.email.as_str()
    );
    assert_eq!(body["data"]["booking"]["customerName"], "Carl");
    assert_eq!(body["data"]["booking"]["additionalNotes"], "About taxes");
    assert!(body["data"]["booking"]["bookedAt"].is_string());

    let bookings = app.query("SELECT * FROM booking", json!({})).await;
    assert_eq!(bookings.len(), 1);
    assert!(
        bookings[0].get("zoom_meeting").is_none_or(|m| m.is_null()),
        "saved with no Zoom meeting"
    );
    // The booking's transaction queued one small job; the worker queues the emails right
    // after the commit, and running that again (a worker that died midway) adds nothing.
    let queued = app.query("SELECT VALUE kind FROM job", json!({})).await;
    assert_eq!(queued, vec![json!("booking_created")]);
    app.follow_up_bookings().await;
    let after_once = app.count("job").await;
    let booking_id = app
        .query("SELECT VALUE record::id(id) FROM booking", json!({}))
        .await;
    specialistly::server::service::booking::follow_up(&app.state, booking_id[0].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(app.count("job").await, after_once, "nothing queued twice");
    let mut emails = app
        .query("SELECT payload.to AS recipient, payload.subject AS subject FROM job WHERE kind = 'email'", json!({}))
        .await;
    emails.sort_by_key(|e| e["recipient"].as_str().unwrap().to_string());
    let recipients: Vec<&str> = emails
        .iter()
        .map(|e| e["recipient"].as_str().unwrap())
        .collect();
    let mut expected = vec![cust.email.as_str(), spec.email.as_str()];
    expected.sort();
    assert_eq!(recipients, expected);
    let slot_row = app
        .query(
            "SELECT booked FROM type::record('slot', $id)",
            json!({ "id": slot }),
        )
        .await;
    assert_eq!(slot_row[0]["booked"], 1);
}

#[engine_test]
async fn booking_rules_answer_as_specified_and_change_nothing() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let other = app.user(Role::Customer, "Olga").await;
    let slot = app.slot(&spec, 48, 1).await;

    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/book"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.book(&slot, &spec).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for missing in ["nosuchslot", "bad%20id", "x'y"] {
        let (status, body) = json_body(app.book(missing, &cust).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(body["message"], "Slot not found");
    }
    let long = "x".repeat(1001);
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/book"),
            Some(&cust.token),
            &json!({ "additionalNotes": long }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("booking").await, 0);

    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CREATED);
    let (status, body) = json_body(app.book(&slot, &cust).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "You have already booked this slot");
    let (status, body) = json_body(app.book(&slot, &other).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "This slot is fully booked");

    // A slot that has started.
    let started = app.slot(&spec, 2, 5).await;
    app.query(
        "UPDATE type::record('slot', $id) SET starts_at = time::now() - 5m",
        json!({ "id": started }),
    )
    .await;
    let (status, body) = json_body(app.book(&started, &other).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "This slot has already started");

    assert_eq!(app.count("booking").await, 1);
    assert_eq!(app.count_emails().await, 2);
}

#[engine_test]
async fn booking_indexes_follow_booking_order() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 3).await;
    for expected in 0..3 {
        let c = app.user(Role::Customer, &format!("C{expected}")).await;
        let (_, body) = json_body(app.book(&slot, &c).await).await;
        assert_eq!(body["data"]["bookingIndex"], expected);
    }
}

#[engine_test]
async fn one_hundred_customers_racing_for_ten_seats_never_overbook() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 10).await;
    let mut customers = Vec::new();
    for i in 0..100 {
        customers.push(app.user(Role::Customer, &format!("Racer {i}")).await);
    }
    let results = join_all(customers.iter().map(|c| app.book(&slot, c))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        90,
        "{statuses:?}"
    );
    assert_eq!(app.count("booking").await, 10);
    assert_eq!(app.count_emails().await, 20);
    let slot_row = app
        .query(
            "SELECT booked, next_index FROM type::record('slot', $id)",
            json!({ "id": slot }),
        )
        .await;
    assert_eq!(slot_row[0]["booked"], 10);
    let mut indexes: Vec<i64> = app
        .query("SELECT VALUE index FROM booking", json!({}))
        .await
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, (0..10).collect::<Vec<_>>());
}

#[engine_test]
async fn the_same_customer_booking_twenty_times_at_once_gets_one_seat() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 10).await;
    let cust = app.user(Role::Customer, "Eager").await;
    let results = join_all((0..20).map(|_| app.book(&slot, &cust))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.count("booking").await, 1);
    assert_eq!(app.count_emails().await, 2);
}

#[engine_test]
async fn a_booking_cancelled_before_its_follow_up_gets_only_the_cancellation() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let slot = app.slot(&spec, 48, 2).await;
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/book"),
            Some(&cust.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&cust.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.drain_jobs().await;
    let keys = app
        .query(
            "SELECT VALUE key FROM job WHERE kind IN ['email', 'reminder'] ORDER BY key",
            json!({}),
        )
        .await;
    assert!(
        keys.iter()
            .all(|k| k.as_str().unwrap().contains(":cancelled:")),
        "no confirmation or reminder for a booking already cancelled: {keys:?}"
    );
    assert!(!keys.is_empty(), "the cancellation is sent");
}
