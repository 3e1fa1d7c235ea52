use serde::Deserialize;
use serde_json::json;

use crate::model::{Role, UserView, ZoomSettings};
use crate::server::db::{run, Db, DbError};

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub timezone: String,
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
        }
    }
}

const FIELDS: &str = "record::id(id) AS id, name, email, password_hash, role, timezone,
    zoom_user AS zoomUser, waiting_room AS waitingRoom, join_before_host AS joinBeforeHost,
    host_video AS hostVideo, participant_video AS participantVideo, mute_upon_entry AS muteUponEntry";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub timezone: &'a str,
}

pub async fn create(db: &Db, u: NewUser<'_>) -> Result<UserRow, DbError> {
    let sql = format!(
        "CREATE type::record('user', $id) CONTENT {{
            name: $name, email: $email, password_hash: $hash, role: $role, timezone: $tz
        }} RETURN {FIELDS};"
    );
    let mut rows = run(
        db,
        &sql,
        json!({ "id": u.id, "name": u.name, "email": u.email, "hash": u.password_hash,
                "role": u.role.as_str(), "tz": u.timezone }),
    )
    .await?;
    rows.first(0)?
        .ok_or_else(|| DbError::Decode("CREATE user returned nothing".into()))
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

pub async fn update_zoom_settings(db: &Db, id: &str, s: &ZoomSettings) -> Result<(), DbError> {
    run(
        db,
        "UPDATE type::record('user', $id) SET zoom_user = $zoom_user, waiting_room = $waiting_room,
            join_before_host = $join_before_host, host_video = $host_video,
            participant_video = $participant_video, mute_upon_entry = $mute_upon_entry;",
        json!({
            "id": id, "zoom_user": s.zoom_user, "waiting_room": s.meeting.waiting_room,
            "join_before_host": s.meeting.join_before_host, "host_video": s.meeting.host_video,
            "participant_video": s.meeting.participant_video, "mute_upon_entry": s.meeting.mute_upon_entry,
        }),
    )
    .await
    .map(|_| ())
}
