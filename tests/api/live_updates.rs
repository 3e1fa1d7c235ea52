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

/// Whether the stream ends (the server closes it) within `within`.
async fn ends_within(stream: &mut Response, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .is_ok()
}

/// G2: an account holds at most `EVENT_STREAMS_PER_USER` streams (429 with `Retry-After`
/// past it, and no live query made for the refused one); a closed stream gives its place back.
#[engine_test]
async fn an_account_holds_only_so_many_streams_and_gets_a_place_back_when_one_closes() {
    let app = spawn_with(Options {
        extra: vec![("EVENT_STREAMS_PER_USER", "3".into())],
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Many Tabs").await;
    app.caches_running().await;
    let own = live_queries(&app).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = app
            .get("/api/events/meeting-manager", Some(&spec.token))
            .await;
        assert_eq!(stream.status(), 200);
        next_event(&mut stream, "ready", Duration::from_secs(5)).await;
        open.push(stream);
    }
    let refused = app
        .get("/api/events/meeting-manager", Some(&spec.token))
        .await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("at most 3"),
        "{body}"
    );
    assert_eq!(live_queries(&app).await, own + 3);
    // Another account is not held back by this one.
    let other = app.user(Role::Specialist, "One Tab").await;
    let mut theirs = app
        .get("/api/events/meeting-manager", Some(&other.token))
        .await;
    next_event(&mut theirs, "ready", Duration::from_secs(5)).await;

    drop(open.pop());
    let started = std::time::Instant::now();
    loop {
        let mut again = app
            .get("/api/events/meeting-manager", Some(&spec.token))
            .await;
        if again.status() == 200 {
            next_event(&mut again, "ready", Duration::from_secs(5)).await;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// G2: a stream ends when its session does (logout) or its API token is revoked; it no
/// longer outlives what let it open.
#[engine_test]
async fn a_stream_ends_with_its_session_or_its_api_token() {
    let app = spawn_with(Options {
        extra: vec![("EVENT_STREAM_RECHECK_SECONDS", "1".into())],
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Leaving Spec").await;
    let mut stream = app
        .get("/api/events/meeting-manager", Some(&spec.token))
        .await;
    next_event(&mut stream, "ready", Duration::from_secs(5)).await;
    assert!(!ends_within(&mut stream, Duration::from_millis(1500)).await);

    let (status, body) = crate::helpers::json_body(
        app.post_json(
            "/api/tokens",
            Some(&spec.token),
            &serde_json::json!({ "name": "Feed", "scopes": ["read"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let api_token = body["data"]["token"].as_str().unwrap().to_string();
    let token_id = body["data"]["id"].as_str().unwrap().to_string();
    let mut by_token = app
        .get("/api/events/meeting-manager", Some(&api_token))
        .await;
    next_event(&mut by_token, "ready", Duration::from_secs(5)).await;

    let res = app
        .post_json(
            "/api/auth/logout",
            Some(&spec.token),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        ends_within(&mut stream, Duration::from_secs(4)).await,
        "the stream outlived its session"
    );

    let again = app.user(Role::Specialist, "Back Again").await;
    assert_eq!(
        app.delete(&format!("/api/tokens/{token_id}"), &again.token)
            .await
            .status(),
        404,
        "another account cannot revoke it"
    );
    // The token was made by a session since ended; it stands until revoked, as tokens do.
    assert!(!ends_within(&mut by_token, Duration::from_millis(1500)).await);
    let login = app.login(&spec.email, crate::helpers::PASSWORD).await;
    let owner = login.json::<serde_json::Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/tokens/{token_id}"), &owner)
            .await
            .status(),
        200
    );
    assert!(
        ends_within(&mut by_token, Duration::from_secs(4)).await,
        "the stream outlived its revoked API token"
    );
}

/// Pages opened and closed by many people at once: each registration of a live query may meet
/// another's (or a kill) in the engine's catalog; every page still gets its stream (a conflict
/// answered 500 in the fairness bench, once in a thousand).
#[engine_test(multi_thread = 2)]
async fn many_pages_opened_and_closed_at_once_all_get_their_stream() {
    let app = spawn_with(Options::default()).await;
    let mut specs = Vec::new();
    for i in 0..20 {
        specs.push(app.user(Role::Specialist, &format!("Crowd {i}")).await);
    }
    for round in 0..4 {
        let opened =
            futures::future::join_all(specs.iter().flat_map(|s| {
                (0..5).map(|_| app.get("/api/events/meeting-manager", Some(&s.token)))
            }))
            .await;
        let statuses: Vec<u16> = opened.iter().map(|r| r.status().as_u16()).collect();
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
        drop(opened);
        // Their places come back as the streams' tasks see them closed.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
