//! `BENCH_PERF=DIR`: records a process's CPU with `perf`: the server's during `make bench`'s
//! 16-client booking run (`DIR/booking-16.data`), and in `make bench-scale` the SurrealDB
//! server's during each 16-client run on a server (`DIR/scale-server-N-instances-16.data`).
//! The samples are cpu-clock with call stacks unwound through `.eh_frame`, so the release
//! build needs no frame pointers; the inclusive shares by symbol are written beside each file
//! (`.txt`). Off by default: perf is not part of the figures and slows what it records a
//! little.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Recording {
    perf: Child,
    data: PathBuf,
}

/// Starts recording process `pid` as `name` when `BENCH_PERF` names a directory.
pub fn start(pid: u32, name: &str) -> Option<Recording> {
    let dir = PathBuf::from(std::env::var_os("BENCH_PERF")?);
    std::fs::create_dir_all(&dir).expect("the perf directory");
    let data = dir.join(format!("{name}.data"));
    let perf = Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-F", "199", "--call-graph"])
        .arg("dwarf,32768")
        .arg("-p")
        .arg(pid.to_string())
        .arg("-o")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("perf (BENCH_PERF is set)");
    // perf needs a moment to attach before the load starts.
    std::thread::sleep(std::time::Duration::from_millis(500));
    Some(Recording { perf, data })
}

impl Recording {
    /// Stops perf (SIGINT makes it write its file) and writes the report beside the data.
    pub fn finish(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.perf.id().to_string()])
            .status();
        let _ = self.perf.wait();
        let report = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--children",
                "--no-inline",
                "--sort",
                "symbol",
                "-g",
                "none",
            ])
            .args(["--percent-limit", "1", "-i"])
            .arg(&self.data)
            .output()
            .expect("perf report");
        let text = String::from_utf8_lossy(&report.stdout);
        let path = self.data.with_extension("txt");
        std::fs::write(&path, text.as_bytes()).expect("the perf report");
        eprintln!("  profile: {}", path.display());
    }
}
