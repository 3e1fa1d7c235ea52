use super::document::{para, para_strong, Document};
use super::{email, meeting_blocks, Appointment, MeetingDetails};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To a booked customer whose appointment moved. The Zoom meeting, when there is one, moves
/// with it: the same link and password, repeated here and in the invite.
pub fn rescheduled(a: &Appointment, meeting: Option<&MeetingDetails>) -> OutgoingEmail {
    let meeting_blocks = meeting
        .map(|m| meeting_blocks("🎥 YOUR ZOOM MEETING (UNCHANGED)", m))
        .unwrap_or_default();
    let invite = match meeting {
        Some(m) => a.invite(a.booking_sequence() + 1, Some(&m.join_url)),
        None => a.invite(a.booking_sequence(), None),
    };
    let date = a.date_for(&a.customer);
    let document = Document::new(
        format!("🔁 Appointment Rescheduled: Consulting Session on {date}"),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para_strong(
                    "Your consulting session with ",
                    &a.specialist.name,
                    " has a new time.",
                ),
            ],
            a.schedule("📅 NEW APPOINTMENT DETAILS", &a.customer, vec![]),
            meeting_blocks,
            a.manage_blocks(),
            vec![para(
                "The attached calendar invite replaces the earlier one.",
            )],
        ]
        .concat(),
    );
    email(
        keys::rescheduled(&a.booking_id, a.schedule_version),
        &a.customer,
        document,
        vec![invite],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn a_new_version_gets_its_own_key_and_a_higher_sequence() {
        let mut a = appointment();
        a.schedule_version = 2;
        let e = rescheduled(&a, None);
        assert_eq!(e.idempotency_key, "booking:b1:rescheduled:2");
        assert!(e
            .text
            .contains("📅 NEW APPOINTMENT DETAILS\nDate: Sun 29 Mar 2026\n"));
        assert!(e.attachments[0].content.contains("SEQUENCE:4"));
    }

    #[test]
    fn a_moved_meeting_keeps_its_link_and_password_in_the_email_and_the_invite() {
        let mut a = appointment();
        a.schedule_version = 1;
        let m = MeetingDetails {
            join_url: "https://zoom.us/j/555?pwd=x".into(),
            meeting_id: "555".into(),
            password: "Pw12345678".into(),
        };
        let e = rescheduled(&a, Some(&m));
        assert!(e.text.contains("https://zoom.us/j/555?pwd=x"));
        assert!(e.text.contains("Password: Pw12345678"));
        let ics = e.attachments[0].content.replace("\r\n ", "");
        assert!(ics.contains("LOCATION:https://zoom.us/j/555?pwd=x"));
        // The event's page is the seat's, as in every email to the customer.
        assert!(ics.contains(&format!("URL:{}", a.manage_url())));
        assert!(e.text.contains(&a.manage_url()));
        assert!(ics.contains("SEQUENCE:3"));
    }
}
