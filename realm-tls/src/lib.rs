//! # realm-tls
//!
//! Will own `tls` authentication: the subject DN of a client certificate (verified by the
//! transport) as identity, the values of a DN attribute (`roleAttribute`, default `cn`) as roles,
//! an optional allow-list, rustls configuration helpers, and cluster-membership tokens.
//!
//! Its configuration is [`realm_core::config::TlsConfig`] (`<tls roleAttribute="cn"/>`).

pub use realm_core::config::TlsConfig;
