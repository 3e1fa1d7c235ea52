//! `specialistly db-server start …`: the SurrealDB server, exactly what `surreal start` runs,
//! from the crates.io crate `surrealdb-server` linked into this binary. Local clusters and the
//! tests on `ws://` use it, so SurrealDB is compiled once for the app and its server.
//!
//! The server parses `std::env::args()` itself, so `db-server` re-executes this binary with
//! the arguments after it and a marker in the environment.
//!
//! With `SURREAL_EXIT_WITH_STDIN=1` the server also exits when its standard input closes, so a
//! test harness that started it cannot leave it running, however the harness ends.

use std::io::Read;
use std::os::unix::process::CommandExt;

const MARKER: &str = "SPECIALISTLY_AS_DB_SERVER";

/// Runs the SurrealDB server when this process was started as one, returning its exit code;
/// `None` when the app should start as usual.
pub fn run_if_asked() -> Option<i32> {
    if std::env::var_os(MARKER).is_some() {
        return Some(serve());
    }
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != "db-server") {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("db-server: cannot find this executable: {e}");
            return Some(1);
        }
    };
    // `exec` returns only when it failed.
    let e = std::process::Command::new(exe)
        .arg0("surreal")
        .args(args)
        .env(MARKER, "1")
        .exec();
    eprintln!("db-server: cannot start: {e}");
    Some(1)
}

fn serve() -> i32 {
    if std::env::var_os("SURREAL_EXIT_WITH_STDIN").is_some_and(|v| v == "1") {
        std::thread::spawn(|| {
            let mut sink = [0u8; 64];
            // Only the end of input (or a real error) ends the server: a read interrupted by
            // a signal is tried again, where it once stopped a test run's shared server.
            loop {
                match std::io::stdin().read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            std::process::exit(0);
        });
    }
    let code = surrealdb_server::init(surrealdb_server::core::CommunityComposer());
    // `ExitCode` cannot be read back; the server reports failures on stderr itself.
    if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    }
}
