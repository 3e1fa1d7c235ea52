//! Two app instances on one SurrealDB server, as behind a load balancer: every guarantee that
//! holds for one instance holds for both together, because all state lives in the database.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, parse, spawn_with, to_address, Options, SmtpSink, TestApp};
use crate::idempotency::{post_with_key, replayed};
use crate::surreal_server::SurrealServer;
use crate::zoom_double::{Fault, ZoomDouble};

struct Pair {
    a: TestApp,
    b: TestApp,
    smtp: SmtpSink,
    zoom: ZoomDouble,
}

impl Pair {
    /// Instance `i % 2`: requests alternate between the two.
    fn either(&self, i: usize) -> &TestApp {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }
}

/// Two instances started at once on a fresh database of the shared server, with one SMTP
/// server and one Zoom double; `job_workers` runs both instances' job workers on their own.
async fn two_instances(job_workers: bool, extra: Vec<(&'static str, String)>) -> Pair {
    let database = SurrealServer::shared().fresh_database();
    let smtp = SmtpSink::start(Duration::ZERO).await;
    let zoom = ZoomDouble::start().await;
    let mut env = vec![("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port))];
    env.extend(zoom.env());
    if job_workers {
        env.push(("OUTBOX_POLL_MILLIS", "50".into()));
    }
    env.extend(extra);
    let options = || Options {
        database: Some(database.clone()),
        extra: env.clone(),
        ..Default::default()
    };
    let (a, b) = tokio::join!(spawn_with(options()), spawn_with(options()));
    Pair { a, b, smtp, zoom }
}

#[engine_test]
async fn two_instances_starting_at_once_on_an_empty_database_apply_each_migration_once() {
    let pair = two_instances(false, vec![]).await;
    let applied = pair
        .a
        .query(
            "SELECT VALUE version FROM schema_migration ORDER BY version",
            json!({}),
        )
        .await;
    let expected: Vec<Value> = (1..=specialistly::server::db::SCHEMA_VERSION)
        .map(|v| json!(v))
        .collect();
    assert_eq!(applied, expected);
    for app in [&pair.a, &pair.b] {
        let (status, body) = json_body(app.get("/readyz", None).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[engine_test]
async fn a_hundred_customers_booking_ten_seats_through_two_instances_never_overbook() {
    let pair = two_instances(false, vec![]).await;
    let spec = pair.a.user(Role::Specialist, "Sara").await;
    let slot = pair.a.slot(&spec, 48, 10).await;
    let customers = join_all((0..100).map(|i| pair.either(i).user(Role::Customer, "Carl"))).await;
    let answers = join_all(
        customers
            .iter()
            .enumerate()
            .map(|(i, c)| pair.either(i).book(&slot, c)),
    )
    .await;
    let mut statuses = Vec::new();
    for res in answers {
        let (status, body) = json_body(res).await;
        if status == StatusCode::CONFLICT {
            assert_eq!(body["message"], "This slot is fully booked");
        }
        statuses.push(status.as_u16());
    }
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
    assert_eq!(pair.b.count("booking").await, 10);
    let row = pair
        .b
        .query(
            "SELECT booked FROM type::record('slot', $id)",
            json!({ "id": slot }),
        )
        .await;
    assert_eq!(row[0]["booked"], 10);
}

#[engine_test]
async fn twenty_create_zoom_clicks_over_two_instances_make_one_meeting() {
    let pair = two_instances(false, vec![]).await;
    let spec = pair.a.user(Role::Specialist, "Sara").await;
    let cust = pair.a.user(Role::Customer, "Carl").await;
    let slot = pair.a.slot(&spec, 48, 2).await;
    assert_eq!(
        pair.b.book(&slot, &cust).await.status(),
        StatusCode::CREATED
    );
    pair.zoom
        .push_fault(Fault::Slow(Duration::from_millis(300)));
    let answers =
        join_all((0..20).map(|i| pair.either(i).create_zoom(&slot, "0", Some(&spec.token)))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(pair.zoom.create_requests().await.len(), 1);
    assert_eq!(pair.zoom.meetings().len(), 1);
}

#[engine_test]
async fn one_idempotency_key_sent_to_both_instances_at_once_books_once_and_creates_one_meeting() {
    let pair = two_instances(false, vec![]).await;
    let spec = pair.a.user(Role::Specialist, "Sara").await;
    let cust = pair.a.user(Role::Customer, "Carl").await;
    let slot = pair.a.slot(&spec, 48, 5).await;

    let book = format!("/api/consulting-slots/{slot}/book");
    let empty = json!({});
    let answers = join_all(
        (0..10).map(|i| post_with_key(pair.either(i), &book, &cust.token, "same-booking", &empty)),
    )
    .await;
    let mut firsts = Vec::new();
    for res in answers {
        let was_replayed = replayed(&res);
        let (status, body) = json_body(res).await;
        match (status.as_u16(), was_replayed) {
            (201, false) => firsts.push(body),
            (201, true) => {}
            (409, false) => assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("still being processed"),
                "{body}"
            ),
            other => panic!("{other:?}: {body}"),
        }
    }
    assert_eq!(firsts.len(), 1, "exactly one request ran");
    let rows = pair.a.query("SELECT booked FROM slot", json!({})).await;
    assert_eq!(rows[0]["booked"], 1);
    assert_eq!(pair.a.count("booking").await, 1);

    pair.zoom
        .push_fault(Fault::Slow(Duration::from_millis(300)));
    let create = format!("/api/consulting-slots/{slot}/booking/0/create-zoom");
    let answers = join_all(
        (0..10)
            .map(|i| post_with_key(pair.either(i), &create, &spec.token, "same-meeting", &empty)),
    )
    .await;
    let ran = answers
        .iter()
        .filter(|r| r.status() == StatusCode::OK && !replayed(r))
        .count();
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(ran, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(pair.zoom.create_requests().await.len(), 1);
    // Once answered, every instance replays it.
    for app in [&pair.a, &pair.b] {
        let res = post_with_key(app, &create, &spec.token, "same-meeting", &json!({})).await;
        assert!(replayed(&res));
        assert_eq!(res.status(), StatusCode::OK);
    }
}

/// Waits until no job is due or running (at most a minute); reminders wait for their time.
async fn wait_for_idle_queue(app: &TestApp) {
    let started = Instant::now();
    loop {
        let open = app
            .query(
                "SELECT VALUE count() FROM job WHERE status = 'running' OR (status = 'pending' AND run_at <= time::now()) GROUP ALL",
                json!({}),
            )
            .await;
        if open.first().and_then(Value::as_u64).unwrap_or(0) == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "jobs still open: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for the queue to go idle, and half a second more (anything run twice would show right
/// after); no job may have failed.
async fn settle_without_failed_jobs(app: &TestApp) {
    wait_for_idle_queue(app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let failed = app
        .query(
            "SELECT kind, last_error FROM job WHERE status = 'failed'",
            json!({}),
        )
        .await;
    assert!(failed.is_empty(), "{failed:?}");
}

#[engine_test]
async fn both_job_workers_deliver_every_email_and_run_every_zoom_job_exactly_once() {
    let pair = two_instances(true, vec![]).await;
    let spec = pair.a.user(Role::Specialist, "Sara").await;
    let mut booked = Vec::new();
    for s in 0..5 {
        let slot = pair.either(s).slot(&spec, 48 + s as i64, 2).await;
        for c in 0..2 {
            let cust = pair.either(c).user(Role::Customer, "Carl").await;
            assert_eq!(pair.either(s + c).book(&slot, &cust).await.status(), 201);
            let res = pair
                .either(s + c + 1)
                .create_zoom(&slot, &c.to_string(), Some(&spec.token))
                .await;
            assert_eq!(res.status(), 200);
            booked.push((slot.clone(), c, cust));
        }
    }
    // Every second booking is cancelled: its meeting must be deleted at Zoom, once.
    for (i, (slot, index, cust)) in booked.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let res = pair
            .either(i)
            .post_json(
                &format!("/api/consulting-slots/{slot}/booking/{index}/cancel"),
                Some(&cust.token),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    settle_without_failed_jobs(&pair.a).await;
    let mut queued: Vec<(String, String)> = pair
        .a
        .query(
            "SELECT VALUE [payload.to, payload.subject] FROM job WHERE kind = 'email' AND status = 'done'",
            json!({}),
        )
        .await
        .into_iter()
        .map(|v| (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string()))
        .collect();
    let mut delivered: Vec<(String, String)> = pair
        .smtp
        .messages()
        .iter()
        .map(|raw| {
            let m = parse(raw);
            (to_address(&m), m.subject().unwrap_or_default().to_string())
        })
        .collect();
    queued.sort();
    delivered.sort();
    // 10 bookings × 2 confirmations, 10 meeting emails, 5 cancellations × 2 notices.
    assert_eq!(queued.len(), 40, "{queued:?}");
    assert_eq!(delivered, queued, "every email delivered exactly once");

    let deletions = pair.zoom.delete_requests().await;
    assert_eq!(deletions.len(), 5, "one DELETE per cancelled meeting");
    let mut deleted = pair.zoom.deleted();
    deleted.sort();
    deleted.dedup();
    assert_eq!(deleted.len(), 5, "five different meetings");
}

#[engine_test]
async fn a_session_started_on_one_instance_is_valid_on_the_other_until_a_logout_on_either() {
    let pair = two_instances(false, vec![]).await;
    let user = pair.a.user(Role::Customer, "Lou").await;
    let (status, body) = json_body(pair.a.login(&user.email, crate::helpers::PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_string();
    let (status, me) = json_body(pair.b.get("/api/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["email"], user.email.as_str());

    let res = pair
        .b
        .post_json("/api/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for app in [&pair.a, &pair.b] {
        let res = app.get("/api/auth/me", Some(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The other session of the same user (opened by the test helper) is untouched.
    let res = pair.a.get("/api/auth/me", Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Each instance caches the sessions it has read; the other instance's write reaches that cache
/// through the SurrealDB server's live query: a session ended there (the operator's command run
/// against it, as through instance B here) is refused by instance A too.
#[engine_test]
async fn a_session_cached_on_one_instance_is_refused_there_once_the_other_ends_it() {
    let pair = two_instances(false, vec![]).await;
    pair.a.caches_running().await;
    let user = pair.a.user(Role::Customer, "Ivy").await;
    let other = pair.a.user(Role::Customer, "Ian").await;
    for token in [&user.token, &other.token] {
        pair.a.read_until_session_cached(token).await;
    }
    specialistly::server::admin::revoke_sessions(&pair.b.state.db, &user.email)
        .await
        .unwrap();
    let status = pair
        .a
        .status_becomes("/api/auth/me", &user.token, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = pair.a.get("/api/auth/me", Some(&other.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A page cached by one instance is read again there as soon as the other changes it: the
/// change reaches the cache through the SurrealDB server's live query, well within the
/// second a page is kept.
#[engine_test]
async fn a_page_cached_on_one_instance_shows_a_booking_made_through_the_other() {
    let pair = two_instances(false, vec![]).await;
    pair.a.caches_running().await;
    let spec = pair.a.user(Role::Specialist, "Pam").await;
    let cust = pair.a.user(Role::Customer, "Cy").await;
    let slot = pair.a.slot(&spec, 48, 3).await;
    let seats = |body: &Value| {
        let slots = body["data"]["slots"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        slots
            .iter()
            .find(|s| s["id"] == slot.as_str())
            .map(|s| s["booked"].clone())
    };
    let (_, page) = json_body(pair.a.get("/api/consulting-slots", None).await).await;
    assert_eq!(seats(&page), Some(json!(0)));
    crate::page_cache::read_until_kept(&pair.a, &[("/api/consulting-slots", None)]).await;

    assert_eq!(
        pair.b.book(&slot, &cust).await.status(),
        StatusCode::CREATED
    );
    let deadline = Instant::now() + Duration::from_millis(400);
    let seen = loop {
        let (_, page) = json_body(pair.a.get("/api/consulting-slots", None).await).await;
        if seats(&page) == Some(json!(1)) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(seen, "instance A still showed the slot unbooked");
}

#[engine_test]
async fn the_login_rate_limit_counts_attempts_on_both_instances() {
    let pair = two_instances(false, vec![("LOGIN_MAX_FAILURES", "4".into())]).await;
    let user = pair.a.user(Role::Customer, "Sol").await;
    for i in 0..4 {
        let res = pair.either(i).login(&user.email, "wrong-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Four failures spread over both: each instance refuses, even the right password.
    for app in [&pair.a, &pair.b] {
        let res = app.login(&user.email, crate::helpers::PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[engine_test]
async fn reminders_fire_once_with_two_instances_running_their_workers() {
    let pair = two_instances(
        true,
        vec![
            ("REMINDER_CUSTOMER_OFFSETS", "6s".into()),
            ("REMINDER_SPECIALIST_OFFSET", "6s".into()),
        ],
    )
    .await;
    let spec = pair.a.user(Role::Specialist, "Dr Once").await;
    let cust = pair.b.user(Role::Customer, "Mo").await;
    let slot = pair.a.slot(&spec, 48, 2).await;
    pair.a
        .query(
            "UPDATE type::record('slot', $s) SET starts_at = time::now() + 8s",
            json!({ "s": slot }),
        )
        .await;
    assert_eq!(pair.b.book(&slot, &cust).await.status(), 201);
    let reminders = || -> Vec<String> {
        pair.smtp
            .messages()
            .iter()
            .map(|raw| parse(raw))
            .filter(|m| m.subject().unwrap_or_default().contains("Reminder:"))
            .map(|m| to_address(&m))
            .collect()
    };
    let started = Instant::now();
    while reminders().len() < 2 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut sent = reminders();
    sent.sort();
    let mut expected = vec![cust.email.clone(), spec.email.clone()];
    expected.sort();
    assert_eq!(sent, expected, "one reminder each");
}

#[engine_test]
async fn the_same_zoom_delivery_to_both_instances_at_once_is_stored_and_applied_once() {
    use crate::zoom_events::{deliver_raw, zoom_signature, SECRET};
    let pair = two_instances(
        false,
        vec![("ZOOM_WEBHOOK_SECRET_TOKEN", SECRET.to_string())],
    )
    .await;
    let spec = pair.a.user(Role::Specialist, "Dr Twice").await;
    let cust = pair.a.user(Role::Customer, "Tw").await;
    let slot = pair.a.slot(&spec, 48, 2).await;
    assert_eq!(pair.a.book(&slot, &cust).await.status(), 201);
    let (status, created) =
        json_body(pair.b.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{created}");
    let meeting = created["data"]["zoomMeeting"]["zoomMeetingId"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let body = serde_json::to_vec(&json!({
        "event": "meeting.deleted", "event_ts": 1_800_000_000_000i64,
        "payload": { "account_id": "acct-123", "object": { "id": meeting, "host_id": "host-1" } }
    }))
    .unwrap();
    let ts = chrono::Utc::now().timestamp();
    let sig = zoom_signature(SECRET, ts, &body);
    // Zoom retrying while the first delivery is still being answered: ten at once, both
    // instances.
    let answers =
        join_all((0..10).map(|i| deliver_raw(pair.either(i), &body, Some(ts), Some(sig.clone()))))
            .await;
    assert!(answers.iter().all(|r| r.status() == 200));
    assert_eq!(pair.a.count("zoom_event").await, 1);
    let jobs = pair
        .a
        .query(
            "SELECT VALUE key FROM job WHERE kind = 'zoom_event'",
            json!({}),
        )
        .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    pair.a.drain_jobs().await;
    pair.b.drain_jobs().await;
    let deleted_emails = pair
        .a
        .query(
            "SELECT VALUE key FROM job WHERE kind = 'email' AND key CONTAINS 'zoom-deleted'",
            json!({}),
        )
        .await;
    assert_eq!(deleted_emails.len(), 1);
}

#[engine_test]
async fn a_page_open_on_one_instance_hears_a_meeting_created_through_the_other() {
    let pair = two_instances(false, vec![]).await;
    let spec = pair.a.user(Role::Specialist, "Dr Live").await;
    let cust = pair.a.user(Role::Customer, "Li").await;
    let slot = pair.a.slot(&spec, 48, 2).await;
    assert_eq!(pair.a.book(&slot, &cust).await.status(), 201);
    let mut page = pair
        .a
        .get(
            &format!("/api/events/appointments/{slot}/0"),
            Some(&cust.token),
        )
        .await;
    assert_eq!(page.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: ready\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), page.chunk())
            .await
            .expect("the ready event")
            .unwrap()
            .expect("an open stream");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let created = pair.b.create_zoom(&slot, "0", Some(&spec.token)).await;
    assert_eq!(created.status(), 200);
    let changed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let chunk = page.chunk().await.unwrap().expect("an open stream");
            if String::from_utf8_lossy(&chunk).contains("event: changed\n") {
                return;
            }
        }
    })
    .await;
    assert!(changed.is_ok(), "no change heard within 2 s");
}

#[engine_test]
async fn unconfirmed_guest_holds_are_released_once_by_two_instances_racing_to_release_them() {
    let pair = two_instances(true, vec![("GUEST_HOLD_SECONDS", "2".into())]).await;
    let spec = pair.a.user(Role::Specialist, "Sara").await;
    let slot = pair.a.slot(&spec, 48, 6).await;
    let guests: Vec<String> = (0..6).map(|g| format!("guest{g}@example.com")).collect();
    for (g, email) in guests.iter().enumerate() {
        let res = pair
            .either(g)
            .post_json(
                &format!("/api/consulting-slots/{slot}/guest-bookings"),
                None,
                &json!({ "name": "Gus Guest", "email": email }),
            )
            .await;
        assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    }
    // A second release of each hold, due at the same moment: the instances' workers run the
    // two of every pair at once, and each booking must still be released once.
    pair.a
        .query(
            "FOR $j IN (SELECT * FROM job WHERE kind = 'guest_hold_release') {
                CREATE job CONTENT { kind: $j.kind, key: string::concat($j.key, ':again'),
                    payload: $j.payload, status: 'pending', attempts: 0, run_at: $j.run_at };
            };",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    settle_without_failed_jobs(&pair.a).await;
    let statuses = pair
        .a
        .query(
            "SELECT VALUE [status, cancelled_by] FROM booking WHERE slot = type::record('slot', $slot)",
            json!({ "slot": slot }),
        )
        .await;
    assert_eq!(statuses.len(), 6);
    assert!(
        statuses
            .iter()
            .all(|s| s == &json!(["cancelled", "system"])),
        "{statuses:?}"
    );
    let booked = pair
        .a
        .query(
            "SELECT VALUE booked FROM type::record('slot', $slot)",
            json!({ "slot": slot }),
        )
        .await;
    assert_eq!(booked, vec![json!(0)], "every seat freed once");
    for email in &guests {
        let subjects: Vec<String> = pair
            .smtp
            .messages()
            .iter()
            .map(|raw| parse(raw))
            .filter(|m| &to_address(m) == email)
            .map(|m| m.subject().unwrap_or_default().to_string())
            .collect();
        assert_eq!(subjects.len(), 2, "{email}: {subjects:?}");
        assert!(subjects[0].starts_with("⏳ Confirm your booking"));
        assert!(subjects[1].starts_with("⌛ Seat released"), "{subjects:?}");
    }
}
