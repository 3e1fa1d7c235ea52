//! `/metrics`: Prometheus text for operators on loopback (or `METRICS_ALLOW`), 404 elsewhere.

use reqwest::StatusCode;
use specialistly::model::Role;

use crate::helpers::{counter, non_loopback_address, series, spawn_with, Options, TestApp};

fn port(app: &TestApp) -> &str {
    app.base.rsplit(':').next().unwrap()
}

/// G5: a made-up method is counted as `other`; it never becomes a series of its own, so
/// anonymous clients cannot grow the metrics (and the process) without end.
#[engine_test]
async fn made_up_methods_are_counted_as_other_and_add_no_series() {
    let app = spawn_with(Options::default()).await;
    for n in 0..20 {
        let method = reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap();
        let res = app
            .client
            .request(method, app.url("/api/consulting-slots"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let scrape = app.get("/metrics", None).await.text().await.unwrap();
    assert!(!scrape.contains("BREW"), "{scrape}");
    let other = series(
        &scrape,
        "specialistly_http_request_duration_seconds_count",
        &[r#"method="other""#],
    );
    assert!(!other.is_empty(), "{scrape}");
}

#[engine_test]
async fn metrics_count_requests_by_route_and_status_zoom_calls_emails_and_the_queue() {
    let app = spawn_with(Options {
        smtp: true,
        bind: Some("0.0.0.0:0"),
        ..Default::default()
    })
    .await;
    let spec = app.user(Role::Specialist, "Sara").await;
    let cust = app.user(Role::Customer, "Carl").await;
    let slot = app.slot(&spec, 48, 1).await;
    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CREATED);
    assert_eq!(app.book(&slot, &cust).await.status(), StatusCode::CONFLICT);
    let res = app.create_zoom(&slot, "0", Some(&spec.token)).await;
    assert_eq!(res.status(), StatusCode::OK);

    let before_sending = app.get("/metrics", None).await;
    assert_eq!(before_sending.status(), StatusCode::OK);
    assert!(before_sending.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let scrape = before_sending.text().await.unwrap();
    let book = [
        r#"route="/api/consulting-slots/{slot_id}/book""#,
        r#"method="POST""#,
    ];
    for status in ["201", "409"] {
        let status = format!(r#"status="{status}""#);
        let labels = [book[0], book[1], status.as_str(), r#"le="+Inf""#];
        let lines = series(
            &scrape,
            "specialistly_http_request_duration_seconds_bucket",
            &labels,
        );
        assert_eq!(lines.len(), 1, "{status}: {scrape}");
    }
    assert!(
        !scrape.contains(&slot),
        "routes are labelled by pattern, never by id"
    );
    let created = series(
        &scrape,
        "specialistly_zoom_calls_total",
        &[r#"operation="create""#, r#"outcome="ok""#],
    );
    assert_eq!(created.len(), 1, "{scrape}");
    let pending = series(
        &scrape,
        "specialistly_job_queue_depth",
        &[r#"status="pending""#],
    );
    assert_eq!(pending.len(), 1, "{scrape}");

    app.drain_jobs().await;
    let scrape = app.get("/metrics", None).await.text().await.unwrap();
    let count = counter(&scrape, "specialistly_emails_total", &[r#"outcome="sent""#]);
    assert!(
        count >= 3.0,
        "two confirmations and the meeting email: {scrape}"
    );

    // From another host: as if there were no such page.
    let remote = app
        .client
        .get(format!(
            "http://{}:{}/metrics",
            non_loopback_address(),
            port(&app)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::NOT_FOUND);
}

#[engine_test]
async fn metrics_answer_other_hosts_only_when_their_network_is_allowed() {
    let address = non_loopback_address();
    let app = spawn_with(Options {
        bind: Some("0.0.0.0:0"),
        extra: vec![("METRICS_ALLOW", format!("{address}/32"))],
        ..Default::default()
    })
    .await;
    let remote = app
        .client
        .get(format!("http://{address}:{}/metrics", port(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), StatusCode::OK);
    assert!(remote.text().await.unwrap().contains("specialistly_"));
}

/// Loopback privileges come from the connection alone: a client inside a trusted proxy range
/// that connects directly and claims `X-Forwarded-For: 127.0.0.1` gets neither `/metrics`
/// nor `/dev/mail`, and a request a proxy on this machine forwarded is not local either.
#[engine_test]
async fn a_forwarded_for_header_never_makes_a_client_local() {
    let address = non_loopback_address();
    let app = spawn_with(Options {
        bind: Some("0.0.0.0:0"),
        extra: vec![("TRUSTED_PROXIES", format!("{address}/32,127.0.0.1"))],
        ..Default::default()
    })
    .await;
    for path in ["/metrics", "/dev/mail"] {
        let forged = app
            .client
            .get(format!("http://{address}:{}{path}", port(&app)))
            .header("x-forwarded-for", "127.0.0.1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            forged.status(),
            StatusCode::NOT_FOUND,
            "{path} from {address}"
        );
        let proxied = app
            .client
            .get(format!("http://127.0.0.1:{}{path}", port(&app)))
            .header("x-forwarded-for", "127.0.0.1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            proxied.status(),
            StatusCode::NOT_FOUND,
            "{path} through a local proxy"
        );
        let local = app
            .client
            .get(format!("http://127.0.0.1:{}{path}", port(&app)))
            .send()
            .await
            .unwrap();
        assert_eq!(local.status(), StatusCode::OK, "{path} from this machine");
    }
}
