use super::document::{para, Block, Document};
use super::{email, Attendee};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To an address someone asked a new password for: the link that sets one. Addressed to the
/// address alone, so the email is made the same way whether or not an account has it.
pub fn password_reset(to_email: &str, link_id: &str, link: &str) -> OutgoingEmail {
    let document = Document::new(
        "🔑 Reset your password".to_string(),
        vec![
            para("Hello,"),
            para("Someone (we hope you) asked to set a new password for the Specialistly account with this address. The link is valid for one hour and works once."),
            Block::Button {
                label: "Choose a new password",
                url: link.to_string(),
            },
            para("If you did not ask for it, ignore this email: your password stays as it is."),
        ],
    );
    let to = Attendee {
        name: String::new(),
        email: to_email.to_string(),
        timezone: "UTC".into(),
    };
    email(keys::password_reset(link_id), &to, document, vec![])
}

/// To the account's owner once a reset link set a new password: every session and API token
/// ended with it.
pub fn password_changed(to: &Attendee, link_id: &str) -> OutgoingEmail {
    let document = Document::new(
        "🔒 Your password was changed".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para("The password of your Specialistly account was just changed with a reset link. You were signed out everywhere, and your API tokens were revoked."),
            para("If this was not you, reset your password again at once from the login page and tell us."),
        ],
    );
    email(keys::password_changed(link_id), to, document, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_carries_its_link_and_a_change_says_what_ended() {
        let e = password_reset(
            "ann@example.com",
            "h1",
            "https://book.example.com/reset-password?token=abc",
        );
        assert_eq!(e.subject, "🔑 Reset your password");
        assert_eq!(e.to, "ann@example.com");
        assert!(e
            .text
            .contains("\nhttps://book.example.com/reset-password?token=abc\n"));
        assert!(e.text.contains("one hour"));
        assert_eq!(e.idempotency_key, keys::password_reset("h1"));
        let to = Attendee {
            name: "Ann".into(),
            email: "ann@example.com".into(),
            timezone: "UTC".into(),
        };
        let changed = password_changed(&to, "h1");
        assert!(changed.text.contains("signed out everywhere"));
        assert_eq!(changed.idempotency_key, keys::password_changed("h1"));
    }
}
