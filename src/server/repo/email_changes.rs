//! Changes of an account's email address, each waiting for the new address to confirm it
//! from an emailed link. A link's record id is the hash of its token.

use serde::Deserialize;
use serde_json::json;

use super::jobs::queue_statement;
use super::refused;
use crate::server::db::{run, Db, DbError};
use crate::server::jobs::{self, NewJob};

/// Stores a pending change of `user`'s address to `new_email` (any earlier pending one is
/// spent) and queues `emails` (the link to the new address, the notice to the old one).
pub async fn create(
    db: &Db,
    user: &str,
    new_email: &str,
    token_hash: &str,
    lifetime_seconds: i64,
    emails: &[NewJob],
) -> Result<(), DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $user_id);
        UPDATE email_change SET used_at = time::now() WHERE user = $user AND used_at = NONE;
        CREATE type::record('email_change', $token_hash) SET user = $user, new_email = $new_email,
            expires_at = time::now() + type::duration($lifetime);
        {}
        COMMIT TRANSACTION;",
        queue_statement("emails")
    );
    run(
        db,
        &sql,
        json!({
            "user_id": user, "new_email": new_email, "token_hash": token_hash,
            "lifetime": format!("{lifetime_seconds}s"), "emails": jobs::bind(emails),
        }),
    )
    .await
    .map(|_| ())
}

/// Why a link changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefusal {
    /// Unknown, used, or over its lifetime.
    Spent,
    /// Another account has the address by now.
    Taken,
}

impl ChangeRefusal {
    const ALL: [Self; 2] = [Self::Spent, Self::Taken];

    fn tag(self) -> &'static str {
        match self {
            Self::Spent => "email-change:spent",
            Self::Taken => "email-change:taken",
        }
    }
}

/// The account a link changed, as it was before.
#[derive(Debug, Clone, Deserialize)]
pub struct Changed {
    pub user: String,
    pub name: String,
    pub old_email: String,
    pub new_email: String,
    pub timezone: String,
}

/// Applies the change a link names, once: the account takes the new (now confirmed) address,
/// and `notice` is queued with it, built by the caller from the change as it was read.
pub async fn apply(
    db: &Db,
    token_hash: &str,
    notice: impl Fn(&Changed) -> NewJob,
) -> Result<Result<Changed, ChangeRefusal>, DbError> {
    let read = run(
        db,
        "SELECT record::id(user) AS user, user.name AS name, user.email AS old_email, new_email,
            user.timezone AS timezone
            FROM type::record('email_change', $id) WHERE used_at = NONE AND expires_at > time::now()",
        json!({ "id": token_hash }),
    )
    .await?
    .first::<Changed>(0)?;
    let Some(change) = read else {
        return Ok(Err(ChangeRefusal::Spent));
    };
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $c = (SELECT * FROM type::record('email_change', $id))[0];
        IF $c = NONE OR $c.used_at != NONE OR $c.expires_at <= time::now() {{ THROW '{spent}'; }};
        IF array::len((SELECT id FROM user WHERE email = $c.new_email AND id != $c.user)) > 0 {{
            THROW '{taken}';
        }};
        UPDATE $c.id SET used_at = time::now();
        UPDATE $c.user SET email = $c.new_email, email_verified = true;
        {queue}
        COMMIT TRANSACTION;",
        spent = ChangeRefusal::Spent.tag(),
        taken = ChangeRefusal::Taken.tag(),
        queue = queue_statement("notice"),
    );
    let vars = json!({ "id": token_hash, "notice": jobs::bind(&[notice(&change)]) });
    match run(db, &sql, vars).await {
        Ok(_) => Ok(Ok(change)),
        Err(DbError::Unique { .. }) => Ok(Err(ChangeRefusal::Taken)),
        Err(e) => refused(e, &ChangeRefusal::ALL, ChangeRefusal::tag),
    }
}
