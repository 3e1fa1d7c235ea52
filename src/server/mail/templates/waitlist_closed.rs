use super::document::{para, Document};
use super::{email, Attendee};
use crate::server::mail::OutgoingEmail;

/// Why a waitlist closed with customers still in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistClosedBecause {
    /// The session started and no seat opened up.
    Started,
    /// The specialist cancelled the session.
    SlotCancelled,
}

/// To a customer still waiting when the line closes.
pub fn waitlist_closed(
    to: &Attendee,
    title: &str,
    waitlist_id: &str,
    because: WaitlistClosedBecause,
) -> OutgoingEmail {
    let what = match because {
        WaitlistClosedBecause::Started => format!(
            "The session \"{title}\" has started; the waitlist is closed. No seat opened up in time, sorry."
        ),
        WaitlistClosedBecause::SlotCancelled => format!(
            "The specialist cancelled the session \"{title}\", so its waitlist is closed and your place in line with it."
        ),
    };
    let document = Document::new(
        format!("The waitlist for \"{title}\" is closed"),
        vec![
            para(format!("Hello {},", to.name)),
            para(what),
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
