//! The waitlist of full slots: joining, and promotion into freed seats, first come first served.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, TestApp, TestUser};

async fn join(app: &TestApp, slot: &str, who: &TestUser) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/waitlist"),
            Some(&who.token),
            &json!({}),
        )
        .await,
    )
    .await
}

async fn active_customers(app: &TestApp, slot: &str) -> Vec<String> {
    app.query(
        "SELECT VALUE customer_email FROM booking WHERE slot = type::record('slot', $s) AND status = 'active' ORDER BY index",
        json!({ "s": slot }),
    )
    .await
    .into_iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect()
}

/// How many wait for `slot` as browsing full slots too lists it (None: not listed).
async fn listed_waiting(app: &TestApp, spec: &TestUser, slot: &str) -> Option<u64> {
    let path = format!(
        "/api/consulting-slots?includeFull=true&specialistId={}",
        spec.id
    );
    let (status, page) = json_body(app.get(&path, None).await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let slots = page["data"]["slots"].as_array().unwrap();
    let listed = slots.iter().find(|s| s["id"] == slot)?;
    assert_eq!(listed["seatsLeft"], 0, "only a full slot has a line");
    listed["waiting"].as_u64()
}

#[engine_test]
async fn only_a_full_slot_has_a_waitlist_and_a_cancellation_books_the_first_in_line() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Wanda").await;
    let slot = app.slot(&spec, 48, 1).await;
    let booked = app.user(Role::Customer, "Bea").await;
    let first = app.user(Role::Customer, "Fin").await;
    let second = app.user(Role::Customer, "Sid").await;

    let (status, body) = join(&app, &slot, &first).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("Seats are available: book the slot directly")
        )
    );
    assert_eq!(app.book(&slot, &booked).await.status(), 201);
    let (status, body) = join(&app, &slot, &booked).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = join(&app, &slot, &first).await;
    assert_eq!(
        (status, body["data"]["position"].as_u64()),
        (StatusCode::CREATED, Some(1))
    );
    let (status, _) = join(&app, &slot, &first).await;
    assert_eq!(status, StatusCode::CONFLICT, "already waiting");
    let (_, body) = join(&app, &slot, &second).await;
    assert_eq!(body["data"]["position"], 2);
    let (status, _) = join(&app, &slot, &spec).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(listed_waiting(&app, &spec, &slot).await, Some(2));
    let (_, places) = json_body(app.get("/api/waitlist", Some(&second.token)).await).await;
    assert_eq!(places["data"][0]["position"], 2);
    assert_eq!(places["data"][0]["slot"]["id"], slot.as_str());
    // My appointments lists the place in line too.
    let (_, mine) = json_body(app.get("/api/appointments", Some(&second.token)).await).await;
    assert_eq!(mine["data"][0]["waitlistPosition"], 2);
    assert_eq!(mine["data"][0]["slot"]["id"], slot.as_str());
    assert!(mine["data"][0].get("bookingIndex").is_none());

    // The booked customer cancels: the first in line gets the seat at once.
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&booked.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        active_customers(&app, &slot).await,
        vec![first.email.clone()]
    );
    let mail = app
        .query(
            "SELECT VALUE payload.subject FROM job WHERE kind = 'email' AND payload.to = $to",
            json!({ "to": first.email }),
        )
        .await;
    assert!(
        mail.iter()
            .any(|s| s.as_str().unwrap().starts_with("✅ A seat opened up")),
        "{mail:?}"
    );
    let (_, places) = json_body(app.get("/api/waitlist", Some(&second.token)).await).await;
    assert_eq!(places["data"][0]["position"], 1, "second moved up");
    assert_eq!(listed_waiting(&app, &spec, &slot).await, Some(1));
    // Leaving works once.
    let res = app
        .delete(
            &format!("/api/consulting-slots/{slot}/waitlist"),
            &second.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .delete(
            &format!("/api/consulting-slots/{slot}/waitlist"),
            &second.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[engine_test]
async fn ten_cancellations_at_once_promote_in_arrival_order_and_never_overbook() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Queue").await;
    let slot = app.slot(&spec, 72, 10).await;
    let mut holders = Vec::new();
    for i in 0..10 {
        let c = app.user(Role::Customer, &format!("Holder {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
        holders.push(c);
    }
    let mut waiting = Vec::new();
    for i in 0..20 {
        let c = app.user(Role::Customer, &format!("Waiter {i}")).await;
        let (status, body) = join(&app, &slot, &c).await;
        assert_eq!(
            (status, body["data"]["position"].as_u64()),
            (StatusCode::CREATED, Some(i + 1))
        );
        waiting.push(c);
    }
    let cancels = holders.iter().enumerate().map(|(i, c)| {
        let path = format!("/api/consulting-slots/{slot}/booking/{i}/cancel");
        let app = &app;
        async move {
            app.post_json(&path, Some(&c.token), &json!({}))
                .await
                .status()
        }
    });
    let statuses = join_all(cancels).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let active = active_customers(&app, &slot).await;
    assert_eq!(active.len(), 10, "never above capacity");
    let expected: Vec<String> = waiting[..10].iter().map(|w| w.email.clone()).collect();
    assert_eq!(
        active, expected,
        "the first ten waiting, in the order they joined"
    );
    let booked = app
        .query(
            "SELECT VALUE booked FROM type::record('slot', $s)",
            json!({ "s": slot }),
        )
        .await;
    assert_eq!(booked, vec![json!(10)]);
}

#[engine_test]
async fn raising_the_capacity_by_two_books_the_first_two_waiting() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Grow").await;
    let slot = app.slot(&spec, 48, 1).await;
    let holder = app.user(Role::Customer, "Holder").await;
    assert_eq!(app.book(&slot, &holder).await.status(), 201);
    let mut waiting = Vec::new();
    for i in 0..3 {
        let c = app.user(Role::Customer, &format!("Next {i}")).await;
        assert_eq!(join(&app, &slot, &c).await.0, StatusCode::CREATED);
        waiting.push(c);
    }
    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "capacity": 3 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let active = active_customers(&app, &slot).await;
    assert_eq!(
        active,
        vec![
            holder.email.clone(),
            waiting[0].email.clone(),
            waiting[1].email.clone()
        ]
    );
    let (_, places) = json_body(app.get("/api/waitlist", Some(&waiting[2].token)).await).await;
    assert_eq!(places["data"][0]["position"], 1);
}

#[engine_test]
async fn moving_a_booking_away_books_the_first_waiting_for_the_old_slot() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Mover").await;
    let full = app.slot(&spec, 48, 1).await;
    let other = app.slot(&spec, 96, 1).await;
    let holder = app.user(Role::Customer, "Hank").await;
    let waiter = app.user(Role::Customer, "Wes").await;
    assert_eq!(app.book(&full, &holder).await.status(), 201);
    assert_eq!(join(&app, &full, &waiter).await.0, StatusCode::CREATED);
    let (status, body) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{full}/booking/0/reschedule"),
            Some(&holder.token),
            &json!({ "toSlotId": other }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        active_customers(&app, &full).await,
        vec![waiter.email.clone()]
    );
    assert_eq!(
        active_customers(&app, &other).await,
        vec![holder.email.clone()]
    );
}

#[engine_test]
async fn the_waitlist_closes_at_the_start_and_those_left_are_told() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Closer").await;
    let slot = app.slot(&spec, 48, 1).await;
    let holder = app.user(Role::Customer, "Hal").await;
    let waiter = app.user(Role::Customer, "Liz").await;
    assert_eq!(app.book(&slot, &holder).await.status(), 201);
    assert_eq!(join(&app, &slot, &waiter).await.0, StatusCode::CREATED);
    // The session starts.
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 1s",
        json!({ "s": slot }),
    )
    .await;
    app.query(
        "UPDATE job SET run_at = time::now() WHERE kind = 'waitlist_close'",
        json!({}),
    )
    .await;
    app.drain_jobs().await;
    let status = app
        .query("SELECT VALUE status FROM waitlist", json!({}))
        .await;
    assert_eq!(status, vec![json!("closed")]);
    let mail = app
        .query(
            "SELECT VALUE payload.subject FROM job WHERE kind = 'email' AND payload.to = $to",
            json!({ "to": waiter.email }),
        )
        .await;
    assert!(
        mail.iter()
            .any(|s| s.as_str().unwrap().contains("is closed")),
        "{mail:?}"
    );
}

#[engine_test]
async fn a_customer_promoted_inside_the_cutoff_may_still_cancel_within_the_hour() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Late").await;
    let slot = app.slot(&spec, 10, 1).await; // inside the 24-hour cutoff
    let holder = app.user(Role::Customer, "Hugo").await;
    let waiter = app.user(Role::Customer, "Wren").await;
    assert_eq!(app.book(&slot, &holder).await.status(), 201);
    assert_eq!(join(&app, &slot, &waiter).await.0, StatusCode::CREATED);
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&spec.token),
            &json!({ "reason": "Ill" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        active_customers(&app, &slot).await,
        vec![waiter.email.clone()]
    );
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{slot}/booking/1/cancel"),
            Some(&waiter.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "within an hour of the promotion"
    );
}

/// Cancelling a full slot closes its waitlist in the same transaction and tells each waiter;
/// a later edit of the cancelled slot is refused, so nobody is booked into it.
#[engine_test]
async fn cancelling_a_slot_closes_its_waitlist_and_tells_each_waiter() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Wendy").await;
    let slot = app.slot(&spec, 48, 1).await;
    let booked = app.user(Role::Customer, "Bo").await;
    let waiting = app.user(Role::Customer, "Cy").await;
    assert_eq!(app.book(&slot, &booked).await.status(), 201);
    assert_eq!(join(&app, &slot, &waiting).await.0, StatusCode::CREATED);

    let (status, body) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/cancel"),
            Some(&spec.token),
            &json!({ "reason": "ill" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, places) = json_body(app.get("/api/waitlist", Some(&waiting.token)).await).await;
    assert_eq!(places["data"], json!([]), "no longer in line");
    let statuses = app
        .query(
            "SELECT VALUE status FROM waitlist WHERE slot = type::record('slot', $s)",
            json!({ "s": slot }),
        )
        .await;
    assert_eq!(statuses, vec![json!("closed")]);
    let told = app
        .query(
            "SELECT VALUE payload.text FROM job WHERE kind = 'email' AND payload.to = $to",
            json!({ "to": waiting.email }),
        )
        .await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].as_str().unwrap().contains("cancelled the session"),
        "{told:?}"
    );

    let (status, body) = json_body(
        app.patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "title": "Still on?" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("This slot is cancelled and can no longer be changed.")
        )
    );
    assert_eq!(active_customers(&app, &slot).await, Vec::<String>::new());
    let booked_count = app
        .query(
            "SELECT VALUE booked FROM type::record('slot', $s)",
            json!({ "s": slot }),
        )
        .await;
    assert_eq!(booked_count, vec![json!(0)]);
}

/// A slot whose only booking was cancelled keeps it on the customer's list: deleting it is
/// refused (cancel instead), and the customer's appointments still load.
#[engine_test]
async fn a_slot_with_cancelled_bookings_or_a_waitlist_is_not_deleted() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Vic").await;
    let slot = app.slot(&spec, 48, 1).await;
    let customer = app.user(Role::Customer, "Di").await;
    assert_eq!(app.book(&slot, &customer).await.status(), 201);
    let (status, _) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&customer.token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = json_body(
        app.delete(&format!("/api/consulting-slots/{slot}"), &spec.token)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Cancel the slot instead"));
    assert_eq!(app.count("slot").await, 1);
    let (status, body) = json_body(app.get("/api/appointments", Some(&customer.token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = app.get("/appointments", Some(&customer.token)).await;
    assert_eq!(page.status(), StatusCode::OK);

    // A slot nobody ever booked or waited for still goes.
    let unused = app.slot(&spec, 72, 1).await;
    let res = app
        .delete(&format!("/api/consulting-slots/{unused}"), &spec.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.count("slot").await, 1);
}
