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
mod ldap;
mod ldap_ad;
mod login;
mod membership;
mod secrets;
mod secure_cluster;
mod tls;
mod users;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A `tracing` writer that keeps everything written, for tests that read the logs.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

/// A fresh, empty temporary directory for one test (`area` and `name` keep tests apart).
pub fn temp_dir(area: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("realm-{area}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `realm ARGS` run in `dir`, with stdin, stdout and stderr piped; add environment before running.
pub fn realm_command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(realm_bin());
    c.args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Writes `stdin` to a started `realm` and waits for it.
pub fn feed(mut child: Child, stdin: &str) -> Output {
    // The command may exit (e.g. on a configuration error) before it reads stdin: a closed pipe
    // is not a test failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// Runs a prepared `realm` command with `stdin`.
pub fn run(mut command: Command, stdin: &str) -> Output {
    feed(command.spawn().unwrap(), stdin)
}

/// Lossy UTF-8 of captured output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
