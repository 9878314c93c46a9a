//! The `realm` command, driven as a user would.

use crate::{realm_bin, repo};
use std::path::Path;
use std::process::{Command, Output};

fn realm(args: &[&str], dir: &Path) -> Output {
    crate::run(crate::realm_command(dir, args), "")
}

fn tmp(name: &str) -> std::path::PathBuf {
    crate::temp_dir("cli", name)
}

const SECRET_CONFIG: &str = r#"security:
  realms:
    - name: simpleRealm
      authentication:
        simple:
          users:
            - username: alice
              password: Tr0ub4dor-SECRET
              roles: [admin]
    - name: ldapRealm
      authentication:
        ldap:
          url: ldap://127.0.0.1:389
          system-user-dn: cn=admin,dc=example,dc=com
          system-user-password: ${env:REALM_TEST_LDAP_PW}
          role-mapping-attribute: memberOf
      identity:
        token:
          encoding: base64
          value: U0VDUkVULVRPS0VO
  client-authentication:
    realm: simpleRealm
"#;

#[test]
fn check_prints_ok_per_file_and_exits_0() {
    let root = repo();
    let out = realm(
        &[
            "check",
            "tests/configs/valid/full-member.xml",
            "tests/configs/valid/full-member.yaml",
        ],
        &root,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "tests/configs/valid/full-member.xml: ok\ntests/configs/valid/full-member.yaml: ok\n"
    );
}

#[test]
fn check_reports_every_error_with_position_and_exits_2() {
    let d = tmp("errors");
    std::fs::write(
        d.join("bad.yaml"),
        "security:\n  enabled: on\n  realms:\n    - name: r\n      authentication:\n        tls:\n          roleAttribute: c n\n  member-authentication:\n    realm: nope\n",
    )
    .unwrap();
    std::fs::write(d.join("good.yaml"), "security:\n  realms: []\n").unwrap();
    let out = realm(&["check", "good.yaml", "bad.yaml"], &d);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "good.yaml: ok\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:2:12: security.enabled: expected a boolean"),
        "{err}"
    );
    assert!(err.contains("bad.yaml:7:26: security.realms[r].authentication.tls.roleAttribute: expected an attribute type"), "{err}");
    assert!(
        err.contains("bad.yaml:9:12: security.member-authentication.realm: no realm named `nope`"),
        "{err}"
    );
}

#[test]
fn check_warns_but_passes_on_missing_files_and_unknown_classes() {
    let d = tmp("warn");
    std::fs::write(
        d.join("k.xml"),
        r#"<security><realms>
  <realm name="k"><authentication><kerberos><principal>hz/h@R</principal><keytab-file>missing.keytab</keytab-file></kerberos></authentication></realm>
  <realm name="j"><authentication><jaas><login-module class-name="com.example.Custom"/></jaas></authentication></realm>
</realms></security>"#,
    )
    .unwrap();
    let out = realm(&["check", "k.xml"], &d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "k.xml:2:87: security.realms[k].authentication.kerberos.keytab-file: warning: file"
        ),
        "{err}"
    );
    assert!(err.contains("missing.keytab does not exist"), "{err}");
    assert!(err.contains("k.xml:3:67: security.realms[j].authentication.jaas[0].class-name: warning: login-module class `com.example.Custom` is not registered"), "{err}");
}

#[test]
fn dump_fills_defaults_and_never_prints_secrets() {
    let d = tmp("dump");
    std::fs::write(d.join("s.yaml"), SECRET_CONFIG).unwrap();
    let out = Command::new(realm_bin())
        .args(["config", "dump", "s.yaml"])
        .current_dir(&d)
        .env("REALM_TEST_LDAP_PW", "LDAP-ADMIN-SECRET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "Tr0ub4dor-SECRET",
        "LDAP-ADMIN-SECRET",
        "SECRET-TOKEN",
        "U0VDUkVULVRPS0VO",
    ] {
        assert!(!dump.contains(secret), "dump leaks {secret}:\n{dump}");
    }
    let v: serde_json::Value = serde_json::from_str(&dump).unwrap();
    let ldap = &v["realms"][1]["authentication"]["ldap"];
    assert_eq!(ldap["system-user-password"], "<redacted>");
    assert_eq!(ldap["user-filter"], "(uid={login})");
    assert_eq!(ldap["user-name-attribute"], "uid");
    assert_eq!(ldap["role-mapping-mode"], "attribute");
    assert_eq!(ldap["role-recursion-max-depth"], 1);
    assert_eq!(ldap["role-search-scope"], "subtree");
    assert_eq!(ldap["system-authentication"], "simple");
    assert_eq!(ldap["role-filter"], "(memberOf={memberDN})");
    assert_eq!(v["realms"][1]["identity"]["token"]["value"], "<redacted>");
    assert_eq!(
        v["realms"][0]["authentication"]["simple"]["users"][0]["password"],
        "<redacted>"
    );
    // Keys are sorted: canonical output.
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn unresolved_env_placeholder_is_an_error_with_position() {
    let d = tmp("env");
    std::fs::write(d.join("s.yaml"), SECRET_CONFIG).unwrap();
    let out = Command::new(realm_bin())
        .args(["check", "s.yaml"])
        .current_dir(&d)
        .env_remove("REALM_TEST_LDAP_PW")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s.yaml:15:33: security.realms[ldapRealm].authentication.ldap.system-user-password: placeholder `${env:REALM_TEST_LDAP_PW}`: environment variable `REALM_TEST_LDAP_PW` is not set"),
        "{err}"
    );
}

#[test]
fn convert_writes_the_other_syntax_with_the_same_meaning() {
    let d = tmp("convert");
    std::fs::write(d.join("s.yaml"), SECRET_CONFIG).unwrap();
    let env = [("REALM_TEST_LDAP_PW", "x")];
    let run = |args: &[&str]| {
        let out = Command::new(realm_bin())
            .args(args)
            .current_dir(&d)
            .envs(env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["convert", "s.yaml", "--to", "xml", "-o", "s.xml"]);
    let xml = std::fs::read_to_string(d.join("s.xml")).unwrap();
    assert!(
        xml.contains("${env:REALM_TEST_LDAP_PW}"),
        "placeholders are kept:\n{xml}"
    );
    assert!(
        xml.contains(r#"<user username="alice" password="Tr0ub4dor-SECRET">"#),
        "{xml}"
    );
    assert_eq!(
        run(&["config", "dump", "s.xml"]),
        run(&["config", "dump", "s.yaml"])
    );
    let back = run(&["convert", "s.xml", "--to", "yaml"]);
    std::fs::write(d.join("back.yaml"), back).unwrap();
    assert_eq!(
        run(&["config", "dump", "back.yaml"]),
        run(&["config", "dump", "s.yaml"])
    );
}

#[test]
fn readme_quick_start_config_checks_and_dumps() {
    let root = repo();
    let out = realm(&["check", "examples/configs/embedded.yaml"], &root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = realm(&["config", "dump", "examples/configs/embedded.yaml"], &root);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"client-authentication\""));
}
