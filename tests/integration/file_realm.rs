//! The two sides of `examples/file-realm`: users added with `realm users`, a client keychain made
//! with `realm keychain`, and the client's keychain identity logging in to the server's ini realm.

use crate::repo;
use realm_core::config::{LoadOptions, load_file_with};
use realm_core::{Endpoint, Registry, Security};
use std::path::Path;

fn run(args: &[&str], stdin: &str, dir: &Path) {
    let mut c = crate::realm_command(dir, args);
    c.env("CLIENT_KEYCHAIN_PASSWORD", "client-master-1")
        .env("REALM_KEYCHAIN_PASSWORD", "client-master-1");
    let out = crate::run(c, stdin);
    assert!(
        out.status.success(),
        "realm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn registry() -> Registry {
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ini::register(&mut r);
    r
}

#[test]
fn a_keychain_client_logs_in_to_an_ini_realm() {
    let d = std::env::temp_dir().join(format!("realm-file-realm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in ["server.yaml", "client.yaml"] {
        std::fs::copy(repo().join("examples/file-realm").join(f), d.join(f)).unwrap();
    }
    run(
        &[
            "users",
            "add",
            "--create",
            "users.ini",
            "client1",
            "--roles",
            "terracotta",
            "--password-stdin",
        ],
        "Cl1ent#pw-Xy\n",
        &d,
    );
    run(
        &[
            "keychain",
            "add",
            "-c",
            "client.keychain",
            "tc://client1@127.0.0.1:9510",
            "--password-stdin",
            "--master-password-env",
            "CLIENT_KEYCHAIN_PASSWORD",
        ],
        "Cl1ent#pw-Xy\n",
        &d,
    );

    let env = |k: &str| (k == "CLIENT_KEYCHAIN_PASSWORD").then(|| "client-master-1".to_string());
    let opts = LoadOptions { env: Some(&env) };
    let server = Security::from_config(
        &load_file_with(&d.join("server.yaml"), &opts)
            .unwrap()
            .config,
        &registry(),
    )
    .unwrap();
    let client = Security::from_config(
        &load_file_with(&d.join("client.yaml"), &opts)
            .unwrap()
            .config,
        &registry(),
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server_addr = Endpoint::from_addr("127.0.0.1:9510".parse().unwrap());
    let creds = rt
        .block_on(
            client
                .realm("to-server")
                .unwrap()
                .credentials_for(&server_addr),
        )
        .unwrap();
    let subject = rt
        .block_on(server.client_authentication().unwrap().login(
            creds,
            Endpoint::from_addr("127.0.0.1:40000".parse().unwrap()),
        ))
        .unwrap();
    assert_eq!(subject.identity(), Some("client1"));
    assert_eq!(subject.roles().collect::<Vec<_>>(), ["terracotta"]);

    // A server the keychain has no entry for: the client cannot produce credentials.
    let other = Endpoint::from_addr("127.0.0.1:9999".parse().unwrap());
    let err = rt
        .block_on(client.realm("to-server").unwrap().credentials_for(&other))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no password available in the keychain for `tc://client1@127.0.0.1:9999`"),
        "{err}"
    );
}
