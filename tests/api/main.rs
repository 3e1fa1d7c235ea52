//! Integration tests through the real router: one binary, a module per feature.

mod appointments;
mod auth;
mod authorization;
mod bad_input;
mod booking;
mod calendar;
mod faults;
mod hardening;
mod helpers;
mod jobs;
mod lifecycle;
mod live_updates;
mod logs;
mod mail;
mod metrics;
mod nginx;
mod recordings;
mod reminders;
mod server_outage;
mod slots;
mod surreal_server;
mod two_instances;
mod verification;
mod waitlist;
mod zoom;
mod zoom_double;
pub mod zoom_events;
