use super::document::{para, para_strong, Block, Document};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To the customer, when the booking is made.
pub fn customer_confirmation(a: &Appointment) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    confirmation(
        a,
        format!("✅ Appointment Confirmed: Consulting Session on {date}"),
        para_strong(
            "Your consulting session with ",
            &a.specialist.name,
            " has been confirmed!",
        ),
    )
}

/// To a customer on the waitlist, booked into a seat that opened up.
pub fn seat_opened(a: &Appointment) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    confirmation(
        a,
        format!("✅ A seat opened up: you are booked for {date}"),
        para_strong(
            "A seat opened up in your consulting session with ",
            &a.specialist.name,
            ", and you are booked. If you cannot come after all, you may still cancel within the next hour.",
        ),
    )
}

fn confirmation(a: &Appointment, subject: String, lead: Block) -> OutgoingEmail {
    let document = Document::new(
        subject,
        [
            vec![para(format!("Hello {},", a.customer.name)), lead],
        a.schedule("📅 APPOINTMENT DETAILS", &a.customer, vec![]),
        vec![
            Block::Heading("🎥 ZOOM MEETING LINK"),
            para("Your specialist will create the Zoom meeting link shortly before your appointment. You'll receive the meeting link via email as soon as it's available."),
            Block::Heading("✨ WHAT TO EXPECT"),
            Block::List(vec![
                "You'll receive a Zoom meeting link 30 minutes before the session",
                "Check your email (including spam folder) for the meeting details",
                "Join 5 minutes early to test your audio and video",
                "Make sure you have a stable internet connection",
            ]),
            para("If you need to reschedule or cancel, please do so at least 24 hours before the appointment."),
        ],
        a.manage_blocks(),
        ]
        .concat(),
    );
    email(
        keys::customer_confirmation(&a.booking_id),
        &a.customer,
        document,
        vec![a.invite(a.booking_sequence(), None)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn uses_the_customers_zone_and_the_spec_wording() {
        let e = customer_confirmation(&appointment());
        assert_eq!(
            e.subject,
            "✅ Appointment Confirmed: Consulting Session on Sun 29 Mar 2026"
        );
        assert_eq!(e.to, "bob@example.com");
        assert!(e.text.contains("Time: 14:00 (Europe/Berlin)"));
        assert!(e.text.contains("Duration: 45 minutes"));
        assert!(e.text.contains(
            "Your specialist will create the Zoom meeting link shortly before your appointment."
        ));
        assert!(e
            .text
            .contains("• You'll receive a Zoom meeting link 30 minutes before the session"));
        assert_eq!(e.idempotency_key, "booking:b1:customer-confirmation");
        assert_eq!(e.attachments.len(), 1);
        assert!(e.attachments[0].content.contains("SEQUENCE:0"));
    }

    #[test]
    fn user_strings_are_escaped_in_html_and_never_break_a_line() {
        let e = customer_confirmation(&appointment());
        assert!(!e.html.contains("<script>"), "{}", e.html);
        assert!(e.html.contains("&lt;script&gt;"));
        assert!(e
            .html
            .contains("<strong>Dr &lt;b&gt;Ann&lt;/b&gt; &amp; Co</strong>"));
        assert!(e
            .text
            .starts_with("Hello Bob \"Evil\" <script>alert(1)</script>  Bcc: x@y.z,\n"));
    }
}
