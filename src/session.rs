//! Who is signed in, as every page and the navigation bar see it.

use leptos::prelude::*;

use crate::api::accounts::Logout;
use crate::model::UserView;

/// The signed-in user, read once per page: every navigation, logging in and out included,
/// loads a page from the server.
#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Option<UserView>>,
    pub logout: ServerAction<Logout>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
