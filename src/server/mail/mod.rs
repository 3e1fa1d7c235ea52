//! Email: templates, calendar invites, idempotency keys and the transports. Emails are sent
//! by the job worker (`server::jobs`), queued as jobs in the change's own transaction.

pub mod ics;
pub mod templates;
pub mod transport;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    /// Unique per email, e.g. `booking:<id>:customer-confirmation`: queuing it twice is a no-op.
    pub idempotency_key: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// Extra headers (name, value), such as `List-Unsubscribe`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}
