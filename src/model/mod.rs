//! Types shared by the server and the browser: what pages and API answers show.

mod guest;
mod integrations;
mod offering;
mod slot;
mod user;

pub use guest::*;
pub use integrations::*;
pub use offering::*;
pub use slot::*;
pub use user::*;
