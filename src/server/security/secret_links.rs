//! Secrets carried by links (email confirmation, feedback, calendar feeds): only their
//! SHA-256 is stored, so a leaked database opens none of them.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// The routes whose last path segment is a link's secret (a calendar feed keeps its `.ics`).
const SECRET_SEGMENT_ROUTES: [&str; 3] = ["/calendar/", "/api/feedback/", "/feedback/"];

/// The stored form of a link's secret: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new secret for a link: 40 letters and digits (two record keys' worth of randomness).
pub fn new_token() -> String {
    format!(
        "{}{}",
        crate::server::db::new_key(),
        crate::server::db::new_key()
    )
}

/// The hash of a token as [`new_token`] makes them; `None` for anything else, which no
/// stored hash can match.
pub fn hash_of_issued(token: &str) -> Option<String> {
    let plausible =
        !token.is_empty() && token.len() <= 100 && token.bytes().all(|b| b.is_ascii_alphanumeric());
    plausible.then(|| token_hash(token))
}

/// `path` as logs may show it: the secret segment of a secret link's route replaced, so a
/// request's span (printed with any event inside it, a 5xx or a debug line) never carries it.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    for route in SECRET_SEGMENT_ROUTES {
        if let Some(secret) = path.strip_prefix(route).filter(|rest| !rest.is_empty()) {
            let suffix = if secret.ends_with(".ics") { ".ics" } else { "" };
            return Cow::Owned(format!("{route}<secret>{suffix}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_link_paths_are_logged_without_their_secret() {
        let token = new_token();
        for (path, logged) in [
            (format!("/calendar/{token}.ics"), "/calendar/<secret>.ics"),
            (format!("/api/feedback/{token}"), "/api/feedback/<secret>"),
            (format!("/feedback/{token}"), "/feedback/<secret>"),
            (format!("/feedback/{token}/more"), "/feedback/<secret>"),
        ] {
            assert_eq!(loggable_path(&path), logged);
        }
        for path in [
            "/api/feedback",
            "/slots",
            "/calendar/",
            "/api/calendar/token",
        ] {
            assert_eq!(loggable_path(path), path);
        }
    }
}
