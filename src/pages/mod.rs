//! One module per routed page.

pub mod account;
pub mod appointments;
pub mod auth;
pub mod availability;
pub mod errors;
pub mod feedback;
pub mod home;
pub mod integrations;
pub mod manage;
pub mod meeting_manager;
pub mod slots;
pub mod specialist;
pub mod specialist_page;
