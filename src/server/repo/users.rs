use serde::Deserialize;
use serde_json::json;

use super::verifications::{self, NewConfirmation};
use crate::model::{MeetingDefaults, Role, UserView, ZoomSettings};
use crate::server::db::{run, with_conflict_retry, Db, DbError, Rows};

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub timezone: String,
    pub email_verified: bool,
    pub reminders_enabled: bool,
    /// Names the user in one-click unsubscribe links.
    pub unsubscribe_token: String,
    /// Read through the aliases in [`FIELDS`], which match its camelCase names.
    #[serde(flatten)]
    pub zoom: ZoomSettings,
}

impl UserRow {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            timezone: self.timezone.clone(),
            email_verified: self.email_verified,
            reminders_enabled: self.reminders_enabled,
        }
    }
}

const FIELDS: &str = "record::id(id) AS id, name, email, password_hash, role, timezone, email_verified,
    reminders_enabled, unsubscribe_token,
    zoom_user AS zoomUser, waiting_room AS waitingRoom, join_before_host AS joinBeforeHost,
    host_video AS hostVideo, participant_video AS participantVideo, mute_upon_entry AS muteUponEntry,
    cloud_recording AS cloudRecording, recurring_links AS recurringLinks,
    auto_create_minutes AS autoCreateMinutes";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub timezone: &'a str,
    /// True only for accounts made by an operator or a test; sign-ups confirm by email.
    pub email_verified: bool,
}

const CREATE_USER: &str = "CREATE type::record('user', $id) CONTENT {
    name: $name, email: $email, password_hash: $hash, role: $role, timezone: $tz,
    email_verified: $verified
};";

fn new_user_vars(u: &NewUser<'_>) -> serde_json::Value {
    json!({ "id": u.id, "name": u.name, "email": u.email, "hash": u.password_hash,
            "role": u.role.as_str(), "tz": u.timezone, "verified": u.email_verified })
}

pub async fn create(db: &Db, u: NewUser<'_>) -> Result<UserRow, DbError> {
    run(db, CREATE_USER, new_user_vars(&u)).await?;
    by_id(db, u.id)
        .await?
        .ok_or_else(|| DbError::Decode("created user not found".into()))
}

/// Creates the account, its confirmation link and the email that carries it, in one
/// transaction.
pub async fn create_unverified(
    db: &Db,
    u: NewUser<'_>,
    confirmation: &NewConfirmation<'_>,
) -> Result<UserRow, DbError> {
    let sql = format!(
        "BEGIN TRANSACTION; {CREATE_USER} {} COMMIT TRANSACTION;",
        verifications::create_statements()
    );
    let mut vars = new_user_vars(&u);
    verifications::bind(&mut vars, u.id, confirmation);
    run(db, &sql, vars).await?;
    by_id(db, u.id)
        .await?
        .ok_or_else(|| DbError::Decode("created user not found".into()))
}

pub async fn mark_email_verified(db: &Db, id: &str) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET email_verified = true;",
        json!({ "id": id }),
    )
    .await
    .map(|_| ())
}

pub async fn set_name_and_timezone(
    db: &Db,
    id: &str,
    name: &str,
    timezone: &str,
) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET name = $name, timezone = $timezone;",
        json!({ "id": id, "name": name, "timezone": timezone }),
    )
    .await
    .map(|_| ())
}

pub async fn set_password_hash(db: &Db, id: &str, hash: &str) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET password_hash = $hash;",
        json!({ "id": id, "hash": hash }),
    )
    .await
    .map(|_| ())
}

/// Turns automatic meeting creation on (minutes before the start) or off.
pub async fn set_auto_create(db: &Db, id: &str, minutes: Option<u32>) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET auto_create_minutes = $minutes;",
        json!({ "id": id, "minutes": minutes }),
    )
    .await
    .map(|_| ())
}

/// Assigns the Zoom user that hosts a specialist's meetings (`None`: their own email).
pub async fn set_zoom_host(db: &Db, id: &str, zoom_user: Option<&str>) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET zoom_user = $zoom_user;",
        json!({ "id": id, "zoom_user": zoom_user }),
    )
    .await
    .map(|_| ())
}

pub async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {FIELDS} FROM user WHERE email = $email LIMIT 1");
    run(db, &sql, json!({ "email": email })).await?.first(0)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<UserRow>, DbError> {
    if !crate::server::db::is_valid_key(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {FIELDS} FROM type::record('user', $id)");
    run(db, &sql, json!({ "id": id })).await?.first(0)
}

/// Saves a specialist's meeting defaults; the host only an operator assigns (`set_zoom_host`).
pub async fn update_meeting_defaults(
    db: &Db,
    id: &str,
    s: &MeetingDefaults,
) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET waiting_room = $waiting_room,
            join_before_host = $join_before_host, host_video = $host_video,
            participant_video = $participant_video, mute_upon_entry = $mute_upon_entry,
            cloud_recording = $cloud_recording, recurring_links = $recurring_links;",
        json!({
            "id": id, "waiting_room": s.waiting_room,
            "join_before_host": s.join_before_host, "host_video": s.host_video,
            "participant_video": s.participant_video, "mute_upon_entry": s.mute_upon_entry,
            "cloud_recording": s.cloud_recording, "recurring_links": s.recurring_links,
        }),
    )
    .await
    .map(|_| ())
}

/// Turns reminder emails on or off for a user.
pub async fn set_reminders(db: &Db, id: &str, enabled: bool) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET reminders_enabled = $enabled;",
        json!({ "id": id, "enabled": enabled }),
    )
    .await
    .map(|_| ())
}

/// Turns reminders off for the user (or guest) an unsubscribe link names; whether one did.
pub async fn unsubscribe(db: &Db, token: &str) -> Result<bool, DbError> {
    let mut rows = update_row(
        db,
        "array::concat(
            (UPDATE user SET reminders_enabled = false WHERE unsubscribe_token = $unsubscribe RETURN VALUE record::id(id)),
            (UPDATE guest SET reminders_enabled = false WHERE unsubscribe_token = $unsubscribe RETURN VALUE record::id(id))
        );",
        json!({ "unsubscribe": token }),
    )
    .await?;
    Ok(rows.first::<String>(0)?.is_some())
}

/// Sets (or, with `None`, removes) the hash of the user's calendar feed secret.
pub async fn set_calendar_token(db: &Db, id: &str, hash: Option<&str>) -> Result<(), DbError> {
    update_row(
        db,
        "UPDATE type::record('user', $id) SET calendar_token = $hash;",
        json!({ "id": id, "hash": hash }),
    )
    .await
    .map(|_| ())
}

/// The user whose calendar feed secret hashes to `hash`.
pub async fn by_calendar_token(db: &Db, hash: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {FIELDS} FROM user WHERE calendar_token = $hash");
    run(db, &sql, json!({ "hash": hash })).await?.first(0)
}

/// Runs a write of user rows, again when it lost a write conflict: settings saved from two tabs
/// at once, or a feed link made while reminders are switched, write the same row, and the
/// loser starts over instead of failing.
async fn update_row(db: &Db, sql: &str, vars: serde_json::Value) -> Result<Rows, DbError> {
    with_conflict_retry("user_update", || run(db, sql, vars.clone())).await
}

/// What a deleted account is called wherever it is still shown (past bookings, slots).
pub const DELETED_NAME: &str = "Deleted user";

/// Takes everything personal out of the account `id`, in one transaction: the record stays
/// (past bookings and slots point to it) as "Deleted user" with an address no one has and a
/// password no one knows, so the address may register again. Its past bookings keep what the
/// other side needs (the session, its time and outcome) but not the name, address or notes;
/// its offerings, calendars, webhook endpoints, waitlist places, page and pending links go.
/// Its sessions and tokens are ended by `grants::end_all_of` (which the caller runs first).
pub async fn anonymise(db: &Db, id: &str, unusable_hash: &str) -> Result<(), DbError> {
    let email = format!("deleted-{id}@deleted.invalid");
    update_row(
        db,
        "BEGIN TRANSACTION;
        LET $u = type::record('user', $id);
        UPDATE $u SET name = $name, email = $email, password_hash = $hash, email_verified = false,
            zoom_user = NONE, handle = NONE, bio = NONE, calendar_token = NONE,
            reminders_enabled = false, guest_booking = 'off', deleted_at = time::now();
        UPDATE booking SET customer_name = $name, customer_email = $email, additional_notes = NONE
            WHERE customer = $u;
        DELETE waitlist WHERE customer = $u;
        DELETE offering WHERE specialist = $u;
        DELETE busy_calendar WHERE specialist = $u;
        DELETE webhook_endpoint WHERE user = $u;
        DELETE handle WHERE user = $u;
        DELETE email_change WHERE user = $u;
        DELETE password_reset WHERE user = $u;
        DELETE email_verification WHERE user = $u;
        COMMIT TRANSACTION;",
        json!({ "id": id, "name": DELETED_NAME, "email": email, "hash": unusable_hash }),
    )
    .await
    .map(|_| ())
}
