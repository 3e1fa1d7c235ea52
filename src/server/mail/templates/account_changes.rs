use super::document::{para, Block, Document};
use super::{email, Attendee};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To the new address of an account: the link that makes it the account's.
pub fn email_change_confirm(to: &Attendee, link_id: &str, link: &str) -> OutgoingEmail {
    let document = Document::new(
        "📧 Confirm your new email address".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para("You asked to use this address for your Specialistly account. Confirm it with the link; it works once, for 24 hours."),
            Block::Button {
                label: "Use this address",
                url: link.to_string(),
            },
            para("If you did not ask for it, ignore this email: nothing changes."),
        ],
    );
    email(keys::email_change(link_id, "confirm"), to, document, vec![])
}

/// To the old address, when a change away from it is asked for.
pub fn email_change_requested(old: &Attendee, new_email: &str, link_id: &str) -> OutgoingEmail {
    let document = Document::new(
        "🔔 A change of your email address was requested".to_string(),
        vec![
            para(format!("Hello {},", old.name)),
            para(format!("Someone signed in to your Specialistly account asked to change its address to {new_email}. It changes once that address confirms it.")),
            para("If this was not you, change your password at once (Account page, or \"Forgot your password?\" on the login page): that ends every other session."),
        ],
    );
    email(
        keys::email_change(link_id, "requested"),
        old,
        document,
        vec![],
    )
}

/// To the old address, once the new one confirmed the change.
pub fn email_changed(old: &Attendee, new_email: &str, link_id: &str) -> OutgoingEmail {
    let document = Document::new(
        "✉️ Your email address was changed".to_string(),
        vec![
            para(format!("Hello {},", old.name)),
            para(format!("Your Specialistly account now uses {new_email}. Emails about your bookings go there from now on.")),
            para("If this was not you, reply to this email at once."),
        ],
    );
    email(
        keys::email_change(link_id, "changed"),
        old,
        document,
        vec![],
    )
}

/// To the address of an account just deleted.
pub fn account_deleted(to: &Attendee, user_id: &str, cancelled: usize) -> OutgoingEmail {
    let what = match cancelled {
        0 => "You had no upcoming bookings or sessions.".to_string(),
        1 => "One upcoming booking or session was cancelled, and the other side was told."
            .to_string(),
        n => format!(
            "{n} upcoming bookings or sessions were cancelled, and the other side was told."
        ),
    };
    let document = Document::new(
        "👋 Your Specialistly account was deleted".to_string(),
        vec![
            para(format!("Hello {},", to.name)),
            para("Your account is deleted, as you asked. Your name, address and notes are gone from it; past bookings show \"Deleted user\"."),
            para(what),
            para("You are welcome back at any time: this address can register again."),
        ],
    );
    email(keys::account_deleted(user_id), to, document, vec![])
}
