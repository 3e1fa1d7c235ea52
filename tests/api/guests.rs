//! Booking without an account, and the per-seat manage links every customer email carries:
//! holds confirmed from the emailed link or released on time (and the waitlist moves), the
//! specialist's `guestBooking` setting, limits against squatting, what a link may reach, a
//! link that follows its booking through a move, and guest bookings claimed by an account.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_with, Options, TestApp, TestUser};

fn options(extra: Vec<(&'static str, String)>) -> Options {
    Options {
        smtp: true,
        extra,
        ..Default::default()
    }
}

async fn guest_book(app: &TestApp, slot: &str, name: &str, email: &str) -> (StatusCode, Value) {
    json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/guest-bookings"),
            None,
            &json!({ "name": name, "email": email, "additionalNotes": "About my tax return" }),
        )
        .await,
    )
    .await
}

async fn set_guest_booking(app: &TestApp, specialist: &TestUser, mode: &str) {
    let (status, body) = json_body(
        app.put_json(
            "/api/profile/page",
            &specialist.token,
            &json!({ "handle": format!("sp-{}", &specialist.id[..8]), "guestBooking": mode }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["guestBooking"], mode);
}

/// The manage link's token in an email's text.
fn manage_token(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains("/manage/"))
        .unwrap_or_else(|| panic!("a manage link in:\n{text}"))
        .trim();
    assert!(line.starts_with("http://127.0.0.1:3000/manage/"), "{line}");
    line.rsplit('/').next().unwrap().to_string()
}

async fn managed(app: &TestApp, token: &str) -> (StatusCode, Value) {
    json_body(app.get(&format!("/api/manage/{token}"), None).await).await
}

async fn manage_post(app: &TestApp, token: &str, action: &str, body: Value) -> (StatusCode, Value) {
    json_body(
        app.post_json(&format!("/api/manage/{token}/{action}"), None, &body)
            .await,
    )
    .await
}

async fn booking_rows(app: &TestApp, slot: &str) -> Vec<Value> {
    app.query(
        "SELECT index, status, cancelled_by, hold_until, record::tb(customer) AS table,
            record::id(customer) AS customer FROM booking
            WHERE slot = type::record('slot', $slot) ORDER BY index",
        json!({ "slot": slot }),
    )
    .await
}

async fn seats_booked(app: &TestApp, slot: &str) -> i64 {
    app.query(
        "SELECT VALUE booked FROM type::record('slot', $slot)",
        json!({ "slot": slot }),
    )
    .await[0]
        .as_i64()
        .unwrap()
}

#[engine_test]
async fn a_guest_holds_a_seat_and_confirms_it_from_the_emailed_link() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let slot = app.slot(&specialist, 72, 1).await;

    let (status, body) = guest_book(&app, &slot, "Gina Guest", "Gina@Example.com ").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let data = &body["data"];
    assert_eq!(data["state"], "awaitingConfirmation");
    assert_eq!(data["email"], "gina@example.com");
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(data["holdExpiresAt"].clone()).unwrap();
    let minutes = (until - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "held for {minutes} min");
    // The link is only ever emailed: whoever books may not be who reads that address.
    assert!(!body.to_string().contains("/manage/"), "{body}");
    // The hold takes the seat: the slot is full for everyone else.
    assert_eq!(seats_booked(&app, &slot).await, 1);
    let (status, _) = guest_book(&app, &slot, "Other Guest", "other@example.com").await;
    assert_eq!(status, StatusCode::CONFLICT);

    let mails = app.mail_to("gina@example.com").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].0.starts_with("⏳ Confirm your booking"),
        "{}",
        mails[0].0
    );
    let token = manage_token(&mails[0].1);
    // Nothing reaches the specialist before the guest confirms.
    assert!(app.mail_to(&specialist.email).await.is_empty());

    let (status, view) = managed(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(view["data"]["holdExpiresAt"].is_string());
    assert_eq!(
        view["data"]["appointment"]["booking"]["customerName"],
        "Gina Guest"
    );
    assert_eq!(view["data"]["appointment"]["booking"]["guest"], true);
    // The specialist sees it waiting, and no meeting can be made for it yet.
    let (_, board) = json_body(
        app.get("/api/meeting-manager", Some(&specialist.token))
            .await,
    )
    .await;
    assert!(board["data"][0]["bookings"][0]["awaitingConfirmationUntil"].is_string());
    let res = app.create_zoom(&slot, "0", Some(&specialist.token)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let (status, body) = manage_post(&app, &token, "confirm", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"].get("holdExpiresAt").is_none(), "{body}");
    let (status, _) = manage_post(&app, &token, "confirm", json!({})).await;
    assert_eq!(status, StatusCode::OK, "confirming again is fine");

    let mails = app.mail_to("gina@example.com").await;
    let subjects: Vec<&str> = mails.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].starts_with("✅ Appointment Confirmed"));
    assert_eq!(manage_token(&mails[1].1), token, "one link per seat");
    let specialist_mail = app.mail_to(&specialist.email).await;
    assert_eq!(specialist_mail.len(), 1);
    assert!(specialist_mail[0].1.contains("Gina Guest"));
    assert!(
        !specialist_mail[0].1.contains(&token),
        "the guest's link is theirs alone"
    );

    // The release job at the end of the hold finds it confirmed and leaves it.
    app.query(
        "UPDATE job SET run_at = time::now() WHERE kind = 'guest_hold_release'",
        json!({}),
    )
    .await;
    app.drain_jobs().await;
    let rows = booking_rows(&app, &slot).await;
    assert_eq!(rows[0]["status"], "active");
    assert_eq!(rows[0]["table"], "guest");
    assert_eq!(seats_booked(&app, &slot).await, 1);
    assert_eq!(app.mail_to("gina@example.com").await.len(), 2);
    let res = app.create_zoom(&slot, "0", Some(&specialist.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[engine_test]
async fn an_unconfirmed_hold_is_released_on_time_and_the_first_waiting_customer_gets_the_seat() {
    let app = spawn_with(options(vec![("GUEST_HOLD_SECONDS", "1".into())])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let waiting = app.user(Role::Customer, "Wendy Wait").await;
    let slot = app.slot(&specialist, 72, 1).await;
    let (status, _) = guest_book(&app, &slot, "Gina Guest", "gina@example.com").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/waitlist"),
            Some(&waiting.token),
            &json!({}),
        )
        .await,
    )
    .await;
    assert!(status.is_success(), "{body}");
    let token = manage_token(&app.mail_to("gina@example.com").await[0].1);

    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.drain_jobs().await;
    let rows = booking_rows(&app, &slot).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["status"], "cancelled");
    assert_eq!(rows[0]["cancelled_by"], "system");
    assert_eq!(rows[1]["status"], "active");
    assert_eq!(rows[1]["customer"], waiting.id.as_str());
    assert_eq!(seats_booked(&app, &slot).await, 1);
    let mails = app.mail_to("gina@example.com").await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].0.starts_with("⌛ Seat released"), "{}", mails[1].0);
    assert!(
        !app.mail_to(&waiting.email).await.is_empty(),
        "the promoted customer is told"
    );

    // Too late now: the link says so and changes nothing.
    let (status, body) = manage_post(&app, &token, "confirm", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(booking_rows(&app, &slot).await[0]["status"], "cancelled");
}

#[engine_test]
async fn a_hold_that_ran_out_is_refused_even_before_its_release_job_ran() {
    let app = spawn_with(options(vec![("GUEST_HOLD_SECONDS", "1".into())])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let slot = app.slot(&specialist, 72, 2).await;
    guest_book(&app, &slot, "Gina Guest", "gina@example.com").await;
    let token = manage_token(&app.mail_to("gina@example.com").await[0].1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = manage_post(&app, &token, "confirm", json!({})).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("book again"),
        "{body}"
    );
    assert!(booking_rows(&app, &slot).await[0]["hold_until"].is_string());
}

#[engine_test]
async fn the_specialist_chooses_instant_confirm_or_accounts_only() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let slot = app.slot(&specialist, 72, 3).await;
    let (_, page) = json_body(app.get("/api/profile/page", Some(&specialist.token)).await).await;
    assert_eq!(page["data"]["guestBooking"], "confirm", "the default");

    set_guest_booking(&app, &specialist, "instant").await;
    let (status, body) = guest_book(&app, &slot, "Ivy Instant", "ivy@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["state"], "confirmed");
    assert!(body["data"].get("holdExpiresAt").is_none());
    let mails = app.mail_to("ivy@example.com").await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].0.starts_with("✅ Appointment Confirmed"),
        "{}",
        mails[0].0
    );
    manage_token(&mails[0].1);
    assert_eq!(app.mail_to(&specialist.email).await.len(), 1);
    assert_eq!(
        app.count("job WHERE kind = 'guest_hold_release'").await,
        0,
        "nothing to release"
    );

    set_guest_booking(&app, &specialist, "off").await;
    let (status, body) = guest_book(&app, &slot, "Olga Off", "olga@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("account"));
    assert_eq!(booking_rows(&app, &slot).await.len(), 1, "nothing changed");
    // A bad setting is refused and changes nothing.
    let (status, _) = json_body(
        app.put_json(
            "/api/profile/page",
            &specialist.token,
            &json!({ "handle": format!("sp-{}", &specialist.id[..8]), "guestBooking": "always" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = json_body(app.get("/api/profile/page", Some(&specialist.token)).await).await;
    assert_eq!(page["data"]["guestBooking"], "off");
}

#[engine_test]
async fn bad_guest_input_is_refused_and_changes_nothing() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let slot = app.slot(&specialist, 72, 3).await;
    for (name, email) in [("", "a@example.com"), ("Ann", "not-an-email"), ("Ann", "")] {
        let (status, _) = guest_book(&app, &slot, name, email).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?} {email:?}");
    }
    let (status, _) = guest_book(&app, "nosuchslot", "Ann", "a@example.com").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/guest-bookings"),
            None,
            &json!({ "name": "Ann", "email": "a@example.com", "timezone": "Mars/Olympus" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("booking").await, 0);
    assert_eq!(app.count("guest").await, 0);
}

#[engine_test]
async fn guests_are_limited_per_address_per_client_and_per_specialist() {
    let app = spawn_with(options(vec![])).await;
    let first = app.user(Role::Specialist, "Sam Spec").await;
    let second = app.user(Role::Specialist, "Sue Spec").await;
    let mut first_slots = Vec::new();
    for h in 0..4 {
        first_slots.push(app.slot(&first, 72 + h, 2).await);
    }
    let big = app.slot(&second, 80, 30).await;
    let other = app.slot(&second, 81, 30).await;
    let email = "squat@example.com";
    for slot in &first_slots[..3] {
        let (status, body) = guest_book(&app, slot, "Sq Uat", email).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    // Three upcoming with one specialist at a time.
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{}/guest-bookings", first_slots[3]),
            None,
            &json!({ "name": "Sq Uat", "email": email }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Another specialist is fine, up to five bookings an hour for one address.
    let (status, _) = guest_book(&app, &big, "Sq Uat", email).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let res = app
        .post_json(
            &format!("/api/consulting-slots/{other}/guest-bookings"),
            None,
            &json!({ "name": "Sq Uat", "email": "SQUAT@example.com" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(
        app.count("booking").await,
        4,
        "the refused ones changed nothing"
    );
    // Ten an hour from one client, whatever the addresses (six asked so far).
    for n in 7..=10 {
        let (status, body) =
            guest_book(&app, &big, "Many Names", &format!("n{n}@example.com")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "request {n}: {body}");
    }
    let (status, _) = guest_book(&app, &big, "Many Names", "n11@example.com").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("booking").await, 8);
}

#[engine_test]
async fn a_manage_link_reaches_its_own_seat_only_and_dies_thirty_days_after_the_appointment() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    set_guest_booking(&app, &specialist, "instant").await;
    let slot = app.slot(&specialist, 72, 3).await;
    guest_book(&app, &slot, "Ann One", "ann@example.com").await;
    guest_book(&app, &slot, "Bob Two", "bob@example.com").await;
    let ann = manage_token(&app.mail_to("ann@example.com").await[0].1);
    let bob = manage_token(&app.mail_to("bob@example.com").await[0].1);
    assert_ne!(ann, bob);
    let (_, view) = managed(&app, &ann).await;
    assert_eq!(
        view["data"]["appointment"]["booking"]["customerName"],
        "Ann One"
    );
    assert!(view["data"]["appointment"]["zoomMeeting"].is_null());

    // Another seat's id under this seat's MAC, an altered MAC, junk: no such link.
    let (ann_seat, ann_mac) = ann.split_once('.').unwrap();
    let (bob_seat, _) = bob.split_once('.').unwrap();
    let mut altered = ann.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for forged in [
        format!("{bob_seat}.{ann_mac}"),
        altered,
        ann_seat.to_string(),
        "x".repeat(300),
    ] {
        let (status, body) = managed(&app, &forged).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{forged}: {body}");
        let (status, _) = manage_post(&app, &forged, "cancel", json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Ann cancels her own seat; Bob's stays.
    let (status, body) = manage_post(&app, &ann, "cancel", json!({ "reason": "Ill" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = booking_rows(&app, &slot).await;
    assert_eq!(rows[0]["status"], "cancelled");
    assert_eq!(rows[0]["cancelled_by"], "customer");
    assert_eq!(rows[1]["status"], "active");
    let cancelled = app.mail_to("ann@example.com").await;
    assert_eq!(cancelled.len(), 2, "one cancellation email: {cancelled:?}");
    let (status, _) = manage_post(&app, &ann, "cancel", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.mail_to("ann@example.com").await.len(), 2);

    // Thirty days after the appointment the link is dead.
    app.query(
        "UPDATE type::record('slot', $slot) SET starts_at = time::now() - 31d",
        json!({ "slot": slot }),
    )
    .await;
    let (status, body) = managed(&app, &bob).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    app.query(
        "UPDATE type::record('slot', $slot) SET starts_at = time::now() - 29d",
        json!({ "slot": slot }),
    )
    .await;
    let (status, _) = managed(&app, &bob).await;
    assert_eq!(status, StatusCode::OK);
}

#[engine_test]
async fn an_account_customers_emails_carry_a_link_that_follows_the_booking_through_a_move() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let customer = app.user(Role::Customer, "Cara Cust").await;
    let first = app.slot(&specialist, 72, 2).await;
    let second = app.slot(&specialist, 96, 2).await;
    assert_eq!(
        app.book(&first, &customer).await.status(),
        StatusCode::CREATED
    );
    let token = manage_token(&app.mail_to(&customer.email).await[0].1);

    let (status, options) = json_body(
        app.get(&format!("/api/manage/{token}/reschedule-options"), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(options["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == second.as_str()));
    let (status, body) =
        manage_post(&app, &token, "reschedule", json!({ "toSlotId": second })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, view) = managed(&app, &token).await;
    assert_eq!(view["data"]["appointment"]["slot"]["id"], second.as_str());
    let moved = app.mail_to(&customer.email).await;
    assert!(moved
        .last()
        .unwrap()
        .0
        .starts_with("🔁 Appointment Rescheduled"));
    assert_eq!(
        manage_token(&moved.last().unwrap().1),
        token,
        "the same link"
    );
    // Still the account's booking, on its appointments page.
    let (_, mine) = json_body(app.get("/api/appointments", Some(&customer.token)).await).await;
    assert!(
        mine["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["slot"]["id"] == second.as_str()),
        "{mine}"
    );
}

#[engine_test]
async fn guest_bookings_become_the_accounts_once_it_confirms_the_same_address() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    set_guest_booking(&app, &specialist, "instant").await;
    let slot = app.slot(&specialist, 72, 3).await;
    let (status, _) = guest_book(&app, &slot, "Gil Guest", "gil@example.com").await;
    assert_eq!(status, StatusCode::CREATED);

    // Registering with the address is not proof of owning it.
    let (status, body) = json_body(
        app.post_json(
            "/api/auth/register",
            None,
            &json!({ "name": "Gil Guest", "email": "gil@example.com", "password": "a-long-password-1",
                     "role": "customer", "timezone": "Europe/Berlin" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_string();
    let (_, mine) = json_body(app.get("/api/appointments", Some(&token)).await).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 0);

    // Confirming it is.
    let confirmation = app
        .mail_to("gil@example.com")
        .await
        .into_iter()
        .find(|(s, _)| s == "📧 Confirm your email address")
        .expect("a confirmation email");
    let link = confirmation
        .1
        .lines()
        .find(|l| l.contains("/verify-email?token="))
        .unwrap()
        .trim()
        .to_string();
    let (status, _) = json_body(
        app.post_json(
            "/api/auth/verify-email",
            None,
            &json!({ "token": link.split("token=").nth(1).unwrap() }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = json_body(app.get("/api/appointments", Some(&token)).await).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["data"][0]["slot"]["id"], slot.as_str());
    let rows = booking_rows(&app, &slot).await;
    assert_eq!(rows[0]["table"], "user");

    // Booked as a guest again after that: theirs at the next sign-in.
    let later = app.slot(&specialist, 96, 3).await;
    guest_book(&app, &later, "Gil Guest", "gil@example.com").await;
    let res = app.login("gil@example.com", "a-long-password-1").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, mine) = json_body(app.get("/api/appointments", Some(&token)).await).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 2, "{mine}");
}

#[engine_test]
async fn a_stranger_booking_with_someones_address_cannot_change_the_zone_their_emails_use() {
    let app = spawn_with(options(vec![])).await;
    let specialist = app.user(Role::Specialist, "Sam Spec").await;
    let first = app.slot(&specialist, 72, 3).await;
    let second = app.slot(&specialist, 96, 3).await;
    for (slot, zone) in [(&first, "America/New_York"), (&second, "Asia/Tokyo")] {
        let (status, body) = json_body(
            app.post_json(
                &format!("/api/consulting-slots/{slot}/guest-bookings"),
                None,
                &json!({ "name": "Zed Zone", "email": "zed@example.com", "timezone": zone }),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let zones = app
        .query(
            "SELECT VALUE timezone FROM guest WHERE email = 'zed@example.com'",
            json!({}),
        )
        .await;
    assert_eq!(zones, vec![json!("America/New_York")]);
    let mails = app.mail_to("zed@example.com").await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails
            .iter()
            .all(|(_, text)| text.contains("(America/New_York)")),
        "{mails:?}"
    );
}
