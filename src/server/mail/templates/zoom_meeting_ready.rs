use super::document::{para, para_strong, Block, Document};
use super::{email, meeting_blocks, Appointment, MeetingDetails};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To the customer, once the specialist has created the meeting.
pub fn zoom_meeting_ready(a: &Appointment, m: &MeetingDetails) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    let document = Document::new(
        format!("🎥 Zoom Meeting Ready: {} on {date}", a.specialist.name),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para_strong(
                    "Your Zoom meeting with ",
                    &a.specialist.name,
                    " has been created. Here are the details:",
                ),
            ],
            a.schedule("📅 APPOINTMENT DETAILS", &a.customer, vec![]),
            meeting_blocks("🎥 JOIN VIA ZOOM", m),
            a.manage_blocks(),
            vec![
                Block::Heading("✨ PRO TIPS"),
                Block::List(vec![
                    "Join 5 minutes early to test your audio and video",
                    "Make sure you have a stable internet connection",
                    "Close unnecessary tabs and programs for best performance",
                ]),
                para("See you at the meeting!"),
            ],
        ]
        .concat(),
    );
    email(
        keys::zoom_ready(&a.booking_id),
        &a.customer,
        document,
        vec![a.invite(a.booking_sequence() + 1, Some(&m.join_url))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn carries_the_join_details_and_an_updated_invite() {
        let a = appointment();
        let m = MeetingDetails {
            join_url: "https://zoom.us/j/12345678901?pwd=abc".into(),
            meeting_id: "12345678901".into(),
            password: "Xy12ab".into(),
        };
        let e = zoom_meeting_ready(&a, &m);
        assert!(e
            .subject
            .starts_with("🎥 Zoom Meeting Ready: Dr <b>Ann</b> & Co on Sun 29 Mar 2026"));
        assert!(e.text.contains("Meeting ID: 12345678901"));
        assert!(e.text.contains("Password: Xy12ab"));
        assert!(e
            .text
            .contains("🎥 JOIN VIA ZOOM\nhttps://zoom.us/j/12345678901?pwd=abc\n"));
        assert!(e
            .html
            .contains("href=\"https://zoom.us/j/12345678901?pwd=abc\""));
        let ics = e.attachments[0].content.replace("\r\n ", "");
        assert!(ics.contains("UID:booking-b1@specialistly"));
        assert!(ics.contains("SEQUENCE:1"));
        assert!(ics.contains("LOCATION:https://zoom.us/j/12345678901?pwd=abc"));
        assert!(ics.contains(&format!("URL:{}", a.manage_url())));
        assert!(e.text.contains(&a.manage_url()));
        assert_eq!(e.idempotency_key, keys::zoom_ready("b1"));
    }
}
