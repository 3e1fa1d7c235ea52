//! `specialistly-bench scale`: the spread-out booking workload of the main benchmark with one
//! and with two app instances on one SurrealDB server (`specialistly db-server`, SurrealKV
//! storage, the same engine and durability as embedded), and with one instance on embedded
//! SurrealKV, all in one run. Writes `bench/scale-out.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::api::Api;
use crate::cpu::{self, Mark, Split};
use crate::load::{self, Stats};
use crate::server::{free_port, Server, Setup};
use crate::{doubles, login_all, sign_up, spread_pair, CUSTOMERS, SLOTS};

/// Concurrency levels and bookings made at each, per configuration.
const RUNS: [(usize, usize); 2] = [(16, 3_000), (64, 3_000)];

struct Configuration {
    name: &'static str,
    instances: usize,
    on_server: bool,
}

const CONFIGURATIONS: [Configuration; 3] = [
    Configuration {
        name: "1 instance, embedded SurrealKV",
        instances: 1,
        on_server: false,
    },
    Configuration {
        name: "1 instance, SurrealDB server",
        instances: 1,
        on_server: true,
    },
    Configuration {
        name: "2 instances, one SurrealDB server",
        instances: 2,
        on_server: true,
    },
];

/// The SurrealDB server process, stopped when dropped.
struct SurrealServer(Child);

impl Drop for SurrealServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// One configuration's figures: per run its latency and where the CPU went, and each
/// instance's peak memory.
struct Row {
    configuration: &'static Configuration,
    runs: Vec<(Stats, Split)>,
    rss: Vec<f64>,
}

fn start_surreal(binary: &Path, dir: &Path) -> (SurrealServer, u16) {
    let port = free_port();
    let server = SurrealServer(
        Command::new(binary)
            .args(["db-server", "start", "--no-banner", "--log", "error"])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--user", "root", "--pass", "root"])
            .arg(format!("surrealkv://{}", dir.join("db").display()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} db-server: {e}", binary.display())),
    );
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the SurrealDB server did not start");
}

pub async fn bench() {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let app = target.join("release/specialistly");
    let site_root = target.join("site");
    let work = std::env::temp_dir().join(format!("specialistly-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let smtp = doubles::SmtpSink::start().await;
    let zoom = doubles::ZoomDouble::start().await;

    let mut rows = Vec::new();
    for (c, configuration) in CONFIGURATIONS.iter().enumerate() {
        eprintln!("{}…", configuration.name);
        let dir = work.join(format!("configuration-{c}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (database, env) = if configuration.on_server {
            let (server, port) = start_surreal(&app, &dir);
            let env = vec![
                ("DATABASE_URL", format!("ws://127.0.0.1:{port}")),
                ("SURREAL_USER", "root".to_string()),
                ("SURREAL_PASS", "root".to_string()),
            ];
            (Some(server), env)
        } else {
            (None, Vec::new())
        };
        let mut instances = Vec::new();
        for i in 0..configuration.instances {
            let data_dir = dir.join(format!("instance-{i}"));
            std::fs::create_dir_all(&data_dir).unwrap();
            let setup = Setup {
                binary: &app,
                site_root: &site_root,
                data_dir: &data_dir,
                smtp_port: smtp.port,
                zoom_base: &zoom.base,
                env: &env,
            };
            instances.push(Server::start(&setup).await);
        }
        let apis: Arc<Vec<Api>> = Arc::new(instances.iter().map(|s| Api::new(&s.base)).collect());
        let (slots, customers) = seed(&apis[0], c).await;
        let (slots, customers) = (Arc::new(slots), Arc::new(customers));
        // Instances first, then the SurrealDB server, then this process (load and doubles).
        let mut pids: Vec<u32> = instances.iter().map(Server::pid).collect();
        pids.extend(database.as_ref().map(|d| d.0.id()));
        pids.push(0);
        let mut k = 0;
        let mut runs = Vec::new();
        for (clients, n) in RUNS {
            let first = k;
            let (apis, slots, customers) = (apis.clone(), slots.clone(), customers.clone());
            let mark = Mark::now(&pids);
            // BENCH_PERF: the SurrealDB server, where a booking's CPU goes on a server.
            let recording = database.as_ref().filter(|_| clients == 16).and_then(|d| {
                let name = format!("scale-server-{}-instances-16", configuration.instances);
                crate::profile::start(d.0.id(), &name)
            });
            // Requests alternate between the instances, as a round-robin balancer sends them.
            let stats = load::run(clients, n, move |i| {
                let (slot, customer) = spread_pair(first + i);
                let api = apis[i % apis.len()].clone();
                let (slot, token) = (slots[slot].clone(), customers[customer].clone());
                async move { api.book(&token, &slot).await.0 }
            })
            .await;
            runs.push((stats, mark.split(n)));
            if let Some(recording) = recording {
                recording.finish();
            }
            k += n;
        }
        let rss: Vec<f64> = instances.iter().map(Server::peak_rss_mib).collect();
        for instance in instances {
            instance.stop();
        }
        drop(database);
        rows.push(Row {
            configuration,
            runs,
            rss,
        });
    }
    let _ = std::fs::remove_dir_all(&work);

    let table = render(&rows);
    println!("{table}");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/scale-out.md");
    std::fs::write(&path, &table).expect("writing bench/scale-out.md");
    eprintln!("written to {}", path.display());
}

/// A specialist with `SLOTS` slots of 100 seats and `CUSTOMERS` signed-in customers.
async fn seed(api: &Api, run: usize) -> (Vec<String>, Vec<String>) {
    let host = api
        .register(
            "Scale Host",
            &format!("host{run}@scale.example"),
            "specialist",
        )
        .await;
    let mut slots = Vec::new();
    for i in 0..SLOTS {
        slots.push(
            api.slot(&host, &format!("Scale {i}"), 48 + i as i64, 100)
                .await,
        );
    }
    let prefix = format!("s{run}-");
    sign_up(api, &prefix, CUSTOMERS).await;
    (slots, login_all(api, &prefix, CUSTOMERS).await)
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Booking, spread over {SLOTS} slots, 3,000 bookings per row ({}; {} cores; release builds; \
         the app instances, the SurrealDB server and the load generator share the machine).\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        cpu::cores(),
    );
    let _ = writeln!(
        out,
        "| configuration | clients | bookings/s | p50 | p99 | statuses | peak RSS per instance |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for row in rows {
        for ((clients, _), (s, _)) in RUNS.iter().zip(&row.runs) {
            let rss: Vec<String> = row.rss.iter().map(|m| format!("{m:.0} MiB")).collect();
            let _ = writeln!(
                out,
                "| {} | {clients} | {:.0} | {:.1} ms | {:.1} ms | {} | {} |",
                row.configuration.name,
                s.per_second(),
                s.p50.as_secs_f64() * 1e3,
                s.p99.as_secs_f64() * 1e3,
                s.statuses_text(),
                rss.join(", "),
            );
        }
    }
    let _ = writeln!(
        out,
        "\nWhere the CPU went: user + system CPU time of each process over the run (from /proc), \
         per booking. The ceiling is what {} cores could give at that cost if nothing else ran; \
         \"busy\" is the share of the machine's cores in use during the run.\n",
        cpu::cores(),
    );
    let _ = writeln!(
        out,
        "| configuration | clients | app instances | SurrealDB server | load generator and doubles | total | ceiling | busy |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for row in rows {
        let instances = row.configuration.instances;
        for ((clients, _), (_, split)) in RUNS.iter().zip(&row.runs) {
            let ms = &split.per_operation_ms;
            let apps = &ms[..instances];
            let app_text = if apps.len() == 1 {
                format!("{:.2} ms", apps[0])
            } else {
                let each: Vec<String> = apps.iter().map(|m| format!("{m:.2}")).collect();
                format!("{:.2} ms ({})", apps.iter().sum::<f64>(), each.join(" + "))
            };
            let server_text = if row.configuration.on_server {
                format!("{:.2} ms", ms[instances])
            } else {
                "in the instance".to_string()
            };
            let _ = writeln!(
                out,
                "| {} | {clients} | {app_text} | {server_text} | {:.2} ms | {:.2} ms | {:.0}/s | {:.0}% |",
                row.configuration.name,
                ms[ms.len() - 1],
                split.total_ms(),
                split.ceiling_per_second(),
                split.machine_busy * 100.0,
            );
        }
    }
    out
}
