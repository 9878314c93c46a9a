//! The README's first command: `cargo run -q -p realm-examples --bin demo` must succeed and show
//! alice's roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn demo_runs_and_every_exchange_goes_as_expected() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(r#""identity":"alice","roles":["admin","monitor"]"#),
        "{stdout}"
    );
    assert!(
        stdout.contains("accepted as alice, roles admin, monitor"),
        "{stdout}"
    );
    assert!(
        stdout.contains("All 5 exchanges went as expected"),
        "{stdout}"
    );
    // The transcript masks passwords.
    assert!(!stdout.contains("wonderland\""), "{stdout}");
    assert!(!stdout.contains("builder"), "{stdout}");
}

#[test]
fn demo_with_a_bad_config_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/no-such-config.yaml"))
        .output()
        .expect("run the demo");
    assert_eq!(out.status.code(), Some(2));
}
