//! What a visitor's first load of a page downloads: the HTML and every asset it loads, as
//! served with brotli, with gzip and uncompressed. The wasm bundle counts only on a page with
//! an island, the only pages the shell's island loader loads it on (`src/island_loader.js`).

use std::fmt::Write;

use crate::api::Api;

/// The most a first load may weigh with brotli (the availability issue's target).
pub const MOST_BROTLI_BYTES: usize = 150_000;

pub struct Asset {
    pub path: String,
    pub identity: usize,
    pub brotli: usize,
    pub gzip: usize,
    pub cache_control: String,
}

/// A page and what its first load fetched.
pub struct FirstLoad {
    pub page: String,
    pub has_islands: bool,
    pub assets: Vec<Asset>,
}

impl FirstLoad {
    pub fn brotli(&self) -> usize {
        self.assets.iter().map(|a| a.brotli).sum()
    }
}

/// The first load of each of `pages`, as an anonymous visitor.
pub async fn measure(api: &Api, pages: &[String]) -> Vec<FirstLoad> {
    let mut loads = Vec::new();
    for page in pages {
        loads.push(measure_one(api, page).await);
    }
    loads
}

async fn measure_one(api: &Api, page: &str) -> FirstLoad {
    let html = String::from_utf8(fetch(api, page, "identity").await.0).unwrap_or_default();
    let has_islands = html.contains("<leptos-island");
    let mut paths = vec![page.to_string()];
    for piece in html.split("/pkg/").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>' | ')'))
            .collect();
        let path = format!("/pkg/{name}");
        let bundle = name.ends_with(".js") || name.ends_with(".wasm");
        if !name.is_empty() && !paths.contains(&path) && (has_islands || !bundle) {
            paths.push(path);
        }
    }
    let mut assets = Vec::new();
    for path in paths {
        let (identity, cache_control) = fetch(api, &path, "identity").await;
        assets.push(Asset {
            identity: identity.len(),
            brotli: fetch(api, &path, "br").await.0.len(),
            gzip: fetch(api, &path, "gzip").await.0.len(),
            cache_control: String::from_utf8(cache_control).unwrap_or_default(),
            path,
        });
    }
    FirstLoad {
        page: page.to_string(),
        has_islands,
        assets,
    }
}

/// A table per page, as `bench/results.md` shows them.
pub fn render(loads: &[FirstLoad]) -> String {
    let mut w = String::new();
    for load in loads {
        let islands = if load.has_islands {
            "islands: the wasm bundle loads"
        } else {
            "no island: no wasm"
        };
        let _ = writeln!(w, "\n## First load of `{}` ({islands})\n", load.page);
        let _ = writeln!(
            w,
            "| asset | uncompressed | brotli | gzip | Cache-Control |\n|---|---|---|---|---|"
        );
        for a in &load.assets {
            let _ = writeln!(
                w,
                "| `{}` | {} | {} | {} | {} |",
                a.path,
                kb(a.identity),
                kb(a.brotli),
                kb(a.gzip),
                a.cache_control
            );
        }
        let total = |f: fn(&Asset) -> usize| load.assets.iter().map(f).sum::<usize>();
        let _ = writeln!(
            w,
            "| **total** | {} | {} | {} | |",
            kb(total(|a| a.identity)),
            kb(total(|a| a.brotli)),
            kb(total(|a| a.gzip))
        );
    }
    w
}

/// The target line of each page, and whether it holds.
pub fn targets(loads: &[FirstLoad]) -> Vec<(String, bool)> {
    loads
        .iter()
        .map(|load| {
            (
                format!(
                    "first load of `{}` ≤ {} with brotli: {}",
                    load.page,
                    kb(MOST_BROTLI_BYTES),
                    kb(load.brotli())
                ),
                load.brotli() <= MOST_BROTLI_BYTES,
            )
        })
        .collect()
}

pub fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// The body as sent (the client does not decompress) and its Cache-Control header.
async fn fetch(api: &Api, path: &str, encoding: &str) -> (Vec<u8>, Vec<u8>) {
    let response = api
        .client
        .get(api.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .expect("fetching an asset");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    (response.bytes().await.unwrap().to_vec(), cache)
}
