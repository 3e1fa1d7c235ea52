//! Cancelling bookings and slots, with Zoom kept in step by jobs.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, TestUser};
use crate::zoom_double::Fault;

async fn zoom_app() -> TestApp {
    spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await
}

async fn cancel(
    app: &TestApp,
    slot: &str,
    index: u32,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/{index}/cancel"),
            token,
            &body,
        )
        .await,
    )
    .await
}

async fn seats_left(app: &TestApp, spec: &TestUser, slot: &str) -> u64 {
    let (_, mine) = json_body(
        app.get("/api/consulting-slots/mine", Some(&spec.token))
            .await,
    )
    .await;
    let s = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == slot)
        .unwrap()
        .clone();
    s["seatsLeft"].as_u64().unwrap()
}

#[engine_test]
async fn a_customer_cancels_frees_the_seat_is_told_why_and_may_book_again() {
    let app = zoom_app().await;
    let spec = app.user(Role::Specialist, "Sam").await;
    let cust = app.user(Role::Customer, "Cat").await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(seats_left(&app, &spec, &slot).await, 1);

    let (status, body) = cancel(
        &app,
        &slot,
        0,
        Some(&cust.token),
        json!({ "reason": "Something came up" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Booking cancelled");
    let b = &body["data"];
    assert_eq!(
        (b["status"].as_str(), b["cancelledBy"].as_str()),
        (Some("cancelled"), Some("customer"))
    );
    assert_eq!(b["cancellationReason"], "Something came up");
    assert_eq!(b["bookingIndex"], 0);
    assert!(b["cancelledAt"].is_string());
    assert_eq!(seats_left(&app, &spec, &slot).await, 2);

    let emails = app
        .query("SELECT payload.to AS to, payload.text AS text, payload.attachments AS attachments FROM job WHERE string::contains(key, ':cancelled:')", json!({}))
        .await;
    assert_eq!(emails.len(), 2);
    let to_customer = emails.iter().find(|e| e["to"] == cust.email).unwrap();
    assert!(to_customer["text"]
        .as_str()
        .unwrap()
        .contains("Something came up"));
    let ics = to_customer["attachments"][0]["content"].as_str().unwrap();
    assert!(
        ics.contains("METHOD:CANCEL") && ics.contains("SEQUENCE:2"),
        "{ics}"
    );
    assert!(emails.iter().any(|e| e["to"] == spec.email));

    // Still visible as cancelled; cancelling again or creating its meeting is refused.
    let (_, details) = json_body(
        app.get(
            &format!("/api/consulting-slots/{slot}/booking/0"),
            Some(&cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(details["data"]["booking"]["status"], "cancelled");
    let (status, body) = cancel(&app, &slot, 0, Some(&cust.token), json!({})).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("This booking is already cancelled")
        )
    );
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("This booking has been cancelled")
        )
    );

    // The customer books the same slot again: a new index.
    let res = app.book(&slot, &cust).await;
    assert_eq!(res.status(), 201);
    let (_, body) = json_body(res).await;
    assert_eq!(body["data"]["bookingIndex"], 1);
}

#[engine_test]
async fn who_may_cancel_when_and_with_what_reason() {
    let app = zoom_app().await;
    let spec = app.user(Role::Specialist, "Sol").await;
    let other_spec = app.user(Role::Specialist, "Oz").await;
    let cust = app.user(Role::Customer, "Cy").await;
    let other = app.user(Role::Customer, "Ed").await;
    let soon = app.slot(&spec, 10, 3).await; // inside the 24 h cutoff
    assert_eq!(app.book(&soon, &cust).await.status(), 201);

    let (status, body) = cancel(&app, &soon, 0, None, json!({})).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("Unauthorized. Please login.")
        )
    );
    for outsider in [&other, &other_spec] {
        let (status, body) = cancel(
            &app,
            &soon,
            0,
            Some(&outsider.token),
            json!({ "reason": "x" }),
        )
        .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::NOT_FOUND, Some("Booking not found"))
        );
    }
    let (status, body) = cancel(&app, &soon, 7, Some(&cust.token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = cancel(&app, &soon, 0, Some(&cust.token), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Bookings can only be cancelled up to 24 hours before the start. Please contact your specialist.");
    let (status, body) = cancel(&app, &soon, 0, Some(&spec.token), json!({})).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason is required"))
    );
    let (status, body) = cancel(
        &app,
        &soon,
        0,
        Some(&spec.token),
        json!({ "reason": "x".repeat(501) }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("500"));
    assert_eq!(
        app.query("SELECT VALUE status FROM booking", json!({}))
            .await,
        vec![json!("active")]
    );
    // The specialist may cancel until the start.
    let (status, body) = cancel(
        &app,
        &soon,
        0,
        Some(&spec.token),
        json!({ "reason": "Double-booked" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["cancelledBy"], "specialist");
    // After the start, nobody.
    let started = app.slot(&spec, 30, 3).await;
    assert_eq!(app.book(&started, &cust).await.status(), 201);
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 1m",
        json!({ "s": started }),
    )
    .await;
    let (status, _) = cancel(
        &app,
        &started,
        0,
        Some(&spec.token),
        json!({ "reason": "late" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// A specialist's slot (in two days, two seats) with one booking whose meeting exists.
async fn booked_with_meeting(
    app: &TestApp,
    specialist: &str,
    customer: &str,
) -> (TestUser, TestUser, String) {
    let spec = app.user(Role::Specialist, specialist).await;
    let cust = app.user(Role::Customer, customer).await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let created = app.create_zoom(&slot, "0", Some(&spec.token)).await;
    assert_eq!(created.status(), 200);
    (spec, cust, slot)
}

#[engine_test]
async fn a_cancelled_meeting_is_deleted_at_zoom_once_even_after_zoom_errors() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let (_, cust, slot) = booked_with_meeting(&app, "Ada", "Bo").await;
    app.drain_jobs().await;

    zoom.push_delete_fault(Fault::ServerError);
    zoom.push_delete_fault(Fault::ServerError);
    let (status, body) = cancel(&app, &slot, 0, Some(&cust.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Cancelled at once, whatever Zoom does.
    assert_eq!(
        app.query("SELECT VALUE status FROM booking", json!({}))
            .await,
        vec![json!("cancelled")]
    );
    for _ in 0..3 {
        app.drain_jobs().await;
        app.query(
            "UPDATE job SET run_at = time::now() WHERE status = 'pending'",
            json!({}),
        )
        .await;
    }
    let deletes = zoom.delete_requests().await;
    assert_eq!(deletes.len(), 3, "two errors, then the deletion");
    assert_eq!(
        zoom.deletions_answered(),
        1,
        "exactly one successful DELETE"
    );
    let job = app
        .query(
            "SELECT status, attempts FROM job WHERE kind = 'zoom_delete'",
            json!({}),
        )
        .await;
    assert_eq!(job, vec![json!({ "status": "done", "attempts": 3 })]);
    let cancelled_emails = app
        .query(
            "SELECT VALUE count() FROM job WHERE string::contains(key, ':cancelled:') GROUP ALL",
            json!({}),
        )
        .await;
    assert_eq!(cancelled_emails, vec![json!(2)], "no duplicate email");
}

#[engine_test]
async fn cancel_and_create_zoom_racing_never_leave_a_live_meeting_on_a_cancelled_booking() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Rex").await;
    let slot = app.slot(&spec, 72, 60).await;
    let mut customers = Vec::new();
    for i in 0..50 {
        let c = app.user(Role::Customer, &format!("Racer {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
        customers.push(c);
    }
    let rounds = customers.iter().enumerate().map(|(i, c)| {
        let app = &app;
        let spec = &spec;
        let slot = &slot;
        async move {
            let index = i.to_string();
            let (a, b) = tokio::join!(
                cancel(app, slot, i as u32, Some(&c.token), json!({})),
                app.create_zoom(slot, &index, Some(&spec.token))
            );
            (a, b.status())
        }
    });
    let outcomes = join_all(rounds).await;
    for (cancelled, created) in &outcomes {
        assert_eq!(cancelled.0, StatusCode::OK, "{}", cancelled.1);
        assert!([200, 409, 500].contains(&created.as_u16()), "{created}");
    }
    app.drain_jobs().await;
    // Every meeting Zoom made for these bookings is gone again.
    let made = zoom.meetings().len();
    assert_eq!(
        zoom.deletions_answered() as usize,
        made,
        "{made} made, all deleted"
    );
    let live = app.query("SELECT VALUE count() FROM booking WHERE status = 'cancelled' AND zoom_meeting != NONE GROUP ALL", json!({})).await;
    let pending_deletes = app.query("SELECT VALUE count() FROM job WHERE kind = 'zoom_delete' AND status != 'done' GROUP ALL", json!({})).await;
    assert!(
        pending_deletes.is_empty() || pending_deletes == vec![json!(0)],
        "{pending_deletes:?} / {live:?}"
    );
}

#[engine_test]
async fn a_specialist_cancels_a_whole_slot_which_leaves_browsing() {
    let app = zoom_app().await;
    let spec = app.user(Role::Specialist, "Viv").await;
    let slot = app.slot(&spec, 48, 5).await;
    let mut customers = Vec::new();
    for i in 0..3 {
        let c = app.user(Role::Customer, &format!("Guest {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
        customers.push(c);
    }
    assert_eq!(
        app.create_zoom(&slot, "1", Some(&spec.token))
            .await
            .status(),
        200
    );
    let res = app
        .delete(&format!("/api/consulting-slots/{slot}"), &spec.token)
        .await;
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Cancel the slot"));

    let path = format!("/api/consulting-slots/{slot}/cancel");
    let (status, body) = json_body(app.post_json(&path, Some(&spec.token), &json!({})).await).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason is required"))
    );
    let (status, _) = json_body(
        app.post_json(&path, Some(&customers[0].token), &json!({ "reason": "x" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = json_body(
        app.post_json(&path, Some(&spec.token), &json!({ "reason": "Travel" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["cancelled"], 3);

    assert_eq!(
        app.query("SELECT VALUE status FROM booking", json!({}))
            .await,
        vec![json!("cancelled"); 3]
    );
    let (_, browse) = json_body(app.get("/api/consulting-slots", None).await).await;
    assert!(browse["data"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != slot));
    let mails = app
        .query(
            "SELECT VALUE payload.to FROM job WHERE string::contains(key, ':cancelled:customer')",
            json!({}),
        )
        .await;
    assert_eq!(mails.len(), 3);
    app.drain_jobs().await;
    assert_eq!(app.zoom.as_ref().unwrap().deletions_answered(), 1);
    let (status, _) = json_body(
        app.post_json(&path, Some(&spec.token), &json!({ "reason": "Again" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[engine_test]
async fn moving_a_slot_moves_its_meetings_at_zoom_and_keeps_their_links() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Mo").await;
    let slot = app.slot(&spec, 48, 5).await;
    for i in 0..3 {
        let c = app.user(Role::Customer, &format!("Mover {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
    }
    for i in ["0", "2"] {
        assert_eq!(
            app.create_zoom(&slot, i, Some(&spec.token)).await.status(),
            200
        );
    }
    let new_start = chrono::Utc::now() + chrono::Duration::days(4);
    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "date": new_start.format("%Y-%m-%d").to_string(), "startTime": "09:30", "timezone": "UTC", "duration": 60 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The Meeting Manager shows the updates still queued, for the bookings with a meeting only.
    assert_eq!(zoom_jobs_pending(&app, &spec).await, [true, false, true]);
    app.drain_jobs().await;
    assert_eq!(zoom_jobs_pending(&app, &spec).await, [false, false, false]);
    let patches = zoom.update_requests().await;
    assert_eq!(patches.len(), 2, "one PATCH per meeting");
    let expected_start = format!("{}T09:30:00Z", new_start.format("%Y-%m-%d"));
    for p in &patches {
        let body: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(body["start_time"], expected_start);
        assert_eq!(body["duration"], 60);
    }
    // The customers with a meeting keep its link and password in the new email and invite.
    let stored = app
        .query(
            "SELECT index, zoom_meeting, customer_email FROM booking WHERE zoom_meeting != NONE",
            json!({}),
        )
        .await;
    for b in stored {
        let join = b["zoom_meeting"]["joinUrl"].as_str().unwrap();
        let rows = app
            .query(
                "SELECT VALUE payload FROM job WHERE string::contains(key, 'rescheduled') AND payload.to = $to",
                json!({ "to": b["customer_email"] }),
            )
            .await;
        assert_eq!(rows.len(), 1);
        let text = rows[0]["text"].as_str().unwrap();
        assert!(
            text.contains(join) && text.contains(b["zoom_meeting"]["password"].as_str().unwrap())
        );
        let ics = rows[0]["attachments"][0]["content"]
            .as_str()
            .unwrap()
            .replace("\r\n ", "");
        assert!(ics.contains(&format!("LOCATION:{join}")));
    }
    let jobs = app
        .query(
            "SELECT VALUE status FROM job WHERE kind = 'zoom_update'",
            json!({}),
        )
        .await;
    assert_eq!(jobs, vec![json!("done"), json!("done")]);
}

/// Whether a Zoom update or deletion is queued, per booking of the Meeting Manager's first slot.
async fn zoom_jobs_pending(app: &TestApp, spec: &TestUser) -> Vec<bool> {
    let (_, manager) = json_body(app.get("/api/meeting-manager", Some(&spec.token)).await).await;
    manager["data"][0]["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["zoomJobPending"].as_bool().unwrap())
        .collect()
}

async fn reschedule(
    app: &TestApp,
    slot: &str,
    index: u32,
    token: &str,
    to: &str,
) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/{index}/reschedule"),
            Some(token),
            &json!({ "toSlotId": to }),
        )
        .await,
    )
    .await
}

#[engine_test]
async fn a_customer_moves_a_booking_with_its_meeting_and_calendar_event() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Kay").await;
    let other_spec = app.user(Role::Specialist, "Lou").await;
    let cust = app.user(Role::Customer, "Max").await;
    let from = app.slot(&spec, 48, 2).await;
    let to = app.slot(&spec, 96, 2).await;
    let foreign = app.slot(&other_spec, 72, 2).await;
    assert_eq!(app.book(&from, &cust).await.status(), 201);
    let (_, created) = json_body(app.create_zoom(&from, "0", Some(&spec.token)).await).await;
    let join = created["data"]["zoomMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, body) = reschedule(&app, &from, 0, &cust.token, &foreign).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("You can only move to another slot of the same specialist")
        )
    );
    let (status, _) = reschedule(&app, &from, 0, &spec.token, &to).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only the booking's customer reschedules"
    );

    let (status, body) = reschedule(&app, &from, 0, &cust.token, &to).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["data"]["slotId"].as_str(),
            body["data"]["bookingIndex"].as_u64()
        ),
        (Some(to.as_str()), Some(0))
    );
    let (_, old) = json_body(
        app.get(
            &format!("/api/consulting-slots/{from}/booking/0"),
            Some(&cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(old["data"]["booking"]["status"], "rescheduled");
    assert_eq!(
        old["data"]["booking"]["rescheduledTo"],
        json!({ "slotId": to, "bookingIndex": 0 })
    );
    let (_, new) = json_body(
        app.get(
            &format!("/api/consulting-slots/{to}/booking/0"),
            Some(&cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(
        new["data"]["zoomMeeting"]["joinUrl"],
        join.as_str(),
        "the meeting moved with the booking"
    );
    let (_, mine) = json_body(
        app.get("/api/consulting-slots/mine", Some(&spec.token))
            .await,
    )
    .await;
    let seats: Vec<(String, u64)> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["booked"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        seats.contains(&(from.clone(), 0)) && seats.contains(&(to.clone(), 1)),
        "{seats:?}"
    );

    app.drain_jobs().await;
    let patches = zoom.update_requests().await;
    assert_eq!(patches.len(), 1);
    let email = app
        .query("SELECT VALUE payload FROM job WHERE string::contains(key, 'rescheduled') AND payload.to = $to", json!({ "to": cust.email }))
        .await;
    assert_eq!(email.len(), 1);
    assert!(email[0]["text"].as_str().unwrap().contains(&join));
    let ics = email[0]["attachments"][0]["content"]
        .as_str()
        .unwrap()
        .replace("\r\n ", "");
    let first = app
        .query(
            "SELECT VALUE payload FROM job WHERE string::ends_with(key, 'customer-confirmation')",
            json!({}),
        )
        .await;
    let first_ics = first[0]["attachments"][0]["content"]
        .as_str()
        .unwrap()
        .replace("\r\n ", "");
    let uid = |ics: &str| {
        ics.lines()
            .find(|l| l.starts_with("UID:"))
            .unwrap()
            .to_string()
    };
    let seq = |ics: &str| {
        ics.lines().find(|l| l.starts_with("SEQUENCE:")).unwrap()[9..]
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(uid(&ics), uid(&first_ics), "the same calendar event");
    assert!(
        seq(&ics) > 1,
        "above the booking (0) and meeting (1) invites: {}",
        seq(&ics)
    );
    // Moving it again from the old booking is refused; cancelling the old one too.
    let (status, _) = reschedule(&app, &from, 0, &cust.token, &to).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[engine_test]
async fn two_moves_of_one_booking_at_once_one_wins_and_twenty_customers_never_overbook_the_last_seat(
) {
    let app = zoom_app().await;
    let spec = app.user(Role::Specialist, "Nia").await;
    let cust = app.user(Role::Customer, "Ola").await;
    let from = app.slot(&spec, 48, 30).await;
    let a = app.slot(&spec, 72, 5).await;
    let b = app.slot(&spec, 96, 5).await;
    assert_eq!(app.book(&from, &cust).await.status(), 201);
    let (ra, rb) = tokio::join!(
        reschedule(&app, &from, 0, &cust.token, &a),
        reschedule(&app, &from, 0, &cust.token, &b)
    );
    let wins = [ra.0, rb.0]
        .iter()
        .filter(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(wins, 1, "{ra:?} {rb:?}");
    let active = app
        .query(
            "SELECT VALUE count() FROM booking WHERE status = 'active' GROUP ALL",
            json!({}),
        )
        .await;
    assert_eq!(active, vec![json!(1)]);

    let last = app.slot(&spec, 120, 1).await;
    let mut movers = Vec::new();
    for i in 0..20 {
        let c = app.user(Role::Customer, &format!("Mover {i}")).await;
        assert_eq!(app.book(&from, &c).await.status(), 201);
        movers.push((c, i + 1));
    }
    let answers = join_all(
        movers
            .iter()
            .map(|(c, index)| reschedule(&app, &from, *index, &c.token, &last)),
    )
    .await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let full = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["message"] == "This slot is fully booked")
        .count();
    assert_eq!((ok, full), (1, 19), "{answers:?}");
    let in_last = app.query("SELECT VALUE count() FROM booking WHERE slot = type::record('slot', $s) AND status = 'active' GROUP ALL", json!({ "s": last })).await;
    assert_eq!(in_last, vec![json!(1)]);
}

#[engine_test]
async fn missing_meetings_are_created_automatically_once_even_with_a_click_at_the_same_moment() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Auto").await;
    let settings = json!({ "zoomUser": null, "waitingRoom": true, "joinBeforeHost": false, "hostVideo": true, "participantVideo": true, "muteUponEntry": true, "autoCreateMinutes": 4 });
    let res = app
        .put_json("/api/profile/zoom-settings", &spec.token, &settings)
        .await;
    let (status, body) = json_body(res).await;
    assert_eq!(
        (
            status,
            body["message"]
                .as_str()
                .map(|m| m.contains("between 5 and 120"))
        ),
        (StatusCode::BAD_REQUEST, Some(true))
    );
    let mut on = settings.clone();
    on["autoCreateMinutes"] = json!(5);
    let res = app
        .put_json("/api/profile/zoom-settings", &spec.token, &on)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Two bookings of a slot starting five minutes and a few seconds from now.
    let slot = app.slot(&spec, 48, 3).await;
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() + 5m + 6s",
        json!({ "s": slot }),
    )
    .await;
    let mut customers = Vec::new();
    for i in 0..2 {
        let c = app.user(Role::Customer, &format!("Auto {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
        customers.push(c);
    }
    assert_eq!(
        app.drain_jobs().await,
        6,
        "only each booking's follow-up (already done by `book`) and its two emails are due yet"
    );
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    // The worker and the specialist's click at the same moment.
    let (worker, click) = tokio::join!(
        app.drain_jobs(),
        app.create_zoom(&slot, "0", Some(&spec.token))
    );
    let _ = worker;
    assert!([200, 409].contains(&click.status().as_u16()));
    app.drain_jobs().await;
    assert_eq!(
        zoom.meetings().len(),
        2,
        "one meeting per booking, whoever made it"
    );
    let (_, manager) = json_body(app.get("/api/meeting-manager", Some(&spec.token)).await).await;
    let bookings = manager["data"][0]["bookings"].as_array().unwrap();
    assert!(bookings.iter().all(|b| b["zoomMeeting"].is_object()));
    assert_eq!(bookings[1]["zoomCreatedAutomatically"], true);
    let ready = app
        .query(
            "SELECT VALUE payload.to FROM job WHERE string::ends_with(key, 'zoom-ready')",
            json!({}),
        )
        .await;
    assert_eq!(ready.len(), 2, "each customer gets the usual email");
}

/// Write conflicts `operation` has lost so far, as `/metrics` counts them.
async fn conflicts(app: &TestApp, operation: &str) -> f64 {
    let scrape = app.get("/metrics", None).await.text().await.unwrap();
    let label = format!("operation=\"{operation}\"");
    scrape
        .lines()
        .filter(|l| {
            l.starts_with("specialistly_transaction_conflicts_total{") && l.contains(&label)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[engine_test]
async fn concurrent_moves_into_one_slot_take_turns_instead_of_conflicting() {
    let app = spawn_with(Options::default()).await;
    let spec = app.user(Role::Specialist, "Pia").await;
    let from = app.slot(&spec, 48, 12).await;
    let to = app.slot(&spec, 96, 12).await;
    let mut customers = Vec::new();
    for i in 0..12 {
        let customer = app.user(Role::Customer, &format!("Mover {i}")).await;
        assert_eq!(app.book(&from, &customer).await.status(), 201);
        customers.push(customer);
    }
    let before = conflicts(&app, "reschedule").await;
    let moves = join_all(
        customers
            .iter()
            .enumerate()
            .map(|(i, c)| reschedule(&app, &from, i as u32, &c.token, &to)),
    )
    .await;
    assert!(
        moves.iter().all(|(status, _)| *status == StatusCode::OK),
        "{moves:?}"
    );
    assert_eq!(seats_left(&app, &spec, &to).await, 0);
    assert_eq!(seats_left(&app, &spec, &from).await, 12);
    assert_eq!(
        conflicts(&app, "reschedule").await - before,
        0.0,
        "moves of one instance wait for their turn on both slots instead of losing conflicts"
    );
}

/// A slot move queues a PATCH of each meeting; a cancellation right after deletes the meeting.
/// The PATCH, run later, must not touch the meeting of a booking that is no longer active.
#[engine_test]
async fn a_move_queued_before_a_cancellation_never_patches_the_deleted_meeting() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let (spec, cust, slot) = booked_with_meeting(&app, "Mia", "Ned").await;
    let new_start = chrono::Utc::now() + chrono::Duration::days(3);
    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "date": new_start.format("%Y-%m-%d").to_string(), "startTime": "10:00", "timezone": "UTC" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = cancel(&app, &slot, 0, Some(&cust.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.drain_jobs().await;
    assert!(zoom.update_requests().await.is_empty(), "no PATCH");
    assert_eq!(zoom.deleted().len(), 1, "the meeting is deleted once");
    let jobs = app
        .query(
            "SELECT kind, status FROM job WHERE kind IN ['zoom_update', 'zoom_delete'] ORDER BY kind",
            json!({}),
        )
        .await;
    assert_eq!(
        jobs,
        [
            json!({ "kind": "zoom_delete", "status": "done" }),
            json!({ "kind": "zoom_update", "status": "done" })
        ]
    );
}
