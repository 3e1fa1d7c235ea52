//! Outgoing webhooks: signed as the Standard Webhooks reference library (PyPI
//! `standardwebhooks`) verifies, delivered by the job queue, retried with back-off, turned off
//! (and the specialist emailed) after the retry window or at once on a 410; a delivery log
//! with replay; in production only https URLs to public addresses.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use specialistly::model::Role;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{json_body, repo_file, spawn_with, Options, TestApp, TestUser};

async fn app_with(extra: Vec<(&'static str, String)>) -> TestApp {
    spawn_with(Options {
        extra,
        ..Default::default()
    })
    .await
}

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

async fn add_endpoint(app: &TestApp, spec: &TestUser, url: &str, events: &[&str]) -> Value {
    let (status, body) = json_body(
        app.post_json(
            "/api/webhooks",
            Some(&spec.token),
            &json!({ "url": url, "events": events }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

/// Each message as the reference library verifies it with `secret`.
fn verify(secret: &str, requests: &[Request]) -> Vec<Value> {
    let messages: Vec<Value> = requests
        .iter()
        .map(|r| {
            let headers: serde_json::Map<String, Value> = r
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap())))
                .collect();
            json!({ "headers": headers, "body": String::from_utf8(r.body.clone()).unwrap() })
        })
        .collect();
    let script = repo_file("tests/support/verify_webhooks.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with standardwebhooks (make test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            json!({ "secret": secret, "messages": messages })
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the verifier failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[engine_test]
async fn messages_verify_with_the_reference_library_and_follow_the_booking() {
    let app = app_with(vec![]).await;
    let hooks = receiver(200).await;
    let spec = app.user(Role::Specialist, "Hook Spec").await;
    let cust = app.user(Role::Customer, "Hook Cust").await;
    let url = format!("{}/hooks", hooks.uri());
    let all = add_endpoint(
        &app,
        &spec,
        &url,
        &[
            "booking.created",
            "booking.cancelled",
            "booking.rescheduled",
            "meeting.created",
            "meeting.deleted",
            "attendance.recorded",
        ],
    )
    .await;
    let secret = all["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{all}");
    let cancels_only = add_endpoint(&app, &spec, &url, &["booking.cancelled"]).await;

    let slot = app.slot(&spec, 72, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    let cancel = format!("/api/consulting-slots/{slot}/booking/0/cancel");
    assert_eq!(
        app.post_json(&cancel, Some(&cust.token), &json!({}))
            .await
            .status(),
        200
    );
    app.drain_jobs().await;

    let received = hooks.received_requests().await.unwrap();
    assert_eq!(
        received.len(),
        4,
        "3 to the first endpoint, 1 to the second"
    );
    let verified = verify(secret, &received);
    let payloads: Vec<&Value> = verified.iter().filter_map(|v| v.get("payload")).collect();
    // The second endpoint's secret differs: its one message does not verify with this one.
    assert_eq!(payloads.len(), 3, "{verified:?}");
    let mut types: Vec<&str> = payloads
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["booking.cancelled", "booking.created", "meeting.created"]
    );
    for p in &payloads {
        assert_eq!(p["data"]["slotId"], slot.as_str());
        assert_eq!(p["data"]["bookingIndex"], 0);
        assert_eq!(p["data"]["customer"]["email"], cust.email.as_str());
        assert!(p["timestamp"].is_string());
    }
    let cancelled = payloads
        .iter()
        .find(|p| p["type"] == "booking.cancelled")
        .unwrap();
    assert_eq!(cancelled["data"]["cancelledBy"], "customer");
    assert_eq!(cancelled["data"]["status"], "cancelled");
    let other = verify(cancels_only["secret"].as_str().unwrap(), &received);
    assert_eq!(
        other.iter().filter(|v| v.get("payload").is_some()).count(),
        1
    );

    // A changed body, or a signature from another secret, does not verify.
    let mut tampered = received[0].clone();
    tampered.body = br#"{"type":"booking.created","data":{}}"#.to_vec();
    assert!(verify(secret, &[tampered])[0].get("error").is_some());

    // Every message to the first endpoint is in its log, delivered at the first attempt,
    // under the webhook-id it was sent with.
    let log = format!("/api/webhooks/{}/deliveries", all["id"].as_str().unwrap());
    let (status, body) = json_body(app.get(&log, Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    let deliveries = body["data"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3);
    for d in deliveries {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"][0]["statusCode"], 200);
        let id = d["messageId"].as_str().unwrap();
        assert!(id.starts_with("msg_"));
        assert!(received
            .iter()
            .any(|r| r.headers["webhook-id"].to_str().unwrap() == id));
    }
    // The list never shows the secret.
    let (_, listed) = json_body(app.get("/api/webhooks", Some(&spec.token)).await).await;
    assert!(!listed.to_string().contains("whsec_"), "{listed}");
}

async fn delivery_rows(app: &TestApp) -> Vec<Value> {
    app.query(
        "SELECT status, array::len(attempts) AS attempts, next_attempt_at FROM webhook_delivery",
        json!({}),
    )
    .await
}

async fn endpoint_row(app: &TestApp) -> Value {
    app.query(
        "SELECT enabled, disabled_reason FROM webhook_endpoint",
        json!({}),
    )
    .await[0]
        .clone()
}

async fn disabled_emails(app: &TestApp) -> Vec<Value> {
    app.query(
        "SELECT VALUE payload FROM job WHERE string::starts_with(key, 'webhook-disabled:')",
        json!({}),
    )
    .await
}

#[engine_test]
async fn a_failing_endpoint_is_retried_then_turned_off_and_a_replay_delivers() {
    let app = app_with(vec![("WEBHOOK_RETRY_SECONDS", "2".into())]).await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&hooks)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&hooks)
        .await;
    let spec = app.user(Role::Specialist, "Retry Spec").await;
    let cust = app.user(Role::Customer, "Retry Cust").await;
    let endpoint = add_endpoint(
        &app,
        &spec,
        &format!("{}/hooks", hooks.uri()),
        &["booking.created"],
    )
    .await;
    let slot = app.slot(&spec, 72, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);

    app.drain_jobs().await;
    let rows = delivery_rows(&app).await;
    assert_eq!(rows[0]["status"], "pending", "{rows:?}");
    assert_eq!(rows[0]["attempts"], 1);
    assert!(rows[0]["next_attempt_at"].is_string(), "a retry is planned");
    assert_eq!(endpoint_row(&app).await["enabled"], true);

    // Past the retry window, the next failure turns the endpoint off and tells its owner once.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    app.drain_jobs().await;
    let rows = delivery_rows(&app).await;
    assert_eq!(rows[0]["status"], "failed", "{rows:?}");
    assert_eq!(rows[0]["attempts"], 2);
    let endpoint_now = endpoint_row(&app).await;
    assert_eq!(endpoint_now["enabled"], false);
    assert!(
        endpoint_now["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed for 2 seconds"),
        "{endpoint_now}"
    );
    let emails = disabled_emails(&app).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["to"], spec.email.as_str());

    // Off: new events are not delivered to it, and it cannot be replayed until turned on.
    let id = endpoint["id"].as_str().unwrap();
    let delivery = app
        .query(
            "SELECT VALUE record::id(id) FROM webhook_delivery",
            json!({}),
        )
        .await;
    let delivery = delivery[0].as_str().unwrap();
    let replay = format!("/api/webhooks/{id}/deliveries/{delivery}/replay");
    assert_eq!(
        app.post_json(&replay, Some(&spec.token), &json!({}))
            .await
            .status(),
        409
    );
    let (status, body) = json_body(
        app.post_json(
            &format!("/api/webhooks/{id}/enable"),
            Some(&spec.token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["enabled"], true);
    assert_eq!(
        app.post_json(&replay, Some(&spec.token), &json!({}))
            .await
            .status(),
        202
    );
    app.drain_jobs().await;
    let rows = delivery_rows(&app).await;
    assert_eq!(rows[0]["status"], "delivered", "{rows:?}");
    assert_eq!(rows[0]["attempts"], 3);
    let received = hooks.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let ids: Vec<&str> = received
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one message id throughout: {ids:?}"
    );

    // A delivery that does not exist (found by the contract test: it was a 500): 404.
    let (status, body) = json_body(
        app.post_json(
            &format!("/api/webhooks/{id}/deliveries/0/replay"),
            Some(&spec.token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "{body}");

    // Someone else's delivery: 404.
    let other = app.user(Role::Specialist, "Other Spec").await;
    assert_eq!(
        app.post_json(&replay, Some(&other.token), &json!({}))
            .await
            .status(),
        404
    );
}

#[engine_test]
async fn a_410_turns_the_endpoint_off_at_once() {
    let app = app_with(vec![]).await;
    let hooks = receiver(410).await;
    let spec = app.user(Role::Specialist, "Gone Spec").await;
    let cust = app.user(Role::Customer, "Gone Cust").await;
    add_endpoint(
        &app,
        &spec,
        &format!("{}/hooks", hooks.uri()),
        &["booking.created"],
    )
    .await;
    let slot = app.slot(&spec, 72, 3).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    app.drain_jobs().await;
    let endpoint = endpoint_row(&app).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("410"));
    assert_eq!(delivery_rows(&app).await[0]["status"], "failed");
    assert_eq!(disabled_emails(&app).await.len(), 1);

    // Later events are not sent to it.
    let second = app.user(Role::Customer, "Later Cust").await;
    assert_eq!(app.book(&slot, &second).await.status(), 201);
    app.drain_jobs().await;
    assert_eq!(hooks.received_requests().await.unwrap().len(), 1);
}

#[engine_test]
async fn in_production_mode_only_https_urls_to_public_addresses_are_accepted_or_reached() {
    let app = app_with(vec![("WEBHOOK_PUBLIC_ONLY", "true".into())]).await;
    let spec = app.user(Role::Specialist, "Strict Spec").await;
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://[::1]:8443/in",
        "https://10.0.0.7/in",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/",
        "https://localhost/in",
        "https://user:pw@hooks.example.com/in",
        "not a url",
    ] {
        let (status, body) = json_body(
            app.post_json(
                "/api/webhooks",
                Some(&spec.token),
                &json!({ "url": url, "events": ["booking.created"] }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
    }
    assert_eq!(app.count("webhook_endpoint").await, 0);

    // A name that is inside, stored as if saved before the rule, is refused before the
    // delivery is sent. (A name whose DNS changes after it was saved is refused by the
    // resolver when it connects; this test has no DNS to change.)
    let hooks = receiver(200).await;
    let port = hooks.address().port();
    let url = format!("https://localhost:{port}/hooks");
    let error = delivered_to_a_stored_endpoint(&app, &spec, &url, &hooks).await;
    assert!(
        error.contains("not sent: The URL must point to a public address"),
        "{error}"
    );
}

/// Stores an endpoint of `spec` at `url` directly (as if saved before the rule), books one of
/// their slots, runs the jobs, checks `hooks` heard nothing and returns the attempt's error.
async fn delivered_to_a_stored_endpoint(
    app: &TestApp,
    spec: &TestUser,
    url: &str,
    hooks: &MockServer,
) -> String {
    app.query(
        "CREATE webhook_endpoint CONTENT { user: type::record('user', $user),
            url: $url, events: ['booking.created'], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
            enabled: true }",
        json!({ "user": spec.id, "url": url }),
    )
    .await;
    let cust = app.user(Role::Customer, "Stored Endpoint Cust").await;
    let slot = app.slot(spec, 72, 3).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    app.drain_jobs().await;
    assert!(hooks.received_requests().await.unwrap().is_empty());
    let attempts = app
        .query("SELECT VALUE attempts FROM webhook_delivery", json!({}))
        .await;
    attempts[0][0]["error"].as_str().unwrap().to_string()
}

/// G8: an endpoint saved while the rule was off (development, or before an upgrade) whose URL is
/// an address literal connects without the resolver: the delivery checks the URL again and
/// sends nothing to it.
#[engine_test]
async fn a_loopback_address_saved_before_the_rule_is_never_sent_to() {
    let app = app_with(vec![("WEBHOOK_PUBLIC_ONLY", "true".into())]).await;
    let spec = app.user(Role::Specialist, "Literal Spec").await;
    let hooks = receiver(200).await;
    let url = format!("{}/hooks", hooks.uri());
    let error = delivered_to_a_stored_endpoint(&app, &spec, &url, &hooks).await;
    assert!(error.starts_with("not sent: "), "{error}");
}

#[engine_test]
async fn bad_endpoint_requests_get_clear_errors_and_change_nothing() {
    let app = app_with(vec![]).await;
    let spec = app.user(Role::Specialist, "Bad Hook Spec").await;
    let cust = app.user(Role::Customer, "Bad Hook Cust").await;
    let post = |token: String, body: Value| {
        let app = &app;
        async move { json_body(app.post_json("/api/webhooks", Some(&token), &body).await).await }
    };
    let ok_url = "http://127.0.0.1:9/hooks";
    let (status, _) = post(
        cust.token.clone(),
        json!({ "url": ok_url, "events": ["booking.created"] }),
    )
    .await;
    assert_eq!(status, 403);
    for (body, says) in [
        (json!({ "url": ok_url, "events": [] }), "at least one"),
        (
            json!({ "url": ok_url, "events": ["booking.deleted"] }),
            "Unknown event",
        ),
        (
            json!({ "url": "ftp://x.test/", "events": ["booking.created"] }),
            "https://",
        ),
        (json!({ "url": "", "events": ["booking.created"] }), "url"),
        (
            json!({ "url": ok_url, "events": ["booking.created"], "secret": "mine" }),
            "secret",
        ),
    ] {
        let (status, answer) = post(spec.token.clone(), body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    assert_eq!(app.count("webhook_endpoint").await, 0);

    let made = add_endpoint(&app, &spec, ok_url, &["booking.created", "booking.created"]).await;
    assert_eq!(made["events"], json!(["booking.created"]));
    let id = made["id"].as_str().unwrap();
    let other = app.user(Role::Specialist, "Other Hook Spec").await;
    assert_eq!(
        app.delete(&format!("/api/webhooks/{id}"), &other.token)
            .await
            .status(),
        404
    );
    let log = format!("/api/webhooks/{id}/deliveries");
    assert_eq!(app.get(&log, Some(&other.token)).await.status(), 404);
    assert_eq!(app.get(&log, None).await.status(), 401);
    assert_eq!(
        app.delete(&format!("/api/webhooks/{id}"), &spec.token)
            .await
            .status(),
        200
    );
    assert_eq!(app.count("webhook_endpoint").await, 0);
}

/// An endpoint that accepts connections and never answers, counting them (each held open).
struct SilentEndpoint {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl SilentEndpoint {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(socket);
            }
        });
        Self {
            url,
            accepted,
            _task: task,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Waits (boundedly) until `ready` holds; whether it did.
async fn eventually(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if ready() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ready()
}

/// G1: a specialist whose endpoints accept and never answer holds two sends at a time in all
/// (one per endpoint at most), in a lane of their own: another customer's confirmation email
/// and another specialist's delivery go out while those sends still hang.
#[engine_test]
async fn endpoints_that_never_answer_hold_up_no_email_and_no_other_specialist() {
    let app = spawn_with(Options {
        smtp: true,
        extra: vec![("OUTBOX_POLL_MILLIS", "50".into())],
        ..Default::default()
    })
    .await;
    let smtp = app.smtp.as_ref().unwrap();
    let silent = SilentEndpoint::start().await;
    let hog = app.user(Role::Specialist, "Hog Spec").await;
    for _ in 0..3 {
        add_endpoint(&app, &hog, &silent.url, &["booking.created"]).await;
    }
    let cust = app.user(Role::Customer, "Hog Cust").await;
    for hours in [50, 51] {
        let slot = app.slot(&hog, hours, 3).await;
        assert_eq!(app.book(&slot, &cust).await.status(), 201);
    }
    // Six deliveries to three silent endpoints: two sends start, and stay.
    assert!(
        eventually(|| silent.accepted() >= 2).await,
        "no send started"
    );
    let before = smtp.messages().len();

    let fair = app.user(Role::Specialist, "Fair Spec").await;
    let hooks = receiver(200).await;
    add_endpoint(
        &app,
        &fair,
        &format!("{}/hooks", hooks.uri()),
        &["booking.created"],
    )
    .await;
    let other = app.user(Role::Customer, "Other Cust").await;
    let slot = app.slot(&fair, 52, 3).await;
    assert_eq!(app.book(&slot, &other).await.status(), 201);
    let arrived = smtp.wait_for(before + 1).await;
    assert!(
        arrived.len() > before,
        "the confirmation email did not go out"
    );
    let mut heard = false;
    for _ in 0..200 {
        if !hooks.received_requests().await.unwrap().is_empty() {
            heard = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(heard, "the other specialist's delivery did not go out");
    // Meanwhile every silent send still hangs (15 s each): none has been recorded, and no
    // third connection was made.
    let attempts = app
        .query(
            "SELECT VALUE attempt_count FROM webhook_delivery WHERE user = type::record('user', $u)",
            json!({ "u": hog.id }),
        )
        .await;
    assert_eq!(attempts.len(), 6);
    assert!(attempts.iter().all(|a| a == &json!(0)), "{attempts:?}");
    assert_eq!(silent.accepted(), 2);
}

/// A specialist with one endpoint answering `status`, a booking of theirs whose delivery was
/// attempted once, and that delivery's replay path.
async fn one_delivery(app: &TestApp, status: u16) -> (TestUser, MockServer, String) {
    let spec = app.user(Role::Specialist, "Replaying Spec").await;
    let hooks = receiver(status).await;
    let endpoint = add_endpoint(
        app,
        &spec,
        &format!("{}/hooks", hooks.uri()),
        &["booking.created"],
    )
    .await;
    let endpoint_id = endpoint["id"].as_str().unwrap().to_string();
    let cust = app.user(Role::Customer, "Replaying Cust").await;
    let slot = app.slot(&spec, 48, 2).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    app.drain_jobs().await;
    assert_eq!(hooks.received_requests().await.unwrap().len(), 1);
    let delivery = app
        .query(
            "SELECT VALUE record::id(id) FROM webhook_delivery",
            json!({}),
        )
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    let replay = format!("/api/webhooks/{endpoint_id}/deliveries/{delivery}/replay");
    (spec, hooks, replay)
}

/// G1: a delivery still pending is not replayed, and of replays sent at once only one is
/// queued: the endpoint hears the message once more, not once per click.
#[engine_test]
async fn concurrent_replays_send_a_message_once_and_a_pending_one_is_not_replayed() {
    let app = app_with(vec![]).await;
    let (spec, hooks, replay) = one_delivery(&app, 200).await;

    let empty = json!({});
    let answers = futures::future::join_all(
        (0..5).map(|_| app.post_json(&replay, Some(&spec.token), &empty)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [202, 409, 409, 409, 409]);
    let (status, body) =
        json_body(app.post_json(&replay, Some(&spec.token), &json!({})).await).await;
    assert_eq!(status, 409);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still being sent"),
        "{body}"
    );
    app.drain_jobs().await;
    assert_eq!(hooks.received_requests().await.unwrap().len(), 2);
    // Delivered again: it may be replayed once more.
    let res = app.post_json(&replay, Some(&spec.token), &json!({})).await;
    assert_eq!(res.status(), 202);
}

/// G1: the log keeps a delivery's latest attempts, the count keeps them all.
#[engine_test]
async fn a_delivery_keeps_its_latest_attempts_and_counts_every_one() {
    let app = app_with(vec![]).await;
    let (spec, _hooks, replay) = one_delivery(&app, 500).await;
    // As if it had failed 25 times and was given up.
    app.query(
        "UPDATE webhook_delivery SET status = 'failed', attempt_count = 25,
            attempts = array::map(array::range(0, 25), |$i| { at: time::now(), statusCode: 500,
                error: string::concat('old ', <string> $i) });
         UPDATE job SET status = 'cancelled' WHERE kind = 'webhook_delivery' AND status = 'pending';",
        json!({}),
    )
    .await;
    assert_eq!(
        app.post_json(&replay, Some(&spec.token), &json!({}))
            .await
            .status(),
        202
    );
    app.drain_jobs().await;
    let row = app
        .query(
            "SELECT attempt_count, attempts FROM webhook_delivery",
            json!({}),
        )
        .await;
    assert_eq!(row[0]["attempt_count"], 26);
    let attempts = row[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 20);
    assert_eq!(attempts[0]["error"], "old 6");
    assert_eq!(
        attempts[19]["error"],
        "answered HTTP 500 Internal Server Error"
    );
}
