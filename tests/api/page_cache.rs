//! The pages read most are cached by each instance and kept in step with the database by live
//! queries (`read_cache`): a change made anywhere is read afresh at once, not when the cached
//! page ages (a second).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use specialistly::model::Role;

use crate::helpers::{json_body, spawn_app, TestApp};

/// Well under the cache's one second: a page seen changed within this was read again because
/// the cache heard of the change, not because the cached copy aged.
const HEARD_WITHIN: Duration = Duration::from_millis(400);

/// Reads `path` as `token` until `seen` holds of its JSON, for `HEARD_WITHIN` at most.
async fn seen_within(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    seen: impl Fn(&Value) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + HEARD_WITHIN;
    loop {
        let (status, body) = json_body(app.get(path, token).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if seen(&body) {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads each of `reads` (path, token) until the cache holds them all (a change made just
/// before, told late by its live query, may forget them once).
pub async fn read_until_kept(app: &TestApp, reads: &[(&str, Option<&str>)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        for (path, token) in reads {
            assert_eq!(app.get(path, *token).await.status(), StatusCode::OK);
        }
        if app.state.read_cache.len() >= reads.len() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pages were never kept"
        );
    }
}

fn titles(body: &Value, list: &str) -> Vec<String> {
    let items = if list.is_empty() {
        &body["data"]
    } else {
        &body["data"][list]
    };
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let slot = if s.get("slot").is_some() {
                &s["slot"]
            } else {
                s
            };
            slot["title"].as_str().unwrap().to_string()
        })
        .collect()
}

#[engine_test]
async fn a_page_changed_behind_the_instance_s_back_is_read_again_when_the_live_query_tells() {
    let app = spawn_app().await;
    app.caches_running().await;
    let spec = app.user(Role::Specialist, "Pia").await;
    let cust = app.user(Role::Customer, "Cal").await;
    let slot = app.slot(&spec, 48, 3).await;
    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CREATED);

    let (_, browse) = json_body(app.get("/api/consulting-slots", None).await).await;
    assert_eq!(titles(&browse, "slots"), ["Strategy session"]);
    let (_, mine) = json_body(app.get("/api/appointments", Some(&cust.token)).await).await;
    assert_eq!(titles(&mine, ""), ["Strategy session"]);
    read_until_kept(
        &app,
        &[
            ("/api/consulting-slots", None),
            ("/api/appointments", Some(&cust.token)),
        ],
    )
    .await;

    // As another instance (or the operator) would: straight to the database.
    app.query(
        "UPDATE type::record('slot', $s) SET title = 'Renamed'",
        json!({ "s": slot }),
    )
    .await;
    let renamed = |list: &'static str| move |b: &Value| titles(b, list) == ["Renamed"];
    assert!(seen_within(&app, "/api/consulting-slots", None, renamed("slots")).await);
    assert!(seen_within(&app, "/api/appointments", Some(&cust.token), renamed("")).await);
}

/// A request that may change something forgets every page before its answer leaves, so its
/// caller's next read is fresh even before the live queries tell; reads forget nothing.
#[engine_test]
async fn any_request_but_a_read_forgets_the_cached_pages() {
    let app = spawn_app().await;
    app.caches_running().await;
    let spec = app.user(Role::Specialist, "Pol").await;
    app.slot(&spec, 48, 3).await;
    read_until_kept(&app, &[("/api/consulting-slots", None)]).await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    assert_eq!(app.state.read_cache.len(), 1);
    // Changes nothing in the database (no session to end), so no live query tells.
    let res = app.post_json("/api/auth/logout", None, &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.state.read_cache.is_empty());
}

/// `/slots` as `token` sees it: its script nonce (from the Content-Security-Policy) and HTML.
async fn slots_page(app: &TestApp, token: Option<&str>) -> (String, String) {
    let res = app.get("/slots", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a script nonce")
        .to_string();
    (nonce, res.text().await.unwrap())
}

/// Reads `/slots` as each of `tokens` until the cache holds `kept` entries (pages and data).
async fn read_slots_until(app: &TestApp, tokens: &[Option<&str>], kept: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while app.state.read_cache.len() < kept {
        for token in tokens {
            slots_page(app, *token).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "kept {} of {kept}",
            app.state.read_cache.len()
        );
    }
}

/// The slots page's HTML is kept beside its data (rendering is most of its cost); each copy
/// served carries the nonce of its own response, and a change is shown as soon as it is heard.
#[engine_test]
async fn the_slots_page_is_kept_rendered_and_each_copy_has_its_own_script_nonce() {
    let app = spawn_app().await;
    app.caches_running().await;
    let spec = app.user(Role::Specialist, "Pim").await;
    let slot = app.slot(&spec, 48, 3).await;
    // The browse data and the rendered page.
    read_slots_until(&app, &[None], 2).await;

    let (first_nonce, first) = slots_page(&app, None).await;
    let (second_nonce, second) = slots_page(&app, None).await;
    assert_ne!(first_nonce, second_nonce);
    for (nonce, html) in [(&first_nonce, &first), (&second_nonce, &second)] {
        let scripts = html.matches("<script").count();
        assert!(scripts > 0 && html.contains("Strategy session"), "{html}");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts);
    }
    assert_eq!(
        first.replace(&first_nonce, "N"),
        second.replace(&second_nonce, "N")
    );

    app.query(
        "UPDATE type::record('slot', $s) SET title = 'Renamed'",
        json!({ "s": slot }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + HEARD_WITHIN;
    while !slots_page(&app, None).await.1.contains("Renamed") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old page stayed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A page is kept per caller: a visitor never gets a signed-in page, and a session ended
/// behind the instance's back is shown the visitor's page as soon as the session cache hears
/// of it, though the signed-in page was kept a moment before.
#[engine_test]
async fn a_kept_signed_in_page_is_never_served_to_anyone_else_or_once_its_session_ended() {
    let app = spawn_app().await;
    app.caches_running().await;
    let cust = app.user(Role::Customer, "Cleo").await;
    let signed_in = |html: &str| html.contains("nav-user") && html.contains("Cleo");
    // The browse data, the visitor's page and Cleo's page.
    read_slots_until(&app, &[None, Some(&cust.token)], 3).await;
    assert!(signed_in(&slots_page(&app, Some(&cust.token)).await.1));
    assert!(!signed_in(&slots_page(&app, None).await.1));

    let session = app.state.jwt.verify(&cust.token).unwrap().session_id;
    app.query(
        "DELETE type::record('session', $s)",
        json!({ "s": session }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + HEARD_WITHIN;
    loop {
        let (_, html) = slots_page(&app, Some(&cust.token)).await;
        if !signed_in(&html) {
            assert!(html.contains("Log in"), "{html}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ended session was still shown its page"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
