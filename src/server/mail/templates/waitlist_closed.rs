use super::document::{para, Document};
use super::{email, Attendee};
use crate::server::mail::OutgoingEmail;

/// To a customer still waiting when the session starts.
pub fn waitlist_closed(to: &Attendee, title: &str, waitlist_id: &str) -> OutgoingEmail {
    let document = Document::new(
        format!("The waitlist for \"{title}\" is closed"),
        vec![
            para(format!("Hello {},", to.name)),
            para(format!(
                "The session \"{title}\" has started; the waitlist is closed. No seat opened up in time, sorry."
            )),
            para("You can book another slot at any time."),
        ],
    );
    email(
        format!("waitlist:{waitlist_id}:closed"),
        to,
        document,
        vec![],
    )
}
