use crate::error::AppError;

/// An IANA time zone name such as `Europe/Berlin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            AppError::bad_request(format!(
                "{field} must be an IANA time zone such as Europe/Berlin"
            ))
        })
    }

    /// An optional field: absent or blank is `None`.
    pub fn parse_optional(raw: Option<&str>, field: &str) -> Result<Option<Self>, AppError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(tz) => Self::parse(tz, field).map(Some),
        }
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_pass_and_others_name_the_field() {
        assert_eq!(
            TimeZone::parse(" Europe/Berlin ", "timezone")
                .unwrap()
                .name(),
            "Europe/Berlin"
        );
        assert_eq!(
            TimeZone::parse_optional(Some(" "), "timezone").unwrap(),
            None
        );
        let err = TimeZone::parse("Mars/Base", "timezone").unwrap_err();
        assert!(err.message.starts_with("timezone"));
    }
}
