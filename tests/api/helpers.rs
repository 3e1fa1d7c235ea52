//! `spawn_app()`: the real router on a fresh database, with a real SMTP sink process and the
//! Zoom double when a test asks for them. The database is `mem://`, or a database of its own on
//! one SurrealDB server when `SPECIALISTLY_TEST_DATABASE=ws` runs the suite over `ws://`.

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use leptos::config::LeptosOptions;
use mail_parser::{Message, MessageParser};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use specialistly::model::Role;
use specialistly::server::app_state::AppState;
use specialistly::server::config::Config;
use specialistly::server::db::{new_key, run};
use specialistly::server::jobs::worker::JobWorker;
use specialistly::server::repo::users::{self, NewUser};
use specialistly::server::service::{accounts, booking};
use specialistly::server::startup::Application;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::surreal_server::{suite_on_server, ServerDatabase, SurrealServer};
use crate::zoom_double::ZoomDouble;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// A real argon2id hash of "password123", so test users need no hashing.
pub const PASSWORD: &str = "password123";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub worker: JobWorker,
    pub mail_dir: tempfile::TempDir,
    pub smtp: Option<SmtpSink>,
    pub zoom: Option<ZoomDouble>,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Default)]
pub struct Options {
    pub smtp: bool,
    pub zoom: bool,
    pub extra: Vec<(&'static str, String)>,
    /// Where the app listens; loopback unless a test needs to be reached from elsewhere.
    pub bind: Option<&'static str>,
    /// With `smtp`: how long the SMTP server takes to acknowledge each message.
    pub smtp_delay: Option<Duration>,
    /// A database on a SurrealDB server (instances given the same one share everything).
    pub database: Option<ServerDatabase>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    // Logs go to the test's captured output: shown for a failing test only.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,specialistly=info".into()),
        )
        .with_test_writer()
        .try_init();
    let data_dir = tempfile::tempdir().unwrap();
    let mail_dir = tempfile::tempdir().unwrap();
    let smtp = if options.smtp {
        Some(SmtpSink::start(options.smtp_delay.unwrap_or_default()).await)
    } else {
        None
    };
    let zoom = if options.zoom {
        Some(ZoomDouble::start().await)
    } else {
        None
    };

    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", "mem://".to_string()),
        ("JWT_SECRET", JWT_SECRET.into()),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("MAIL_DIR", mail_dir.path().display().to_string()),
        ("SEED_DEMO_DATA", "false".into()),
        ("OUTBOX_POLL_MILLIS", "0".into()),
    ]);
    if let Some(s) = &smtp {
        vars.insert("SMTP_URL", format!("smtp://127.0.0.1:{}", s.port));
    }
    if let Some(z) = &zoom {
        for (k, v) in z.env() {
            vars.insert(k, v);
        }
    }
    let own_database = options.extra.iter().any(|(k, _)| *k == "DATABASE_URL");
    let server_database = options.database.or_else(|| {
        (suite_on_server() && !own_database).then(|| SurrealServer::shared().fresh_database())
    });
    for (k, v) in server_database.iter().flat_map(ServerDatabase::env) {
        vars.insert(k, v);
    }
    for (k, v) in options.extra {
        vars.insert(k, v);
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
    let leptos = LeptosOptions::builder().output_name("specialistly").build();
    let bind = options.bind.unwrap_or("127.0.0.1:0");
    let app = Application::build(config, leptos, bind.parse().unwrap())
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.local_addr().port());
    let state = app.state.clone();
    let worker = app.worker.clone();
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(stop.clone()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A request that never ends fails its test instead of holding the suite past CI's limit.
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        state,
        worker,
        mail_dir,
        smtp,
        zoom,
        stop,
        server: Some(server),
        _data_dir: data_dir,
    }
}

/// An IPv4 address of this machine other than loopback, to reach the app as another host would.
pub fn non_loopback_address() -> std::net::Ipv4Addr {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname -I");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
        .find(|a| !a.is_loopback())
        .expect("this test needs a network interface besides loopback")
}

/// An `application/x-www-form-urlencoded` body, as a browser posts a form.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A file of this repository. Cargo sets `CARGO_MANIFEST_DIR` when it runs the tests; the
/// compile-time value is only the fallback, as a binary cargo deems fresh may have been built
/// by a clone at another path (the target directory is shared outside the clone).
pub fn repo_file(relative: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join(relative)
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// Sends the stop signal and waits for the server to finish; returns how long it took.
    pub async fn shut_down(&mut self) -> Duration {
        let started = std::time::Instant::now();
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        started.elapsed()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// A user stored directly (no HTTP, no hashing), with a valid token.
    pub async fn user(&self, role: Role, name: &str) -> TestUser {
        self.user_in_zone(role, name, "Europe/Berlin").await
    }

    pub async fn user_in_zone(&self, role: Role, name: &str, timezone: &str) -> TestUser {
        self.stored_user(role, name, timezone, true).await
    }

    /// A user with a given email address.
    pub async fn user_with_email(&self, role: Role, name: &str, email: &str) -> TestUser {
        let id = new_key();
        users::create(
            &self.state.db,
            NewUser {
                id: &id,
                name,
                email,
                password_hash: password_hash(),
                role,
                timezone: "UTC",
                email_verified: true,
            },
        )
        .await
        .expect("user stored");
        TestUser {
            token: accounts::open_session(&self.state, &id)
                .await
                .expect("session"),
            id,
            email: email.to_string(),
        }
    }

    /// A user who has not confirmed their email address yet.
    pub async fn unverified_user(&self, role: Role, name: &str) -> TestUser {
        self.stored_user(role, name, "Europe/Berlin", false).await
    }

    async fn stored_user(
        &self,
        role: Role,
        name: &str,
        timezone: &str,
        email_verified: bool,
    ) -> TestUser {
        let id = new_key();
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase().replace(' ', "."),
            &id[..6]
        );
        users::create(
            &self.state.db,
            NewUser {
                id: &id,
                name,
                email: &email,
                password_hash: password_hash(),
                role,
                timezone,
                email_verified,
            },
        )
        .await
        .expect("user stored");
        TestUser {
            token: accounts::open_session(&self.state, &id)
                .await
                .expect("session"),
            id,
            email,
        }
    }

    /// A slot `hours` from now, created through the API.
    pub async fn slot(&self, specialist: &TestUser, hours: i64, capacity: u32) -> String {
        let at = chrono::Utc::now() + chrono::Duration::hours(hours);
        let body = json!({
            "date": at.format("%Y-%m-%d").to_string(),
            "startTime": at.format("%H:%M").to_string(),
            "duration": 45,
            "capacity": capacity,
            "title": "Strategy session",
            "timezone": "UTC",
        });
        let res = self
            .post_json("/api/consulting-slots", Some(&specialist.token), &body)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        let body: Value = res.json().await.unwrap();
        body["data"]["id"].as_str().unwrap().to_string()
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Books, then follows the booking up as the worker would right after.
    pub async fn book(&self, slot: &str, customer: &TestUser) -> Response {
        let response = self
            .post_json(
                &format!("/api/consulting-slots/{slot}/book"),
                Some(&customer.token),
                &json!({}),
            )
            .await;
        if response.status() == StatusCode::CREATED {
            self.follow_up_bookings().await;
        }
        response
    }

    pub async fn create_zoom(&self, slot: &str, index: &str, token: Option<&str>) -> Response {
        self.post_json(
            &format!("/api/consulting-slots/{slot}/booking/{index}/create-zoom"),
            token,
            &json!({}),
        )
        .await
    }

    /// The status `GET path` answers `token` once it is `expected`, or the last one after two
    /// seconds: a change made behind this instance's back reaches its session cache through a
    /// live query, a moment after the write.
    pub async fn status_becomes(
        &self,
        path: &str,
        token: &str,
        expected: StatusCode,
    ) -> StatusCode {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let status = self.get(path, Some(token)).await.status();
            if status == expected || tokio::time::Instant::now() > deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signs in with `token` until its session is cached (a change made just before, told late
    /// by its live query, may forget it once).
    pub async fn read_until_session_cached(&self, token: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !self.session_is_cached(token) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the session was never cached"
            );
            let status = self.get("/api/auth/me", Some(token)).await.status();
            assert_eq!(status, StatusCode::OK);
        }
    }

    /// Whether the session behind `token` is in this instance's session cache.
    pub fn session_is_cached(&self, token: &str) -> bool {
        let subject = self.state.jwt.verify(token).expect("a token of this app");
        self.state
            .session_cache
            .get(&subject.session_id, &subject.user_id)
            .is_some()
    }

    /// Waits until the session cache's live queries run (they start with the app).
    pub async fn caches_running(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.state.session_cache.generation().is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the session cache never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn query(&self, sql: &str, vars: Value) -> Vec<Value> {
        run(&self.state.db, sql, vars)
            .await
            .expect("query")
            .all(0)
            .expect("rows")
    }

    /// Everything the application stores, to compare before and after a call.
    pub async fn dump(&self) -> Value {
        let mut all = serde_json::Map::new();
        for table in [
            "user",
            "slot",
            "booking",
            "job",
            "session",
            "email_verification",
        ] {
            let rows = self
                .query(
                    "SELECT * FROM type::table($t) ORDER BY id",
                    json!({ "t": table }),
                )
                .await;
            all.insert(table.into(), Value::Array(rows));
        }
        Value::Object(all)
    }

    /// Does now what the worker does after a booking's commit (its `booking_created` job):
    /// queues the booking's emails, reminders and events. The jobs stay queued; the worker
    /// runs them later, and they find nothing left to queue.
    pub async fn follow_up_bookings(&self) {
        let ids = self
            .query(
                "SELECT VALUE payload.booking_id FROM job WHERE kind = 'booking_created' AND status = 'pending'",
                json!({}),
            )
            .await;
        for id in ids {
            booking::follow_up(&self.state, id.as_str().unwrap())
                .await
                .expect("a booking's follow-up");
        }
    }

    /// Emails queued (sent or not), other jobs aside, once the bookings made are followed up.
    pub async fn count_emails(&self) -> usize {
        self.follow_up_bookings().await;
        let rows = self
            .query(
                "SELECT VALUE count() FROM job WHERE kind = 'email' GROUP ALL",
                json!({}),
            )
            .await;
        rows.first().and_then(|v| v.as_u64()).unwrap_or(0) as usize
    }

    pub async fn count(&self, table: &str) -> usize {
        self.query(&format!("SELECT id FROM {table}"), json!({}))
            .await
            .len()
    }

    /// The emails the test SMTP server received for `to` once the due jobs ran: (subject,
    /// text), oldest first.
    pub async fn mail_to(&self, to: &str) -> Vec<(String, String)> {
        self.drain_jobs().await;
        self.smtp
            .as_ref()
            .expect("an app started with smtp")
            .messages()
            .iter()
            .map(|raw| parse(raw))
            .filter(|m| to_address(m) == to)
            .map(|m| {
                (
                    m.subject().unwrap_or_default().to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Runs the job worker until nothing more is due now.
    pub async fn drain_jobs(&self) -> usize {
        let mut total = 0;
        loop {
            let sent = self.worker.run_once().await.expect("outbox pass");
            if sent == 0 {
                return total;
            }
            total += sent;
        }
    }
}

fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    })
}

/// The lines of a Prometheus scrape of series `name` that carry every one of `labels`.
pub fn series<'a>(scrape: &'a str, name: &str, labels: &[&str]) -> Vec<&'a str> {
    scrape
        .lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
        .collect()
}

/// The value of the first such line; 0 when there is none.
pub fn counter(scrape: &str, name: &str, labels: &[&str]) -> f64 {
    series(scrape, name, labels)
        .first()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

pub async fn json_body(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// The test SMTP server: a separate process speaking real SMTP.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    /// How long the server waits before acknowledging each message.
    data_delay: Duration,
}

impl SmtpSink {
    /// A server on a port the system picks, that acknowledges each message only after
    /// `data_delay` (zero: at once).
    pub async fn start(data_delay: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Self {
            port: 0,
            dir,
            child: None,
            data_delay,
        };
        sink.restart().await;
        sink
    }

    /// A sink that is not running yet (the port stays closed until `restart`).
    pub fn stopped(port: u16) -> Self {
        Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            data_delay: Duration::ZERO,
        }
    }

    /// Starts the server again on its port (on a free one the first time).
    pub async fn restart(&mut self) {
        let script = repo_file("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .arg(self.data_delay.as_millis().to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (make test installs it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        let port = match &ready {
            Ok(Ok(Some(line))) => line.strip_prefix("ready ").and_then(|p| p.parse().ok()),
            _ => None,
        };
        self.port = port.unwrap_or_else(|| panic!("SMTP sink did not start: {ready:?}"));
        self.child = Some(child);
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.ok();
        }
    }

    pub fn messages(&self) -> Vec<Vec<u8>> {
        read_eml_dir(self.dir.path())
    }

    /// Waits until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..100 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

pub fn read_eml_dir(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

pub fn parse(bytes: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(bytes)
        .expect("a parsable message")
}

pub fn to_address(m: &Message<'_>) -> String {
    m.to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string()
}
