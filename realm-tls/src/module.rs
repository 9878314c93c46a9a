//! The `tls` authentication as a login module, and its registration.

use crate::allow::AllowList;
use crate::cert::PeerCertificate;
use crate::dn::attribute_oid;
use realm_core::config::{AuthenticationConfig, SkipFlags, TlsConfig, Usage};
use realm_core::module::{LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::registry::{ChainLink, Registry, SKIP_PROPERTIES};
use realm_core::{Credentials, Principal};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Realm's class name for the module.
pub const CLASS_NAME: &str = "realm.tls.X509CertificateLoginModule";
/// Hazelcast's class name for the same module, accepted so that `jaas` stacks load as written.
pub const HAZELCAST_CLASS_NAME: &str =
    "com.hazelcast.security.loginimpl.X509CertificateLoginModule";

/// Authenticates a peer by the certificate the TLS transport verified: the leaf of
/// [`Credentials::Certificate`], or else of the endpoint's `peer_certificates`.
///
/// The identity is the subject DN as an RFC 4514 string; the roles are all values of the
/// `roleAttribute` type in the subject (type matched case-insensitively, values as written,
/// duplicates once); the endpoint is the peer's IP address. The module checks no signature
/// (the handshake did: build it with [`crate::server_config`]), but it refuses a certificate
/// outside its validity period (defence in depth) and, with `allow` rules, one that matches
/// none of them.
#[derive(Debug)]
pub struct TlsLoginModule {
    role_oid: String,
    role_attribute: String,
    allow: AllowList,
    skip: SkipFlags,
}

impl TlsLoginModule {
    /// The module of a `tls` configuration. An unknown `roleAttribute` or a bad pattern is an
    /// error.
    pub fn new(c: &TlsConfig) -> Result<TlsLoginModule, String> {
        let role_oid = attribute_oid(&c.role_attribute).ok_or_else(|| {
            format!(
                "roleAttribute `{}` is not an attribute type: use a name such as cn, ou, o, c, \
                 dc, uid, sn, emailAddress, or a dotted OID such as 2.5.4.3",
                c.role_attribute
            )
        })?;
        Ok(TlsLoginModule {
            role_oid,
            role_attribute: c.role_attribute.clone(),
            allow: AllowList::new(&c.allow)?,
            skip: c.skip,
        })
    }

    /// What the module makes of a certificate (DER): identity, roles, or why not. `now` is in
    /// seconds since the Unix epoch. Also used by the benchmark.
    pub fn evaluate(&self, der: &[u8], now: i64) -> Result<(String, Vec<String>), String> {
        let cert = PeerCertificate::from_der(der).map_err(|e| e.to_string())?;
        if now < cert.not_before {
            return Err(format!(
                "the certificate of {} is not valid yet (from {} s after the epoch); are the \
                 clocks in sync?",
                cert.subject_string, cert.not_before
            ));
        }
        if now > cert.not_after {
            return Err(format!(
                "the certificate of {} expired {} s ago (the transport should have refused it)",
                cert.subject_string,
                now - cert.not_after
            ));
        }
        if !self.allow.is_empty() && self.allow.matching(&cert).is_none() {
            let sans: Vec<String> = cert.sans.iter().map(ToString::to_string).collect();
            return Err(format!(
                "the certificate of {} (issuer {}; SANs: {}) matches no allow rule",
                cert.subject_string,
                cert.issuer_string(),
                if sans.is_empty() {
                    "none".into()
                } else {
                    sans.join(", ")
                }
            ));
        }
        let mut roles: Vec<String> = Vec::new();
        for v in cert.subject.values_of(&self.role_oid) {
            if !roles.iter().any(|r| r == v) {
                roles.push(v.to_string());
            }
        }
        Ok((cert.subject_string, roles))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[async_trait::async_trait]
impl LoginModule for TlsLoginModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let leaf = match cx.credentials() {
            Credentials::Certificate { chain } => chain.first().cloned(),
            _ => cx.endpoint().peer_certificates.first().cloned(),
        };
        let Some(leaf) = leaf else {
            return Err(LoginError::Denied(
                "tls: no client certificate (the connection did not use mutual TLS, or the \
                 transport passed no certificate)"
                    .into(),
            ));
        };
        let (identity, roles) = self
            .evaluate(&leaf.0, now())
            .map_err(|e| LoginError::Denied(format!("tls: {e}")))?;
        cx.note(format!(
            "tls: subject {identity}; {} role(s) from {}",
            roles.len(),
            self.role_attribute
        ));
        if !self.skip.skip_identity {
            cx.propose(Principal::Identity(identity));
        }
        if !self.skip.skip_role {
            for r in roles {
                cx.propose(Principal::Role(r));
            }
        }
        if !self.skip.skip_endpoint
            && let Some(host) = cx.endpoint().host()
        {
            cx.propose(Principal::Endpoint(host));
        }
        Ok(Verdict::Succeeded)
    }
}

/// Registers the `tls` authentication type and the class names [`CLASS_NAME`] and
/// [`HAZELCAST_CLASS_NAME`] (properties `roleAttribute`, `skipIdentity`, `skipRole`,
/// `skipEndpoint`, or their kebab-case forms).
pub fn register(registry: &mut Registry) {
    registry.register_authentication_type("tls", |spec| {
        let AuthenticationConfig::Tls(c) = spec.authentication else {
            return Err("not a tls configuration".into());
        };
        Ok(vec![ChainLink {
            name: "tls".into(),
            usage: Usage::Required,
            module: Arc::new(TlsLoginModule::new(c)?),
        }])
    });
    for class in [CLASS_NAME, HAZELCAST_CLASS_NAME] {
        registry.register_login_module(class, |spec| {
            let p = spec.props();
            let known: Vec<&str> = ["roleAttribute", "role-attribute"]
                .into_iter()
                .chain(SKIP_PROPERTIES.iter().copied())
                .collect();
            p.deny_unknown(&known)?;
            let c = TlsConfig {
                skip: p.skip_flags()?,
                role_attribute: p
                    .str("roleAttribute")
                    .or_else(|| p.str("role-attribute"))
                    .unwrap_or("cn")
                    .to_string(),
                allow: Default::default(),
                ca_file: None,
                crl_file: None,
                certificate_file: None,
                key_file: None,
            };
            Ok(Arc::new(TlsLoginModule::new(&c)?))
        });
    }
}
