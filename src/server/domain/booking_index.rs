/// A booking's 0-based position in its slot, as it appears in a URL segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BookingIndex(u32);

impl BookingIndex {
    /// Plain decimal digits only: no sign, no spaces, no exponent, within `u32`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().map(Self)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_indexes_are_plain_non_negative_integers() {
        assert_eq!(BookingIndex::parse("0").map(BookingIndex::get), Some(0));
        assert_eq!(BookingIndex::parse("12").map(BookingIndex::get), Some(12));
        for bad in ["", "-1", "1.5", "abc", "1e3", " 1", "+1", "99999999999999"] {
            assert_eq!(BookingIndex::parse(bad), None, "{bad:?}");
        }
    }
}
