use super::document::{para, para_strong, Block, Document};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;
use crate::time_fmt;

/// To the specialist, when the meeting of a booking was deleted in Zoom itself.
pub fn meeting_deleted_in_zoom(
    a: &Appointment,
    meeting_id: &str,
    manager_url: &str,
) -> OutgoingEmail {
    let date = a.date_for(&a.specialist);
    let time = time_fmt::time_in(a.starts_at, &a.specialist.timezone);
    let document = Document::new(
        format!(
            "⚠️ Zoom meeting deleted: {} on {date} at {time}",
            a.customer.name
        ),
        [
            vec![
                para(format!("Hello {},", a.specialist.name)),
                para_strong(
                    "The Zoom meeting for your session with ",
                    &a.customer.name,
                    &format!(" (meeting ID {meeting_id}) was deleted in Zoom."),
                ),
            ],
            a.schedule("📅 SESSION DETAILS", &a.specialist, vec![]),
            vec![
                para("The booking is still on. The customer's link no longer works: create a new meeting in the Meeting Manager and the customer will receive its details."),
                Block::Button {
                    label: "Open the Meeting Manager",
                    url: manager_url.to_string(),
                },
            ],
        ]
        .concat(),
    );
    email(
        keys::zoom_deleted(&a.booking_id, meeting_id),
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
    fn tells_the_specialist_which_meeting_and_where_to_make_another() {
        let e = meeting_deleted_in_zoom(&appointment(), "850123", "https://x.test/meeting-manager");
        assert_eq!(e.to, "ann@example.com");
        assert!(
            e.subject.starts_with("⚠️ Zoom meeting deleted: "),
            "{}",
            e.subject
        );
        assert!(e.text.contains("(meeting ID 850123) was deleted in Zoom."));
        assert!(e.text.contains("https://x.test/meeting-manager"));
        assert_eq!(e.idempotency_key, "booking:b1:zoom-deleted:850123");
    }
}
