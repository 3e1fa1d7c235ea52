use super::document::{para, para_strong, Block, Document};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// Who cancelled, and why.
pub struct Cancellation<'a> {
    pub by_specialist: bool,
    pub reason: Option<&'a str>,
}

fn reason_blocks(c: &Cancellation<'_>) -> Vec<Block> {
    match c.reason {
        Some(r) => vec![Block::Heading("💬 REASON"), para(r.to_string())],
        None => vec![],
    }
}

/// To the customer: the booking is off, and their calendar event is cancelled.
pub fn cancelled_customer(a: &Appointment, c: &Cancellation<'_>) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    let who = if c.by_specialist {
        format!("{} has cancelled", a.specialist.name)
    } else {
        "You have cancelled".to_string()
    };
    let document = Document::new(
        format!("❌ Appointment Cancelled: Consulting Session on {date}"),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para(format!("{who} your consulting session \"{}\".", a.slot_title)),
            ],
            a.schedule("📅 CANCELLED APPOINTMENT", &a.customer, vec![]),
            reason_blocks(c),
            vec![para(
                "The attached calendar update removes the event. You can book another slot at any time.",
            )],
            a.manage_blocks(),
        ]
        .concat(),
    );
    email(
        keys::cancelled(&a.booking_id, "customer"),
        &a.customer,
        document,
        vec![a.cancellation()],
    )
}

/// To the specialist: a seat is free again.
pub fn cancelled_specialist(a: &Appointment, c: &Cancellation<'_>) -> OutgoingEmail {
    let date = a.date_for(&a.specialist);
    let who = if c.by_specialist {
        "You have"
    } else {
        "Your customer has"
    };
    let document = Document::new(
        format!("❌ Booking Cancelled: {} on {date}", a.customer.name),
        [
            vec![
                para(format!("Hello {},", a.specialist.name)),
                para_strong(
                    &format!("{who} cancelled the booking of "),
                    &a.customer.name,
                    ".",
                ),
            ],
            a.schedule(
                "📅 CANCELLED BOOKING",
                &a.specialist,
                vec![(
                    "Customer",
                    format!("{} ({})", a.customer.name, a.customer.email),
                )],
            ),
            reason_blocks(c),
            vec![para(
                "The seat is free again; any Zoom meeting for this booking is deleted.",
            )],
        ]
        .concat(),
    );
    email(
        keys::cancelled(&a.booking_id, "specialist"),
        &a.specialist,
        document,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn the_customer_gets_the_reason_and_a_calendar_cancellation_above_every_earlier_invite() {
        let mut a = appointment();
        a.schedule_version = 1;
        let c = Cancellation {
            by_specialist: true,
            reason: Some("I am ill, sorry"),
        };
        let e = cancelled_customer(&a, &c);
        assert!(e.subject.starts_with("❌ Appointment Cancelled"));
        assert!(e.text.contains("💬 REASON\nI am ill, sorry"));
        assert!(e.text.contains("Dr <b>Ann</b> & Co has cancelled"));
        let ics = &e.attachments[0];
        assert!(ics.content_type.contains("method=CANCEL"));
        assert!(ics.content.contains("METHOD:CANCEL\r\n"));
        assert!(ics.content.contains("STATUS:CANCELLED\r\n"));
        assert!(ics.content.contains("UID:booking-b1@specialistly\r\n"));
        // Invites of version 1 carried 2 (booking) and 3 (meeting): the cancellation is 4.
        assert!(ics.content.contains("SEQUENCE:4\r\n"));
        let s = cancelled_specialist(
            &a,
            &Cancellation {
                by_specialist: false,
                reason: None,
            },
        );
        assert!(s.text.contains("Your customer has cancelled"));
        assert!(!s.text.contains("REASON"));
        assert_eq!(s.to, "ann@example.com");
    }
}
