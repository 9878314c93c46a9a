//! Realm's test harness: real directory servers, started by the tests themselves.
//!
//! Every server runs on loopback with private ports, its configuration and data in a fresh
//! temporary directory, and is torn down when its handle is dropped, or, for servers shared by a
//! whole test binary, by a watchdog once the test process is gone. No Docker, no mocks: the
//! binaries come from Debian packages, and a missing binary is a test failure whose message says
//! which package to install ([`util::require_binary`]).
// Harness code: a failure to start a server is a failed test, so panicking with a clear message
// is the right outcome.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod bench;
pub mod kdc;
pub mod samba;
pub mod slapd;
pub mod tls;
pub mod util;
