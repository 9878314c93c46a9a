//! # realm-ldap
//!
//! LDAP and Active Directory authentication for Realm, on [`ldap3`] and tokio.
//!
//! * **Authentication.** Without a system account the login name is the user's DN (or, with
//!   `domain`, an Active Directory `user@domain`) and the module binds as it. With
//!   `system-user-dn`, it searches the user with `user-filter` and then verifies the password by
//!   a real, awaited bind as the found DN (the CVE-2020-26168 hole cannot exist), by a
//!   constant-time comparison with `password-attribute`, or not at all with
//!   `skip-authentication` (the identity comes from the previous module of the chain).
//! * **Roles.** `attribute`, `direct` and `reverse` mapping with breadth-first recursion
//!   (see the documentation of [`LdapLoginModule`]), every value of multi-valued attributes,
//!   optional group-to-role mapping (`role-mappings`), Active Directory's in-chain rule.
//! * **Safety.** Every value put into a filter is escaped per RFC 4515 ([`escape`]); DNs are a
//!   type compared by normalised value ([`dn::Dn`]); an empty password never reaches the server;
//!   a directory that is down, slow or refuses the admin bind is `Unavailable`, never a wrong
//!   password.
//! * **Operations.** A shared admin pool and a separate user-bind pool, failover over
//!   space-separated URLs, connect/operation/login timeouts, `ldaps://` and StartTLS with
//!   rustls.
//!
//! Its configuration is [`realm_core::config::LdapConfig`]: every option of Hazelcast's table
//! plus Realm's extensions ([`realm_core::config::LdapExtensions`]).
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax};
//! let yaml = "
//! security:
//!   realms:
//!     - name: corp
//!       authentication:
//!         ldap:
//!           url: ldaps://ldap.example.com
//!           system-user-dn: cn=realm,ou=system,dc=example,dc=com
//!           system-user-password: ${env:LDAP_ADMIN_PASSWORD}
//!           user-context: ou=Users,dc=example,dc=com
//!           role-mapping-mode: reverse
//!           role-mapping-attribute: member
//!           role-name-attribute: cn
//!           role-recursion-max-depth: 5
//! ";
//! let env = |k: &str| (k == "LDAP_ADMIN_PASSWORD").then(|| "s3cret".to_string());
//! let options = LoadOptions { env: Some(&env) };
//! let loaded = load_str(yaml, Syntax::Yaml, "corp.yaml".as_ref(), &options).unwrap();
//! let mut registry = realm_core::Registry::new();
//! realm_jaas_chain::register(&mut registry);
//! realm_ldap::register(&mut registry);
//! // Nothing is contacted yet: a directory that is down makes logins `Unavailable`.
//! let security = realm_core::Security::from_config(&loaded.config, &registry).unwrap();
//! assert!(security.realm("corp").is_some());
//! ```

pub use realm_core::config::LdapConfig;

pub mod ad;
mod conn;
pub mod dn;
pub mod escape;
#[cfg(feature = "gssapi")]
mod gssapi;
mod module;
mod ops;
mod roles;
mod tls;

pub use module::{CLASS_NAME, HAZELCAST_CLASS_NAMES, LdapLoginModule, LdapOutcome, register};
