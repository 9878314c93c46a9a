//! A replay-proof X.509 join check.
//!
//! JGroups' `X509Token` has the joiner send a shared secret encrypted with the cluster
//! certificate's public key: the same bytes every time, so a captured join request can be sent
//! again by anyone. Here the joiner instead proves possession of the private key of a
//! certificate issued by the cluster CA by **signing a fresh challenge**:
//!
//! 1. The coordinator's [`Challenger`] makes a challenge for the connection: 32 random bytes, the
//!    coordinator's name, the joiner as the coordinator sees it (its logical name and address),
//!    the time, and a MAC over all of them with a key only this coordinator holds.
//! 2. The joiner's [`Prover`] checks that the challenge comes from the coordinator it means to
//!    join, signs `realm x509 join v1` + the challenge with its key, and sends the signature with
//!    its certificate chain.
//! 3. The coordinator's [`X509ChallengeModule`] accepts the response once: the MAC is its own
//!    (a response replayed to another member fails there), the challenge is fresh and was made
//!    for this connection, the chain verifies against the cluster CA (and CRL) for client
//!    authentication, the signature verifies with the certificate's key, and the challenge has
//!    not been answered before (a replay to the same member fails). The identity is the
//!    certificate's subject DN (RFC 4514).
//!
//! Run the exchange over a connection that authenticates the coordinator (TLS server
//! authentication): otherwise a man in the middle posing as the coordinator could relay a
//! challenge.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use realm_core::module::{LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::{Credentials, Endpoint, Principal};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use rustls::SignatureScheme;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the joiner signs before the challenge bytes.
const DOMAIN: &[u8] = b"realm x509 join v1\n";
/// How long a challenge may be answered, by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30);

/// A challenge as it travels (JSON).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// 32 random bytes, base64.
    pub nonce: String,
    /// The coordinator's name.
    pub coordinator: String,
    /// The joiner as the coordinator saw it (`name@address`).
    pub joiner: String,
    /// When it was made, seconds since the Unix epoch.
    pub issued_at: u64,
    /// The coordinator's MAC over the fields above, base64.
    pub mac: String,
}

impl Challenge {
    fn mac_input(&self) -> Vec<u8> {
        let mut v = Vec::new();
        for part in [
            self.nonce.as_bytes(),
            self.coordinator.as_bytes(),
            self.joiner.as_bytes(),
        ] {
            v.extend_from_slice(&(part.len() as u64).to_be_bytes());
            v.extend_from_slice(part);
        }
        v.extend_from_slice(&self.issued_at.to_be_bytes());
        v
    }

    /// The challenge's wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a challenge.
    pub fn from_bytes(b: &[u8]) -> Result<Challenge, String> {
        serde_json::from_slice(b).map_err(|e| format!("not a join challenge: {e}"))
    }
}

/// A response as it travels (JSON), carried as [`Credentials::Token`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Response {
    /// The challenge bytes, exactly as received, base64.
    challenge: String,
    /// The certificate chain, leaf first, DER base64.
    chain: Vec<String>,
    /// The TLS signature scheme (its IANA number).
    scheme: u16,
    /// The signature, base64.
    signature: String,
}

/// The joiner as the coordinator identifies it in challenges: `name@address`.
pub fn joiner_of(e: &Endpoint) -> String {
    format!(
        "{}@{}",
        e.logical_name.as_deref().unwrap_or(""),
        e.address.map_or_else(String::new, |a| a.to_string())
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The coordinator's side: makes challenges and remembers which were answered. Share one per
/// cluster member (`Arc`) between the code that sends challenges and the login module
/// ([`crate::register_x509_challenge`]).
pub struct Challenger {
    name: String,
    key: hmac::Key,
    max_age: Duration,
    rng: SystemRandom,
    /// Answered challenges (nonce → when it may be forgotten).
    answered: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for Challenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenger")
            .field("name", &self.name)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl Challenger {
    /// A challenger for the member `name`, with a fresh random MAC key.
    pub fn new(name: impl Into<String>, max_age: Duration) -> Result<Challenger, String> {
        let rng = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .map_err(|_| "no randomness for the challenge key".to_string())?;
        Ok(Challenger {
            name: name.into(),
            key,
            max_age,
            rng,
            answered: Mutex::new(HashMap::new()),
        })
    }

    /// The member's name (what provers expect in challenges).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A challenge for the peer at `joiner` (as [`joiner_of`] gives it).
    pub fn challenge(&self, joiner: &Endpoint) -> Result<Challenge, String> {
        let mut nonce = [0u8; 32];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "no randomness for the challenge".to_string())?;
        let mut c = Challenge {
            nonce: B64.encode(nonce),
            coordinator: self.name.clone(),
            joiner: joiner_of(joiner),
            issued_at: now_secs(),
            mac: String::new(),
        };
        c.mac = B64.encode(hmac::sign(&self.key, &c.mac_input()).as_ref());
        Ok(c)
    }

    /// Checks a challenge's origin, freshness and connection, without consuming it.
    fn check(&self, c: &Challenge, peer: &Endpoint) -> Result<(), String> {
        let mac = B64
            .decode(&c.mac)
            .map_err(|_| "the challenge's MAC is not base64".to_string())?;
        if c.coordinator != self.name || hmac::verify(&self.key, &c.mac_input(), &mac).is_err() {
            return Err(format!(
                "the challenge was not made by this member ({}): a response replayed from \
                 another member, or forged",
                self.name
            ));
        }
        let age = now_secs().saturating_sub(c.issued_at);
        if age > self.max_age.as_secs() {
            return Err(format!(
                "the challenge is {age} s old (at most {} s): a late or replayed response",
                self.max_age.as_secs()
            ));
        }
        let here = joiner_of(peer);
        if c.joiner != here {
            return Err(format!(
                "the challenge was made for {} but is answered by {here}: a response replayed \
                 on another connection",
                c.joiner
            ));
        }
        Ok(())
    }

    /// Marks a challenge answered; false if it was answered before.
    fn consume(&self, c: &Challenge) -> bool {
        let now = now_secs();
        let mut seen = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, until| *until >= now);
        let until = c
            .issued_at
            .saturating_add(self.max_age.as_secs())
            .saturating_add(1);
        seen.insert(c.nonce.clone(), until).is_none()
    }
}

/// The joiner's side: answers challenges with its certificate and key.
pub struct Prover {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<dyn rustls::sign::SigningKey>,
}

impl std::fmt::Debug for Prover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The schemes a prover signs with, in order of preference.
const SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ED25519,
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
];

fn verification_alg(
    s: SignatureScheme,
) -> Option<&'static dyn rustls::pki_types::SignatureVerificationAlgorithm> {
    Some(match s {
        SignatureScheme::ED25519 => webpki::ring::ED25519,
        SignatureScheme::ECDSA_NISTP256_SHA256 => webpki::ring::ECDSA_P256_SHA256,
        SignatureScheme::ECDSA_NISTP384_SHA384 => webpki::ring::ECDSA_P384_SHA384,
        SignatureScheme::RSA_PSS_SHA256 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        _ => return None,
    })
}

impl Prover {
    /// A prover from PEM files: the certificate chain (leaf first) and its private key.
    pub fn from_pem_files(
        certificate: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<Prover, String> {
        let chain =
            realm_tls::transport::load_certificates(certificate).map_err(|e| e.to_string())?;
        let key = realm_tls::transport::load_key(key).map_err(|e| e.to_string())?;
        Prover::new(chain, &key)
    }

    /// A prover from DER certificates and a key.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: &PrivateKeyDer<'_>,
    ) -> Result<Prover, String> {
        let key = rustls::crypto::ring::sign::any_supported_type(key)
            .map_err(|e| format!("the private key cannot sign: {e}"))?;
        if chain.is_empty() {
            return Err("the certificate chain is empty".into());
        }
        Ok(Prover { chain, key })
    }

    /// Answers `challenge` (its bytes, as received) if it comes from `coordinator`.
    pub fn respond(&self, challenge: &[u8], coordinator: &str) -> Result<Vec<u8>, String> {
        let c = Challenge::from_bytes(challenge)?;
        if c.coordinator != coordinator {
            return Err(format!(
                "the challenge comes from {:?}, not from the coordinator {coordinator:?}",
                c.coordinator
            ));
        }
        let signer = self
            .key
            .choose_scheme(SCHEMES)
            .ok_or("the key supports none of Ed25519, ECDSA P-256/P-384, RSA-PSS")?;
        let mut msg = DOMAIN.to_vec();
        msg.extend_from_slice(challenge);
        let signature = signer
            .sign(&msg)
            .map_err(|e| format!("signing failed: {e}"))?;
        let r = Response {
            challenge: B64.encode(challenge),
            chain: self.chain.iter().map(|c| B64.encode(c.as_ref())).collect(),
            scheme: u16::from(signer.scheme()),
            signature: B64.encode(signature),
        };
        serde_json::to_vec(&r).map_err(|e| e.to_string())
    }
}

/// The coordinator's login module: verifies a [`Prover`]'s response ([`Credentials::Token`])
/// against the challenges of its [`Challenger`] and the cluster CA.
pub struct X509ChallengeModule {
    challenger: Arc<Challenger>,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl std::fmt::Debug for X509ChallengeModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X509ChallengeModule")
            .field("challenger", &self.challenger)
            .finish_non_exhaustive()
    }
}

impl X509ChallengeModule {
    /// A module trusting the CA certificates of `ca` (PEM), checked against the CRLs of `crl`.
    pub fn new(
        challenger: Arc<Challenger>,
        ca: &std::path::Path,
        crl: Option<&std::path::Path>,
    ) -> Result<X509ChallengeModule, String> {
        let verifier = realm_tls::transport::client_verifier(ca, crl).map_err(|e| e.to_string())?;
        Ok(X509ChallengeModule {
            challenger,
            verifier,
        })
    }

    /// Verifies a response from `peer`: the subject DN of its certificate, or why not. Consumes
    /// the challenge on success.
    pub fn verify(&self, response: &[u8], peer: &Endpoint) -> Result<String, String> {
        let r: Response =
            serde_json::from_slice(response).map_err(|e| format!("not a join response: {e}"))?;
        let challenge_bytes = B64
            .decode(&r.challenge)
            .map_err(|_| "the challenge is not base64".to_string())?;
        let challenge = Challenge::from_bytes(&challenge_bytes)?;
        self.challenger.check(&challenge, peer)?;
        let chain: Vec<CertificateDer<'static>> = r
            .chain
            .iter()
            .map(|c| B64.decode(c).map(CertificateDer::from))
            .collect::<Result<_, _>>()
            .map_err(|_| "a certificate is not base64".to_string())?;
        let (leaf, intermediates) = chain
            .split_first()
            .ok_or("the response holds no certificate")?;
        let cert =
            realm_tls::cert::PeerCertificate::from_der(leaf.as_ref()).map_err(|e| e.to_string())?;
        self.verifier
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .map_err(|e| {
                format!(
                    "the certificate of {} (issuer {}) is not a valid cluster certificate: {e}",
                    cert.subject_string,
                    cert.issuer_string()
                )
            })?;
        let scheme = SignatureScheme::from(r.scheme);
        let alg = verification_alg(scheme)
            .ok_or_else(|| format!("signature scheme {scheme:?} is not accepted"))?;
        let signature = B64
            .decode(&r.signature)
            .map_err(|_| "the signature is not base64".to_string())?;
        let mut msg = DOMAIN.to_vec();
        msg.extend_from_slice(&challenge_bytes);
        webpki::EndEntityCert::try_from(leaf)
            .and_then(|ee| ee.verify_signature(alg, &msg, &signature))
            .map_err(|e| {
                format!(
                    "the signature does not verify with the key of {}: {e:?}",
                    cert.subject_string
                )
            })?;
        if !self.challenger.consume(&challenge) {
            return Err(format!(
                "replay: this challenge was answered before (by {})",
                cert.subject_string
            ));
        }
        Ok(cert.subject_string)
    }
}

#[async_trait::async_trait]
impl LoginModule for X509ChallengeModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Credentials::Token { token } = cx.credentials() else {
            return Err(LoginError::Denied(
                "x509 challenge: expected a join response (token credentials)".into(),
            ));
        };
        let token = token.expose().to_vec();
        let endpoint = cx.endpoint().clone();
        let subject = self
            .verify(&token, &endpoint)
            .map_err(|e| LoginError::Denied(format!("x509 challenge: {e}")))?;
        cx.note(format!("x509 challenge: proven by {subject}"));
        cx.propose(Principal::Identity(subject));
        if let Some(host) = endpoint.host() {
            cx.propose(Principal::Endpoint(host));
        }
        Ok(Verdict::Succeeded)
    }
}
