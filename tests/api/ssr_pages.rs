//! Server-rendered pages while other apps start in the same process (as the tests do).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use specialistly::server::startup;

use crate::helpers::spawn_app;

/// Building a router walks the app's routes, which suppresses resource loads process-wide
/// for the time of the walk: a page that first polled its resources meanwhile never answered
/// (a test hung for good in CI). The routes are now walked once per process.
#[engine_test(multi_thread = 2)]
async fn pages_answer_while_another_app_builds_its_router() {
    let app = spawn_app().await;
    let building = Arc::new(AtomicBool::new(true));
    let builder = {
        let (state, building) = (app.state.clone(), building.clone());
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            // As an app starting up: leptos spawns on the Tokio runtime it finds.
            let _entered = runtime.enter();
            let mut built = 0;
            while building.load(Ordering::Relaxed) {
                drop(startup::router(state.clone()));
                built += 1;
            }
            built
        })
    };
    let mut answered = 0;
    for round in 0..40 {
        let path = if round % 2 == 0 { "/login" } else { "/slots" };
        let response = tokio::time::timeout(Duration::from_secs(10), async {
            let response = app.get(path, None).await;
            let status = response.status();
            (status, response.text().await.unwrap())
        })
        .await;
        let Ok((status, html)) = response else {
            building.store(false, Ordering::Relaxed);
            panic!("{path} did not answer within 10 s while routers were being built");
        };
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("</html>"), "{path} is a whole page");
        answered += 1;
    }
    building.store(false, Ordering::Relaxed);
    let built = builder.join().unwrap();
    assert_eq!(answered, 40);
    assert!(built > 0, "routers were built meanwhile");
}
