//! The job queue: the migration from the email outbox, and the operator's commands.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use specialistly::server::admin;
use specialistly::server::app_state::AppState;
use specialistly::server::auth::JwtKeys;
use specialistly::server::config::Config;
use specialistly::server::db::{self, run};
use specialistly::server::jobs::worker::JobWorker;
use specialistly::server::jobs::{JobKind, JobStatus, NewJob};
use specialistly::server::mail::transport::MailTransport;
use specialistly::server::password::HashPool;
use specialistly::server::repo::jobs as queue;
use specialistly::server::zoom::Zoom;

use crate::helpers::{parse, spawn_with, to_address, Options, SmtpSink};

fn config(vars: &[(&str, String)]) -> Config {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

#[engine_test]
async fn every_queued_email_moves_into_the_job_queue_and_is_delivered() {
    let smtp = SmtpSink::start(Duration::ZERO).await;
    let config = config(&[
        ("DATABASE_URL", "mem://".into()),
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
    ]);
    let db = db::connect(&config.database).await.unwrap();
    db::migrate_to(&db, 7).await.unwrap();
    // The outbox as an older version left it: one row in each state.
    for (n, status) in ["pending", "sending", "sent", "failed"].iter().enumerate() {
        run(
            &db,
            "CREATE email_outbox CONTENT {
                idempotency_key: $key, recipient: $to, subject: 'Old', text: 'Hello', html: '<p>Hello</p>',
                attachments: [], status: $status, attempts: 1, next_attempt_at: time::now() - 1m,
                lease_until: IF $status = 'sending' THEN time::now() + 1h ELSE NONE END,
                sent_at: IF $status = 'sent' THEN time::now() ELSE NONE END,
                last_error: IF $status = 'failed' THEN 'SMTP: refused' ELSE NONE END
            };",
            json!({ "key": format!("old-{n}"), "to": format!("old{n}@example.com"), "status": status }),
        )
        .await
        .unwrap();
    }
    assert_eq!(db::migrate(&db).await.unwrap(), db::SCHEMA_VERSION);

    let rows = queue::list(&db, false).await.unwrap();
    let states: Vec<(String, JobStatus)> = rows.iter().map(|r| (r.key.clone(), r.status)).collect();
    assert_eq!(
        states,
        vec![
            ("old-0".into(), JobStatus::Pending),
            ("old-1".into(), JobStatus::Pending),
            ("old-2".into(), JobStatus::Done),
            ("old-3".into(), JobStatus::Failed),
        ]
    );
    assert!(rows.iter().all(|r| r.kind == JobKind::Email));
    assert_eq!(rows[3].last_error.as_deref(), Some("SMTP: refused"));
    let leftover = run(&db, "SELECT * FROM email_outbox", json!({})).await;
    assert!(leftover
        .map(|mut r| r.all::<serde_json::Value>(0).unwrap().is_empty())
        .unwrap_or(true));

    let state = AppState {
        leptos_options: leptos::config::LeptosOptions::builder()
            .output_name("specialistly")
            .build(),
        db: db.clone(),
        zoom: Arc::new(Zoom::from_config(&config.zoom, "http://127.0.0.1", false)),
        jwt: Arc::new(JwtKeys::from_secret(b"jobs-test-secret-jobs-test-secret")),
        passwords: HashPool::new(1, 1),
        config: Arc::new(config.clone()),
        session_cache: Default::default(),
        read_cache: Default::default(),
        booking_queue: Default::default(),
        webhook_client: reqwest::Client::new(),
        stopping: Default::default(),
        open_streams: Arc::new(specialistly::server::open_streams::OpenStreams::new(5, 100)),
        recordings: Arc::new(
            specialistly::server::recording_store::RecordingStore::from_config(&config.recordings)
                .unwrap(),
        ),
    };
    let worker = JobWorker::new(
        state,
        MailTransport::from_config(&config.mail).unwrap(),
        "Specialistly <no-reply@localhost>".parse().unwrap(),
        120,
    );
    assert_eq!(worker.run_once().await.unwrap(), 2);
    let received = smtp.wait_for(2).await;
    let mut to: Vec<String> = received.iter().map(|r| to_address(&parse(r))).collect();
    to.sort();
    assert_eq!(to, ["old0@example.com", "old1@example.com"]);
}

#[engine_test]
async fn an_operator_lists_failed_jobs_and_retries_one() {
    let app = spawn_with(Options::default()).await;
    queue::queue(
        &app.state.db,
        &[
            NewJob::zoom_delete("123", "b1"),
            NewJob::zoom_delete("456", "b2"),
        ],
    )
    .await
    .unwrap();
    app.query(
        "UPDATE job SET status = 'failed', attempts = 8, last_error = 'Zoom API error 500' WHERE key = 'zoom-delete:123'",
        json!({}),
    )
    .await;
    let failed = admin::list_jobs(&app.state.db, true).await.unwrap();
    assert!(
        failed.contains("zoom-delete:123") && failed.contains("Zoom API error 500"),
        "{failed}"
    );
    assert!(!failed.contains("zoom-delete:456"));
    let id = queue::list(&app.state.db, true).await.unwrap()[0]
        .id
        .clone();
    let done = admin::retry_job(&app.state.db, &id).await.unwrap();
    assert!(done.contains("queued again"));
    assert!(
        admin::retry_job(&app.state.db, &id).await.is_err(),
        "only a failed job can be retried"
    );
    assert!(admin::retry_job(&app.state.db, "nope").await.is_err());
    // The simulated provider deletes without fuss: both jobs run now.
    assert_eq!(app.drain_jobs().await, 2);
    assert!(queue::list(&app.state.db, false)
        .await
        .unwrap()
        .iter()
        .all(|r| r.status == JobStatus::Done));
}

#[engine_test]
async fn jobs_pending_at_a_restart_run_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("surrealkv://{}", dir.path().join("db").display());
    {
        let mut first = spawn_with(Options {
            extra: vec![("DATABASE_URL", db_url.clone())],
            ..Default::default()
        })
        .await;
        queue::queue(
            &first.state.db,
            &[NewJob::zoom_delete("85012345679", "gone-booking")],
        )
        .await
        .unwrap();
        first.shut_down().await;
    }
    // Give the store a moment to close before the next process opens it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = spawn_with(Options {
        zoom: true,
        extra: vec![("DATABASE_URL", db_url)],
        ..Default::default()
    })
    .await;
    let zoom = second.zoom.as_ref().unwrap();
    // The double answers "does not exist" for a meeting it never made: done all the same.
    second.drain_jobs().await;
    let deletes = zoom.delete_requests().await;
    assert_eq!(deletes.len(), 1);
    assert!(deletes[0].url.path().ends_with("/meetings/85012345679"));
    let rows = queue::list(&second.state.db, false).await.unwrap();
    assert_eq!(rows[0].status, JobStatus::Done);
}

#[engine_test]
async fn jobs_wait_for_their_time_and_a_pending_one_can_be_cancelled_by_key() {
    let app = spawn_with(Options::default()).await;
    let mut later = NewJob::zoom_delete("1", "b1");
    later.delay_seconds = 2;
    let cancelled = NewJob::zoom_delete("2", "b2");
    queue::queue(&app.state.db, &[later, cancelled.clone()])
        .await
        .unwrap();
    queue::cancel(&app.state.db, std::slice::from_ref(&cancelled.key))
        .await
        .unwrap();
    assert_eq!(
        app.drain_jobs().await,
        0,
        "one is not due yet, the other is cancelled"
    );
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(app.drain_jobs().await, 1);
    let rows = queue::list(&app.state.db, false).await.unwrap();
    let status = |key: &str| rows.iter().find(|r| r.key == key).unwrap().status;
    assert_eq!(status("zoom-delete:1"), JobStatus::Done);
    assert_eq!(status("zoom-delete:2"), JobStatus::Cancelled);
}

/// The periodic clean-up deletes what is past its retention (finished jobs after 7 days,
/// failed ones after 30, expired sessions, counters and idempotency keys, confirmation links 2
/// days after they expired, webhook deliveries no longer pending after 30 days, Zoom's event
/// bodies after 7 days unless still to be applied) and keeps
/// everything else.
#[engine_test]
async fn the_clean_up_deletes_only_what_is_past_its_retention() {
    use specialistly::model::Role;
    use specialistly::server::jobs::cleanup;
    let app = spawn_with(Options::default()).await;
    let job = |key: &str, status: &str, age_days: i64| {
        let sql = "CREATE type::record('job', $key) SET kind = 'zoom_delete', key = $key,
            payload = {}, status = $status, attempts = 1,
            run_at = time::now() - type::duration($age), done_at = IF $status IN ['done', 'cancelled'] THEN time::now() - type::duration($age) END";
        (
            sql,
            json!({ "key": key, "status": status, "age": format!("{age_days}d") }),
        )
    };
    for (key, status, age) in [
        ("old-done", "done", 8),
        ("old-cancelled", "cancelled", 8),
        ("recent-done", "done", 6),
        ("old-failed", "failed", 31),
        ("recent-failed", "failed", 29),
        ("old-pending", "pending", 40),
    ] {
        let (sql, vars) = job(key, status, age);
        app.query(sql, vars).await;
    }
    let kept = app.user(Role::Customer, "Kept").await;
    let expired = app.user(Role::Customer, "Gone").await;
    app.query(
        "UPDATE session SET expires_at = time::now() - 1s WHERE user = type::record('user', $u)",
        json!({ "u": expired.id }),
    )
    .await;
    app.query(
        "CREATE email_verification:old SET user = type::record('user', $u), expires_at = time::now() - 3d;
         CREATE email_verification:fresh SET user = type::record('user', $u), expires_at = time::now() - 1d;
         CREATE password_reset:old SET user = type::record('user', $u), expires_at = time::now() - 3d;
         CREATE password_reset:fresh SET user = type::record('user', $u), expires_at = time::now() - 1d;
         CREATE rate_counter:old SET hits = 3, window_end = time::now() - 1s;
         CREATE rate_counter:live SET hits = 3, window_end = time::now() + 1h;
         CREATE idempotency_key:old SET user = type::record('user', $u), fingerprint = 'f',
            locked_until = time::now() - 25h, expires_at = time::now() - 1h, status = 201, body = '{}';
         CREATE idempotency_key:live SET user = type::record('user', $u), fingerprint = 'f',
            locked_until = time::now(), expires_at = time::now() + 1h;
         CREATE webhook_endpoint:e SET user = type::record('user', $u), url = 'https://x.test/',
            events = ['booking.created'], secret = 'whsec_x';
         CREATE webhook_delivery:old SET endpoint = webhook_endpoint:e, user = type::record('user', $u),
            event_type = 'booking.created', message_id = 'msg_1', body = '{}', status = 'delivered',
            created_at = time::now() - 31d;
         CREATE webhook_delivery:old_pending SET endpoint = webhook_endpoint:e,
            user = type::record('user', $u), event_type = 'booking.created', message_id = 'msg_2',
            body = '{}', status = 'pending', created_at = time::now() - 31d;
         CREATE webhook_delivery:recent SET endpoint = webhook_endpoint:e, user = type::record('user', $u),
            event_type = 'booking.created', message_id = 'msg_3', body = '{}', status = 'failed',
            created_at = time::now() - 29d;
         CREATE zoom_event:old SET event = 'meeting.ended', business_key = 'a', body = '{}',
            received_at = time::now() - 8d;
         CREATE zoom_event:old_unapplied SET event = 'meeting.ended', business_key = 'b', body = '{}',
            received_at = time::now() - 8d;
         CREATE job:zoom_event_unapplied SET kind = 'zoom_event', key = 'zoom-event:old_unapplied',
            payload = { event_id: 'old_unapplied' }, status = 'pending', run_at = time::now() + 1h;
         CREATE zoom_event:recent SET event = 'meeting.ended', business_key = 'c', body = '{}',
            received_at = time::now() - 6d;",
        json!({ "u": kept.id }),
    )
    .await;

    let deleted = cleanup::run_once(&app.state.db, &app.state.config.retention)
        .await
        .unwrap();
    assert_eq!(
        (
            deleted.jobs,
            deleted.sessions,
            deleted.verifications,
            deleted.counters,
            deleted.idempotency_keys,
            deleted.webhook_deliveries,
            deleted.zoom_events,
        ),
        (3, 1, 2, 1, 1, 1, 1)
    );
    assert_eq!(
        app.query("SELECT VALUE record::id(id) FROM password_reset", json!({}))
            .await,
        [json!("fresh")]
    );
    let mut events = app
        .query("SELECT VALUE record::id(id) FROM zoom_event", json!({}))
        .await;
    events.sort_by_key(|v| v.to_string());
    assert_eq!(events, [json!("old_unapplied"), json!("recent")]);
    let mut deliveries = app
        .query(
            "SELECT VALUE record::id(id) FROM webhook_delivery",
            json!({}),
        )
        .await;
    deliveries.sort_by_key(|v| v.to_string());
    assert_eq!(deliveries, [json!("old_pending"), json!("recent")]);
    assert_eq!(
        app.query(
            "SELECT VALUE record::id(id) FROM idempotency_key",
            json!({})
        )
        .await,
        vec![json!("live")]
    );
    let mut jobs: Vec<String> = app
        .query("SELECT VALUE record::id(id) FROM job", json!({}))
        .await
        .into_iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    jobs.sort();
    assert_eq!(
        jobs,
        [
            "old-pending",
            "recent-done",
            "recent-failed",
            "zoom_event_unapplied"
        ]
    );
    assert_eq!(
        app.query(
            "SELECT VALUE record::id(id) FROM email_verification",
            json!({})
        )
        .await,
        vec![json!("fresh")]
    );
    assert_eq!(
        app.query("SELECT VALUE record::id(id) FROM rate_counter", json!({}))
            .await,
        vec![json!("live")]
    );
    let (status, _) =
        crate::helpers::json_body(app.get("/api/auth/me", Some(&kept.token)).await).await;
    assert_eq!(status, 200, "a live session stays");
    assert_eq!(
        cleanup::run_once(&app.state.db, &app.state.config.retention)
            .await
            .unwrap()
            .total(),
        0
    );
}

/// A database from before migration 14 (which computed `bookable` and `listed` and then
/// defined their indexes, missing the rows it had just updated) lists its slots once upgraded.
#[engine_test]
async fn slots_made_before_the_bookable_index_are_listed_after_an_upgrade() {
    let config = config(&[("DATABASE_URL", "mem://".into())]);
    let db = db::connect(&config.database).await.unwrap();
    db::migrate_to(&db, 13).await.unwrap();
    run(
        &db,
        "CREATE slot:old SET specialist = user:x, title = 'Old', date = '2030-01-01',
            start_time = '10:00', timezone = 'UTC', starts_at = d'2030-01-01T10:00:00Z',
            duration = 30, capacity = 2, booked = 0, next_index = 0;",
        json!({}),
    )
    .await
    .unwrap();
    db::migrate(&db).await.unwrap();
    for sql in [
        "SELECT VALUE record::id(id) FROM slot WHERE bookable = true AND starts_at > time::now()",
        "SELECT VALUE record::id(id) FROM slot WHERE listed = true AND starts_at > time::now()",
    ] {
        let found = run(&db, sql, json!({}))
            .await
            .unwrap()
            .all::<String>(0)
            .unwrap();
        assert_eq!(found, ["old"], "{sql}");
    }
}
