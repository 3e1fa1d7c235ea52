use serde::Serialize;

use crate::error::AppError;

/// An email address, trimmed and lowercased. Accepted only when SurrealDB's
/// `string::is_email` (the `addr` crate) accepts it too, with a dot in the domain and no
/// characters that could break a mail header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let email = raw.trim().to_lowercase();
        let safe = email.len() <= 254
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        // A host name with a dot inside, not a bare or fully-qualified (trailing dot) one.
        let domain_ok = email.rsplit_once('@').is_some_and(|(_, domain)| {
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
        if safe && domain_ok && addr::parse_email_address(&email).is_ok() {
            Ok(Self(email))
        } else {
            Err(AppError::bad_request(format!(
                "{field} must be a valid email address"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let e = Email::parse("  Ann@Example.COM ", "email").unwrap();
        assert_eq!(e.as_str(), "ann@example.com");
    }

    #[test]
    fn what_the_database_would_refuse_is_refused_here_naming_the_field() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.y",
            "ann@localhost",
            "a b@x.y",
            "a@x.y\r\nBcc: z@z.z",
            "a@b..com",
            "a@.b.com",
            "a@b.com.",
            "a@-b.com",
            "<a@b.com>",
        ] {
            let err = Email::parse(bad, "email").unwrap_err();
            assert_eq!(err.status, 400, "{bad:?}");
            assert!(err.message.starts_with("email "), "{bad:?}");
        }
    }

    #[test]
    fn ordinary_addresses_pass() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "x_y-z@d-e.io"] {
            assert!(Email::parse(good, "email").is_ok(), "{good}");
        }
    }
}
