//! Calendar feeds, read with a real iCalendar parser (the `icalendar` crate): a user's own
//! appointments only, from 30 days back on, the same UID and SEQUENCE as the emailed invites,
//! the join link once ready, cancellations as cancelled; a new address ends the old one.

use icalendar::{Calendar, Component, EventStatus};
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, TestUser};

async fn feed_url(app: &TestApp, user: &TestUser) -> String {
    let (status, body) = json_body(
        app.post_json("/api/calendar/token", Some(&user.token), &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // On the app's public address (APP_BASE_URL); the test reaches it where it listens.
    let url = body["data"]["url"].as_str().unwrap();
    let path = &url[url.find("/calendar/").expect("a feed path")..];
    app.url(path)
}

async fn read_feed(app: &TestApp, url: &str) -> (reqwest::StatusCode, String) {
    let res = app.client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The invite attached to the newest email with `key` in the job queue: its UID and SEQUENCE.
async fn emailed_invite(app: &TestApp, key: &str) -> (String, String) {
    let rows = app
        .query(
            "SELECT VALUE payload FROM job WHERE key = $key",
            json!({ "key": key }),
        )
        .await;
    let ics = rows[0]["attachments"][0]["content"].as_str().unwrap();
    let calendar: Calendar = ics.parse().unwrap();
    let event = calendar.events().next().unwrap();
    (
        event.get_uid().unwrap().to_string(),
        event.property_value("SEQUENCE").unwrap().to_string(),
    )
}

#[engine_test]
async fn a_feed_lists_the_users_own_appointments_as_their_invites_describe_them() {
    let app = spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Feed Spec").await;
    let cust = app.user(Role::Customer, "Feed Cust").await;
    let other = app.user(Role::Customer, "Other Cust").await;
    let ready = app.slot(&spec, 48, 3).await;
    let cancelled = app.slot(&spec, 72, 3).await;
    let old = app.slot(&spec, 96, 3).await;
    for slot in [&ready, &cancelled, &old] {
        assert_eq!(app.book(slot, &cust).await.status(), 201);
    }
    assert_eq!(app.book(&ready, &other).await.status(), 201);
    let (status, created) = json_body(app.create_zoom(&ready, "0", Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{created}");
    let join_url = created["data"]["zoomMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{cancelled}/booking/0/cancel"),
            Some(&cust.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // One appointment 40 days in the past: beyond the feed's reach.
    app.query(
        "UPDATE type::record('slot', $s) SET starts_at = time::now() - 40d",
        json!({ "s": old }),
    )
    .await;

    let url = feed_url(&app, &cust).await;
    let (status, text) = read_feed(&app, &url).await;
    assert_eq!(status, 200);
    let unfolded = icalendar::parser::unfold(&text);
    let parsed = icalendar::parser::read_calendar(&unfolded).unwrap();
    // The calendar's own properties, wherever the parser puts the VCALENDAR.
    let root: Vec<(String, String)> = parsed
        .properties
        .iter()
        .chain(
            parsed
                .components
                .iter()
                .filter(|c| c.name.as_str() == "VCALENDAR")
                .flat_map(|c| &c.properties),
        )
        .map(|p| (p.name.to_string(), p.val.to_string()))
        .collect();
    let property = |name: &str| root.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(property("REFRESH-INTERVAL").as_deref(), Some("PT1H"));
    assert_eq!(property("NAME").as_deref(), Some("Specialistly: Feed Cust"));
    let calendar: Calendar = text.parse().unwrap();
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 2, "{text}");

    // The booking with its meeting: the Ready email's UID and SEQUENCE, and the join link.
    let ids = app
        .query(
            "SELECT VALUE record::id(id) FROM booking WHERE customer = type::record('user', $c) ORDER BY booked_at",
            json!({ "c": cust.id }),
        )
        .await;
    let booking = |i: usize| ids[i].as_str().unwrap().to_string();
    let (uid, sequence) = emailed_invite(&app, &format!("booking:{}:zoom-ready", booking(0))).await;
    let with_meeting = events
        .iter()
        .find(|e| e.get_uid() == Some(uid.as_str()))
        .expect("the booking with a meeting");
    assert_eq!(
        with_meeting.property_value("SEQUENCE"),
        Some(sequence.as_str())
    );
    // The join link is where it happens; the event's page is the seat's manage link.
    assert_eq!(
        with_meeting.property_value("LOCATION"),
        Some(join_url.as_str())
    );
    let page = with_meeting.get_url().expect("the booking's page");
    assert!(page.starts_with("http://127.0.0.1:3000/manage/"), "{page}");
    assert_eq!(
        app.get(
            &page.replace("http://127.0.0.1:3000/manage/", "/api/manage/"),
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(with_meeting.get_status(), Some(EventStatus::Confirmed));

    // The cancelled one: as its cancellation email said.
    let (uid, sequence) = emailed_invite(
        &app,
        &format!("booking:{}:cancelled:{}", booking(1), "customer"),
    )
    .await;
    let gone = events
        .iter()
        .find(|e| e.get_uid() == Some(uid.as_str()))
        .expect("the cancelled booking");
    assert_eq!(gone.get_status(), Some(EventStatus::Cancelled));
    assert_eq!(gone.property_value("SEQUENCE"), Some(sequence.as_str()));
    assert!(
        !text.contains("Other Cust"),
        "another customer's booking leaked"
    );

    // The specialist's feed: every booking of theirs (both customers) within reach.
    let spec_url = feed_url(&app, &spec).await;
    let (_, spec_text) = read_feed(&app, &spec_url).await;
    let spec_calendar: Calendar = spec_text.parse().unwrap();
    assert_eq!(spec_calendar.events().count(), 3, "{spec_text}");

    // A new address ends the old one; revoking ends the new one too.
    let newer = feed_url(&app, &cust).await;
    assert_ne!(newer, url);
    assert_eq!(read_feed(&app, &url).await.0, 404);
    assert_eq!(read_feed(&app, &newer).await.0, 200);
    let res = app
        .client
        .delete(app.url("/api/calendar/token"))
        .bearer_auth(&cust.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(read_feed(&app, &newer).await.0, 404);
    for bad in [
        "/calendar/nothing.ics",
        "/calendar/x",
        "/calendar/..%2F.ics",
    ] {
        assert_eq!(read_feed(&app, &app.url(bad)).await.0, 404, "{bad}");
    }
    let anonymous = app.post_json("/api/calendar/token", None, &json!({})).await;
    assert_eq!(anonymous.status(), 401);
}
