use super::document::{para, para_strong, Block, Document, Span};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;
use crate::time_fmt;

/// To the specialist, when a customer books.
pub fn specialist_notification(a: &Appointment) -> OutgoingEmail {
    let date = a.date_for(&a.specialist);
    let time = time_fmt::time_in(a.starts_at, &a.specialist.timezone);
    let document = Document::new(
        format!("🎯 New Appointment: {} on {date} at {time}", a.customer.name),
        [
            vec![
            para(format!("Hello {},", a.specialist.name)),
            para_strong("A new consulting session has been booked with ", &a.customer.name, "."),
            ],
            a.schedule(
                "📅 SESSION DETAILS",
                &a.specialist,
                vec![("Customer", format!("{} ({})", a.customer.name, a.customer.email))],
            ),
            vec![
            Block::Heading("🎥 NEXT STEP: CREATE ZOOM MEETING"),
            para("Log in to Specialistly to create the Zoom meeting link shortly before the appointment. Once created, the customer will automatically receive the meeting details."),
            Block::Paragraph(vec![
                Span::Strong("Recommended:".into()),
                Span::Text(" Create the meeting 30 minutes before the scheduled time.".into()),
            ]),
        ],
        ]
        .concat(),
    );
    email(
        keys::specialist_notification(&a.booking_id),
        &a.specialist,
        document,
        vec![a.specialist_invite(a.booking_sequence())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn uses_the_specialists_zone() {
        let e = specialist_notification(&appointment());
        // 12:00 UTC is 08:00 in New York (already on summer time since 8 Mar).
        assert!(
            e.subject
                .ends_with("on Sun 29 Mar 2026 at 08:00 (America/New_York)"),
            "{}",
            e.subject
        );
        assert!(e.text.contains("Customer: "));
        assert!(e.text.contains("(bob@example.com)"));
        assert!(e
            .text
            .contains("Recommended: Create the meeting 30 minutes before the scheduled time."));
        assert_eq!(e.to, "ann@example.com");
        assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
        assert!(!e.html.contains("<script>"));
        // The customer's manage link is theirs alone: not in the specialist's email or invite.
        let a = appointment();
        let seat = a.links.token(&a.calendar_id);
        assert!(!e.text.contains(&seat) && !e.html.contains(&seat));
        assert!(!e.attachments[0]
            .content
            .replace("\r\n ", "")
            .contains(&seat));
    }
}
