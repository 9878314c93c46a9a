//! Realm integration tests: one test binary (each file under `tests/` would be its own link step,
//! slow on small machines), one module per area.
// Test code: a panic is a failed assertion, so the library's no-panic lints do not apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cli;
mod config_corpus;
mod config_props;
mod examples;
mod file_realm;
mod keychain;
mod keychain_config;
mod login;
mod secrets;
mod users;

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `realm` binary built by this workspace.
pub fn realm_bin() -> PathBuf {
    let mut p = std::env::current_exe().expect("test exe path");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let bin = p.join("realm");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (which builds it) or `cargo build -p realm-cli`",
        bin.display()
    );
    bin
}
