//! Inputs parsed once, at the edge, into small types that can only hold valid values. A
//! service that receives one of these never checks it again, and the rules here are the ones
//! the database schema asserts, so a value that passes cannot make a write fail.

pub mod attendance;
pub mod availability;
mod booking_index;
mod email;
mod handle;
mod schedule;
mod status;
mod text;
mod time_zone;

pub use booking_index::BookingIndex;
pub use email::Email;
pub use handle::Handle;
pub use schedule::{Capacity, Duration, LocalStart};
pub use status::BookingStatus;
pub use text::{Description, Notes, PersonName, SlotTitle};
pub use time_zone::TimeZone;
