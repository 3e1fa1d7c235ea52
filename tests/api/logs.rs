//! The real server binary at `RUST_LOG=debug`, driven through sign-up, confirmation, login,
//! booking, a live Zoom meeting and logout: none of the secrets it handled may appear in its
//! logs.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::helpers::{free_port, parse, to_address, SmtpSink};
use crate::surreal_server::SurrealServer;
use crate::zoom_double::{ZoomDouble, CLIENT_SECRET};

const PASSWORD: &str = "correct-horse-battery";

/// The server binary, its output captured, answering on a port of its own.
struct LoggedServer {
    child: tokio::process::Child,
    base: String,
    _data: tempfile::TempDir,
}

impl LoggedServer {
    /// Starts it with `env` over a base configuration (no demo data, jobs every 100 ms) and
    /// waits until it answers.
    async fn start(env: Vec<(&str, String)>) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_specialistly"))
            .env_remove("RUST_LOG")
            .env("DATABASE_URL", "mem://")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("APP_BASE_URL", &base)
            .env("JWT_SECRET", "log-test-jwt-secret-log-test-jwt-secret")
            .env("DATA_DIR", data.path())
            .env("SEED_DEMO_DATA", "false")
            .env("OUTBOX_POLL_MILLIS", "100")
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            child,
            base,
            _data: data,
        }
    }

    /// Stops it; everything it wrote.
    async fn logs(mut self) -> String {
        self.child.start_kill().unwrap();
        let mut logs = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut logs).await.unwrap();
        }
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut logs).await.unwrap();
        }
        logs
    }
}

#[engine_test]
async fn debug_logs_never_show_a_password_token_zoom_secret_or_start_link() {
    let zoom = ZoomDouble::start().await;
    let smtp = SmtpSink::start(Duration::ZERO).await;
    let mut env = zoom.env();
    env.push(("RUST_LOG", "debug".into()));
    env.push(("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)));
    let server = LoggedServer::start(env).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut r = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t.to_string());
        }
        r.send()
    };
    let mut secrets: Vec<String> = vec![PASSWORD.into(), CLIENT_SECRET.into()];

    let mut tokens = Vec::new();
    for (email, role) in [
        ("spec@example.com", "specialist"),
        ("cust@example.com", "customer"),
    ] {
        let res = post(
            "/api/auth/register",
            None,
            json!({ "name": "Pat", "email": email, "password": PASSWORD, "role": role }),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        tokens.push(body["data"]["token"].as_str().unwrap().to_string());
    }
    // Confirm the specialist's address with the link emailed to it (the worker sends the
    // two emails at once, so they arrive in either order).
    let mails = smtp.wait_for(2).await;
    let link_token = mails
        .iter()
        .filter(|raw| to_address(&parse(raw)) == "spec@example.com")
        .map(|raw| parse(raw).body_text(0).unwrap().to_string())
        .find_map(|t| {
            t.lines()
                .find(|l| l.contains("token="))
                .map(|l| l.split("token=").nth(1).unwrap().trim().to_string())
        })
        .expect("a confirmation link");
    for raw in &mails {
        let text = parse(raw).body_text(0).unwrap().to_string();
        if let Some(l) = text.lines().find(|l| l.contains("token=")) {
            secrets.push(l.split("token=").nth(1).unwrap().trim().to_string());
        }
    }
    assert_eq!(
        post(
            "/api/auth/verify-email",
            None,
            json!({ "token": link_token })
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let res = post(
        "/api/auth/login",
        None,
        json!({ "email": "spec@example.com", "password": PASSWORD }),
    )
    .await
    .unwrap();
    let body: Value = res.json().await.unwrap();
    let spec = body["data"]["token"].as_str().unwrap().to_string();
    assert!(
        post(
            "/api/auth/login",
            None,
            json!({ "email": "spec@example.com", "password": "wrong-password-1" })
        )
        .await
        .unwrap()
        .status()
            == 401
    );
    secrets.push("wrong-password-1".into());
    secrets.extend(tokens.iter().cloned());
    secrets.push(spec.clone());

    let at = chrono::Utc::now() + chrono::Duration::days(2);
    let res = post("/api/consulting-slots", Some(&spec), json!({ "date": at.format("%Y-%m-%d").to_string(), "startTime": "10:00", "duration": 30, "capacity": 2, "title": "Logs", "timezone": "UTC" })).await.unwrap();
    let slot = res.json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        post(
            &format!("/api/consulting-slots/{slot}/book"),
            Some(&tokens[1]),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let res = post(
        &format!("/api/consulting-slots/{slot}/booking/0/create-zoom"),
        Some(&spec),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let meeting: Value = res.json().await.unwrap();
    let start_url = meeting["data"]["zoomMeeting"]["startUrl"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(start_url.clone());
    secrets.push("zak=".into());
    let res = client
        .get(format!(
            "{base}/api/consulting-slots/{slot}/booking/0/start-url"
        ))
        .bearer_auth(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    secrets.push(
        res.json::<Value>().await.unwrap()["data"]
            .as_str()
            .unwrap_or("zak=")
            .to_string(),
    );
    // Secrets in a path: a calendar feed's address, and feedback links (a made-up one is
    // logged, or not, as a real one would be).
    let res = post("/api/calendar/token", Some(&spec), json!({}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let feed = res.json::<Value>().await.unwrap()["data"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let feed_token = feed
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let res = client.get(&feed).send().await.unwrap();
    assert_eq!(res.status(), 200);
    secrets.push(feed_token);
    let feedback_token = "Fb0".repeat(13) + "x";
    for path in [
        format!("/api/feedback/{feedback_token}"),
        format!("/feedback/{feedback_token}"),
    ] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert!(res.status().is_client_error() || res.status().is_success());
    }
    secrets.push(feedback_token);
    // Zoom's own access tokens.
    for n in 1..=zoom.tokens_issued() {
        secrets.push(format!("access-token-{n}"));
    }
    assert_eq!(
        post("/api/auth/logout", Some(&spec), json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    smtp.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let logs = server.logs().await;
    assert!(logs.contains("DEBUG"), "the server logged at debug level");
    assert!(logs.contains("Zoom meeting created"));
    for secret in &secrets {
        assert!(!secret.is_empty());
        if let Some(line) = logs.lines().find(|l| l.contains(secret.as_str())) {
            panic!(
                "a secret ({}…) is in the logs: {line}",
                &secret[..secret.len().min(6)]
            );
        }
    }
}

/// A page's event stream opened and closed, as every page view with live updates does: the
/// server's log, at its own default level, has no warning. The SDK's own kill of a dropped live
/// query runs beside ours and fails (on a session without a namespace), and its WARN was shown
/// 31 times in one run of the browser suite; `live_updates::a_closed_page_ends_its_live_query`
/// shows ours ends the query.
#[engine_test]
async fn an_event_stream_opened_and_closed_leaves_no_warning() {
    let server = LoggedServer::start(vec![]).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({ "name": "Stella", "email": "stella@example.com", "password": PASSWORD, "role": "specialist" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let mut stream = client
            .get(format!("{base}/api/events/meeting-manager"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        let first = stream.chunk().await.unwrap().unwrap_or_default();
        assert!(String::from_utf8_lossy(&first).contains("ready"));
        drop(stream);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let logs = server.logs().await;
    assert!(
        !logs
            .lines()
            .any(|l| l.contains("WARN") || l.contains("ERROR")),
        "{logs}"
    );
}

/// G4: while the database is down every request answers 5xx, logged at ERROR inside the
/// request's span; at debug level too, a secret carried in a path (a calendar feed, a feedback
/// link) or a query (an email confirmation, an unsubscribe link) never reaches the log. The
/// routes are still recognisable: the path is logged with `<secret>` in place.
#[engine_test]
async fn secrets_in_paths_and_queries_stay_out_of_the_logs_on_a_5xx() {
    let mut database = SurrealServer::start("memory");
    let mut env = database.fresh_database().env();
    env.push(("RUST_LOG", "debug".into()));
    env.push(("DATABASE_TIMEOUT_MILLIS", "1000".into()));
    let server = LoggedServer::start(env).await;
    let client = reqwest::Client::new();
    database.stop();
    let secret = "S3cr3t".repeat(6) + "Link";
    for path in [
        format!("/calendar/{secret}.ics"),
        format!("/api/feedback/{secret}"),
        format!("/feedback/{secret}"),
        format!("/verify-email?token={secret}"),
        format!("/unsubscribe?token={secret}"),
    ] {
        let res = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_server_error(), "{path}: {}", res.status());
    }
    let logs = server.logs().await;
    assert!(
        logs.lines()
            .any(|l| l.contains("ERROR") && l.contains("/calendar/<secret>.ics")),
        "the failed feed request is logged, without its secret: {logs}"
    );
    assert!(logs.contains("/feedback/<secret>"), "{logs}");
    if let Some(line) = logs.lines().find(|l| l.contains(&secret)) {
        panic!("a secret is in the logs: {line}");
    }
}

/// A request answered late is logged at WARN twice: when it is overdue (a request that never
/// ends shows too) and when it is answered, with its route and status. The late one here is a
/// login whose body arrives slowly; a prompt request logs nothing.
#[engine_test]
async fn a_late_answer_is_logged_when_overdue_and_when_answered() {
    use tokio::io::AsyncWriteExt;
    let server = LoggedServer::start(vec![("SLOW_REQUEST_WARN_MILLIS", "300".into())]).await;
    let client = reqwest::Client::new();
    let prompt = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(prompt.status(), StatusCode::OK);

    let body = r#"{"email":"nobody@example.com","password":"not-the-password-1"}"#;
    let mut tcp = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    tcp.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // Without the terminal's colours, which split `status=401` apart.
    let logs = without_colours(&server.logs().await);
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 2, "{logs}");
    assert!(
        warnings[0].contains("a request is still unanswered"),
        "{logs}"
    );
    assert!(
        warnings[1].contains("a slow request was answered"),
        "{logs}"
    );
    assert!(warnings[1].contains("status=401"), "{logs}");
    for w in &warnings {
        assert!(w.contains("/api/auth/login"), "{w}");
    }
}

/// `text` without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}
