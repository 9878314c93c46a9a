//! # realm-tls
//!
//! The `tls` authentication: a peer authenticated by a client certificate (already verified by
//! the TLS transport) gets the certificate's subject DN as its identity (an RFC 4514 string,
//! see [`dn`]) and every value of one DN attribute as its roles (`roleAttribute`, default
//! `cn`). Realm adds what Hazelcast's users asked for: an allow-list of subjects and subject
//! alternative names ([`allow`]), and rustls helpers that build the mutual-TLS server and client
//! configurations from PEM files and turn a finished `tokio-rustls` handshake into the
//! credentials and endpoint a realm logs in with ([`transport`]).
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax};
//! let yaml = r#"
//! security:
//!   realms:
//!     - name: tlsRealm
//!       authentication:
//!         tls:
//!           roleAttribute: ou
//!           allow:
//!             subject-patterns: ['CN=[a-z0-9-]+,OU=Members,O=Acme']
//! "#;
//! let loaded = load_str(yaml, Syntax::Yaml, "tls.yaml".as_ref(), &LoadOptions::default()).unwrap();
//! let mut registry = realm_core::Registry::new();
//! realm_jaas_chain::register(&mut registry);
//! realm_tls::register(&mut registry);
//! let security = realm_core::Security::from_config(&loaded.config, &registry).unwrap();
//! assert!(security.realm("tlsRealm").is_some());
//! ```

pub mod allow;
pub mod cert;
pub mod dn;
pub mod module;
pub mod transport;

pub use module::{CLASS_NAME, HAZELCAST_CLASS_NAME, TlsLoginModule, register};
pub use transport::{
    TlsFiles, TlsSetupError, client_config, client_config_without_certificate, peer_login,
    server_config, server_config_without_client_certificates,
};
