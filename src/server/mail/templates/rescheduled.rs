use super::document::{para, para_strong, Document};
use super::{email, Appointment};
use crate::server::mail::{keys, OutgoingEmail};

/// To each booked customer when the specialist moves the slot.
pub fn rescheduled(a: &Appointment) -> OutgoingEmail {
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
        vec![a.invite(a.booking_sequence(), None)],
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
        let e = rescheduled(&a);
        assert_eq!(e.idempotency_key, "booking:b1:rescheduled:2");
        assert!(e
            .text
            .contains("📅 NEW APPOINTMENT DETAILS\nDate: Sun 29 Mar 2026\n"));
        assert!(e.attachments[0].content.contains("SEQUENCE:4"));
    }
}
