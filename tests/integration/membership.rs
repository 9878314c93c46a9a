//! Cluster-join checks (`realm-membership`): the X.509 challenge with certificates made by the
//! `openssl` tool, its replay cases, and the checks stacked in a `jaas` chain from YAML.

use crate::temp_dir;
use realm_core::config::{LoadOptions, Syntax, load_str};
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Security};
use realm_membership::{Challenger, Prover, X509ChallengeModule};
use realm_testkit::tls::{Ca, Issued, Purpose, Validity};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct Pki {
    ca: Ca,
    member2: Issued,
    member3: Issued,
    foreign: Issued,
    expired: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = temp_dir("membership", "pki");
        let ca = Ca::new(&dir, "Cluster CA");
        let other = Ca::new(&dir, "Intruder CA");
        let d = Validity::Days(1);
        Pki {
            member2: ca.issue("m2", "/O=Acme/OU=Members/CN=m2", &[], Purpose::Both, d),
            member3: ca.issue("m3", "/O=Acme/OU=Members/CN=m3", &[], Purpose::Both, d),
            foreign: other.issue("x", "/O=Acme/OU=Members/CN=m2", &[], Purpose::Both, d),
            expired: ca.issue(
                "old",
                "/O=Acme/OU=Members/CN=old",
                &[],
                Purpose::Both,
                Validity::Expired,
            ),
            ca,
        }
    })
}

fn prover(i: &Issued) -> Prover {
    Prover::from_pem_files(&i.cert, &i.key).unwrap()
}

fn peer(addr: &str, name: &str) -> Endpoint {
    Endpoint {
        address: Some(addr.parse().unwrap()),
        logical_name: Some(name.into()),
        peer_certificates: Vec::new(),
    }
}

fn coordinator(name: &str) -> (Arc<Challenger>, X509ChallengeModule) {
    let c = Arc::new(Challenger::new(name, Duration::from_secs(30)).unwrap());
    let m = X509ChallengeModule::new(c.clone(), &pki().ca.cert, None).unwrap();
    (c, m)
}

#[test]
fn a_member_proves_its_certificate_once() {
    let (c, m) = coordinator("m1");
    let joiner = peer("127.0.0.1:7802", "m2");
    let challenge = c.challenge(&joiner).unwrap().to_bytes();
    let response = prover(&pki().member2).respond(&challenge, "m1").unwrap();
    assert_eq!(
        m.verify(&response, &joiner).unwrap(),
        "CN=m2,OU=Members,O=Acme"
    );
    // The same response again, on the same connection: a replay.
    let e = m.verify(&response, &joiner).unwrap_err();
    assert!(e.starts_with("replay"), "{e}");
}

#[test]
fn a_captured_response_fails_on_another_connection_and_at_another_member() {
    let (c, m) = coordinator("m1");
    let joiner = peer("127.0.0.1:7802", "m2");
    let challenge = c.challenge(&joiner).unwrap().to_bytes();
    let response = prover(&pki().member2).respond(&challenge, "m1").unwrap();
    // An eavesdropper replays it from its own connection (another port, another name).
    let e = m
        .verify(&response, &peer("127.0.0.1:40000", "m2"))
        .unwrap_err();
    assert!(e.contains("replayed on another connection"), "{e}");
    // Or to another member, whose key did not make the challenge (even one named m1).
    for other in ["m3", "m1"] {
        let (_, m3) = coordinator(other);
        let e = m3.verify(&response, &joiner).unwrap_err();
        assert!(e.contains("not made by this member"), "{other}: {e}");
    }
    // The genuine joiner still gets in with it, once.
    assert!(m.verify(&response, &joiner).is_ok());
}

#[test]
fn certificates_outside_the_cluster_ca_or_the_key_are_refused() {
    let (c, m) = coordinator("m1");
    let joiner = peer("127.0.0.1:7803", "m2");
    let p = pki();
    let try_with = |prover: Prover| {
        let ch = c.challenge(&joiner).unwrap().to_bytes();
        m.verify(&prover.respond(&ch, "m1").unwrap(), &joiner)
            .unwrap_err()
    };
    let e = try_with(prover(&p.foreign));
    assert!(e.contains("not a valid cluster certificate"), "{e}");
    let e = try_with(prover(&p.expired));
    assert!(e.contains("not a valid cluster certificate"), "{e}");
    // m2's certificate with m3's key: the signature does not verify.
    let e = try_with(Prover::from_pem_files(&p.member2.cert, &p.member3.key).unwrap());
    assert!(e.contains("signature does not verify"), "{e}");
}

#[test]
fn a_prover_answers_only_the_coordinator_it_joins_and_late_answers_fail() {
    let c = Arc::new(Challenger::new("m1", Duration::from_secs(0)).unwrap());
    let m = X509ChallengeModule::new(c.clone(), &pki().ca.cert, None).unwrap();
    let joiner = peer("127.0.0.1:7804", "m2");
    let ch = c.challenge(&joiner).unwrap().to_bytes();
    let e = prover(&pki().member2).respond(&ch, "m9").unwrap_err();
    assert!(e.contains("not from the coordinator"), "{e}");
    let response = prover(&pki().member2).respond(&ch, "m1").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let e = m.verify(&response, &joiner).unwrap_err();
    assert!(e.contains("s old"), "{e}");
    assert!(
        m.verify(b"{}", &joiner)
            .unwrap_err()
            .contains("not a join response")
    );
    assert!(m.verify(b"", &joiner).is_err());
}

/// The checks in a chain from YAML: REQUIRED fixed membership + REQUIRED X.509 challenge.
#[tokio::test]
async fn fixed_membership_and_the_x509_challenge_stack_in_a_chain() {
    let yaml = format!(
        "security:
  member-authentication:
    realm: join
  realms:
    - name: join
      authentication:
        jaas:
          - class-name: org.jgroups.auth.FixedMembershipToken
            usage: REQUIRED
            properties:
              auth_token.fixed_members_value: 127.0.0.1:7802;127.0.0.1:7803
              auth_token.fixed_members_seperator: ';'
          - class-name: realm.membership.X509Challenge
            usage: REQUIRED
            properties:
              ca-file: {}
",
        pki().ca.cert.display()
    );
    let loaded = load_str(
        &yaml,
        Syntax::Yaml,
        "join.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    // The same configuration in XML means the same.
    let xml = format!(
        r#"<security><member-authentication realm="join"/><realms><realm name="join"><authentication><jaas>
  <login-module class-name="org.jgroups.auth.FixedMembershipToken" usage="REQUIRED"><properties>
    <property name="auth_token.fixed_members_value">127.0.0.1:7802;127.0.0.1:7803</property>
    <property name="auth_token.fixed_members_seperator">;</property>
  </properties></login-module>
  <login-module class-name="realm.membership.X509Challenge" usage="REQUIRED"><properties>
    <property name="ca-file">{}</property>
  </properties></login-module>
</jaas></authentication></realm></realms></security>"#,
        pki().ca.cert.display()
    );
    let from_xml = load_str(
        &xml,
        Syntax::Xml,
        "join.xml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(from_xml.config.realm("join").unwrap()).unwrap(),
        serde_json::to_value(loaded.config.realm("join").unwrap()).unwrap()
    );
    let challenger = Arc::new(Challenger::new("m1", Duration::from_secs(30)).unwrap());
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_membership::register(&mut registry);
    realm_membership::register_x509_challenge(&mut registry, challenger.clone());
    let security = Security::from_config(&loaded.config, &registry).unwrap();
    let realm = security.member_authentication().unwrap();
    let join = |addr: &str, who: &Issued| {
        let e = peer(addr, "m2");
        let ch = challenger.challenge(&e).unwrap().to_bytes();
        (e, prover(who).respond(&ch, "m1").unwrap())
    };
    let (e, r) = join("127.0.0.1:7802", &pki().member2);
    let s = realm.login(Credentials::token(r), e).await.unwrap();
    assert_eq!(s.identity(), Some("CN=m2,OU=Members,O=Acme"));
    // A good certificate from an address not on the list.
    let (e, r) = join("127.0.0.1:7999", &pki().member2);
    let (res, trace) = realm.login_traced(Credentials::token(r), e).await;
    assert!(matches!(res, Err(LoginFailure::Denied)), "{res:?}");
    assert!(trace.to_string().contains("is not a member"), "{trace}");
    // A listed address with a certificate of another CA.
    let (e, r) = join("127.0.0.1:7803", &pki().foreign);
    let (res, trace) = realm.login_traced(Credentials::token(r), e).await;
    assert!(matches!(res, Err(LoginFailure::Denied)), "{res:?}");
    assert!(
        trace
            .to_string()
            .contains("not a valid cluster certificate"),
        "{trace}"
    );
}

#[tokio::test]
async fn regex_membership_by_address_or_name_with_a_warning() {
    let yaml = "security:
  realms:
    - name: dev
      authentication:
        jaas:
          - class-name: org.jgroups.auth.RegexMembership
            properties:
              auth_token.match_string: 'node-[0-9]+'
              auth_token.match_ip_address: false
              auth_token.match_logical_name: true
";
    let loaded = load_str(
        yaml,
        Syntax::Yaml,
        "dev.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_membership::register(&mut registry);
    let security = Security::from_config(&loaded.config, &registry).unwrap();
    assert!(
        security
            .warnings()
            .iter()
            .any(|w| w.contains("no security on its own")),
        "{:?}",
        security.warnings()
    );
    let realm = security.realm("dev").unwrap();
    let s = realm
        .login(
            Credentials::token(Vec::new()),
            peer("10.1.2.3:7800", "node-4"),
        )
        .await
        .unwrap();
    assert_eq!(s.identity(), Some("node-4"));
    let r = realm
        .login(
            Credentials::token(Vec::new()),
            peer("127.0.0.1:7800", "laptop"),
        )
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    // A bad pattern is a build error that names it.
    let bad = yaml.replace("node-[0-9]+", "node-[");
    let loaded = load_str(
        &bad,
        Syntax::Yaml,
        "dev.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let e = Security::from_config(&loaded.config, &registry)
        .unwrap_err()
        .to_string();
    assert!(e.contains("match_string `node-[`"), "{e}");
}
