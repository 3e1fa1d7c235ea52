use serde::{Deserialize, Serialize};

pub use crate::model::BookingStatus;

/// Where an outgoing email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_stored_as_the_lowercase_words_the_schema_asserts() {
        assert_eq!(
            serde_json::to_value(BookingStatus::Active).unwrap(),
            "active"
        );
        assert_eq!(
            serde_json::from_value::<OutboxStatus>("sent".into()).unwrap(),
            OutboxStatus::Sent
        );
        assert!(serde_json::from_value::<BookingStatus>("gone".into()).is_err());
    }
}
