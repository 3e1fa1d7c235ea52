//! The holes a security review found, each pinned by a test that failed before its fix.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{form_body, json_body, non_loopback_address, spawn_app, spawn_with, Options};

/// A `Location` a browser would follow to this site only.
fn is_local(location: &str) -> bool {
    location.starts_with('/')
        && !location.starts_with("//")
        && location.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

fn next_values() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "/[\\x00-\\x7f]{0,20}",
        "[/\\\\\\t\\r\\n ]{1,4}[a-z.:]{0,12}",
        Just("/\t/evil.example".to_string()),
        Just("/\r\n/evil.example".to_string()),
        Just("//evil.example".to_string()),
        Just("/\\evil.example".to_string()),
        Just("https://evil.example/".to_string()),
    ]
}

#[engine_test]
async fn a_next_parameter_never_sends_a_logged_in_user_to_another_site() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Nia").await;
    let mut runner = TestRunner::deterministic();
    let strategy = next_values();
    for _ in 0..48 {
        let next = strategy.new_tree(&mut runner).unwrap().current();
        // As a browser without wasm posts the login form: it follows the Location.
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[
                ("email", &user.email),
                ("password", crate::helpers::PASSWORD),
                ("next", &next),
            ]))
            .send()
            .await
            .unwrap_or_else(|e| panic!("connection dropped for next={next:?}: {e}"));
        assert!(res.status().is_redirection(), "{next:?}: {}", res.status());
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(
            is_local(&location),
            "next={next:?} sent the user to {location:?}"
        );
        if !(next.starts_with('/') && is_local(&next)) {
            assert_eq!(location, "/slots", "next={next:?}: the user's home instead");
        }
    }
}

#[engine_test]
async fn a_control_character_in_next_is_answered_not_dropped() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Ola").await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("email", &user.email),
            ("password", crate::helpers::PASSWORD),
            ("next", "/\r\nSet-Cookie: evil=1"),
        ]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/slots");
}

#[engine_test]
async fn dev_pages_answer_loopback_clients_only() {
    let app = spawn_with(Options {
        bind: Some("0.0.0.0:0"),
        ..Default::default()
    })
    .await;
    let local = app.get("/dev/mail", None).await;
    assert_eq!(local.status(), StatusCode::OK);
    let port = app.base.rsplit(':').next().unwrap();
    let remote = app
        .client
        .get(format!("http://{}:{port}/dev/mail", non_loopback_address()))
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
    let zoom_page = app
        .client
        .get(format!(
            "http://{}:{port}/dev/zoom/sim-1",
            non_loopback_address()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(zoom_page.status(), StatusCode::NOT_FOUND);
}

#[engine_test]
async fn slot_dates_more_than_two_years_ahead_are_refused() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Ida").await;
    let too_far = chrono::Utc::now() + chrono::Duration::days(800);
    for date in [
        too_far.format("%Y-%m-%d").to_string(),
        "+99999-01-01".to_string(),
    ] {
        let body = json!({ "date": date, "startTime": "10:00", "duration": 30, "capacity": 1, "title": "Far", "timezone": "UTC" });
        let (status, body) = json_body(
            app.post_json("/api/consulting-slots", Some(&spec.token), &body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{date}: {body}");
        assert!(
            body["message"].as_str().unwrap().starts_with("date"),
            "{body}"
        );
    }
    assert_eq!(app.count("slot").await, 0);
    // Moving an existing slot that far is refused too.
    let slot = app.slot(&spec, 24, 1).await;
    let (status, _) = json_body(
        app.patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({ "date": too_far.format("%Y-%m-%d").to_string() }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[engine_test]
async fn creating_a_meeting_after_the_appointment_ended_is_refused() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Eli").await;
    let cust = app.user(Role::Customer, "Fay").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    // The session took place yesterday.
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 1d",
        json!({ "s": slot }),
    )
    .await;
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "This appointment has already ended");
    assert!(app
        .zoom
        .as_ref()
        .unwrap()
        .create_requests()
        .await
        .is_empty());
}

#[engine_test]
async fn cross_site_requests_without_a_bearer_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Pia").await;
    let spec = app.user(Role::Specialist, "Quin").await;
    let slot = app.slot(&spec, 24, 5).await;
    let host = app.base.trim_start_matches("http://").to_string();
    let login = form_body(&[
        ("email", &user.email),
        ("password", crate::helpers::PASSWORD),
    ]);
    let refused = json!({ "success": false, "message": "Cross-site request refused" });

    // Login CSRF: another site logging the victim in (server function and REST).
    let sessions_before = app.count("session").await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site".to_string()),
        ("sec-fetch-site", "same-site".to_string()),
        ("origin", "https://evil.example".to_string()),
        ("referer", "https://evil.example/page".to_string()),
        ("origin", "null".to_string()),
    ] {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, &value)
            .body(login.clone())
            .send()
            .await
            .unwrap();
        let (status, body) = json_body(res).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(body, refused);
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .header(name, &value)
            .json(&json!({ "email": user.email, "password": crate::helpers::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "REST {name}: {value}");
    }
    assert_eq!(app.count("session").await, sessions_before);

    // A forged booking with the victim's cookie.
    let res = app
        .client
        .post(app.url("/api/book_slot"))
        .header("cookie", format!("specialistly_token={}", user.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://evil.example")
        .body(form_body(&[("slot_id", &slot)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("booking").await, 0);

    // The same page opened as another name of this host is same-origin: allowed.
    let res = app
        .client
        .post(app.url("/api/book_slot"))
        .header("cookie", format!("specialistly_token={}", user.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .body(form_body(&[("slot_id", &slot)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(app.count("booking").await, 1);

    // Bearer-token clients are not affected.
    let other = app.user(Role::Customer, "Rae").await;
    let res = app
        .client
        .post(app.url(&format!("/api/consulting-slots/{slot}/book")))
        .bearer_auth(&other.token)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[engine_test]
async fn every_response_carries_the_security_headers_and_pages_a_fresh_script_nonce() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = app.get("/login", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.contains("'unsafe-inline' 'wasm")
                && !csp.contains("script-src 'self' 'unsafe-inline'")
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .expect("a script nonce")
            .to_string();
        let html = res.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "the page hydrates");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script carries this response's nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);
    for path in ["/api/consulting-slots", "/api/nothing-here", "/healthz"] {
        let res = app.get(path, None).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(h.contains_key("content-security-policy"));
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
}

#[engine_test]
async fn https_deployments_get_hsts() {
    let app = spawn_with(Options {
        extra: vec![
            ("APP_BASE_URL", "https://book.example.com".into()),
            ("APP_ENV", "development".into()),
        ],
        ..Default::default()
    })
    .await;
    let res = app.get("/healthz", None).await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[engine_test]
async fn repeated_failed_logins_lock_the_email_out_until_the_window_passes() {
    let app = spawn_with(Options {
        extra: vec![("LOGIN_MAX_FAILURES", "3".into())],
        ..Default::default()
    })
    .await;
    let user = app.user(Role::Customer, "Sol").await;
    for _ in 0..3 {
        assert_eq!(app.login(&user.email, "wrong-password").await.status(), 401);
    }
    // Even the right password is refused now, with the time to wait.
    let res = app.login(&user.email, crate::helpers::PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((840..=900).contains(&retry), "{retry}");
    let (_, body) = json_body(res).await;
    assert_eq!(
        body["message"],
        "Too many login attempts. Try again in 15 minutes."
    );
    // Another email is not affected, and the lockout is per email, whatever its case.
    let other = app.user(Role::Customer, "Tim").await;
    assert_eq!(
        app.login(&other.email, crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login(&user.email.to_uppercase(), crate::helpers::PASSWORD)
            .await
            .status(),
        429
    );
    // The window passes: logins work again.
    app.query(
        "UPDATE rate_counter SET window_end = time::now() - 1s",
        json!({}),
    )
    .await;
    assert_eq!(
        app.login(&user.email, crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );
}

#[engine_test]
async fn sign_in_requests_per_client_address_are_capped() {
    let app = spawn_with(Options {
        extra: vec![("AUTH_RATE_PER_IP_PER_MINUTE", "5".into())],
        ..Default::default()
    })
    .await;
    let user = app.user(Role::Customer, "Uma").await;
    for i in 0..5 {
        let res = if i % 2 == 0 {
            app.login(&user.email, crate::helpers::PASSWORD).await
        } else {
            app.post_json(
                "/api/auth/register",
                None,
                &json!({ "name": "V", "email": format!("v{i}@example.com"), "password": "12345678", "role": "customer" }),
            )
            .await
        };
        assert!(res.status().is_success(), "request {i}: {}", res.status());
    }
    let users = app.count("user").await;
    let res = app
        .post_json(
            "/api/auth/register",
            None,
            &json!({ "name": "W", "email": "w@example.com", "password": "12345678", "role": "customer" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.count("user").await, users, "nothing registered");
    assert_eq!(
        app.login(&user.email, crate::helpers::PASSWORD)
            .await
            .status(),
        429
    );
}

#[engine_test]
async fn a_login_flood_is_queued_or_told_the_server_is_busy_never_a_500() {
    let app = spawn_with(Options {
        extra: vec![
            ("AUTH_RATE_PER_IP_PER_MINUTE", "100000".into()),
            ("LOGIN_MAX_FAILURES", "100000".into()),
            ("PASSWORD_HASH_QUEUE", "2".into()),
        ],
        ..Default::default()
    })
    .await;
    let user = app.user(Role::Customer, "Xia").await;
    let hits_before = sign_in_hits(&app).await;
    let attempts = (0..400).map(|i| {
        let password = if i % 2 == 0 {
            crate::helpers::PASSWORD
        } else {
            "wrong-password"
        };
        app.login(&user.email, password)
    });
    let responses = futures::future::join_all(attempts).await;
    let (_, busy) = answered_or_busy(responses, &[200, 401]).await;
    assert!(busy > 0, "a bounded queue turns some of 400 logins away");
    // Those turned away did no database work: not even the rate counter's write, which all
    // of one client's requests contend for.
    assert_eq!(sign_in_hits(&app).await - hits_before, 400 - busy);
}

/// How many of a flood's `responses` were answered (with a status in `answered`) and how
/// many were told the server is busy (503, Retry-After 1 and the busy message); any other
/// status fails the test.
async fn answered_or_busy(responses: Vec<reqwest::Response>, answered: &[u16]) -> (u64, u64) {
    let (mut ok, mut busy) = (0, 0);
    for res in responses {
        match res.status().as_u16() {
            code if answered.contains(&code) => ok += 1,
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                let (_, body) = json_body(res).await;
                assert_eq!(body["message"], "The server is busy. Please try again.");
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    (ok, busy)
}

/// Sign-in requests the rate counter of the test client's address has seen.
async fn sign_in_hits(app: &crate::helpers::TestApp) -> u64 {
    let hits = app
        .query(
            "SELECT VALUE hits FROM rate_counter WHERE record::id(id) CONTAINS 'auth-ip'",
            json!({}),
        )
        .await;
    hits.first().and_then(|h| h.as_u64()).unwrap_or(0)
}

#[engine_test]
async fn a_sign_up_flood_beyond_the_hashing_queue_is_turned_away_before_any_work() {
    let app = spawn_with(Options {
        extra: vec![
            ("AUTH_RATE_PER_IP_PER_MINUTE", "100000".into()),
            ("PASSWORD_HASH_QUEUE", "2".into()),
        ],
        ..Default::default()
    })
    .await;
    let bodies: Vec<_> = (0..100)
        .map(|i| {
            json!({
                "name": "Flood", "email": format!("flood{i}@example.com"),
                "password": crate::helpers::PASSWORD, "role": "customer",
            })
        })
        .collect();
    let sign_ups = bodies
        .iter()
        .map(|body| app.post_json("/api/auth/register", None, body));
    let responses = futures::future::join_all(sign_ups).await;
    let (created, busy) = answered_or_busy(responses, &[201, 200]).await;
    assert!(busy > 0, "a bounded queue turns some of 100 sign-ups away");
    assert_eq!(sign_in_hits(&app).await, created);
    let users = app.query("SELECT VALUE email FROM user", json!({})).await;
    assert_eq!(users.len() as u64, created);
}

#[engine_test]
async fn a_meeting_whose_answer_was_lost_is_adopted_not_created_twice() {
    let app = spawn_with(Options {
        zoom: true,
        smtp: true,
        extra: vec![("ZOOM_TIMEOUT_SECONDS", "1".into())],
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Gil").await;
    let cust = app.user(Role::Customer, "Hal").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    // Other meetings of the same host, over several pages of the listing.
    zoom.set_list_page_size(2);
    let mut last_other = 0;
    for i in 0..5 {
        last_other = zoom.hold_meeting(&spec.email, &format!("Specialistly booking other{i}"));
    }

    // Zoom creates the meeting but answers after the client gave up.
    zoom.push_fault(crate::zoom_double::Fault::Slow(
        std::time::Duration::from_secs(3),
    ));
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body["message"],
        "Could not create the Zoom meeting. Please try again."
    );
    assert_eq!(zoom.meetings().len(), 1, "Zoom did make it");
    let created_agenda = zoom.meetings()[0]["agenda"].as_str().unwrap().to_string();
    let booking_id = app
        .query("SELECT VALUE record::id(id) FROM booking", json!({}))
        .await[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(created_agenda.starts_with(&format!("Specialistly booking {booking_id}")));

    // The retry finds it (following the pages) and adopts it.
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created_id = last_other + 1;
    assert_eq!(
        body["data"]["zoomMeeting"]["zoomMeetingId"],
        created_id.to_string()
    );
    assert!(
        body["data"]["zoomMeeting"]["password"]
            .as_str()
            .unwrap()
            .len()
            == 10
    );
    assert_eq!(
        zoom.create_requests().await.len(),
        1,
        "exactly one create at Zoom"
    );
    let listings = zoom.list_requests().await;
    assert!(
        listings.len() >= 2,
        "every page was read: {}",
        listings.len()
    );
    assert!(listings
        .iter()
        .all(|r| r.url.query().unwrap_or_default().contains("type=upcoming")));

    app.drain_jobs().await;
    let sink = app.smtp.as_ref().unwrap();
    sink.wait_for(3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let ready: Vec<_> = sink
        .messages()
        .iter()
        .map(|raw| {
            crate::helpers::parse(raw)
                .subject()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|s| s.starts_with("🎥 Zoom Meeting Ready"))
        .collect();
    assert_eq!(ready.len(), 1, "the customer got one email");
}

#[engine_test]
async fn a_definite_refusal_from_zoom_does_not_make_the_next_attempt_search() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let spec = app.user(Role::Specialist, "Ike").await;
    let cust = app.user(Role::Customer, "Joy").await;
    let slot = app.slot(&spec, 24, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), 201);
    zoom.push_fault(crate::zoom_double::Fault::DailyLimit);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        500
    );
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    assert!(zoom.list_requests().await.is_empty());
}

#[engine_test]
async fn readyz_says_whether_the_database_answers_at_the_expected_schema() {
    let app = spawn_app().await;
    let (status, body) = json_body(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["schemaVersion"],
        specialistly::server::db::SCHEMA_VERSION
    );
    // A database another build migrated further: not ready for this one.
    app.query(
        "CREATE schema_migration SET version = 999, name = 'from the future'",
        json!({}),
    )
    .await;
    let (status, body) = json_body(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
}

/// Sends `request` as if through a load balancer that saw `forwarded_for`.
async fn via_proxy(request: reqwest::RequestBuilder, forwarded_for: Option<&str>) -> StatusCode {
    let request = match forwarded_for {
        Some(xff) => request.header("x-forwarded-for", xff),
        None => request,
    };
    request.send().await.unwrap().status()
}

#[engine_test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let app = spawn_with(Options {
        extra: vec![
            ("TRUSTED_PROXIES", "127.0.0.1".into()),
            ("AUTH_RATE_PER_IP_PER_MINUTE", "2".into()),
        ],
        ..Default::default()
    })
    .await;
    let dev = |xff| via_proxy(app.client.get(app.url("/dev/mail")), xff);
    // The proxy's own request is local; a forwarded outside client is not, even when it
    // claims to be loopback itself (the proxy appends the address it really saw).
    assert_eq!(dev(None).await, StatusCode::OK);
    assert_eq!(dev(Some("203.0.113.7")).await, StatusCode::NOT_FOUND);
    assert_eq!(
        dev(Some("127.0.0.1, 203.0.113.7")).await,
        StatusCode::NOT_FOUND
    );
    // Forwarded is forwarded: a proxy's claim of loopback grants nothing.
    assert_eq!(dev(Some("127.0.0.1")).await, StatusCode::NOT_FOUND);

    // The sign-in limit counts each forwarded client, not the proxy they all come through.
    let register = |n: u32, xff: &'static str| {
        let body = json!({ "name": "Pat", "email": format!("pat{n}@example.com"),
                           "password": "long-password", "role": "customer" });
        via_proxy(
            app.client.post(app.url("/api/auth/register")).json(&body),
            Some(xff),
        )
    };
    assert_eq!(register(1, "203.0.113.7").await, StatusCode::CREATED);
    assert_eq!(register(2, "203.0.113.7").await, StatusCode::CREATED);
    assert_eq!(
        register(3, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(register(4, "203.0.113.8").await, StatusCode::CREATED);
}

#[engine_test]
async fn without_a_trusted_proxy_a_forwarded_header_changes_nothing() {
    let app = spawn_with(Options {
        extra: vec![("AUTH_RATE_PER_IP_PER_MINUTE", "2".into())],
        ..Default::default()
    })
    .await;
    let dev = via_proxy(app.client.get(app.url("/dev/mail")), Some("203.0.113.7")).await;
    assert_eq!(
        dev,
        StatusCode::OK,
        "the peer is loopback; the header is the client's claim"
    );
    for (n, expected) in [
        (1, StatusCode::CREATED),
        (2, StatusCode::CREATED),
        (3, StatusCode::TOO_MANY_REQUESTS),
    ] {
        // A different made-up address each time does not escape the limit.
        let body = json!({ "name": "Pat", "email": format!("pat{n}@example.com"),
                           "password": "long-password", "role": "customer" });
        let xff = format!("198.51.100.{n}");
        let status = via_proxy(
            app.client.post(app.url("/api/auth/register")).json(&body),
            Some(&xff),
        )
        .await;
        assert_eq!(status, expected);
    }
}

/// `POST /api/auth/login` as a client behind the trusted proxy at 127.0.0.1 that saw `ip`.
async fn login_from(
    app: &crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> StatusCode {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

/// One IPv6 /64 is one client: rotating through its addresses does not get around the cap,
/// while another /64 has a count of its own.
#[engine_test]
async fn ipv6_clients_are_capped_per_64_network() {
    let app = spawn_with(Options {
        extra: vec![
            ("AUTH_RATE_PER_IP_PER_MINUTE", "5".into()),
            ("TRUSTED_PROXIES", "127.0.0.1".into()),
        ],
        ..Default::default()
    })
    .await;
    let user = app.user(Role::Customer, "Ivo").await;
    for i in 1..=5 {
        let ip = format!("2001:db8:aa:bb::{i:x}");
        let status = login_from(&app, &ip, &user.email, crate::helpers::PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{ip}");
    }
    let rotated = login_from(
        &app,
        "2001:db8:aa:bb:ffff::1",
        &user.email,
        crate::helpers::PASSWORD,
    )
    .await;
    assert_eq!(rotated, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = login_from(
        &app,
        "2001:db8:aa:cc::1",
        &user.email,
        crate::helpers::PASSWORD,
    )
    .await;
    assert_eq!(elsewhere, StatusCode::OK);
    let keys = app
        .query("SELECT VALUE record::id(id) FROM rate_counter WHERE string::starts_with(record::id(id), 'auth-ip:')", json!({}))
        .await;
    assert_eq!(keys.len(), 2, "one counter per /64: {keys:?}");
}

/// Failed logins from an attacker's address lock the email out for new clients, but not for
/// a network the owner signed in from before: the lockout cannot be used to keep them out.
#[engine_test]
async fn a_lockout_keeps_strangers_out_but_not_the_owners_known_network() {
    let app = spawn_with(Options {
        extra: vec![
            ("LOGIN_MAX_FAILURES", "3".into()),
            ("TRUSTED_PROXIES", "127.0.0.1".into()),
        ],
        ..Default::default()
    })
    .await;
    let user = app.user(Role::Customer, "Kim").await;
    let home = "198.51.100.7";
    assert_eq!(
        login_from(&app, home, &user.email, crate::helpers::PASSWORD).await,
        StatusCode::OK
    );
    for _ in 0..3 {
        let status = login_from(&app, "203.0.113.9", &user.email, "wrong-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let attacker = login_from(&app, "203.0.113.9", &user.email, crate::helpers::PASSWORD).await;
    assert_eq!(
        attacker,
        StatusCode::TOO_MANY_REQUESTS,
        "locked for the attacker"
    );
    let stranger = login_from(&app, "192.0.2.44", &user.email, crate::helpers::PASSWORD).await;
    assert_eq!(
        stranger,
        StatusCode::TOO_MANY_REQUESTS,
        "and for any new client"
    );
    let owner = login_from(&app, home, &user.email, crate::helpers::PASSWORD).await;
    assert_eq!(owner, StatusCode::OK, "the owner's network still signs in");
    let wrong_at_home = login_from(&app, home, &user.email, "wrong-password").await;
    assert_eq!(
        wrong_at_home,
        StatusCode::UNAUTHORIZED,
        "a known network still needs the password"
    );
}

/// An unverified account cannot make the app mail its address (anyone's) in a loop: one new
/// confirmation link a minute, five a day.
#[engine_test]
async fn confirmation_emails_are_limited_per_account() {
    let app = spawn_with(Options::default()).await;
    let user = app.unverified_user(Role::Customer, "Lou").await;
    let resend = || async {
        json_body(
            app.post_json(
                "/api/auth/resend-verification",
                Some(&user.token),
                &json!({}),
            )
            .await,
        )
        .await
    };
    let links = || async {
        app.query(
            "SELECT VALUE id FROM email_verification WHERE user = type::record('user', $u)",
            json!({ "u": user.id }),
        )
        .await
        .len()
    };
    assert_eq!(resend().await.0, StatusCode::OK);
    let (status, body) = resend().await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("in a minute"),
        "{body}"
    );
    assert_eq!(links().await, 1, "nothing stored for the refused one");
    for _ in 0..4 {
        app.query(
            "UPDATE rate_counter SET window_end = time::now() - 1s WHERE string::starts_with(record::id(id), 'resend-minute:')",
            json!({}),
        )
        .await;
        assert_eq!(resend().await.0, StatusCode::OK);
    }
    app.query(
        "UPDATE rate_counter SET window_end = time::now() - 1s WHERE string::starts_with(record::id(id), 'resend-minute:')",
        json!({}),
    )
    .await;
    let (status, body) = resend().await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("in a day"),
        "{body}"
    );
    assert_eq!(links().await, 5);
}

/// Book-and-cancel loops that mail the specialist attacker-written text are cut off: an
/// account's cancellations per hour are capped, and an address gets a bounded number of
/// notifications a day caused by others (the cancellations themselves still go through).
#[engine_test]
async fn book_and_cancel_loops_are_limited_per_account_and_per_address() {
    let app = spawn_with(Options {
        extra: vec![
            ("MAIL_ACTIONS_PER_HOUR", "2".into()),
            ("MAIL_PER_ADDRESS_PER_DAY", "3".into()),
        ],
        ..Default::default()
    })
    .await;
    // A specialist account whose address nobody confirmed: perhaps not theirs at all.
    let spec = app.unverified_user(Role::Specialist, "Mae").await;
    let slot = app.slot(&spec, 72, 5).await;
    async fn cancel(
        app: &crate::helpers::TestApp,
        slot: &str,
        token: &str,
        index: u64,
    ) -> StatusCode {
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/{index}/cancel"),
            Some(token),
            &json!({ "reason": "Mailbox locked: verify at evil.example" }),
        )
        .await
        .status()
    }
    let looper = app.user(Role::Customer, "Loop").await;
    let mut index = 0;
    for _ in 0..2 {
        assert_eq!(app.book(&slot, &looper).await.status(), 201);
        assert_eq!(
            cancel(&app, &slot, &looper.token, index).await,
            StatusCode::OK
        );
        index += 1;
    }
    assert_eq!(app.book(&slot, &looper).await.status(), 201);
    assert_eq!(
        cancel(&app, &slot, &looper.token, index).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    index += 1;
    // Other customers' cancellations still work; the unconfirmed address hears of three a day.
    for name in ["Ned", "Oda"] {
        let other = app.user(Role::Customer, name).await;
        assert_eq!(app.book(&slot, &other).await.status(), 201);
        assert_eq!(
            cancel(&app, &slot, &other.token, index).await,
            StatusCode::OK
        );
        index += 1;
    }
    let to_specialist = app
        .query(
            "SELECT VALUE id FROM job WHERE kind = 'email' AND payload.to = $to AND string::contains(key, 'cancelled')",
            json!({ "to": spec.email }),
        )
        .await;
    assert_eq!(to_specialist.len(), 3, "{to_specialist:?}");
}

/// A trial run's demo accounts (public passwords) do not survive into production: starting in
/// production disables them, ending their sessions, once.
#[engine_test]
async fn production_disables_demo_accounts_left_in_the_database() {
    use specialistly::server::seed;
    let app = spawn_with(Options {
        extra: vec![("SEED_DEMO_DATA", "true".into())],
        ..Default::default()
    })
    .await;
    let res = app
        .login(seed::DEMO_SPECIALIST_EMAIL, seed::DEMO_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, body) = json_body(res).await;
    let session = body["data"]["token"].as_str().unwrap().to_string();

    let mut disabled = seed::disable_demo_accounts(&app.state.db).await.unwrap();
    disabled.sort();
    assert_eq!(
        disabled,
        [seed::DEMO_CUSTOMER_EMAIL, seed::DEMO_SPECIALIST_EMAIL]
    );
    for email in [seed::DEMO_SPECIALIST_EMAIL, seed::DEMO_CUSTOMER_EMAIL] {
        assert_eq!(
            app.login(email, seed::DEMO_PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _) = json_body(app.get("/api/auth/me", Some(&session)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the demo session ended");
    assert!(seed::disable_demo_accounts(&app.state.db)
        .await
        .unwrap()
        .is_empty());
    // Other accounts are untouched.
    let user = app.user(Role::Customer, "Real").await;
    assert_eq!(
        app.login(&user.email, crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

/// Writes of one account's settings that arrive together (two tabs, a retrying client) all
/// succeed: the database makes the losers of a write conflict start over; they used to
/// answer 500 (the API contract test found it).
#[engine_test]
async fn simultaneous_settings_writes_of_one_account_all_succeed() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Tab Specialist").await;
    let (_, settings) = json_body(
        app.get("/api/profile/zoom-settings", Some(&spec.token))
            .await,
    )
    .await;
    let settings = settings["data"].clone();
    let switches: Vec<_> = (0..12).map(|i| json!({ "enabled": i % 2 == 0 })).collect();
    let changes: Vec<_> = (0..12)
        .map(|i| {
            let mut changed = settings.clone();
            changed["waitingRoom"] = json!(i % 2 == 0);
            changed["muteUponEntry"] = json!(i % 3 == 0);
            changed
        })
        .collect();
    let empty = json!({});
    for _round in 0..5 {
        let reminders = switches
            .iter()
            .map(|switch| app.put_json("/api/profile/reminders", &spec.token, switch));
        let zoom = changes
            .iter()
            .map(|changed| app.put_json("/api/profile/zoom-settings", &spec.token, changed));
        let feeds =
            (0..12).map(|_| app.post_json("/api/calendar/token", Some(&spec.token), &empty));
        let (reminders, zoom, feeds) = tokio::join!(
            futures::future::join_all(reminders),
            futures::future::join_all(zoom),
            futures::future::join_all(feeds)
        );
        for res in reminders.into_iter().chain(zoom).chain(feeds) {
            let status = res.status();
            assert!(
                status.is_success(),
                "{status}: {}",
                res.text().await.unwrap()
            );
        }
    }
    let stored = app
        .query(
            "SELECT VALUE reminders_enabled FROM type::record('user', $id)",
            json!({ "id": spec.id }),
        )
        .await;
    assert!(stored[0].is_boolean(), "{stored:?}");
}
