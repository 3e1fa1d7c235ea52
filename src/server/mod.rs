//! Everything that runs only on the server: configuration, storage, services, adapters.

pub mod admin;
pub mod app_state;
pub mod assets;
pub mod auth;
pub mod booking_queue;
pub mod config;
pub mod db;
pub mod domain;
pub mod http_error;
pub mod jobs;
pub mod mail;
pub mod memory;
pub mod outgoing_webhooks;
pub mod password;
pub mod recording_store;
pub mod repo;
pub mod rest;
pub mod security;
pub mod seed;
pub mod service;
pub mod session_cache;
pub mod slot_turns;
pub mod startup;
pub mod telemetry;
pub mod unavailable;
pub mod zoom;
