//! The real `esr-api` binary, started as child processes with environment configuration:
//! two instances sharing one PostgreSQL database, and the faults a deployment meets (database
//! cut off, SMTP relay down or stalling, slow identity provider, a full disk, SIGTERM and
//! SIGKILL). External parties (SMTP relay, identity provider, the network path to the
//! database) are played by small servers in the test; everything of ours is the real thing.
//!
//! PostgreSQL tests print a skip line and pass when `ESR_TEST_DATABASE_URL` is unset. Every
//! wait is bounded, and children are killed when their handle is dropped.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod delivery_errors;
mod faults;
mod harness;
mod idp;
mod log_secrets;
mod proxy;
mod sink;
mod two_instances;
