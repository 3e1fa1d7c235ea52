//! The site's built assets (`/pkg/…`): their content-hashed names, as this build's hash file
//! records them, and how long browsers may keep them. A hashed name changes whenever the
//! content does, so such a file can be cached for good; anything else is revalidated.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;

use super::app_state::AppState;

const FOREVER: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The Cache-Control of a response to `path`, when it is a built asset.
fn policy(path: &str, status: StatusCode, hashed_names: bool) -> Option<&'static str> {
    if !path.starts_with("/pkg/") || !status.is_success() {
        return None;
    }
    Some(if hashed_names { FOREVER } else { REVALIDATE })
}

pub async fn cache_control(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    if let Some(value) = policy(&path, response.status(), state.leptos_options.hash_files) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// `/pkg/specialistly.<hash>.css` (or without the hash when files are not hashed), for the
/// few pages rendered outside the Leptos shell.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    built_file(options, "css", "css")
}

/// The wasm bundle's JS loader and module, as the shell's island loader names them.
pub fn bundle_hrefs(options: &LeptosOptions) -> (String, String) {
    (
        built_file(options, "js", "js"),
        built_file(options, "wasm", "wasm"),
    )
}

/// `/pkg/<output name>[.<hash>].<extension>`, the hash being the one this build's hash file
/// records for `kind` (cargo-leptos' format, `kind: hash` a line).
fn built_file(options: &LeptosOptions, kind: &str, extension: &str) -> String {
    let hash = options
        .hash_files
        .then(|| {
            let exe = std::env::current_exe().ok()?;
            let hashes =
                std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()?;
            hashes.lines().find_map(|line| {
                let (found, hash) = line.split_once(':')?;
                (found.trim() == kind).then(|| hash.trim().to_string())
            })
        })
        .flatten();
    let base = format!("/{}/{}", options.site_pkg_dir, options.output_name);
    match hash {
        Some(hash) => format!("{base}.{hash}.{extension}"),
        None => format!("{base}.{extension}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_kept_for_good_and_others_revalidated() {
        let ok = StatusCode::OK;
        assert_eq!(
            policy("/pkg/specialistly.abc123.wasm", ok, true),
            Some(FOREVER)
        );
        assert_eq!(
            policy("/pkg/specialistly.wasm", ok, false),
            Some(REVALIDATE)
        );
        assert_eq!(policy("/pkg/missing.js", StatusCode::NOT_FOUND, true), None);
        assert_eq!(policy("/slots", ok, true), None);
        assert_eq!(policy("/api/consulting-slots", ok, true), None);
    }

    #[test]
    fn without_hashes_the_stylesheet_has_its_plain_name() {
        let options = LeptosOptions::builder().output_name("specialistly").build();
        assert_eq!(stylesheet_href(&options), "/pkg/specialistly.css");
    }
}
