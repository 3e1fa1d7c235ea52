//! The outside world the server talks to during the benchmark, answering at once: an SMTP
//! sink that accepts every message, and a Zoom double speaking the REST calls the live
//! client makes (Server-to-Server OAuth, create/list/update/delete meetings).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Counts the messages it accepted, keeps the most recent ones (for verification links) and
/// when each recipient's messages arrived (for the emails' delay).
#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<AtomicU64>,
    recent: Arc<Mutex<Vec<String>>>,
    arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding SMTP");
        let sink = Self {
            port: listener.local_addr().unwrap().port(),
            ..Default::default()
        };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = accepting.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
        sink
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// When messages to `address` arrived, in order.
    pub fn arrivals(&self, address: &str) -> Vec<Instant> {
        let arrivals = self.arrivals.lock().unwrap();
        arrivals.get(address).cloned().unwrap_or_default()
    }

    /// The first message body containing `needle`, most recent first.
    pub fn find(&self, needle: &str) -> Option<String> {
        let recent = self.recent.lock().unwrap();
        recent.iter().rev().find(|m| m.contains(needle)).cloned()
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 bench-smtp ready\r\n").await?;
        let mut line = String::new();
        let mut recipients = Vec::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            if verb == "RCPT" {
                if let Some(address) = line.split(['<', '>']).nth(1) {
                    recipients.push(address.to_ascii_lowercase());
                }
            }
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-bench-smtp\r\n250 8BITMIME\r\n",
                "DATA" => {
                    write.write_all(b"354 end with .\r\n").await?;
                    let mut message = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" || line == ".\n" {
                            break;
                        }
                        message.push_str(&line);
                    }
                    self.received.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    let mut arrivals = self.arrivals.lock().unwrap();
                    for to in recipients.drain(..) {
                        arrivals.entry(to).or_default().push(now);
                    }
                    drop(arrivals);
                    let mut recent = self.recent.lock().unwrap();
                    if recent.len() >= 64 {
                        recent.remove(0);
                    }
                    recent.push(message);
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await?;
        }
    }
}

/// Answers like Zoom with no latency; counts meetings created.
#[derive(Clone, Default)]
pub struct ZoomDouble {
    pub base: String,
    created: Arc<AtomicU64>,
}

impl ZoomDouble {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding Zoom");
        let double = Self {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..Default::default()
        };
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/v2/users/{user}/meetings", post(create).get(list))
            .route(
                "/v2/meetings/{id}",
                patch(no_content).delete(no_content).get(meeting),
            )
            .with_state(double.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        double
    }

    pub fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
}

async fn token() -> Json<Value> {
    Json(
        json!({ "access_token": "bench-token", "token_type": "bearer", "expires_in": 3599, "scope": "meeting:write" }),
    )
}

async fn create(
    State(double): State<ZoomDouble>,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let id = 90_000_000_000 + double.created.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::CREATED,
        Json(json!({
            "id": id, "host_email": user, "topic": body["topic"], "agenda": body["agenda"],
            "start_time": body["start_time"], "duration": body["duration"],
            "join_url": format!("https://zoom.example/j/{id}?pwd=bench"),
            "start_url": format!("https://zoom.example/s/{id}?zak=bench"),
            "password": body["password"],
        })),
    )
}

async fn list() -> Json<Value> {
    Json(json!({ "page_size": 300, "total_records": 0, "next_page_token": "", "meetings": [] }))
}

async fn meeting(Path(id): Path<String>) -> Json<Value> {
    Json(json!({ "id": id, "start_url": format!("https://zoom.example/s/{id}?zak=fresh") }))
}

async fn no_content() -> StatusCode {
    StatusCode::NO_CONTENT
}
