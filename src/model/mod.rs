//! Types shared by the server and the browser: what pages and API answers show.

mod slot;
mod user;

pub use slot::*;
pub use user::*;
