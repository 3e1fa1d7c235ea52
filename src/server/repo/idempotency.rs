//! `Idempotency-Key` records: one per account and key, claimed before the request runs and
//! holding its answer for replays afterwards.

use serde::Deserialize;
use serde_json::json;

use crate::server::db::{new_key, run, with_conflict_retry, Db, DbError};

/// How long a stored answer is replayed.
pub const KEEP_HOURS: i64 = 24;
/// How long a claimed key waits for its request's answer: past this (the instance died
/// mid-request) the key can be used again.
pub const CLAIM_SECONDS: i64 = 120;

/// A stored answer.
#[derive(Debug, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is this request's: run it, then [`finish`] or [`release`] with this token.
    Claimed { token: String },
    /// The same request was answered before: replay this.
    Answered(StoredAnswer),
    /// The same request is still running elsewhere.
    InFlight,
    /// The key was used with another request.
    OtherRequest,
}

#[derive(Deserialize)]
struct Found {
    claimed: bool,
    fingerprint: Option<String>,
    status: Option<u16>,
    content_type: Option<String>,
    body: Option<String>,
}

/// Claims key `id` (a hash of the account and the client's key) for a request with
/// `fingerprint`, unless a live record holds it. One transaction: of concurrent claims on
/// one key exactly one wins, the others conflict, retry and find it claimed.
pub async fn claim(db: &Db, id: &str, user: &str, fingerprint: &str) -> Result<Claim, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $key = type::record('idempotency_key', $id);
        LET $now = time::now();
        LET $row = (SELECT fingerprint, status, content_type, body, locked_until, expires_at
            FROM $key)[0];
        LET $claimed = $row = NONE OR $row.expires_at < $now
            OR ($row.status = NONE AND $row.locked_until < $now
                AND $row.fingerprint = $fingerprint);
        IF $claimed {{
            UPSERT $key CONTENT {{
                user: type::record('user', $user), fingerprint: $fingerprint, claim_token: $claim,
                created_at: $now, locked_until: $now + {CLAIM_SECONDS}s,
                expires_at: $now + {KEEP_HOURS}h
            }} RETURN NONE;
        }};
        COMMIT TRANSACTION;
        RETURN {{ claimed: $claimed, fingerprint: $row.fingerprint, status: $row.status,
            content_type: $row.content_type, body: $row.body }};"
    );
    let token = new_key();
    let vars = json!({ "id": id, "user": user, "fingerprint": fingerprint, "claim": token });
    let found: Found = with_conflict_retry("claim_idempotency_key", || run(db, &sql, vars.clone()))
        .await?
        .last()?
        .ok_or_else(|| DbError::Decode("no answer from claiming a key".into()))?;
    Ok(match found {
        Found { claimed: true, .. } => Claim::Claimed { token },
        Found {
            fingerprint: first, ..
        } if first.as_deref() != Some(fingerprint) => Claim::OtherRequest,
        Found {
            status: Some(status),
            content_type,
            body,
            ..
        } => Claim::Answered(StoredAnswer {
            status,
            content_type,
            body: body.unwrap_or_default(),
        }),
        Found { .. } => Claim::InFlight,
    })
}

/// Stores the answer of the request that claimed `id` with `token`. A request that outlived its
/// claim, whose key another request claimed since, stores nothing (G6): the key is that one's.
pub async fn finish(db: &Db, id: &str, token: &str, answer: &StoredAnswer) -> Result<(), DbError> {
    let vars = json!({
        "id": id, "claim": token, "status": answer.status, "content_type": answer.content_type,
        "body": answer.body,
    });
    with_conflict_retry("finish_idempotency_key", || {
        run(
            db,
            "UPDATE type::record('idempotency_key', $id)
                SET status = $status, content_type = $content_type, body = $body
                WHERE claim_token = $claim AND status = NONE RETURN NONE",
            vars.clone(),
        )
    })
    .await
    .map(|_| ())
}

/// Frees `id` after a request that changed nothing the client could not retry (a 5xx), unless
/// another request claimed it since (G6: a late release must not free that one's claim).
pub async fn release(db: &Db, id: &str, token: &str) -> Result<(), DbError> {
    with_conflict_retry("release_idempotency_key", || {
        run(
            db,
            "DELETE type::record('idempotency_key', $id)
                WHERE status = NONE AND claim_token = $claim",
            json!({ "id": id, "claim": token }),
        )
    })
    .await
    .map(|_| ())
}
