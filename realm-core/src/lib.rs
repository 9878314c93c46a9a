//! # realm-core
//!
//! The vocabulary and the glue of Realm, a framework for pluggable authentication realms.
//!
//! A server names a *realm*; the realm decides who a peer is and which roles it holds. This crate
//! owns what every backend shares:
//!
//! * [`Credentials`], [`Endpoint`], [`Principal`], [`Subject`]: the evidence a peer presents, where it
//!   comes from, and what a login makes of it;
//! * [`Secret`]: passwords and tokens that never print and are zeroized on drop;
//! * [`config`]: the typed model of the security section (Hazelcast's `<security>` with its
//!   `<realms>`), read from XML or YAML with `FILE:LINE:COL: key.path` errors;
//! * [`module`]: the login-module and credentials-factory traits backends implement;
//! * [`Registry`] and [`Security`]: names to factories, and the realms built from a configuration.
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax, AuthenticationConfig};
//! let xml = r#"<security enabled="true">
//!   <realms>
//!     <realm name="tlsRealm"><authentication><tls roleAttribute="cn"/></authentication></realm>
//!   </realms>
//!   <client-authentication realm="tlsRealm"/>
//! </security>"#;
//! let loaded = load_str(xml, Syntax::Xml, "security.xml".as_ref(), &LoadOptions::default()).unwrap();
//! let realm = loaded.config.realm("tlsRealm").unwrap();
//! assert!(matches!(realm.authentication, Some(AuthenticationConfig::Tls(_))));
//! ```

pub mod config;
mod credentials;
pub mod keychain;
pub mod keychain_identity;
pub mod module;
pub mod password;
pub mod registry;
mod secret;
mod security;
pub mod simple;

pub use credentials::{CertificateDer, Credentials, Endpoint, Principal, Subject};
pub use registry::Registry;
pub use secret::{REDACTED, Secret, ct_eq};
pub use security::{BuildError, BuildErrors, LoginFailure, Realm, Security};
