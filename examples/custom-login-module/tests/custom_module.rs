//! The custom-module example end to end, for `custom.xml` and `custom.yaml` alike: load with the
//! password in a (fake) environment, register the chain and the example classes, build, log in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use realm_core::config::{LoadOptions, Loaded, Syntax, load_file_with, load_str};
use realm_core::module::Phase;
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Security};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const SIMPLE: &str = "realm.simple.SimpleLoginModule";
const PASSWORD: &str = "gateway-s3cret";

fn env(name: &str) -> Option<String> {
    (name == "EXAMPLE_PASSWORD").then(|| PASSWORD.to_string())
}

fn files() -> [PathBuf; 2] {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    [dir.join("custom.xml"), dir.join("custom.yaml")]
}

fn load(path: &Path) -> Loaded {
    load_file_with(path, &LoadOptions { env: Some(&env) })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The same file's text, edited, loaded in its own syntax.
fn load_edited(path: &Path, from: &str, to: &str) -> Loaded {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no `{from}`", path.display());
    let syntax = Syntax::from_path(path).unwrap();
    load_str(
        &text.replace(from, to),
        syntax,
        path,
        &LoadOptions { env: Some(&env) },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_example_custom_module::register(&mut registry);
    registry
}

fn build(loaded: &Loaded) -> Security {
    Security::from_config(&loaded.config, &registry())
        .unwrap_or_else(|e| panic!("{}: {e}", loaded.file.display()))
}

fn at(addr: &str) -> Endpoint {
    Endpoint::from_addr(addr.parse::<SocketAddr>().unwrap())
}

#[tokio::test]
async fn local_users_with_the_right_password_are_accepted_with_role_local() {
    for file in files() {
        let security = build(&load(&file));
        let realm = security.client_authentication().unwrap();
        assert_eq!(realm.name(), "gateway");
        for from in ["127.0.0.1:40000", "[::1]:40000", "127.3.2.1:1"] {
            let subject = realm
                .login(Credentials::password("carol", "rabbit-hole"), at(from))
                .await
                .unwrap_or_else(|e| panic!("{}: carol from {from}: {e}", file.display()));
            assert_eq!(subject.identity(), Some("carol"));
            assert_eq!(
                subject.roles().collect::<Vec<_>>(),
                ["auditor", "local", "operator"],
                "{}",
                file.display()
            );
        }
        let dave = realm
            .login(
                Credentials::password("dave", "looking-glass"),
                at("127.0.0.1:1"),
            )
            .await
            .unwrap();
        assert_eq!(dave.roles().collect::<Vec<_>>(), ["auditor", "local"]);
    }
}

#[tokio::test]
async fn remote_peers_are_stopped_before_the_password_is_checked() {
    for file in files() {
        let security = build(&load(&file));
        let realm = security.client_authentication().unwrap();
        let (result, trace) = realm
            .login_traced(
                Credentials::password("carol", "rabbit-hole"),
                at("10.9.8.7:40000"),
            )
            .await;
        assert_eq!(result, Err(LoginFailure::Denied), "{}", file.display());
        let rendered = trace.to_string();
        // The gate said why, in the trace (never to the peer).
        let gate = trace
            .steps
            .iter()
            .find(|s| s.phase == Phase::Login && s.index == 0)
            .unwrap();
        assert_eq!(
            gate.outcome, "denied: address 10.9.8.7 is not in the allow-list",
            "{rendered}"
        );
        // REQUISITE stopped the login phase: the simple module was never asked to log in (it is
        // only told to abort, as every module is after a failed login).
        assert!(
            !trace
                .steps
                .iter()
                .any(|s| s.module == SIMPLE && s.phase == Phase::Login),
            "{rendered}"
        );
        assert!(
            trace
                .summary
                .iter()
                .any(|l| l.contains("REQUISITE module [0] failed")),
            "{rendered}"
        );
    }
}

#[tokio::test]
async fn wrong_or_missing_passwords_from_local_peers_are_denied() {
    for file in files() {
        let security = build(&load(&file));
        let realm = security.client_authentication().unwrap();
        for (user, password) in [
            ("carol", "looking-glass"),
            ("carol", ""),
            ("mallory", "rabbit-hole"),
            ("Carol", "rabbit-hole"),
        ] {
            let (result, trace) = realm
                .login_traced(Credentials::password(user, password), at("127.0.0.1:1"))
                .await;
            assert_eq!(result, Err(LoginFailure::Denied), "{user}");
            // This time the gate let the peer through and the password module refused.
            assert!(
                trace.steps.iter().any(|s| s.module == SIMPLE
                    && s.phase == Phase::Login
                    && s.outcome.starts_with("denied")),
                "{trace}"
            );
        }
        let token = realm
            .login(Credentials::token(b"tok".to_vec()), at("127.0.0.1:1"))
            .await;
        assert_eq!(token.unwrap_err(), LoginFailure::Denied);
    }
}

#[tokio::test]
async fn the_identity_comes_from_the_environment() {
    for file in files() {
        let security = build(&load(&file));
        let realm = security.client_authentication().unwrap();
        assert!(realm.has_identity());
        let credentials = realm.credentials_for(&at("10.0.0.2:5701")).await.unwrap();
        match credentials {
            Credentials::Password { name, password } => {
                assert_eq!(name, "gateway");
                assert_eq!(password.expose_str(), Some(PASSWORD));
                assert!(!format!("{password:?}").contains(PASSWORD));
            }
            other => panic!("expected password credentials, got {other:?}"),
        }
    }
}

#[test]
fn a_bad_allowed_entry_is_a_build_error_naming_realm_class_and_property() {
    for file in files() {
        let loaded = load_edited(&file, "127.0.0.0/8", "127.0.0.0/33");
        let err = Security::from_config(&loaded.config, &registry())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "realm `gateway`: login-module `com.example.AddressAllowList`: property `allowed`: \
             `127.0.0.0/33`: prefix length 33 is out of range for IPv4 (0-32)",
            "{}",
            file.display()
        );

        let loaded = load_edited(&file, "127.0.0.0/8", "127.0.0.1/8");
        let err = Security::from_config(&loaded.config, &registry())
            .unwrap_err()
            .to_string();
        assert!(err.contains("realm `gateway`"), "{err}");
        assert!(err.contains("com.example.AddressAllowList"), "{err}");
        assert!(err.contains("property `allowed`"), "{err}");
        assert!(err.contains("did you mean `127.0.0.0/8`?"), "{err}");
    }
}

#[test]
fn an_unknown_property_is_a_build_error() {
    for file in files() {
        // `role` misspelt.
        let (from, to) = if file.extension().is_some_and(|e| e == "xml") {
            (r#"<property name="role">"#, r#"<property name="roles">"#)
        } else {
            ("role: local", "roles: local")
        };
        let loaded = load_edited(&file, from, to);
        let err = Security::from_config(&loaded.config, &registry())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "realm `gateway`: login-module `com.example.AddressAllowList`: unknown property `roles`; known: allowed, role"
        );
    }
}

#[test]
fn unregistered_class_names_are_build_errors_listing_what_is_registered() {
    for file in files() {
        let loaded = load(&file);
        // Only the chain engine: the example classes are missing.
        let mut bare = Registry::new();
        realm_jaas_chain::register(&mut bare);
        let err = Security::from_config(&loaded.config, &bare)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "realm `gateway`: login-module `com.example.AddressAllowList`: not registered \
                 (registered login modules: com.hazelcast.security.loginimpl.SimplePropertiesLoginModule, realm.simple.SimpleLoginModule)"
            ),
            "{err}"
        );
        assert!(
            err.contains(
                "credentials-factory `com.example.StaticPasswordCredentials`: not registered \
                 (registered credentials factories: realm.keychain.KeychainCredentials)"
            ),
            "{err}"
        );

        // A typo in the configuration's class name: the registered names include ours.
        let loaded = load_edited(
            &file,
            "com.example.AddressAllowList",
            "com.example.AdressAllowList",
        );
        let err = Security::from_config(&loaded.config, &registry())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`com.example.AdressAllowList`: not registered"),
            "{err}"
        );
        assert!(err.contains("com.example.AddressAllowList,"), "{err}");
    }
}

/// The trap of JAAS semantics: behind a successful gate, a password module that is only SUFFICIENT
/// cannot fail the login, so the chain succeeds for a wrong password, with no identity. Realm
/// refuses a successful chain that established no identity (fail closed), and says why in the trace.
#[tokio::test]
async fn a_gate_in_front_of_only_sufficient_modules_is_refused_without_an_identity() {
    for file in files() {
        let trap = load_edited(&file, "REQUIRED", "SUFFICIENT");
        let security = build(&trap);
        let realm = security.client_authentication().unwrap();
        let (result, trace) = realm
            .login_traced(
                Credentials::password("carol", "wrong-password"),
                at("127.0.0.1:1"),
            )
            .await;
        assert_eq!(result.unwrap_err(), LoginFailure::Denied);
        assert!(
            trace
                .summary
                .iter()
                .any(|l| l.contains("no module established an identity")),
            "{trace}"
        );
        // The right password still works: the SUFFICIENT module then provides the identity.
        let ok = realm
            .login(
                Credentials::password("carol", "rabbit-hole"),
                at("127.0.0.1:1"),
            )
            .await
            .unwrap();
        assert_eq!(ok.identity(), Some("carol"));
        // Remote peers are still stopped by the gate.
        let remote = realm
            .login(
                Credentials::password("carol", "rabbit-hole"),
                at("10.9.8.7:1"),
            )
            .await;
        assert_eq!(remote.unwrap_err(), LoginFailure::Denied);
    }
}

#[test]
fn the_two_syntaxes_mean_the_same() {
    let [xml, yaml] = files().map(|f| load(&f));
    assert_eq!(xml.dump(), yaml.dump());
    assert!(xml.warnings.is_empty(), "{:?}", xml.warnings);
    assert!(yaml.warnings.is_empty(), "{:?}", yaml.warnings);
}
