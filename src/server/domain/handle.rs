//! A specialist's handle: the name in their page's address, `/s/<handle>`.

use crate::error::AppError;

/// Words that name the app's own pages and routes, or would mislead.
const RESERVED: [&str; 36] = [
    "about",
    "account",
    "admin",
    "api",
    "app",
    "appointments",
    "assets",
    "calendar",
    "dev",
    "feedback",
    "healthz",
    "help",
    "integrations",
    "login",
    "logout",
    "mail",
    "me",
    "metrics",
    "new",
    "null",
    "official",
    "pkg",
    "readyz",
    "register",
    "root",
    "s",
    "security",
    "settings",
    "signup",
    "slots",
    "specialist",
    "specialistly",
    "specialists",
    "static",
    "support",
    "www",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle(String);

impl Handle {
    /// 3–30 of `a-z`, `0-9` and `-` (not first or last, never two together); lowercased;
    /// reserved words refused.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let handle = raw.trim().to_ascii_lowercase();
        let allowed = handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(3..=30).contains(&handle.len())
            || !allowed
            || handle.starts_with('-')
            || handle.ends_with('-')
            || handle.contains("--")
        {
            return Err(AppError::bad_request(
                "handle must be 3 to 30 letters (a-z), digits or single hyphens inside, such as dr-maria-lopez",
            ));
        }
        if RESERVED.contains(&handle.as_str()) {
            return Err(AppError::bad_request(format!(
                "\"{handle}\" is reserved: please choose another handle"
            )));
        }
        Ok(Self(handle))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_short_plain_and_not_reserved() {
        assert_eq!(
            Handle::parse(" Dr-Maria-Lopez ").unwrap().as_str(),
            "dr-maria-lopez"
        );
        assert_eq!(Handle::parse("abc").unwrap().as_str(), "abc");
        assert!(Handle::parse(&"a".repeat(30)).is_ok());
        for bad in [
            "ab",
            &"a".repeat(31),
            "-abc",
            "abc-",
            "a--b",
            "a_b",
            "abc!",
            "ümlaut",
            "a b c",
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
        assert!(Handle::parse("admin")
            .unwrap_err()
            .message
            .contains("reserved"));
        assert!(Handle::parse("API")
            .unwrap_err()
            .message
            .contains("reserved"));
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]), "kept sorted");
    }
}
