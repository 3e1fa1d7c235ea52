//! The spec's three emails, each as plain text plus a simple inline-styled HTML version.
//! Times are shown in the recipient's own zone; every user-supplied string is escaped in HTML.

use chrono::{DateTime, Utc};

use super::ics::{self, Invite};
use super::outbox::{Attachment, OutgoingEmail};
use crate::time_fmt;

/// What every email about one booking needs to know.
#[derive(Debug, Clone)]
pub struct Appointment {
    pub booking_id: String,
    pub slot_title: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    /// Bumped when the slot's time changes; the invite's SEQUENCE follows it.
    pub schedule_version: u32,
    pub specialist_name: String,
    pub specialist_email: String,
    pub specialist_timezone: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_timezone: String,
}

#[derive(Debug, Clone)]
pub struct MeetingDetails {
    pub join_url: String,
    pub meeting_id: String,
    pub password: String,
}

pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Names go into subjects: no line breaks, whatever a user typed.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;">
<tr><td style="padding:28px 32px;">{body}</td></tr>
<tr><td style="padding:16px 32px;border-top:1px solid #e4e7eb;font-size:12px;color:#7b8794;">Specialistly</td></tr>
</table></td></tr></table></body></html>"#,
        title = escape_html(title)
    )
}

fn h2(text: &str) -> String {
    format!(r#"<h2 style="font-size:16px;margin:24px 0 8px;color:#323f4b;">{text}</h2>"#)
}

fn p(text: &str) -> String {
    format!(r#"<p style="margin:0 0 12px;">{text}</p>"#)
}

fn list(items: &[&str]) -> String {
    let lis: String = items
        .iter()
        .map(|i| format!(r#"<li style="margin:0 0 4px;">{i}</li>"#))
        .collect();
    format!(r#"<ul style="margin:0 0 12px;padding-left:20px;">{lis}</ul>"#)
}

fn details_html(rows: &[(&str, String)]) -> String {
    let trs: String = rows
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<tr><td style="padding:2px 16px 2px 0;color:#616e7c;">{k}</td><td style="padding:2px 0;font-weight:bold;">{}</td></tr>"#,
                escape_html(v)
            )
        })
        .collect();
    format!(
        r#"<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 12px;">{trs}</table>"#
    )
}

fn invite(a: &Appointment, sequence: u32, join_url: Option<&str>) -> Attachment {
    let description = match join_url {
        Some(url) => format!(
            "Consulting session with {}.\nJoin Zoom: {url}",
            a.specialist_name
        ),
        None => format!(
            "Consulting session with {}. The Zoom link will follow by email.",
            a.specialist_name
        ),
    };
    let ics = ics::render(&Invite {
        uid: ics::uid_for_booking(&a.booking_id),
        sequence,
        starts_at: a.starts_at,
        duration_minutes: a.duration_minutes,
        summary: &format!("Consulting Session: {}", a.slot_title),
        description: &description,
        organizer_name: &a.specialist_name,
        organizer_email: &a.specialist_email,
        attendee_name: &a.customer_name,
        attendee_email: &a.customer_email,
        join_url,
    });
    Attachment {
        filename: "invite.ics".into(),
        content_type: "text/calendar; method=REQUEST; charset=UTF-8".into(),
        content: ics,
    }
}

/// Booking emails carry SEQUENCE 2·v, the meeting email 2·v+1: each later one supersedes.
fn booking_sequence(a: &Appointment) -> u32 {
    a.schedule_version * 2
}

pub fn customer_confirmation(a: &Appointment) -> OutgoingEmail {
    let tz = &a.customer_timezone;
    let date = time_fmt::date_in(a.starts_at, tz);
    let time = time_fmt::time_in(a.starts_at, tz);
    let subject = format!("✅ Appointment Confirmed: Consulting Session on {date}");
    let text = format!(
        "Hello {customer},

Your consulting session with {specialist} has been confirmed!

📅 APPOINTMENT DETAILS
Date: {date}
Time: {time}
Duration: {duration} minutes

🎥 ZOOM MEETING LINK
Your specialist will create the Zoom meeting link shortly before your appointment. You'll receive the meeting link via email as soon as it's available.

✨ WHAT TO EXPECT
• You'll receive a Zoom meeting link 30 minutes before the session
• Check your email (including spam folder) for the meeting details
• Join 5 minutes early to test your audio and video
• Make sure you have a stable internet connection

If you need to reschedule or cancel, please do so at least 24 hours before the appointment.
",
        customer = one_line(&a.customer_name),
        specialist = one_line(&a.specialist_name),
        duration = a.duration_minutes,
    );
    let body = [
        p(&format!("Hello {},", escape_html(&a.customer_name))),
        p(&format!(
            "Your consulting session with <strong>{}</strong> has been confirmed!",
            escape_html(&a.specialist_name)
        )),
        h2("📅 APPOINTMENT DETAILS"),
        details_html(&[
            ("Date", date.clone()),
            ("Time", time.clone()),
            ("Duration", format!("{} minutes", a.duration_minutes)),
        ]),
        h2("🎥 ZOOM MEETING LINK"),
        p("Your specialist will create the Zoom meeting link shortly before your appointment. You'll receive the meeting link via email as soon as it's available."),
        h2("✨ WHAT TO EXPECT"),
        list(&[
            "You'll receive a Zoom meeting link 30 minutes before the session",
            "Check your email (including spam folder) for the meeting details",
            "Join 5 minutes early to test your audio and video",
            "Make sure you have a stable internet connection",
        ]),
        p("If you need to reschedule or cancel, please do so at least 24 hours before the appointment."),
    ]
    .concat();
    OutgoingEmail {
        idempotency_key: format!("booking:{}:customer-confirmation", a.booking_id),
        to: a.customer_email.clone(),
        html: html_page(&subject, &body),
        subject,
        text,
        attachments: vec![invite(a, booking_sequence(a), None)],
    }
}

pub fn specialist_notification(a: &Appointment) -> OutgoingEmail {
    let tz = &a.specialist_timezone;
    let date = time_fmt::date_in(a.starts_at, tz);
    let time = time_fmt::time_in(a.starts_at, tz);
    let subject = format!(
        "🎯 New Appointment: {} on {date} at {time}",
        one_line(&a.customer_name)
    );
    let text = format!(
        "Hello {specialist},

A new consulting session has been booked with {customer}.

📅 SESSION DETAILS
Customer: {customer} ({email})
Date: {date}
Time: {time}
Duration: {duration} minutes

🎥 NEXT STEP: CREATE ZOOM MEETING
Log in to Specialistly to create the Zoom meeting link shortly before the appointment. Once created, the customer will automatically receive the meeting details.

Recommended: Create the meeting 30 minutes before the scheduled time.
",
        specialist = one_line(&a.specialist_name),
        customer = one_line(&a.customer_name),
        email = a.customer_email,
        duration = a.duration_minutes,
    );
    let body = [
        p(&format!("Hello {},", escape_html(&a.specialist_name))),
        p(&format!(
            "A new consulting session has been booked with <strong>{}</strong>.",
            escape_html(&a.customer_name)
        )),
        h2("📅 SESSION DETAILS"),
        details_html(&[
            ("Customer", format!("{} ({})", a.customer_name, a.customer_email)),
            ("Date", date.clone()),
            ("Time", time.clone()),
            ("Duration", format!("{} minutes", a.duration_minutes)),
        ]),
        h2("🎥 NEXT STEP: CREATE ZOOM MEETING"),
        p("Log in to Specialistly to create the Zoom meeting link shortly before the appointment. Once created, the customer will automatically receive the meeting details."),
        p("<strong>Recommended:</strong> Create the meeting 30 minutes before the scheduled time."),
    ]
    .concat();
    OutgoingEmail {
        idempotency_key: format!("booking:{}:specialist-notification", a.booking_id),
        to: a.specialist_email.clone(),
        html: html_page(&subject, &body),
        subject,
        text,
        attachments: vec![invite(a, booking_sequence(a), None)],
    }
}

pub fn zoom_meeting_ready(a: &Appointment, m: &MeetingDetails) -> OutgoingEmail {
    let tz = &a.customer_timezone;
    let date = time_fmt::date_in(a.starts_at, tz);
    let time = time_fmt::time_in(a.starts_at, tz);
    let subject = format!(
        "🎥 Zoom Meeting Ready: {} on {date}",
        one_line(&a.specialist_name)
    );
    let text = format!(
        "Hello {customer},

Your Zoom meeting with {specialist} has been created. Here are the details:

📅 APPOINTMENT DETAILS
Date: {date}
Time: {time}
Duration: {duration} minutes

🎥 JOIN VIA ZOOM
{join}

Meeting ID: {id}
Password: {password}

✨ PRO TIPS
• Join 5 minutes early to test your audio and video
• Make sure you have a stable internet connection
• Close unnecessary tabs and programs for best performance

See you at the meeting!
",
        customer = one_line(&a.customer_name),
        specialist = one_line(&a.specialist_name),
        duration = a.duration_minutes,
        join = m.join_url,
        id = m.meeting_id,
        password = m.password,
    );
    let button = format!(
        r#"<p style="margin:16px 0;"><a href="{url}" style="display:inline-block;background:#2d6cdf;color:#ffffff;text-decoration:none;font-weight:bold;padding:12px 24px;border-radius:6px;">Join Zoom Meeting</a></p>"#,
        url = escape_html(&m.join_url)
    );
    let body = [
        p(&format!("Hello {},", escape_html(&a.customer_name))),
        p(&format!(
            "Your Zoom meeting with <strong>{}</strong> has been created. Here are the details:",
            escape_html(&a.specialist_name)
        )),
        h2("📅 APPOINTMENT DETAILS"),
        details_html(&[
            ("Date", date.clone()),
            ("Time", time.clone()),
            ("Duration", format!("{} minutes", a.duration_minutes)),
        ]),
        h2("🎥 JOIN VIA ZOOM"),
        button,
        details_html(&[
            ("Meeting ID", m.meeting_id.clone()),
            ("Password", m.password.clone()),
        ]),
        h2("✨ PRO TIPS"),
        list(&[
            "Join 5 minutes early to test your audio and video",
            "Make sure you have a stable internet connection",
            "Close unnecessary tabs and programs for best performance",
        ]),
        p("See you at the meeting!"),
    ]
    .concat();
    OutgoingEmail {
        idempotency_key: zoom_ready_key(&a.booking_id),
        to: a.customer_email.clone(),
        html: html_page(&subject, &body),
        subject,
        text,
        attachments: vec![invite(a, booking_sequence(a) + 1, Some(&m.join_url))],
    }
}

/// Sent to each booked customer when the specialist moves the slot.
pub fn rescheduled(a: &Appointment) -> OutgoingEmail {
    let tz = &a.customer_timezone;
    let date = time_fmt::date_in(a.starts_at, tz);
    let time = time_fmt::time_in(a.starts_at, tz);
    let subject = format!("🔁 Appointment Rescheduled: Consulting Session on {date}");
    let text = format!(
        "Hello {customer},

Your consulting session with {specialist} has a new time.

📅 NEW APPOINTMENT DETAILS
Date: {date}
Time: {time}
Duration: {duration} minutes

The attached calendar invite replaces the earlier one.
",
        customer = one_line(&a.customer_name),
        specialist = one_line(&a.specialist_name),
        duration = a.duration_minutes,
    );
    let body = [
        p(&format!("Hello {},", escape_html(&a.customer_name))),
        p(&format!(
            "Your consulting session with <strong>{}</strong> has a new time.",
            escape_html(&a.specialist_name)
        )),
        h2("📅 NEW APPOINTMENT DETAILS"),
        details_html(&[
            ("Date", date.clone()),
            ("Time", time.clone()),
            ("Duration", format!("{} minutes", a.duration_minutes)),
        ]),
        p("The attached calendar invite replaces the earlier one."),
    ]
    .concat();
    OutgoingEmail {
        idempotency_key: format!(
            "booking:{}:rescheduled:{}",
            a.booking_id, a.schedule_version
        ),
        to: a.customer_email.clone(),
        html: html_page(&subject, &body),
        subject,
        text,
        attachments: vec![invite(a, booking_sequence(a), None)],
    }
}

/// The idempotency key of the Zoom Meeting Ready email, to ask the outbox whether it left.
pub fn zoom_ready_key(booking_id: &str) -> String {
    format!("booking:{booking_id}:zoom-ready")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn appointment() -> Appointment {
        Appointment {
            booking_id: "b1".into(),
            slot_title: "Tax <advice>".into(),
            // 29 Mar 2026 is the day Berlin moves to summer time; this is 14:00 CEST.
            starts_at: Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap(),
            duration_minutes: 45,
            schedule_version: 0,
            specialist_name: "Dr <b>Ann</b> & Co".into(),
            specialist_email: "ann@example.com".into(),
            specialist_timezone: "America/New_York".into(),
            customer_name: "Bob \"Evil\" <script>alert(1)</script>\r\nBcc: x@y.z".into(),
            customer_email: "bob@example.com".into(),
            customer_timezone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn customer_confirmation_uses_the_customers_zone_and_the_spec_wording() {
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
            .contains("You'll receive a Zoom meeting link 30 minutes before the session"));
        assert_eq!(e.idempotency_key, "booking:b1:customer-confirmation");
        assert_eq!(e.attachments.len(), 1);
        assert!(e.attachments[0].content.contains("SEQUENCE:0"));
    }

    #[test]
    fn specialist_notification_uses_the_specialists_zone() {
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
    }

    #[test]
    fn user_strings_are_escaped_in_html_and_never_break_a_subject() {
        let a = appointment();
        for e in [customer_confirmation(&a), specialist_notification(&a)] {
            assert!(!e.html.contains("<script>"), "{}", e.html);
            assert!(!e.html.contains("<b>Ann</b>"));
            assert!(
                e.html.contains("&lt;script&gt;")
                    || e.html.contains("Dr &lt;b&gt;Ann&lt;/b&gt; &amp; Co")
            );
            assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
        }
    }

    #[test]
    fn zoom_ready_carries_the_join_details_and_an_updated_invite() {
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
        assert!(e.text.contains("https://zoom.us/j/12345678901?pwd=abc"));
        assert!(e
            .html
            .contains("href=\"https://zoom.us/j/12345678901?pwd=abc\""));
        let ics = e.attachments[0].content.replace("\r\n ", "");
        assert!(ics.contains("UID:booking-b1@specialistly"));
        assert!(ics.contains("SEQUENCE:1"));
        assert!(ics.contains("URL:https://zoom.us/j/12345678901?pwd=abc"));
        assert_eq!(e.idempotency_key, zoom_ready_key("b1"));
    }
}
