//! A SurrealDB server process (`specialistly db-server`, the app's own binary), for the suite
//! on `ws://` and the tests of outages and of several instances on one database.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use specialistly::server::db::new_key;

pub const USER: &str = "root";
pub const PASS: &str = "root";

/// Whether `SPECIALISTLY_TEST_DATABASE=ws` asks for the whole suite on a SurrealDB server.
pub fn suite_on_server() -> bool {
    std::env::var("SPECIALISTLY_TEST_DATABASE").is_ok_and(|v| v == "ws")
}

/// Where one test's data lives on a server: its URL and a namespace/database of its own.
#[derive(Clone, Debug)]
pub struct ServerDatabase {
    pub url: String,
    pub namespace: String,
    pub database: String,
}

impl ServerDatabase {
    /// The configuration an app instance needs to use it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", self.url.clone()),
            ("SURREAL_NS", self.namespace.clone()),
            ("SURREAL_DB", self.database.clone()),
            ("SURREAL_USER", USER.into()),
            ("SURREAL_PASS", PASS.into()),
        ]
    }
}

pub struct SurrealServer {
    pub port: u16,
    storage: String,
    process: Option<(Child, ChildStdin)>,
}

impl SurrealServer {
    /// The app's own binary, which runs the SurrealDB server as `specialistly db-server`.
    fn binary() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_specialistly"))
    }

    /// A server on a free loopback port over `storage` (`memory` or `surrealkv://DIR`).
    pub fn start(storage: &str) -> Self {
        let mut server = Self {
            port: crate::helpers::free_port(),
            storage: storage.to_string(),
            process: None,
        };
        server.restart();
        server
    }

    /// One in-memory server for the whole test run; each test takes a database of its own.
    pub fn shared() -> &'static SurrealServer {
        static SHARED: OnceLock<SurrealServer> = OnceLock::new();
        SHARED.get_or_init(|| {
            let server = Self::start("memory");
            watch_over(server.port);
            server
        })
    }

    /// A fresh, empty database on this server.
    pub fn fresh_database(&self) -> ServerDatabase {
        ServerDatabase {
            url: self.url(),
            namespace: "test".into(),
            database: new_key(),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Starts the process (again, on the same port and storage) and waits until it listens.
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "the server is already running");
        let mut child = Command::new(Self::binary())
            .args(["db-server", "start", "--no-banner", "--log", "warn"])
            .args(["--bind", &format!("127.0.0.1:{}", self.port)])
            .args(["--user", USER, "--pass", PASS])
            .arg(&self.storage)
            // The server exits when this pipe closes, whatever way the test process ends.
            .env("SURREAL_EXIT_WITH_STDIN", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("starting the SurrealDB server");
        let stdin = child.stdin.take().expect("stdin pipe");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the SurrealDB server exited at start-up: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the SurrealDB server did not listen on {} within a minute",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.process = Some((child, stdin));
    }

    /// Kills the process, as a crash or an operator would.
    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.process.take() {
            drop(stdin);
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for SurrealServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ends the test run, loudly, when the shared server stops listening: every test using it would
/// otherwise wait for it for good (the client reconnects without end).
fn watch_over(port: u16) {
    std::thread::spawn(move || {
        let mut failures = 0;
        loop {
            std::thread::sleep(Duration::from_secs(1));
            failures = match TcpStream::connect(("127.0.0.1", port)) {
                Ok(_) => 0,
                Err(_) => failures + 1,
            };
            if failures >= 5 {
                eprintln!("the shared SurrealDB server on port {port} stopped listening; ending the test run");
                std::process::exit(101);
            }
        }
    });
}
