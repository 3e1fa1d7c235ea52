//! The reads' floor: the server's own code for each read (the session check, the service
//! function, the JSON it answers) run on the stopped server's database in a process of its
//! own, with nothing of HTTP around it. What is left between this and the HTTP figures is
//! the HTTP stack; what is left between this and a 5 ms p50 is the database's own work.

use std::path::Path;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use leptos::config::LeptosOptions;
use serde::Serialize;
use specialistly::error::AppResult;
use specialistly::server::app_state::AppState;
use specialistly::server::config::Config;
use specialistly::server::db;
use specialistly::server::password::HashPool;
use specialistly::server::repo::{self, users};
use specialistly::server::service::{accounts, appointments, slots};
use specialistly::server::zoom::Zoom;

use crate::load::{self, Stats};
use crate::server::JWT_SECRET;

/// The readers, by email: the customer whose appointments and details are read, and the
/// specialist whose Meeting Manager is.
pub struct Readers {
    pub customer_email: String,
    pub specialist_email: String,
}

/// What the reads need: a session of each reader, and the booking the details page shows
/// (the customer's booking in their fourth slot, as the HTTP reads use).
struct Signed {
    customer: String,
    specialist: String,
    detail_slot: String,
    detail_index: String,
}

/// The reads, in the order of the HTTP table. SSR `/slots` reads what browse reads; what it
/// adds is rendering, which is not the database's.
pub const READS: [&str; 5] = ["browse", "ssr", "details", "manager", "mine"];

/// What every read stands on, measured the same way: one query's round trip through the
/// SDK to the engine and back (`RETURN true`), and the session check every signed-in read
/// starts with. No read can answer faster than these.
pub const PARTS: [&str; 2] = ["query", "session"];

/// Each read by 16 clients and by one, on the server's database under `dir`. One line per
/// measurement on stdout: `read clients count elapsed_us p50_us p99_us code:n,…`. `FLOOR_READS`
/// (say `manager,mine`) measures only those, to profile one read with `perf`.
pub async fn run(dir: &Path, readers: Readers) {
    let state = Arc::new(state_over(dir).await);
    // As in the server, signed-in reads find their session in the session cache. The page
    // cache stays off: this is what reading a page costs when it is not kept (a miss), where
    // the HTTP figures are what the server answers with it.
    state
        .session_cache
        .keep_in_step(state.db.clone(), state.stopping.clone());
    while state.session_cache.generation().is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let readers = Arc::new(sign_in(&state, &readers).await);
    let only = std::env::var("FLOOR_READS").ok();
    let chosen = |read: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|r| r == read))
    };
    for read in READS.into_iter().chain(PARTS).filter(|r| chosen(r)) {
        for (clients, n) in [(16, 3_000), (1, 1_000)] {
            let op = || {
                let (state, readers) = (state.clone(), readers.clone());
                move |_| {
                    let (state, readers) = (state.clone(), readers.clone());
                    async move { one(&state, &readers, read).await }
                }
            };
            load::run(clients, n / 10, op()).await;
            let stats = load::run(clients, n, op()).await;
            println!("{read} {clients} {}", encode(&stats));
        }
    }
}

/// The same application state the server builds, on the same database and settings, with
/// no listener and no job worker.
async fn state_over(dir: &Path) -> AppState {
    let database_url = format!("surrealkv://{}", dir.join("db").display());
    let data_dir = dir.display().to_string();
    let config = Config::from_lookup(|key| match key {
        "LEPTOS_ENV" => Some("PROD".into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "DATA_DIR" => Some(data_dir.clone()),
        "JWT_SECRET" => Some(JWT_SECRET.into()),
        "SEED_DEMO_DATA" => Some("false".into()),
        _ => None,
    })
    .expect("the server's settings");
    let db = db::connect(&config.database)
        .await
        .expect("opening the server's database");
    let jwt = specialistly::server::auth::JwtKeys::load(&config.auth).expect("the JWT key");
    let zoom = Arc::new(Zoom::from_config(
        &config.zoom,
        &config.http.base_url,
        config.webhooks.public_only,
    ));
    AppState {
        leptos_options: LeptosOptions::builder().output_name("specialistly").build(),
        db,
        jwt,
        zoom,
        passwords: HashPool::for_this_machine(config.auth.hash_queue),
        session_cache: Default::default(),
        read_cache: Default::default(),
        booking_queue: Default::default(),
        webhook_client: reqwest::Client::new(),
        stopping: Default::default(),
        open_streams: Arc::new(specialistly::server::open_streams::OpenStreams::new(5, 100)),
        recordings: Arc::new(
            specialistly::server::recording_store::RecordingStore::from_config(&config.recordings)
                .unwrap(),
        ),
        config: Arc::new(config),
    }
}

async fn sign_in(state: &AppState, readers: &Readers) -> Signed {
    let id = |email: String| async move {
        users::by_email(&state.db, &email)
            .await
            .expect("reading a reader")
            .unwrap_or_else(|| panic!("no reader {email}"))
            .id
    };
    let customer = id(readers.customer_email.clone()).await;
    let specialist = id(readers.specialist_email.clone()).await;
    let mut booked = repo::slots::booked_by(&state.db, &customer)
        .await
        .expect("reading the reader's bookings");
    booked.sort_by_key(|b| b.slot.fields.starts_at);
    let detail = booked
        .get(3)
        .or(booked.first())
        .expect("the reader's bookings");
    Signed {
        customer: accounts::open_session(state, &customer)
            .await
            .expect("a session"),
        specialist: accounts::open_session(state, &specialist)
            .await
            .expect("a session"),
        detail_slot: detail.slot.id.clone(),
        detail_index: detail.index.to_string(),
    }
}

async fn one(state: &AppState, readers: &Signed, read: &str) -> u16 {
    if read == "query" {
        return match db::run(&state.db, "RETURN true", serde_json::json!({})).await {
            Ok(_) => 200,
            Err(_) => 500,
        };
    }
    let token = match read {
        "details" | "mine" | "session" => Some(&readers.customer),
        "manager" => Some(&readers.specialist),
        _ => None,
    };
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value");
        headers.insert(header::AUTHORIZATION, bearer);
    }
    let caller = match specialistly::server::service::sessions::caller(state, &headers).await {
        Ok(caller) => caller,
        Err(e) => return e.status,
    };
    let caller = caller.as_ref();
    match read {
        "session" => match caller {
            Some(_) => 200,
            None => 401,
        },
        "browse" => answer(slots::browse(state, Default::default()).await),
        "ssr" => answer(
            slots::browse(
                state,
                slots::BrowseQuery {
                    page: Some("1".into()),
                    include_full: Some(true),
                    ..Default::default()
                },
            )
            .await,
        ),
        "details" => answer(
            appointments::details(state, caller, &readers.detail_slot, &readers.detail_index).await,
        ),
        "manager" => answer(appointments::meeting_manager(state, caller).await),
        "mine" => answer(appointments::mine(state, caller).await),
        _ => unreachable!("a read of READS"),
    }
}

/// The status the REST door would answer, after writing the JSON it would send.
fn answer<T: Serialize>(result: AppResult<T>) -> u16 {
    match result {
        Ok(value) => match serde_json::to_vec(&value) {
            Ok(_) => 200,
            Err(_) => 500,
        },
        Err(e) => e.status,
    }
}

fn encode(s: &Stats) -> String {
    let statuses: Vec<String> = s.statuses.iter().map(|(c, n)| format!("{c}:{n}")).collect();
    format!(
        "{} {} {} {} {}",
        s.count,
        s.elapsed.as_micros(),
        s.p50.as_micros(),
        s.p99.as_micros(),
        statuses.join(",")
    )
}

/// The lines [`run`] printed, as (read, clients, stats).
pub fn decode(output: &str) -> Vec<(String, usize, Stats)> {
    output
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [read, clients, count, elapsed, p50, p99, statuses] = f[..] else {
                return None;
            };
            let us = |v: &str| std::time::Duration::from_micros(v.parse().unwrap_or(0));
            Some((
                read.to_string(),
                clients.parse().ok()?,
                Stats {
                    count: count.parse().ok()?,
                    elapsed: us(elapsed),
                    p50: us(p50),
                    p99: us(p99),
                    statuses: statuses
                        .split(',')
                        .filter_map(|p| {
                            let (c, n) = p.split_once(':')?;
                            Some((c.parse().ok()?, n.parse().ok()?))
                        })
                        .collect(),
                },
            ))
        })
        .collect()
}
