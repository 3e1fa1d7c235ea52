//! Builds the application from a configuration: database, services, router, mail worker.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use std::future::IntoFuture;

use anyhow::Context;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::recording_store::RecordingStore;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use super::app_state::AppState;
use super::auth::JwtKeys;
use super::config::Config;
use super::jobs::worker::JobWorker;
use super::mail::transport::MailTransport;
use super::password::HashPool;
use super::request_limits::MAX_BODY_BYTES;
use super::zoom::Zoom;
use super::{assets, db, rendered_pages, rest, security, seed, telemetry, unavailable};
use crate::app::{shell, App};

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub state: AppState,
    pub worker: JobWorker,
}

impl Application {
    pub async fn build(
        config: Config,
        leptos_options: LeptosOptions,
        addr: std::net::SocketAddr,
    ) -> anyhow::Result<Self> {
        telemetry::install();
        let db = db::connect(&config.database).await?;
        let version = db::migrate(&db).await?;
        tracing::info!(database = %config.database.url, schema_version = version, "database ready");
        let jwt = JwtKeys::load(&config.auth)?;
        let zoom = Arc::new(Zoom::from_config(
            &config.zoom,
            &config.http.base_url,
            config.webhooks.public_only,
        ));
        tracing::info!(provider = zoom.describe(), "Zoom provider");
        let transport = MailTransport::from_config(&config.mail)?;
        tracing::info!(transport = %transport.describe(), "mail transport");
        let from = config.mail.from.parse().context("MAIL_FROM")?;

        let recordings = RecordingStore::from_config(&config.recordings)?;
        tracing::info!(store = recordings.describe(), "recording store");
        let config = Arc::new(config);
        let state = AppState {
            leptos_options,
            db,
            config: config.clone(),
            jwt,
            zoom,
            passwords: HashPool::for_this_machine(config.auth.hash_queue),
            session_cache: Default::default(),
            read_cache: Default::default(),
            booking_queue: Default::default(),
            webhook_client: crate::server::outgoing_webhooks::client::build(
                config.webhooks.public_only,
            ),
            stopping: CancellationToken::new(),
            recordings: Arc::new(recordings),
            open_streams: Arc::new(crate::server::open_streams::OpenStreams::new(
                config.http.event_streams_per_user,
                config.http.event_streams_per_instance,
            )),
        };
        state
            .session_cache
            .keep_in_step(state.db.clone(), state.stopping.clone());
        state
            .read_cache
            .keep_in_step(state.db.clone(), state.stopping.clone());
        let worker = JobWorker::new(state.clone(), transport, from, config.mail.lease_seconds);
        if config.is_production() {
            let disabled = seed::disable_demo_accounts(&state.db)
                .await
                .context("disabling demo accounts")?;
            if !disabled.is_empty() {
                tracing::warn!(accounts = ?disabled, "demo accounts found in a production database: their passwords no longer work");
            }
        }
        if config.seed_demo_data {
            seed::seed_demo_data(&state)
                .await
                .context("seeding demo data")?;
        }
        let router = router(state.clone());
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        Ok(Self {
            listener,
            router,
            state,
            worker,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until `stop` is cancelled; the mail worker then finishes its current pass.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        // OUTBOX_POLL_MILLIS=0 runs no worker here (tests drive it by hand).
        let poll = self.state.config.mail.poll_millis;
        let worker = (poll > 0).then(|| {
            tokio::spawn(
                self.worker
                    .clone()
                    .run(Duration::from_millis(poll), stop.clone()),
            )
        });
        tokio::spawn(crate::server::jobs::cleanup::run(
            self.state.clone(),
            stop.clone(),
        ));
        tokio::spawn(crate::server::jobs::availability_tick::run(
            self.state.clone(),
            stop.clone(),
        ));
        let (stopped, stopping) = (stop.clone(), self.state.stopping.clone());
        tokio::spawn(async move {
            stopped.cancelled().await;
            stopping.cancel();
        });
        let shutdown = stop.clone();
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .into_future();
        // After a stop, in-flight requests and the email in hand share one grace period; a
        // connection that never closes or an SMTP server that never answers does not keep the
        // process alive (an unfinished email's lease lets a later worker send it).
        let grace_period = self.state.config.http.shutdown_grace;
        let stopping = stop.clone();
        let drain = async move {
            let served = serve.await;
            stopping.cancel();
            if let Some(worker) = worker {
                worker.await.ok();
            }
            served
        };
        let grace = async {
            stop.cancelled().await;
            tokio::time::sleep(grace_period).await;
        };
        tokio::select! {
            served = drain => served.context("serving HTTP")?,
            _ = grace => tracing::warn!("still busy after the grace period; stopping anyway"),
        }
        Ok(())
    }
}

/// Files served by byte range (recordings) go out as they are: a compressed body would have
/// neither the length nor the ranges the client asks for.
fn served_by_range(
    _: axum::http::StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    !headers.contains_key(axum::http::header::ACCEPT_RANGES)
}

/// A `Content-Length` over the limit is refused before anything reads the body, with the same
/// JSON error an oversized body gets from the extractors.
async fn refuse_declared_oversize(
    request: Request<Body>,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => {
            crate::error::AppError::new(413, crate::server::http_error::TOO_LARGE).into_response()
        }
        _ => next.run(request).await,
    }
}

/// Ready to serve: the database answers within two seconds and its schema is the one this
/// build expects. A load balancer sends no traffic to an instance that answers 503.
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let version =
        tokio::time::timeout(Duration::from_secs(2), db::current_version(&state.db)).await;
    match version {
        Ok(Ok(v)) if v == db::SCHEMA_VERSION => {
            axum::Json(serde_json::json!({ "status": "ready", "schemaVersion": v })).into_response()
        }
        other => {
            let reason = match other {
                Ok(Ok(v)) => format!("schema version {v}, expected {}", db::SCHEMA_VERSION),
                Ok(Err(e)) => format!("database error: {e:#}"),
                Err(_) => "the database did not answer in time".into(),
            };
            tracing::warn!(%reason, "not ready");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "status": "unavailable",
                    "message": "The database is unavailable. Please try again shortly.",
                })),
            )
                .into_response()
        }
    }
}

/// Forgets every cached page once a request that may change something (any method but GET,
/// HEAD and OPTIONS) is answered, before its answer leaves: the caller's next read is fresh.
async fn forget_pages_after_changes(
    State(state): State<AppState>,
    request: Request<Body>,
    next: middleware::Next,
) -> axum::response::Response {
    let reads_only = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let response = next.run(request).await;
    if !reads_only {
        state.read_cache.forget_all();
    }
    response
}

/// The app's page routes, walked once per process. Walking them renders the app with every
/// resource load suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a resource first polled by any page rendering meanwhile, in any app
/// of the process, waits forever, and so does its response. Every router is built from this
/// list, so the walk is over before any of them serves a page.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let options = state.leptos_options.clone();
    let context_state = state.clone();
    let mut router = Router::new().merge(rest::router(&state));
    if !state.config.is_production() {
        router = router.merge(rest::dev::routes(state.clone()));
    }
    router
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(rest::metrics::serve))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Also for bodies read without axum's extractors (server functions read theirs through
        // server_fn, which honours the limit above only since 0.8.13): a longer body is 413.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // The layer above answers a declared oversize in plain text; clients get our JSON error.
        .layer(middleware::from_fn(refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rendered_pages::keep_rendered_pages,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            unavailable::answer_503_while_database_down,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            forget_pages_after_changes,
        ))
        .layer(middleware::from_fn(crate::api::serve::error_status))
        .layer(middleware::from_fn(security::refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            assets::cache_control,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rest::metrics::track_requests,
        ))
        .with_state(state)
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                let id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %security::secret_links::loggable_path(req.uri().path()))
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Pages and JSON for clients that accept it (the assets are served precompressed and
        // pass through). Outermost, so every other layer sees the plain body. Level 4: most
        // of brotli's gain on a page of HTML for a fraction of its highest level's time.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(served_by_range)),
        )
}
