//! The OpenAPI 3.1 document of the REST API, generated from the handlers' own annotations and
//! the model's types, served at `/api/openapi.json`.
//! A test below reads the routers' sources and fails when a route is missing from it.

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::server::app_state::AppState;

/// `Authorization: Bearer` with a login token or an `spt_` API token.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Specialistly API",
        version = "1",
        description = "Book consulting slots, create their Zoom meetings, and follow what happens.\n\n\
            **Authentication**: `Authorization: Bearer <token>`, with the token of `POST /api/auth/login` \
            or an API token (`spt_…`) made on the Integrations page or with `POST /api/tokens`. \
            A `read` token may only GET.\n\n\
            **Answers** are `{\"success\": true, \"data\": …}` or `{\"success\": false, \"message\": …}` \
            with a message meant for people.\n\n\
            **Retries**: book, cancel, reschedule, create-zoom and waitlist joins accept an \
            `Idempotency-Key` header.\n\n\
            **Webhooks**: `POST /api/webhooks` subscribes a URL to booking and meeting events, \
            signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`)."
    ),
    paths(
        super::tokens::create,
        super::tokens::list,
        super::tokens::revoke,
        super::webhooks::create,
        super::webhooks::list,
        super::webhooks::remove,
        super::webhooks::enable,
        super::webhooks::deliveries,
        super::webhooks::replay,
        super::offerings::create,
        super::offerings::list,
        super::offerings::one,
        super::offerings::update,
        super::offerings::remove,
        super::busy_calendars::add,
        super::busy_calendars::list,
        super::busy_calendars::remove,
        super::pages::set_page,
        super::pages::my_page,
        super::pages::specialist,
        super::auth::register,
        super::auth::login,
        super::auth::logout,
        super::auth::forgot_password,
        super::auth::reset_password,
        super::auth::change_password,
        super::auth::update_profile,
        super::auth::export_account,
        super::auth::verify_email,
        super::auth::resend_verification,
        super::auth::set_reminders,
        super::auth::me,
        super::auth::zoom_settings,
        super::auth::save_zoom_settings,
        super::zoom_events::zoom_webhook,
        super::zoom_events::feedback_invite,
        super::zoom_events::submit_feedback,
        super::zoom_events::feedback_summary,
        super::zoom_events::put_back,
        super::live::appointment,
        super::live::meeting_manager,
        super::recordings::recording,
        super::calendar::feed,
        super::calendar::new_link,
        super::calendar::revoke,
        super::account::change_email,
        super::account::confirm_email_change,
        super::account::delete_account,
        super::guests::book_as_guest,
        super::guests::managed,
        super::guests::confirm,
        super::guests::cancel,
        super::guests::options,
        super::guests::reschedule,
        super::slots::browse,
        super::slots::create,
        super::slots::mine,
        super::slots::update,
        super::slots::remove,
        super::slots::book,
        super::slots::create_zoom,
        super::slots::preview_zoom,
        super::slots::details,
        super::slots::start_url,
        super::slots::my_appointments,
        super::slots::meeting_manager,
        super::slots::cancel_booking,
        super::slots::reschedule_booking,
        super::slots::join_waitlist,
        super::slots::leave_waitlist,
        super::slots::my_waitlist,
        super::slots::cancel_slot,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The browsable reference: Swagger UI, vendored in `public/api-docs/` (nothing is fetched
/// from elsewhere), reading `/api/openapi.json`.
const DOCS_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Specialistly API reference</title>
<link rel="stylesheet" href="/api-docs/swagger-ui.css">
<link rel="stylesheet" href="/api-docs/docs.css">
</head>
<body>
<header class="api-docs-bar"><a href="/">Specialistly</a> <span>API reference</span>
<a href="/api/openapi.json">openapi.json</a> <a href="/integrations">Your tokens and webhooks</a></header>
<div id="swagger-ui"><noscript>This reference needs JavaScript; the document itself is at
<a href="/api/openapi.json">/api/openapi.json</a>.</noscript></div>
<script src="/api-docs/swagger-ui-bundle.js"></script>
<script src="/api-docs/docs.js"></script>
</body>
</html>
"#;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .route("/api/docs", get(|| async { Html(DOCS_PAGE) }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Routes that are not part of the API: local-run helpers (served in development only),
    /// the JSON 404 for unknown API paths, the one-click unsubscribe target of mail clients
    /// (RFC 8058) and the browser's Start link (its JSON twin, `getStartUrl`, is documented).
    const NOT_IN_THE_DOCUMENT: [&str; 8] = [
        "/dev/mail",
        "/dev/mail/{name}",
        "/dev/zoom/{id}",
        "/dev/zoom/recordings/{name}",
        "/api",
        "/api/{*rest}",
        "/unsubscribe",
        "/meetings/{slot_id}/{booking_index}/start",
    ];

    const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

    /// `(path, method)` of every `.route("…", get(…).post(…))` in `source`.
    fn routes_in(source: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (at, _) in source.match_indices(".route(") {
            let rest = &source[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { continue };
            let Some(len) = rest[open + 1..].find('"') else {
                continue;
            };
            let path = &rest[open + 1..open + 1 + len];
            // The method router: up to the parenthesis closing `.route(`.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let body = &rest[open + 1 + len..end];
            for method in METHODS.iter().chain(&["any"]) {
                let call = format!("{method}(");
                for (i, _) in body.match_indices(&call) {
                    let before = body[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    found.push((path.to_string(), method.to_string()));
                }
            }
        }
        found
    }

    fn registered_routes() -> BTreeSet<(String, String)> {
        // Cargo sets the variable when it runs the test; the compile-time path may be another
        // clone's (the target directory is shared outside the clone).
        let dir = std::path::PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("src/server/rest");
        let mut routes = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            // This file serves the document and its reader, which are not API operations.
            if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("openapi.rs") {
                routes.extend(routes_in(&std::fs::read_to_string(&path).unwrap()));
            }
        }
        routes
    }

    fn documented_routes() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut routes = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(method).is_some() {
                    routes.insert((path.clone(), method.to_string()));
                }
            }
        }
        routes
    }

    #[test]
    fn the_route_reader_sees_methods_across_lines() {
        let source = r#"Router::new()
            .route("/a", get(x).post(y))
            .route(
                "/b/{id}",
                axum::routing::put(z).layer(from_fn_with_state(s, get_ready)),
            )"#;
        let found: BTreeSet<_> = routes_in(source).into_iter().collect();
        let expected: BTreeSet<_> = [("/a", "get"), ("/a", "post"), ("/b/{id}", "put")]
            .map(|(p, m)| (p.to_string(), m.to_string()))
            .into();
        assert_eq!(found, expected);
    }

    #[test]
    fn every_route_is_in_the_document_and_nothing_else() {
        let registered: BTreeSet<_> = registered_routes()
            .into_iter()
            .filter(|(path, _)| !NOT_IN_THE_DOCUMENT.contains(&path.as_str()))
            .collect();
        assert!(
            registered.len() > 40,
            "the reader found too few routes: {registered:?}"
        );
        let documented = documented_routes();
        let missing: Vec<_> = registered.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes missing from the document: {missing:?}"
        );
        let extra: Vec<_> = documented.difference(&registered).collect();
        assert!(extra.is_empty(), "documented but not served: {extra:?}");
    }

    #[test]
    fn the_document_is_openapi_3_1_with_unique_operation_ids() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
        let mut ids = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let id = op["operationId"]
                        .as_str()
                        .expect("an operationId")
                        .to_string();
                    assert!(ids.insert(id.clone()), "operationId {id} used twice");
                }
            }
        }
    }
}
