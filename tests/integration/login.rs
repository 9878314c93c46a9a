//! `realm login` end to end: every exit code, JSON output, case-sensitive names, errors that name
//! what is wrong.

use crate::{realm_bin, repo};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn login(args: &[&str], stdin: &str, dir: &Path) -> Output {
    let mut all = vec!["login"];
    all.extend_from_slice(args);
    crate::run(crate::realm_command(dir, &all), stdin)
}

fn dir(name: &str) -> std::path::PathBuf {
    crate::temp_dir("login", name)
}

const CONFIG: &str = r#"security:
  realms:
    - name: users
      authentication:
        simple:
          users:
            - {username: alice, password: "s3cret-Alice", roles: [monitor, admin]}
            - {username: nobody, password: "n0-roles"}
    - name: gate
      authentication:
        jaas:
          - class-name: realm.simple.SimpleLoginModule
            usage: SUFFICIENT
            properties:
              password.carol: "car0l-pw"
              roles.carol: ops,dev
          - class-name: realm.simple.SimpleLoginModule
            usage: SUFFICIENT
            properties:
              password.dave: "dave-pw"
  client-authentication:
    realm: users
"#;

fn setup(name: &str) -> std::path::PathBuf {
    let d = dir(name);
    std::fs::write(d.join("s.yaml"), CONFIG).unwrap();
    d
}

use crate::text;

/// stderr without the build warnings (this config uses plain-text passwords on purpose, and
/// `realm` warns about each of them).
fn errors(b: &[u8]) -> String {
    text(b)
        .lines()
        .filter(|l| !l.starts_with(" WARN"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn success_prints_identity_roles_and_endpoint_as_json_and_exits_0() {
    let d = setup("ok");
    let out = login(
        &[
            "--config",
            "s.yaml",
            "--client",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
            "--endpoint",
            "10.1.2.3:5701",
        ],
        "s3cret-Alice\n",
        &d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"identity\":\"alice\",\"roles\":[\"admin\",\"monitor\"],\"endpoint\":\"10.1.2.3\"}\n"
    );
}

#[test]
fn a_user_without_roles_logs_in_with_an_empty_role_list() {
    let d = setup("noroles");
    let out = login(
        &[
            "--config",
            "s.yaml",
            "--realm",
            "users",
            "--username",
            "nobody",
            "--password-stdin",
            "--json",
        ],
        "n0-roles",
        &d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"identity\":\"nobody\",\"roles\":[],\"endpoint\":null}\n"
    );
}

#[test]
fn wrong_password_unknown_user_and_other_case_are_denied_alike_with_exit_1() {
    let d = setup("denied");
    let mut stderrs = Vec::new();
    for (user, pw) in [
        ("alice", "wrong"),
        ("mallory", "s3cret-Alice"),
        ("Alice", "s3cret-Alice"),
        ("alice", ""),
    ] {
        let out = login(
            &[
                "--config",
                "s.yaml",
                "--client",
                "--username",
                user,
                "--password-stdin",
            ],
            pw,
            &d,
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{user}/{pw}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        stderrs.push(errors(&out.stderr));
    }
    // One generic message: the output never says whether the user exists.
    assert!(
        stderrs
            .iter()
            .all(|e| e == "denied: authentication failed\n"),
        "{stderrs:?}"
    );
}

#[test]
fn jaas_chain_of_builtin_modules_logs_in_through_the_second_sufficient_module() {
    let d = setup("chain");
    let out = login(
        &[
            "--config",
            "s.yaml",
            "--realm",
            "gate",
            "--username",
            "dave",
            "--password-stdin",
            "--trace",
        ],
        "dave-pw",
        &d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("[0] SUFFICIENT login   realm.simple.SimpleLoginModule"),
        "{err}"
    );
    assert!(err.contains("denied: unknown user \"dave\""), "{err}");
    assert!(
        err.contains("[1] SUFFICIENT login   realm.simple.SimpleLoginModule"),
        "{err}"
    );
    assert!(err.contains("SUFFICIENT module [1] succeeded"), "{err}");
    assert!(
        !err.contains("dave-pw"),
        "the trace must not show the password"
    );
}

#[test]
fn configuration_problems_exit_2_and_say_what_is_wrong() {
    let d = setup("config");
    let out = login(
        &[
            "--config",
            "s.yaml",
            "--realm",
            "nope",
            "--username",
            "alice",
            "--password-stdin",
        ],
        "x",
        &d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        errors(&out.stderr),
        "s.yaml: no realm named `nope` (defined realms: users, gate)\n"
    );
    assert!(
        text(&out.stderr)
            .contains("WARN realm `users`: plain-text passwords for `alice`, `nobody`")
    );

    let out = login(
        &[
            "--config",
            "s.yaml",
            "--member",
            "--username",
            "alice",
            "--password-stdin",
        ],
        "x",
        &d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        errors(&out.stderr),
        "s.yaml: the configuration has no member-authentication section\n"
    );

    std::fs::write(d.join("noclient.yaml"), "security:\n  realms: []\n").unwrap();
    let out = login(
        &[
            "--config",
            "noclient.yaml",
            "--client",
            "--username",
            "a",
            "--password-stdin",
        ],
        "x",
        &d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no client-authentication section"));

    std::fs::write(d.join("broken.yaml"), "security:\n  realms: 5\n").unwrap();
    let out = login(
        &[
            "--config",
            "broken.yaml",
            "--client",
            "--username",
            "a",
            "--password-stdin",
        ],
        "x",
        &d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .starts_with("broken.yaml:2:11: security.realms: expected a list of realms, found `5`"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(
        d.join("unknown.yaml"),
        "security:\n  realms:\n    - name: r\n      authentication:\n        jaas:\n          - class-name: com.example.Missing\n  client-authentication: {realm: r}\n",
    )
    .unwrap();
    let out = login(
        &[
            "--config",
            "unknown.yaml",
            "--client",
            "--username",
            "a",
            "--password-stdin",
        ],
        "x",
        &d,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("realm `r`: login-module `com.example.Missing`: not registered (registered login modules: "),
        "{err}"
    );
    // The list names what this binary links, sorted.
    let list = err
        .split("registered login modules: ")
        .nth(1)
        .and_then(|l| l.split(')').next())
        .unwrap_or("");
    let names: Vec<&str> = list.split(", ").collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "{err}");
    for class in [
        "realm.simple.SimpleLoginModule",
        "realm.ini.IniLoginModule",
        "realm.ldap.LdapLoginModule",
        "realm.kerberos.KerberosLoginModule",
        "realm.tls.X509CertificateLoginModule",
        "org.jgroups.auth.FixedMembershipToken",
    ] {
        assert!(names.contains(&class), "{class}: {err}");
    }
}

#[test]
fn token_credentials_against_a_password_realm_are_denied() {
    let d = setup("token");
    std::fs::write(d.join("t.bin"), b"opaque-token").unwrap();
    let out = login(
        &["--config", "s.yaml", "--client", "--token-file", "t.bin"],
        "",
        &d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn the_embedded_default_logs_alice_in() {
    let out = login(
        &[
            "--config",
            "examples/configs/embedded.yaml",
            "--client",
            "--username",
            "alice",
            "--password-stdin",
            "--json",
        ],
        "wonderland\n",
        &repo(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\"identity\":\"alice\",\"roles\":[\"admin\",\"monitor\"],\"endpoint\":null}\n"
    );
}

#[test]
fn hash_password_writes_a_phc_string_that_logs_in() {
    let d = dir("hash");
    let mut child = Command::new(realm_bin())
        .args(["hash-password", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Corr3ct-horse\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let phc = text(&out.stdout).trim().to_string();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    std::fs::write(
        d.join("h.yaml"),
        format!("security:\n  realms:\n    - name: r\n      authentication:\n        simple:\n          users:\n            - {{username: u, password: \"{phc}\"}}\n  client-authentication: {{realm: r}}\n"),
    )
    .unwrap();
    let ok = login(
        &[
            "--config",
            "h.yaml",
            "--client",
            "--username",
            "u",
            "--password-stdin",
        ],
        "Corr3ct-horse",
        &d,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let bad = login(
        &[
            "--config",
            "h.yaml",
            "--client",
            "--username",
            "u",
            "--password-stdin",
        ],
        "Corr3ct-horsE",
        &d,
    );
    assert_eq!(bad.status.code(), Some(1));
}
