//! Free text typed by users: names and titles are one line, longer texts are bounded.

use crate::error::AppError;

/// Trimmed `raw` when it is one line of 1 to `max` characters that shows as it reads.
fn one_line(raw: &str, max: usize, field: &str) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::bad_request(format!(
            "{field} is required: one line of at most {max} characters"
        )));
    }
    if value.chars().any(is_invisible_or_separator) {
        return Err(AppError::bad_request(format!(
            "{field} must not contain invisible formatting characters (such as direction overrides or zero-width spaces) or line separators"
        )));
    }
    Ok(value.to_string())
}

/// Unicode's format characters (category Cf: direction overrides and isolates, zero-width
/// spaces and joiners, the byte-order mark, tags…) and the line and paragraph separators (Zl,
/// Zp). In a name or title they reorder or hide text in subjects, invites and Zoom topics.
fn is_invisible_or_separator(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Trimmed `raw`, or `None` when blank; at most `max` characters (line breaks allowed).
fn bounded(raw: Option<&str>, max: usize, field: &str) -> Result<Option<String>, AppError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(AppError::bad_request(format!(
            "{field} must be at most {max} characters"
        ))),
        other => Ok(other.map(str::to_string)),
    }
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_type!(
    /// A person's name as shown in emails and on pages: one line, 1 to 100 characters.
    PersonName
);
text_type!(
    /// A slot's title: one line, 1 to 120 characters.
    SlotTitle
);
text_type!(
    /// A slot's description: at most 2,000 characters.
    Description
);
text_type!(
    /// A customer's notes for the specialist: at most 1,000 characters.
    Notes
);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        one_line(raw, Self::MAX_CHARS, field).map(Self)
    }
}

impl SlotTitle {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        one_line(raw, Self::MAX_CHARS, field).map(Self)
    }
}

impl Description {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: Option<&str>, field: &str) -> Result<Option<Self>, AppError> {
        Ok(bounded(raw, Self::MAX_CHARS, field)?.map(Self))
    }
}

impl Notes {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: Option<&str>, field: &str) -> Result<Option<Self>, AppError> {
        Ok(bounded(raw, Self::MAX_CHARS, field)?.map(Self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_trimmed_line_of_at_most_100_characters() {
        assert_eq!(
            PersonName::parse("  Ann Lee ", "name").unwrap().as_str(),
            "Ann Lee"
        );
        assert!(PersonName::parse(&"é".repeat(100), "name").is_ok());
        for bad in ["", "   ", "Ann\nBcc: x", "Ann\u{0}", &"a".repeat(101)] {
            let err = PersonName::parse(bad, "customerName").unwrap_err();
            assert!(err.message.starts_with("customerName"), "{bad:?}");
        }
    }

    /// Direction overrides, zero-width characters, the BOM, tags and line separators reorder
    /// or hide text where names and titles are shown; emoji, accents and scripts that join
    /// letters (which need ZWJ only in emoji sequences) are welcome.
    #[test]
    fn names_and_titles_refuse_invisible_formatting_and_separators() {
        for bad in [
            "Specialistly\u{202E}troppuS",
            "Ann\u{200B}Lee",
            "\u{2066}Ann\u{2069}",
            "Ann\u{2028}Lee",
            "Ann\u{2029}Lee",
            "\u{FEFF}Ann",
            "Ann\u{E0041}",
            "Ann\u{00AD}Lee",
        ] {
            let err = PersonName::parse(bad, "customerName").unwrap_err();
            assert!(
                err.message.contains("invisible"),
                "{bad:?}: {}",
                err.message
            );
            assert!(SlotTitle::parse(bad, "title").is_err(), "{bad:?}");
        }
        for good in [
            "Zoë Ångström",
            "李小龍",
            "محمد",
            "Café ☕ chat",
            "Ana-María O'Neil",
        ] {
            assert!(PersonName::parse(good, "name").is_ok(), "{good:?}");
        }
    }

    #[test]
    fn titles_allow_120_characters() {
        assert!(SlotTitle::parse(&"t".repeat(120), "title").is_ok());
        assert!(SlotTitle::parse(&"t".repeat(121), "title").is_err());
        assert!(SlotTitle::parse("  ", "title")
            .unwrap_err()
            .message
            .starts_with("title"));
    }

    #[test]
    fn long_texts_are_optional_and_bounded() {
        assert_eq!(Notes::parse(Some("  "), "additionalNotes").unwrap(), None);
        assert_eq!(Notes::parse(None, "additionalNotes").unwrap(), None);
        assert_eq!(
            Notes::parse(Some(" line one\nline two "), "additionalNotes")
                .unwrap()
                .unwrap()
                .as_str(),
            "line one\nline two"
        );
        assert!(Notes::parse(Some(&"n".repeat(1001)), "additionalNotes").is_err());
        assert!(Description::parse(Some(&"d".repeat(2000)), "description").is_ok());
        let err = Description::parse(Some(&"d".repeat(2001)), "description").unwrap_err();
        assert!(err.message.starts_with("description"));
    }
}
