//! `${keychain:URI}` in configurations: resolved from the keychain named in the `keychain` section
//! (or `REALM_KEYCHAIN`), redacted in dumps; a missing entry, a wrong master password or no keychain
//! at all are config errors with the placeholder's position.

use realm_core::Secret;
use realm_core::config::{LdapConfig, LoadOptions, Syntax, load_str};
use realm_core::keychain::{Keychain, KeychainMode};

fn dir(name: &str) -> std::path::PathBuf {
    crate::temp_dir("kc-config", name)
}

const URI: &str = "ldap://admin@ldap.example.com:389";

fn keychain(d: &std::path::Path) {
    let master = Secret::from("master-pw-1");
    let mut k = Keychain::create(KeychainMode::Encrypted, Some(&master)).unwrap();
    k.insert(URI, Secret::from("LDAP-ADMIN-from-keychain"));
    k.save(&d.join("server.keychain")).unwrap();
}

fn config(keychain_section: &str) -> String {
    format!(
        "security:\n{keychain_section}  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: ldap://ldap.example.com:389\n          system-user-dn: cn=admin,dc=example,dc=com\n          system-user-password: ${{keychain:{URI}}}\n          role-mapping-attribute: memberOf\n"
    )
}

fn ldap(l: &realm_core::config::Loaded) -> &LdapConfig {
    match &l.config.realms[0].authentication {
        Some(realm_core::config::AuthenticationConfig::Ldap(c)) => c,
        _ => panic!("not ldap"),
    }
}

#[test]
fn keychain_section_resolves_placeholders_and_dump_redacts_them() {
    let d = dir("ok");
    keychain(&d);
    let env = |k: &str| (k == "KC_MASTER").then(|| "master-pw-1".to_string());
    let text =
        config("  keychain:\n    path: server.keychain\n    master-password: ${env:KC_MASTER}\n");
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        &d.join("s.yaml"),
        &LoadOptions { env: Some(&env) },
    )
    .unwrap();
    assert_eq!(
        ldap(&loaded)
            .system_user_password
            .as_ref()
            .unwrap()
            .expose_str(),
        Some("LDAP-ADMIN-from-keychain")
    );
    let dump = loaded.dump();
    assert!(
        !dump.contains("LDAP-ADMIN-from-keychain") && !dump.contains("master-pw-1"),
        "{dump}"
    );
    assert!(
        dump.contains("\"master-password\": \"<redacted>\""),
        "{dump}"
    );
    // The XML form means the same.
    let xml = loaded.convert(Syntax::Xml);
    assert!(
        xml.contains("<keychain path=\"server.keychain\" master-password=\"${env:KC_MASTER}\"/>"),
        "{xml}"
    );
    let again = load_str(
        &xml,
        Syntax::Xml,
        &d.join("s.xml"),
        &LoadOptions { env: Some(&env) },
    )
    .unwrap();
    assert_eq!(again.dump(), dump);
}

#[test]
fn keychain_from_the_environment() {
    let d = dir("env");
    keychain(&d);
    let path = d.join("server.keychain").display().to_string();
    let env = move |k: &str| match k {
        "REALM_KEYCHAIN" => Some(path.clone()),
        "REALM_KEYCHAIN_PASSWORD" => Some("master-pw-1".to_string()),
        _ => None,
    };
    let loaded = load_str(
        &config(""),
        Syntax::Yaml,
        &d.join("s.yaml"),
        &LoadOptions { env: Some(&env) },
    )
    .unwrap();
    assert_eq!(
        ldap(&loaded)
            .system_user_password
            .as_ref()
            .unwrap()
            .expose_str(),
        Some("LDAP-ADMIN-from-keychain")
    );
}

#[test]
fn missing_entry_wrong_master_and_no_keychain_are_positioned_errors() {
    let d = dir("err");
    keychain(&d);
    let no_env = |_: &str| None;
    let err = load_str(
        &config(""),
        Syntax::Yaml,
        &d.join("s.yaml"),
        &LoadOptions { env: Some(&no_env) },
    )
    .unwrap_err();
    assert!(err.to_string().contains("s.yaml:8:33: security.realms[corp].authentication.ldap.system-user-password: `${keychain:ldap://admin@ldap.example.com:389}` needs a keychain"), "{err}");

    let wrong =
        config("  keychain:\n    path: server.keychain\n    master-password: not-the-master\n");
    let err = load_str(
        &wrong,
        Syntax::Yaml,
        &d.join("s.yaml"),
        &LoadOptions { env: Some(&no_env) },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("cannot open the keychain"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-the-master"), "{err}");

    let other_uri =
        config("  keychain:\n    path: server.keychain\n    master-password: master-pw-1\n")
            .replace(URI, "ldap://someone@else:389");
    let err = load_str(
        &other_uri,
        Syntax::Yaml,
        &d.join("s.yaml"),
        &LoadOptions { env: Some(&no_env) },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no password available in the keychain for `ldap://someone@else:389`"),
        "{err}"
    );
}
