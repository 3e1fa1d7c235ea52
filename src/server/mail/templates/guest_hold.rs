use chrono::{DateTime, Utc};

use super::document::{para, para_strong, Block, Document};
use super::{email, Appointment};
use crate::server::jobs::keys;
use crate::server::mail::OutgoingEmail;
use crate::time_fmt;

/// To a guest who booked: their seat is held until `until`, and the link confirms it.
pub fn guest_hold_request(a: &Appointment, until: DateTime<Utc>) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    let deadline = time_fmt::time_in(until, &a.customer.timezone);
    let document = Document::new(
        format!("⏳ Confirm your booking: Consulting Session on {date}"),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para_strong(
                    "We are holding a seat for you in a consulting session with ",
                    &a.specialist.name,
                    ".",
                ),
                para(format!(
                    "Open the link and confirm the booking by {deadline}: until then the seat is yours, after that it goes back to others."
                )),
                Block::Button {
                    label: "Confirm my booking",
                    url: a.manage_url(),
                },
            ],
            a.schedule("📅 APPOINTMENT DETAILS", &a.customer, vec![]),
            vec![
                para("The same link lets you cancel or move the booking later. It is yours alone: do not forward this email."),
                para("If you did not book this, ignore this email: the seat is released by itself."),
            ],
        ]
        .concat(),
    );
    email(
        keys::guest_hold(&a.booking_id),
        &a.customer,
        document,
        vec![],
    )
}

/// To a guest whose hold ran out unconfirmed.
pub fn guest_hold_released(a: &Appointment) -> OutgoingEmail {
    let date = a.date_for(&a.customer);
    let document = Document::new(
        format!("⌛ Seat released: Consulting Session on {date}"),
        [
            vec![
                para(format!("Hello {},", a.customer.name)),
                para(format!(
                    "You did not confirm your booking of \"{}\" in time, so the seat we held for you is free again. You are welcome to book again.",
                    a.slot_title
                )),
            ],
            a.schedule("📅 RELEASED APPOINTMENT", &a.customer, vec![]),
        ]
        .concat(),
    );
    email(
        keys::guest_hold_released(&a.booking_id),
        &a.customer,
        document,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates::sample::appointment;

    #[test]
    fn a_hold_asks_for_confirmation_through_the_seats_link() {
        let a = appointment();
        let until = a.starts_at - chrono::Duration::days(1);
        let e = guest_hold_request(&a, until);
        assert!(e.subject.starts_with("⏳ Confirm your booking"));
        assert!(e.text.contains(&a.manage_url()), "{}", e.text);
        assert!(e.html.contains(&a.manage_url()));
        assert!(e.attachments.is_empty(), "no invite before it counts");
        let released = guest_hold_released(&a);
        assert!(released.text.contains("free again"));
        assert!(!released.text.contains(&a.manage_url()));
    }
}
