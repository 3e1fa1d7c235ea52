//! The few calls the benchmark makes to set things up, over the public REST API.

use serde_json::{json, Value};

#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(512)
                // Bodies as sent: another crate in the build turns on reqwest's gzip, which
                // would otherwise decompress them (the first-load table measures them).
                .no_gzip()
                .build()
                .expect("an HTTP client"),
            base: base.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        answer(
            self.client
                .put(self.url(path))
                .json(&body)
                .bearer_auth(token),
        )
        .await
    }

    /// Gives the specialist of `token` the page `/s/<handle>`.
    pub async fn page(&self, token: &str, handle: &str) -> String {
        let (status, body) = self
            .put("/api/profile/page", token, json!({ "handle": handle }))
            .await;
        assert_eq!(status, 200, "setting a page: {body}");
        format!("/s/{handle}")
    }

    /// A new account's token.
    pub async fn register(&self, name: &str, email: &str, role: &str) -> String {
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                json!({ "name": name, "email": email, "password": PASSWORD, "role": role, "timezone": "Europe/Berlin" }),
            )
            .await;
        assert_eq!(status, 201, "registering {email}: {body}");
        body["data"]["token"].as_str().expect("a token").to_string()
    }

    /// A slot `hours_ahead` from now.
    pub async fn slot(&self, token: &str, title: &str, hours_ahead: i64, capacity: u32) -> String {
        let at = chrono::Utc::now() + chrono::Duration::hours(hours_ahead);
        let (status, body) = self
            .post(
                "/api/consulting-slots",
                Some(token),
                json!({
                    "title": title, "date": at.format("%Y-%m-%d").to_string(),
                    "startTime": at.format("%H:00").to_string(), "timezone": "UTC",
                    "duration": 30, "capacity": capacity,
                }),
            )
            .await;
        assert_eq!(status, 201, "creating a slot: {body}");
        body["data"]["id"].as_str().expect("a slot id").to_string()
    }

    pub async fn book(&self, token: &str, slot: &str) -> (u16, Option<u64>) {
        let (status, body) = self
            .post(
                &format!("/api/consulting-slots/{slot}/book"),
                Some(token),
                json!({}),
            )
            .await;
        (status, body["data"]["bookingIndex"].as_u64())
    }
}

pub const PASSWORD: &str = "bench-password-123";

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}
