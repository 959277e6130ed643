//! Integration tests of the ESR Access API: a real server on a random port with its own fresh
//! database, driven over HTTP like the mobile app. Tests that touch the database run on
//! SQLite and, when `ESR_TEST_DATABASE_URL` is set, on PostgreSQL too.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;

mod admin;
mod anonymous_floods;
mod app_association;
mod audit_chain;
mod auth;
mod breached;
mod browser;
mod cli;
mod consequences;
mod data_protection;
mod delivery;
mod deploy;
mod errors;
mod foreign_provider;
mod health;
mod import;
mod leavers;
mod lockout;
mod me;
mod openapi;
mod organisations;
mod passkeys;
mod password_policy;
mod readme_cookbook;
mod recovery;
mod retention;
mod second_factor;
mod self_service;
mod smartcard;
mod smtp_server;
mod smtp_tls;
mod sweep;
mod takeover;
mod welsh;
