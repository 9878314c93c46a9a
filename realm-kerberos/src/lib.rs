//! # realm-kerberos
//!
//! Will own Kerberos: the GSSAPI acceptor that accepts a peer's token with the service keytab
//! (`kerberos` authentication, optionally followed by LDAP role lookup) and the initiator that
//! fetches a service ticket for a peer (`kerberos` identity), with typed diagnostics (wrong SPN,
//! kvno, enctype, clock skew) decoded from the token by a permissively licensed ASN.1 crate.
//!
//! Today: [`spn::spn_for`], the service principal name an initiator asks a ticket for.
//!
//! Its configuration is [`realm_core::config::KerberosAuthConfig`] and
//! [`realm_core::config::KerberosIdentityConfig`].

pub use realm_core::config::{KerberosAuthConfig, KerberosIdentityConfig};

pub mod spn;
