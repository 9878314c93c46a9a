//! The `simple` realm: users, passwords and roles listed in the configuration (the embedded default).
//!
//! Passwords may be PHC hashes (argon2id/argon2i/argon2d) or plain text; plain text works, for
//! compatibility with Hazelcast's `simple` realm, but each plain password is a build warning.
//! Comparison is constant-time, an unknown user is checked against a dummy of the same kind and
//! cost as the stored passwords, and user names are case-sensitive.

use crate::config::{AuthenticationConfig, SimpleConfig, SkipFlags, Usage};
use crate::credentials::Credentials;
use crate::module::{
    LoginError, LoginModule, ModuleContext, Verdict, off_executor, password_verdict,
};
use crate::password::StoredPassword;
use crate::registry::{ChainLink, Registry};
use std::collections::HashMap;
use std::sync::Arc;

/// The login module of a `simple` realm.
pub struct SimpleLoginModule {
    users: HashMap<String, (Arc<StoredPassword>, Vec<String>)>,
    dummy: Arc<StoredPassword>,
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
            users.insert(u.username.clone(), (Arc::new(stored), u.roles.clone()));
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
            .map(|p| p.dummy_like())
            .unwrap_or_else(|| StoredPassword::Plain(crate::Secret::from_bytes(vec![0xff; 16])));
        let dummy = Arc::new(dummy);
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
        let (stored, roles) = match self.users.get(&name) {
            Some((stored, roles)) => (stored.clone(), Some(roles)),
            None => (self.dummy.clone(), None),
        };
        // Hashing takes milliseconds of CPU on purpose: off the async executor.
        let verified = if stored.is_plain() {
            stored.verify(&password)
        } else {
            off_executor(move || stored.verify(&password))
                .await
                .unwrap_or(false)
        };
        password_verdict(
            cx,
            name,
            roles.map(Vec::as_slice),
            verified && roles.is_some(),
            self.skip,
        )
    }
}

/// The class name of the `simple` module for `jaas` chains.
pub const CLASS_NAME: &str = "realm.simple.SimpleLoginModule";
/// Hazelcast's class name for the same module, accepted so Hazelcast configurations work as written.
pub const HAZELCAST_CLASS_NAME: &str =
    "com.hazelcast.security.loginimpl.SimplePropertiesLoginModule";

/// Builds a [`SimpleConfig`] from `jaas` properties as Hazelcast's `SimplePropertiesLoginModule`
/// reads them: `password.<user>`, `roles.<user>` (joined by `roleSeparator`, default `,`).
fn config_from_properties(props: &crate::config::Properties) -> Result<SimpleConfig, String> {
    let sep = props
        .get("roleSeparator")
        .and_then(|v| v.expose())
        .unwrap_or(",")
        .to_string();
    let mut users = Vec::new();
    for (key, value) in props {
        if let Some(user) = key.strip_prefix("password.") {
            let password = match value {
                crate::config::PropertyValue::Secret(s) => s.clone(),
                crate::config::PropertyValue::Text(t) => crate::Secret::from(t.as_str()),
            };
            let roles = props
                .get(&format!("roles.{user}"))
                .and_then(|v| v.expose())
                .map(|r| {
                    r.split(sep.as_str())
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            users.push(crate::config::SimpleUser {
                username: user.to_string(),
                password,
                roles,
            });
        } else if !(key.starts_with("roles.") || key == "roleSeparator") {
            return Err(format!(
                "unknown property `{key}`; expected `password.<user>`, `roles.<user>` or `roleSeparator`"
            ));
        }
    }
    for key in props.keys() {
        if let Some(user) = key.strip_prefix("roles.")
            && !props.contains_key(&format!("password.{user}"))
        {
            return Err(format!(
                "property `{key}` has no matching `password.{user}`"
            ));
        }
    }
    Ok(SimpleConfig {
        skip: SkipFlags::default(),
        users,
        role_separator: sep,
    })
}

/// Registers the `simple` authentication type and the `simple` login-module class names.
pub fn register(registry: &mut Registry) {
    for class in [CLASS_NAME, HAZELCAST_CLASS_NAME] {
        registry.register_login_module(class, |spec| {
            let config = config_from_properties(spec.properties)?;
            let mut warnings = Vec::new();
            let module = SimpleLoginModule::new(&config, &mut warnings)?;
            for w in warnings {
                spec.warn(w);
            }
            Ok(Arc::new(module))
        });
    }
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
