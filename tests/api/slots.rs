use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app};

#[engine_test]
async fn a_specialist_creates_lists_edits_and_deletes_a_slot() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    // Next year's 1 July: summer time in Berlin, within the two years slots may be ahead.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let body = json!({ "date": format!("{year}-07-01"), "startTime": "14:00", "duration": 60, "capacity": 3, "title": "Intro", "description": "Hello" });
    let (status, created) = json_body(
        app.post_json("/api/consulting-slots", Some(&spec.token), &body)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let slot = &created["data"];
    assert_eq!(
        slot["timezone"], "Europe/Berlin",
        "defaults to the specialist's zone"
    );
    assert_eq!(slot["startsAt"], format!("{year}-07-01T12:00:00Z"));
    assert_eq!(slot["seatsLeft"], 3);
    let id = slot["id"].as_str().unwrap();

    let (_, mine) = json_body(
        app.get("/api/consulting-slots/mine", Some(&spec.token))
            .await,
    )
    .await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);

    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{id}"),
            &spec.token,
            &json!({ "capacity": 5, "title": "Intro call" }),
        )
        .await;
    let (status, updated) = json_body(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["data"]["capacity"], 5);
    assert_eq!(updated["data"]["title"], "Intro call");

    let res = app
        .delete(&format!("/api/consulting-slots/{id}"), &spec.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.count("slot").await, 0);
}

#[engine_test]
async fn invalid_slot_input_gets_400_naming_the_field() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let base = json!({ "date": format!("{year}-07-01"), "startTime": "14:00", "duration": 60, "capacity": 3, "title": "Intro" });
    let cases = [
        ("date", json!({ "date": "2031-13-01" })),
        ("startTime", json!({ "startTime": "25:61" })),
        ("duration", json!({ "duration": 10 })),
        ("duration", json!({ "duration": 241 })),
        ("capacity", json!({ "capacity": 0 })),
        ("capacity", json!({ "capacity": 101 })),
        ("title", json!({ "title": "" })),
        ("timezone", json!({ "timezone": "Nowhere/City" })),
        ("date", json!({ "date": "2020-01-01" })),
    ];
    for (field, change) in cases {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, res) = json_body(
            app.post_json("/api/consulting-slots", Some(&spec.token), &body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {res}");
        assert!(
            res["message"].as_str().unwrap().contains(field),
            "{field}: {res}"
        );
    }
    assert_eq!(app.count("slot").await, 0);
}

#[engine_test]
async fn capacity_cannot_drop_below_seats_taken_and_booked_slots_cannot_be_deleted() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 3).await;
    for name in ["A", "B"] {
        let c = app.user(Role::Customer, name).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
    }
    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "capacity": 1 }),
        )
        .await;
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("capacity"));
    let res = app
        .delete(&format!("/api/consulting-slots/{slot}"), &spec.token)
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("slot").await, 1);
}

#[engine_test]
async fn moving_a_booked_slot_re_notifies_its_customers() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 3).await;
    let c = app.user(Role::Customer, "Cy").await;
    app.book(&slot, &c).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(72);
    let res = app.patch_json(&format!("/api/consulting-slots/{slot}"), &spec.token, &json!({ "date": later.format("%Y-%m-%d").to_string(), "startTime": "10:00", "timezone": "UTC" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = app.query("SELECT payload.to AS recipient, payload.subject AS subject FROM job WHERE string::contains(key, 'rescheduled')", json!({})).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["recipient"], c.email.as_str());
}

#[engine_test]
async fn other_specialists_and_customers_cannot_change_a_slot() {
    let app = spawn_app().await;
    let owner = app.user(Role::Specialist, "Owner").await;
    let other = app.user(Role::Specialist, "Other").await;
    let customer = app.user(Role::Customer, "Cus").await;
    let slot = app.slot(&owner, 48, 3).await;
    for token in [&other.token, &customer.token] {
        let res = app
            .delete(&format!("/api/consulting-slots/{slot}"), token)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.count("slot").await, 1);
}

#[engine_test]
async fn browsing_lists_future_slots_with_seats_and_no_customer_data() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let full = app.slot(&spec, 24, 1).await;
    let open = app.slot(&spec, 30, 2).await;
    let c = app.user(Role::Customer, "Secret Name").await;
    app.book(&full, &c).await;
    app.book(&open, &c).await;
    let (status, body) = json_body(app.get("/api/consulting-slots", None).await).await;
    assert_eq!(status, StatusCode::OK);
    let slots = body["data"]["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 1);
    assert_eq!(slots[0]["id"], open.as_str());
    assert_eq!(slots[0]["seatsLeft"], 1);
    assert_eq!(slots[0]["specialistName"], "Sara");
    let text = body.to_string();
    assert!(!text.contains(&c.email) && !text.contains("Secret Name"));

    let (status, _) = json_body(
        app.get(
            &format!("/api/consulting-slots?specialistId={}&page=1", spec.id),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json_body(app.get("/api/consulting-slots?page=zero", None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json_body(app.get("/api/consulting-slots?from=yesterday", None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[engine_test]
async fn every_customer_booked_when_a_slot_moves_learns_the_new_time() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let slot = app.slot(&spec, 48, 20).await;
    let mut customers = Vec::new();
    for i in 0..10 {
        customers.push(app.user(Role::Customer, &format!("Mover {i}")).await);
    }
    let new_start = (chrono::Utc::now() + chrono::Duration::hours(96))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    let patch = json!({ "date": new_start.format("%Y-%m-%d").to_string(), "startTime": "10:00", "timezone": "UTC" });
    let path = format!("/api/consulting-slots/{slot}");
    let (bookings, moved) = tokio::join!(
        futures::future::join_all(customers.iter().map(|c| app.book(&slot, c))),
        app.patch_json(&path, &spec.token, &patch)
    );
    assert_eq!(moved.status(), StatusCode::OK);
    assert!(bookings.iter().all(|b| b.status() == StatusCode::CREATED));

    // Whichever committed first, each customer holds an email with the new time: either the
    // confirmation itself or a reschedule notice.
    let date = specialistly::time_fmt::date_in(new_start, "Europe/Berlin");
    let time = specialistly::time_fmt::time_in(new_start, "Europe/Berlin");
    for c in &customers {
        let emails = app
            .query(
                "SELECT payload.text AS text FROM job WHERE payload.to = $to",
                json!({ "to": c.email }),
            )
            .await;
        let informed = emails.iter().any(|e| {
            let text = e["text"].as_str().unwrap();
            text.contains(&format!("Date: {date}")) && text.contains(&format!("Time: {time}"))
        });
        assert!(
            informed,
            "{} was not told the new time: {emails:?}",
            c.email
        );
    }
}

#[engine_test]
async fn pages_and_json_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    for path in ["/slots", "/api/consulting-slots"] {
        let plain = app.get(path, None).await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.unwrap();

        let compressed = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.status(), StatusCode::OK);
        assert_eq!(compressed.headers()["content-encoding"], "br", "{path}");
        let body = compressed.bytes().await.unwrap();
        let mut decoded = Vec::new();
        brotli_decompressor::BrotliDecompress(&mut body.as_ref(), &mut decoded).unwrap();
        if path == "/slots" {
            // A page carries a fresh nonce each time, so it is read rather than compared.
            let page = String::from_utf8(decoded).unwrap();
            assert!(page.starts_with("<!DOCTYPE html>") && page.contains("Consulting slots"));
        } else {
            assert_eq!(decoded, plain.to_vec(), "{path}");
        }
        assert!(
            body.len() < plain.len(),
            "{path}: {} of {}",
            body.len(),
            plain.len()
        );
    }
}
