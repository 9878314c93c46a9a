//! The registry: authentication types, login-module and credentials-factory class names → factories.
//!
//! Backends expose one `register(&mut Registry)` function; a program registers its own modules
//! the same way, under the class name its configuration uses:
//!
//! ```
//! use std::sync::Arc;
//! use realm_core::{Registry, module::*};
//!
//! struct AlwaysIgnore;
//! #[async_trait::async_trait]
//! impl LoginModule for AlwaysIgnore {
//!     async fn login(&self, _cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
//!         Ok(Verdict::Ignored)
//!     }
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_login_module("com.example.AlwaysIgnore", |spec| {
//!     spec.props().deny_unknown(&[])?;
//!     Ok(Arc::new(AlwaysIgnore))
//! });
//! assert!(registry.login_module_names().any(|n| n == "com.example.AlwaysIgnore"));
//! ```

use crate::config::{
    AuthenticationConfig, KerberosIdentityConfig, Properties, PropertyValue, SecurityConfig, Usage,
};
use crate::module::{Authenticator, CredentialsFactory, LoginModule};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One module of a chain, with its flag and the name the trace shows.
#[derive(Clone)]
pub struct ChainLink {
    /// Class name or authentication type.
    pub name: String,
    /// Control flag.
    pub usage: Usage,
    /// The module.
    pub module: Arc<dyn LoginModule>,
}

/// What a login-module or credentials-factory factory is given.
pub struct ModuleSpec<'a> {
    /// The realm being built.
    pub realm: &'a str,
    /// The class name the configuration used.
    pub class_name: &'a str,
    /// The configured properties.
    pub properties: &'a Properties,
    /// The whole security configuration (for references to other realms).
    pub config: &'a SecurityConfig,
    warnings: std::cell::RefCell<Vec<String>>,
}

impl<'a> ModuleSpec<'a> {
    /// A spec for building one module.
    pub fn new(
        realm: &'a str,
        class_name: &'a str,
        properties: &'a Properties,
        config: &'a SecurityConfig,
    ) -> Self {
        ModuleSpec {
            realm,
            class_name,
            properties,
            config,
            warnings: Default::default(),
        }
    }

    /// Reports something the operator should know but that does not stop the build (a plain-text
    /// password, an insecure option). Collected in `Security::warnings()`. Never pass a secret.
    pub fn warn(&self, warning: impl Into<String>) {
        self.warnings.borrow_mut().push(warning.into());
    }

    /// The warnings reported so far.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// Typed access to the properties, with errors that name the property.
    pub fn props(&self) -> Props<'a> {
        Props {
            properties: self.properties,
        }
    }
}

/// What an authentication-type factory is given.
pub struct TypeSpec<'a> {
    /// The realm being built.
    pub realm: &'a str,
    /// Its authentication configuration.
    pub authentication: &'a AuthenticationConfig,
    /// The whole security configuration.
    pub config: &'a SecurityConfig,
    /// Build warnings (plain-text passwords, insecure options); shown by `realm check`, logged at start.
    pub warnings: &'a mut Vec<String>,
}

/// The property names [`Props::skip_flags`] reads (for [`Props::deny_unknown`] lists).
pub const SKIP_PROPERTIES: &[&str] = &[
    "skipIdentity",
    "skip-identity",
    "skipRole",
    "skip-role",
    "skipEndpoint",
    "skip-endpoint",
];

/// Typed property access for module factories. Every error names the property and what was expected.
#[derive(Clone, Copy)]
pub struct Props<'a> {
    properties: &'a Properties,
}

impl<'a> Props<'a> {
    /// A property's text, if set.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.properties.get(key).and_then(PropertyValue::expose)
    }

    /// A property as a secret (keeps a password out of plain `String`s).
    pub fn secret(&self, key: &str) -> Option<crate::Secret> {
        self.properties.get(key).map(|v| match v {
            PropertyValue::Secret(s) => s.clone(),
            PropertyValue::Text(t) => crate::Secret::from(t.as_str()),
        })
    }

    /// A required property's text.
    pub fn required(&self, key: &str) -> Result<&'a str, String> {
        self.str(key)
            .ok_or_else(|| format!("property `{key}` is required"))
    }

    /// A boolean property (`true`/`false`), or `default` when absent.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.str(key) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(format!(
                "property `{key}`: expected true or false, found `{v}`"
            )),
        }
    }

    /// A boolean property that may be spelled several ways (`skipRole`, `skip-role`,
    /// `auth_token.match_ip_address`, ...): the first spelling present decides; `default` when
    /// none is.
    pub fn bool_any(&self, keys: &[&str], default: bool) -> Result<bool, String> {
        match keys.iter().find(|k| self.str(k).is_some()) {
            Some(k) => self.bool(k, default),
            None => Ok(default),
        }
    }

    /// The skip-* flags, in Hazelcast's camelCase (`skipIdentity`) or kebab-case
    /// (`skip-identity`) spelling; the names are [`SKIP_PROPERTIES`].
    pub fn skip_flags(&self) -> Result<crate::config::SkipFlags, String> {
        Ok(crate::config::SkipFlags {
            skip_identity: self.bool_any(&["skipIdentity", "skip-identity"], false)?,
            skip_role: self.bool_any(&["skipRole", "skip-role"], false)?,
            skip_endpoint: self.bool_any(&["skipEndpoint", "skip-endpoint"], false)?,
        })
    }

    /// An integer property, or `default` when absent.
    pub fn u64(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.str(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                format!("property `{key}`: expected a non-negative integer, found `{v}`")
            }),
        }
    }

    /// A comma-separated list property (empty items dropped).
    pub fn list(&self, key: &str) -> Vec<&'a str> {
        self.str(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Refuses properties not in `known`, so a typo is a start-up error, not a silently unused setting.
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .properties
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unknown propert{} {}; known: {}",
                if unknown.len() == 1 { "y" } else { "ies" },
                unknown
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        }
    }
}

/// Builds a login module from its configuration.
pub type LoginModuleFactory =
    Arc<dyn Fn(&ModuleSpec<'_>) -> Result<Arc<dyn LoginModule>, String> + Send + Sync>;
/// Builds a credentials factory from its configuration.
pub type CredentialsFactoryFactory =
    Arc<dyn Fn(&ModuleSpec<'_>) -> Result<Arc<dyn CredentialsFactory>, String> + Send + Sync>;
/// Builds the modules of a typed authentication (`ldap`, `kerberos`, ...), in chain order.
pub type AuthenticationTypeFactory =
    Arc<dyn Fn(&mut TypeSpec<'_>) -> Result<Vec<ChainLink>, String> + Send + Sync>;
/// Builds a `kerberos` identity.
pub type KerberosIdentityFactory = Arc<
    dyn Fn(
            &str,
            &KerberosIdentityConfig,
            &SecurityConfig,
        ) -> Result<Arc<dyn CredentialsFactory>, String>
        + Send
        + Sync,
>;
/// Turns modules into a chain that decides the verdict.
pub type ChainFactory = Arc<dyn Fn(Vec<ChainLink>) -> Arc<dyn Authenticator> + Send + Sync>;

/// Maps names to factories. See the [module documentation](self).
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) types: BTreeMap<String, AuthenticationTypeFactory>,
    pub(crate) modules: BTreeMap<String, LoginModuleFactory>,
    pub(crate) factories: BTreeMap<String, CredentialsFactoryFactory>,
    pub(crate) kerberos_identity: Option<KerberosIdentityFactory>,
    pub(crate) chain: Option<ChainFactory>,
}

impl Registry {
    /// A registry with what `realm-core` itself provides: the `simple` authentication type (and its
    /// login-module class) and the keychain credentials factory.
    /// Add the chain engine with `realm_jaas_chain::register` and backends with theirs.
    pub fn new() -> Self {
        let mut r = Registry::default();
        crate::simple::register(&mut r);
        crate::keychain_identity::register(&mut r);
        r
    }

    /// Registers a login module under a class name (replacing an earlier one of that name).
    pub fn register_login_module(
        &mut self,
        class_name: impl Into<String>,
        factory: impl Fn(&ModuleSpec<'_>) -> Result<Arc<dyn LoginModule>, String>
        + Send
        + Sync
        + 'static,
    ) -> &mut Self {
        self.modules.insert(class_name.into(), Arc::new(factory));
        self
    }

    /// Registers a credentials factory under a class name.
    pub fn register_credentials_factory(
        &mut self,
        class_name: impl Into<String>,
        factory: impl Fn(&ModuleSpec<'_>) -> Result<Arc<dyn CredentialsFactory>, String>
        + Send
        + Sync
        + 'static,
    ) -> &mut Self {
        self.factories.insert(class_name.into(), Arc::new(factory));
        self
    }

    /// Registers the factory of a typed authentication (`simple`, `ini`, `ldap`, `kerberos`, `tls`).
    pub fn register_authentication_type(
        &mut self,
        type_name: impl Into<String>,
        factory: impl Fn(&mut TypeSpec<'_>) -> Result<Vec<ChainLink>, String> + Send + Sync + 'static,
    ) -> &mut Self {
        self.types.insert(type_name.into(), Arc::new(factory));
        self
    }

    /// Registers the `kerberos` identity implementation.
    pub fn register_kerberos_identity(
        &mut self,
        factory: impl Fn(
            &str,
            &KerberosIdentityConfig,
            &SecurityConfig,
        ) -> Result<Arc<dyn CredentialsFactory>, String>
        + Send
        + Sync
        + 'static,
    ) -> &mut Self {
        self.kerberos_identity = Some(Arc::new(factory));
        self
    }

    /// Installs the chain engine (done by `realm_jaas_chain::register`).
    pub fn set_chain_factory(
        &mut self,
        factory: impl Fn(Vec<ChainLink>) -> Arc<dyn Authenticator> + Send + Sync + 'static,
    ) -> &mut Self {
        self.chain = Some(Arc::new(factory));
        self
    }

    /// Registered login-module class names, sorted.
    pub fn login_module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// Registered credentials-factory class names, sorted.
    pub fn credentials_factory_names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// Registered authentication types, sorted.
    pub fn authentication_type_names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }
}
