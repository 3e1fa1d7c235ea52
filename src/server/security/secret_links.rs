//! Secrets carried by links (email confirmation, feedback, calendar feeds): only their
//! SHA-256 is stored, so a leaked database opens none of them.

use sha2::{Digest, Sha256};

/// The stored form of a link's secret: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new secret for a link: 40 letters and digits (two record keys' worth of randomness).
pub fn new_token() -> String {
    crate::server::db::new_key() + &crate::server::db::new_key()
}

/// The hash of a token as [`new_token`] makes them; `None` for anything else, which no
/// stored hash can match.
pub fn hash_of_issued(token: &str) -> Option<String> {
    let plausible =
        !token.is_empty() && token.len() <= 100 && token.bytes().all(|b| b.is_ascii_alphanumeric());
    plausible.then(|| token_hash(token))
}
