//! Login sessions: a row per login, named by the signed token.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::model::Role;
use crate::server::db::{is_valid_key, run, Db, DbError};

pub async fn create(db: &Db, id: &str, user: &str, lifetime_seconds: i64) -> Result<(), DbError> {
    run(
        db,
        "CREATE type::record('session', $id) SET user = type::record('user', $user),
            expires_at = time::now() + type::duration($lifetime);",
        json!({ "id": id, "user": user, "lifetime": format!("{lifetime_seconds}s") }),
    )
    .await
    .map(|_| ())
}

/// Who a live session belongs to, read with the user in one step.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub timezone: String,
}

/// A live session's user, and when the session ends by itself.
#[derive(Debug, Clone)]
pub struct LiveUser {
    pub user: SessionUser,
    pub expires_at: DateTime<Utc>,
}

/// The account as a session reads it: absent fields when the account is gone.
#[derive(Deserialize)]
struct Account {
    role: Option<Role>,
    name: Option<String>,
    email: Option<String>,
    timezone: Option<String>,
}

#[derive(Deserialize)]
struct LiveSession {
    account: Option<Account>,
    expires_at: DateTime<Utc>,
}

/// The user of session `id` when it is live, belongs to `user` and that account still exists.
/// The account is read as one object: a `user.<field>` each fetched and decoded the user
/// record again, on every authenticated request.
pub async fn live_user(db: &Db, id: &str, user: &str) -> Result<Option<LiveUser>, DbError> {
    if !is_valid_key(id) || !is_valid_key(user) {
        return Ok(None);
    }
    let session: Option<LiveSession> = run(
        db,
        "SELECT user.{role, name, email, timezone} AS account, expires_at FROM type::record('session', $id)
            WHERE user = type::record('user', $user) AND expires_at > time::now()",
        json!({ "id": id, "user": user }),
    )
    .await?
    .first(0)?;
    let Some((
        Account {
            role: Some(role),
            name: Some(name),
            email: Some(email),
            timezone: Some(timezone),
        },
        expires_at,
    )) = session.and_then(|s| Some((s.account?, s.expires_at)))
    else {
        return Ok(None);
    };
    Ok(Some(LiveUser {
        user: SessionUser {
            user_id: user.to_string(),
            role,
            name,
            email,
            timezone,
        },
        expires_at,
    }))
}

pub async fn delete(db: &Db, id: &str) -> Result<(), DbError> {
    run(
        db,
        "DELETE type::record('session', $id);",
        json!({ "id": id }),
    )
    .await
    .map(|_| ())
}
