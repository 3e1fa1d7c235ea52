//! Guests: visitors who booked without an account, one record per address. Its key is a hash
//! of the address, so booking twice with one address finds the same guest without a read.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::server::db::{run, with_conflict_retry, Db, DbError};

/// The key of the guest with (normalised) address `email`.
pub fn key_of(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("g{hex}")
}

/// Makes the guest with address `email`, or finds them; their key. The name follows their
/// latest booking; the zone their emails are shown in stays the first one, so a stranger
/// booking with someone's address cannot change how that person's emails read.
pub async fn upsert(db: &Db, email: &str, name: &str, timezone: &str) -> Result<String, DbError> {
    let key = key_of(email);
    let vars = json!({ "key": key, "email": email, "name": name, "timezone": timezone });
    with_conflict_retry("guest_upsert", || {
        run(
            db,
            "UPSERT type::record('guest', $key) SET email = $email, name = $name, timezone = timezone ?? $timezone RETURN NONE;",
            vars.clone(),
        )
    })
    .await?;
    Ok(key)
}

/// The guest's bookings of `specialist`'s sessions still to come: held, or counting.
pub async fn live_bookings_with(db: &Db, guest: &str, specialist: &str) -> Result<u32, DbError> {
    let mut rows = run(
        db,
        "RETURN count((SELECT id FROM booking
            WHERE customer = type::record('guest', $guest) AND status = 'active'
                AND slot.specialist = type::record('user', $specialist)
                AND slot.starts_at > time::now()));",
        json!({ "guest": guest, "specialist": specialist }),
    )
    .await?;
    Ok(rows.first::<u32>(0)?.unwrap_or(0))
}

/// Moves the confirmed bookings of the guest with `email` to the account `user`, which has
/// confirmed that address; how many moved. A hold still unconfirmed stays the guest's (its
/// link confirms it), and so does a booking of a slot the account booked itself.
pub async fn claim(db: &Db, user: &str, email: &str) -> Result<u32, DbError> {
    let vars = json!({ "guest": key_of(email), "user": user });
    let mut rows = with_conflict_retry("guest_claim", || {
        run(
            db,
            "LET $user = type::record('user', $user_key);
            LET $own = (SELECT VALUE slot FROM booking WHERE customer = $user AND status = 'active');
            RETURN count((UPDATE booking SET customer = $user
                WHERE customer = type::record('guest', $guest) AND hold_until = NONE
                    AND slot NOTINSIDE $own));",
            json!({ "guest": vars["guest"], "user_key": vars["user"] }),
        )
    })
    .await?;
    Ok(rows.last::<u32>()?.unwrap_or(0))
}
