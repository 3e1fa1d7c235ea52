use super::document::{para, Block, Document};
use super::{email, Attendee};
use crate::model::Role;
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To a new account: the link that confirms its address. A specialist is told what confirming
/// grants: their meetings are hosted by the Zoom user with this address.
pub fn email_confirmation(to: &Attendee, role: Role, link_id: &str, link: &str) -> OutgoingEmail {
    let what = match role {
        Role::Specialist => "This is a specialist account: once you confirm, the Zoom meetings of its bookings are created with this address as their host.",
        Role::Customer => "This is a customer account, for booking consulting sessions.",
    };
    let document = Document::new(
        "📧 Confirm your email address".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para("Please confirm that this is your email address. The link is valid for 48 hours and works once."),
            para(what),
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
        let e = email_confirmation(
            &to,
            Role::Specialist,
            "h1",
            "https://book.example.com/verify-email?token=abc",
        );
        assert_eq!(e.subject, "📧 Confirm your email address");
        assert!(e
            .text
            .contains("\nhttps://book.example.com/verify-email?token=abc\n"));
        assert!(e
            .html
            .contains("href=\"https://book.example.com/verify-email?token=abc\""));
        assert!(e.text.contains("specialist account"), "{}", e.text);
        assert_eq!(e.idempotency_key, keys::email_confirmation("h1"));
    }
}
