//! # realm-kerberos
//!
//! Kerberos for Realm, on MIT krb5's GSSAPI: the acceptor of the `kerberos` authentication,
//! the initiator of the `kerberos` identity, and role lookup in LDAP after a token is accepted.

pub use realm_core::config::{KerberosAuthConfig, KerberosIdentityConfig};

pub mod acceptor;
pub mod initiator;
pub mod keytab;
pub mod spn;
pub mod token;
