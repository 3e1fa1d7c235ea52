//! Random, oversized, mistyped, unicode, bidi and SurrealQL-looking input into every door:
//! never a 500 or a dropped connection; a refusal is a 4xx with a message and changes nothing.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{form_body, spawn_app, TestApp};

/// Strings an attacker or a confused client sends.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\PC]{0,40}",
        Just("'; DELETE user; --".to_string()),
        Just("user:admin".to_string()),
        Just("slot:⟨x⟩".to_string()),
        Just("booking:`x`".to_string()),
        Just("$auth.id".to_string()),
        Just("\u{202E}gnp.exe\u{202C}".to_string()),
        Just("\u{0}\u{1b}[31m".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("9".repeat(40)),
        Just("é".repeat(3000)),
    ]
}

fn nasty_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

struct World {
    app: TestApp,
    slot: String,
    customer: String,
    specialist: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let customer = app.user(Role::Customer, "Cleo").await;
    let specialist = app.user(Role::Specialist, "Sven").await;
    let slot = app.slot(&specialist, 48, 3).await;
    assert_eq!(app.book(&slot, &customer).await.status(), 201);
    World {
        app,
        slot,
        customer: customer.token,
        specialist: specialist.token,
    }
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Sends one request and checks the rules; `may_succeed` for reads and for inputs that a
/// random draw could make valid.
async fn probe(w: &World, req: reqwest::RequestBuilder, what: &str, may_succeed: bool) {
    let before = w.app.dump().await;
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.as_u16() < 500, "{what}: {status} {text}");
    if status.is_client_error() {
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: {status} without a JSON message: {text:?}"));
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {status} without a message: {text}"
        );
        assert_eq!(
            w.app.dump().await,
            before,
            "{what}: refused with {status}, yet the database changed"
        );
    } else {
        assert!(may_succeed, "{what}: accepted ({status}): {text}");
    }
}

fn draw<S: Strategy>(runner: &mut TestRunner, s: &S) -> S::Value {
    s.new_tree(runner).unwrap().current()
}

#[engine_test]
async fn random_rest_bodies_are_refused_cleanly() {
    let w = world().await;
    let app = &w.app;
    let mut runner = TestRunner::deterministic();
    let at = chrono::Utc::now() + chrono::Duration::days(3);
    let slot_body = json!({ "date": at.format("%Y-%m-%d").to_string(), "startTime": "10:00", "duration": 30, "capacity": 2, "title": "T", "timezone": "UTC" });
    let register = json!({ "name": "N", "email": "n@example.com", "password": "long-password", "role": "customer" });
    for round in 0..40 {
        let value = draw(&mut runner, &nasty_json());
        // One field of a valid slot replaced (the free-text ones excepted: anything goes there).
        let field = ["date", "startTime", "duration", "capacity"][round % 4];
        let mut body = slot_body.clone();
        body[field] = value.clone();
        let req = app
            .client
            .post(app.url("/api/consulting-slots"))
            .bearer_auth(&w.specialist)
            .json(&body);
        probe(&w, req, &format!("create slot with {field}={value}"), false).await;

        let mut body = register.clone();
        body[["email", "role", "password", "timezone"][round % 4]] = value.clone();
        let req = app.client.post(app.url("/api/auth/register")).json(&body);
        probe(&w, req, &format!("register with {body}"), false).await;

        // A whole body of the wrong shape, where a body is expected.
        for (method, path, token) in [
            (
                Method::POST,
                "/api/consulting-slots".to_string(),
                &w.specialist,
            ),
            (
                Method::PATCH,
                format!("/api/consulting-slots/{}", w.slot),
                &w.specialist,
            ),
            (
                Method::POST,
                format!("/api/consulting-slots/{}/book", w.slot),
                &w.customer,
            ),
            (
                Method::PUT,
                "/api/profile/zoom-settings".to_string(),
                &w.specialist,
            ),
            (Method::POST, "/api/auth/login".to_string(), &w.customer),
            (
                Method::POST,
                "/api/auth/verify-email".to_string(),
                &w.customer,
            ),
        ] {
            // An empty patch changes nothing, and a random key may name a real field.
            let may_succeed = method == Method::PATCH && value.is_object();
            let req = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token)
                .json(&value);
            probe(
                &w,
                req,
                &format!("{method} {path} with {value}"),
                may_succeed,
            )
            .await;
        }
    }
    // Oversized and not JSON at all.
    let huge = json!({ "title": "x".repeat(70 * 1024) });
    let res = app
        .client
        .post(app.url("/api/consulting-slots"))
        .bearer_auth(&w.specialist)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let req = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"name\": ");
    probe(&w, req, "truncated JSON", false).await;
    let req = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "text/plain")
        .body("name=x");
    probe(&w, req, "not JSON", false).await;
}

#[engine_test]
async fn random_path_parameters_and_query_strings_never_fail_the_server() {
    let w = world().await;
    let app = &w.app;
    let mut runner = TestRunner::deterministic();
    for _ in 0..40 {
        let a = seg(&draw(&mut runner, &nasty_string()));
        let b = seg(&draw(&mut runner, &nasty_string()));
        let slot = &w.slot;
        for (method, path, token, may_succeed) in [
            (
                Method::GET,
                format!("/api/consulting-slots/{a}/booking/0"),
                &w.customer,
                false,
            ),
            (
                Method::GET,
                format!("/api/consulting-slots/{slot}/booking/{b}"),
                &w.customer,
                false,
            ),
            (
                Method::POST,
                format!("/api/consulting-slots/{a}/booking/{b}/create-zoom"),
                &w.specialist,
                false,
            ),
            (
                Method::POST,
                format!("/api/consulting-slots/{slot}/booking/{b}/create-zoom"),
                &w.specialist,
                false,
            ),
            (
                Method::GET,
                format!("/api/consulting-slots/{slot}/booking/{b}/start-url"),
                &w.specialist,
                false,
            ),
            (
                Method::PATCH,
                format!("/api/consulting-slots/{a}"),
                &w.specialist,
                false,
            ),
            (
                Method::DELETE,
                format!("/api/consulting-slots/{a}"),
                &w.specialist,
                false,
            ),
            (
                Method::POST,
                format!("/api/consulting-slots/{a}/book"),
                &w.customer,
                false,
            ),
            (
                Method::GET,
                format!("/api/consulting-slots?specialistId={a}&from={b}"),
                &w.customer,
                true,
            ),
            (
                Method::GET,
                format!("/api/consulting-slots?to={a}&page={b}"),
                &w.customer,
                true,
            ),
        ] {
            let mut req = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token);
            if method != Method::GET && method != Method::DELETE {
                req = req.json(&json!({ "title": "Renamed" }));
            }
            probe(&w, req, &format!("{method} {path}"), may_succeed).await;
        }
    }
}

#[engine_test]
async fn random_server_function_arguments_never_fail_the_server() {
    let w = world().await;
    let app = &w.app;
    let mut runner = TestRunner::deterministic();
    for _ in 0..30 {
        let x = draw(&mut runner, &nasty_string());
        let y = draw(&mut runner, &nasty_string());
        for (endpoint, fields, token, may_succeed) in [
            (
                "create_slot",
                vec![
                    ("date", x.clone()),
                    ("start_time", y.clone()),
                    ("duration", x.clone()),
                    ("capacity", "2".to_string()),
                    ("title", "T".to_string()),
                ],
                &w.specialist,
                false,
            ),
            (
                "book_slot",
                vec![("slot_id", x.clone()), ("additional_notes", y.clone())],
                &w.customer,
                false,
            ),
            (
                "appointment",
                vec![("slot_id", w.slot.clone()), ("booking_index", x.clone())],
                &w.customer,
                false,
            ),
            (
                "create_zoom_meeting",
                vec![("slot_id", x.clone()), ("booking_index", y.clone())],
                &w.specialist,
                false,
            ),
            (
                "delete_slot",
                vec![("slot_id", x.clone())],
                &w.specialist,
                false,
            ),
            ("browse_slots", vec![("page", x.clone())], &w.customer, true),
            (
                "verify_email",
                vec![("token", x.clone())],
                &w.customer,
                false,
            ),
            (
                "login",
                vec![
                    ("email", x.clone()),
                    ("password", y.clone()),
                    ("next", x.clone()),
                ],
                &w.customer,
                false,
            ),
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let req = app
                .client
                .post(app.url(&format!("/api/{endpoint}")))
                .bearer_auth(token)
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_body(&fields));
            probe(&w, req, &format!("{endpoint} {fields:?}"), may_succeed).await;
        }
    }
}

/// Years chrono reads but the database's datetimes refuse (+99999) are a 400 naming the field,
/// not a 500 from the browse query.
#[engine_test]
async fn browse_bounds_outside_the_years_1970_to_9999_are_refused() {
    let app = crate::helpers::spawn_app().await;
    for (query, field) in [
        ("from=%2B99999-01-01", "from"),
        ("to=%2B99999-12-31", "to"),
        ("from=1969-12-31", "from"),
    ] {
        let (status, body) = crate::helpers::json_body(
            app.get(&format!("/api/consulting-slots?{query}"), None)
                .await,
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(
            body["message"],
            format!("{field} must be between the years 1970 and 9999"),
            "{query}"
        );
    }
    let (status, _) =
        crate::helpers::json_body(app.get("/api/consulting-slots?from=9999-12-31", None).await)
            .await;
    assert_eq!(status, reqwest::StatusCode::OK);
}

/// Browsing stops at page 100: each deeper page made the database walk past every earlier
/// slot, for anyone, anonymously.
#[engine_test]
async fn browse_pages_deeper_than_100_are_refused() {
    let app = crate::helpers::spawn_app().await;
    let (status, _) =
        crate::helpers::json_body(app.get("/api/consulting-slots?page=100", None).await).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    for page in ["101", "10000"] {
        let (status, body) = crate::helpers::json_body(
            app.get(
                &format!("/api/consulting-slots?page={page}&includeFull=true"),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{page}");
        assert!(
            body["message"].as_str().unwrap().contains("from 1 to 100"),
            "{body}"
        );
    }
}

/// Server functions read their bodies themselves: a body over 64 KiB is refused before it is
/// read, whatever server_fn version reads it.
#[engine_test]
async fn server_function_bodies_over_64_kib_are_refused() {
    let app = crate::helpers::spawn_app().await;
    let padding = "x".repeat(100 * 1024);
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("email", "a@example.com"),
            ("password", &padding),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.count("rate_counter").await,
        0,
        "nothing was counted or stored"
    );
}

/// A booking is made under the account's name: the body cannot show the specialist another
/// one ("Specialistly Support"), and names with direction overrides are refused.
#[engine_test]
async fn a_booking_cannot_carry_another_name_than_the_account() {
    let app = crate::helpers::spawn_app().await;
    let spec = app.user(Role::Specialist, "Sue").await;
    let slot = app.slot(&spec, 48, 3).await;
    let customer = app.user(Role::Customer, "Rob").await;
    for (name, message) in [
        (
            "Specialistly Support",
            "customerName must be the name of your account",
        ),
        (
            "Rob\u{202E}troppuS",
            "customerName must not contain invisible",
        ),
    ] {
        let (status, body) = crate::helpers::json_body(
            app.post_json(
                &format!("/api/consulting-slots/{slot}/book"),
                Some(&customer.token),
                &json!({ "customerName": name }),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert!(
            body["message"].as_str().unwrap().starts_with(message),
            "{body}"
        );
    }
    assert_eq!(app.count("booking").await, 0);
    let (status, body) = crate::helpers::json_body(
        app.post_json(
            &format!("/api/consulting-slots/{slot}/book"),
            Some(&customer.token),
            &json!({ "customerName": "rob" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["booking"]["customerName"], "Rob");
}
