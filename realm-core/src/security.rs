//! [`Security`]: the realms of a configuration, built once, handed out by name.
//!
//! ```
//! # use realm_core::{Security, Registry, Credentials, Endpoint};
//! # use realm_core::config::{load_str, LoadOptions, Syntax};
//! # let yaml = "security:\n  realms:\n    - name: r\n      authentication:\n        simple:\n          users:\n            - {username: alice, password: pw, roles: [admin]}\n  client-authentication: {realm: r}\n";
//! # let loaded = load_str(yaml, Syntax::Yaml, "s.yaml".as_ref(), &LoadOptions::default()).unwrap();
//! let mut registry = Registry::new();
//! // realm_jaas_chain::register(&mut registry) installs the chain engine; without it building fails:
//! let err = Security::from_config(&loaded.config, &registry).unwrap_err();
//! assert!(err.to_string().contains("no login-chain engine is registered"));
//! ```

use crate::config::{IdentityConfig, SecurityConfig, Usage};
use crate::credentials::{Credentials, Endpoint, Principal, Subject};
use crate::module::{
    Attempt, Authenticator, CredentialsFactory, LoginError, LoginModule, ModuleContext, Trace,
    Verdict,
};
use crate::registry::{ChainLink, ModuleSpec, Registry, TypeSpec};
use crate::secret::Secret;
use std::fmt;
use std::sync::Arc;

/// Why a login did not produce a subject: what a server may tell the peer, and what it must log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginFailure {
    /// The evidence was checked and refused. One generic message; never says whether the user exists.
    #[error("authentication failed")]
    Denied,
    /// A backend could not be asked. Not a verdict on the credentials: retry later.
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
    /// The realm cannot authenticate at all as configured.
    #[error("realm misconfigured: {0}")]
    Config(String),
}

impl From<LoginError> for LoginFailure {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Denied(_) => LoginFailure::Denied,
            LoginError::Unavailable(cause) => LoginFailure::Unavailable(cause),
        }
    }
}

/// A realm that could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// The realm.
    pub realm: String,
    /// What in it (`login-module com.example.X`, `ldap authentication`, ...).
    pub part: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.realm.is_empty() {
            write!(f, "{}: {}", self.part, self.message)
        } else {
            write!(f, "realm `{}`: {}: {}", self.realm, self.part, self.message)
        }
    }
}

/// Every realm that could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BuildErrors(pub Vec<BuildError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// A built realm. Cloning is cheap (the modules are shared), so a server can keep its realm.
#[derive(Clone)]
pub struct Realm {
    name: String,
    authenticator: Option<Arc<dyn Authenticator>>,
    identity: Option<Arc<dyn CredentialsFactory>>,
}

impl fmt::Debug for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Realm")
            .field("name", &self.name)
            .field(
                "modules",
                &self.authenticator.as_ref().map_or(0, |a| a.len()),
            )
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl Realm {
    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Authenticates a peer: its identity, roles and endpoint, or why not.
    pub async fn login(
        &self,
        credentials: Credentials,
        endpoint: Endpoint,
    ) -> Result<Subject, LoginFailure> {
        self.login_traced(credentials, endpoint).await.0
    }

    /// [`Realm::login`] with the trace of what each module did.
    pub async fn login_traced(
        &self,
        credentials: Credentials,
        endpoint: Endpoint,
    ) -> (Result<Subject, LoginFailure>, Trace) {
        // `{:?}` escapes control characters: a name cannot forge log lines.
        let name = format!("{:?}", credentials.name());
        let Some(chain) = &self.authenticator else {
            let mut trace = Trace::default();
            trace
                .summary
                .push("this realm has no authentication: every login is denied".into());
            tracing::info!(realm = %self.name, user = %name, "login denied: realm has no authentication");
            return (Err(LoginFailure::Denied), trace);
        };
        let mut attempt = Attempt::new(credentials, endpoint, chain.len());
        let result = chain.authenticate(&mut attempt).await;
        let trace = std::mem::take(&mut attempt.trace);
        match result {
            Ok(()) => {
                let subject = attempt.subject();
                let Some(identity) = subject.identity() else {
                    // JAAS lets a chain succeed without any module establishing who the peer is
                    // (e.g. a REQUISITE gate followed by only SUFFICIENT/OPTIONAL checks that all
                    // failed). A subject without an identity is refused: fail closed.
                    let mut trace = trace;
                    trace.summary.push(
                        "the chain succeeded but no module established an identity: denied (is every credential check only SUFFICIENT or OPTIONAL?)".into(),
                    );
                    tracing::warn!(realm = %self.name, user = %name, "login denied: the chain succeeded without an identity");
                    return (Err(LoginFailure::Denied), trace);
                };
                tracing::info!(realm = %self.name, user = %name, identity = ?identity, "login succeeded");
                (Ok(subject), trace)
            }
            Err(e) => {
                match &e {
                    LoginError::Denied(why) => {
                        tracing::info!(realm = %self.name, user = %name, reason = %why, "login denied")
                    }
                    LoginError::Unavailable(why) => {
                        tracing::warn!(realm = %self.name, user = %name, cause = %why, "login backend unavailable")
                    }
                }
                (Err(e.into()), trace)
            }
        }
    }

    /// This node's own credentials for talking to `peer` (the realm's `identity`).
    pub async fn credentials_for(&self, peer: &Endpoint) -> Result<Credentials, LoginFailure> {
        match &self.identity {
            Some(f) => f.new_credentials(peer).await.map_err(LoginFailure::from),
            None => Err(LoginFailure::Config(format!(
                "realm `{}` has no identity",
                self.name
            ))),
        }
    }

    /// True if the realm has an identity part.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }
}

/// The realms of a configuration, built and ready.
#[derive(Debug)]
pub struct Security {
    realms: Vec<Realm>,
    member: Option<usize>,
    client: Option<usize>,
    warnings: Vec<String>,
}

impl Security {
    /// Builds every realm eagerly: an unknown class name, an unknown authentication type or a bad
    /// property is an error here, naming the realm, the class and what is registered.
    pub fn from_config(
        config: &SecurityConfig,
        registry: &Registry,
    ) -> Result<Security, BuildErrors> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut realms = Vec::new();
        let Some(chain) = &registry.chain else {
            return Err(BuildErrors(vec![BuildError {
                realm: String::new(),
                part: "registry".into(),
                message: "no login-chain engine is registered: call realm_jaas_chain::register(&mut registry)".into(),
            }]));
        };
        for rc in &config.realms {
            let err = |part: String, message: String| BuildError {
                realm: rc.name.clone(),
                part,
                message,
            };
            let mut links: Vec<ChainLink> = Vec::new();
            let mut ok = true;
            match &rc.authentication {
                Some(crate::config::AuthenticationConfig::Jaas(modules)) => {
                    for m in modules {
                        let part = format!("login-module `{}`", m.class_name);
                        match registry.modules.get(&m.class_name) {
                            None => {
                                ok = false;
                                errors.push(err(
                                    part,
                                    format!(
                                        "not registered (registered login modules: {})",
                                        names(registry.login_module_names())
                                    ),
                                ));
                            }
                            Some(f) => {
                                let spec =
                                    ModuleSpec::new(&rc.name, &m.class_name, &m.properties, config);
                                let built = f(&spec);
                                warnings.extend(spec.take_warnings().into_iter().map(|w| {
                                    format!("realm `{}`: {}: {w}", rc.name, m.class_name)
                                }));
                                match built {
                                    Ok(module) => links.push(ChainLink {
                                        name: m.class_name.clone(),
                                        usage: m.usage,
                                        module,
                                    }),
                                    Err(msg) => {
                                        ok = false;
                                        errors.push(err(part, msg));
                                    }
                                }
                            }
                        }
                    }
                }
                Some(auth) => {
                    let type_name = auth.type_name();
                    match registry.types.get(type_name) {
                        None => {
                            ok = false;
                            errors.push(err(
                                format!("{type_name} authentication"),
                                format!("no implementation registered (registered types: {}; the `{type_name}` backend's register function adds it)", names(registry.authentication_type_names())),
                            ));
                        }
                        Some(f) => {
                            let mut realm_warnings = Vec::new();
                            let mut spec = TypeSpec {
                                realm: &rc.name,
                                authentication: auth,
                                config,
                                warnings: &mut realm_warnings,
                            };
                            match f(&mut spec) {
                                Ok(l) => links = l,
                                Err(msg) => {
                                    ok = false;
                                    errors.push(err(format!("{type_name} authentication"), msg));
                                }
                            }
                            warnings.extend(
                                realm_warnings
                                    .into_iter()
                                    .map(|w| format!("realm `{}`: {w}", rc.name)),
                            );
                        }
                    }
                }
                None => {
                    // Like Hazelcast's default module: a realm with only a username-password identity
                    // accepts exactly those credentials (members sharing a secret).
                    if let Some(IdentityConfig::UsernamePassword { username, password }) =
                        &rc.identity
                    {
                        links.push(ChainLink {
                            name: "identity-match".into(),
                            usage: Usage::Required,
                            module: Arc::new(IdentityMatch {
                                username: username.clone(),
                                password: password.clone(),
                            }),
                        });
                    }
                }
            }
            let identity = match &rc.identity {
                None => None,
                Some(IdentityConfig::UsernamePassword { username, password }) => Some(Arc::new(
                    Fixed(Credentials::password(username.clone(), password.clone())),
                )
                    as Arc<dyn CredentialsFactory>),
                Some(IdentityConfig::Token { value, .. }) => {
                    Some(Arc::new(Fixed(Credentials::Token {
                        token: value.clone(),
                    })) as Arc<dyn CredentialsFactory>)
                }
                Some(IdentityConfig::CredentialsFactory(c)) => {
                    let part = format!("credentials-factory `{}`", c.class_name);
                    match registry.factories.get(&c.class_name) {
                        None => {
                            errors.push(err(
                                part,
                                format!(
                                    "not registered (registered credentials factories: {})",
                                    names(registry.credentials_factory_names())
                                ),
                            ));
                            None
                        }
                        Some(f) => match f(&ModuleSpec::new(
                            &rc.name,
                            &c.class_name,
                            &c.properties,
                            config,
                        )) {
                            Ok(factory) => Some(factory),
                            Err(msg) => {
                                errors.push(err(part, msg));
                                None
                            }
                        },
                    }
                }
                Some(IdentityConfig::Kerberos(k)) => match &registry.kerberos_identity {
                    None => {
                        errors.push(err(
                            "kerberos identity".into(),
                            "no implementation registered (realm_kerberos::register adds it)"
                                .into(),
                        ));
                        None
                    }
                    Some(f) => match f(&rc.name, k, config) {
                        Ok(factory) => Some(factory),
                        Err(msg) => {
                            errors.push(err("kerberos identity".into(), msg));
                            None
                        }
                    },
                },
            };
            let authenticator = (ok && !links.is_empty()).then(|| chain(links));
            realms.push(Realm {
                name: rc.name.clone(),
                authenticator,
                identity,
            });
        }
        if !errors.is_empty() {
            return Err(BuildErrors(errors));
        }
        for w in &warnings {
            tracing::warn!("{w}");
        }
        let index = |r: &Option<crate::config::RealmRef>| {
            r.as_ref()
                .and_then(|r| realms.iter().position(|x| x.name == r.realm))
        };
        let (member, client) = (
            index(&config.member_authentication),
            index(&config.client_authentication),
        );
        Ok(Security {
            realms,
            member,
            client,
            warnings,
        })
    }

    /// The realm with this name.
    pub fn realm(&self, name: &str) -> Option<&Realm> {
        self.realms.iter().find(|r| r.name == name)
    }

    /// The realm named by `member-authentication`.
    pub fn member_authentication(&self) -> Option<&Realm> {
        self.member.and_then(|i| self.realms.get(i))
    }

    /// The realm named by `client-authentication`.
    pub fn client_authentication(&self) -> Option<&Realm> {
        self.client.and_then(|i| self.realms.get(i))
    }

    /// All realms, in configuration order.
    pub fn realms(&self) -> impl Iterator<Item = &Realm> {
        self.realms.iter()
    }

    /// Warnings found while building (plain-text passwords, ...). They are also logged through
    /// `tracing` at WARN when the realms are built.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// A fixed identity (`username-password`, `token`).
struct Fixed(Credentials);

#[async_trait::async_trait]
impl CredentialsFactory for Fixed {
    async fn new_credentials(&self, _peer: &Endpoint) -> Result<Credentials, LoginError> {
        Ok(self.0.clone())
    }
}

/// Accepts exactly the realm's own username-password identity (Hazelcast's default module).
struct IdentityMatch {
    username: String,
    password: Secret,
}

#[async_trait::async_trait]
impl LoginModule for IdentityMatch {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Credentials::Password { name, password } = cx.credentials() else {
            return Err(LoginError::Denied(
                "expected username/password credentials".into(),
            ));
        };
        let name_ok = crate::ct_eq(name.as_bytes(), self.username.as_bytes());
        let pw_ok = !password.is_empty() && password.ct_eq(self.password.expose());
        if !(name_ok & pw_ok) {
            return Err(LoginError::Denied(
                "credentials do not match the realm's identity".into(),
            ));
        }
        let name = name.clone();
        cx.note("credentials match the realm's username-password identity");
        cx.propose(Principal::Identity(name.clone()));
        cx.propose(Principal::Role(name));
        if let Some(host) = cx.endpoint().host() {
            cx.propose(Principal::Endpoint(host));
        }
        Ok(Verdict::Succeeded)
    }
}
