//! The `tls` realm: real mutual-TLS handshakes over loopback (the example server's TLS mode,
//! built with `realm_tls::server_config`), with certificates made here by the `openssl`
//! command-line tool; and the subject-DN mapping on real certificates.

use crate::temp_dir;
use realm_core::config::{AuthenticationConfig, LoadOptions, Syntax, TlsConfig, load_str};
use realm_examples::{Client, Limits, Request, Response, serve_tls, setup};
use realm_testkit::tls::{Ca, Issued, Purpose, Validity};
use realm_tls::{TlsFiles, TlsLoginModule, client_config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Pki {
    dir: PathBuf,
    ca: Ca,
    server: Issued,
    /// `CN=member1,OU=Members,O=Acme`, SAN DNS:member1.acme.com.
    member: Issued,
    /// The documents' multi-CN example.
    multi_cn: Issued,
    expired: Issued,
    /// Issued by another CA.
    foreign: Issued,
    /// `CN=intruder,OU=Guests,O=Acme`, from the right CA.
    guest: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = temp_dir("tls", "pki");
        let ca = Ca::new(&dir, "Realm Cluster CA");
        let other = Ca::new(&dir, "Someone Else CA");
        let days = Validity::Days(2);
        Pki {
            server: ca.issue(
                "server",
                "/O=Acme/CN=server",
                &["IP:127.0.0.1", "DNS:localhost"],
                Purpose::Server,
                days,
            ),
            member: ca.issue(
                "member1",
                "/O=Acme/OU=Members/CN=member1",
                &["DNS:member1.acme.com", "email:member1@acme.com"],
                Purpose::Client,
                days,
            ),
            multi_cn: ca.issue(
                "multi",
                "/C=CZ/CN=hazelcast/CN=Hazelcast/OU=test/CN=role1",
                &[],
                Purpose::Client,
                days,
            ),
            expired: ca.issue(
                "expired",
                "/O=Acme/OU=Members/CN=old",
                &[],
                Purpose::Client,
                Validity::Expired,
            ),
            foreign: other.issue(
                "foreign",
                "/O=Acme/OU=Members/CN=member1",
                &[],
                Purpose::Client,
                days,
            ),
            guest: ca.issue(
                "guest",
                "/O=Acme/OU=Guests/CN=intruder",
                &["DNS:intruder.example.org"],
                Purpose::Client,
                days,
            ),
            ca,
            dir,
        }
    })
}

/// A server configuration with one `tls` realm (`extra` lines go under `tls:`).
fn server_yaml(extra: &str) -> String {
    let p = pki();
    let mut tls = format!(
        "ca-file: {}\ncertificate-file: {}\nkey-file: {}\n",
        p.ca.cert.display(),
        p.server.cert.display(),
        p.server.key.display()
    );
    tls.push_str(extra);
    format!(
        "security:\n  client-authentication:\n    realm: tlsRealm\n  realms:\n    - name: tlsRealm\n      authentication:\n        tls:\n{}",
        tls.lines()
            .map(|l| format!("          {l}\n"))
            .collect::<String>()
    )
}

/// Starts the example server's TLS mode with the files of the served realm.
async fn start(extra: &str) -> SocketAddr {
    let dir = temp_dir("tls", &format!("srv-{}", rand_suffix()));
    let file = dir.join("server.yaml");
    std::fs::write(&file, server_yaml(extra)).unwrap();
    let s = setup(&file, None).unwrap();
    let Some(AuthenticationConfig::Tls(t)) = &s.config.realm("tlsRealm").unwrap().authentication
    else {
        panic!("not tls")
    };
    let files = TlsFiles::from_config(t).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(realm_tls::server_config(&files).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_tls(listener, acceptor, s.service, Limits::default()));
    addr
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Connects with `client`'s certificate and asks to log in with it.
async fn login_as(addr: SocketAddr, client: &Issued) -> std::io::Result<Response> {
    let config = client_config(&TlsFiles {
        certificate: client.cert.clone(),
        key: client.key.clone(),
        ca: pki().ca.cert.clone(),
        crl: None,
    })
    .unwrap();
    let mut c = Client::connect_tls(addr, config, "127.0.0.1").await?;
    c.send(&Request::Certificate).await
}

fn accepted(identity: &str, roles: &[&str]) -> Response {
    Response::Accepted {
        identity: Some(identity.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        endpoint: Some("127.0.0.1".into()),
    }
}

#[tokio::test]
async fn a_trusted_client_gets_its_subject_and_cn_roles() {
    let addr = start("").await;
    let r = login_as(addr, &pki().member).await.unwrap();
    assert_eq!(r, accepted("CN=member1,OU=Members,O=Acme", &["member1"]));
}

#[tokio::test]
async fn the_documents_multi_cn_example_gives_every_cn_value_as_a_role() {
    let addr = start("roleAttribute: cn").await;
    let r = login_as(addr, &pki().multi_cn).await.unwrap();
    assert_eq!(
        r,
        accepted(
            "CN=role1,OU=test,CN=Hazelcast,CN=hazelcast,C=CZ",
            &["Hazelcast", "hazelcast", "role1"]
        )
    );
}

#[tokio::test]
async fn role_attribute_is_matched_case_insensitively() {
    let addr = start("roleAttribute: Ou").await;
    let r = login_as(addr, &pki().member).await.unwrap();
    assert_eq!(r, accepted("CN=member1,OU=Members,O=Acme", &["Members"]));
}

#[tokio::test]
async fn a_client_certificate_from_an_untrusted_ca_fails_the_handshake() {
    let addr = start("").await;
    let r = login_as(addr, &pki().foreign).await;
    assert!(r.is_err(), "{r:?}");
}

#[tokio::test]
async fn a_revoked_client_certificate_fails_the_handshake_with_a_crl() {
    let p = pki();
    let revoked = p.ca.issue(
        "revoked",
        "/O=Acme/OU=Members/CN=revoked",
        &[],
        Purpose::Client,
        Validity::Days(1),
    );
    p.ca.revoke(&revoked);
    let crl = p.ca.crl();
    let addr = start(&format!("crl-file: {}", crl.display())).await;
    assert!(login_as(addr, &revoked).await.is_err());
    assert!(login_as(addr, &p.member).await.unwrap().is_accepted());
}

#[tokio::test]
async fn an_expired_client_certificate_fails_the_handshake() {
    let addr = start("").await;
    let r = login_as(addr, &pki().expired).await;
    assert!(r.is_err(), "{r:?}");
}

#[tokio::test]
async fn the_allow_list_denies_a_trusted_certificate_that_matches_no_rule() {
    let addr = start(
        "allow:\n  subject-patterns: ['CN=[a-z0-9-]+,OU=Members,O=Acme']\n  sans: [ops.acme.com]",
    )
    .await;
    assert_eq!(
        login_as(addr, &pki().member).await.unwrap(),
        accepted("CN=member1,OU=Members,O=Acme", &["member1"])
    );
    assert_eq!(
        login_as(addr, &pki().guest).await.unwrap(),
        Response::Denied
    );
}

#[tokio::test]
async fn the_allow_list_matches_sans_exactly_or_by_pattern() {
    let addr = start("allow:\n  sans: [MEMBER1.acme.com]").await;
    assert!(login_as(addr, &pki().member).await.unwrap().is_accepted());
    assert_eq!(
        login_as(addr, &pki().guest).await.unwrap(),
        Response::Denied
    );
    let addr = start("allow:\n  san-patterns: ['.*@acme\\.com']").await;
    assert!(login_as(addr, &pki().member).await.unwrap().is_accepted());
    assert_eq!(
        login_as(addr, &pki().guest).await.unwrap(),
        Response::Denied
    );
}

#[tokio::test]
async fn a_password_request_over_mutual_tls_still_logs_in_by_the_certificate() {
    let addr = start("").await;
    let config = client_config(&TlsFiles {
        certificate: pki().member.cert.clone(),
        key: pki().member.key.clone(),
        ca: pki().ca.cert.clone(),
        crl: None,
    })
    .unwrap();
    let mut c = Client::connect_tls(addr, config, "127.0.0.1")
        .await
        .unwrap();
    // A password request carries the connection's certificate in the endpoint too; the tls
    // module takes it from there.
    let r = c.send(&Request::password("x", "y")).await.unwrap();
    assert!(r.is_accepted(), "{r:?}");
}

// --- the mapping on real certificates ---------------------------------------------------------

fn module(role_attribute: &str) -> TlsLoginModule {
    TlsLoginModule::new(&TlsConfig {
        skip: Default::default(),
        role_attribute: role_attribute.into(),
        allow: Default::default(),
        ca_file: None,
        crl_file: None,
        certificate_file: None,
        key_file: None,
    })
    .unwrap()
}

fn issue(stem: &str, subject: &str) -> Issued {
    pki()
        .ca
        .issue(stem, subject, &[], Purpose::Client, Validity::Days(1))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn subjects_are_rfc4514_strings() {
    let cases = [
        // multi-valued RDN (the members are in DER order: CN before OU)
        ("mv", "/O=Acme/CN=a+OU=b", "CN=a+OU=b,O=Acme"),
        // characters RFC 4514 escapes
        (
            "esc",
            "/O=Acme/CN=Smith, John \"JJ\" <j;j\\+k>",
            "CN=Smith\\, John \\\"JJ\\\" \\<j\\;j\\+k\\>,O=Acme",
        ),
        // leading '#', non-ASCII kept as UTF-8
        (
            "utf",
            "/O=Ünïcödé GmbH/CN=#jürgen",
            "CN=\\#jürgen,O=Ünïcödé GmbH",
        ),
        // every keyword type of RFC 4514
        (
            "kw",
            "/DC=com/DC=acme/C=CZ/ST=Praha/L=Praha 1/street=Main St 1/O=Acme/OU=Devs/CN=Alice/UID=alice",
            "UID=alice,CN=Alice,OU=Devs,O=Acme,STREET=Main St 1,L=Praha 1,ST=Praha,C=CZ,DC=acme,DC=com",
        ),
    ];
    let m = module("cn");
    for (stem, subject, want) in cases {
        let (identity, _) = m.evaluate(&issue(stem, subject).der(), now()).unwrap();
        assert_eq!(identity, want, "{subject}");
    }
}

#[test]
fn types_without_a_keyword_are_dotted_oids_with_hex_values_but_still_give_roles() {
    let cert = issue(
        "oid",
        "/O=Acme/CN=Alice/emailAddress=alice@acme.com/SN=Liddell",
    );
    let (identity, roles) = module("emailAddress").evaluate(&cert.der(), now()).unwrap();
    // emailAddress is an IA5String (tag 0x16); SN a UTF8String (0x0C).
    assert_eq!(
        identity,
        "2.5.4.4=#0C074C696464656C6C,1.2.840.113549.1.9.1=#160E616C6963654061636D652E636F6D,CN=Alice,O=Acme"
    );
    assert_eq!(roles, ["alice@acme.com"]);
    let (_, roles) = module("SN").evaluate(&cert.der(), now()).unwrap();
    assert_eq!(roles, ["Liddell"]);
}

#[test]
fn role_attribute_variants() {
    let cert = pki().multi_cn.der();
    let roles = |attr: &str| module(attr).evaluate(&cert, now()).unwrap().1;
    assert_eq!(roles("C"), ["CZ"]);
    assert_eq!(roles("2.5.4.11"), ["test"]);
    assert!(roles("sn").is_empty());
    assert_eq!(roles("CN"), ["role1", "Hazelcast", "hazelcast"]);
    let err = TlsLoginModule::new(&TlsConfig {
        role_attribute: "frobnicate".into(),
        ..module_config()
    })
    .unwrap_err();
    assert!(
        err.contains("frobnicate") && err.contains("dotted OID"),
        "{err}"
    );
}

fn module_config() -> TlsConfig {
    TlsConfig {
        skip: Default::default(),
        role_attribute: "cn".into(),
        allow: Default::default(),
        ca_file: None,
        crl_file: None,
        certificate_file: None,
        key_file: None,
    }
}

#[test]
fn expired_and_garbage_certificates_are_refused_by_the_module_too() {
    let m = module("cn");
    let e = m.evaluate(&pki().expired.der(), now()).unwrap_err();
    assert!(e.contains("expired"), "{e}");
    let e = m.evaluate(b"not a certificate", now()).unwrap_err();
    assert!(e.contains("not a valid X.509 certificate"), "{e}");
    let e = m.evaluate(&[], now()).unwrap_err();
    assert!(e.contains("not a valid X.509 certificate"), "{e}");
}

#[tokio::test]
async fn a_login_without_a_certificate_is_denied() {
    let loaded = load_str(
        "security:\n  realms:\n    - name: t\n      authentication:\n        tls: {}\n",
        Syntax::Yaml,
        "t.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let security =
        realm_core::Security::from_config(&loaded.config, &realm_examples::registry()).unwrap();
    let (r, trace) = security
        .realm("t")
        .unwrap()
        .login_traced(
            realm_core::Credentials::password("a", "b"),
            realm_core::Endpoint::from_addr("127.0.0.1:1".parse().unwrap()),
        )
        .await;
    assert!(matches!(r, Err(realm_core::LoginFailure::Denied)), "{r:?}");
    assert!(
        trace.to_string().contains("no client certificate"),
        "{trace}"
    );
}

#[test]
fn allow_rules_are_the_same_in_xml_and_yaml_and_bad_patterns_are_located() {
    let xml = r#"<security><realms><realm name="t"><authentication><tls roleAttribute="ou">
  <allow>
    <subject>CN=a,O=Acme</subject>
    <subject-pattern>CN=.*,OU=Members,O=Acme</subject-pattern>
    <san>a.acme.com</san>
    <san-pattern>.*\.acme\.com</san-pattern>
    <san-pattern>.*\.acme\.org</san-pattern>
  </allow>
  <ca-file>ca.pem</ca-file>
</tls></authentication></realm></realms></security>"#;
    let yaml = r#"security:
  realms:
    - name: t
      authentication:
        tls:
          roleAttribute: ou
          allow:
            subjects: ['CN=a,O=Acme']
            subject-patterns: ['CN=.*,OU=Members,O=Acme']
            sans: [a.acme.com]
            san-patterns: ['.*\.acme\.com', '.*\.acme\.org']
          ca-file: ca.pem
"#;
    let get = |text: &str, syntax, name: &str| {
        let l = load_str(text, syntax, name.as_ref(), &LoadOptions::default()).unwrap();
        match &l.config.realm("t").unwrap().authentication {
            Some(AuthenticationConfig::Tls(t)) => serde_json::to_string(t).unwrap(),
            other => panic!("{other:?}"),
        }
    };
    let (x, y) = (
        get(xml, Syntax::Xml, "t.xml"),
        get(yaml, Syntax::Yaml, "t.yaml"),
    );
    assert_eq!(x, y);
    assert!(x.contains(".*\\\\.acme\\\\.org"), "{x}");
    let bad = "security:\n  realms:\n    - name: t\n      authentication:\n        tls:\n          allow:\n            san-patterns: ['ok', '(unclosed']\n";
    let err = load_str(
        bad,
        Syntax::Yaml,
        "bad.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("bad.yaml:7:34: security.realms[t].authentication.tls.allow.san-patterns[1]: expected a regular expression"),
        "{err}"
    );
}

#[test]
fn server_setup_errors_name_the_file() {
    let p = pki();
    let missing = p.dir.join("missing.pem");
    let e = realm_tls::server_config(&TlsFiles {
        certificate: p.server.cert.clone(),
        key: p.server.key.clone(),
        ca: missing.clone(),
        crl: None,
    })
    .unwrap_err();
    assert_eq!(e.path, missing);
    // A key that does not belong to the certificate.
    let e = realm_tls::server_config(&TlsFiles {
        certificate: p.server.cert.clone(),
        key: p.member.key.clone(),
        ca: p.ca.cert.clone(),
        crl: None,
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("does not fit the certificate"),
        "{e}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Damaged certificates (bytes flipped, cut short) are refused or read, never a panic.
    #[test]
    fn damaged_certificates_never_panic(
        flips in proptest::collection::vec((0usize..2000, 0u8..=255), 0..8),
        cut in 0usize..2000,
    ) {
        let mut der = pki().multi_cn.der();
        let len = der.len().max(1);
        for (i, b) in flips {
            if let Some(x) = der.get_mut(i % len) {
                *x ^= b;
            }
        }
        der.truncate(cut.max(1));
        let _ = module("cn").evaluate(&der, now());
    }
}
