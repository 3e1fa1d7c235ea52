use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::model::SlotView;
use crate::server::db::{is_valid_key, run, Db, DbError};

#[derive(Debug, Clone, Deserialize)]
pub struct SlotRow {
    pub id: String,
    pub specialist: String,
    pub specialist_name: String,
    pub specialist_email: String,
    pub specialist_timezone: String,
    pub title: String,
    pub description: Option<String>,
    pub date: String,
    pub start_time: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub duration: u32,
    pub capacity: u32,
    pub booked: u32,
    pub next_index: u32,
    pub schedule_version: u32,
}

impl SlotRow {
    pub fn view(&self) -> SlotView {
        SlotView {
            id: self.id.clone(),
            specialist_id: self.specialist.clone(),
            specialist_name: self.specialist_name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            date: self.date.clone(),
            start_time: self.start_time.clone(),
            timezone: self.timezone.clone(),
            starts_at: self.starts_at,
            duration: self.duration,
            capacity: self.capacity,
            booked: self.booked,
            seats_left: self.capacity.saturating_sub(self.booked),
        }
    }
}

pub const SLOT_FIELDS: &str = "record::id(id) AS id, record::id(specialist) AS specialist,
    specialist.name AS specialist_name, specialist.email AS specialist_email,
    specialist.timezone AS specialist_timezone, title, description, date, start_time, timezone,
    starts_at, duration, capacity, booked, next_index, schedule_version";

pub async fn by_id(db: &Db, id: &str) -> Result<Option<SlotRow>, DbError> {
    if !is_valid_key(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {SLOT_FIELDS} FROM type::record('slot', $id)");
    run(db, &sql, json!({ "id": id })).await?.first(0)
}

pub struct NewSlot<'a> {
    pub id: &'a str,
    pub specialist: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub date: &'a str,
    pub start_time: &'a str,
    pub timezone: &'a str,
    pub starts_at: DateTime<Utc>,
    pub duration: u32,
    pub capacity: u32,
}

pub async fn create(db: &Db, s: NewSlot<'_>) -> Result<SlotRow, DbError> {
    run(
        db,
        "CREATE type::record('slot', $id) CONTENT {
            specialist: type::record('user', $specialist), title: $title, description: $description,
            date: $date, start_time: $start_time, timezone: $timezone,
            starts_at: type::datetime($starts_at), duration: $duration, capacity: $capacity,
            booked: 0, next_index: 0, schedule_version: 0
        };",
        json!({
            "id": s.id, "specialist": s.specialist, "title": s.title, "description": s.description,
            "date": s.date, "start_time": s.start_time, "timezone": s.timezone,
            "starts_at": s.starts_at.to_rfc3339(), "duration": s.duration, "capacity": s.capacity,
        }),
    )
    .await?;
    by_id(db, s.id)
        .await?
        .ok_or_else(|| DbError::Decode("created slot not found".into()))
}

pub async fn of_specialist(db: &Db, specialist: &str) -> Result<Vec<SlotRow>, DbError> {
    let sql = format!(
        "SELECT {SLOT_FIELDS} FROM slot WHERE specialist = type::record('user', $specialist) ORDER BY starts_at"
    );
    run(db, &sql, json!({ "specialist": specialist }))
        .await?
        .all(0)
}

pub struct BrowseFilter {
    pub specialist: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub offset: u32,
    pub limit: u32,
}

/// Future slots with seats left, soonest first.
pub async fn browse(db: &Db, f: &BrowseFilter) -> Result<Vec<SlotRow>, DbError> {
    let mut conditions = vec!["starts_at > time::now()", "booked < capacity"];
    if f.specialist.is_some() {
        conditions.push("specialist = type::record('user', $specialist)");
    }
    if f.from.is_some() {
        conditions.push("starts_at >= type::datetime($from)");
    }
    if f.to.is_some() {
        conditions.push("starts_at < type::datetime($to)");
    }
    let sql = format!(
        "SELECT {SLOT_FIELDS} FROM slot WHERE {} ORDER BY starts_at LIMIT $limit START $offset",
        conditions.join(" AND ")
    );
    run(
        db,
        &sql,
        json!({
            "specialist": f.specialist, "from": f.from.map(|d| d.to_rfc3339()),
            "to": f.to.map(|d| d.to_rfc3339()), "limit": f.limit, "offset": f.offset,
        }),
    )
    .await?
    .all(0)
}
