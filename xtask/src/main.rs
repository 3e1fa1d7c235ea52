//! The site's build tool, run as `cargo xtask …` (alias in `.cargo/config.toml`).
//!
//! It does what cargo-leptos does for this project, with no bundler to compile first: the
//! server binary and the wasm library are built by cargo at the same time, the wasm goes
//! through wasm-bindgen (the library, at the version in Cargo.lock) and, in release, wasm-opt;
//! the stylesheet and `public/` are copied, the bundle's names get content hashes (recorded in
//! `hash.txt` next to the server, where Leptos looks), and release assets can be precompressed.
//! Runtime options stay in `Leptos.toml`; build options in `Cargo.toml`'s `package.metadata.leptos`
//! keep cargo-leptos usable for those who have it.

mod site;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build    build the server and the site into <target>/site
  serve    build, then run the server (http://127.0.0.1:3000 unless LEPTOS_SITE_ADDR says otherwise)

options:
  --release      optimised server and wasm (wasm-opt from .tools/ or PATH)
  --precompress  also write .gz and .br beside every asset (release builds)
  --site-only    build only the site (the server binary is built elsewhere, e.g. by cargo test)
  --profile P    the server's cargo profile when not dev or release (where hash.txt goes too)
  --db-server    include the SurrealDB server (`specialistly db-server`; release builds always do)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let mut options = site::Options::default();
    let mut flags = args[1..].iter();
    while let Some(flag) = flags.next() {
        match flag.as_str() {
            "--profile" => match flags.next() {
                Some(profile) => options.profile = Some(profile.clone()),
                None => {
                    eprintln!("--profile needs a name\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--release" => options.release = true,
            "--precompress" => options.precompress = true,
            "--site-only" => options.site_only = true,
            "--db-server" => options.db_server = true,
            other => {
                eprintln!("unknown option {other}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let layout = site::Layout::discover();
    let result = match command.as_str() {
        "build" => site::build(&layout, &options),
        "serve" => site::build(&layout, &options).and_then(|()| site::serve(&layout, &options)),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: this crate's parent directory, as `cargo run` names it now, or the
/// current directory when the binary is run directly from the workspace (the Makefile does).
/// Not the path baked in at compile time: a target directory shared by clones at other paths
/// (CI reuses one outside the clone) keeps an xtask that points at a clone long gone.
fn workspace_root() -> PathBuf {
    let xtask_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok().map(|dir| dir.join("xtask")))
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    xtask_dir
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
