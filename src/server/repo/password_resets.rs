//! Single-use password reset links (OWASP's Forgot Password cheat sheet). A link's record id
//! is the hash of its token, so the database never holds a usable link.

use serde_json::json;

use super::jobs::queue_statement;
use super::refused;
use crate::server::db::{run, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// Stores a reset link for the account with `email` and queues the email that carries it,
/// in one transaction; nothing for an address no account (or a switched-off demo account)
/// has. The same statements run either way, so the answer takes as long, and the caller is
/// not told which it was.
pub async fn create_for_email(
    db: &Db,
    email: &str,
    token_hash: &str,
    lifetime_seconds: i64,
    reset_email: &NewJob,
) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = (SELECT VALUE id FROM user WHERE email = $email AND password_hash != $disabled LIMIT 1)[0];
        IF $user != NONE {{
            CREATE type::record('password_reset', $token_hash) SET
                user = $user, expires_at = time::now() + type::duration($lifetime);
            {}
        }};
        COMMIT TRANSACTION;",
        queue_statement("reset_email")
    );
    run(
        db,
        &sql,
        json!({
            "email": email,
            "disabled": crate::server::seed::DISABLED_HASH,
            "token_hash": token_hash,
            "lifetime": format!("{lifetime_seconds}s"),
            "reset_email": jobs::bind(std::slice::from_ref(reset_email)),
        }),
    )
    .await
    .map(|_| ())
}

/// Why a link reset nothing. The visitor is told the same for each: the link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRefusal {
    Unknown,
    Used,
    Expired,
}

impl ResetRefusal {
    const ALL: [Self; 3] = [Self::Unknown, Self::Used, Self::Expired];

    fn tag(self) -> &'static str {
        match self {
            Self::Unknown => "reset:unknown",
            Self::Used => "reset:used",
            Self::Expired => "reset:expired",
        }
    }
}

/// The account a usable link names (its id, name and email), without using the link.
pub async fn account_of(
    db: &Db,
    token_hash: &str,
) -> Result<Result<Account, ResetRefusal>, DbError> {
    #[derive(serde::Deserialize)]
    struct Row {
        user: Account,
        used: bool,
        expired: bool,
    }
    let row: Option<Row> = run(
        db,
        "SELECT user.{ id: record::id(id), name, email, timezone } AS user, used_at != NONE AS used,
                expires_at <= time::now() AS expired
            FROM type::record('password_reset', $hash)",
        json!({ "hash": token_hash }),
    )
    .await?
    .first(0)?;
    Ok(match row {
        None => Err(ResetRefusal::Unknown),
        Some(r) if r.used => Err(ResetRefusal::Used),
        Some(r) if r.expired => Err(ResetRefusal::Expired),
        Some(r) => Ok(r.user),
    })
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub timezone: String,
}

/// Uses the link: sets the account's new password hash, spends this link and every other
/// unspent one of the account, and queues the email that says the password changed, in one
/// transaction. `Err` (and nothing written) when the link was spent or expired meanwhile.
pub async fn use_link(
    db: &Db,
    token_hash: &str,
    password_hash: &str,
    changed_email: &NewJob,
) -> Result<Result<(), ResetRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $link = (SELECT user, used_at, expires_at FROM ONLY type::record('password_reset', $hash));
        IF $link = NONE {{ THROW '{unknown}'; }};
        IF $link.used_at != NONE {{ THROW '{used}'; }};
        IF $link.expires_at <= time::now() {{ THROW '{expired}'; }};
        UPDATE $link.user SET password_hash = $password_hash RETURN NONE;
        UPDATE password_reset SET used_at = time::now() WHERE user = $link.user AND used_at = NONE RETURN NONE;
        {queue}
        COMMIT TRANSACTION;",
        unknown = ResetRefusal::Unknown.tag(),
        used = ResetRefusal::Used.tag(),
        expired = ResetRefusal::Expired.tag(),
        queue = queue_statement("changed_email"),
    );
    let result = run(
        db,
        &sql,
        json!({
            "hash": token_hash,
            "password_hash": password_hash,
            "changed_email": jobs::bind(std::slice::from_ref(changed_email)),
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Ok(())),
        Err(e) => refused(e, &ResetRefusal::ALL, ResetRefusal::tag),
    }
}
