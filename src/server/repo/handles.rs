//! Handles (`handle`, keyed by the handle itself, so two specialists can never hold one): a
//! specialist's current handle, and their former ones, which keep redirecting (and stay
//! theirs) for 90 days.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::model::GuestBooking;
use crate::server::db::{run, with_conflict_retry, Db, DbError};

pub const KEPT_DAYS: i64 = 90;

/// What setting a handle found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claimed {
    Ours,
    /// Another specialist's, or one of theirs that still redirects.
    Taken,
}

/// Makes `handle` the specialist's (with `bio`); their former handle redirects for
/// [`KEPT_DAYS`]. Of two specialists claiming one handle at once, one gets it.
pub async fn claim(
    db: &Db,
    user: &str,
    handle: &str,
    bio: Option<&str>,
    guest_booking: Option<GuestBooking>,
) -> Result<Claimed, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION;
        LET $user = type::record('user', $user_id);
        LET $record = type::record('handle', $handle);
        LET $found = (SELECT user, current, until FROM $record)[0];
        LET $free = $found = NONE OR $found.user = $user
            OR ($found.current = false AND $found.until < time::now());
        IF $free {{
            UPDATE handle SET current = false, until = time::now() + {KEPT_DAYS}d
                WHERE user = $user AND current = true AND id != $record;
            UPSERT $record CONTENT {{ user: $user, current: true, until: NONE }};
            UPDATE $user SET handle = $handle, bio = $bio, guest_booking = $guest_booking ?? guest_booking;
        }};
        COMMIT TRANSACTION;
        RETURN $free;"
    );
    let vars = json!({ "user_id": user, "handle": handle, "bio": bio,
        "guest_booking": guest_booking.map(GuestBooking::as_str) });
    let mut rows = with_conflict_retry("claim_handle", || run(db, &sql, vars.clone())).await?;
    Ok(if rows.last::<bool>()?.unwrap_or(false) {
        Claimed::Ours
    } else {
        Claimed::Taken
    })
}

/// Where a handle leads.
#[derive(Debug, Clone, Deserialize)]
pub struct Found {
    pub user: String,
    /// The specialist's handle now: another one means the asked one is a former one.
    pub current_handle: Option<String>,
    pub current: bool,
    pub until: Option<DateTime<Utc>>,
}

/// The specialist a handle names (now, or formerly within its 90 days).
pub async fn resolve(db: &Db, handle: &str) -> Result<Option<Found>, DbError> {
    let found: Option<Found> = run(
        db,
        "SELECT record::id(user) AS user, user.handle AS current_handle, current, until
        FROM type::record('handle', $handle)",
        json!({ "handle": handle }),
    )
    .await?
    .first(0)?;
    Ok(found.filter(|f| f.current || f.until.is_some_and(|u| u > Utc::now())))
}

/// What a specialist's page shows of them.
#[derive(Debug, Clone, Deserialize)]
pub struct PageOwner {
    pub name: String,
    pub role: crate::model::Role,
    pub timezone: String,
    pub handle: Option<String>,
    pub bio: Option<String>,
    /// `NONE` before anyone set it: the default.
    #[serde(default)]
    pub guest_booking: Option<GuestBooking>,
}

pub async fn owner(db: &Db, user: &str) -> Result<Option<PageOwner>, DbError> {
    run(
        db,
        "SELECT name, role, timezone, handle, bio, guest_booking FROM type::record('user', $user)",
        json!({ "user": user }),
    )
    .await?
    .first(0)
}
