//! Where a recording may be downloaded from. The address comes from a webhook body, which
//! anyone holding the (shared) webhook secret can write, and the download token goes with it
//! (G11): only Zoom's own hosts, and with `public_only` only `https` to public addresses.

use std::sync::Arc;

use reqwest::redirect::Policy;
use reqwest::Url;

use crate::server::security::public_address::{refusal, PublicOnlyResolver};

/// Zoom's download hosts: `zoom.us` and its subdomains, and Zoom for Government's.
pub const DEFAULT_HOSTS: &str = "zoom.us,zoomgov.com";

#[derive(Debug, Clone)]
pub struct DownloadRule {
    /// Host names a download may start at (each also covers its subdomains).
    hosts: Vec<String>,
    public_only: bool,
}

impl DownloadRule {
    pub fn new(hosts: Vec<String>, public_only: bool) -> Self {
        let hosts = hosts
            .into_iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Self { hosts, public_only }
    }

    /// Why `raw` may not be downloaded from, if it may not.
    pub fn refusal(&self, raw: &str) -> Option<String> {
        let Ok(url) = Url::parse(raw) else {
            return Some("the download address is not a URL".into());
        };
        if let Some(why) = refusal(&url, self.public_only) {
            return Some(format!("the download address is refused: {why}"));
        }
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let allowed = self.hosts.iter().any(|h| {
            host == *h
                || host
                    .strip_suffix(h.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        });
        (!allowed).then(|| format!("the download address is not at Zoom ({host})"))
    }

    /// The client downloads go through: with `public_only`, every name resolved and every
    /// redirect checked (Zoom redirects to its storage; the bearer token is not sent on to
    /// another host).
    pub fn client(&self, timeout: std::time::Duration) -> reqwest::Client {
        let public_only = self.public_only;
        let redirects = Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than 5 redirects");
            }
            match refusal(attempt.url(), public_only) {
                Some(why) => attempt.error(format!("redirected to a refused URL: {why}")),
                None => attempt.follow(),
            }
        });
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .redirect(redirects)
            .no_proxy();
        if public_only {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        builder.build().expect("building the HTTP client")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zoom() -> DownloadRule {
        DownloadRule::new(DEFAULT_HOSTS.split(',').map(str::to_string).collect(), true)
    }

    #[test]
    fn only_https_at_zoom_hosts_is_downloaded_from() {
        let rule = zoom();
        assert_eq!(rule.refusal("https://zoom.us/rec/download/abc"), None);
        assert_eq!(
            rule.refusal("https://us02web.zoom.us/rec/download/abc"),
            None
        );
        assert_eq!(rule.refusal("https://ZOOMGOV.com./rec/x"), None);
        for refused in [
            "http://zoom.us/rec/download/abc",
            "https://evilzoom.us/rec",
            "https://zoom.us.evil.example/rec",
            "https://169.254.169.254/latest/meta-data/",
            "https://localhost/rec",
            "file:///etc/passwd",
            "https://user:pw@zoom.us/rec",
            "not a url",
        ] {
            assert!(rule.refusal(refused).is_some(), "{refused}");
        }
    }

    #[test]
    fn tests_name_their_double_and_may_use_http_without_public_only() {
        let rule = DownloadRule::new(vec!["127.0.0.1".into()], false);
        assert_eq!(rule.refusal("http://127.0.0.1:4000/rec/f"), None);
        assert!(rule.refusal("http://localhost:4000/rec/f").is_some());
    }
}
