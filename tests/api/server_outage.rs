//! The app on a SurrealDB server that goes away: requests answer 503 at once, readiness fails,
//! and once the server is back the app reconnects by itself with nothing half-written.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options};
use crate::surreal_server::SurrealServer;

const UNAVAILABLE: &str = "The database is unavailable. Please try again shortly.";

#[engine_test]
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

    // The session cache watches again (its live queries went with the server): a session
    // cached now and then ended in the database is refused.
    app.caches_running().await;
    app.read_until_session_cached(&early.token).await;
    app.query(
        "DELETE session WHERE user = type::record('user', $u)",
        json!({ "u": early.id }),
    )
    .await;
    let status = app
        .status_becomes("/api/auth/me", &early.token, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A TCP proxy in front of a SurrealDB server that can hold the server's answers for a while
/// and then deliver them, late and in order: a database that commits but answers after the
/// app's query timeout.
struct HoldingProxy {
    port: u16,
    hold_until: std::sync::Arc<std::sync::Mutex<Instant>>,
}

impl HoldingProxy {
    async fn start(upstream: u16) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold_until = std::sync::Arc::new(std::sync::Mutex::new(Instant::now()));
        let hold = hold_until.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let hold = hold.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        loop {
                            let until = *hold.lock().unwrap();
                            if Instant::now() >= until {
                                break;
                            }
                            tokio::time::sleep(until - Instant::now()).await;
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self { port, hold_until }
    }

    /// Answers read from now on reach the app only after `d`.
    fn hold_for(&self, d: Duration) {
        *self.hold_until.lock().unwrap() = Instant::now() + d;
    }
}

/// Review finding F8: the save of a new meeting commits, but its answer comes after the query
/// timeout. The booking is read again before anything is deleted: it holds the meeting, so the
/// specialist gets it (200) and the meeting stays alive at Zoom.
#[engine_test]
async fn a_save_that_commits_but_answers_too_late_keeps_its_meeting() {
    let server = SurrealServer::shared();
    let proxy = HoldingProxy::start(server.port).await;
    let mut database = server.fresh_database();
    database.url = format!("ws://127.0.0.1:{}", proxy.port);
    let app = spawn_with(Options {
        zoom: true,
        database: Some(database),
        extra: vec![("DATABASE_TIMEOUT_MILLIS", "2000".into())],
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Fay").await;
    let cust = app.user(Role::Customer, "Gus").await;
    let slot = app.slot(&spec, 48, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CREATED);

    // Zoom answers 600 ms after the request; from the request on, the database's answers are
    // held for 3.3 s: the save is sent at about +0.6 s and times out at about +2.6 s; the read
    // that follows is answered at +3.3 s, well inside its own timeout.
    zoom.push_fault(crate::zoom_double::Fault::Slow(Duration::from_millis(600)));
    let (created, ()) = tokio::join!(app.create_zoom(&slot, "0", Some(&spec.token)), async {
        while zoom.create_requests().await.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        proxy.hold_for(Duration::from_millis(3300));
    });
    let (status, body) = json_body(created).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(zoom.deleted().is_empty(), "the meeting stays at Zoom");
    let stored = app
        .query(
            "SELECT VALUE zoom_meeting.zoomMeetingId FROM booking",
            json!({}),
        )
        .await;
    assert_eq!(
        stored,
        [body["data"]["zoomMeeting"]["zoomMeetingId"].clone()]
    );
}
