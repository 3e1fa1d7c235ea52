//! Building the site (`<target>/site`) and the server binary, and serving them.

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256};

/// The package, its binary, and the bundle's name (`output-name` in Leptos.toml).
const NAME: &str = "specialistly";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

#[derive(Default)]
pub struct Options {
    pub release: bool,
    /// A cargo profile of the server other than `dev`/`release`.
    pub profile: Option<String>,
    /// With the SurrealDB server inside (`specialistly db-server`); always in release.
    pub db_server: bool,
    pub precompress: bool,
    pub site_only: bool,
}

/// Where things are: the workspace and cargo's target directory (`CARGO_TARGET_DIR` if set).
pub struct Layout {
    root: PathBuf,
    target: PathBuf,
}

impl Layout {
    pub fn discover() -> Self {
        let root = crate::workspace_root();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => std::env::current_dir()
                .expect("current directory")
                .join(dir),
            None => root.join("target"),
        };
        Self { root, target }
    }

    fn site(&self) -> PathBuf {
        self.target.join("site")
    }

    /// The wasm build has a target directory of its own, as with cargo-leptos: its features
    /// differ from the server's, and two cargo processes can then build at the same time.
    fn front_target(&self) -> PathBuf {
        self.target.join("front")
    }

    fn server_dir(&self, options: &Options) -> PathBuf {
        self.target.join(match (&options.profile, options.release) {
            (Some(profile), _) => profile.as_str(),
            (None, true) => "release",
            (None, false) => "debug",
        })
    }
}

pub fn build(layout: &Layout, options: &Options) -> Result<(), String> {
    let started = Instant::now();
    // Both compilations at once: each has long stretches on one core (SurrealDB for the
    // server, the app's own crate for both), so together they keep the two cores busy.
    let server = if options.site_only {
        None
    } else {
        Some(spawn_server_build(layout, options)?)
    };
    let front = spawn_front_build(layout, options)?;
    let front = wait(front, "the wasm build");
    let server = server.map(|s| wait(s, "the server build"));
    front?;
    if let Some(server) = server {
        server?;
    }
    let compiled = started.elapsed();

    let site = layout.site();
    remove_dir(&site)?;
    let pkg = site.join("pkg");
    fs::create_dir_all(&pkg).map_err(|e| format!("creating {}: {e}", pkg.display()))?;
    bindgen(layout, options, &pkg)?;
    if options.release {
        wasm_opt(layout, &pkg.join(format!("{NAME}.wasm")))?;
    }
    copy(
        &layout.root.join("style/main.css"),
        &pkg.join(format!("{NAME}.css")),
    )?;
    copy_dir(&layout.root.join("public"), &site)?;
    let hashes = hash_names(&pkg)?;
    let server_dir = layout.server_dir(options);
    fs::create_dir_all(&server_dir).map_err(|e| e.to_string())?;
    let hash_file = server_dir.join("hash.txt");
    fs::write(&hash_file, hashes).map_err(|e| format!("writing {}: {e}", hash_file.display()))?;
    if options.precompress {
        precompress(&site)?;
    }
    eprintln!(
        "xtask: built {} in {:.0?} (compiling {:.0?})",
        site.display(),
        started.elapsed(),
        compiled
    );
    Ok(())
}

/// Runs the server built by `build`, in place of this process, on the site just written.
pub fn serve(layout: &Layout, options: &Options) -> Result<(), String> {
    let binary = layout.server_dir(options).join(NAME);
    let error = Command::new(&binary)
        .current_dir(&layout.root)
        .env("LEPTOS_SITE_ROOT", layout.site())
        .env("LEPTOS_OUTPUT_NAME", NAME)
        .env("LEPTOS_HASH_FILES", "true")
        .exec();
    Err(format!("starting {}: {error}", binary.display()))
}

/// A cargo command with the environment `cargo run` gave this process (the package variables
/// of xtask) taken out. Build scripts ask to be rerun when such a variable changes (ring's
/// watches `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`), so a server built from here and the
/// same server built by `cargo test` from a shell would each rebuild ring, rustls and
/// everything above them, SurrealDB included, every time the other had run.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            )
        {
            command.env_remove(&*name);
        }
    }
    command
}

fn spawn_server_build(layout: &Layout, options: &Options) -> Result<Child, String> {
    let mut command = cargo();
    command
        .current_dir(&layout.root)
        .args(["build", "--package", NAME, "--bin", NAME])
        // Without the SurrealDB server unless asked (`make cluster`, release): every crate but
        // the app's own is then the one the tests compile (`ssr` turns on what `db-server`
        // turns on in the crates they share), and `make run` serves a minute sooner.
        .args(["--no-default-features", "--features"])
        .arg(if options.release || options.db_server {
            "db-server"
        } else {
            "ssr"
        });
    if options.release {
        // Overrides the debug flags of .cargo/config.toml.
        command.arg("--release").env("RUSTFLAGS", "");
    } else if let Some(profile) = &options.profile {
        command.args(["--profile", profile]);
    }
    command
        .spawn()
        .map_err(|e| format!("starting cargo for the server: {e}"))
}

fn spawn_front_build(layout: &Layout, options: &Options) -> Result<Child, String> {
    let mut command = cargo();
    command
        .current_dir(&layout.root)
        .args(["build", "--package", NAME, "--lib", "--target", WASM_TARGET])
        .args(["--no-default-features", "--features", "hydrate"])
        .arg("--target-dir")
        .arg(layout.front_target());
    // Its flags come from .cargo/config.toml (type-erased views, in release too).
    if options.release {
        command.args(["--profile", "wasm-release"]);
    }
    command
        .spawn()
        .map_err(|e| format!("starting cargo for the wasm library: {e}"))
}

fn wait(mut child: Child, what: &str) -> Result<(), String> {
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// `<pkg>/specialistly.js` and `specialistly.wasm` from the compiled library, for `--target web`.
fn bindgen(layout: &Layout, options: &Options, pkg: &Path) -> Result<(), String> {
    let profile_dir = if options.release {
        "wasm-release"
    } else {
        "debug"
    };
    let input = layout
        .front_target()
        .join(WASM_TARGET)
        .join(profile_dir)
        .join(format!("{NAME}.wasm"));
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&input)
        .out_name(NAME)
        .typescript(false)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    bindgen
        .generate(pkg)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", input.display()))?;
    // Leptos asks for `<name>.wasm`; wasm-bindgen writes `<name>_bg.wasm`.
    let generated = pkg.join(format!("{NAME}_bg.wasm"));
    fs::rename(&generated, pkg.join(format!("{NAME}.wasm")))
        .map_err(|e| format!("renaming {}: {e}", generated.display()))
}

/// Binaryen's optimiser: `.tools/` (npm package `binaryen`, which `make tools` installs) or PATH.
fn wasm_opt(layout: &Layout, wasm: &Path) -> Result<(), String> {
    let local = layout.root.join(".tools/node_modules/.bin/wasm-opt");
    let program = if local.exists() {
        local
    } else {
        PathBuf::from("wasm-opt")
    };
    let status = Command::new(&program)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .map_err(|e| {
            format!(
                "running {}: {e} (`make tools` installs it from npm)",
                program.display()
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("wasm-opt failed ({status})"))
    }
}

/// Renames the bundle's script, wasm and stylesheet to `<name>.<hash>.<ext>` and returns the
/// hash file Leptos reads (`js: …`, `wasm: …`, `css: …`). Snippets keep their names: the
/// script imports them by path.
fn hash_names(pkg: &Path) -> Result<String, String> {
    let mut hashes = String::new();
    for ext in ["js", "wasm", "css"] {
        let path = pkg.join(format!("{NAME}.{ext}"));
        let content = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let digest = Sha256::digest(&content);
        let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
        let hashed = pkg.join(format!("{NAME}.{hash}.{ext}"));
        fs::rename(&path, &hashed).map_err(|e| format!("renaming {}: {e}", path.display()))?;
        hashes.push_str(&format!("{ext}: {hash}\n"));
    }
    Ok(hashes)
}

/// A `.gz` and a `.br` beside every file of the site, served by the server when accepted.
fn precompress(dir: &Path) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            precompress(&path)?;
            continue;
        }
        if path
            .extension()
            .is_some_and(|ext| ext == "gz" || ext == "br")
        {
            continue;
        }
        let content = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&content).map_err(|e| e.to_string())?;
        let gzip = gzip.finish().map_err(|e| e.to_string())?;
        fs::write(with_suffix(&path, "gz"), gzip).map_err(|e| e.to_string())?;
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut content.as_slice(), &mut brotli, &params)
            .map_err(|e| e.to_string())?;
        fs::write(with_suffix(&path, "br"), brotli).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("removing {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("reading {}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let dest = to.join(path.file_name().expect("a directory entry has a name"));
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            copy(&path, &dest)?;
        }
    }
    Ok(())
}
