//! `make bench`: the release server on SurrealKV in a temporary directory, with an SMTP sink
//! and a Zoom double that answer at once, measured in one run against the same booking
//! transaction executed directly on embedded SurrealKV. Prints a table and writes it to
//! `bench/results.md`.

// As in src/main.rs: SurrealDB's async fns nest deeper than the default query depth.
#![recursion_limit = "256"]

mod api;
mod bulk;
mod cpu;
mod doubles;
mod fairness;
mod first_load;
mod floor;
mod load;
mod profile;
mod raw;
mod report;
mod scale;
mod server;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use api::{Api, PASSWORD};
use cpu::Mark;
use load::Stats;
use raw::Transaction;
use report::{CpuRow, Report};
use server::{Server, Setup};

/// The spread-out booking workload: slots and customers (as in the measurements).
const SLOTS: usize = 300;
const CUSTOMERS: usize = 300;
/// Concurrency levels and bookings made at each.
const BOOKING_RUNS: [(usize, usize); 3] = [(1, 1_000), (16, 3_000), (64, 3_000)];
/// The popular slot: this many slots of 100 seats, each booked by 100 customers, 16 at a time.
const POPULAR_SLOTS: usize = 5;
const READS: usize = 3_000;
const BULK_BOOKINGS: usize = 1_000_000;

fn main() {
    let runtime = specialistly::server::runtime::multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        // `fill DIR N`: in a process of its own, which releases the database's lock on exit.
        Some("fill") => {
            let seconds = runtime.block_on(bulk::fill(
                std::path::Path::new(&args[2]),
                args[3].parse().unwrap(),
            ));
            println!("{seconds:.0}");
        }
        // `floor DIR CUSTOMER_EMAIL SPECIALIST_EMAIL`: the reads without HTTP, in a process
        // of its own for the same reason.
        Some("floor") => runtime.block_on(floor::run(
            std::path::Path::new(&args[2]),
            floor::Readers {
                customer_email: args[3].clone(),
                specialist_email: args[4].clone(),
            },
        )),
        // `scale`: booking with one and two instances on a SurrealDB server, and embedded.
        Some("scale") => runtime.block_on(scale::bench()),
        // `fairness`: only the two fairness scenarios (part of the whole run too).
        Some("fairness") => runtime.block_on(fairness_only()),
        // `first-load`: only what a visitor's first load of `/slots` and a specialist's page
        // weighs (part of the whole run too).
        Some("first-load") => runtime.block_on(first_load_only()),
        _ => runtime.block_on(bench()),
    }
}

/// Booking `k` of the spread-out workload: consecutive bookings go to different slots and
/// different customers, and no pair repeats (k < SLOTS × CUSTOMERS).
fn spread_pair(k: usize) -> (usize, usize) {
    let slot = k % SLOTS;
    (slot, (slot + k / SLOTS) % CUSTOMERS)
}

async fn bench() {
    let (binary, site_root) = built();
    let work = std::env::temp_dir().join(format!("specialistly-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (server_dir, raw_dir) = (work.join("server"), work.join("raw"));
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&raw_dir).unwrap();

    let mut report = Report::new();
    let smtp = doubles::SmtpSink::start().await;
    let zoom = doubles::ZoomDouble::start().await;
    let setup = Setup {
        binary: &binary,
        site_root: &site_root,
        data_dir: &server_dir,
        smtp_port: smtp.port,
        zoom_base: &zoom.base,
        env: &[],
    };

    eprintln!("raw transaction baseline…");
    let raw = Arc::new(raw::open(&raw_dir, CUSTOMERS.max(100)).await);
    let raw_slots = Arc::new(raw.slots(SLOTS, 100).await);
    let mut raw_runs = Vec::new();
    let mut raw_k = 0;
    for (clients, n) in BOOKING_RUNS {
        let first = raw_k;
        let mark = Mark::now(&[0]);
        raw_runs.push(
            raw.book(Transaction::App, raw_slots.clone(), clients, n, move |i| {
                spread_pair(first + i)
            })
            .await,
        );
        if clients == 16 {
            report.booking_cpu(CpuRow::AppTransaction, mark.split(n));
        }
        raw_k += n;
    }
    let mut raw_popular = Vec::new();
    for _ in 0..POPULAR_SLOTS {
        let one = Arc::new(raw.slots(1, 100).await);
        raw_popular.push(raw.book(Transaction::App, one, 16, 100, |i| (0, i)).await);
    }
    let raw_popular = merge(&raw_popular);
    eprintln!("minimal booking transaction baseline…");
    let minimal_slots = Arc::new(raw.slots(SLOTS, 100).await);
    let mut minimal_runs = Vec::new();
    let mut minimal_k = 0;
    for (clients, n) in BOOKING_RUNS {
        let first = minimal_k;
        let mark = Mark::now(&[0]);
        minimal_runs.push(
            raw.book(
                Transaction::Minimal,
                minimal_slots.clone(),
                clients,
                n,
                move |i| spread_pair(first + i),
            )
            .await,
        );
        if clients == 16 {
            report.booking_cpu(CpuRow::MinimalTransaction, mark.split(n));
        }
        minimal_k += n;
    }
    drop(raw);

    eprintln!("starting the server…");
    let server = Server::start(&setup).await;
    let api = Api::new(&server.base);
    report.memory("idle after start", server.rss_mib());

    // The specialist whose slots take the bookings; verified, so the live Zoom client runs.
    let host = api
        .register("Bench Host", "host@bench.example", "specialist")
        .await;
    verify_email(&api, &smtp, "host@bench.example").await;
    let mut slots = Vec::new();
    for i in 0..SLOTS {
        slots.push(
            api.slot(&host, &format!("Spread {i}"), 48 + i as i64, 100)
                .await,
        );
    }
    eprintln!("  {SLOTS} slots: {}", server.rss_text());
    let started = std::time::Instant::now();
    sign_up(&api, "c", CUSTOMERS).await;
    eprintln!("  {CUSTOMERS} sign-ups: {}", server.rss_text());
    report.memory(
        &format!(
            "after {CUSTOMERS} sign-ups (8 at a time, {:.1} s)",
            started.elapsed().as_secs_f64()
        ),
        server.rss_mib(),
    );
    let customers = Arc::new(login_all(&api, "c", CUSTOMERS).await);

    // Readers: a specialist with ten slots, five customers booking each of them.
    let reader_host = api
        .register("Reader Host", "reader-host@bench.example", "specialist")
        .await;
    let mut reader_slots = Vec::new();
    for i in 0..10 {
        reader_slots.push(
            api.slot(&reader_host, &format!("Reader {i}"), 30 + i, 10)
                .await,
        );
    }
    let mut readers = Vec::new();
    for i in 0..5 {
        let token = api
            .register(
                &format!("Reader {i}"),
                &format!("reader{i}@bench.example"),
                "customer",
            )
            .await;
        for slot in &reader_slots {
            assert_eq!(api.book(&token, slot).await.0, 201);
        }
        readers.push(token);
    }
    let readers = Reads {
        api: api.clone(),
        customer: readers[0].clone(),
        specialist: reader_host,
        detail_path: format!("/api/consulting-slots/{}/booking/0", reader_slots[3]),
    };

    eprintln!("  readers: {}", server.rss_text());
    eprintln!("booking…");
    let booked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let slots = Arc::new(slots);
    let mut k = 0;
    let mut http_runs = Vec::new();
    for (run_no, (clients, n)) in BOOKING_RUNS.into_iter().enumerate() {
        let first = k;
        let recording = (clients == 16).then(|| profile::start(server.pid(), "booking-16"));
        let mark = Mark::now(&[server.pid(), 0]);
        http_runs.push(
            book_http(&api, &slots, &customers, &booked, clients, n, move |i| {
                spread_pair(first + i)
            })
            .await,
        );
        if clients == 16 {
            report.booking_cpu(CpuRow::Http, mark.split(n));
        }
        k += n;
        if let Some(recording) = recording.flatten() {
            recording.finish();
        }
        eprintln!("  {clients} client(s): {}", server.rss_text());
        if run_no == 0 {
            // A thousand bookings in: the reads as a small site sees them.
            report.reads_small = readers.measure(16).await;
            // One client: what a read costs without waiting behind others.
            report.reads_one_client = readers.measure(1).await;
            eprintln!("  reads: {}", server.rss_text());
        }
    }
    report.memory_peak("peak while booking", server.peak_rss_mib());

    let mut popular = Vec::new();
    for p in 0..POPULAR_SLOTS {
        let slot = Arc::new(vec![
            api.slot(&host, &format!("Popular {p}"), 24 * 20 + p as i64, 100)
                .await,
        ]);
        popular.push(book_http(&api, &slot, &customers, &booked, 16, 100, |i| (0, i)).await);
        let (status, _) = api.book(&customers[CUSTOMERS - 1], &slot[0]).await;
        assert_eq!(
            status, 409,
            "a full popular slot refuses the 101st customer"
        );
    }
    let popular = merge(&popular);
    report.bookings(&http_runs, &raw_runs, &minimal_runs, &popular, &raw_popular);

    eprintln!("creating meetings…");
    let to_meet: Arc<Vec<(String, u64)>> =
        Arc::new(booked.lock().unwrap().iter().take(1_000).cloned().collect());
    let zoom_before = zoom.created();
    let meetings = load::run(16, to_meet.len(), {
        let (api, host, to_meet) = (api.clone(), host.clone(), to_meet.clone());
        move |i| {
            let (api, host, (slot, index)) = (api.clone(), host.clone(), to_meet[i].clone());
            async move {
                api.post(
                    &format!("/api/consulting-slots/{slot}/booking/{index}/create-zoom"),
                    Some(&host),
                    json!({}),
                )
                .await
                .0
            }
        }
    })
    .await;
    report.create_zoom(&meetings, zoom.created() - zoom_before);
    eprintln!("  meetings: {}", server.rss_text());

    eprintln!("login flood…");
    let flood = load::run(400, 400, {
        let api = api.clone();
        move |i| {
            let api = api.clone();
            async move {
                api.post(
                    "/api/auth/login",
                    None,
                    json!({ "email": format!("c{}@bench.example", i % CUSTOMERS), "password": PASSWORD }),
                )
                .await
                .0
            }
        }
    })
    .await;
    report.login_flood(&flood, server.peak_rss_mib());
    eprintln!("  login flood: {}", server.rss_text());
    tokio::time::sleep(Duration::from_secs(5)).await;
    report.memory("settled, 5 s after the login flood", server.rss_mib());
    let host_page = api.page(&host, "bench-host").await;
    report.first_load = first_load::measure(&api, &["/slots".into(), host_page]).await;
    let peak_small = server.peak_rss_mib();
    server.stop();
    report.fairness = Some(fairness::measure(&setup, &smtp, &work).await);

    eprintln!("the reads without HTTP…");
    let floor = child(vec![
        "floor".into(),
        server_dir.display().to_string(),
        "reader0@bench.example".into(),
        "reader-host@bench.example".into(),
    ]);
    report.reads_floor = floor::decode(&floor);

    // BENCH_SKIP_1M: a quicker run without the million bookings (not for the README's table).
    if std::env::var_os("BENCH_SKIP_1M").is_some() {
        report.memory_peak("peak over the whole run", peak_small);
    } else {
        eprintln!("adding {BULK_BOOKINGS} bookings of other people…");
        let fill_seconds = child(vec![
            "fill".to_string(),
            server_dir.display().to_string(),
            BULK_BOOKINGS.to_string(),
        ]);
        let fill_seconds = fill_seconds.trim();
        report.note(format!(
            "Filled {BULK_BOOKINGS} bookings ({} other specialists, {} other customers) in {fill_seconds} s.",
            bulk::SPECIALISTS,
            bulk::CUSTOMERS
        ));
        let server = Server::start(&setup).await;
        report.memory("idle after restart with 1M bookings", server.rss_mib());
        let readers = Reads {
            api: Api::new(&server.base),
            ..readers
        };
        report.reads_large = readers.measure(16).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        report.memory("settled with 1M bookings", server.rss_mib());
        report.memory_peak(
            "peak over the whole run",
            peak_small.max(server.peak_rss_mib()),
        );
        server.stop();
    }
    report.note(format!(
        "Emails accepted by the SMTP sink: {}.",
        smtp.received()
    ));

    let text = report.render();
    println!("{text}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/results.md");
    std::fs::write(&out, &text).expect("writing bench/results.md");
    eprintln!("written to {}", out.display());
    let _ = std::fs::remove_dir_all(&work);
}

/// The release server and site the bench measures (`BENCH_SERVER_BIN` for another server).
fn built() -> (PathBuf, PathBuf) {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let binary = std::env::var("BENCH_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| target.join("release/specialistly"));
    (binary, target.join("site"))
}

/// What one part of the bench run alone needs: the built server and site, a work directory
/// (removed when done) and the SMTP and Zoom doubles.
struct Standalone {
    binary: PathBuf,
    site_root: PathBuf,
    work: PathBuf,
    smtp: doubles::SmtpSink,
    zoom: doubles::ZoomDouble,
}

impl Standalone {
    async fn start(part: &str) -> Self {
        let (binary, site_root) = built();
        Self {
            binary,
            site_root,
            work: std::env::temp_dir().join(format!("specialistly-{part}-{}", std::process::id())),
            smtp: doubles::SmtpSink::start().await,
            zoom: doubles::ZoomDouble::start().await,
        }
    }

    fn setup(&self) -> Setup<'_> {
        Setup {
            binary: &self.binary,
            site_root: &self.site_root,
            data_dir: &self.work,
            smtp_port: self.smtp.port,
            zoom_base: &self.zoom.base,
            env: &[],
        }
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The fairness scenarios alone, printed (bench/results.md is left as the whole run wrote it).
async fn fairness_only() {
    let part = Standalone::start("fairness").await;
    let fairness = fairness::measure(&part.setup(), &part.smtp, &part.work).await;
    println!("{}", fairness.render());
}

/// The first loads alone, printed: `/slots` and a specialist's page, each with 20 sessions.
async fn first_load_only() {
    let part = Standalone::start("first-load").await;
    let server = Server::start(&part.setup()).await;
    let api = Api::new(&server.base);
    let host = api
        .register("Bench Host", "host@bench.example", "specialist")
        .await;
    for i in 0..20 {
        api.slot(&host, &format!("Session {i}"), 48 + i, 4).await;
    }
    let host_page = api.page(&host, "bench-host").await;
    let loads = first_load::measure(&api, &["/slots".into(), host_page]).await;
    println!("{}", first_load::render(&loads));
    for (target, held) in first_load::targets(&loads) {
        println!("- {}: {target}", if held { "met" } else { "**not met**" });
    }
    server.stop();
}

/// Runs this program again with `args` (a process of its own, which releases the database's
/// lock on exit) and returns what it printed.
fn child(args: Vec<String>) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{}: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn verify_email(api: &Api, smtp: &doubles::SmtpSink, email: &str) {
    for _ in 0..100 {
        if let Some(message) = smtp.find(email) {
            let unfolded = message.replace("=\r\n", "").replace("=3D", "=");
            if let Some(token) = unfolded.split("verify-email?token=").nth(1).map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect::<String>()
            }) {
                let (status, body) = api
                    .post("/api/auth/verify-email", None, json!({ "token": token }))
                    .await;
                assert_eq!(status, 200, "verifying {email}: {body}");
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no verification email for {email}");
}

/// Signs up `n` customers `{prefix}{i}@bench.example` through the API, eight at a time.
async fn sign_up(api: &Api, prefix: &str, n: usize) {
    let signups = load::run(8, n, {
        let (api, prefix) = (api.clone(), prefix.to_string());
        move |i| {
            let (api, email) = (api.clone(), format!("{prefix}{i}@bench.example"));
            async move {
                api.post(
                    "/api/auth/register",
                    None,
                    json!({ "name": format!("Customer {i}"), "email": email,
                            "password": PASSWORD, "role": "customer" }),
                )
                .await
                .0
            }
        }
    })
    .await;
    assert!(signups.only(201), "sign-ups: {}", signups.statuses_text());
}

async fn login_all(api: &Api, prefix: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..n {
        let (status, body) = api
            .post(
                "/api/auth/login",
                None,
                json!({ "email": format!("{prefix}{i}@bench.example"), "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, 200, "logging in: {body}");
        tokens.push(body["data"]["token"].as_str().unwrap().to_string());
    }
    tokens
}

async fn book_http(
    api: &Api,
    slots: &Arc<Vec<String>>,
    customers: &Arc<Vec<String>>,
    booked: &Arc<Mutex<Vec<(String, u64)>>>,
    clients: usize,
    n: usize,
    pick: impl Fn(usize) -> (usize, usize) + Send + Sync + 'static,
) -> Stats {
    let (api, slots, customers, booked) = (
        api.clone(),
        slots.clone(),
        customers.clone(),
        booked.clone(),
    );
    load::run(clients, n, move |i| {
        let (slot, customer) = pick(i);
        let (api, slot, token, booked) = (
            api.clone(),
            slots[slot].clone(),
            customers[customer].clone(),
            booked.clone(),
        );
        async move {
            let (status, index) = api.book(&token, &slot).await;
            if let Some(index) = index {
                booked.lock().unwrap().push((slot, index));
            }
            status
        }
    })
    .await
}

fn merge(runs: &[Stats]) -> Stats {
    let mut all = runs[0].clone();
    for run in &runs[1..] {
        all.count += run.count;
        all.elapsed += run.elapsed;
        all.p50 = all.p50.max(run.p50);
        all.p99 = all.p99.max(run.p99);
        for (code, n) in &run.statuses {
            *all.statuses.entry(*code).or_insert(0) += n;
        }
    }
    all
}

/// The read paths, measured at 16 clients as one reader customer and one reader specialist.
#[derive(Clone)]
struct Reads {
    api: Api,
    customer: String,
    specialist: String,
    detail_path: String,
}

impl Reads {
    /// Each read by `clients` clients at once.
    async fn measure(&self, clients: usize) -> Vec<(&'static str, Stats)> {
        let paths: [(&'static str, String, Option<String>); 5] = [
            (
                "browse JSON `GET /api/consulting-slots`",
                "/api/consulting-slots".into(),
                None,
            ),
            ("SSR `/slots`", "/slots".into(), None),
            (
                "appointment details JSON",
                self.detail_path.clone(),
                Some(self.customer.clone()),
            ),
            (
                "Meeting Manager JSON",
                "/api/meeting-manager".into(),
                Some(self.specialist.clone()),
            ),
            (
                "My appointments JSON",
                "/api/appointments".into(),
                Some(self.customer.clone()),
            ),
        ];
        let mut results = Vec::new();
        for (name, path, token) in paths {
            let get = |n: usize| {
                let (api, path, token) = (self.api.clone(), path.clone(), token.clone());
                load::run(clients, n, move |_| {
                    let (api, path, token) = (api.clone(), path.clone(), token.clone());
                    async move {
                        let mut request = api.client.get(api.url(&path));
                        if let Some(token) = token {
                            request = request.bearer_auth(token);
                        }
                        match request.send().await {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let _ = r.bytes().await;
                                status
                            }
                            Err(_) => 0,
                        }
                    }
                })
            };
            get(READS / 10).await;
            results.push((name, get(READS).await));
        }
        results
    }
}
