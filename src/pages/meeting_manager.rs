//! The Meeting Manager as a page of its own (the dashboard embeds the same component).

use leptos::prelude::*;

use crate::components::meeting_manager::MeetingManager;

#[component]
pub fn MeetingManagerPage() -> impl IntoView {
    view! {
        <h1>"Meeting Manager"</h1>
        <MeetingManager/>
    }
}
