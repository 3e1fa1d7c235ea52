//! Rows as stored in SurrealDB and the queries that read and write them.

pub mod bookings;
pub mod slots;
pub mod users;
