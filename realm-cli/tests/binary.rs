//! Builds the `realm` binary for the workspace's integration tests (in `tests/`), which drive it
//! as a user would, and checks that it starts.

#[test]
fn realm_binary_answers_version() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_realm"))
        .arg("--version")
        .output()
        .expect("run realm");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("realm "));
}
