use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{
    json_body, parse, spawn_app, spawn_with, to_address, Options, TestApp, TestUser,
};
use crate::zoom_double::Fault;

async fn zoom_app() -> TestApp {
    spawn_with(Options {
        zoom: true,
        ..Default::default()
    })
    .await
}

/// A specialist's slot with `n` bookings; returns the specialist, the slot and the customers.
async fn booked_slot(app: &TestApp, n: usize) -> (TestUser, String, Vec<TestUser>) {
    let spec = app.user(Role::Specialist, "Sara Spec").await;
    let slot = app.slot(&spec, 48, 10).await;
    let mut customers = Vec::new();
    for i in 0..n {
        let c = app.user(Role::Customer, &format!("Customer {i}")).await;
        assert_eq!(app.book(&slot, &c).await.status(), 201);
        customers.push(c);
    }
    (spec, slot, customers)
}

async fn stored_meeting(app: &TestApp, slot: &str, index: u32) -> Value {
    let rows = app
        .query(
            "SELECT zoom_meeting FROM booking WHERE slot = type::record('slot', $slot) AND index = $index",
            json!({ "slot": slot, "index": index }),
        )
        .await;
    rows[0]["zoom_meeting"].clone()
}

#[engine_test]
async fn creating_a_meeting_answers_200_saves_the_specs_fields_and_queues_the_email() {
    let app = zoom_app().await;
    let (spec, slot, customers) = booked_slot(&app, 1).await;
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Zoom meeting created successfully");
    let m = &body["data"]["zoomMeeting"];
    assert!(m["zoomMeetingId"].is_string());
    assert!(m["zoomMeetingId"].as_str().unwrap().len() >= 11);
    assert!(m["joinUrl"].as_str().unwrap().contains("?pwd="));
    assert!(m["startUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://zoom.us/s/"));
    assert!(m["password"].as_str().unwrap().len() <= 10);
    assert!(m["createdAt"].is_string());
    assert_eq!(body["data"]["bookingDetails"]["customerName"], "Customer 0");
    assert_eq!(
        body["data"]["bookingDetails"]["customerEmail"],
        customers[0].email.as_str()
    );

    let stored = stored_meeting(&app, &slot, 0).await;
    let mut keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdAt",
            "joinUrl",
            "password",
            "startUrl",
            "zoomMeetingId"
        ]
    );
    assert_eq!(stored["zoomMeetingId"], m["zoomMeetingId"]);

    let zoom = app.zoom.as_ref().unwrap();
    let sent = zoom.meetings();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["topic"], "Consulting Session - Customer 0");
    assert_eq!(sent[0]["timezone"], "UTC");
    assert_eq!(sent[0]["duration"], 45);
    assert_eq!(sent[0]["settings"]["waiting_room"], true);
    assert_eq!(sent[0]["settings"]["join_before_host"], false);
    let requests = zoom.create_requests().await;
    assert!(
        requests[0].url.path().starts_with("/v2/users/sara.spec-"),
        "host defaults to the specialist's email"
    );

    let ready = app.query("SELECT payload.to AS recipient, payload.text AS text, payload.html AS html FROM job WHERE string::ends_with(key, 'zoom-ready')", json!({})).await;
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0]["recipient"], customers[0].email.as_str());
    let text = ready[0]["text"].as_str().unwrap();
    assert!(text.contains(m["joinUrl"].as_str().unwrap()));
    assert!(text.contains(m["zoomMeetingId"].as_str().unwrap()));
    assert!(text.contains(m["password"].as_str().unwrap()));
    assert!(
        !text.contains("zoom.us/s/") && !ready[0]["html"].as_str().unwrap().contains("zoom.us/s/"),
        "never the start URL"
    );
}

#[engine_test]
async fn the_error_table_through_rest() {
    let app = zoom_app().await;
    let (spec, slot, customers) = booked_slot(&app, 2).await;
    let other = app.user(Role::Specialist, "Other").await;

    let (status, body) = json_body(app.create_zoom(&slot, "0", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({ "success": false, "message": "Unauthorized. Please login as a specialist." })
    );
    let (status, _) = json_body(app.create_zoom(&slot, "0", Some("not-a-token")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for missing in ["doesnotexist", "not%20valid", "slot:x"] {
        let (status, body) =
            json_body(app.create_zoom(missing, "0", Some(&spec.token)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            body,
            json!({ "success": false, "message": "Slot not found" })
        );
    }

    for token in [&other.token, &customers[0].token] {
        let (status, body) = json_body(app.create_zoom(&slot, "0", Some(token)).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            json!({ "success": false, "message": "Forbidden. You can only create Zoom meetings for your own slots." })
        );
    }

    for index in ["abc", "-1", "1.5", "2", "999999999999"] {
        let (status, body) =
            json_body(app.create_zoom(&slot, index, Some(&spec.token)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{index}");
        assert_eq!(
            body,
            json!({ "success": false, "message": "Invalid booking index" })
        );
    }
    assert!(
        app.zoom.as_ref().unwrap().meetings().is_empty(),
        "no refused request reached Zoom"
    );

    let (status, created) = json_body(app.create_zoom(&slot, "1", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_body(app.create_zoom(&slot, "1", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["success"], false);
    assert_eq!(
        body["message"],
        "Zoom meeting already created for this booking"
    );
    assert_eq!(
        body["data"]["zoomMeetingId"],
        created["data"]["zoomMeeting"]["zoomMeetingId"]
    );
    assert_eq!(app.zoom.as_ref().unwrap().meetings().len(), 1);
}

#[engine_test]
async fn zoom_failure_gives_500_changes_nothing_and_a_retry_succeeds() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    app.zoom.as_ref().unwrap().push_fault(Fault::ServerError);
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({ "success": false, "message": "Could not create the Zoom meeting. Please try again." })
    );
    assert!(stored_meeting(&app, &slot, 0).await.is_null());
    let claim = app.query("SELECT zoom_claim FROM booking", json!({})).await;
    assert!(claim[0]["zoom_claim"].is_null(), "the claim is released");
    assert_eq!(app.count_emails().await, 2, "no meeting email queued");

    let (status, _) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(stored_meeting(&app, &slot, 0).await.is_object());
}

#[engine_test]
async fn ten_creations_share_one_token_and_a_revoked_token_is_replaced_once() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 10).await;
    for i in 0..9 {
        let res = app
            .create_zoom(&slot, &i.to_string(), Some(&spec.token))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let zoom = app.zoom.as_ref().unwrap();
    assert_eq!(zoom.tokens_issued(), 1);
    zoom.push_fault(Fault::RevokedToken);
    let res = app.create_zoom(&slot, "9", Some(&spec.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(zoom.tokens_issued(), 2);
    assert_eq!(zoom.meetings().len(), 10);
}

#[engine_test]
async fn a_429_is_retried_after_retry_after_but_the_daily_limit_is_reported() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 2).await;
    let zoom = app.zoom.as_ref().unwrap();
    zoom.push_fault(Fault::TooManyRequests);
    let started = std::time::Instant::now();
    let res = app.create_zoom(&slot, "0", Some(&spec.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
    assert_eq!(zoom.create_requests().await.len(), 2);

    zoom.push_fault(Fault::DailyLimit);
    let (status, body) = json_body(app.create_zoom(&slot, "1", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("100 meeting creations per host per day"),
        "{body}"
    );
    assert_eq!(
        zoom.create_requests().await.len(),
        3,
        "the daily limit is not retried"
    );
    assert!(stored_meeting(&app, &slot, 1).await.is_null());
}

#[engine_test]
async fn twenty_concurrent_clicks_create_exactly_one_meeting() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    app.zoom
        .as_ref()
        .unwrap()
        .push_fault(Fault::Slow(Duration::from_millis(300)));
    let results = join_all((0..20).map(|_| app.create_zoom(&slot, "0", Some(&spec.token)))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(app.zoom.as_ref().unwrap().meetings().len(), 1);
    let ready = app
        .query(
            "SELECT id FROM job WHERE string::ends_with(key, 'zoom-ready')",
            json!({}),
        )
        .await;
    assert_eq!(ready.len(), 1);
}

#[engine_test]
async fn a_failed_save_after_zooms_answer_deletes_the_meeting_at_zoom() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    let zoom = app.zoom.as_ref().unwrap();
    zoom.push_fault(Fault::Slow(Duration::from_millis(1500)));
    let request = app.create_zoom(&slot, "0", Some(&spec.token));
    let sabotage = async {
        // While Zoom is answering, the claim is taken away (as if its lease had expired and
        // another request had claimed the booking), so saving must fail.
        for _ in 0..250 {
            let claim = app
                .query("SELECT VALUE zoom_claim FROM booking", json!({}))
                .await;
            if claim.first().is_some_and(|c| c.is_object()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        app.query(
            "UPDATE booking SET zoom_claim.token = 'someone-else'",
            json!({}),
        )
        .await;
    };
    let (res, _) = tokio::join!(request, sabotage);
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        body["message"],
        "Could not create the Zoom meeting. Please try again."
    );
    assert_eq!(zoom.meetings().len(), 1);
    assert_eq!(
        zoom.deleted().len(),
        1,
        "the orphaned meeting is deleted at Zoom"
    );
    assert!(stored_meeting(&app, &slot, 0).await.is_null());
}

#[engine_test]
async fn an_expired_claim_lets_the_specialist_try_again() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    app.query(
        "UPDATE booking SET zoom_claim = { token: 'crashed', until: time::now() + 1m }",
        json!({}),
    )
    .await;
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["message"],
        "Zoom meeting creation is already in progress"
    );
    app.query(
        "UPDATE booking SET zoom_claim.until = time::now() - 1s",
        json!({}),
    )
    .await;
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        StatusCode::OK
    );
}

#[engine_test]
async fn three_bookings_get_three_meetings_and_three_emails_each_to_its_customer() {
    let app = spawn_with(Options {
        zoom: true,
        smtp: true,
        ..Default::default()
    })
    .await;
    let (spec, slot, customers) = booked_slot(&app, 3).await;
    app.drain_jobs().await;
    let before = app.smtp.as_ref().unwrap().wait_for(6).await.len();
    assert_eq!(
        before, 6,
        "three confirmations and three specialist notifications"
    );
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, body) = json_body(
            app.create_zoom(&slot, &i.to_string(), Some(&spec.token))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        ids.push(
            body["data"]["zoomMeeting"]["zoomMeetingId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(app.drain_jobs().await, 3);
    let all = app.smtp.as_ref().unwrap().wait_for(9).await;
    let ready: Vec<_> = all
        .iter()
        .map(|r| parse(r))
        .filter(|m| {
            m.subject()
                .unwrap_or_default()
                .starts_with("🎥 Zoom Meeting Ready")
        })
        .collect();
    assert_eq!(ready.len(), 3);
    for (i, customer) in customers.iter().enumerate() {
        let m = ready
            .iter()
            .find(|m| to_address(m) == customer.email)
            .expect("each customer gets one");
        let text = m.body_text(0).unwrap();
        assert!(
            text.contains(&ids[i]),
            "customer {i} gets their own meeting"
        );
        for (j, other) in customers.iter().enumerate() {
            if j != i {
                assert!(!text.contains(&ids[j]));
                assert!(
                    !String::from_utf8_lossy(m.raw_message()).contains(&other.email),
                    "no other customer's address"
                );
            }
        }
    }
}

#[engine_test]
async fn the_simulated_provider_makes_obviously_fake_meetings_on_the_apps_host() {
    let app = spawn_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let m = &body["data"]["zoomMeeting"];
    assert!(m["zoomMeetingId"].as_str().unwrap().starts_with("sim-"));
    let join = m["joinUrl"].as_str().unwrap();
    assert!(
        join.starts_with("http://127.0.0.1:3000/dev/zoom/sim-"),
        "{join}"
    );
    let page = app
        .get(
            &format!("/dev/zoom/{}", m["zoomMeetingId"].as_str().unwrap()),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("simulated"));
}

#[engine_test]
async fn start_meeting_redirects_to_a_fresh_start_url_for_the_specialist_only() {
    let app = zoom_app().await;
    let (spec, slot, customers) = booked_slot(&app, 1).await;
    app.create_zoom(&slot, "0", Some(&spec.token)).await;
    let res = app
        .get(&format!("/meetings/{slot}/0/start"), Some(&spec.token))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(location.contains("zak=fresh-"), "{location}");
    let res = app
        .get(
            &format!("/api/consulting-slots/{slot}/booking/0/start-url"),
            Some(&customers[0].token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[engine_test]
async fn the_specialists_zoom_user_and_meeting_defaults_reach_zoom() {
    let app = zoom_app().await;
    let (spec, slot, customers) = booked_slot(&app, 1).await;
    // Another host is the operator's to assign.
    specialistly::server::admin::set_zoom_host(&app.state.db, &spec.email, "me")
        .await
        .unwrap();
    let settings = json!({
        "zoomUser": "me", "waitingRoom": false, "joinBeforeHost": true,
        "hostVideo": false, "participantVideo": true, "muteUponEntry": false, "cloudRecording": false,
        "recurringLinks": false, "autoCreateMinutes": null
    });
    let res = app
        .put_json("/api/profile/zoom-settings", &spec.token, &settings)
        .await;
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], settings);
    let res = app
        .put_json("/api/profile/zoom-settings", &customers[0].token, &settings)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        StatusCode::OK
    );
    let zoom = app.zoom.as_ref().unwrap();
    assert_eq!(
        zoom.create_requests().await[0].url.path(),
        "/v2/users/me/meetings"
    );
    let sent = &zoom.meetings()[0]["settings"];
    assert_eq!(sent["waiting_room"], false);
    assert_eq!(sent["join_before_host"], true);
    assert_eq!(sent["host_video"], false);
}

#[engine_test]
async fn concurrent_creations_share_one_token_request() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 5).await;
    let results = join_all((0..5).map(|i| {
        let index = i.to_string();
        let slot = slot.clone();
        let token = spec.token.clone();
        let app = &app;
        async move { app.create_zoom(&slot, &index, Some(&token)).await }
    }))
    .await;
    assert!(results.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(app.zoom.as_ref().unwrap().tokens_issued(), 1);
    assert_eq!(app.zoom.as_ref().unwrap().meetings().len(), 5);
}

#[engine_test]
async fn a_token_is_renewed_shortly_before_it_expires() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 2).await;
    let zoom = app.zoom.as_ref().unwrap();
    // Renewal starts 60 s before expiry: a 61 s token is good for about one second.
    zoom.set_token_lifetime(61);
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(zoom.tokens_issued(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        app.create_zoom(&slot, "1", Some(&spec.token))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(zoom.tokens_issued(), 2);
}

/// Another site cannot launch Zoom as the host by sending the specialist to the start link:
/// a cross-site navigation gets a page with the link (and nothing from Zoom), while the
/// specialist's own click (same-origin, or typed: `none`) redirects as before.
#[engine_test]
async fn a_start_link_opened_from_another_site_asks_before_starting() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    app.create_zoom(&slot, "0", Some(&spec.token)).await;
    let open = |site: &'static str| {
        app.client
            .get(app.url(&format!("/meetings/{slot}/0/start")))
            .bearer_auth(&spec.token)
            .header("sec-fetch-site", site)
            .send()
    };
    for site in ["cross-site", "same-site"] {
        let res = open(site).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{site}");
        let html = res.text().await.unwrap();
        assert!(html.contains("data-testid=\"start-as-host\""), "{html}");
        assert!(
            html.contains(&format!("href=\"/meetings/{slot}/0/start\"")),
            "{html}"
        );
        assert!(!html.contains("zak="), "{html}");
    }
    for site in ["same-origin", "none"] {
        let res = open(site).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{site}");
        assert!(res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("zak=fresh-"));
    }
}

/// A slot moved while its meeting was being created: the meeting (made for the old time) is
/// deleted at Zoom instead of saved, no Ready email with the old time goes out, and the next
/// click makes it for the new time.
#[engine_test]
async fn a_slot_moved_during_a_creation_gets_its_meeting_at_the_new_time() {
    let app = zoom_app().await;
    let zoom = app.zoom.as_ref().unwrap();
    let (spec, slot, _) = booked_slot(&app, 1).await;
    zoom.push_fault(Fault::Slow(Duration::from_millis(1500)));
    let moved_to = chrono::Utc::now() + chrono::Duration::hours(72);
    let (created, moved) = tokio::join!(app.create_zoom(&slot, "0", Some(&spec.token)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.patch_json(
            &format!("/api/consulting-slots/{slot}"),
            &spec.token,
            &json!({
                "date": moved_to.format("%Y-%m-%d").to_string(),
                "startTime": "09:00",
                "timezone": "UTC",
            }),
        )
        .await
        .status()
    });
    assert_eq!(moved, StatusCode::OK);
    let (status, body) = json_body(created).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("moved"),
        "{body}"
    );
    assert_eq!(zoom.meetings().len(), 1, "made once, for the old time");
    assert_eq!(zoom.deleted().len(), 1, "and deleted again");
    assert_eq!(stored_meeting(&app, &slot, 0).await, Value::Null);
    let ready = app
        .query(
            "SELECT VALUE id FROM job WHERE string::contains(key, 'zoom-ready')",
            json!({}),
        )
        .await;
    assert!(
        ready.is_empty(),
        "no Ready email for the old time: {ready:?}"
    );

    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = zoom.meetings().last().unwrap().clone();
    let starts = second["start_time"].as_str().unwrap();
    assert!(
        starts.starts_with(&format!("{}T09:00", moved_to.format("%Y-%m-%d"))),
        "{second}"
    );
}

/// A creation that outlives its deadline (`ZOOM_ATTEMPT_SECONDS`) is given up before its claim
/// could lapse: the specialist is told Zoom was too slow, and the next click adopts whatever
/// Zoom made meanwhile instead of creating a second meeting.
#[engine_test]
async fn a_creation_that_outlives_its_deadline_is_answered_504_and_adopted_later() {
    let app = spawn_with(Options {
        zoom: true,
        extra: vec![
            ("ZOOM_ATTEMPT_SECONDS", "1".into()),
            ("ZOOM_TIMEOUT_SECONDS", "30".into()),
        ],
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let (spec, slot, _) = booked_slot(&app, 1).await;
    zoom.push_fault(Fault::Slow(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(
        body["message"],
        "Zoom did not answer in time. Please try again in a minute."
    );
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(stored_meeting(&app, &slot, 0).await, Value::Null);
    assert_eq!(zoom.meetings().len(), 1, "Zoom made it all the same");

    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["zoomMeeting"]["zoomMeetingId"].is_string());
    assert_eq!(
        zoom.create_requests().await.len(),
        1,
        "adopted, not made again"
    );
    assert!(!zoom.list_requests().await.is_empty(), "found by a search");
}

/// G6: the search for an earlier attempt's meeting and the creation share one deadline, so an
/// attempt never outlives the booking's claim on it (each had a deadline of its own).
#[engine_test]
async fn the_search_and_the_creation_share_one_deadline() {
    let app = spawn_with(Options {
        zoom: true,
        extra: vec![
            ("ZOOM_ATTEMPT_SECONDS", "2".into()),
            ("ZOOM_TIMEOUT_SECONDS", "30".into()),
        ],
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let (spec, slot, _) = booked_slot(&app, 1).await;
    // A 500: Zoom may have made it, so the next attempt searches first.
    zoom.push_fault(Fault::ServerError);
    let (status, _) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    zoom.set_list_delay(Duration::from_millis(1300));
    zoom.push_fault(Fault::Slow(Duration::from_millis(1300)));
    let started = std::time::Instant::now();
    let (status, body) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert!(!zoom.list_requests().await.is_empty(), "it searched first");
}

/// A creation whose answer was lost leaves a meeting at Zoom that the booking does not know;
/// when the booking is cancelled, a sweep finds it by its marker and deletes it.
#[engine_test]
async fn a_meeting_whose_answer_was_lost_is_deleted_when_its_booking_is_cancelled() {
    let app = spawn_with(Options {
        zoom: true,
        extra: vec![("ZOOM_TIMEOUT_SECONDS", "1".into())],
        ..Default::default()
    })
    .await;
    let zoom = app.zoom.as_ref().unwrap();
    let (spec, slot, customers) = booked_slot(&app, 1).await;
    zoom.push_fault(Fault::Slow(Duration::from_secs(3)));
    let (status, _) = json_body(app.create_zoom(&slot, "0", Some(&spec.token)).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(zoom.meetings().len(), 1, "Zoom made it");

    let (status, body) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/booking/0/cancel"),
            Some(&customers[0].token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.drain_jobs().await;
    assert_eq!(zoom.deleted().len(), 1, "the lost meeting is gone");
    assert!(!zoom.list_requests().await.is_empty(), "found by a search");
    let sweeps = app
        .query(
            "SELECT VALUE status FROM job WHERE kind = 'zoom_sweep'",
            json!({}),
        )
        .await;
    assert_eq!(sweeps, [json!("done")]);
}

#[engine_test]
async fn the_preview_shows_what_create_will_send_and_sends_nothing() {
    let app = zoom_app().await;
    let (spec, slot, _) = booked_slot(&app, 1).await;
    let other = app.user(Role::Specialist, "Other Spec").await;
    let path = format!("/api/consulting-slots/{slot}/booking/0/create-zoom/preview");

    let (status, body) = json_body(app.get(&path, Some(&spec.token)).await).await;
    assert_eq!(status, 200, "{body}");
    let preview = &body["data"];
    assert_eq!(preview["topic"], "Consulting Session - Customer 0");
    assert_eq!(preview["duration"], 45);
    assert_eq!(preview["timezone"], "Europe/Berlin");
    assert!(
        preview["localStartTime"]
            .as_str()
            .unwrap()
            .ends_with("(Europe/Berlin)"),
        "{preview}"
    );
    assert_eq!(preview["host"], spec.email.as_str());
    assert_eq!(preview["settings"]["waitingRoom"], true);
    assert_eq!(preview["simulated"], false);
    let zoom = app.zoom.as_ref().unwrap();
    assert!(
        zoom.create_requests().await.is_empty(),
        "nothing sent to Zoom"
    );

    // Refused as Create would be.
    assert_eq!(app.get(&path, None).await.status(), 401);
    assert_eq!(app.get(&path, Some(&other.token)).await.status(), 403);
    let bad = format!("/api/consulting-slots/{slot}/booking/7/create-zoom/preview");
    assert_eq!(app.get(&bad, Some(&spec.token)).await.status(), 400);

    // Create sends what the preview said; afterwards there is nothing left to preview.
    assert_eq!(
        app.create_zoom(&slot, "0", Some(&spec.token))
            .await
            .status(),
        200
    );
    let sent: Value = zoom.create_requests().await[0].body_json().unwrap();
    assert_eq!(sent["topic"], preview["topic"]);
    assert_eq!(sent["agenda"], preview["agenda"]);
    assert_eq!(sent["duration"], preview["duration"]);
    let starts: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(preview["startTime"].clone()).unwrap();
    assert_eq!(
        sent["start_time"],
        starts.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(app.get(&path, Some(&spec.token)).await.status(), 409);
}

async fn set_recurring_links(app: &TestApp, spec: &TestUser) {
    let res = app
        .put_json(
            "/api/profile/zoom-settings",
            &spec.token,
            &json!({ "zoomUser": null, "waitingRoom": true, "joinBeforeHost": false,
                "hostVideo": true, "participantVideo": true, "muteUponEntry": true,
                "recurringLinks": true }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn meeting_id_of(app: &TestApp, slot: &str) -> String {
    stored_meeting(app, slot, 0).await["zoomMeetingId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[engine_test]
async fn a_regular_customers_later_bookings_share_one_meeting_with_no_fixed_time() {
    let app = zoom_app().await;
    let spec = app.user(Role::Specialist, "Regular Spec").await;
    let cust = app.user(Role::Customer, "Regular Cust").await;
    set_recurring_links(&app, &spec).await;
    let slots: Vec<String> =
        futures::future::join_all((1..=4).map(|d| app.slot(&spec, 24 * d, 2))).await;
    for slot in &slots {
        assert_eq!(app.book(slot, &cust).await.status(), 201);
    }
    // The preview says which booking gets the shared link.
    for (slot, shared) in [(&slots[0], false), (&slots[1], true)] {
        let path = format!("/api/consulting-slots/{slot}/booking/0/create-zoom/preview");
        let (_, body) = json_body(app.get(&path, Some(&spec.token)).await).await;
        assert_eq!(body["data"]["recurring"], shared, "{body}");
    }
    for slot in &slots {
        assert_eq!(
            app.create_zoom(slot, "0", Some(&spec.token)).await.status(),
            200
        );
    }
    let zoom = app.zoom.as_ref().unwrap();
    let sent: Vec<Value> = zoom
        .create_requests()
        .await
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    // The first booking has its own scheduled meeting; the second makes the shared one,
    // which the third and fourth reuse without asking Zoom.
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["type"], 2);
    assert_eq!(sent[1]["type"], 3);
    assert!(sent[1]["start_time"].is_null());
    let ids: Vec<String> =
        futures::future::join_all(slots.iter().map(|s| meeting_id_of(&app, s))).await;
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_eq!(ids[2], ids[3]);
    assert_eq!(stored_meeting(&app, &slots[2], 0).await["recurring"], true);

    // Cancelling one booking keeps the shared meeting for the others; the last one takes it.
    for (i, slot) in slots[1..].iter().enumerate() {
        let cancel = format!("/api/consulting-slots/{slot}/booking/0/cancel");
        let res = app
            .post_json(
                &cancel,
                Some(&spec.token),
                &json!({ "reason": "Moving on" }),
            )
            .await;
        assert_eq!(res.status(), 200);
        let expected = usize::from(i == 2);
        let deletions = app
            .query(
                "SELECT id FROM job WHERE key = $key",
                json!({ "key": format!("zoom-delete:{}", ids[1]) }),
            )
            .await
            .len();
        assert_eq!(deletions, expected, "after cancel {i}");
    }
    assert_eq!(app.count("recurring_meeting").await, 0);

    // Without the setting, every booking has its own meeting.
    let other = app.user(Role::Customer, "Once Cust").await;
    let plain = app.user(Role::Specialist, "Plain Spec").await;
    for hours in [48, 72] {
        let slot = app.slot(&plain, hours, 1).await;
        assert_eq!(app.book(&slot, &other).await.status(), 201);
        assert_eq!(
            app.create_zoom(&slot, "0", Some(&plain.token))
                .await
                .status(),
            200
        );
    }
    let sent = zoom.create_requests().await;
    assert_eq!(sent.len(), 4);
    assert!(sent[2..]
        .iter()
        .all(|r| r.body_json::<Value>().unwrap()["type"] == 2));
}
