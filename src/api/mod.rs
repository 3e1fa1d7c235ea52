//! Server functions: the browser's door to the services. Each is thin: resolve the caller,
//! call one service, return its result.

pub mod accounts;
pub mod availability;
pub mod feedback;
pub mod guests;
pub mod integrations;
pub mod meetings;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod serve;
pub mod slots;
