//! Integration tests through the real router: one binary, a module per feature. Each is an
//! `#[engine_test]`, on a thread with the stack SurrealDB's engine needs.

#[macro_use]
extern crate specialistly_test_macros;

mod account;
mod api_tokens;
mod appointments;
mod auth;
mod authorization;
mod bad_input;
mod booking;
mod busy_calendars;
mod calendar;
mod faults;
mod guests;
mod hardening;
mod helpers;
mod idempotency;
mod jobs;
mod lifecycle;
mod live_updates;
mod logs;
mod mail;
mod make_run_build;
mod metrics;
mod nginx;
mod offerings;
mod outgoing_webhooks;
pub mod page_cache;
mod pages;
mod password_reset;
mod profile;
mod recordings;
mod reminders;
mod revocation;
mod server_outage;
mod slots;
mod ssr_pages;
mod surreal_server;
mod two_instances;
mod verification;
mod waitlist;
mod zoom;
mod zoom_double;
pub mod zoom_events;
