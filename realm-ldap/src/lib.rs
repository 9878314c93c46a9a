//! # realm-ldap
//!
//! Today: the two escapers ([`escape`]) and the [`dn::Dn`] type. Will own LDAP and Active Directory authentication: bind as the user's DN, or search with an
//! admin connection and verify by a real bind (or a constant-time `password-attribute` compare);
//! role mapping by attribute, direct DN reference or reverse group search, with recursion; RFC 4515
//! filter and RFC 4514 DN escaping; a `Dn` type compared by normalised value; connection pools,
//! failover, timeouts, StartTLS/ldaps with rustls; `Unavailable` (never "wrong password") when the
//! directory cannot be asked.
//!
//! Its configuration is [`realm_core::config::LdapConfig`], with every option of the documents'
//! LDAP options table and its default.

pub use realm_core::config::LdapConfig;

pub mod dn;
pub mod escape;
