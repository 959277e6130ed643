//! Helpers shared by the test binaries and benches of this workspace, a dev-dependency only.
//! One crate instead of each test binary compiling its own copy of the same files.

pub mod scratch_pg;
pub mod wait;
