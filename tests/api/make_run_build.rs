//! The server binary exactly as `make run` builds and starts it (this profile, its features, an
//! embedded SurrealKV database with the demo data): a returning login through the login form
//! and a burst of bookings of one slot once aborted it with a stack overflow inside
//! SurrealDB's evaluator, on threads with std's default stack (2 MiB, unless `RUST_MIN_STACK`
//! says otherwise), which the engine outgrew in `make run`'s build of the day.
//!
//! The server now sizes its threads itself, so the environment must not matter: it runs here
//! with `RUST_MIN_STACK` at 1 MiB, which this build's engine outgrows on the first login (these
//! tests fail so when the runtime is built with tokio's defaults).

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::helpers::{form_body, free_port};

const DEMO_PASSWORD: &str = "demo-password";
/// The stack std gives a thread that asks for no size, as a user's environment may set it.
const SMALL_DEFAULT_STACK: &str = "1048576";

struct Served {
    child: Child,
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Served {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_specialistly"))
            .env("RUST_MIN_STACK", SMALL_DEFAULT_STACK)
            .env(
                "DATABASE_URL",
                format!("surrealkv://{}/db", dir.path().display()),
            )
            .env("DATA_DIR", dir.path())
            .env("MAIL_DIR", dir.path().join("mail"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("APP_BASE_URL", &base)
            .env("AUTH_RATE_PER_IP_PER_MINUTE", "1000")
            .env_remove("APP_ENV")
            .env_remove("SEED_DEMO_DATA")
            .env_remove("SMTP_URL")
            .env_remove("JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let mut served = Self {
            child,
            base,
            client,
            _dir: dir,
        };
        for _ in 0..600 {
            if served.is_answering().await {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server never answered: {}", served.stderr().await);
    }

    async fn is_answering(&mut self) -> bool {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the server exited ({status}): {}", self.stderr().await);
        }
        self.client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
    }

    /// Fails the test, with what the server printed, once it no longer runs.
    async fn assert_alive(&mut self, after: &str) {
        assert!(
            self.is_answering().await,
            "the server stopped answering after {after}"
        );
    }

    async fn stderr(&mut self) -> String {
        let _ = self.child.start_kill();
        let mut text = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = err.read_to_string(&mut text).await;
        }
        text.lines()
            .filter(|l| !l.contains(" INFO "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn form_login(&self, email: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/login", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .body(form_body(&[("email", email), ("password", DEMO_PASSWORD)]))
            .send()
            .await
            .unwrap()
    }
}

#[engine_test]
async fn returning_form_logins_of_the_demo_accounts_leave_the_server_running() {
    let mut served = Served::start().await;
    for email in ["specialist@demo.test", "customer@demo.test"] {
        for attempt in 1..=3 {
            let res = served.form_login(email).await;
            // The form's server function answers a browser's post (no script) with a redirect home.
            assert!(
                res.status().is_redirection(),
                "login {attempt} of {email}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
            assert!(res
                .headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("specialistly_token=")));
            served
                .assert_alive(&format!("login {attempt} of {email}"))
                .await;
        }
    }
}

#[engine_test]
async fn thirty_customers_booking_one_slot_at_once_leave_the_server_running() {
    let mut served = Served::start().await;
    let res = served
        .client
        .get(format!("{}/api/consulting-slots", served.base))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let group = body["data"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Group Q&A: starting a consultancy")
        .expect("the demo data's group slot")
        .clone();
    let seats = group["capacity"].as_u64().unwrap() as usize;
    assert!(seats < 30, "the burst must be larger than the slot");

    let mut tokens = Vec::new();
    for n in 0..30 {
        let res = served
            .client
            .post(format!("{}/api/auth/register", served.base))
            .json(&json!({
                "name": format!("Customer {n}"),
                "email": format!("burst{n}@example.com"),
                "password": "correct-horse-battery",
                "role": "customer",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        tokens.push(body["data"]["token"].as_str().unwrap().to_string());
    }
    let url = format!(
        "{}/api/consulting-slots/{}/book",
        served.base,
        group["id"].as_str().unwrap()
    );
    let answers = futures::future::join_all(tokens.iter().map(|token| {
        served
            .client
            .post(&url)
            .bearer_auth(token)
            .json(&json!({ "additionalNotes": "" }))
            .send()
    }))
    .await;
    served.assert_alive("thirty bookings at once").await;
    let statuses: Vec<StatusCode> = answers
        .into_iter()
        .map(|r| r.expect("every booking is answered").status())
        .collect();
    let booked = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(booked, seats, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}
