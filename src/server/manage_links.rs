//! Manage links: the secret address of one seat's page (view, confirm, cancel, reschedule),
//! in every email to the booking's customer, account or guest.
//!
//! A link names the seat (the id of the booking it was first made as: a moved booking
//! continues its predecessor's seat, as its calendar event does) and an HMAC-SHA256 of it
//! under a key derived from the server's secret. The database holds nothing of it, so a copy
//! of the database opens no seat, and every email can carry the link whenever it is rendered
//! (a reminder a day later, the meeting's email). It works until 30 days after the
//! appointment; a forged or altered link names no seat.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long after the appointment's end its link still works.
pub const VALID_DAYS_AFTER: i64 = 30;

/// Where a link leads, under `APP_BASE_URL`.
pub const PATH: &str = "/manage/";

/// The link key from the server's secret (never the secret itself).
pub fn derive_key(secret: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"specialistly manage links v1");
    mac.finalize().into_bytes().into()
}

/// Makes and reads manage links.
#[derive(Clone)]
pub struct ManageLinks {
    base_url: String,
    key: [u8; 32],
}

impl std::fmt::Debug for ManageLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManageLinks")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ManageLinks {
    pub fn new(base_url: &str, key: [u8; 32]) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
        }
    }

    fn mac(&self, seat: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(seat.as_bytes());
        mac
    }

    /// The token of seat `seat`: `<seat>.<mac>`.
    pub fn token(&self, seat: &str) -> String {
        let tag = URL_SAFE_NO_PAD.encode(self.mac(seat).finalize().into_bytes());
        format!("{seat}.{tag}")
    }

    /// The whole link of seat `seat`.
    pub fn url(&self, seat: &str) -> String {
        format!("{}{PATH}{}", self.base_url, self.token(seat))
    }

    /// The seat a token names, when its MAC is right (compared in constant time).
    pub fn seat_of(&self, token: &str) -> Option<String> {
        let (seat, tag) = token.split_once('.')?;
        if !crate::server::db::is_valid_key(seat) {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(seat).verify_slice(&tag).ok()?;
        Some(seat.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> ManageLinks {
        ManageLinks::new(
            "https://x.test/",
            derive_key(b"a secret of thirty-two bytes or more"),
        )
    }

    #[test]
    fn a_link_names_its_seat_and_nothing_else() {
        let links = links();
        let token = links.token("b1");
        assert_eq!(links.seat_of(&token).as_deref(), Some("b1"));
        assert!(links.url("b1").starts_with("https://x.test/manage/b1."));
        // Another seat's MAC, an altered MAC, a seat swapped under a MAC, another key.
        let other = links.token("b2");
        let (_, other_tag) = other.split_once('.').unwrap();
        assert_eq!(links.seat_of(&format!("b1.{other_tag}")), None);
        let mut altered = token.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(links.seat_of(&altered), None);
        let elsewhere = ManageLinks::new("https://x.test", derive_key(b"another secret"));
        assert_eq!(elsewhere.seat_of(&token), None);
        for junk in ["", ".", "b1", "b1.", "../x.abc", "b1.%%%"] {
            assert_eq!(links.seat_of(junk), None, "{junk}");
        }
    }
}
