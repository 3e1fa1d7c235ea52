//! A specialist's page, `/s/<handle>`: the handle and bio they set, and for anyone their
//! offerings and the sessions open. A former handle leads to the current one for 90 days.

use crate::error::{AppError, AppResult};
use crate::model::{MyPageView, OfferingSummary, PageInput, Role, SpecialistPage};
use crate::server::app_state::AppState;
use crate::server::auth::Caller;
use crate::server::domain::Handle;
use crate::server::repo::handles::{self, Claimed};
use crate::server::repo::offerings;
use crate::server::repo::slots::{self, BrowseFilter};

use super::{require_role, unexpected};

const MAX_BIO_CHARS: usize = 500;
/// Sessions a page lists at most.
const MAX_SESSIONS: u32 = 100;
pub const NOT_FOUND: &str = "No specialist has this page";

/// Sets the caller's handle, bio and guest setting; what was saved.
pub async fn set(
    state: &AppState,
    caller: Option<&Caller>,
    input: PageInput,
) -> AppResult<PageInput> {
    let caller = require_role(caller, Role::Specialist, "Only specialists have a page.")?;
    let handle = Handle::parse(&input.handle)?;
    let bio = input
        .bio
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    if bio
        .as_ref()
        .is_some_and(|b| b.chars().count() > MAX_BIO_CHARS)
    {
        return Err(AppError::bad_request(format!(
            "bio must be at most {MAX_BIO_CHARS} characters"
        )));
    }
    match handles::claim(
        &state.db,
        &caller.user_id,
        handle.as_str(),
        bio.as_deref(),
        input.guest_booking,
    )
    .await
    .map_err(unexpected("saving a page's handle"))?
    {
        Claimed::Ours => Ok(PageInput {
            handle: handle.as_str().to_string(),
            bio,
            guest_booking: input.guest_booking,
        }),
        Claimed::Taken => Err(AppError::conflict(
            "That handle is taken: please choose another",
        )),
    }
}

/// The caller's own handle and bio.
pub async fn mine(state: &AppState, caller: Option<&Caller>) -> AppResult<MyPageView> {
    let caller = require_role(caller, Role::Specialist, "Only specialists have a page.")?;
    let owner = handles::owner(&state.db, &caller.user_id)
        .await
        .map_err(unexpected("reading a page"))?;
    Ok(owner
        .map(|o| MyPageView {
            handle: o.handle,
            bio: o.bio,
            guest_booking: o.guest_booking.unwrap_or_default(),
        })
        .unwrap_or_default())
}

/// What a handle leads to.
pub enum Page {
    Found(Box<SpecialistPage>),
    /// A former handle: the page is at this one now.
    Moved(String),
}

pub async fn by_handle(state: &AppState, raw: &str) -> AppResult<Page> {
    let not_found = || AppError::not_found(NOT_FOUND);
    let handle = Handle::parse(raw).map_err(|_| not_found())?;
    let found = handles::resolve(&state.db, handle.as_str())
        .await
        .map_err(unexpected("reading a page"))?
        .ok_or_else(not_found)?;
    if let Some(current) = found.current_handle.filter(|c| c != handle.as_str()) {
        return Ok(Page::Moved(current));
    }
    let owner = handles::owner(&state.db, &found.user)
        .await
        .map_err(unexpected("reading a page"))?
        .filter(|o| o.role == Role::Specialist)
        .ok_or_else(not_found)?;
    let offerings = offerings::of_specialist(&state.db, &found.user)
        .await
        .map_err(unexpected("reading a page's offerings"))?
        .into_iter()
        .map(|o| OfferingSummary {
            id: o.id,
            title: o.title,
            description: o.description,
            duration: o.duration,
            capacity: o.capacity,
        })
        .collect();
    let sessions = slots::browse(
        &state.db,
        &BrowseFilter {
            specialist: Some(found.user.clone()),
            from: None,
            to: None,
            offset: 0,
            limit: MAX_SESSIONS,
            include_full: false,
        },
    )
    .await
    .map_err(unexpected("reading a page's sessions"))?
    .iter()
    .map(|s| s.view())
    .collect();
    Ok(Page::Found(Box::new(SpecialistPage {
        handle: handle.as_str().to_string(),
        name: owner.name,
        bio: owner.bio,
        timezone: owner.timezone,
        offerings,
        sessions,
        guest_booking: owner.guest_booking.unwrap_or_default(),
    })))
}
