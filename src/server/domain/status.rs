pub use crate::model::BookingStatus;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_stored_as_the_lowercase_words_the_schema_asserts() {
        assert_eq!(
            serde_json::to_value(BookingStatus::Active).unwrap(),
            "active"
        );
        assert!(serde_json::from_value::<BookingStatus>("gone".into()).is_err());
    }
}
