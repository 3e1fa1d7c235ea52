//! Reminders with offsets of seconds, so they come due inside a test.

use std::time::Duration;

use mail_parser::Message;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, parse, spawn_with, to_address, Options, TestApp, TestUser};

async fn app() -> TestApp {
    spawn_with(Options {
        smtp: true,
        extra: vec![
            ("REMINDER_CUSTOMER_OFFSETS", "12s,4s".into()),
            ("REMINDER_SPECIALIST_OFFSET", "8s".into()),
        ],
        ..Default::default()
    })
    .await
}

/// A slot that starts fourteen seconds from now, booked by `customer`.
async fn booked_soon(app: &TestApp, spec: &TestUser, customer: &TestUser) -> String {
    let slot = app.slot(spec, 48, 3).await;
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() + 14s",
        json!({ "s": slot }),
    )
    .await;
    assert_eq!(app.book(&slot, customer).await.status(), 201);
    slot
}

fn subject(m: &Message) -> String {
    m.subject().unwrap_or_default().to_string()
}

async fn reminders_received(app: &TestApp) -> Vec<Vec<u8>> {
    app.smtp
        .as_ref()
        .unwrap()
        .messages()
        .into_iter()
        .filter(|raw| subject(&parse(raw)).contains("Reminder:"))
        .collect()
}

/// Runs the worker until `count` reminders arrived, for `seconds` at most.
async fn run_until(app: &TestApp, count: usize, seconds: u64) {
    let end = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < end && reminders_received(app).await.len() < count {
        app.drain_jobs().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Anything sent twice would show up right after.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Runs the worker until `seconds` have passed.
async fn run_for(app: &TestApp, seconds: u64) {
    let end = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < end {
        app.drain_jobs().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[engine_test]
async fn customers_and_specialists_are_reminded_with_what_is_true_when_the_reminder_leaves() {
    let app = app().await;
    let spec = app.user(Role::Specialist, "Dr Remind").await;
    let cust = app
        .user_in_zone(Role::Customer, "Rita", "America/New_York")
        .await;
    let slot = booked_soon(&app, &spec, &cust).await;
    // 8 s before: no meeting yet. 6 s before: the specialist hears of the booking without one.
    // Due 2 s (customer) and 6 s (specialist) after the slot was set; the second customer
    // reminder only at 10 s, so a slow machine still sees exactly these two first.
    run_until(&app, 2, 9).await;
    let first = reminders_received(&app).await;
    assert_eq!(first.len(), 2, "the customer's first and the specialist's");
    let to_customer = first
        .iter()
        .map(|r| parse(r))
        .find(|m| to_address(m) == cust.email)
        .unwrap();
    assert!(subject(&to_customer)
        .starts_with("⏰ Reminder: Consulting Session with Dr Remind in 12 seconds"));
    let text = to_customer.body_text(0).unwrap().to_string();
    assert!(text.contains("(America/New_York)"), "{text}");
    assert!(text.contains("Your specialist is preparing the link; you will get it by email."));
    // The seat's own page, which works without signing in.
    assert!(text.contains("http://127.0.0.1:3000/manage/"), "{text}");
    let raw = first
        .iter()
        .find(|r| to_address(&parse(r)) == cust.email)
        .map(|r| String::from_utf8_lossy(r).to_string())
        .unwrap();
    assert!(
        raw.contains("List-Unsubscribe: <http://127.0.0.1:3000/unsubscribe?token="),
        "{raw}"
    );
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let to_spec = first
        .iter()
        .map(|r| parse(r))
        .find(|m| to_address(m) == spec.email)
        .unwrap();
    assert!(subject(&to_spec).contains("1 booking of"));
    assert!(to_spec.body_text(0).unwrap().contains("Rita"));

    // The meeting exists by the second reminder, which carries it.
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    run_until(&app, 3, 12).await;
    let all = reminders_received(&app).await;
    assert_eq!(all.len(), 3, "each reminder once");
    let second = all
        .iter()
        .map(|r| parse(r))
        .find(|m| subject(m).contains("in 4 seconds"))
        .expect("the second reminder");
    let text = second.body_text(0).unwrap().to_string();
    assert!(
        text.contains("/dev/zoom/sim-") && text.contains("Password: "),
        "{text}"
    );
}

#[engine_test]
async fn no_reminder_after_a_cancellation_or_for_someone_who_unsubscribed() {
    let app = app().await;
    let spec = app.user(Role::Specialist, "Dr Quiet").await;
    let cancels = app.user(Role::Customer, "Cal").await;
    let opted_out = app.user(Role::Customer, "Opal").await;
    let slot = booked_soon(&app, &spec, &cancels).await;
    assert_eq!(app.book(&slot, &opted_out).await.status(), 201);
    let (status, _) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&cancels.token),
            &json!({}),
        )
        .await,
    )
    .await;
    // Past the customer cutoff the specialist cancels instead.
    if status != 200 {
        let (status, _) = json_body(
            app.post_json(
                &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
                Some(&spec.token),
                &json!({ "reason": "r" }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
    }
    let token = app
        .query(
            "SELECT VALUE unsubscribe_token FROM type::record('user', $u)",
            json!({ "u": opted_out.id }),
        )
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    // Opening the link (a mail scanner does) shows a button and changes nothing.
    let page = app.get(&format!("/unsubscribe?token={token}"), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Stop reminder emails"), "{html}");
    assert!(html.contains("action=\"/api/unsubscribe\""), "{html}");
    let enabled = app
        .query(
            "SELECT VALUE reminders_enabled FROM type::record('user', $u)",
            json!({ "u": opted_out.id }),
        )
        .await;
    assert_eq!(enabled, vec![json!(true)]);
    let res = app
        .client
        .post(app.url(&format!("/unsubscribe?token={token}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url("/unsubscribe?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    run_for(&app, 7).await;
    let to_customers: Vec<String> = reminders_received(&app)
        .await
        .iter()
        .map(|r| to_address(&parse(r)))
        .filter(|to| *to != spec.email)
        .collect();
    assert!(to_customers.is_empty(), "{to_customers:?}");
    let cancelled = app
        .query("SELECT VALUE status FROM job WHERE kind = 'reminder' AND string::contains(key, 'customer') AND payload.booking_id = (SELECT VALUE record::id(id) FROM booking WHERE index = 0)[0]", json!({}))
        .await;
    assert!(cancelled.iter().all(|s| s == "cancelled"), "{cancelled:?}");
}

#[engine_test]
async fn after_a_slot_move_the_reminder_shows_the_new_time_and_two_workers_send_it_once() {
    let app = spawn_with(Options {
        smtp: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Dr Move").await;
    let cust = app.user_in_zone(Role::Customer, "Mo", "UTC").await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    let new_start = chrono::Utc::now() + chrono::Duration::days(5);
    let res = app
        .patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "date": new_start.format("%Y-%m-%d").to_string(), "startTime": "16:45", "timezone": "UTC" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let old = app
        .query("SELECT VALUE status FROM job WHERE kind = 'reminder' AND string::ends_with(key, ':v0')", json!({}))
        .await;
    assert!(
        !old.is_empty() && old.iter().all(|s| s == "cancelled"),
        "{old:?}"
    );
    // Make the new reminders due now, and let two workers race for them.
    app.query(
        "UPDATE job SET run_at = time::now() WHERE kind = 'reminder' AND status = 'pending'",
        json!({}),
    )
    .await;
    let second = specialistly::server::jobs::worker::JobWorker::new(
        app.state.clone(),
        specialistly::server::mail::transport::MailTransport::from_config(&app.state.config.mail)
            .unwrap(),
        "Specialistly <no-reply@localhost>".parse().unwrap(),
        120,
    );
    let (a, b) = tokio::join!(app.worker.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reminders: Vec<_> = reminders_received(&app)
        .await
        .iter()
        .map(|r| parse(r).body_text(0).unwrap().to_string())
        .collect();
    let to_customer = reminders.iter().filter(|t| t.contains("Hello Mo,")).count();
    assert_eq!(
        to_customer, 2,
        "both customer reminders, once each ({a} + {b} jobs run)"
    );
    assert!(
        reminders
            .iter()
            .filter(|t| t.contains("Hello Mo,"))
            .all(|t| t.contains("Time: 16:45 (UTC)")),
        "{reminders:?}"
    );
}
