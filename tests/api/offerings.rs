//! Offerings: weekly hours in a zone become bookable sessions (slots of the usual kind), made by
//! a job on a rolling horizon, once each however many runs; edits remake the sessions nobody
//! booked and list booked ones outside the new hours; sessions never overlap the specialist's
//! other slots, buffers included.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use specialistly::model::Role;
use specialistly::server::service::offerings::make_sessions;

use crate::helpers::{json_body, spawn_app, TestApp, TestUser};

/// Weekly hours: the same `(start, end)` windows every day of the week.
pub fn every_day(hours: &[(&str, &str)]) -> Vec<Value> {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .flat_map(|day| {
            hours
                .iter()
                .map(move |(start, end)| json!({ "day": day, "start": start, "end": end }))
        })
        .collect()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(n: i64) -> String {
    (today() + Duration::days(n)).format("%Y-%m-%d").to_string()
}

async fn offer(app: &TestApp, spec: &TestUser, body: Value) -> Value {
    let (status, body) = json_body(
        app.post_json("/api/offerings", Some(&spec.token), &body)
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

fn offering(hours: &[(&str, &str)], schedule: Value) -> Value {
    let mut schedule_all =
        json!({ "timezone": "UTC", "weekly": every_day(hours), "windowDays": 7 });
    for (k, v) in schedule.as_object().unwrap() {
        schedule_all[k] = v.clone();
    }
    json!({ "title": "Strategy hour", "duration": 60, "capacity": 2, "schedule": schedule_all })
}

/// The specialist's sessions (not cancelled) as `(id, start, offering)`, in order.
async fn sessions(app: &TestApp, spec: &TestUser) -> Vec<(String, DateTime<Utc>, Option<String>)> {
    app.query(
        "SELECT record::id(id) AS id, starts_at, duration,
            IF offering != NONE THEN record::id(offering) END AS offering
        FROM slot WHERE specialist = type::record('user', $u) AND cancelled_at = NONE
        ORDER BY starts_at",
        json!({ "u": spec.id }),
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r["id"].as_str().unwrap().to_string(),
            r["starts_at"].as_str().unwrap().parse().unwrap(),
            r["offering"].as_str().map(str::to_string),
        )
    })
    .collect()
}

fn on(sessions: &[(String, DateTime<Utc>, Option<String>)], date: &str) -> Vec<String> {
    sessions
        .iter()
        .filter(|(_, at, _)| at.format("%Y-%m-%d").to_string() == date)
        .map(|(_, at, _)| at.format("%H:%M").to_string())
        .collect()
}

#[engine_test]
async fn weekly_hours_and_a_day_off_become_bookable_sessions_made_once() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Weekly Spec").await;
    let made = offer(
        &app,
        &spec,
        offering(
            &[("09:00", "11:00")],
            json!({ "overrides": [{ "date": day(2), "hours": [] }] }),
        ),
    )
    .await;
    assert_eq!(made["schedule"]["intervalMinutes"], 60, "{made}");
    assert_eq!(made["schedule"]["windowDays"], 7);
    app.drain_jobs().await;
    let all = sessions(&app, &spec).await;
    for n in [1, 3, 4, 5, 6] {
        assert_eq!(on(&all, &day(n)), ["09:00", "10:00"], "day {n}");
    }
    assert!(on(&all, &day(2)).is_empty(), "the day off");
    assert!(all
        .iter()
        .all(|(_, at, o)| *at > Utc::now() && o.as_deref() == made["id"].as_str()));

    // Made again (an hour's roll, two instances at once): nothing new, nothing twice.
    let id = made["id"].as_str().unwrap();
    let (a, b) = tokio::join!(make_sessions(&app.state, id), make_sessions(&app.state, id));
    a.unwrap();
    b.unwrap();
    assert_eq!(sessions(&app, &spec).await, all);

    // A session is a slot like any other: a customer books it.
    let cust = app.user(Role::Customer, "Weekly Cust").await;
    assert_eq!(app.book(&all[0].0, &cust).await.status(), 201);
}

#[engine_test]
async fn an_edit_remakes_the_sessions_nobody_booked_and_lists_booked_ones_outside_the_new_hours() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Editing Spec").await;
    let made = offer(&app, &spec, offering(&[("09:00", "11:00")], json!({}))).await;
    let id = made["id"].as_str().unwrap().to_string();
    app.drain_jobs().await;
    let before = sessions(&app, &spec).await;
    let ten_tomorrow = before
        .iter()
        .find(|(_, at, _)| at.format("%Y-%m-%d %H:%M").to_string() == format!("{} 10:00", day(1)))
        .unwrap()
        .0
        .clone();
    let cust = app.user(Role::Customer, "Editing Cust").await;
    assert_eq!(app.book(&ten_tomorrow, &cust).await.status(), 201);

    // Mornings only now, and a new title.
    let mut edited = offering(&[("08:00", "10:00")], json!({}));
    edited["title"] = json!("Morning hour");
    let (status, body) = json_body(
        app.put_json(&format!("/api/offerings/{id}"), &spec.token, &edited)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.drain_jobs().await;
    let after = sessions(&app, &spec).await;
    assert_eq!(on(&after, &day(2)), ["08:00", "09:00"]);
    // Tomorrow: the booked 10:00 stays beside the new hours.
    assert_eq!(on(&after, &day(1)), ["08:00", "09:00", "10:00"]);
    let titles = app
        .query(
            "SELECT VALUE title FROM slot WHERE specialist = type::record('user', $u) AND next_index = 0",
            json!({ "u": spec.id }),
        )
        .await;
    assert!(titles.iter().all(|t| t == "Morning hour"), "{titles:?}");

    let (status, body) = json_body(
        app.get(&format!("/api/offerings/{id}"), Some(&spec.token))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let outside = body["data"]["outsideHours"].as_array().unwrap();
    assert_eq!(outside.len(), 1, "{body}");
    assert_eq!(outside[0]["id"], ten_tomorrow.as_str());
    assert_eq!(outside[0]["booked"], 1);

    // Removed: the sessions nobody booked go, the booked one stays as a slot of its own.
    let res = app
        .delete(&format!("/api/offerings/{id}"), &spec.token)
        .await;
    assert_eq!(res.status(), 200);
    let left = sessions(&app, &spec).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, ten_tomorrow);
    assert_eq!(left[0].2, None);
}

#[engine_test]
async fn sessions_never_overlap_the_specialists_other_slots_with_their_buffers() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Busy Spec").await;
    // A slot made by hand tomorrow 10:30–11:30 UTC.
    let (status, body) = json_body(
        app.post_json(
            "/api/consulting-slots",
            Some(&spec.token),
            &json!({ "date": day(1), "startTime": "10:30", "duration": 60, "capacity": 1,
                     "title": "By hand", "timezone": "UTC" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Starts every 30 minutes, 45-minute sessions with 15 minutes after each.
    let mut body = offering(
        &[("09:00", "13:00")],
        json!({ "intervalMinutes": 30, "bufferAfterMinutes": 15 }),
    );
    body["duration"] = json!(45);
    offer(&app, &spec, body).await;
    app.drain_jobs().await;
    let all = sessions(&app, &spec).await;
    // Tomorrow: 09:00 (free until 10:00), the slot by hand at 10:30, then 11:30 as it ends;
    // 10:00 and 11:00 would overlap it.
    assert_eq!(on(&all, &day(1)), ["09:00", "10:30", "11:30"]);
    assert_eq!(on(&all, &day(2)), ["09:00", "10:00", "11:00", "12:00"]);
}

#[engine_test]
async fn bad_offerings_get_clear_errors_and_other_peoples_are_not_found() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Strict Spec").await;
    for (change, message) in [
        (json!({ "timezone": "Mars/Olympus" }), "IANA"),
        (
            json!({ "weekly": [{ "day": "mon", "start": "11:00", "end": "10:00" }] }),
            "after the start",
        ),
        (
            json!({ "weekly": [{ "day": "mon", "start": "09:00", "end": "11:00" },
                               { "day": "mon", "start": "10:00", "end": "12:00" }] }),
            "must not overlap",
        ),
        (json!({ "windowDays": 400 }), "between 1 and 365"),
    ] {
        let (status, body) = json_body(
            app.post_json(
                "/api/offerings",
                Some(&spec.token),
                &offering(&[("09:00", "10:00")], change),
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let mut long = offering(&[("09:00", "10:00")], json!({}));
    long["duration"] = json!(300);
    let res = app
        .post_json("/api/offerings", Some(&spec.token), &long)
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(app.count("offering").await, 0);

    let made = offer(&app, &spec, offering(&[("09:00", "10:00")], json!({}))).await;
    let path = format!("/api/offerings/{}", made["id"].as_str().unwrap());
    let rival = app.user(Role::Specialist, "Rival Spec").await;
    assert_eq!(app.get(&path, Some(&rival.token)).await.status(), 404);
    let body = offering(&[("12:00", "13:00")], json!({}));
    assert_eq!(app.put_json(&path, &rival.token, &body).await.status(), 404);
    assert_eq!(app.delete(&path, &rival.token).await.status(), 404);
    assert_eq!(
        app.get("/api/offerings/nope", Some(&spec.token))
            .await
            .status(),
        404
    );
    let cust = app.user(Role::Customer, "Curious Cust").await;
    assert_eq!(
        app.get("/api/offerings", Some(&cust.token)).await.status(),
        403
    );
    assert_eq!(app.get("/api/offerings", None).await.status(), 401);
    let (_, mine) = json_body(app.get(&path, Some(&spec.token)).await).await;
    assert_eq!(mine["data"]["schedule"]["weekly"][0]["start"], "09:00");
}
