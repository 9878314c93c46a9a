//! # realm-kerberos
//!
//! Kerberos for Realm, on MIT krb5's GSSAPI: the acceptor of the `kerberos` authentication,
//! the initiator of the `kerberos` identity, and role lookup in LDAP after a token is accepted.
//!
//! * [`acceptor::Acceptor`] checks a token with the service key of a keytab (credential acquired
//!   once, replay cache on) and says who the client is, or why not
//!   ([`acceptor::AcceptErrorKind`]: replay, expired, clock skew, wrong service, wrong kvno,
//!   flags, ...).
//! * [`initiator::Initiator`] gets service tickets with a client keytab into a private
//!   in-memory ticket cache and makes tokens that claim no conf/integ protection.
//! * [`KerberosLoginModule`] and [`KerberosCredentialsFactory`] put them in realms;
//!   [`register`] installs the `kerberos` type (with its nested `ldap` for roles), the
//!   `kerberos` identity and the class names.
//!
//! The identity is the client principal and **no role is added**; a nested `ldap` adds roles.
//! Options that contradict each other are configuration errors, found before any KDC is asked:
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax};
//! let yaml = "
//! security:
//!   realms:
//!     - name: to-members
//!       identity:
//!         kerberos:
//!           spn: hz/cluster.acme.com
//!           service-name-prefix: hz/
//!           principal: member1@ACME.COM
//!           keytab-file: member1.keytab
//! ";
//! let err = load_str(yaml, Syntax::Yaml, "m.yaml".as_ref(), &LoadOptions::default()).unwrap_err();
//! assert!(err.to_string().contains("m.yaml:8:11"), "{err}");
//! assert!(err.to_string().contains("cannot be combined with `spn`"), "{err}");
//! ```
//!
//! Building a realm reads its keytab (a missing or unreadable one is an error that names it);
//! the KDC is first contacted when the first token is made. MIT krb5 reads its configuration
//! from `KRB5_CONFIG` (default `/etc/krb5.conf`).

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
