//! Server-Sent Events fed by SurrealDB `LIVE SELECT`: an open page hears of its booking's
//! changes at once (on the ws:// run, through the SurrealDB server).

use std::time::Duration;

use reqwest::Response;
use specialistly::model::Role;

use crate::helpers::{spawn_with, Options};

/// Reads the event stream until an event named `name` arrives; panics after `within`.
async fn next_event(stream: &mut Response, name: &str, within: Duration) {
    let found = tokio::time::timeout(within, async {
        let mut seen = String::new();
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(at) = seen.find(&format!("event: {name}\n")) {
                seen.drain(..at + name.len() + 8);
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no `{name}` event within {within:?}");
}

#[engine_test]
async fn an_open_appointment_hears_its_meeting_created_and_a_manager_its_new_booking() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Live Spec").await;
    let cust = app.user(Role::Customer, "Live Cust").await;
    let slot = app.slot(&spec, 48, 2).await;

    let mut manager = app
        .get("/api/events/meeting-manager", Some(&spec.token))
        .await;
    assert_eq!(manager.status(), 200);
    assert_eq!(
        manager.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    next_event(&mut manager, "ready", Duration::from_secs(5)).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    next_event(&mut manager, "changed", Duration::from_secs(2)).await;

    let path = format!("/api/events/appointments/{slot}/0");
    let mut page = app.get(&path, Some(&cust.token)).await;
    assert_eq!(page.status(), 200);
    next_event(&mut page, "ready", Duration::from_secs(5)).await;
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    next_event(&mut page, "changed", Duration::from_secs(2)).await;
    next_event(&mut manager, "changed", Duration::from_secs(2)).await;

    // Only the booking's customer and the slot's specialist may listen.
    let stranger = app.user(Role::Customer, "Other").await;
    assert_eq!(app.get(&path, Some(&stranger.token)).await.status(), 404);
    assert_eq!(app.get(&path, None).await.status(), 401);
    let bad = format!("/api/events/appointments/{slot}/x");
    assert_eq!(app.get(&bad, Some(&cust.token)).await.status(), 404);
    assert_eq!(
        app.get("/api/events/meeting-manager", Some(&cust.token))
            .await
            .status(),
        403
    );
}

/// The live queries SurrealDB holds on the booking table.
async fn live_queries(app: &crate::helpers::TestApp) -> usize {
    let info = app
        .query("INFO FOR TABLE booking", serde_json::json!({}))
        .await;
    info[0]["lives"].as_object().map_or(0, |l| l.len())
}

#[engine_test]
async fn a_closed_page_ends_its_live_query() {
    let app = spawn_with(Options::default()).await;
    let spec = app.user(Role::Specialist, "Gone Spec").await;
    // The page cache's own live query on bookings runs for as long as the app.
    app.caches_running().await;
    let own = live_queries(&app).await;
    assert_eq!(own, 1);
    let mut manager = app
        .get("/api/events/meeting-manager", Some(&spec.token))
        .await;
    next_event(&mut manager, "ready", Duration::from_secs(5)).await;
    assert_eq!(live_queries(&app).await, own + 1);
    drop(manager);
    let started = std::time::Instant::now();
    while live_queries(&app).await > own && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        live_queries(&app).await,
        own,
        "the live query outlived its page"
    );
}
