//! Specialists' pages: a unique handle with its rules, the public read of a page (offerings and
//! open sessions), and a former handle leading to the current one for 90 days.

use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, TestApp, TestUser};
use crate::offerings::every_day;

async fn set(app: &TestApp, spec: &TestUser, handle: &str) -> (u16, Value) {
    let (status, body) = json_body(
        app.put_json(
            "/api/profile/page",
            &spec.token,
            &json!({ "handle": handle, "bio": "Strategy for small teams." }),
        )
        .await,
    )
    .await;
    (status.as_u16(), body)
}

#[engine_test]
async fn a_page_shows_its_specialist_their_offerings_and_open_sessions_to_anyone() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Ada Page").await;
    assert_eq!(set(&app, &spec, "Dr-Ada").await.0, 200);
    let weekly = every_day(&[("09:00", "10:00")]);
    let res = app
        .post_json(
            "/api/offerings",
            Some(&spec.token),
            &json!({ "title": "Strategy hour", "duration": 60, "capacity": 1,
                     "schedule": { "timezone": "UTC", "weekly": weekly, "windowDays": 5 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.drain_jobs().await;
    let (status, body) = json_body(app.get("/api/specialists/dr-ada", None).await).await;
    assert_eq!(status, 200, "{body}");
    let page = &body["data"];
    assert_eq!(page["name"], "Ada Page");
    assert_eq!(page["handle"], "dr-ada");
    assert_eq!(page["bio"], "Strategy for small teams.");
    assert_eq!(page["offerings"][0]["title"], "Strategy hour");
    let sessions = page["sessions"].as_array().unwrap();
    assert!((4..=5).contains(&sessions.len()), "{page}");
    // A booked-up session is no longer offered.
    let cust = app.user(Role::Customer, "Page Cust").await;
    let first = sessions[0]["id"].as_str().unwrap();
    assert_eq!(app.book(first, &cust).await.status(), 201);
    let (_, body) = json_body(app.get("/api/specialists/dr-ada", None).await).await;
    assert!(body["data"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["id"] != first));
    for missing in ["nobody-here", "x", "ADMIN", "a%20b"] {
        let res = app.get(&format!("/api/specialists/{missing}"), None).await;
        assert_eq!(res.status(), 404, "{missing}");
    }
}

#[engine_test]
async fn handles_are_unique_checked_and_a_former_one_redirects_for_ninety_days() {
    let app = spawn_app().await;
    let ada = app.user(Role::Specialist, "Ada Handle").await;
    let bob = app.user(Role::Specialist, "Bob Handle").await;
    assert_eq!(set(&app, &ada, "ada").await.0, 200);
    let (status, body) = set(&app, &bob, "ada").await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("taken"));
    for (bad, message) in [
        ("ad", "3 to 30"),
        ("admin", "reserved"),
        ("a--b", "3 to 30"),
    ] {
        let (status, body) = set(&app, &bob, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let cust = app.user(Role::Customer, "Handle Cust").await;
    assert_eq!(set(&app, &cust, "cust-page").await.0, 403);

    // Ada moves: her old address leads to the new one, and stays hers.
    assert_eq!(set(&app, &ada, "ada-lovelace").await.0, 200);
    let res = app.get("/api/specialists/ada", None).await;
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/api/specialists/ada-lovelace");
    assert_eq!(set(&app, &bob, "ada").await.0, 409);
    // She may take it back.
    assert_eq!(set(&app, &ada, "ada").await.0, 200);
    assert_eq!(app.get("/api/specialists/ada", None).await.status(), 200);
    assert_eq!(set(&app, &ada, "ada-lovelace").await.0, 200);
    // After 90 days it is free.
    app.query("UPDATE handle:ada SET until = time::now() - 1s", json!({}))
        .await;
    assert_eq!(app.get("/api/specialists/ada", None).await.status(), 404);
    assert_eq!(set(&app, &bob, "ada").await.0, 200);
    let (_, body) = json_body(app.get("/api/specialists/ada", None).await).await;
    assert_eq!(body["data"]["name"], "Bob Handle");
}

#[engine_test]
async fn of_two_specialists_claiming_one_handle_at_once_one_gets_it() {
    let app = spawn_app().await;
    let mut specs = Vec::new();
    for i in 0..6 {
        specs.push(app.user(Role::Specialist, &format!("Racer {i}")).await);
    }
    let answers = futures::future::join_all(specs.iter().map(|s| set(&app, s, "popular"))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409]);
    let holders = app
        .query(
            "SELECT VALUE id FROM user WHERE handle = 'popular'",
            json!({}),
        )
        .await;
    assert_eq!(holders.len(), 1);
}

/// `/s/<handle>` is served whole (no JavaScript needed): the name, the offering, the sessions
/// by day with Book links, and the tags a shared link previews with; a former handle leads to
/// the page's address now.
#[engine_test]
async fn the_page_is_served_whole_with_its_preview_tags_and_a_former_address_leads_on() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Grace Page").await;
    assert_eq!(set(&app, &spec, "grace").await.0, 200);
    let weekly = every_day(&[("15:00", "16:00")]);
    let res = app
        .post_json(
            "/api/offerings",
            Some(&spec.token),
            &json!({ "title": "Career talk", "duration": 45, "capacity": 3,
                     "schedule": { "timezone": "Europe/Berlin", "weekly": weekly, "windowDays": 4 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.drain_jobs().await;
    let res = app.get("/s/grace?tz=UTC", None).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<title>Grace Page · Specialistly</title>"),
        "{html}"
    );
    assert!(
        html.contains(r#"property="og:title" content="Grace Page · Specialistly""#),
        "{html}"
    );
    assert!(html.contains(r#"property="og:description" content="Strategy for small teams.""#));
    assert!(html.contains("Career talk"));
    assert!(html.contains("data-testid=\"open-session\""));
    // 15:00 in Berlin read in UTC: 14:00 in winter, 13:00 in summer.
    assert!(
        html.contains("14:00 (UTC)") || html.contains("13:00 (UTC)"),
        "{html}"
    );
    assert!(html.contains("/s/grace?tz=UTC&amp;book="), "{html}");

    assert_eq!(set(&app, &spec, "grace-hopper").await.0, 200);
    // As a browser asks (the redirect is a real one for pages).
    let res = app
        .client
        .get(app.url("/s/grace"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/s/grace-hopper");
    assert_eq!(app.get("/s/nobody-at-all", None).await.status(), 404);
}

/// `GET /api/profile/page`: a specialist reads back their own handle and bio (none before
/// they pick one); a customer has no page.
#[engine_test]
async fn a_specialist_reads_back_their_own_page_settings() {
    let app = spawn_app().await;
    let spec = app.user(Role::Specialist, "Ada Settings").await;
    let (status, body) = json_body(app.get("/api/profile/page", Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({ "handle": null, "bio": null, "guestBooking": "confirm" })
    );
    assert_eq!(set(&app, &spec, "ada-settings").await.0, 200);
    let (_, body) = json_body(app.get("/api/profile/page", Some(&spec.token)).await).await;
    assert_eq!(
        body["data"],
        json!({ "handle": "ada-settings", "bio": "Strategy for small teams.", "guestBooking": "confirm" })
    );
    let cust = app.user(Role::Customer, "Cy Settings").await;
    assert_eq!(
        app.get("/api/profile/page", Some(&cust.token))
            .await
            .status(),
        403
    );
    assert_eq!(app.get("/api/profile/page", None).await.status(), 401);
}
