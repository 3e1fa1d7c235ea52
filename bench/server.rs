//! The server under test: the release binary as a child process, and its resident memory
//! sampled every 20 ms from /proc for as long as it runs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The server's token key; the reads' floor (`floor.rs`) signs its readers' sessions with it too.
pub const JWT_SECRET: &str = "bench-jwt-secret-bench-jwt-secret-0123456789";

pub struct Server {
    child: Child,
    pub base: String,
    rss: Arc<RssWatch>,
}

#[derive(Default)]
struct RssWatch {
    now_kib: AtomicU64,
    peak_kib: AtomicU64,
    stop: AtomicBool,
}

#[derive(Clone, Copy)]
pub struct Setup<'a> {
    pub binary: &'a Path,
    pub site_root: &'a Path,
    pub data_dir: &'a Path,
    pub smtp_port: u16,
    pub zoom_base: &'a str,
    /// Settings that replace the defaults (a SurrealDB server instead of SurrealKV, say).
    pub env: &'a [(&'a str, String)],
}

impl Server {
    pub async fn start(setup: &Setup<'_>) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let db: PathBuf = setup.data_dir.join("db");
        let child = Command::new(setup.binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("LEPTOS_ENV", "PROD")
            .env("LEPTOS_OUTPUT_NAME", "specialistly")
            .env("LEPTOS_SITE_ROOT", setup.site_root)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", format!("surrealkv://{}", db.display()))
            .env("DATA_DIR", setup.data_dir)
            .env("JWT_SECRET", JWT_SECRET)
            .env("SEED_DEMO_DATA", "false")
            .env("SMTP_URL", format!("smtp://127.0.0.1:{}", setup.smtp_port))
            .env("ZOOM_ACCOUNT_ID", "bench-account")
            .env("ZOOM_CLIENT_ID", "bench-client")
            .env("ZOOM_CLIENT_SECRET", "bench-secret")
            .env("ZOOM_API_URL", format!("{}/v2", setup.zoom_base))
            .env("ZOOM_OAUTH_URL", format!("{}/oauth/token", setup.zoom_base))
            // The benchmark signs everyone in from one address.
            .env("AUTH_RATE_PER_IP_PER_MINUTE", "1000000")
            .envs(setup.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", setup.binary.display()));
        let rss = Arc::new(RssWatch::default());
        let watch = rss.clone();
        let pid = child.id();
        std::thread::spawn(move || {
            while !watch.stop.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    watch.now_kib.store(kib, Ordering::Relaxed);
                    watch.peak_kib.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let server = Self { child, base, rss };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn rss_mib(&self) -> f64 {
        self.rss.now_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }

    /// RSS now and at its peak so far, for progress lines.
    pub fn rss_text(&self) -> String {
        format!(
            "RSS {:.0} MiB, peak {:.0} MiB",
            self.rss_mib(),
            self.peak_rss_mib()
        )
    }

    pub fn peak_rss_mib(&self) -> f64 {
        self.rss.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.rss.stop.store(true, Ordering::Relaxed);
    }
}

/// A bench that panics does not leave its server running (one such server, its mail sink
/// gone, kept retrying thousands of emails and skewed the next run).
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.rss.stop.store(true, Ordering::Relaxed);
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
