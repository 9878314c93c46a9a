//! # realm-ini
//!
//! Will own the `ini` realm: Apache Shiro's ini format (`[users]` lines
//! `name = password, role1, role2`, `[roles]` lines `role = permission, ...`) with Shiro's
//! `$shiro1$` hashes, PHC strings (argon2id by default) and, only when explicitly allowed, plain
//! passwords; hot reload of the file; the `realm users` management commands with a password
//! policy; and an encrypted keychain for `${keychain:URI}` secrets.
//!
//! Its configuration is [`realm_core::config::IniConfig`] (`<ini path="users.ini"/>`).

pub use realm_core::config::IniConfig;
