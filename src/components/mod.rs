//! Reusable pieces of pages.

pub mod booking_modal;
pub mod calendar_feed;
pub mod copy_button;
pub mod error_view;
pub mod icon;
pub mod live_events;
pub mod meeting_events;
pub mod meeting_manager;
pub mod reminder_toggle;
pub mod visitor_booking;
