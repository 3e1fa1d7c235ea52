//! Closed-loop load: `concurrency` workers take the next of `n` operations until none are
//! left; each operation answers a status code. Latency percentiles over every operation.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Stats {
    pub count: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// Status code → how many; 0 stands for a transport error.
    pub statuses: BTreeMap<u16, usize>,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    pub fn statuses_text(&self) -> String {
        self.statuses
            .iter()
            .map(|(code, n)| match code {
                0 => format!("{n}× error"),
                _ => format!("{n}× {code}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn only(&self, code: u16) -> bool {
        self.statuses.keys().all(|c| *c == code)
    }
}

pub async fn run<F, Fut>(concurrency: usize, n: usize, operation: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = u16> + Send,
{
    let operation = Arc::new(operation);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (operation, next) = (operation.clone(), next.clone());
        workers.spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return seen;
                }
                let t0 = Instant::now();
                let status = operation(i).await;
                seen.push((t0.elapsed(), status));
            }
        });
    }
    let mut latencies = Vec::with_capacity(n);
    let mut statuses = BTreeMap::new();
    while let Some(done) = workers.join_next().await {
        for (latency, status) in done.expect("a load worker panicked") {
            latencies.push(latency);
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Stats {
        count: latencies.len(),
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
        statuses,
    }
}
