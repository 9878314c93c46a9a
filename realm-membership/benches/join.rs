//! TLS-realm logins per second and X.509 challenge verifications per second, each beside a
//! baseline measured in the same run, interleaved in slices (the order alternating) so that a
//! change in the machine's load affects both sides alike. Certificates (ECDSA P-256) are made
//! with the `openssl` tool by `realm-testkit`.
//!
//! * **TLS realm** (`Realm::login` with the verified chain, the certificate already checked by
//!   the handshake): the whole login — the chain, the `tls` module (decode, validity, subject as
//!   RFC 4514, roles), the subject. Baseline: x509-parser's decode of the same certificate and
//!   its own subject string, i.e. the least a certificate-to-identity mapping must do.
//! * **X.509 challenge** (`X509ChallengeModule::verify`: decode, MAC, freshness, chain
//!   verification against the CA, signature verification, one-time use). Baseline: the two
//!   public-key operations alone, the chain verification (rustls' `WebPkiClientVerifier`) and
//!   the signature verification (webpki), on the same certificate and a signature of the same
//!   size. Signing (the joiner's side) is excluded: responses are made before timing.
//!
//! `cargo bench -p realm-membership --bench join`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use realm_core::config::{LoadOptions, Syntax, load_str};
use realm_core::{CertificateDer as RealmCert, Credentials, Endpoint, Registry, Security};
use realm_membership::{Challenger, Prover, X509ChallengeModule};
use realm_testkit::bench::interleaved;
use realm_testkit::tls::{Ca, Purpose, Validity};
use rustls::pki_types::{CertificateDer, UnixTime};
use std::sync::Arc;
use std::time::Duration;
use x509_parser::prelude::{FromDer, X509Certificate};

const ROUNDS: usize = 10;
const SLICE: usize = 2000;
const CHALLENGE_SLICE: usize = 300;

fn main() {
    let dir = std::env::temp_dir().join(format!("realm-bench-join-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ca = Ca::new(&dir, "Bench CA");
    let member = ca.issue(
        "m2",
        "/C=CZ/O=Acme/OU=Members/CN=m2",
        &["DNS:m2.acme.com"],
        Purpose::Both,
        Validity::Days(1),
    );
    let der = member.der();

    // --- TLS realm -----------------------------------------------------------------------
    let yaml = "security:\n  realms:\n    - name: t\n      authentication:\n        tls:\n          roleAttribute: ou\n";
    let loaded = load_str(
        yaml,
        Syntax::Yaml,
        "b.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_tls::register(&mut registry);
    let security = Security::from_config(&loaded.config, &registry).unwrap();
    let realm = security.realm("t").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let endpoint = Endpoint::from_addr("127.0.0.1:5701".parse().unwrap());
    let chain = vec![RealmCert(der.clone())];
    let s = rt
        .block_on(realm.login(
            Credentials::Certificate {
                chain: chain.clone(),
            },
            endpoint.clone(),
        ))
        .unwrap();
    assert_eq!(s.identity(), Some("CN=m2,OU=Members,O=Acme,C=CZ"));
    let (o, b) = interleaved(
        ROUNDS,
        SLICE,
        || (),
        |_| {
            rt.block_on(async {
                for _ in 0..SLICE {
                    let s = realm
                        .login(
                            Credentials::Certificate {
                                chain: chain.clone(),
                            },
                            endpoint.clone(),
                        )
                        .await
                        .unwrap();
                    std::hint::black_box(s);
                }
            });
        },
        |_| {
            for _ in 0..SLICE {
                let (_, c) = X509Certificate::from_der(&der).unwrap();
                std::hint::black_box(c.subject().to_string());
            }
        },
    );
    println!("TLS realm, certificate already verified (one thread)");
    println!(
        "  Realm::login (tls realm)           {o:>9.0} logins/s  ({:.1} µs each)",
        1e6 / o
    );
    println!(
        "  baseline: x509-parser decode+DN    {b:>9.0} /s        ({:.1} µs each)",
        1e6 / b
    );
    println!("  ratio Realm / baseline             {:>9.2}x", o / b);

    // --- X.509 challenge -------------------------------------------------------------------
    let challenger = Arc::new(Challenger::new("m1", Duration::from_secs(600)).unwrap());
    let module = X509ChallengeModule::new(challenger.clone(), &ca.cert, None).unwrap();
    let prover = Prover::from_pem_files(&member.cert, &member.key).unwrap();
    let joiner = Endpoint {
        address: Some("127.0.0.1:7802".parse().unwrap()),
        logical_name: Some("m2".into()),
        peer_certificates: Vec::new(),
    };
    let make = |n: usize| -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                let c = challenger.challenge(&joiner).unwrap().to_bytes();
                prover.respond(&c, "m1").unwrap()
            })
            .collect()
    };
    assert_eq!(
        module.verify(&make(1)[0], &joiner).unwrap(),
        "CN=m2,OU=Members,O=Acme,C=CZ"
    );
    let verifier = realm_tls::transport::client_verifier(&ca.cert, None).unwrap();
    let leaf = CertificateDer::from(der.clone());
    // A raw signature over a message of the same shape, by the same key.
    let key = realm_tls::transport::load_key(&member.key).unwrap();
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .unwrap()
        .choose_scheme(&[rustls::SignatureScheme::ECDSA_NISTP256_SHA256])
        .unwrap();
    let msg = vec![7u8; 220];
    let sig = signer.sign(&msg).unwrap();
    let (o, b) = interleaved(
        ROUNDS,
        CHALLENGE_SLICE,
        || make(CHALLENGE_SLICE),
        |responses| {
            for r in responses {
                module.verify(r, &joiner).unwrap();
            }
        },
        |_| {
            for _ in 0..CHALLENGE_SLICE {
                verifier
                    .verify_client_cert(&leaf, &[], UnixTime::now())
                    .unwrap();
                webpki::EndEntityCert::try_from(&leaf)
                    .unwrap()
                    .verify_signature(webpki::ring::ECDSA_P256_SHA256, &msg, &sig)
                    .unwrap();
            }
        },
    );
    println!("X.509 join challenge (ECDSA P-256, one thread; signing excluded)");
    println!(
        "  X509ChallengeModule::verify        {o:>9.0} verifications/s  ({:.1} µs each)",
        1e6 / o
    );
    println!(
        "  baseline: chain + signature only   {b:>9.0} /s               ({:.1} µs each)",
        1e6 / b
    );
    println!("  ratio Realm / baseline             {:>9.2}x", o / b);
    println!("  (medians of {ROUNDS} interleaved slices)");
    let _ = std::fs::remove_dir_all(&dir);
}
