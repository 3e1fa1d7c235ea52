//! Where the machine's cores went during a run: the CPU time (user + system) of each process
//! that takes part, and of the machine as a whole, read from /proc before and after. Divided by
//! the operations done, it is each part's CPU cost per operation, and so the rate the cores
//! can give at most.

/// CPU seconds so far of the processes of interest, the machine's busy and total seconds.
pub struct Mark {
    pids: Vec<u32>,
    processes: Vec<f64>,
    machine_busy: f64,
    machine_total: f64,
}

/// What a run cost, per process (in the order given to [`Mark::now`]).
pub struct Split {
    /// CPU milliseconds per operation, per process.
    pub per_operation_ms: Vec<f64>,
    /// Share of all the machine's cores that were busy (any process).
    pub machine_busy: f64,
}

impl Mark {
    /// `pids`: the processes to account for; 0 stands for this process (the load generator
    /// and the SMTP and Zoom doubles, which run inside it).
    pub fn now(pids: &[u32]) -> Self {
        let (machine_busy, machine_total) = machine_seconds();
        Self {
            pids: pids.to_vec(),
            processes: pids.iter().map(|&pid| process_seconds(pid)).collect(),
            machine_busy,
            machine_total,
        }
    }

    /// The CPU the same processes spent since `self`, over `operations` operations.
    pub fn split(&self, operations: usize) -> Split {
        let later = Self::now(&self.pids);
        let spent: Vec<f64> = later
            .processes
            .iter()
            .zip(&self.processes)
            .map(|(after, before)| after - before)
            .collect();
        let total = (later.machine_total - self.machine_total).max(1e-9);
        Split {
            per_operation_ms: spent
                .iter()
                .map(|s| s * 1e3 / operations.max(1) as f64)
                .collect(),
            machine_busy: (later.machine_busy - self.machine_busy) / total,
        }
    }
}

impl Split {
    /// The CPU milliseconds all the processes of interest spend per operation.
    pub fn total_ms(&self) -> f64 {
        self.per_operation_ms.iter().sum()
    }

    /// Operations per second the machine's cores could give at this cost, with nothing else
    /// running.
    pub fn ceiling_per_second(&self) -> f64 {
        cores() as f64 * 1e3 / self.total_ms().max(1e-9)
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// User + system CPU seconds of process `pid` (0: this one), all its threads included; 0 once
/// it is gone.
fn process_seconds(pid: u32) -> f64 {
    let path = if pid == 0 {
        "/proc/self/stat".to_string()
    } else {
        format!("/proc/{pid}/stat")
    };
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces; the fields after it are plain numbers, and
    // utime and stime are the 14th and 15th of the whole line.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / ticks_per_second(),
        _ => 0.0,
    }
}

/// Busy and total CPU seconds of the whole machine (all cores), from the first line of
/// /proc/stat; idle and I/O wait count as not busy.
fn machine_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let values: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    let total: f64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    let tick = ticks_per_second();
    ((total - idle) / tick, total / tick)
}
