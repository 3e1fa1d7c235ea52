//! Fairness under load (hardening round 3, G1 and G2): one account must not slow everyone
//! down. Two scenarios, each on a server of its own and beside its own baseline:
//!
//! - **Deliveries**: a specialist's ten webhook endpoints accept connections and never answer,
//!   and their deliveries are replayed in a loop, while customers book another specialist's
//!   slots. The customers' confirmation emails must arrive within 2× their delay without
//!   that specialist (p50 and p99).
//! - **Event streams**: one user opens 1,000 event streams at once. Past the per-account cap
//!   they are refused, and the booking rate with the accepted ones open stays within 10% of
//!   the rate without them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::Api;
use crate::doubles::SmtpSink;
use crate::load::{self, Stats};
use crate::server::{Server, Setup};

/// Bookings whose confirmation email is timed, per run.
const TIMED_BOOKINGS: usize = 150;
/// The specialist whose endpoints never answer: endpoints, and bookings made of their slots
/// first (each a delivery per endpoint).
const SILENT_ENDPOINTS: usize = 10;
const SILENT_BOOKINGS: usize = 30;
/// Event streams one user tries to open.
const STREAMS: usize = 1_000;
/// Bookings per rate measurement, and the rounds of runs, each round in the order without,
/// with, with, without (a drift of the rate over the run, as the database grows, then weighs
/// on both kinds alike).
const RATE_BOOKINGS: usize = 250;
const RATE_ROUNDS: usize = 2;

pub struct Fairness {
    emails_alone: Delays,
    emails_beside: Delays,
    /// Replays asked during the loaded run, by status.
    replays: BTreeMap<u16, usize>,
    silent_connections: usize,
    streams: Option<Stats>,
    /// The first answer to a stream that was neither accepted nor refused, to show.
    stream_oddity: Option<String>,
    rate_alone: Vec<f64>,
    rate_beside: Vec<f64>,
}

/// Email delays: from the booking's answer to the message's arrival at the SMTP server.
struct Delays {
    p50: Duration,
    p99: Duration,
    missing: usize,
}

impl Delays {
    fn of(mut delays: Vec<Duration>, missing: usize) -> Self {
        delays.sort();
        let at = |q: f64| {
            delays
                .get(((delays.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        Self {
            p50: at(0.5),
            p99: at(0.99),
            missing,
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn mean(rates: &[f64]) -> f64 {
    rates.iter().sum::<f64>() / rates.len().max(1) as f64
}

impl Fairness {
    pub fn emails_hold(&self) -> bool {
        let within = |beside: Duration, alone: Duration| {
            beside.as_secs_f64() <= 2.0 * alone.as_secs_f64().max(0.001)
        };
        self.emails_alone.missing == 0
            && self.emails_beside.missing == 0
            && within(self.emails_beside.p50, self.emails_alone.p50)
            && within(self.emails_beside.p99, self.emails_alone.p99)
    }

    pub fn streams_hold(&self) -> bool {
        let Some(streams) = &self.streams else {
            return false;
        };
        let capped = streams.statuses.get(&200).copied().unwrap_or(0) <= 5
            && streams.statuses.get(&429).copied().unwrap_or(0) >= STREAMS - 5;
        capped && mean(&self.rate_beside) >= 0.9 * mean(&self.rate_alone)
    }

    pub fn render(&self) -> String {
        let mark = |ok: bool| if ok { "met" } else { "**not met**" };
        let mut w = String::new();
        let _ = writeln!(
            w,
            "\n## Fairness: one account must not slow everyone down\n\n\
             A specialist's {SILENT_ENDPOINTS} webhook endpoints accept connections and never answer; \
             {SILENT_BOOKINGS} bookings of their slots made {} deliveries, replayed in a loop \
             while {TIMED_BOOKINGS} customers book another specialist's slots (4 at a time). \
             The delay is from a booking's answer to its confirmation email's arrival at the SMTP server.\n",
            SILENT_ENDPOINTS * SILENT_BOOKINGS
        );
        let _ = writeln!(w, "| confirmation email delay | p50 | p99 | missing |");
        let _ = writeln!(w, "|---|---|---|---|");
        for (name, d) in [
            ("alone", &self.emails_alone),
            ("beside the silent endpoints", &self.emails_beside),
        ] {
            let _ = writeln!(
                w,
                "| {name} | {} | {} | {} |",
                ms(d.p50),
                ms(d.p99),
                d.missing
            );
        }
        let _ = writeln!(
            w,
            "\nReplays asked meanwhile: {} ({}); connections the silent endpoints accepted: {} \
             (one send per endpoint and two per specialist at a time, 15 s each). \
             Target, p50 and p99 within 2× alone: {}.\n",
            self.replays.values().sum::<usize>(),
            self.replays
                .iter()
                .map(|(code, n)| format!("{n}× {code}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.silent_connections,
            mark(self.emails_hold())
        );
        let _ = writeln!(
            w,
            "One user opens {STREAMS} event streams at once: {}. Booking rate at 16 clients, \
             {RATE_BOOKINGS} bookings per run, {RATE_ROUNDS} rounds of runs without, with, with \
             and without the streams:\n",
            self.streams
                .as_ref()
                .map(Stats::statuses_text)
                .unwrap_or_default()
        );
        let _ = writeln!(w, "| booking rate | runs (bookings/s) | mean |");
        let _ = writeln!(w, "|---|---|---|");
        for (name, rates) in [
            ("without the streams", &self.rate_alone),
            ("with the accepted streams open", &self.rate_beside),
        ] {
            let runs: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
            let _ = writeln!(w, "| {name} | {} | {:.0} |", runs.join(", "), mean(rates));
        }
        if let Some(oddity) = &self.stream_oddity {
            let _ = writeln!(w, "\nAn answer neither 200 nor 429: {oddity}");
        }
        let _ = writeln!(
            w,
            "\nTarget, refused past the cap of 5 and the rate within 10%: {} ({:.1}%).",
            mark(self.streams_hold()),
            (mean(&self.rate_beside) / mean(&self.rate_alone) - 1.0) * 100.0
        );
        w
    }
}

/// Both scenarios, each on a fresh server under `work`.
pub async fn measure(base: &Setup<'_>, smtp: &SmtpSink, work: &Path) -> Fairness {
    let deliveries_dir = work.join("fairness-deliveries");
    let streams_dir = work.join("fairness-streams");
    for dir in [&deliveries_dir, &streams_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let env = [
        // The silent endpoints are on this machine.
        ("WEBHOOK_PUBLIC_ONLY", "false".to_string()),
        // Jobs claimed as the app's default does, but a poll short enough that the delay
        // measures the queue rather than the poll period.
        ("OUTBOX_POLL_MILLIS", "100".to_string()),
    ];
    let setup = Setup {
        data_dir: &deliveries_dir,
        env: &env,
        ..*base
    };
    eprintln!("fairness: deliveries to endpoints that never answer…");
    let server = Server::start(&setup).await;
    let api = Api::new(&server.base);
    let deliveries = deliveries(&api, smtp).await;
    server.stop();

    eprintln!("fairness: 1,000 event streams…");
    let setup = Setup {
        data_dir: &streams_dir,
        ..*base
    };
    let server = Server::start(&setup).await;
    let api = Api::new(&server.base);
    let (streams, stream_oddity, rate_alone, rate_beside) = streams(&api).await;
    server.stop();
    Fairness {
        streams: Some(streams),
        stream_oddity,
        rate_alone,
        rate_beside,
        ..deliveries
    }
}

/// A TCP endpoint that accepts connections and never answers; counts them.
async fn silent_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// `n` customers `{prefix}{i}@bench.example` (as the main run signs them up), with their
/// tokens, once every confirmation link has been mailed (so no sign-up email is taken for a
/// booking's).
async fn customers(api: &Api, smtp: &SmtpSink, prefix: &str, n: usize) -> Vec<(String, String)> {
    crate::sign_up(api, prefix, n).await;
    let tokens = crate::login_all(api, prefix, n).await;
    let out: Vec<(String, String)> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| (format!("{prefix}{i}@bench.example"), token))
        .collect();
    for (email, _) in &out {
        for _ in 0..200 {
            if !smtp.arrivals(email).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    out
}

/// Books one slot of `slots` per customer, 4 at a time; the delay of each confirmation email.
async fn timed_bookings(
    api: &Api,
    smtp: &SmtpSink,
    slots: &[String],
    customers: &[(String, String)],
) -> Delays {
    let answered: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stats = load::run(4, customers.len(), {
        let (api, slots, customers, answered) = (
            api.clone(),
            slots.to_vec(),
            customers.to_vec(),
            answered.clone(),
        );
        move |i| {
            let (api, slot, (email, token), answered) = (
                api.clone(),
                slots[i % slots.len()].clone(),
                customers[i].clone(),
                answered.clone(),
            );
            async move {
                let (status, _) = api.book(&token, &slot).await;
                answered.lock().unwrap().push((email, Instant::now()));
                status
            }
        }
    })
    .await;
    assert!(stats.only(201), "timed bookings: {}", stats.statuses_text());
    let answered = answered.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut delays = Vec::new();
    let mut missing = 0;
    for (email, at) in answered {
        // The confirmation: the first message to the customer after the booking's answer
        // (their sign-up email arrived before the bookings began).
        let arrived = loop {
            let found = smtp.arrivals(&email).into_iter().nth(1);
            if found.is_some() || Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        match arrived {
            Some(t) => delays.push(t.saturating_duration_since(at)),
            None => missing += 1,
        }
    }
    Delays::of(delays, missing)
}

async fn deliveries(api: &Api, smtp: &SmtpSink) -> Fairness {
    let fair = api
        .register("Fair Specialist", "fair@fair.example", "specialist")
        .await;
    let mut fair_slots = Vec::new();
    for i in 0..4 {
        fair_slots.push(api.slot(&fair, &format!("Fair {i}"), 48 + i, 100).await);
    }
    let alone = customers(api, smtp, "alone", TIMED_BOOKINGS).await;
    let beside = customers(api, smtp, "beside", TIMED_BOOKINGS).await;
    let emails_alone = timed_bookings(api, smtp, &fair_slots[..2], &alone).await;

    // The silent specialist: ten endpoints that never answer, and deliveries to them.
    let (url, accepted) = silent_endpoint().await;
    let silent = api
        .register("Silent Specialist", "silent@fair.example", "specialist")
        .await;
    let mut endpoints = Vec::new();
    for _ in 0..SILENT_ENDPOINTS {
        let (status, body) = api
            .post(
                "/api/webhooks",
                Some(&silent),
                json!({ "url": url, "events": ["booking.created", "booking.cancelled",
                    "booking.rescheduled", "meeting.created", "meeting.deleted",
                    "attendance.recorded"] }),
            )
            .await;
        assert_eq!(status, 201, "adding an endpoint: {body}");
        endpoints.push(body["data"]["id"].as_str().unwrap().to_string());
    }
    let silent_slot = api.slot(&silent, "Silent", 60, 100).await;
    let their_customers = customers(api, smtp, "silentcust", SILENT_BOOKINGS).await;
    for (_, token) in &their_customers {
        assert_eq!(api.book(token, &silent_slot).await.0, 201);
    }
    // Every delivery exists (the event jobs fanned out) before the replays begin.
    let mut log = Vec::new();
    for _ in 0..100 {
        log.clear();
        for endpoint in &endpoints {
            let res = api
                .client
                .get(api.url(&format!("/api/webhooks/{endpoint}/deliveries")))
                .bearer_auth(&silent)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = res.json().await.unwrap();
            for d in body["data"].as_array().cloned().unwrap_or_default() {
                log.push((endpoint.clone(), d["id"].as_str().unwrap().to_string()));
            }
        }
        if log.len() >= SILENT_ENDPOINTS * SILENT_BOOKINGS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Replays of every delivery, round and round, 4 at a time, until the timed run ends.
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(log);
    let replayers: Vec<_> = (0..4)
        .map(|_| {
            let (api, silent, log, stop, next) = (
                api.clone(),
                silent.clone(),
                log.clone(),
                stop.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut statuses = BTreeMap::new();
                while !stop.load(Ordering::Relaxed) {
                    let (endpoint, delivery) =
                        &log[next.fetch_add(1, Ordering::Relaxed) % log.len()];
                    let (status, _) = api
                        .post(
                            &format!("/api/webhooks/{endpoint}/deliveries/{delivery}/replay"),
                            Some(&silent),
                            json!({}),
                        )
                        .await;
                    *statuses.entry(status).or_insert(0) += 1;
                }
                statuses
            })
        })
        .collect();
    let emails_beside = timed_bookings(api, smtp, &fair_slots[2..], &beside).await;
    stop.store(true, Ordering::Relaxed);
    let mut replays = BTreeMap::new();
    for replayer in replayers {
        for (status, n) in replayer.await.unwrap() {
            *replays.entry(status).or_insert(0) += n;
        }
    }
    Fairness {
        emails_alone,
        emails_beside,
        replays,
        silent_connections: accepted.load(Ordering::Relaxed),
        streams: None,
        stream_oddity: None,
        rate_alone: Vec::new(),
        rate_beside: Vec::new(),
    }
}

/// One user's 1,000 streams (the accepted ones held open), and the booking rate without and
/// with them, interleaved.
async fn streams(api: &Api) -> (Stats, Option<String>, Vec<f64>, Vec<f64>) {
    let host = api
        .register("Stream Host", "host@streams.example", "specialist")
        .await;
    let mut slots = Vec::new();
    // Room for every run's bookings, with seats to spare.
    for i in 0..24 {
        slots.push(api.slot(&host, &format!("Rate {i}"), 48 + i, 100).await);
    }
    crate::sign_up(api, "booker", 300).await;
    let tokens = crate::login_all(api, "booker", 300).await;
    let streamer = api
        .register("Streamer", "streamer@streams.example", "specialist")
        .await;
    let slots = Arc::new(slots);
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let rate = |api: Api| {
        let (slots, tokens, next) = (slots.clone(), tokens.clone(), next.clone());
        async move {
            let first = next.fetch_add(RATE_BOOKINGS, Ordering::Relaxed);
            let stats = load::run(16, RATE_BOOKINGS, move |i| {
                let k = first + i;
                let slot = slots[k % slots.len()].clone();
                let token = tokens[(k / slots.len() + k % slots.len()) % tokens.len()].clone();
                let api = api.clone();
                async move { api.book(&token, &slot).await.0 }
            })
            .await;
            assert!(stats.only(201), "bookings: {}", stats.statuses_text());
            stats.per_second()
        }
    };
    let (mut alone, mut beside) = (Vec::new(), Vec::new());
    let mut opened = None;
    let oddity: Arc<Mutex<Option<String>>> = Arc::default();
    for _ in 0..RATE_ROUNDS {
        alone.push(rate(api.clone()).await);
        let held: Arc<Mutex<Vec<reqwest::Response>>> = Arc::default();
        let stats = load::run(100, STREAMS, {
            let (api, streamer, held, oddity) =
                (api.clone(), streamer.clone(), held.clone(), oddity.clone());
            move |_| {
                let (api, streamer, held, oddity) =
                    (api.clone(), streamer.clone(), held.clone(), oddity.clone());
                async move {
                    match api
                        .client
                        .get(api.url("/api/events/meeting-manager"))
                        .bearer_auth(&streamer)
                        .send()
                        .await
                    {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            match status {
                                200 => held.lock().unwrap().push(res),
                                429 => {}
                                _ => {
                                    let body = res.text().await.unwrap_or_default();
                                    oddity
                                        .lock()
                                        .unwrap()
                                        .get_or_insert(format!("{status}: {body}"));
                                }
                            }
                            status
                        }
                        Err(e) => {
                            oddity.lock().unwrap().get_or_insert(e.to_string());
                            0
                        }
                    }
                }
            }
        })
        .await;
        opened.get_or_insert(stats);
        beside.push(rate(api.clone()).await);
        beside.push(rate(api.clone()).await);
        drop(held);
        // The closed streams' places free as their tasks notice.
        tokio::time::sleep(Duration::from_secs(1)).await;
        alone.push(rate(api.clone()).await);
    }
    let oddity = oddity.lock().unwrap().clone();
    (opened.expect("one round at least"), oddity, alone, beside)
}
