//! The evidence a peer presents ([`Credentials`]), where it comes from ([`Endpoint`]), and what
//! a successful login makes of it ([`Principal`]s collected in a [`Subject`]).

use crate::secret::Secret;
use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;

/// A DER-encoded X.509 certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateDer(pub Vec<u8>);

impl fmt::Debug for CertificateDer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateDer({} bytes)", self.0.len())
    }
}

/// What a peer presents to prove who it is.
///
/// The secret parts live in [`Secret`], so `Debug` output of credentials is safe to log.
///
/// ```
/// use realm_core::Credentials;
/// let c = Credentials::password("alice", "wonderland");
/// assert_eq!(c.name(), "alice");
/// assert!(!format!("{c:?}").contains("wonderland"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// A user name and a password (Hazelcast's `PasswordCredentials`).
    Password {
        /// The login name as the peer sent it (case is kept: names are case-sensitive).
        name: String,
        /// The password.
        password: Secret,
    },
    /// An opaque token, e.g. a Kerberos/GSSAPI initial context token (Hazelcast's `TokenCredentials`).
    Token {
        /// The token bytes.
        token: Secret,
    },
    /// The peer's certificate chain, leaf first, already verified by the TLS transport.
    Certificate {
        /// DER certificates, leaf first.
        chain: Vec<CertificateDer>,
    },
}

impl Credentials {
    /// Username/password credentials.
    pub fn password(name: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials::Password {
            name: name.into(),
            password: password.into(),
        }
    }

    /// Token credentials.
    pub fn token(bytes: Vec<u8>) -> Self {
        Credentials::Token {
            token: Secret::from_bytes(bytes),
        }
    }

    /// The name the credentials claim: the user name, or `<token>` / `<certificate>` for the
    /// kinds that carry no name of their own (as Hazelcast's callback handler reports them).
    pub fn name(&self) -> &str {
        match self {
            Credentials::Password { name, .. } => name,
            Credentials::Token { .. } => "<token>",
            Credentials::Certificate { .. } => "<certificate>",
        }
    }
}

/// Where a peer connects from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The peer's socket address, when known.
    pub address: Option<SocketAddr>,
    /// A logical name the peer gave for itself (e.g. a cluster member name); not evidence.
    pub logical_name: Option<String>,
    /// The peer certificate chain if the connection used mutual TLS, leaf first.
    pub peer_certificates: Vec<CertificateDer>,
}

impl Endpoint {
    /// An endpoint known only by its address.
    pub fn from_addr(address: SocketAddr) -> Self {
        Endpoint {
            address: Some(address),
            ..Endpoint::default()
        }
    }

    /// The address as Hazelcast's `ClusterEndpointPrincipal` carries it: the IP, no port.
    pub fn host(&self) -> Option<String> {
        self.address.map(|a| a.ip().to_string())
    }
}

/// One fact a login establishes about a peer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Principal {
    /// Who the peer is (Hazelcast's `ClusterIdentityPrincipal`).
    Identity(String),
    /// A role the peer holds (`ClusterRolePrincipal`).
    Role(String),
    /// Where the peer connected from (`ClusterEndpointPrincipal`).
    Endpoint(String),
}

/// The committed result of a login: the principals of one peer.
///
/// Identity and endpoint are single-valued (a later module replaces an earlier one's, as in
/// Hazelcast); roles accumulate as a set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    identity: Option<String>,
    endpoint: Option<String>,
    roles: BTreeSet<String>,
}

impl Subject {
    /// An empty subject.
    pub fn new() -> Self {
        Subject::default()
    }

    /// Adds a principal: identity and endpoint replace the previous value, roles accumulate.
    pub fn add(&mut self, principal: Principal) {
        match principal {
            Principal::Identity(i) => self.identity = Some(i),
            Principal::Endpoint(e) => self.endpoint = Some(e),
            Principal::Role(r) => {
                self.roles.insert(r);
            }
        }
    }

    /// Removes every principal (what JAAS `abort`/`logout` do).
    pub fn clear(&mut self) {
        *self = Subject::default();
    }

    /// The identity, if any module set one.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The endpoint, if known.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The roles, sorted and without duplicates.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(String::as_str)
    }

    /// True if the subject holds the role (exact, case-sensitive match).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// All principals, identity first, then endpoint, then roles in order.
    pub fn principals(&self) -> Vec<Principal> {
        let mut v = Vec::new();
        if let Some(i) = &self.identity {
            v.push(Principal::Identity(i.clone()));
        }
        if let Some(e) = &self.endpoint {
            v.push(Principal::Endpoint(e.clone()));
        }
        v.extend(self.roles.iter().cloned().map(Principal::Role));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_endpoint_replace_roles_accumulate() {
        let mut s = Subject::new();
        s.add(Principal::Identity("a".into()));
        s.add(Principal::Identity("b".into()));
        s.add(Principal::Role("x".into()));
        s.add(Principal::Role("x".into()));
        s.add(Principal::Role("w".into()));
        assert_eq!(s.identity(), Some("b"));
        assert_eq!(s.roles().collect::<Vec<_>>(), ["w", "x"]);
        s.clear();
        assert!(s.principals().is_empty());
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let c = Credentials::token(b"tok-secret".to_vec());
        assert!(!format!("{c:?}").contains("tok-secret"));
        assert_eq!(c.name(), "<token>");
    }
}
