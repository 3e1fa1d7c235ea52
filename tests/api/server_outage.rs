//! The app on a SurrealDB server that goes away: requests answer 503 at once, readiness fails,
//! and once the server is back the app reconnects by itself with nothing half-written.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options};
use crate::surreal_server::SurrealServer;

const UNAVAILABLE: &str = "The database is unavailable. Please try again shortly.";

#[tokio::test]
async fn a_stopped_database_server_answers_503_and_the_app_reconnects_by_itself() {
    let storage = tempfile::tempdir().unwrap();
    let mut server = SurrealServer::start(&format!(
        "surrealkv://{}",
        storage.path().join("db").display()
    ));
    let app = spawn_with(Options {
        database: Some(server.fresh_database()),
        extra: vec![("DATABASE_TIMEOUT_MILLIS", "1000".into())],
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let early = app.user(Role::Customer, "Carl").await;
    let during = app.user(Role::Customer, "Olga").await;
    let slot = app.slot(&spec, 48, 3).await;
    assert_eq!(app.book(&slot, &early).await.status(), StatusCode::CREATED);

    server.stop();

    // The first request finds out (within the query timeout), the ones after it at once.
    for attempt in 0..3 {
        let started = Instant::now();
        let (status, body) = json_body(app.book(&slot, &during).await).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "attempt {attempt}: {body}"
        );
        assert_eq!(body["message"], UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "attempt {attempt} took {:?}",
            started.elapsed()
        );
    }
    let res = app.get("/api/consulting-slots", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    let res = app.get("/slots", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = json_body(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["message"], UNAVAILABLE);
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);

    server.restart();

    // Back by itself: the SDK reconnects and the app's probe notices, no restart needed.
    let started = Instant::now();
    while app.get("/readyz", None).await.status() != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app did not reconnect within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The booking refused during the outage was not stored; the one before it is intact.
    let rows = app
        .query(
            "SELECT customer, slot.booked AS booked FROM booking",
            json!({}),
        )
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0]["booked"], 1,
        "the seat counter matches the bookings"
    );
    assert_eq!(
        app.count_emails().await,
        2,
        "the first booking's emails only"
    );
    // And the app works again, with the same data.
    assert_eq!(app.book(&slot, &during).await.status(), StatusCode::CREATED);
    let slot_row = app
        .query(
            "SELECT booked FROM type::record('slot', $id)",
            json!({ "id": slot }),
        )
        .await;
    assert_eq!(slot_row[0]["booked"], 2);
    assert_eq!(app.count("booking").await, 2);
}
