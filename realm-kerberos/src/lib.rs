//! # realm-kerberos
//!
//! Kerberos for Realm, on MIT krb5's GSSAPI: the acceptor of the `kerberos` authentication,
//! the initiator of the `kerberos` identity, and role lookup in LDAP after a token is accepted.

pub use realm_core::config::{KerberosAuthConfig, KerberosIdentityConfig};

pub mod acceptor;
pub mod initiator;
pub mod keytab;
pub mod module;
pub mod spn;
pub mod token;

pub use libgssapi::context::CtxFlags;
pub use module::{
    CLASS_NAME, DEFAULT_INITIATOR_TIMEOUT, HAZELCAST_CLASS_NAME, KerberosCredentialsFactory,
    KerberosLoginModule, name_without_realm, register,
};
