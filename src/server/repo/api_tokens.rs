//! Integrators' API tokens (`api_token`): the secret's hash, its owner, name and scope.

use serde::Deserialize;
use serde_json::json;

use super::sessions::SessionUser;
use crate::model::{ApiTokenView, Role};
use crate::server::db::{is_valid_key, run, with_conflict_retry, Db, DbError};

/// How many tokens one account may hold.
pub const MAX_PER_USER: usize = 20;

const VIEW: &str = "record::id(id) AS id, name,
    IF can_write THEN ['read', 'write'] ELSE ['read'] END AS scopes,
    created_at AS createdAt, last_used_at AS lastUsedAt";

/// Creates a token for `user` unless the account already holds [`MAX_PER_USER`]; `None` then.
pub async fn create(
    db: &Db,
    id: &str,
    user: &str,
    name: &str,
    token_hash: &str,
    can_write: bool,
) -> Result<Option<ApiTokenView>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $user_id);
        LET $room = count((SELECT id FROM api_token WHERE user = $user)) < {MAX_PER_USER};
        IF $room {{
            CREATE type::record('api_token', $id) CONTENT {{
                user: $user, name: $name, token_hash: $hash, can_write: $can_write
            }};
        }};
        COMMIT TRANSACTION;
        SELECT {VIEW} FROM type::record('api_token', $id);"
    );
    let vars = json!({
        "id": id, "user_id": user, "name": name, "hash": token_hash, "can_write": can_write,
    });
    with_conflict_retry("create_api_token", || run(db, &sql, vars.clone()))
        .await?
        .last()
}

/// The account's tokens, newest first.
pub async fn of_user(db: &Db, user: &str) -> Result<Vec<ApiTokenView>, DbError> {
    run(
        db,
        &format!(
            "SELECT {VIEW} FROM api_token WHERE user = type::record('user', $user)
            ORDER BY createdAt DESC"
        ),
        json!({ "user": user }),
    )
    .await?
    .all(0)
}

/// Deletes the account's token `id`; whether it existed.
pub async fn delete(db: &Db, user: &str, id: &str) -> Result<bool, DbError> {
    if !is_valid_key(id) {
        return Ok(false);
    }
    let deleted: Vec<serde_json::Value> = run(
        db,
        "DELETE type::record('api_token', $id) WHERE user = type::record('user', $user) RETURN BEFORE",
        json!({ "id": id, "user": user }),
    )
    .await?
    .all(0)?;
    Ok(!deleted.is_empty())
}

/// Who a token belongs to, with its scope.
pub struct TokenUser {
    pub token_id: String,
    pub can_write: bool,
    pub user: SessionUser,
}

#[derive(Deserialize)]
struct TokenRow {
    id: String,
    can_write: bool,
    user_id: String,
    role: Option<Role>,
    name: Option<String>,
    email: Option<String>,
    timezone: Option<String>,
}

/// The token whose secret hashes to `token_hash`, with its account read in the same step;
/// marks it used (at most once a minute, so a busy integration does not write on every call).
pub async fn user_of(db: &Db, token_hash: &str) -> Result<Option<TokenUser>, DbError> {
    let sql = "LET $found = (SELECT id, can_write, user, last_used_at FROM api_token
            WHERE token_hash = $hash LIMIT 1)[0];
        IF $found != NONE AND ($found.last_used_at = NONE
                OR $found.last_used_at < time::now() - 1m) {
            UPDATE $found.id SET last_used_at = time::now() RETURN NONE;
        };
        SELECT record::id(id) AS id, can_write, record::id(user) AS user_id, user.role AS role,
            user.name AS name, user.email AS email, user.timezone AS timezone
        FROM api_token WHERE token_hash = $hash LIMIT 1;";
    let vars = json!({ "hash": token_hash });
    // Two calls marking the token at once conflict; the loser reads again.
    let row: Option<TokenRow> =
        with_conflict_retry("read_api_token", || run(db, sql, vars.clone()))
            .await?
            .last()?;
    let Some(TokenRow {
        id,
        can_write,
        user_id,
        role: Some(role),
        name: Some(name),
        email: Some(email),
        timezone: Some(timezone),
    }) = row
    else {
        return Ok(None);
    };
    Ok(Some(TokenUser {
        token_id: id,
        can_write,
        user: SessionUser {
            user_id,
            role,
            name,
            email,
            timezone,
        },
    }))
}
