//! The `simple` realm: users, passwords and roles listed in the configuration (the embedded default).
//!
//! Passwords may be PHC hashes (argon2id/argon2i/argon2d) or plain text; plain text works, for
//! compatibility with Hazelcast's `simple` realm, but each plain password is a build warning.
//! Comparison is constant-time, an unknown user is checked against a dummy of the same kind and
//! cost as the stored passwords, and user names are case-sensitive.

use crate::config::{AuthenticationConfig, SimpleConfig, SkipFlags, Usage};
use crate::credentials::{Credentials, Principal};
use crate::module::{LoginError, LoginModule, ModuleContext, Verdict};
use crate::password::StoredPassword;
use crate::registry::{ChainLink, Registry};
use std::collections::HashMap;
use std::sync::Arc;

/// The login module of a `simple` realm.
pub struct SimpleLoginModule {
    users: HashMap<String, (StoredPassword, Vec<String>)>,
    dummy: StoredPassword,
    skip: SkipFlags,
}

impl std::fmt::Debug for SimpleLoginModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleLoginModule")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl SimpleLoginModule {
    /// Builds the module; plain-text passwords are reported in `warnings` (by user name only).
    pub fn new(config: &SimpleConfig, warnings: &mut Vec<String>) -> Result<Self, String> {
        let mut users = HashMap::new();
        let mut plain = Vec::new();
        for u in &config.users {
            let stored = StoredPassword::parse(&u.password)
                .map_err(|e| format!("user `{}`: password: {e}", u.username))?;
            if stored.is_plain() {
                plain.push(u.username.clone());
            }
            users.insert(u.username.clone(), (stored, u.roles.clone()));
        }
        if !plain.is_empty() {
            warnings.push(format!(
                "plain-text password{} for {}: store argon2id hashes (PHC strings) instead",
                if plain.len() == 1 { "" } else { "s" },
                plain
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // The dummy mirrors the first hashed password if there is one, else a plain one.
        let dummy = users
            .values()
            .map(|(p, _)| p)
            .find(|p| !p.is_plain())
            .or_else(|| users.values().map(|(p, _)| p).next())
            .map(StoredPassword::dummy_like)
            .unwrap_or_else(|| StoredPassword::Plain(crate::Secret::from_bytes(vec![0xff; 16])));
        Ok(SimpleLoginModule {
            users,
            dummy,
            skip: config.skip,
        })
    }
}

#[async_trait::async_trait]
impl LoginModule for SimpleLoginModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Credentials::Password { name, password } = cx.credentials() else {
            return Err(LoginError::Denied(
                "the simple realm needs username/password credentials".into(),
            ));
        };
        if name.is_empty() || password.is_empty() {
            return Err(LoginError::Denied("empty user name or password".into()));
        }
        let (name, password) = (name.clone(), password.clone());
        let (ok, roles) = match self.users.get(&name) {
            Some((stored, roles)) => (stored.verify(&password), Some(roles)),
            None => {
                let _ = self.dummy.verify(&password);
                (false, None)
            }
        };
        match (ok, roles) {
            (true, Some(roles)) => {
                cx.note(format!(
                    "user `{name}` verified; roles: [{}]",
                    roles.join(", ")
                ));
                if !self.skip.skip_identity {
                    cx.propose(Principal::Identity(name));
                }
                if !self.skip.skip_role {
                    for r in roles {
                        cx.propose(Principal::Role(r.clone()));
                    }
                }
                if !self.skip.skip_endpoint {
                    if let Some(host) = cx.endpoint().host() {
                        cx.propose(Principal::Endpoint(host));
                    }
                }
                Ok(Verdict::Succeeded)
            }
            (_, Some(_)) => Err(LoginError::Denied(format!(
                "wrong password for user `{name}`"
            ))),
            (_, None) => Err(LoginError::Denied(format!("unknown user `{name}`"))),
        }
    }
}

/// Registers the `simple` authentication type.
pub fn register(registry: &mut Registry) {
    registry.register_authentication_type("simple", |spec| match spec.authentication {
        AuthenticationConfig::Simple(c) => {
            let module = SimpleLoginModule::new(c, spec.warnings)?;
            Ok(vec![ChainLink {
                name: "simple".into(),
                usage: Usage::Required,
                module: Arc::new(module),
            }])
        }
        _ => Err("not a simple configuration".into()),
    });
}
