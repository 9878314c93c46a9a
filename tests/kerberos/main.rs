//! Kerberos integration tests against a real MIT KDC (`krb5kdc`) that this binary starts.
//!
//! MIT krb5 reads its configuration (`KRB5_CONFIG`) from the environment, and a running Rust
//! program must not change its own environment. So this is a `harness = false` test: the
//! process started by `cargo test` creates the realm (principals, keytabs) with
//! [`realm_testkit::kdc::Kdc`], runs itself again with the realm's environment, reports that
//! child's result and removes the realm. The child runs the cases below, concurrently, and
//! prints one line per case as libtest does. Pass words as arguments to run only the cases whose
//! names contain one of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cases;
mod fixture;

use std::process::{Command, ExitCode};

/// The variable that tells the child where the realm lives.
const DIR_VAR: &str = "REALM_TEST_KDC_DIR";

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let Some(dir) = std::env::var_os(DIR_VAR) {
        return cases::run(std::path::PathBuf::from(dir), &filters);
    }
    let kdc = fixture::create_realm();
    let exe = std::env::current_exe().expect("the test binary's path");
    let status = Command::new(exe)
        .args(std::env::args().skip(1))
        .envs(kdc.env())
        .env(DIR_VAR, kdc.dir())
        .status()
        .expect("re-running the test binary with the realm's environment");
    if !status.success() {
        eprintln!(
            "--- krb5kdc log (tail) ---\n{}",
            realm_testkit::util::tail(&kdc.dir().join("kdc.log"), 40)
        );
    }
    drop(kdc);
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
