//! The emails we send. Each lives in its own file and is described once as blocks
//! ([`document`]), rendered as text and HTML. Times are shown in the recipient's own zone.

mod account_changes;
mod cancelled;
mod customer_confirmation;
pub mod document;
mod email_confirmation;
mod feedback_request;
mod guest_hold;
mod meeting_deleted;
mod password_reset;
mod reminder;
mod rescheduled;
mod specialist_notification;
mod waitlist_closed;
mod webhook_disabled;
mod zoom_meeting_ready;

use chrono::{DateTime, Utc};

pub use account_changes::{
    account_deleted, email_change_confirm, email_change_requested, email_changed,
};
pub use cancelled::{cancelled_customer, cancelled_specialist, Cancellation};
pub use customer_confirmation::{customer_confirmation, seat_opened};
pub use email_confirmation::email_confirmation;
pub use feedback_request::feedback_request;
pub use guest_hold::{guest_hold_released, guest_hold_request};
pub use meeting_deleted::meeting_deleted_in_zoom;
pub use password_reset::{password_changed, password_reset};
pub use reminder::{reminder_customer, reminder_specialist, ReminderLinks};
pub use rescheduled::rescheduled;
pub use specialist_notification::specialist_notification;
pub use waitlist_closed::{waitlist_closed, WaitlistClosedBecause};
pub use webhook_disabled::webhook_disabled;
pub use zoom_meeting_ready::zoom_meeting_ready;

use super::ics::{self, Invite};
use super::{Attachment, OutgoingEmail};
use crate::server::manage_links::ManageLinks;
use crate::server::repo::bookings::{BookingRow, StoredMeeting};
use crate::server::repo::slots::SlotRow;
use crate::time_fmt;
use document::{para, Block, Document};

/// Someone an email is about or addressed to.
#[derive(Debug, Clone)]
pub struct Attendee {
    pub name: String,
    pub email: String,
    pub timezone: String,
}

/// What every email about one booking needs to know.
#[derive(Debug, Clone)]
pub struct Appointment {
    pub booking_id: String,
    /// The booking whose calendar event this is: a rescheduled booking continues its
    /// predecessor's (same UID).
    pub calendar_id: String,
    /// Added to every SEQUENCE, so a continued event's invites supersede the earlier ones.
    pub sequence_base: u32,
    pub slot_title: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    /// Bumped when the slot's time changes; the invite's SEQUENCE follows it.
    pub schedule_version: u32,
    pub specialist: Attendee,
    pub customer: Attendee,
    /// Makes the seat's manage link, which every email to the customer carries.
    pub links: ManageLinks,
}

impl Attendee {
    /// The specialist who holds a slot.
    pub fn host_of(slot: &SlotRow) -> Self {
        Self {
            name: slot.host.name.clone(),
            email: slot.host.email.clone(),
            timezone: slot.host.timezone.clone(),
        }
    }

    /// The customer of a booking.
    pub fn customer_of(booking: &BookingRow) -> Self {
        Self {
            name: booking.customer_name.clone(),
            email: booking.customer_email.clone(),
            timezone: booking.customer_timezone.clone(),
        }
    }
}

impl Appointment {
    /// The booking `booking_id` of `customer` in `slot`, as the slot stands.
    pub fn new(slot: &SlotRow, booking_id: &str, customer: Attendee, links: &ManageLinks) -> Self {
        Self {
            booking_id: booking_id.to_string(),
            calendar_id: booking_id.to_string(),
            sequence_base: 0,
            slot_title: slot.fields.title.clone(),
            starts_at: slot.fields.starts_at,
            duration_minutes: slot.fields.duration,
            schedule_version: slot.schedule_version,
            specialist: Attendee::host_of(slot),
            customer,
            links: links.clone(),
        }
    }

    /// The booking `booking` in `slot`, continuing the calendar event it continues.
    pub fn for_booking(slot: &SlotRow, booking: &BookingRow, links: &ManageLinks) -> Self {
        Self {
            calendar_id: booking
                .invite_uid
                .clone()
                .unwrap_or_else(|| booking.id.clone()),
            sequence_base: booking.invite_sequence_base,
            ..Self::new(slot, &booking.id, Attendee::customer_of(booking), links)
        }
    }

    /// The seat's manage link: its page, where the customer views, cancels or moves it.
    pub fn manage_url(&self) -> String {
        self.links.url(&self.calendar_id)
    }

    /// The SEQUENCE base of a successor booking: above every invite this one could send.
    pub fn successor_sequence_base(&self) -> u32 {
        self.booking_sequence() + 4
    }

    /// The date of the start in `who`'s zone, as shown in subjects.
    fn date_for(&self, who: &Attendee) -> String {
        time_fmt::date_in(self.starts_at, &who.timezone)
    }

    /// A section with the date, time and duration in `who`'s zone, after the `lead` rows.
    fn schedule(
        &self,
        heading: &'static str,
        who: &Attendee,
        lead: Vec<(&'static str, String)>,
    ) -> Vec<Block> {
        let mut rows = lead;
        rows.extend([
            ("Date", self.date_for(who)),
            ("Time", time_fmt::time_in(self.starts_at, &who.timezone)),
            ("Duration", format!("{} minutes", self.duration_minutes)),
        ]);
        vec![Block::Heading(heading), Block::Details(rows)]
    }

    /// Booking emails carry SEQUENCE 2·v, the meeting email 2·v+1: each later one supersedes.
    fn booking_sequence(&self) -> u32 {
        self.sequence_base + self.schedule_version * 2
    }

    /// The customer's invite: its URL is the seat's manage link.
    fn invite(&self, sequence: u32, join_url: Option<&str>) -> Attachment {
        self.calendar(sequence, join_url, false, Some(&self.manage_url()))
    }

    /// The specialist's invite: never the customer's manage link.
    fn specialist_invite(&self, sequence: u32) -> Attachment {
        self.calendar(sequence, None, false, None)
    }

    /// Cancels the booking's event in the customer's calendar: same UID, the SEQUENCE after
    /// every invite this booking had.
    fn cancellation(&self) -> Attachment {
        self.calendar(
            self.booking_sequence() + 2,
            None,
            true,
            Some(&self.manage_url()),
        )
    }

    /// The booking's event in a calendar feed, as its latest emailed invite described it:
    /// the booking's, the meeting's (with the join link) or the cancellation's SEQUENCE.
    /// `for_customer`: the customer's own feed, whose events link to the seat's page.
    pub fn feed_event(
        &self,
        join_url: Option<&str>,
        cancelled: bool,
        for_customer: bool,
    ) -> icalendar::Event {
        let sequence = match (cancelled, join_url) {
            (true, _) => self.booking_sequence() + 2,
            (false, Some(_)) => self.booking_sequence() + 1,
            (false, None) => self.booking_sequence(),
        };
        let page = for_customer.then(|| self.manage_url());
        ics::event(&self.event(
            sequence,
            join_url,
            cancelled,
            &self.texts(join_url),
            page.as_deref(),
        ))
    }

    /// The event's summary and description.
    fn texts(&self, join_url: Option<&str>) -> (String, String) {
        let description = match join_url {
            Some(url) => format!(
                "Consulting session with {}.\nJoin Zoom: {url}",
                self.specialist.name
            ),
            None => format!(
                "Consulting session with {}. The Zoom link will follow by email.",
                self.specialist.name
            ),
        };
        (
            format!("Consulting Session: {}", self.slot_title),
            description,
        )
    }

    /// The section with the seat's manage link, in every email to the customer.
    fn manage_blocks(&self) -> Vec<Block> {
        vec![
            Block::Heading("🔗 YOUR BOOKING"),
            para("View it, move it to another time or cancel it on its own page. The link is yours alone: do not forward this email."),
            Block::Button {
                label: "Manage your booking",
                url: self.manage_url(),
            },
        ]
    }

    fn event<'a>(
        &'a self,
        sequence: u32,
        join_url: Option<&'a str>,
        cancelled: bool,
        (summary, description): &'a (String, String),
        page_url: Option<&'a str>,
    ) -> Invite<'a> {
        Invite {
            page_url,
            uid: ics::uid_for_booking(&self.calendar_id),
            sequence,
            starts_at: self.starts_at,
            duration_minutes: self.duration_minutes,
            summary,
            description,
            organizer_name: &self.specialist.name,
            organizer_email: &self.specialist.email,
            attendee_name: &self.customer.name,
            attendee_email: &self.customer.email,
            join_url,
            cancelled,
        }
    }

    fn calendar(
        &self,
        sequence: u32,
        join_url: Option<&str>,
        cancelled: bool,
        page_url: Option<&str>,
    ) -> Attachment {
        let texts = self.texts(join_url);
        let ics = ics::render(&self.event(sequence, join_url, cancelled, &texts, page_url));
        let method = if cancelled { "CANCEL" } else { "REQUEST" };
        Attachment {
            filename: "invite.ics".into(),
            content_type: format!("text/calendar; method={method}; charset=UTF-8"),
            content: ics,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MeetingDetails {
    pub join_url: String,
    pub meeting_id: String,
    pub password: String,
}

impl From<&StoredMeeting> for MeetingDetails {
    fn from(m: &StoredMeeting) -> Self {
        Self {
            join_url: m.join_url.clone(),
            meeting_id: m.zoom_meeting_id.clone(),
            password: m.password.clone(),
        }
    }
}

/// A section with the join button, the meeting ID and the password.
fn meeting_blocks(heading: &'static str, m: &MeetingDetails) -> Vec<Block> {
    vec![
        Block::Heading(heading),
        Block::Button {
            label: "Join Zoom Meeting",
            url: m.join_url.clone(),
        },
        Block::Details(vec![
            ("Meeting ID", m.meeting_id.clone()),
            ("Password", m.password.clone()),
        ]),
    ]
}

/// An email to `to` from its description, with its idempotency key and attachments.
fn email(
    key: String,
    to: &Attendee,
    document: Document,
    attachments: Vec<Attachment>,
) -> OutgoingEmail {
    OutgoingEmail {
        idempotency_key: key,
        to: to.email.clone(),
        text: document.text(),
        html: document.html(),
        subject: document.subject,
        attachments,
        headers: vec![],
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;
    use chrono::TimeZone;

    pub fn appointment() -> Appointment {
        Appointment {
            booking_id: "b1".into(),
            calendar_id: "b1".into(),
            sequence_base: 0,
            slot_title: "Tax <advice>".into(),
            // 29 Mar 2026 is the day Berlin moves to summer time; this is 14:00 CEST.
            starts_at: Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap(),
            duration_minutes: 45,
            schedule_version: 0,
            specialist: Attendee {
                name: "Dr <b>Ann</b> & Co".into(),
                email: "ann@example.com".into(),
                timezone: "America/New_York".into(),
            },
            customer: Attendee {
                name: "Bob \"Evil\" <script>alert(1)</script>\r\nBcc: x@y.z".into(),
                email: "bob@example.com".into(),
                timezone: "Europe/Berlin".into(),
            },
            links: ManageLinks::new(
                "https://x.test",
                crate::server::manage_links::derive_key(b"sample"),
            ),
        }
    }
}
