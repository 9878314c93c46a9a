//! # realm-jaas-chain
//!
//! Will own `LoginChain`: stacked login modules with the control flags REQUIRED, REQUISITE,
//! SUFFICIENT and OPTIONAL, behaving exactly as Java 17's `javax.security.auth.login.LoginContext`
//! (which modules are asked, when the login phase stops, the overall verdict, which error is
//! reported, who gets `commit` and who gets `abort`). Typed realms (`simple`, `ini`, `ldap`,
//! `kerberos`, `tls`) become chains of one REQUIRED module each (Kerberos with LDAP: two).
//!
//! The configuration it runs from is [`realm_core::config::AuthenticationConfig::Jaas`].

/// The control flag of a module in a chain (re-exported from the configuration model).
pub use realm_core::config::Usage;
