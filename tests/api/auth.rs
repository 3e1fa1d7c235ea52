use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use specialistly::model::Role;

use crate::helpers::{form_body, json_body, spawn_app, JWT_SECRET, PASSWORD};

fn set_cookie(res: &reqwest::Response) -> String {
    res.headers()["set-cookie"].to_str().unwrap().to_string()
}

fn registration(email: &str) -> serde_json::Value {
    json!({ "name": "Ann Smith", "email": email, "password": "s3cret-pass", "role": "customer", "timezone": "Europe/Berlin" })
}

#[engine_test]
async fn register_returns_201_a_token_and_an_http_only_cookie() {
    let app = spawn_app().await;
    let res = app
        .post_json("/api/auth/register", None, &registration("Ann@Example.com"))
        .await;
    let cookie = set_cookie(&res);
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["user"]["email"], "ann@example.com");
    assert_eq!(body["data"]["user"]["role"], "customer");
    assert_eq!(body["data"]["user"]["timezone"], "Europe/Berlin");
    assert!(body["data"]["user"].get("passwordHash").is_none());
    assert!(cookie.starts_with("specialistly_token="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let rows = app.query("SELECT password_hash FROM user", json!({})).await;
    assert!(rows[0]["password_hash"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$"));
}

#[engine_test]
async fn a_duplicate_email_is_refused_with_409() {
    let app = spawn_app().await;
    assert_eq!(
        app.post_json("/api/auth/register", None, &registration("dup@example.com"))
            .await
            .status(),
        201
    );
    let (status, body) = json_body(
        app.post_json("/api/auth/register", None, &registration("DUP@example.com"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["success"], false);
    assert_eq!(app.count("user").await, 1);
}

#[engine_test]
async fn invalid_fields_get_400_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            "name",
            json!({ "name": "", "email": "a@b.co", "password": "12345678", "role": "customer" }),
        ),
        (
            "email",
            json!({ "name": "A", "email": "not-an-email", "password": "12345678", "role": "customer" }),
        ),
        // The app's check once let this through; SurrealDB's string::is_email refused it: 500.
        (
            "email",
            json!({ "name": "A", "email": "a@b..com", "password": "12345678", "role": "customer" }),
        ),
        (
            "name",
            json!({ "name": "Ann\nBcc: x@y.z", "email": "a@b.co", "password": "12345678", "role": "customer" }),
        ),
        (
            "password",
            json!({ "name": "A", "email": "a@b.co", "password": "short", "role": "customer" }),
        ),
        (
            "role",
            json!({ "name": "A", "email": "a@b.co", "password": "12345678", "role": "admin" }),
        ),
        (
            "timezone",
            json!({ "name": "A", "email": "a@b.co", "password": "12345678", "role": "customer", "timezone": "Mars/Base" }),
        ),
    ];
    for (field, body) in cases {
        let (status, body) =
            json_body(app.post_json("/api/auth/register", None, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    assert_eq!(app.count("user").await, 0);
}

#[engine_test]
async fn login_works_and_wrong_email_or_password_get_the_same_401() {
    let app = spawn_app().await;
    app.post_json("/api/auth/register", None, &registration("bob@example.com"))
        .await;
    let (status, body) = json_body(
        app.post_json(
            "/api/auth/login",
            None,
            &json!({ "email": "bob@example.com", "password": "s3cret-pass" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["data"]["token"].as_str().unwrap();
    let (status, me) = json_body(app.get("/api/auth/me", Some(token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["email"], "bob@example.com");

    for creds in [
        json!({ "email": "bob@example.com", "password": "wrong-pass" }),
        json!({ "email": "nobody@example.com", "password": "s3cret-pass" }),
    ] {
        let (status, body) = json_body(app.post_json("/api/auth/login", None, &creds).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({ "success": false, "message": "Invalid email or password" })
        );
    }
}

#[engine_test]
async fn the_cookie_alone_authenticates() {
    let app = spawn_app().await;
    let res = app
        .post_json("/api/auth/register", None, &registration("c@example.com"))
        .await;
    let cookie = set_cookie(&res).split(';').next().unwrap().to_string();
    let res = app
        .client
        .get(app.url("/api/auth/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post_json("/api/auth/logout", None, &json!({})).await;
    assert!(set_cookie(&res).contains("Max-Age=0"));
}

#[engine_test]
async fn missing_tampered_expired_and_unsigned_tokens_get_401() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Eve").await;
    let expected = json!({ "success": false, "message": "Unauthorized. Please login." });

    let now = chrono::Utc::now().timestamp();
    let expired = encode(
        &Header::default(),
        &json!({ "sub": user.id, "role": "customer", "iat": now - 7200, "exp": now - 3600 }),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let forged = encode(
        &Header::default(),
        &json!({ "sub": user.id, "role": "specialist", "iat": now, "exp": now + 3600 }),
        &EncodingKey::from_secret(b"some other secret some other secret"),
    )
    .unwrap();
    let mut parts: Vec<&str> = user.token.split('.').collect();
    let header_none = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
    parts[0] = &header_none;
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    let tampered_payload = base64_url(&format!(
        r#"{{"sub":"{}","role":"specialist","iat":{now},"exp":{}}}"#,
        user.id,
        now + 3600
    ));
    let tampered = format!(
        "{}.{}.{}",
        user.token.split('.').next().unwrap(),
        tampered_payload,
        user.token.split('.').nth(2).unwrap()
    );

    for token in [
        None,
        Some("garbage"),
        Some(expired.as_str()),
        Some(forged.as_str()),
        Some(unsigned.as_str()),
        Some(tampered.as_str()),
    ] {
        let (status, body) = json_body(app.get("/api/auth/me", token).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body, expected);
    }
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[engine_test]
async fn the_wrong_role_gets_403() {
    let app = spawn_app().await;
    let customer = app.user(Role::Customer, "Cat").await;
    let body = json!({ "date": "2030-01-01", "startTime": "10:00", "duration": 30, "capacity": 1, "title": "x" });
    let (status, body) = json_body(
        app.post_json("/api/consulting-slots", Some(&customer.token), &body)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["success"], false);
    assert_eq!(app.count("slot").await, 0);
}

#[engine_test]
async fn unknown_routes_malformed_json_and_oversized_bodies_get_json_errors() {
    let app = spawn_app().await;
    let (status, body) = json_body(app.get("/api/no-such-thing", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["success"], false);

    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);

    let huge = format!(r#"{{"email":"{}","password":"x"}}"#, "a".repeat(70 * 1024));
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = json_body(res).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["success"], false);
}

#[engine_test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert!(res.headers().get("x-request-id").is_some());
}

#[engine_test]
async fn logout_ends_the_token_everywhere() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Lou").await;
    let other = app.user(Role::Customer, "Max").await;
    let (status, _) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(status, StatusCode::OK);

    let res = app
        .post_json("/api/auth/logout", Some(&user.token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = json_body(app.get("/api/auth/me", Some(&user.token)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let res = app.get("/api/appointments", Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Another user's session is untouched.
    let (status, _) = json_body(app.get("/api/auth/me", Some(&other.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.query(
            "SELECT VALUE count() FROM session WHERE user = type::record('user', $u) GROUP ALL",
            json!({ "u": user.id })
        )
        .await,
        vec![json!(0)]
    );
}

#[engine_test]
async fn the_role_and_the_account_are_read_from_the_database_not_the_token() {
    let app = spawn_app().await;
    let user = app.user(Role::Specialist, "Rex").await;
    let body = json!({ "date": "2031-01-01", "startTime": "10:00", "duration": 30, "capacity": 1, "title": "x", "timezone": "UTC" });
    // Demoted in the database: the same token no longer opens specialist routes.
    app.query(
        "UPDATE type::record('user', $u) SET role = 'customer'",
        json!({ "u": user.id }),
    )
    .await;
    // (The session cache hears of the change through its live query, a moment later.)
    let refused = app
        .status_becomes(
            "/api/consulting-slots/mine",
            &user.token,
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    let res = app
        .post_json("/api/consulting-slots", Some(&user.token), &body)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Deleted: the token is worth nothing.
    app.query("DELETE type::record('user', $u)", json!({ "u": user.id }))
        .await;
    let status = app
        .status_becomes("/api/auth/me", &user.token, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Signed-in requests find their session in a cache kept in step with the database by live
/// queries. A session ended behind the instance's back (by another instance, or the
/// operator's command) is refused as soon as the live query tells of it, not when the cached
/// copy ages; a session created meanwhile (a login) forgets nothing.
#[engine_test]
async fn a_cached_session_ended_in_the_database_is_refused_once_the_live_query_tells() {
    let app = spawn_app().await;
    app.caches_running().await;
    let user = app.user(Role::Customer, "Cas").await;
    let other = app.user(Role::Customer, "Cid").await;
    for token in [&user.token, &other.token] {
        app.read_until_session_cached(token).await;
    }
    let (status, _) = json_body(app.login(&other.email, PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        app.session_is_cached(&user.token),
        "a login forgets nothing"
    );

    let session = app.state.jwt.verify(&user.token).unwrap().session_id;
    app.query(
        "DELETE type::record('session', $s)",
        json!({ "s": session }),
    )
    .await;
    let status = app
        .status_becomes("/api/auth/me", &user.token, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!app.session_is_cached(&user.token));
    let (status, _) = json_body(app.get("/api/auth/me", Some(&other.token)).await).await;
    assert_eq!(status, StatusCode::OK);
}

/// A session that ends by itself is refused at its end, though the cache still holds it.
#[engine_test]
async fn a_cached_session_is_refused_once_it_expires() {
    let app = spawn_app().await;
    app.caches_running().await;
    let user = app.user(Role::Customer, "Eve").await;
    // A session of three seconds (its creation forgets nothing in the cache).
    let session = specialistly::server::db::new_key();
    specialistly::server::repo::sessions::create(&app.state.db, &session, &user.id, 3)
        .await
        .unwrap();
    let ends = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let token = app.state.jwt.issue(&user.id, &session);
    app.read_until_session_cached(&token).await;
    tokio::time::sleep_until((ends + std::time::Duration::from_millis(100)).into()).await;
    // Still held, but past its end.
    assert_eq!(app.state.session_cache.len(), 1);
    let (status, _) = json_body(app.get("/api/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[engine_test]
async fn logging_in_through_the_form_and_out_again_ends_the_cookie_session() {
    let app = spawn_app().await;
    let user = app.user(Role::Customer, "Flo").await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("email", &user.email), ("password", PASSWORD)]))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let cookie = set_cookie(&res);
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("specialistly_token=")
        .to_string();
    let (status, _) = json_body(app.get("/api/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .client
        .post(app.url("/api/logout"))
        .header("cookie", format!("specialistly_token={token}"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    let (status, _) = json_body(app.get("/api/auth/me", Some(&token)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A stolen token stops working when the operator ends the account's sessions: every session
/// of that account, and no one else's.
#[engine_test]
async fn the_operator_ends_every_session_of_an_account() {
    let app = spawn_app().await;
    let victim = app.user(Role::Customer, "Val").await;
    let (_, body) = json_body(app.login(&victim.email, PASSWORD).await).await;
    let second = body["data"]["token"].as_str().unwrap().to_string();
    let other = app.user(Role::Customer, "Oli").await;
    let said =
        specialistly::server::admin::revoke_sessions(&app.state.db, &victim.email.to_uppercase())
            .await
            .unwrap();
    assert_eq!(
        said,
        format!(
            "{}: 2 session(s) ended, 0 API token(s) revoked, 0 calendar feed address(es) ended, 0 webhook endpoint(s) turned off",
            victim.email
        )
    );
    for token in [&victim.token, &second] {
        let status = app
            .status_becomes("/api/auth/me", token, StatusCode::UNAUTHORIZED)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = json_body(app.get("/api/auth/me", Some(&other.token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        specialistly::server::admin::revoke_sessions(&app.state.db, "nobody@example.com")
            .await
            .is_err()
    );
}
