use super::document::{para, Block, Document};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;

/// To the customer, once after a session they attended: a single-use link to rate it.
pub fn feedback_request(a: &Appointment, link: &str) -> OutgoingEmail {
    let document = Document::new(
        format!("How was your session with {}?", a.specialist.name),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para(format!(
                    "Thank you for attending \"{}\" with {}. Would you tell us how it went? It takes a minute: a rating from 1 to 5 and, if you like, a comment.",
                    a.slot_title, a.specialist.name
                )),
            ],
            a.schedule("📅 SESSION", &a.customer, vec![]),
            vec![
                Block::Button {
                    label: "Rate your session",
                    url: link.to_string(),
                },
                para("The link works once. Only the specialist sees your answer."),
            ],
        ]
        .concat(),
    );
    email(keys::feedback(&a.booking_id), &a.customer, document, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn carries_the_link_to_the_customer() {
        let e = feedback_request(&appointment(), "https://x.test/feedback/tok");
        assert_eq!(e.to, "bob@example.com");
        assert!(
            e.subject.starts_with("How was your session with "),
            "{}",
            e.subject
        );
        assert!(e.text.contains("https://x.test/feedback/tok"));
        assert!(e.html.contains("https://x.test/feedback/tok"));
        assert_eq!(e.idempotency_key, "booking:b1:feedback");
    }
}
