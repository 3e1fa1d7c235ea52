//! Feedback after a session: one single-use link emailed to a customer who attended, the
//! answer (1–5 and a comment), and the specialist's list with its average.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::model::{FeedbackInvite, FeedbackSummary, Role};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::jobs::NewJob;
use crate::server::mail::templates::{self, Appointment};
use crate::server::repo::bookings::BookingRow;
use crate::server::repo::feedback::{self, SubmitRefusal};
use crate::server::repo::slots::SlotRow;
use crate::server::security::secret_links;

use super::unexpected;

pub const ALREADY_GIVEN: &str = "Feedback was already given";
pub const BAD_RATING: &str = "rating must be between 1 and 5";
pub const UNKNOWN: &str = "This feedback link is not valid (or has expired)";
pub const MAX_COMMENT_CHARS: usize = 2000;
/// How long a link works.
const LINK_DAYS: i64 = 30;

/// Emails the customer of an attended booking a link to rate it, once per booking.
pub async fn request(state: &AppState, slot: &SlotRow, booking: &BookingRow) -> anyhow::Result<()> {
    // The link's record id is the token's hash: only the email holds the token.
    let token = secret_links::new_token();
    let id = secret_links::token_hash(&token);
    let link = format!("{}/feedback/{token}", state.config.http.base_url);
    let email = templates::feedback_request(
        &Appointment::for_booking(slot, booking, &state.manage_links()),
        &link,
    );
    let expires_at = chrono::Utc::now() + chrono::Duration::days(LINK_DAYS);
    feedback::create(
        &state.db,
        &id,
        &booking.id,
        &slot.specialist,
        expires_at,
        &NewJob::email(&email),
    )
    .await?;
    Ok(())
}

/// The session a link asks about, and the answer if given already.
pub async fn invite(state: &AppState, token: &str) -> AppResult<FeedbackInvite> {
    let id = secret_links::hash_of_issued(token).ok_or_else(|| AppError::not_found(UNKNOWN))?;
    feedback::invite(&state.db, &id)
        .await
        .map_err(unexpected("reading a feedback link"))?
        .ok_or_else(|| AppError::not_found(UNKNOWN))
}

/// The answer as sent: the rating is checked here so that any JSON gets the same message.
#[derive(Debug, Deserialize)]
pub struct FeedbackInput {
    #[serde(default)]
    pub rating: Value,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Stores the answer given through the link `token`.
pub async fn submit(state: &AppState, token: &str, input: FeedbackInput) -> AppResult<()> {
    let id = secret_links::hash_of_issued(token).ok_or_else(|| AppError::not_found(UNKNOWN))?;
    let rating = match &input.rating {
        Value::Number(n) => n.as_u64().filter(|r| (1..=5).contains(r)),
        Value::String(s) => s.trim().parse::<u64>().ok().filter(|r| (1..=5).contains(r)),
        _ => None,
    }
    .ok_or_else(|| AppError::bad_request(BAD_RATING))? as u8;
    let comment = input
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(AppError::bad_request(
            "comment must be at most 2,000 characters",
        ));
    }
    match feedback::submit(&state.db, &id, rating, comment)
        .await
        .map_err(unexpected("storing feedback"))?
    {
        Ok(()) => Ok(()),
        Err(SubmitRefusal::Unknown) => Err(AppError::not_found(UNKNOWN)),
        Err(SubmitRefusal::AlreadyGiven) => Err(AppError::conflict(ALREADY_GIVEN)),
    }
}

/// The specialist's answers, latest first, with their average.
pub async fn summary(state: &AppState, caller: Option<&Caller>) -> AppResult<FeedbackSummary> {
    let caller = super::require_role(caller, Role::Specialist, "Only specialists get feedback.")?;
    let all = feedback::of_specialist(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading feedback"))?;
    let count = all.len() as u32;
    let average = (count > 0).then(|| {
        let sum: u32 = all.iter().map(|f| u32::from(f.feedback.rating)).sum();
        (f64::from(sum) / f64::from(count) * 10.0).round() / 10.0
    });
    Ok(FeedbackSummary {
        average,
        count,
        latest: all.into_iter().take(50).collect(),
    })
}
