use super::document::{para, Block, Document};
use super::{email, Attendee};
use crate::server::mail::{keys, OutgoingEmail};

/// To a new account: the link that confirms its address.
pub fn email_confirmation(to: &Attendee, link_id: &str, link: &str) -> OutgoingEmail {
    let document = Document::new(
        "📧 Confirm your email address".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para("Please confirm that this is your email address. The link is valid for 48 hours and works once."),
            Block::Button {
                label: "Confirm my email address",
                url: link.to_string(),
            },
            para("If you did not create a Specialistly account, you can ignore this email."),
        ],
    );
    email(keys::email_confirmation(link_id), to, document, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_link_as_a_button_and_as_text() {
        let to = Attendee {
            name: "Ann".into(),
            email: "ann@example.com".into(),
            timezone: "UTC".into(),
        };
        let e = email_confirmation(&to, "h1", "https://book.example.com/verify-email?token=abc");
        assert_eq!(e.subject, "📧 Confirm your email address");
        assert!(e
            .text
            .contains("\nhttps://book.example.com/verify-email?token=abc\n"));
        assert!(e
            .html
            .contains("href=\"https://book.example.com/verify-email?token=abc\""));
        assert_eq!(e.idempotency_key, keys::email_confirmation("h1"));
    }
}
