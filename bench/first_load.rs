//! What a first visit to `/slots` downloads: the HTML and every asset it names, as served
//! with brotli, with gzip and uncompressed.

use crate::api::Api;

pub struct Asset {
    pub path: String,
    pub identity: usize,
    pub brotli: usize,
    pub gzip: usize,
    pub cache_control: String,
}

pub async fn measure(api: &Api) -> Vec<Asset> {
    let html = String::from_utf8(fetch(api, "/slots", "identity").await.0).unwrap_or_default();
    let mut paths = vec!["/slots".to_string()];
    for piece in html.split("/pkg/").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>' | ')'))
            .collect();
        let path = format!("/pkg/{name}");
        if !name.is_empty() && !paths.contains(&path) {
            paths.push(path);
        }
    }
    // The wasm module is named by the JS loader rather than the HTML when not preloaded.
    if !paths.iter().any(|p| p.ends_with(".wasm")) {
        if let Some(js) = paths.iter().find(|p| p.ends_with(".js")) {
            paths.push(js.replace(".js", "_bg.wasm"));
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
    assets
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
