//! Email: templates, calendar invites, the transactional outbox, transports and the worker
//! that delivers what the outbox holds.

pub mod ics;
pub mod keys;
pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

pub use outbox::{Attachment, OutgoingEmail};
