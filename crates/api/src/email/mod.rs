//! Email: what is sent (templates), how it leaves (transports), and queueing through the
//! outbox in the transaction of the change that causes it.

pub mod delivery;
pub mod error;
pub mod notify;
pub mod notify_fields;
pub mod templates;
pub mod transport;
