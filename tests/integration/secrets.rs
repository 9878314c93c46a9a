//! No secret appears in any output: `Debug` of every type a server handles, `Display` of errors,
//! traces, log lines (captured from `tracing` at TRACE level), the canonical dump, config errors,
//! and the `realm` command's stdout and stderr. The test passwords are distinctive strings; the
//! test greps every output for each of them.

use crate::Captured;
use realm_core::config::{LoadOptions, Syntax, load_str};
use realm_core::{Credentials, Endpoint, Registry, Security};

const SECRETS: &[&str] = &[
    "PLAIN-pw-4711",
    "LDAP-admin-pw-0815",
    "TOKEN-bytes-9999",
    "IDENTITY-pw-1234",
    "PROP-pw-5555",
    "WRONG-pw-0000",
];

const CONFIG: &str = r#"security:
  realms:
    - name: users
      authentication:
        simple:
          users:
            - {username: alice, password: "PLAIN-pw-4711", roles: [admin]}
      identity:
        username-password: {username: member, password: "IDENTITY-pw-1234"}
    - name: chained
      authentication:
        jaas:
          - class-name: realm.simple.SimpleLoginModule
            properties:
              password.bob: "PROP-pw-5555"
      identity:
        token: {encoding: none, value: "TOKEN-bytes-9999"}
    - name: ldap
      authentication:
        ldap:
          url: ldap://127.0.0.1:1
          system-user-dn: cn=admin,dc=example,dc=com
          system-user-password: ${env:ADMIN_PW}
          role-mapping-attribute: memberOf
  client-authentication: {realm: users}
"#;

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains the secret {s}:\n{text}");
    }
}

#[test]
fn no_secret_in_debug_display_dump_traces_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let env = |k: &str| (k == "ADMIN_PW").then(|| "LDAP-admin-pw-0815".to_string());
    let mut outputs: Vec<(String, String)> = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        let loaded = load_str(
            CONFIG,
            Syntax::Yaml,
            "s.yaml".as_ref(),
            &LoadOptions { env: Some(&env) },
        )
        .unwrap();
        outputs.push((
            "Debug of the loaded configuration".into(),
            format!("{loaded:?}"),
        ));
        outputs.push(("dump".into(), loaded.dump()));
        let mut registry = Registry::new();
        realm_jaas_chain::register(&mut registry);
        // The ldap type is not registered in this test: the build error must not carry secrets either.
        let err = Security::from_config(&loaded.config, &registry).unwrap_err();
        outputs.push(("build error".into(), format!("{err} {err:?}")));

        let mut without_ldap = loaded.config.clone();
        without_ldap.realms.retain(|r| r.name != "ldap");
        let security = Security::from_config(&without_ldap, &registry).unwrap();
        outputs.push(("Debug of Security".into(), format!("{security:?}")));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (realm, user, pw) in [
            ("users", "alice", "PLAIN-pw-4711"),
            ("users", "alice", "WRONG-pw-0000"),
            ("users", "mallory", "WRONG-pw-0000"),
            ("chained", "bob", "PROP-pw-5555"),
            ("chained", "bob", "WRONG-pw-0000"),
        ] {
            let r = security.realm(realm).unwrap();
            let creds = Credentials::password(user, pw);
            outputs.push(("Debug of credentials".into(), format!("{creds:?}")));
            let (result, trace) = rt.block_on(r.login_traced(
                creds,
                Endpoint::from_addr("127.0.0.1:5701".parse().unwrap()),
            ));
            outputs.push((format!("result {realm}/{user}"), format!("{result:?}")));
            if let Err(e) = &result {
                outputs.push(("error Display".into(), e.to_string()));
            }
            outputs.push((format!("trace {realm}/{user}"), format!("{trace}{trace:?}")));
        }
        let peer = Endpoint::default();
        for realm in ["users", "chained"] {
            let c = rt
                .block_on(security.realm(realm).unwrap().credentials_for(&peer))
                .unwrap();
            outputs.push(("Debug of identity credentials".into(), format!("{c:?}")));
        }
    });
    outputs.push((
        "logs".into(),
        String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned(),
    ));
    // The logs really were captured (the test would pass vacuously otherwise).
    assert!(
        outputs.last().unwrap().1.contains("login denied"),
        "{}",
        outputs.last().unwrap().1
    );
    for (what, text) in &outputs {
        assert_clean(what, text);
    }
}

#[test]
fn config_errors_near_secrets_do_not_repeat_them() {
    let bad = "security:\n  realms:\n    - name: t\n      identity:\n        token: {encoding: base64, value: \"TOKEN-bytes-9999\"}\n";
    let err = load_str(
        bad,
        Syntax::Yaml,
        "t.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("is not valid base64"), "{err}");
    assert_clean("config error", &format!("{err} {err:?}"));
    let xml = r#"<security><realms><realm name="p"><identity><username-password username="u" password="PLAIN-pw-4711&bogus;"/></identity></realm></realms></security>"#;
    let err = load_str(xml, Syntax::Xml, "p.xml".as_ref(), &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("unknown entity reference"),
        "{err}"
    );
    assert_clean("config error", &format!("{err} {err:?}"));
}

#[test]
fn the_realm_command_never_prints_secrets() {
    let d = std::env::temp_dir().join(format!("realm-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("s.yaml"), CONFIG.replace("    - name: ldap\n      authentication:\n        ldap:\n          url: ldap://127.0.0.1:1\n          system-user-dn: cn=admin,dc=example,dc=com\n          system-user-password: ${env:ADMIN_PW}\n          role-mapping-attribute: memberOf\n", "")).unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut c = crate::realm_command(&d, args);
        c.env("ADMIN_PW", "LDAP-admin-pw-0815");
        let out = crate::run(c, stdin);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for (args, stdin) in [
        (vec!["check", "s.yaml"], ""),
        (vec!["config", "dump", "s.yaml"], ""),
        (
            vec![
                "login",
                "--config",
                "s.yaml",
                "--client",
                "--username",
                "alice",
                "--password-stdin",
                "--trace",
                "--json",
            ],
            "PLAIN-pw-4711",
        ),
        (
            vec![
                "login",
                "--config",
                "s.yaml",
                "--client",
                "--username",
                "alice",
                "--password-stdin",
                "--trace",
            ],
            "WRONG-pw-0000",
        ),
        (
            vec![
                "login",
                "--config",
                "s.yaml",
                "--realm",
                "chained",
                "--username",
                "bob",
                "--password-stdin",
                "--trace",
            ],
            "PROP-pw-5555",
        ),
    ] {
        let out = run(&args, stdin);
        assert!(!out.is_empty());
        assert_clean(&format!("realm {args:?}"), &out);
    }
}

/// A user name is peer input: with a newline in it, it must not be able to forge a log line such
/// as "login succeeded … user=admin" (found while writing the example server).
#[test]
fn user_names_cannot_forge_log_lines() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let forged = "eve\n2026-01-01T00:00:00Z  INFO login succeeded realm=users user=admin";
    tracing::subscriber::with_default(subscriber, || {
        let loaded = load_str(
            CONFIG,
            Syntax::Yaml,
            "s.yaml".as_ref(),
            &LoadOptions {
                env: Some(&|_| Some("x".into())),
            },
        )
        .unwrap();
        let mut config = loaded.config.clone();
        config.realms.retain(|r| r.name != "ldap");
        let mut registry = Registry::new();
        realm_jaas_chain::register(&mut registry);
        let security = Security::from_config(&config, &registry).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (result, trace) = rt.block_on(
            security
                .realm("users")
                .unwrap()
                .login_traced(Credentials::password(forged, "pw"), Endpoint::default()),
        );
        assert!(result.is_err());
        assert!(!trace.to_string().contains("\n2026-01-01"), "{trace}");
    });
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("login denied"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line made it into the log:\n{text}"
    );
}
