//! Faults against the real binary on SurrealKV: killed with SIGKILL while bookings are in
//! flight, then restarted on the same directory.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::helpers::{free_port, parse, to_address, SmtpSink};

struct Server {
    child: Child,
    base: String,
}

async fn start(dir: &std::path::Path, port: u16, smtp: u16) -> Server {
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_specialistly"))
        .env("RUST_LOG", "warn")
        .env(
            "DATABASE_URL",
            format!("surrealkv://{}", dir.join("db").display()),
        )
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", "fault-test-jwt-secret-fault-test-jwt")
        .env("DATA_DIR", dir)
        .env("SMTP_URL", format!("smtp://127.0.0.1:{smtp}"))
        .env("SEED_DEMO_DATA", "false")
        .env("OUTBOX_POLL_MILLIS", "100")
        // An email claimed by the killed process is sent again once its lease ends.
        .env("OUTBOX_LEASE_SECONDS", "2")
        .env("AUTH_RATE_PER_IP_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

async fn post(
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> reqwest::Result<reqwest::Response> {
    let mut r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t.to_string());
    }
    r.send().await
}

async fn get_json(base: &str, path: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn register(base: &str, email: &str, role: &str) -> String {
    let res = post(
        base,
        "/api/auth/register",
        None,
        json!({ "name": "Kim", "email": email, "password": "long-password", "role": role }),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[engine_test]
async fn a_crash_during_fifty_bookings_loses_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(Duration::ZERO).await;
    let port = free_port();
    let mut server = start(dir.path(), port, smtp.port).await;
    let base = server.base.clone();
    let spec = register(&base, "owner@example.com", "specialist").await;
    let at = chrono::Utc::now() + chrono::Duration::days(2);
    let mut slots = Vec::new();
    for i in 0..5 {
        let res = post(&base, "/api/consulting-slots", Some(&spec), json!({ "date": at.format("%Y-%m-%d").to_string(), "startTime": format!("1{i}:00"), "duration": 30, "capacity": 8, "title": format!("Slot {i}"), "timezone": "UTC" })).await.unwrap();
        slots.push(
            res.json::<Value>().await.unwrap()["data"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut customers = Vec::new();
    for i in 0..50 {
        let email = format!("c{i}@example.com");
        customers.push((email.clone(), register(&base, &email, "customer").await));
    }

    // 50 bookings at once (10 per slot of 8 seats); the process dies while they run.
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let bookings = customers.iter().enumerate().map(|(i, (_, token))| {
        let path = format!("/api/consulting-slots/{}/book", slots[i % 5]);
        let base = base.clone();
        let token = token.clone();
        let answered = &answered;
        async move {
            let status = post(&base, &path, Some(&token), json!({}))
                .await
                .map(|r| r.status().as_u16());
            if matches!(status, Ok(201)) {
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            status
        }
    });
    // Killed once a few bookings were answered, with the rest in flight.
    let killer = async {
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 8 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.child.start_kill().unwrap();
    };
    let (answers, ()) = tokio::join!(join_all(bookings), killer);
    server.child.wait().await.unwrap();
    let answered_before_kill = answers.iter().filter(|a| a.is_ok()).count();
    assert!(
        answered_before_kill < 50,
        "the kill came while bookings were in flight"
    );
    let confirmed: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a, Ok(201)))
        .map(|(i, _)| i)
        .collect();

    // Back up on the same directory: every answered booking is there, seats match bookings.
    let server = start(dir.path(), port, smtp.port).await;
    let mine = get_json(&server.base, "/api/consulting-slots/mine", &spec).await;
    let manager = get_json(&server.base, "/api/meeting-manager", &spec).await;
    let mut booked_by_slot: HashMap<String, u64> = HashMap::new();
    let mut booked_customers = Vec::new();
    for m in manager["data"].as_array().unwrap() {
        let bookings = m["bookings"].as_array().unwrap();
        booked_by_slot.insert(
            m["slot"]["id"].as_str().unwrap().into(),
            bookings.len() as u64,
        );
        booked_customers.extend(
            bookings
                .iter()
                .map(|b| b["customerEmail"].as_str().unwrap().to_string()),
        );
    }
    for s in mine["data"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let seats = s["booked"].as_u64().unwrap();
        assert_eq!(
            seats,
            booked_by_slot.get(id).copied().unwrap_or(0),
            "slot {id}: seats taken = bookings stored"
        );
        assert!(seats <= 8, "never overbooked");
    }
    for i in &confirmed {
        assert!(
            booked_customers.contains(&customers[*i].0),
            "answered 201, so it is stored: {}",
            customers[*i].0
        );
    }

    // Every stored booking's confirmation arrives; none for a booking that is not.
    // 51 sign-up confirmations, and two emails per stored booking.
    smtp.wait_for(51 + booked_customers.len() * 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut confirmations: HashMap<String, usize> = HashMap::new();
    for raw in smtp.messages().iter() {
        let m = parse(raw);
        if m.subject()
            .unwrap_or_default()
            .starts_with("✅ Appointment Confirmed")
        {
            *confirmations.entry(to_address(&m)).or_default() += 1;
        }
    }
    let mut stored = booked_customers.clone();
    stored.sort();
    let mut got: Vec<String> = confirmations.keys().cloned().collect();
    got.sort();
    assert_eq!(
        got, stored,
        "a confirmation for every stored booking and no other"
    );
    // The one email the worker may have been sending when the process died (accepted by the
    // SMTP server, not yet marked done) is sent again after its lease: at most one repeat.
    let repeats: usize = confirmations.values().map(|n| n - 1).sum();
    assert!(
        repeats <= 1,
        "each once, bar the one in flight at the kill: {confirmations:?}"
    );
    let mut statuses: HashMap<String, usize> = HashMap::new();
    for a in &answers {
        let key = match a {
            Ok(s) => s.to_string(),
            Err(_) => "no answer".into(),
        };
        *statuses.entry(key).or_default() += 1;
    }
    println!(
        "killed with {} of 50 bookings answered 201 ({statuses:?}); {} stored after the restart",
        confirmed.len(),
        booked_customers.len()
    );
    drop(server);
}
