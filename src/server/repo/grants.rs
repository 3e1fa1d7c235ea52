//! What an account holds that lets it, or whoever has its secrets, act or read without
//! signing in again: sessions, API tokens, the calendar feed address and webhook endpoints.
//! One place decides what ending them takes away (an operator's `revoke-sessions`, demo
//! accounts switched off in production), in one transaction. Open event streams need nothing
//! here: each checks its session or token again and ends once it is gone.

use serde::Deserialize;
use serde_json::json;

use crate::server::db::{run, Db, DbError};

/// What was taken away.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Ended {
    pub sessions: usize,
    pub api_tokens: usize,
    /// 1 when the account had a calendar feed address.
    pub feeds: usize,
    /// Webhook endpoints turned off (kept, with their delivery log, for the owner to see).
    pub endpoints: usize,
}

/// The reason a turned-off endpoint shows its owner.
const ENDPOINT_REASON: &str = "Turned off when the account's access was revoked";

/// Ends every grant of the account `user_id`.
pub async fn end_all_of(db: &Db, user_id: &str) -> Result<Ended, DbError> {
    let mut rows = run(
        db,
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $user_id);
        LET $sessions = (DELETE session WHERE user = $user RETURN BEFORE);
        LET $tokens = (DELETE api_token WHERE user = $user RETURN BEFORE);
        LET $feeds = (UPDATE $user SET calendar_token = NONE WHERE calendar_token != NONE RETURN BEFORE);
        LET $endpoints = (UPDATE webhook_endpoint SET enabled = false, disabled_reason = $reason
            WHERE user = $user AND enabled = true RETURN BEFORE);
        COMMIT TRANSACTION;
        RETURN {
            sessions: array::len($sessions),
            api_tokens: array::len($tokens),
            feeds: array::len($feeds),
            endpoints: array::len($endpoints),
        };",
        json!({ "user_id": user_id, "reason": ENDPOINT_REASON }),
    )
    .await?;
    Ok(rows.last::<Ended>()?.unwrap_or_default())
}

/// A password its owner changed while signed in: every other session of the account ends, in
/// one statement; the session that changed it stays, as do the grants the owner made (API
/// tokens, the feed address, webhook endpoints). How many ended.
pub async fn end_other_sessions(db: &Db, user_id: &str, keep: &str) -> Result<usize, DbError> {
    let ended: Vec<serde_json::Value> = run(
        db,
        "DELETE session WHERE user = type::record('user', $user_id)
            AND id != type::record('session', $keep) RETURN BEFORE;",
        json!({ "user_id": user_id, "keep": keep }),
    )
    .await?
    .all(0)?;
    Ok(ended.len())
}
