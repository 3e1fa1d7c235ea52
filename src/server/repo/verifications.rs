//! Single-use email confirmation links. A link's record id is a hash of its token, so the
//! database never holds a usable link outside the email that carries it.

use serde_json::{json, Value};

use super::jobs::queue_statement;
use super::refused;
use crate::model::{PendingConfirmation, Role};
use crate::server::db::{run, Db, DbError};
use crate::server::jobs;

/// A confirmation link to store, with the email that carries it.
pub struct NewConfirmation<'a> {
    pub token_hash: &'a str,
    pub lifetime_seconds: i64,
    /// The email that carries the link, as a job.
    pub email: jobs::NewJob,
}

/// Statements that store the link bound by [`bind`] and queue its email, for use inside the
/// caller's transaction.
pub(super) fn create_statements() -> String {
    format!(
        "CREATE type::record('email_verification', $token_hash) SET
            user = type::record('user', $user_id),
            expires_at = time::now() + type::duration($lifetime);
        {}",
        queue_statement("confirmation_email")
    )
}

pub(super) fn bind(vars: &mut Value, user_id: &str, c: &NewConfirmation<'_>) {
    vars["user_id"] = json!(user_id);
    vars["token_hash"] = json!(c.token_hash);
    vars["lifetime"] = json!(format!("{}s", c.lifetime_seconds));
    vars["confirmation_email"] = jobs::bind(std::slice::from_ref(&c.email));
}

/// A new link for an existing account (a resend), with its email, in one transaction.
pub async fn create(db: &Db, user_id: &str, c: &NewConfirmation<'_>) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION; {} COMMIT TRANSACTION;",
        create_statements()
    );
    let mut vars = json!({});
    bind(&mut vars, user_id, c);
    run(db, &sql, vars).await.map(|_| ())
}

/// Why a link confirmed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmRefusal {
    Unknown,
    Used,
    Expired,
}

impl ConfirmRefusal {
    const ALL: [Self; 3] = [Self::Unknown, Self::Used, Self::Expired];

    fn tag(self) -> &'static str {
        match self {
            Self::Unknown => "confirm:unknown",
            Self::Used => "confirm:used",
            Self::Expired => "confirm:expired",
        }
    }
}

/// The account a link names, without using the link; `Err` when it would be refused.
pub async fn pending(
    db: &Db,
    token_hash: &str,
) -> Result<Result<PendingConfirmation, ConfirmRefusal>, DbError> {
    #[derive(serde::Deserialize)]
    struct Row {
        name: String,
        email: String,
        role: Role,
        used: bool,
        expired: bool,
    }
    let mut rows = run(
        db,
        "SELECT user.name AS name, user.email AS email, user.role AS role,
            used_at != NONE AS used, expires_at <= time::now() AS expired
        FROM type::record('email_verification', $token_hash);",
        json!({ "token_hash": token_hash }),
    )
    .await?;
    Ok(match rows.first::<Row>(0)? {
        None => Err(ConfirmRefusal::Unknown),
        Some(row) if row.used => Err(ConfirmRefusal::Used),
        Some(row) if row.expired => Err(ConfirmRefusal::Expired),
        Some(row) => Ok(PendingConfirmation {
            name: row.name,
            email: row.email,
            role: row.role,
        }),
    })
}

/// Uses the link and marks its account verified, in one transaction: of two clicks at once,
/// one confirms and the other finds the link used.
/// Whose address a link confirmed.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Confirmed {
    pub user: String,
    pub email: String,
}

pub async fn confirm(
    db: &Db,
    token_hash: &str,
) -> Result<Result<Confirmed, ConfirmRefusal>, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $v = (SELECT * FROM type::record('email_verification', $token_hash))[0];
        IF $v = NONE {{ THROW '{unknown}'; }};
        IF $v.used_at != NONE {{ THROW '{used}'; }};
        IF $v.expires_at <= time::now() {{ THROW '{expired}'; }};
        UPDATE $v.id SET used_at = time::now();
        UPDATE $v.user SET email_verified = true;
        LET $who = (SELECT record::id(id) AS user, email FROM ONLY $v.user);
        COMMIT TRANSACTION;
        RETURN $who;",
        unknown = ConfirmRefusal::Unknown.tag(),
        used = ConfirmRefusal::Used.tag(),
        expired = ConfirmRefusal::Expired.tag(),
    );
    match run(db, &sql, json!({ "token_hash": token_hash })).await {
        Ok(mut rows) => rows
            .last::<Confirmed>()?
            .map(Ok)
            .ok_or_else(|| DbError::Decode("no account after a confirmation".into())),
        Err(e) => refused(e, &ConfirmRefusal::ALL, ConfirmRefusal::tag),
    }
}
