//! # realm-ini
//!
//! The file-based realm: Apache Shiro's ini format (`[users]` lines `name = password, role1, role2`,
//! `[roles]` lines `role = permission, ...`), as Terracotta uses it.
//!
//! Its configuration is [`realm_core::config::IniConfig`] (`<ini path="users.ini"/>` /
//! `ini: {path: users.ini}`).

pub use realm_core::config::IniConfig;

pub mod edit;
pub mod module;
pub mod parse;
pub mod password;
pub mod policy;
