//! The HTTP client that sends webhook messages: short timeouts, at most three redirects,
//! and with `public_only` every address checked as names resolve and every redirect's URL.

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;

use crate::server::security::public_address::{refusal, PublicOnlyResolver};

/// How long one attempt may take in all.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

pub fn build(public_only: bool) -> reqwest::Client {
    build_for(
        public_only,
        concat!("Specialistly-Webhooks/", env!("CARGO_PKG_VERSION")),
    )
}

/// The same rules for any request to an address a user gave (a calendar to read, say).
pub fn build_for(public_only: bool, user_agent: &str) -> reqwest::Client {
    let redirects = Policy::custom(move |attempt| {
        if attempt.previous().len() >= 3 {
            return attempt.error("more than 3 redirects");
        }
        match refusal(attempt.url(), public_only) {
            Some(why) => attempt.error(format!("redirected to a refused URL: {why}")),
            None => attempt.follow(),
        }
    });
    let mut builder = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(redirects)
        // Straight to the endpoint: through a proxy from the environment (`HTTPS_PROXY`,
        // `ALL_PROXY`) only the proxy's address would be checked (G8).
        .no_proxy()
        .user_agent(user_agent);
    if public_only {
        builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
    }
    builder
        .build()
        .expect("the webhook client's settings are valid")
}

/// What a failed request's innermost cause says (a refused address, a certificate, a reset),
/// at most `max_chars` of it.
pub fn innermost_cause(e: &reqwest::Error, max_chars: usize) -> Option<String> {
    let mut source = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    innermost.map(|c| c.chars().take(max_chars).collect())
}
