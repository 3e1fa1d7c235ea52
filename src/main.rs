// SurrealDB's expression evaluator nests async fns deeper than rustc's default query depth
// allows when the release build lays them out (`queries overflow the depth limit`).
#![recursion_limit = "256"]

use specialistly::server::admin;
use specialistly::server::config::Config;
use specialistly::server::startup::Application;
use tokio_util::sync::CancellationToken;

#[cfg(feature = "db-server")]
mod db_server;

fn main() {
    #[cfg(feature = "db-server")]
    if let Some(code) = db_server::run_if_asked() {
        std::process::exit(code);
    }
    #[cfg(not(feature = "db-server"))]
    if std::env::args().nth(1).is_some_and(|a| a == "db-server") {
        eprintln!("this build has no SurrealDB server: build it with `--features db-server` (make test, make cluster and make release do)");
        std::process::exit(2);
    }
    // Before any thread allocates: the arenas are chosen on a thread's first allocation.
    specialistly::server::memory::tune_allocator();
    specialistly::server::runtime::multi_thread()
        .build()
        .expect("starting the async runtime")
        .block_on(serve());
}

async fn serve() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The SDK's own kill of a dropped live query always fails (it runs on a session
                // of its own, without a namespace) and says so at WARN, while `db::Watch` has
                // ended the query on the right one: a log where nothing is wrong has no WARN.
                .unwrap_or_else(|_| {
                    "info,surrealdb=warn,surrealdb::method::live=error,surrealkv=warn,tower_http=info"
                        .into()
                }),
        )
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("admin") {
        match admin::run(&config, &args[1..]).await {
            Ok(done) => println!("{done}"),
            Err(e) => {
                eprintln!("{e:#}");
                std::process::exit(1);
            }
        }
        return;
    }
    let leptos_options = match leptos::config::get_configuration(Some("Leptos.toml")) {
        Ok(conf) => conf.leptos_options,
        Err(e) => {
            eprintln!("invalid configuration: Leptos.toml or LEPTOS_* variables: {e}");
            std::process::exit(2);
        }
    };
    let addr = leptos_options.site_addr;
    let app = match Application::build(config, leptos_options, addr).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("start-up failed: {e:#}");
            std::process::exit(1);
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    specialistly::server::memory::spawn_trimmer(std::time::Duration::from_secs(2));

    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        signal.cancel();
    });
    if let Err(e) = app.run_until_stopped(stop).await {
        eprintln!("server error: {e:#}");
        std::process::exit(1);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
