use super::document::{para, para_strong, Block, Document};
use super::{email, Attendee};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To the specialist, when one of their webhook endpoints was turned off: it answered 410, or
/// deliveries to it failed for a day.
pub fn webhook_disabled(
    to: &Attendee,
    endpoint_id: &str,
    url: &str,
    reason: &str,
    manage_url: &str,
) -> OutgoingEmail {
    let document = Document::new(
        "⚠️ A webhook endpoint was turned off".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para_strong("We stopped sending webhooks to ", url, "."),
            para(format!("Why: {reason}.")),
            para("Messages from now on are not sent to it. Once the endpoint works again, turn it back on and replay what it missed from its delivery log."),
            Block::Button {
                label: "Open your webhooks",
                url: manage_url.to_string(),
            },
        ],
    );
    email(
        keys::webhook_disabled(endpoint_id, chrono::Utc::now().timestamp()),
        to,
        document,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_endpoint_and_the_reason() {
        let to = Attendee {
            name: "Sara".into(),
            email: "sara@example.com".into(),
            timezone: "UTC".into(),
        };
        let e = webhook_disabled(
            &to,
            "ep1",
            "https://hooks.example.com/in",
            "it answered 410 Gone",
            "https://x.test/specialist/webhooks",
        );
        assert_eq!(e.to, "sara@example.com");
        assert!(e.text.contains("https://hooks.example.com/in"));
        assert!(e.text.contains("it answered 410 Gone"));
        assert!(e.html.contains("https://x.test/specialist/webhooks"));
        assert!(e.idempotency_key.starts_with("webhook-disabled:ep1:"));
    }
}
