//! Integration tests through the real router: one binary, a module per feature.

mod appointments;
mod auth;
mod authorization;
mod bad_input;
mod booking;
mod faults;
mod hardening;
mod helpers;
mod jobs;
mod lifecycle;
mod logs;
mod mail;
mod reminders;
mod slots;
mod verification;
mod waitlist;
mod zoom;
mod zoom_double;
