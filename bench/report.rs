//! The results as a Markdown table, with the machine they were measured on and each target
//! marked met or not.

use std::fmt::Write;

use crate::cpu::{self, Split};
use crate::first_load::{self, FirstLoad};
use crate::floor::{PARTS, READS};
use crate::load::Stats;

#[derive(Default)]
pub struct Report {
    memory: Vec<(String, f64)>,
    peaks: Vec<(String, f64)>,
    bookings: Vec<String>,
    booking_cpu: Vec<(CpuRow, Split)>,
    ratios: Vec<(String, bool)>,
    pub reads_small: Vec<(&'static str, Stats)>,
    pub reads_large: Vec<(&'static str, Stats)>,
    pub reads_one_client: Vec<(&'static str, Stats)>,
    /// The reads without HTTP (`floor.rs`): (read, clients, stats), in the order of the reads.
    pub reads_floor: Vec<(String, usize, Stats)>,
    create_zoom: Option<String>,
    login: Option<String>,
    pub first_load: Vec<FirstLoad>,
    pub fairness: Option<crate::fairness::Fairness>,
    notes: Vec<String>,
}

/// A booking workload at 16 clients whose CPU is accounted (`cpu.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuRow {
    /// The minimal booking transaction, in this process.
    MinimalTransaction,
    /// The app's transaction, in this process.
    AppTransaction,
    /// Booking over HTTP: the server, then this process (load generator and doubles).
    Http,
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn memory(&mut self, when: &str, mib: f64) {
        self.memory.push((when.to_string(), mib));
    }

    pub fn memory_peak(&mut self, when: &str, mib: f64) {
        self.peaks.push((when.to_string(), mib));
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub fn bookings(
        &mut self,
        http: &[Stats],
        raw: &[Stats],
        minimal: &[Stats],
        popular: &Stats,
        raw_popular: &Stats,
    ) {
        let clients = [1, 16, 64];
        for (((c, h), r), m) in clients.iter().zip(http).zip(raw).zip(minimal) {
            self.bookings.push(booking_row(
                &format!("{c} client(s), spread over slots"),
                h,
                r,
                Some(m),
            ));
            if *c == 16 {
                self.ratios.push((
                    format!(
                        "booking over HTTP ≥ 1,000/s at 16 clients: {:.0}/s",
                        h.per_second()
                    ),
                    h.per_second() >= 1000.0,
                ));
                let of_minimal = h.per_second() / m.per_second();
                self.ratios.push((
                    format!(
                        "booking over HTTP ≥ 30% of the minimal booking transaction at 16 clients: {:.0}%",
                        of_minimal * 100.0
                    ),
                    of_minimal >= 0.3,
                ));
                self.ratios.push((
                    format!("booking over HTTP p99 ≤ 50 ms at 16 clients: {}", ms(h.p99)),
                    h.p99 <= std::time::Duration::from_millis(50),
                ));
                let ratio = h.per_second() / r.per_second();
                self.ratios.push((
                    format!(
                        "booking over HTTP ≥ 75% of the app's transaction at 16 clients: {:.0}%",
                        ratio * 100.0
                    ),
                    ratio >= 0.75,
                ));
                let popular_ratio = popular.per_second() / h.per_second();
                let clean = !popular.statuses.contains_key(&503) && popular.only(201);
                self.ratios.push((
                    format!(
                        "popular slot ≥ 50% of the spread-out rate at 16 clients, no 503, no overbooking: {:.0}% ({})",
                        popular_ratio * 100.0,
                        popular.statuses_text()
                    ),
                    popular_ratio >= 0.5 && clean,
                ));
            }
        }
        self.bookings.push(booking_row(
            "16 clients, one slot of 100 seats (×5 slots)",
            popular,
            raw_popular,
            None,
        ));
    }

    pub fn booking_cpu(&mut self, row: CpuRow, split: Split) {
        self.booking_cpu.push((row, split));
    }

    fn render_booking_cpu(&self, w: &mut String) {
        if self.booking_cpu.is_empty() {
            return;
        }
        let _ = writeln!(
            w,
            "\nWhere the CPU went at 16 clients: user + system CPU time of each process over the run (from /proc), per booking. The server's share includes the worker's follow-up of each booking (its emails rendered and sent, reminders queued) as far as it kept up during the run. The ceiling is what {} cores could give at that cost if nothing else ran; \"busy\" is the share of all cores in use during the run.\n",
            cpu::cores()
        );
        let _ = writeln!(
            w,
            "| workload (16 clients) | process | CPU per booking | ceiling | busy |"
        );
        let _ = writeln!(w, "|---|---|---|---|---|");
        for (row, split) in &self.booking_cpu {
            let ms = &split.per_operation_ms;
            let (workload, parts): (&str, &[&str]) = match row {
                CpuRow::MinimalTransaction => (
                    "minimal booking transaction",
                    &["the bench (embedded SurrealKV)"],
                ),
                CpuRow::AppTransaction => {
                    ("the app's transaction", &["the bench (embedded SurrealKV)"])
                }
                CpuRow::Http => (
                    "booking over HTTP",
                    &["server", "load generator and doubles"],
                ),
            };
            for (part, cost) in parts.iter().zip(ms) {
                let _ = writeln!(w, "| {workload} | {part} | {cost:.2} ms | | |");
            }
            let _ = writeln!(
                w,
                "| {workload} | **all** | **{:.2} ms** | {:.0}/s | {:.0}% |",
                split.total_ms(),
                split.ceiling_per_second(),
                split.machine_busy * 100.0
            );
        }
    }

    pub fn create_zoom(&mut self, stats: &Stats, meetings: u64) {
        self.create_zoom = Some(format!(
            "| create-zoom, 16 clients, zero-latency Zoom double | {:.0}/s | {} | {} | {} | {meetings} meetings created at the double |",
            stats.per_second(),
            ms(stats.p50),
            ms(stats.p99),
            stats.statuses_text()
        ));
    }

    pub fn login_flood(&mut self, stats: &Stats, peak: f64) {
        self.login = Some(format!(
            "400 concurrent logins: {} in {:.1} s; peak RSS so far {peak:.0} MiB",
            stats.statuses_text(),
            stats.elapsed.as_secs_f64()
        ));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "# Benchmark results\n");
        let _ = writeln!(w, "{}\n", machine());
        let _ = writeln!(
            w,
            "## Booking (`POST /api/consulting-slots/:id/book`) against the app's transaction and the minimal booking\n"
        );
        let _ = writeln!(w, "The app's transaction: `book_batch` with one booking, run directly on embedded SurrealKV. The minimal booking: the seat counter's check-and-increment and one booking row, no jobs.\n");
        let _ = writeln!(w, "| workload | HTTP req/s | p50 | p99 | statuses | app tx/s | app tx p50 | app tx p99 | minimal tx/s | minimal p50 | HTTP ÷ app tx | HTTP ÷ minimal | app tx ÷ minimal |");
        let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for row in &self.bookings {
            let _ = writeln!(w, "{row}");
        }
        self.render_booking_cpu(w);
        let _ = writeln!(
            w,
            "\n## Reads at 16 clients, with about 1k and with 1M bookings in the database (and by one client alone, with 1k)\n"
        );
        let _ = writeln!(w, "| read | 1k: req/s | 1k: p50 | 1k: p99 | 1M: req/s | 1M: p50 | 1M: p99 | p50 1M ÷ 1k | statuses | 1 client, 1k: req/s, p50 |");
        let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|");
        // Without a 1M run (BENCH_SKIP_1M) its columns stay empty and its target unmet.
        let mut reads_ok = !self.reads_small.is_empty();
        let mut slowdown_ok = !self.reads_large.is_empty();
        for (i, (name, small)) in self.reads_small.iter().enumerate() {
            reads_ok &= small.p50.as_secs_f64() <= 0.005 && small.only(200);
            let large = match self.reads_large.get(i) {
                Some((_, large)) => {
                    let slowdown = large.p50.as_secs_f64() / small.p50.as_secs_f64();
                    slowdown_ok &= slowdown <= 2.0 && large.only(200);
                    format!(
                        "{:.0} | {} | {} | {slowdown:.2}× | {} / {}",
                        large.per_second(),
                        ms(large.p50),
                        ms(large.p99),
                        small.statuses_text(),
                        large.statuses_text()
                    )
                }
                None => format!("– | – | – | – | {} / –", small.statuses_text()),
            };
            let alone = match self.reads_one_client.get(i) {
                Some((_, one)) => format!("{:.0}, {}", one.per_second(), ms(one.p50)),
                None => "–".into(),
            };
            let _ = writeln!(
                w,
                "| {name} | {:.0} | {} | {} | {large} | {alone} |",
                small.per_second(),
                ms(small.p50),
                ms(small.p99),
            );
        }
        if !self.reads_floor.is_empty() {
            let _ = writeln!(
                w,
                "\nThe same reads without HTTP and without the page cache (what a page costs when it is not kept): the server's own code for each (session check through its cache, service, JSON) on the server's database, in a process of its own once the server stopped. With 16 requests always waiting, the mean wait is 16 ÷ the rate: a p50 of 5 ms takes about 3,200 answers/s.\n"
            );
            let _ = writeln!(w, "| read | 16 clients: req/s | p50 | 16 ÷ rate | HTTP ÷ this | 1 client: req/s, p50 | statuses |");
            let _ = writeln!(w, "|---|---|---|---|---|---|---|");
            for (i, (name, http)) in self.reads_small.iter().enumerate() {
                let at = |clients: usize| {
                    self.reads_floor
                        .iter()
                        .filter(|(read, c, _)| *c == clients && READS.contains(&read.as_str()))
                        .nth(i)
                        .map(|(_, _, stats)| stats)
                };
                let (Some(many), Some(one)) = (at(16), at(1)) else {
                    continue;
                };
                let _ = writeln!(
                    w,
                    "| {name} | {:.0} | {} | {:.2} ms | {:.0}% | {:.0}, {} | {} / {} |",
                    many.per_second(),
                    ms(many.p50),
                    16e3 / many.per_second(),
                    http.per_second() / many.per_second() * 100.0,
                    one.per_second(),
                    ms(one.p50),
                    many.statuses_text(),
                    one.statuses_text()
                );
            }
        }
        let part = |name: &str, clients: usize| {
            self.reads_floor
                .iter()
                .find(|(read, c, _)| read == name && *c == clients)
                .map(|(_, _, stats)| stats)
        };
        if PARTS.iter().any(|p| part(p, 16).is_some()) {
            let _ = writeln!(
                w,
                "\nWhat every read stands on, measured the same way: one query's round trip to the engine (`RETURN true`), and the session check alone (found in the session cache).\n"
            );
            let _ = writeln!(
                w,
                "| part | 16 clients: req/s | p50 | 1 client: req/s, p50 |"
            );
            let _ = writeln!(w, "|---|---|---|---|");
            for (name, label) in PARTS
                .iter()
                .zip(["one query (`RETURN true`)", "session check"])
            {
                if let (Some(many), Some(one)) = (part(name, 16), part(name, 1)) {
                    let _ = writeln!(
                        w,
                        "| {label} | {:.0} | {} | {:.0}, {} |",
                        many.per_second(),
                        ms(many.p50),
                        one.per_second(),
                        ms(one.p50)
                    );
                }
            }
        }
        let _ = writeln!(w, "\n## Meetings\n");
        let _ = writeln!(
            w,
            "| workload | req/s | p50 | p99 | statuses | |\n|---|---|---|---|---|---|"
        );
        if let Some(row) = &self.create_zoom {
            let _ = writeln!(w, "{row}");
        }
        let _ = writeln!(w, "\n## Server memory (RSS)\n");
        let _ = writeln!(w, "| when | RSS |\n|---|---|");
        for (when, mib) in &self.memory {
            let _ = writeln!(w, "| {when} | {mib:.0} MiB |");
        }
        for (when, mib) in &self.peaks {
            let _ = writeln!(w, "| {when} | {mib:.0} MiB |");
        }
        if let Some(login) = &self.login {
            let _ = writeln!(w, "\n{login}");
        }
        let _ = write!(w, "{}", first_load::render(&self.first_load));

        let peak = self.peaks.iter().map(|(_, m)| *m).fold(0.0, f64::max);
        let mut targets = self.ratios.clone();
        let floor_rates: Vec<f64> = self
            .reads_floor
            .iter()
            .filter(|(read, clients, _)| *clients == 16 && READS.contains(&read.as_str()))
            .map(|(_, _, stats)| stats.per_second())
            .collect();
        let floor = match floor_rates.iter().copied().reduce(f64::max) {
            Some(best) => format!(
                "; without HTTP and the page cache the same reads answer {:.0}–{best:.0}/s at 16 clients, where 5 ms takes 3,200/s",
                floor_rates.iter().copied().fold(f64::INFINITY, f64::min)
            ),
            None => String::new(),
        };
        let parts = match (part("query", 16), part("session", 16)) {
            (Some(query), Some(session)) => format!(
                "; one query alone answers {:.0}/s and the session check {:.0}/s",
                query.per_second(),
                session.per_second()
            ),
            _ => String::new(),
        };
        targets.push((
            format!("reads: p50 ≤ 5 ms at 16 clients (1k bookings){floor}{parts}"),
            reads_ok,
        ));
        targets.push((
            "reads: at most 2× slower with 1M bookings".into(),
            slowdown_ok,
        ));
        targets.push((
            format!("server RSS ≤ 200 MB through the run: peak {peak:.0} MiB"),
            peak * 1.048_576 <= 200.0,
        ));
        targets.extend(first_load::targets(&self.first_load));
        if let Some(fairness) = &self.fairness {
            let _ = write!(w, "{}", fairness.render());
            targets.push((
                "confirmation emails beside endpoints that never answer: p50 and p99 within 2× alone".into(),
                fairness.emails_hold(),
            ));
            targets.push((
                "1,000 event streams of one user: refused past 5, booking rate within 10%".into(),
                fairness.streams_hold(),
            ));
        }
        let _ = writeln!(w, "\n## Targets\n");
        for (target, ok) in &targets {
            let _ = writeln!(w, "- {}: {target}", mark(*ok));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(w, "\n## Notes\n");
            for note in &self.notes {
                let _ = writeln!(w, "- {note}");
            }
        }
        out
    }
}

fn booking_row(name: &str, http: &Stats, raw: &Stats, minimal: Option<&Stats>) -> String {
    let percent = |a: &Stats, b: &Stats| format!("{:.0}%", 100.0 * a.per_second() / b.per_second());
    let (minimal_rate, minimal_p50, of_minimal, raw_of_minimal) = match minimal {
        Some(m) => (
            format!("{:.0}", m.per_second()),
            ms(m.p50),
            percent(http, m),
            percent(raw, m),
        ),
        None => Default::default(),
    };
    format!(
        "| {name} | {:.0} | {} | {} | {} | {:.0} | {} | {} | {minimal_rate} | {minimal_p50} | {} | {of_minimal} | {raw_of_minimal} |",
        http.per_second(),
        ms(http.p50),
        ms(http.p99),
        http.statuses_text(),
        raw.per_second(),
        ms(raw.p50),
        ms(raw.p99),
        percent(http, raw),
    )
}

/// CPU model, cores, memory and kernel, from /proc.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU")
        .to_string();
    let cores = cpu::cores();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {model}, {cores} cores, {mem_gib:.0} GiB, Linux {}. Release server on SurrealKV \
         (temporary directory), load generated in the same process as the raw baseline, on the same machine. Measured {}.",
        kernel.trim(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}
