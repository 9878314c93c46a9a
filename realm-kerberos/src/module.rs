//! The `kerberos` authentication and identity as Realm modules, and their registration.

use crate::acceptor::{AcceptErrorKind, Acceptor};
use crate::initiator::Initiator;
use crate::spn::spn_for;
use libgssapi::context::CtxFlags;
use realm_core::config::{
    AuthenticationConfig, KRB5_LOGIN_MODULE_CLASSES, KerberosAuthConfig, KerberosIdentityConfig,
    KerberosKeys, SecurityConfig, SkipFlags, Usage,
};
use realm_core::module::{
    CredentialsFactory, LoginError, LoginModule, ModuleContext, Verdict, off_executor,
    off_executor_brief,
};
use realm_core::registry::{ChainLink, Registry, SKIP_PROPERTIES};
use realm_core::{Credentials, Endpoint, Principal};
use std::sync::Arc;
use std::time::Duration;

/// Realm's class name for the Kerberos acceptor module.
pub const CLASS_NAME: &str = "realm.kerberos.KerberosLoginModule";
/// Hazelcast's class name for the same module, accepted so that `jaas` stacks load as written.
pub const HAZELCAST_CLASS_NAME: &str = "com.hazelcast.security.loginimpl.GssApiLoginModule";
/// How long an initiator may take to get a ticket before the peer is reported unavailable.
pub const DEFAULT_INITIATOR_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts Kerberos tokens ([`Credentials::Token`]) with an [`Acceptor`]. The identity is the
/// client principal (`user@REALM`, or `user` with `use-name-without-realm`); **no role is
/// added** (Hazelcast adds the principal name as a role; Realm does not, so that a name can
/// never grant what only a role should): roles come from a nested `ldap` or a later module.
/// Other credentials are ignored (the module does not apply), so it stacks with password
/// modules in a chain.
pub struct KerberosLoginModule {
    acceptor: Arc<Acceptor>,
    skip: SkipFlags,
    use_name_without_realm: bool,
}

impl KerberosLoginModule {
    /// A module around an acceptor.
    pub fn new(acceptor: Arc<Acceptor>, skip: SkipFlags, use_name_without_realm: bool) -> Self {
        KerberosLoginModule {
            acceptor,
            skip,
            use_name_without_realm,
        }
    }

    /// Builds the acceptor of a `kerberos` authentication: from `security-realm`, or from
    /// `principal` + `keytab-file`, or the default keytab.
    pub fn from_config(
        c: &KerberosAuthConfig,
        config: &SecurityConfig,
        warnings: &mut Vec<String>,
    ) -> Result<Self, String> {
        let keys = match &c.security_realm {
            Some(sr) => config.kerberos_keys(sr)?,
            None => KerberosKeys {
                principal: c.principal.clone().filter(|p| p != "*"),
                keytab: c.keytab_file.clone(),
                ticket_cache: None,
            },
        };
        let acceptor = Acceptor::new(&keys, c.relax_flags_check, warnings)?;
        Ok(KerberosLoginModule::new(
            Arc::new(acceptor),
            c.skip,
            c.use_name_without_realm,
        ))
    }
}

/// `user@REALM` → `user` (cut at the last `@`, as Hazelcast does: `a@b@REALM` → `a@b`).
pub fn name_without_realm(principal: &str) -> &str {
    principal.rsplit_once('@').map_or(principal, |(n, _)| n)
}

#[async_trait::async_trait]
impl LoginModule for KerberosLoginModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let token = match cx.credentials() {
            Credentials::Token { token } => token.expose().to_vec(),
            _ => {
                cx.note("kerberos: not token credentials; ignored");
                return Ok(Verdict::Ignored);
            }
        };
        let acceptor = self.acceptor.clone();
        let accepted = off_executor_brief(move || acceptor.accept(&token))
            .await
            .ok_or_else(|| LoginError::Unavailable("the Kerberos acceptor panicked".into()))?;
        let accepted = match accepted {
            Ok(a) => a,
            Err(e) if e.kind == AcceptErrorKind::Unavailable => {
                return Err(LoginError::Unavailable(format!("kerberos: {e}")));
            }
            Err(e) => return Err(LoginError::Denied(format!("kerberos: {e}"))),
        };
        let name = if self.use_name_without_realm {
            name_without_realm(&accepted.principal).to_string()
        } else {
            accepted.principal.clone()
        };
        cx.note(format!(
            "kerberos: accepted {} for {}",
            accepted.principal,
            self.acceptor.principal().unwrap_or("a key of the keytab")
        ));
        if !self.skip.skip_identity {
            cx.propose(Principal::Identity(name));
        } else {
            // A later module (LDAP roles) still needs the name.
            cx.shared_mut()
                .insert(realm_core::module::LAST_IDENTITY.to_string(), name);
        }
        if !self.skip.skip_endpoint
            && let Some(host) = cx.endpoint().host()
        {
            cx.propose(Principal::Endpoint(host));
        }
        Ok(Verdict::Succeeded)
    }
}

/// The module a `Krb5LoginModule` class name stands for: it holds Kerberos credentials for the
/// realms that reference its realm (`security-realm`) and authenticates nobody itself.
struct CredentialHolder;

#[async_trait::async_trait]
impl LoginModule for CredentialHolder {
    async fn login(&self, _cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        Err(LoginError::Denied(
            "Krb5LoginModule only holds Kerberos credentials for the realms that reference this \
             one with security-realm; it authenticates no peer (use a kerberos authentication)"
                .into(),
        ))
    }
}

/// The `kerberos` identity: a service ticket for each peer.
pub struct KerberosCredentialsFactory {
    config: KerberosIdentityConfig,
    initiator: Arc<Initiator>,
    timeout: Duration,
}

impl KerberosCredentialsFactory {
    /// A factory for `config` (credentials from `security-realm`, or `principal` +
    /// `keytab-file`, or the default ticket cache).
    pub fn new(
        config: &KerberosIdentityConfig,
        security: &SecurityConfig,
        warnings: &mut Vec<String>,
    ) -> Result<Self, String> {
        if config.spn.is_some() && config.service_name_prefix.is_some() {
            return Err("spn and service-name-prefix are exclusive: set one".into());
        }
        let keys = match &config.security_realm {
            Some(sr) => {
                if config.principal.is_some() || config.keytab_file.is_some() {
                    return Err(
                        "security-realm excludes principal and keytab-file: set one or the other"
                            .into(),
                    );
                }
                security.kerberos_keys(sr)?
            }
            None => KerberosKeys {
                principal: config.principal.clone(),
                keytab: config.keytab_file.clone(),
                ticket_cache: None,
            },
        };
        Ok(KerberosCredentialsFactory {
            config: config.clone(),
            initiator: Arc::new(Initiator::new(keys, warnings)?),
            timeout: DEFAULT_INITIATOR_TIMEOUT,
        })
    }

    /// Changes how long a ticket may take ([`DEFAULT_INITIATOR_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The SPN this factory asks a ticket for when talking to `peer` (blocking with
    /// `use-canonical-hostname`: reverse DNS).
    pub fn spn_for(&self, peer: &Endpoint) -> Result<String, String> {
        spn_for(&self.config, peer, realm_kerberos_sys::canonical_host_name)
    }
}

#[async_trait::async_trait]
impl CredentialsFactory for KerberosCredentialsFactory {
    async fn new_credentials(&self, peer: &Endpoint) -> Result<Credentials, LoginError> {
        let config = self.config.clone();
        let initiator = self.initiator.clone();
        let peer = peer.clone();
        let work = off_executor(move || {
            let spn = spn_for(&config, &peer, realm_kerberos_sys::canonical_host_name)
                .map_err(|e| LoginError::Denied(format!("kerberos identity: {e}")))?;
            initiator.token_for(&spn, CtxFlags::empty()).map_err(|e| {
                if e.unavailable {
                    LoginError::Unavailable(format!("kerberos identity: {e}"))
                } else {
                    LoginError::Denied(format!("kerberos identity: {e}"))
                }
            })
        });
        let token = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| {
                LoginError::Unavailable(format!(
                    "kerberos identity: no service ticket within {} ms (KDC slow or unreachable)",
                    self.timeout.as_millis()
                ))
            })?
            .ok_or_else(|| LoginError::Unavailable("the Kerberos initiator panicked".into()))??;
        Ok(Credentials::token(token))
    }
}

/// Registers the `kerberos` authentication type (the acceptor, then the nested `ldap` for
/// roles), the `kerberos` identity, the acceptor's class names ([`CLASS_NAME`],
/// [`HAZELCAST_CLASS_NAME`]; properties `relaxFlagsCheck`, `useNameWithoutRealm`,
/// `securityRealm`, `principal`, `keytabFile`, `skipIdentity`, `skipRole`, `skipEndpoint`, or
/// their kebab-case forms) and Java's `Krb5LoginModule` class names as credential holders for
/// `security-realm` references. Also registers [`realm_ldap`]'s modules, which the nested
/// `ldap` needs.
pub fn register(registry: &mut Registry) {
    realm_ldap::register(registry);
    for class in [CLASS_NAME, HAZELCAST_CLASS_NAME] {
        registry.register_login_module(class, |spec| {
            let p = spec.props();
            let known: Vec<&str> = [
                "relaxFlagsCheck",
                "relax-flags-check",
                "useNameWithoutRealm",
                "use-name-without-realm",
                "securityRealm",
                "security-realm",
                "principal",
                "keytabFile",
                "keytab-file",
            ]
            .into_iter()
            .chain(SKIP_PROPERTIES.iter().copied())
            .collect();
            p.deny_unknown(&known)?;
            let either = |a: &str, b: &str| p.str(a).or_else(|| p.str(b)).map(str::to_string);
            let c = KerberosAuthConfig {
                skip: p.skip_flags()?,
                relax_flags_check: p.bool_any(&["relaxFlagsCheck", "relax-flags-check"], false)?,
                use_name_without_realm: p
                    .bool_any(&["useNameWithoutRealm", "use-name-without-realm"], false)?,
                security_realm: either("securityRealm", "security-realm"),
                principal: p.str("principal").map(str::to_string),
                keytab_file: either("keytabFile", "keytab-file").map(Into::into),
                ldap: None,
            };
            if c.security_realm.is_some() && (c.principal.is_some() || c.keytab_file.is_some()) {
                return Err(
                    "securityRealm excludes principal and keytabFile: set one or the other".into(),
                );
            }
            let mut warnings = Vec::new();
            let m = KerberosLoginModule::from_config(&c, spec.config, &mut warnings)?;
            for w in warnings {
                spec.warn(w);
            }
            Ok(Arc::new(m))
        });
    }
    for class in KRB5_LOGIN_MODULE_CLASSES {
        registry.register_login_module(*class, |spec| {
            KerberosKeys::from_properties(spec.properties)?;
            Ok(Arc::new(CredentialHolder))
        });
    }
    registry.register_authentication_type("kerberos", |spec| {
        let AuthenticationConfig::Kerberos(c) = spec.authentication else {
            return Err("not a kerberos configuration".into());
        };
        let mut links = vec![ChainLink {
            name: "kerberos".into(),
            usage: Usage::Required,
            module: Arc::new(KerberosLoginModule::from_config(
                c,
                spec.config,
                spec.warnings,
            )?),
        }];
        if let Some(ldap) = &c.ldap {
            // The nested ldap looks up the principal the acceptor accepted: it never asks
            // for a password (the token carries none), whatever skip-authentication says.
            let mut ldap = (**ldap).clone();
            ldap.skip_authentication = true;
            let module = realm_ldap::LdapLoginModule::with_security(
                spec.realm,
                &ldap,
                spec.config,
                spec.warnings,
            )
            .map_err(|e| format!("ldap: {e}"))?;
            links.push(ChainLink {
                name: "ldap".into(),
                usage: Usage::Required,
                module: Arc::new(module),
            });
        }
        Ok(links)
    });
    registry.register_kerberos_identity(|realm, c, security| {
        let mut warnings = Vec::new();
        let f = KerberosCredentialsFactory::new(c, security, &mut warnings)?;
        for w in warnings {
            tracing::warn!(realm, "{w}");
        }
        Ok(Arc::new(f))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_is_cut_at_the_last_at_sign() {
        assert_eq!(name_without_realm("jduke@ACME.COM"), "jduke");
        assert_eq!(name_without_realm("a@b@ACME.COM"), "a@b");
        assert_eq!(name_without_realm("jduke"), "jduke");
        assert_eq!(name_without_realm("hz/10.0.0.1@ACME.COM"), "hz/10.0.0.1");
    }
}
