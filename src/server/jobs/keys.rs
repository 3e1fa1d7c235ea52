//! Idempotency keys of the jobs about a booking (its emails above all): queuing a key twice is a
//! no-op, and the job queue can be asked whether the email with a key has been sent.

/// One per confirmation link (a resend makes a new link and a new email).
pub fn email_confirmation(link_id: &str) -> String {
    format!("email-confirmation:{link_id}")
}

pub fn customer_confirmation(booking_id: &str) -> String {
    format!("booking:{booking_id}:customer-confirmation")
}

pub fn specialist_notification(booking_id: &str) -> String {
    format!("booking:{booking_id}:specialist-notification")
}

pub fn cancelled(booking_id: &str, recipient: &str) -> String {
    format!("booking:{booking_id}:cancelled:{recipient}")
}

/// One per schedule version: each move of the slot is announced once.
pub fn rescheduled(booking_id: &str, schedule_version: u32) -> String {
    format!("booking:{booking_id}:rescheduled:{schedule_version}")
}

/// One per meeting deleted in Zoom (a booking may lose several).
pub fn zoom_deleted(booking_id: &str, meeting_id: &str) -> String {
    format!("booking:{booking_id}:zoom-deleted:{meeting_id}")
}

/// One per time an endpoint is turned off (`at`: Unix seconds).
pub fn webhook_disabled(endpoint_id: &str, at: i64) -> String {
    format!("webhook-disabled:{endpoint_id}:{at}")
}

/// One feedback request per booking.
pub fn feedback(booking_id: &str) -> String {
    format!("booking:{booking_id}:feedback")
}

/// The Zoom Meeting Ready key is `booking:<id>:zoom-ready`; queries that ask whether it left
/// build it from these two parts.
pub const ZOOM_READY: (&str, &str) = ("booking:", ":zoom-ready");

pub fn zoom_ready(booking_id: &str) -> String {
    format!("{}{booking_id}{}", ZOOM_READY.0, ZOOM_READY.1)
}

pub fn password_reset(link_id: &str) -> String {
    format!("password-reset:{link_id}")
}

pub fn password_changed(link_id: &str) -> String {
    format!("password-changed:{link_id}")
}

/// A guest's request to confirm their held seat.
pub fn guest_hold(booking_id: &str) -> String {
    format!("booking:{booking_id}:guest-hold")
}

/// A guest's hold released unconfirmed.
pub fn guest_hold_released(booking_id: &str) -> String {
    format!("booking:{booking_id}:guest-hold-released")
}

/// One of the emails of an address change (`what`: confirm, requested, changed).
pub fn email_change(link_id: &str, what: &str) -> String {
    format!("email-change:{link_id}:{what}")
}

pub fn account_deleted(user_id: &str) -> String {
    format!("account-deleted:{user_id}")
}
