//! `surreal start …`, exactly as the official binary runs it, built from the crates.io crate.
//!
//! With `SURREAL_EXIT_WITH_STDIN=1` the server also exits when its standard input closes, so a
//! test harness that started it cannot leave it running, however the harness ends.

// The release build computes the layout of SurrealDB's deeply nested query futures here.
#![recursion_limit = "256"]

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::var_os("SURREAL_EXIT_WITH_STDIN").is_some_and(|v| v == "1") {
        std::thread::spawn(|| {
            let mut sink = [0u8; 64];
            while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
