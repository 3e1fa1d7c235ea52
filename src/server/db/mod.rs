//! SurrealDB: connection, a typed-error query helper and the versioned schema.

mod availability;
mod embedded;
mod live;
mod schema;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use serde::de::DeserializeOwned;
use surrealdb::engine::any::Any;
use surrealdb::engine::local::Db as Local;
use surrealdb::opt::auth::Root;
use surrealdb::types::QueryError;
use surrealdb::{IndexedResults, Surreal};

use super::config::DatabaseConfig;

pub use live::{watch, watch_changes, Change, Watch};
pub use schema::{current_version, migrate, migrate_to, SCHEMA_VERSION};

/// The database connection of an instance, shared by all its requests, with what its queries
/// learnt about the server being reachable.
///
/// A SurrealDB server gets a few connections, used in turn: one WebSocket carries one request
/// at a time through the SDK and the server, and was the ceiling of a single instance (two
/// instances on the same cores booked 1.6× as fast as one). Each is one session: cloning a
/// `Surreal` handle would fork a new session per request, set up again on the server before
/// its first query (seen to stall that query for seconds), so clones of `Db` share them.
#[derive(Clone)]
pub struct Db {
    conns: Arc<Conns>,
    availability: Arc<availability::Availability>,
}

/// An embedded engine opened in this process, or the connections to a SurrealDB server with
/// the count that picks the next one.
enum Conns {
    Embedded(Surreal<Local>),
    Server {
        conns: Arc<Vec<Surreal<Any>>>,
        next: AtomicUsize,
    },
}

impl Db {
    /// False while a SurrealDB server is known to be unreachable (requests answer 503).
    pub fn is_available(&self) -> bool {
        !self.availability.is_down()
    }

    /// Runs `sql` with `vars` on the next connection, in turn.
    async fn query(
        &self,
        sql: &str,
        vars: serde_json::Value,
    ) -> Result<IndexedResults, surrealdb::Error> {
        self.query_on(self.next_connection(), sql, vars).await
    }

    /// The connection whose turn it is.
    fn next_connection(&self) -> usize {
        match &*self.conns {
            Conns::Embedded(_) => 0,
            Conns::Server { conns, next } => next.fetch_add(1, Ordering::Relaxed) % conns.len(),
        }
    }

    /// Runs `sql` with `vars` on connection `i` (a live query is killed on its own session).
    async fn query_on(
        &self,
        i: usize,
        sql: &str,
        vars: serde_json::Value,
    ) -> Result<IndexedResults, surrealdb::Error> {
        match &*self.conns {
            Conns::Embedded(conn) => conn.query(sql).bind(vars).await,
            Conns::Server { conns, .. } => conns[i % conns.len()].query(sql).bind(vars).await,
        }
    }
}

pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<Db> {
    let url = &config.url;
    let availability = Arc::new(availability::Availability::new(url, config.timeout));
    let conns = if availability.is_remote() {
        let count = config.connections.max(1);
        let mut conns = Vec::with_capacity(count);
        for _ in 0..count {
            conns.push(open_server(config).await?);
        }
        let conns = Arc::new(conns);
        availability.watch(&conns);
        Conns::Server {
            conns,
            next: AtomicUsize::new(0),
        }
    } else {
        Conns::Embedded(open_embedded(config).await?)
    };
    Ok(Db {
        conns: Arc::new(conns),
        availability,
    })
}

/// The embedded engine, opened once, on the configured namespace and database.
async fn open_embedded(config: &DatabaseConfig) -> anyhow::Result<Surreal<Local>> {
    let conn = embedded::open(config).await?;
    conn.use_ns(config.namespace.clone())
        .use_db(config.database.clone())
        .await
        .context("selecting the namespace and database")?;
    Ok(conn)
}

/// One connection to a SurrealDB server, signed in, on the configured namespace and database.
async fn open_server(config: &DatabaseConfig) -> anyhow::Result<Surreal<Any>> {
    let url = &config.url;
    let conn = surrealdb::engine::any::connect(url.as_str())
        .await
        .with_context(|| format!("connecting to the database at {url}"))?;
    if let (Some(username), Some(password)) = (&config.user, &config.password) {
        conn.signin(Root {
            username: username.clone(),
            password: password.expose().to_string(),
        })
        .await
        .context("signing in to the database")?;
    }
    // Selecting them creates them on first use: instances starting together on an empty
    // server may collide doing so, which is a conflict to retry.
    with_conflict_retry("select_database", || async {
        conn.use_ns(config.namespace.clone())
            .use_db(config.database.clone())
            .await
            .map_err(DbError::classify)
    })
    .await
    .context("selecting the namespace and database")?;
    Ok(conn)
}

/// A database failure, sorted into the cases callers decide on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// A `THROW` in the query: the message is ours.
    #[error("thrown: {0}")]
    Thrown(String),
    /// Two transactions wrote the same key; the loser can be retried.
    #[error("transaction conflict")]
    Conflict,
    /// A unique index refused a duplicate.
    #[error("unique index {index} violated")]
    Unique { index: String },
    #[error("database error: {0}")]
    Other(String),
    #[error("unexpected database answer: {0}")]
    Decode(String),
    /// The database server is unreachable or did not answer in time. A write sent before may
    /// still have committed (whole, never in part).
    #[error("the database is unavailable")]
    Unavailable,
}

impl DbError {
    fn classify(error: surrealdb::Error) -> Self {
        if error.is_thrown() {
            return Self::Thrown(thrown_message(error.message()));
        }
        if error.query_details() == Some(&QueryError::TransactionConflict) {
            return Self::Conflict;
        }
        let message = error.message().to_string();
        if let Some(index) = unique_index_name(&message) {
            return Self::Unique { index };
        }
        if message.contains("can be retried") {
            return Self::Conflict;
        }
        Self::Other(message)
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict)
    }
}

/// A THROW's message may come wrapped ("An error occurred: …"); keep only ours.
fn thrown_message(message: &str) -> String {
    message
        .strip_prefix("An error occurred: ")
        .unwrap_or(message)
        .to_string()
}

/// "Database index `user_email_unique` already contains …" → `user_email_unique`.
fn unique_index_name(message: &str) -> Option<String> {
    let rest = message.split("Database index `").nth(1)?;
    if !message.contains("already contains") {
        return None;
    }
    Some(rest.split('`').next()?.to_string())
}

/// Decodes one row. A failure names the row's record id and what serde says of the field, never
/// the row's values: rows hold password hashes, start URLs and meeting passwords, and decode
/// errors are logged.
fn decode_row<T: DeserializeOwned>(row: &serde_json::Value) -> Result<T, DbError> {
    T::deserialize(row).map_err(|e| {
        let id = match row.get("id") {
            Some(serde_json::Value::String(id)) => id.as_str(),
            _ => "without an id",
        };
        DbError::Decode(format!("{} (row {id})", without_strings(&e.to_string())))
    })
}

/// serde quotes the string it could not use (`invalid type: string "…"`): that is a value.
fn without_strings(message: &str) -> String {
    message
        .split('"')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "…" } else { part })
        .collect::<Vec<_>>()
        .join("\"")
}

/// Results of a query whose statements all succeeded.
pub struct Rows(IndexedResults);

impl Rows {
    /// All rows a statement returned, decoded through serde.
    pub fn all<T: DeserializeOwned>(&mut self, statement: usize) -> Result<Vec<T>, DbError> {
        let values: Vec<serde_json::Value> = self
            .0
            .take(statement)
            .map_err(|e| DbError::Decode(e.to_string()))?;
        values.iter().map(decode_row).collect()
    }

    /// How many statements the query had.
    pub fn count(&self) -> usize {
        self.0.num_statements()
    }

    pub fn first<T: DeserializeOwned>(&mut self, statement: usize) -> Result<Option<T>, DbError> {
        Ok(self.all(statement)?.into_iter().next())
    }

    /// The first row of the last statement (a transaction's answer comes after its COMMIT).
    pub fn last<T: DeserializeOwned>(&mut self) -> Result<Option<T>, DbError> {
        let last = self.count().saturating_sub(1);
        self.first(last)
    }
}

/// `value` as JSON to bind inside `vars` (a record's fields as `$f`), without its absent
/// optional values: [`run`] drops the null parameters themselves, not those nested in one.
pub fn binding(value: &impl serde::Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(value).expect("bound values serialise");
    if let Some(map) = value.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    value
}

/// Runs `sql` with `vars` (a JSON object) and returns its results, or the most specific
/// error among the statements: in a failed transaction only one statement holds the real
/// cause, the others just say they were not executed.
pub async fn run(db: &Db, sql: &str, mut vars: serde_json::Value) -> Result<Rows, DbError> {
    // JSON null would arrive as SurrealQL NULL, which `option<T>` fields refuse; an absent
    // parameter is NONE, which is what an unset optional value means here.
    if let Some(map) = vars.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    if db.availability.is_down() {
        return Err(DbError::Unavailable);
    }
    let query = db.query(sql, vars);
    let answer = match db.availability.query_timeout() {
        Some(limit) => tokio::time::timeout(limit, query).await.ok(),
        None => Some(query.await),
    };
    let mut response = match answer {
        Some(Ok(response)) => response,
        Some(Err(e)) if !e.is_connection() => return Err(DbError::classify(e)),
        Some(Err(e)) => {
            // Lost the connection: every request answers 503 until the watcher sees it back.
            // A transaction still commits whole or not at all.
            tracing::warn!(error = %e, "lost the database connection");
            db.availability.mark_down();
            return Err(DbError::Unavailable);
        }
        None => {
            // Slow, not necessarily lost: this request answers 503, the others go on.
            tracing::warn!("the database did not answer in time");
            return Err(DbError::Unavailable);
        }
    };
    let errors: HashMap<usize, surrealdb::Error> = response.take_errors();
    if errors.is_empty() {
        return Ok(Rows(response));
    }
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by_key(|(i, _)| *i);
    let specific = errors
        .iter()
        .map(|(_, e)| e)
        .find(|e| {
            !matches!(
                e.query_details(),
                Some(QueryError::NotExecuted) | Some(QueryError::Cancelled)
            ) && !e
                .message()
                .contains("not executed due to a failed transaction")
        })
        .or_else(|| errors.first().map(|(_, e)| e))
        .cloned()
        .expect("at least one error");
    Err(DbError::classify(specific))
}

/// Errors that say whether trying the same thing again may succeed.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

impl Retryable for DbError {
    fn is_retryable(&self) -> bool {
        DbError::is_retryable(self)
    }
}

/// One attempt of a use case that reads, decides and writes: it may refuse for a reason the
/// user should hear, or fail in the database (and be retried if that was a conflict).
pub enum Attempt {
    Refused(crate::error::AppError),
    Db(DbError),
}

impl Retryable for Attempt {
    fn is_retryable(&self) -> bool {
        matches!(self, Attempt::Db(e) if e.is_retryable())
    }
}

/// Runs a transaction body again when it lost a write conflict, a bounded number of times;
/// each conflict is counted under `operation` in the metrics.
pub async fn with_conflict_retry<T, E, F, Fut>(
    operation: &'static str,
    mut attempt: F,
) -> Result<T, E>
where
    E: Retryable,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    // Generous: under a burst (100 customers, one slot) a loser may lose several rounds
    // before the seats run out and every later attempt ends with a definite answer.
    const MAX_ATTEMPTS: u32 = 50;
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if e.is_retryable() && tries + 1 < MAX_ATTEMPTS => {
                crate::server::telemetry::transaction_conflict(operation, true);
                tries += 1;
                // A little jitter so the losers do not collide again in lockstep.
                let pause = rand::random_range(1..=(5 * tries as u64).min(50));
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            Err(e) if e.is_retryable() => {
                crate::server::telemetry::transaction_conflict(operation, false);
                return Err(e);
            }
            other => return other,
        }
    }
}

/// A fresh random record key: 20 lowercase letters and digits, starting with a letter so it
/// never needs escaping in SurrealQL.
pub fn new_key() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let mut key = String::with_capacity(20);
    key.push((b'a' + rng.random_range(0..26u8)) as char);
    for _ in 1..20 {
        key.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    key
}

/// Whether `key` could be one of ours (guards queries against malformed ids).
pub fn is_valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_index_names_are_read_from_the_message() {
        let m = "Database index `user_email_unique` already contains 'a@b.c', with record `user:x`";
        assert_eq!(unique_index_name(m).as_deref(), Some("user_email_unique"));
        assert_eq!(unique_index_name("something else"), None);
    }

    #[test]
    fn keys_are_safe_and_distinct() {
        let a = new_key();
        assert!(is_valid_key(&a));
        assert!(a.as_bytes()[0].is_ascii_lowercase());
        assert_ne!(a, new_key());
        assert!(!is_valid_key("x; DELETE user"));
        assert!(!is_valid_key(""));
    }

    /// A row that fails to decode is named by its id and the field, without its values.
    #[test]
    fn decode_errors_name_the_row_and_the_field_not_the_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct User {
            name: String,
            email_verified: bool,
        }
        let row = serde_json::json!({
            "id": "u1", "name": "Ann", "email_verified": "secret-flag",
            "password_hash": "$argon2id$secret-hash", "start_url": "https://zoom.us/s/1?zak=secret",
        });
        let DbError::Decode(message) = decode_row::<User>(&row).unwrap_err() else {
            panic!("a decode error");
        };
        assert!(message.contains("row u1"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
        for secret in ["secret-hash", "zak=secret", "Ann", "secret-flag"] {
            assert!(!message.contains(secret), "{message}");
        }
        let missing = serde_json::json!({ "name": "Ann" });
        let DbError::Decode(message) = decode_row::<User>(&missing).unwrap_err() else {
            panic!("a decode error");
        };
        assert!(
            message.contains("email_verified") && message.contains("without an id"),
            "{message}"
        );
    }
}
