use super::document::{para, Block, Document};
use super::{meeting_blocks, Appointment, Attendee, MeetingDetails};
use crate::server::mail::OutgoingEmail;
use crate::server::repo::slots::SlotRow;
use crate::time_fmt;

/// Where a reminder points: the page to open, and the one-click way out of reminders.
pub struct ReminderLinks {
    pub page: String,
    pub unsubscribe: String,
}

/// A reminder is sent by its own job, never queued again: no idempotency key of its own.
fn reminder_email(to: &Attendee, document: Document, links: &ReminderLinks) -> OutgoingEmail {
    OutgoingEmail {
        idempotency_key: String::new(),
        to: to.email.clone(),
        text: document.text(),
        html: document.html(),
        subject: document.subject,
        attachments: vec![],
        headers: vec![
            (
                "List-Unsubscribe".into(),
                format!("<{}>", links.unsubscribe),
            ),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
    }
}

fn footer(links: &ReminderLinks) -> Block {
    para(format!(
        "You get reminders because you have an appointment on Specialistly. Stop reminder emails: {}",
        links.unsubscribe
    ))
}

/// To the customer, `when` before the start: the time in their zone, and the meeting's
/// details if it exists by now.
pub fn reminder_customer(
    a: &Appointment,
    meeting: Option<&MeetingDetails>,
    when: &str,
    links: &ReminderLinks,
) -> OutgoingEmail {
    let zoom = match meeting {
        Some(m) => meeting_blocks("🎥 JOIN VIA ZOOM", m),
        None => vec![
            Block::Heading("🎥 ZOOM MEETING LINK"),
            para("Your specialist is preparing the link; you will get it by email."),
            Block::Button {
                label: "Open your appointment",
                url: links.page.clone(),
            },
        ],
    };
    let document = Document::new(
        format!(
            "⏰ Reminder: Consulting Session with {} in {when}",
            a.specialist.name
        ),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para(format!(
                    "Your consulting session \"{}\" starts in {when}.",
                    a.slot_title
                )),
            ],
            a.schedule("📅 APPOINTMENT DETAILS", &a.customer, vec![]),
            zoom,
            vec![footer(links)],
        ]
        .concat(),
    );
    reminder_email(&a.customer, document, links)
}

/// To the specialist, `when` before the start, while some bookings have no meeting yet.
pub fn reminder_specialist(
    slot: &SlotRow,
    waiting: &[String],
    when: &str,
    links: &ReminderLinks,
) -> OutgoingEmail {
    let specialist = Attendee::host_of(slot);
    let list = waiting.join(", ");
    let document = Document::new(
        format!(
            "⏰ Reminder: {} booking{} of \"{}\" still need a Zoom meeting",
            waiting.len(),
            if waiting.len() == 1 { "" } else { "s" },
            slot.fields.title
        ),
        vec![
            para(format!("Hello {},", specialist.name)),
            para(format!(
                "\"{}\" starts in {when}, on {} at {}.",
                slot.fields.title,
                time_fmt::date_in(slot.fields.starts_at, &specialist.timezone),
                time_fmt::time_in(slot.fields.starts_at, &specialist.timezone)
            )),
            Block::Heading("🔔 STILL WITHOUT A ZOOM MEETING"),
            para(list),
            Block::Button {
                label: "Open the Meeting Manager",
                url: links.page.clone(),
            },
            footer(links),
        ],
    );
    reminder_email(&specialist, document, links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    fn links() -> ReminderLinks {
        ReminderLinks {
            page: "https://x.test/appointments/s/0".into(),
            unsubscribe: "https://x.test/unsubscribe?token=t".into(),
        }
    }

    #[test]
    fn a_customer_reminder_says_when_and_how_to_join_or_that_the_link_is_coming() {
        let a = appointment();
        let pending = reminder_customer(&a, None, "30 minutes", &links());
        assert_eq!(
            pending.subject,
            "⏰ Reminder: Consulting Session with Dr <b>Ann</b> & Co in 30 minutes"
        );
        assert!(pending.text.contains("Time: 14:00 (Europe/Berlin)"));
        assert!(pending
            .text
            .contains("Your specialist is preparing the link; you will get it by email."));
        assert!(pending.text.contains("https://x.test/appointments/s/0"));
        assert!(pending
            .headers
            .iter()
            .any(|(k, v)| k == "List-Unsubscribe" && v == "<https://x.test/unsubscribe?token=t>"));
        let m = MeetingDetails {
            join_url: "https://zoom.us/j/1".into(),
            meeting_id: "1".into(),
            password: "pw".into(),
        };
        let ready = reminder_customer(&a, Some(&m), "24 hours", &links());
        assert!(ready.text.contains("https://zoom.us/j/1") && ready.text.contains("Password: pw"));
    }
}
