//! Rows as stored in SurrealDB and the queries that read and write them.

pub mod bookings;
pub mod counters;
pub mod jobs;
#[cfg(test)]
mod plans;
pub mod sessions;
pub mod slots;
pub mod users;
pub mod verifications;
pub mod waitlist;

use crate::server::db::DbError;

/// Turns a `THROW` of one of `refusals` (found by its tag) into that refusal; any other error
/// stays an error. The only place outside `db` that reads thrown messages.
fn refused<T, R: Copy>(
    error: DbError,
    refusals: &[R],
    tag: impl Fn(R) -> &'static str,
) -> Result<Result<T, R>, DbError> {
    if let DbError::Thrown(message) = &error {
        if let Some(r) = refusals.iter().find(|r| message.contains(tag(**r))) {
            return Ok(Err(*r));
        }
        return Err(DbError::Other(format!("unexpected THROW: {message}")));
    }
    Err(error)
}
