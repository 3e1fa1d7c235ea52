//! Who is signed in, as every page and the navigation bar see it.

use leptos::prelude::*;

use crate::api::accounts::Logout;
use crate::model::UserView;

/// The signed-in user, read again on every navigation (logging in or registering ends with
/// one) and after logging out.
#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Option<UserView>>,
    pub logout: ServerAction<Logout>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
