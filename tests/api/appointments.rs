use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app};

#[engine_test]
async fn the_customer_and_the_specialist_see_the_appointment_and_nobody_else_does() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let stranger = app.user(Role::Customer, "Stranger").await;
    let other_spec = app.user(Role::Specialist, "Otto").await;
    let slot = app.slot(&spec, 48, 2).await;
    app.book(&slot, &cust).await;
    let path = format!("/api/consulting-slots/{slot}/booking/0");

    let (status, body) = json_body(app.get(&path, Some(&cust.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["slot"]["specialistName"], "Sara");
    assert_eq!(body["data"]["slot"]["duration"], 45);
    assert!(body["data"]["zoomMeeting"].is_null());

    app.create_zoom(&slot, "0", Some(&spec.token)).await;
    let (_, body) = json_body(app.get(&path, Some(&cust.token)).await).await;
    let m = &body["data"]["zoomMeeting"];
    assert!(
        m["joinUrl"].is_string() && m["password"].is_string() && m["zoomMeetingId"].is_string()
    );
    assert!(
        m.get("startUrl").is_none(),
        "the customer never gets the start URL"
    );
    assert!(!body.to_string().contains("role=host"));

    let (_, body) = json_body(app.get(&path, Some(&spec.token)).await).await;
    assert!(body["data"]["zoomMeeting"]["startUrl"].is_string());

    for token in [&stranger.token, &other_spec.token] {
        let (status, body) = json_body(app.get(&path, Some(token)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({ "success": false, "message": "Booking not found" })
        );
    }
    let (status, _) = json_body(
        app.get(
            &format!("/api/consulting-slots/{slot}/booking/7"),
            Some(&cust.token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_body(app.get(&path, None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[engine_test]
async fn the_meeting_manager_lists_upcoming_booked_slots_and_notification_state() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let later = app.slot(&spec, 72, 3).await;
    let sooner = app.slot(&spec, 24, 3).await;
    let _empty = app.slot(&spec, 30, 3).await;
    app.book(&later, &cust).await;
    app.book(&sooner, &cust).await;
    app.create_zoom(&sooner, "0", Some(&spec.token)).await;

    let (status, body) = json_body(app.get("/api/meeting-manager", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let slots = body["data"].as_array().unwrap();
    assert_eq!(slots.len(), 2, "only slots with bookings");
    assert_eq!(slots[0]["slot"]["id"], sooner.as_str(), "soonest first");
    assert_eq!(
        slots[0]["bookings"][0]["customerNotified"], false,
        "the email has not left yet"
    );
    app.drain_jobs().await;
    let (_, body) = json_body(app.get("/api/meeting-manager", Some(&spec.token)).await).await;
    assert_eq!(body["data"][0]["bookings"][0]["customerNotified"], true);
    assert!(body["data"][1]["bookings"][0]["zoomMeeting"].is_null());

    let (status, _) = json_body(app.get("/api/meeting-manager", Some(&cust.token)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[engine_test]
async fn my_appointments_lists_the_customers_bookings_upcoming_first() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let later = app.slot(&spec, 72, 3).await;
    let sooner = app.slot(&spec, 24, 3).await;
    let past = app.slot(&spec, 26, 3).await;
    for s in [&later, &sooner, &past] {
        app.book(s, &cust).await;
    }
    app.query(
        "UPDATE type::record('slot', $id) SET starts_at = time::now() - 1d",
        json!({ "id": past }),
    )
    .await;
    let (status, body) = json_body(app.get("/api/appointments", Some(&cust.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slot"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sooner.as_str(), later.as_str(), past.as_str()]);
}
