//! Defences every response gets, whatever route answers: cross-site request refusal and the
//! security headers (with the per-response script nonce).

mod cross_site;
mod forwarded;
mod headers;
pub mod public_address;
pub mod secret_links;

pub use cross_site::refuse_cross_site;
pub use forwarded::{Networks, TrustedProxies};
pub use headers::{security_headers, CspNonce};
