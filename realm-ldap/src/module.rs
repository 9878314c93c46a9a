//! The LDAP login module: authentication (bind, admin search + bind, password attribute, or
//! none after a previous module), identity, and roles.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ldap3::Scope;
use realm_core::config::{
    AuthenticationConfig, LdapConfig, RoleRecursionStrategy, SearchScope, SecurityConfig,
    SkipFlags, Usage,
};
use realm_core::module::{LAST_IDENTITY, LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::registry::ChainLink;
use realm_core::{Credentials, Principal, Registry, Secret};

use crate::ad::AdReason;
use crate::conn::{AdminAuth, AdminPool, BindPool, Budget, Connector, Fault, Stats, describe};
use crate::dn::Dn;
use crate::escape::filter_value;
use crate::ops::{self, Entry, Found as One};
use crate::roles::{self, RoleSettings};

/// The class name under which the module can also be named in a `jaas` chain.
pub const CLASS_NAME: &str = "realm.ldap.LdapLoginModule";

/// What one LDAP authentication found (also used by tests and the benchmark).
#[derive(Clone, Debug)]
pub struct LdapOutcome {
    /// The identity: the first value of `user-name-attribute`, or the login name.
    pub name: String,
    /// The user's DN.
    pub dn: String,
    /// Roles after group-to-role mapping, in discovery order.
    pub roles: Vec<String>,
    /// For each role: the group path it came through (empty for attribute mode).
    pub role_paths: Vec<(String, Vec<String>)>,
    /// Warnings (missing groups, unparseable values).
    pub warnings: Vec<String>,
    /// LDAP requests this login sent (connection setup excluded).
    pub requests: u32,
    /// Sequential round trips (concurrent requests count once).
    pub round_trips: u32,
}

/// LDAP and Active Directory authentication with role mapping. Built once per realm; holds the
/// connection pools, so every login of the realm shares them.
pub struct LdapLoginModule {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LdapLoginModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapLoginModule")
            .field("realm", &self.inner.realm)
            .field("urls", &self.inner.urls)
            .finish_non_exhaustive()
    }
}

struct Inner {
    realm: String,
    urls: Vec<String>,
    admin: Option<AdminPool>,
    binds: BindPool,
    roles: RoleSettings,
    user_name_attr: String,
    /// The attributes read from the user entry (name and role attributes), decided at start-up.
    user_attrs: Vec<String>,
    /// `user_attrs` plus `password-attribute`: what the admin search asks for.
    search_attrs: Vec<String>,
    user_context: String,
    user_filter: String,
    user_scope: Scope,
    password_attr: Option<String>,
    skip_auth: bool,
    skip: SkipFlags,
    domain: Option<String>,
    login_timeout: Duration,
    op_timeout: Duration,
    /// (application role, lower-cased group names).
    role_mappings: Vec<(String, Vec<String>)>,
    /// The base DN written in the first URL (`ldap://host/dc=example,dc=com`), if any.
    url_base: Option<String>,
    /// The server's naming context, read once from the root DSE when a context is empty.
    discovered_base: tokio::sync::OnceCell<String>,
}

fn scope(s: SearchScope) -> Scope {
    match s {
        SearchScope::Object => Scope::Base,
        SearchScope::OneLevel => Scope::OneLevel,
        SearchScope::Subtree => Scope::Subtree,
    }
}

/// `example.com` → `DC=example,DC=com`.
fn domain_base(domain: &str) -> String {
    domain
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("DC={}", crate::escape::dn_value(p)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The DN in an LDAP URL's path (`ldap://host:389/dc=example,dc=com?…`), percent-decoded.
fn url_base_dn(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let dn = path.split('?').next().unwrap_or("");
    let bytes = dn.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(h) = bytes.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    let dn = String::from_utf8(out).ok()?;
    (!dn.is_empty()).then_some(dn)
}

impl LdapLoginModule {
    /// Builds the module for realm `realm`. Nothing is contacted here: a directory that is down
    /// at start-up makes logins `Unavailable`, not the server's start fail.
    pub fn new(realm: &str, c: &LdapConfig, warnings: &mut Vec<String>) -> Result<Self, String> {
        Self::build(realm, c, None, warnings)
    }

    /// [`new`](Self::new) within a whole configuration, which a GSSAPI admin bind
    /// (`system-authentication: GSSAPI`) needs: its Kerberos credentials come from the realm
    /// that `security-realm` names (a `Krb5LoginModule` in a `jaas` stack, or a `kerberos`
    /// authentication or identity). Without the `gssapi` feature such a bind is refused.
    pub fn with_security(
        realm: &str,
        c: &LdapConfig,
        security: &SecurityConfig,
        warnings: &mut Vec<String>,
    ) -> Result<Self, String> {
        Self::build(realm, c, Some(security), warnings)
    }

    fn build(
        realm: &str,
        c: &LdapConfig,
        security: Option<&SecurityConfig>,
        warnings: &mut Vec<String>,
    ) -> Result<Self, String> {
        if c.url.is_empty() {
            return Err("no LDAP url configured".into());
        }
        let x = &c.ext;
        let needs_tls = x.start_tls
            || c.url
                .iter()
                .any(|u| u.to_ascii_lowercase().starts_with("ldaps://"));
        let tls = if needs_tls {
            Some(crate::tls::client_config(
                x.trust_ca_file.as_deref(),
                x.verify_hostname,
            )?)
        } else {
            None
        };
        if !x.verify_hostname {
            warnings.push(format!(
                "realm {realm}: LDAP server hostname verification is off (verify-hostname: false)"
            ));
        }
        let connector = Arc::new(Connector::new(
            c.url.clone(),
            tls,
            x.start_tls,
            Duration::from_millis(x.connect_timeout_ms),
        ));
        let lifetime = Duration::from_millis(x.pool_max_lifetime_ms);
        let pool_size = usize::try_from(x.pool_size).unwrap_or(4);
        let admin = if c.has_system_account() {
            let auth = if c.system_authentication
                == Some(realm_core::config::SystemAuthentication::Gssapi)
            {
                gssapi_auth(c, security)?
            } else {
                let dn = c
                    .system_user_dn
                    .clone()
                    .ok_or("system-user-dn is required for a simple admin bind")?;
                let password = c
                    .system_user_password
                    .clone()
                    .ok_or("system-user-password is required with system-user-dn")?;
                if password.is_empty() {
                    return Err(
                        "system-user-password is empty: that would be an unauthenticated bind"
                            .into(),
                    );
                }
                AdminAuth::Simple { dn, password }
            };
            Some(AdminPool::new(connector.clone(), auth, pool_size, lifetime))
        } else {
            None
        };
        let ad = x.domain.is_some();
        // The in-chain form of the filter is fixed by the configuration: build it once.
        let role_filter = match (&c.role_filter, &c.role_mapping_attribute) {
            (Some(f), Some(attr))
                if x.role_recursion_strategy == RoleRecursionStrategy::InChain =>
            {
                Some(roles::in_chain_filter(f, attr))
            }
            (f, _) => f.clone(),
        };
        let roles = RoleSettings {
            mode: c.role_mapping_mode,
            mapping_attr: c.role_mapping_attribute.clone(),
            name_attr: c.role_name_attribute.clone(),
            parse_dn: c.parse_dn,
            context: c
                .role_context
                .clone()
                .unwrap_or_else(|| x.domain.as_deref().map(domain_base).unwrap_or_default()),
            filter: role_filter,
            scope: scope(c.role_search_scope),
            max_depth: c.role_recursion_max_depth,
            strategy: x.role_recursion_strategy,
            page_size: x.page_size,
        };
        let mut user_attrs = vec![c.user_name_attribute.clone()];
        user_attrs.extend(roles::user_attrs(&roles));
        let mut search_attrs = user_attrs.clone();
        search_attrs.extend(c.password_attribute.iter().cloned());
        Ok(LdapLoginModule {
            inner: Arc::new(Inner {
                user_attrs,
                search_attrs,
                realm: realm.to_string(),
                urls: c.url.clone(),
                admin,
                // User binds are exclusive leases: keep more of them idle than admin connections.
                binds: BindPool::new(connector, pool_size.saturating_mul(4).max(8), lifetime),
                roles,
                user_name_attr: c.user_name_attribute.clone(),
                user_context: c.user_context.clone().unwrap_or_else(|| {
                    if ad {
                        x.domain.as_deref().map(domain_base).unwrap_or_default()
                    } else {
                        String::new()
                    }
                }),
                user_filter: c.user_filter.clone(),
                user_scope: scope(c.user_search_scope),
                password_attr: c.password_attribute.clone(),
                skip_auth: c.skip_authentication && c.has_system_account(),
                skip: c.skip,
                domain: x.domain.clone(),
                login_timeout: Duration::from_millis(x.login_timeout_ms),
                op_timeout: Duration::from_millis(x.operation_timeout_ms),
                role_mappings: x
                    .role_mappings
                    .iter()
                    .map(|m| {
                        (
                            m.role.clone(),
                            m.groups.iter().map(|g| g.to_lowercase()).collect(),
                        )
                    })
                    .collect(),
                url_base: c.url.first().and_then(|u| url_base_dn(u)),
                discovered_base: tokio::sync::OnceCell::new(),
            }),
        })
    }

    /// Connections opened so far: (admin pool, user-bind pool).
    pub fn connections_opened(&self) -> (u32, u32) {
        (
            self.inner
                .admin
                .as_ref()
                .map_or(0, |a| a.opened.load(Ordering::Relaxed)),
            self.inner.binds.opened.load(Ordering::Relaxed),
        )
    }

    /// The identity an admin-pool connection is bound as, asked with the "Who am I?" extended
    /// operation (RFC 4532). `None` without a system account. For operators and tests: it shows
    /// that user binds never leave an admin connection bound as the user.
    pub async fn admin_identity(&self) -> Result<Option<String>, LoginError> {
        let Some(admin) = &self.inner.admin else {
            return Ok(None);
        };
        let budget = self.inner.budget();
        let stats = Stats::default();
        let mut conn = admin.get(&budget, &stats).await.map_err(to_login_error)?;
        let res = budget
            .run("who am I", conn.ldap.extended(ldap3::exop::WhoAmI))
            .await
            .map_err(to_login_error)?;
        let (exop, _) = res
            .success()
            .map_err(|e| LoginError::Unavailable(format!("who am I failed: {e}")))?;
        let resp: ldap3::exop::WhoAmIResp = exop.parse();
        Ok(Some(resp.authzid))
    }

    /// Authenticates `login` with `password` (or, with `skip-authentication`, looks up `login`
    /// without a password) and maps its roles.
    pub async fn authenticate(
        &self,
        login: &str,
        password: Option<&Secret>,
    ) -> Result<LdapOutcome, LoginError> {
        self.inner
            .authenticate(login, password)
            .await
            .map_err(to_login_error)
    }
}

/// The admin authentication of `system-authentication: GSSAPI`.
#[cfg(feature = "gssapi")]
fn gssapi_auth(c: &LdapConfig, security: Option<&SecurityConfig>) -> Result<AdminAuth, String> {
    let sr = c.security_realm.as_deref().ok_or(
        "system-authentication GSSAPI needs security-realm: the realm whose Kerberos \
         credentials (principal and keytab) the admin connection binds with",
    )?;
    let security = security.ok_or(
        "system-authentication GSSAPI needs the whole configuration to resolve security-realm \
         (build the module with LdapLoginModule::with_security)",
    )?;
    let keys = security.kerberos_keys(sr)?;
    Ok(AdminAuth::Gssapi(Arc::new(crate::gssapi::GssapiAuth::new(
        keys,
    ))))
}

#[cfg(not(feature = "gssapi"))]
fn gssapi_auth(_: &LdapConfig, _: Option<&SecurityConfig>) -> Result<AdminAuth, String> {
    Err(
        "system-authentication GSSAPI (a Kerberos admin bind) needs realm-ldap's `gssapi` \
         feature (on when realm-kerberos is used; register realm_kerberos's modules)"
            .into(),
    )
}

fn to_login_error(f: Fault) -> LoginError {
    match f {
        Fault::Denied(d) => LoginError::Denied(d),
        Fault::Unavailable(d) => LoginError::Unavailable(d),
    }
}

/// Substitutes the login into a user filter: `{login}` and `{1}` are the name as given, `{0}` is
/// `name@domain` (the name itself if it already has a domain or none is configured). Each value
/// is escaped per RFC 4515, so no login can change the filter's structure.
fn user_filter(template: &str, login: &str, domain: Option<&str>) -> String {
    let upn = match domain {
        Some(d) if !login.contains('@') => format!("{login}@{d}"),
        _ => login.to_string(),
    };
    let bare = match domain {
        Some(d) => login
            .strip_suffix(&format!("@{d}"))
            .or_else(|| {
                login
                    .rsplit_once('@')
                    .filter(|(_, dom)| dom.eq_ignore_ascii_case(d))
                    .map(|(u, _)| u)
            })
            .unwrap_or(login),
        None => login,
    };
    template
        .replace("{login}", &filter_value(login))
        .replace("{0}", &filter_value(&upn))
        .replace("{1}", &filter_value(bare))
}

impl Inner {
    fn budget(&self) -> Budget {
        Budget {
            deadline: Instant::now() + self.login_timeout,
            op_timeout: self.op_timeout,
        }
    }

    async fn authenticate(
        &self,
        login: &str,
        password: Option<&Secret>,
    ) -> Result<LdapOutcome, Fault> {
        // Refused before any network traffic: an empty password is an "unauthenticated bind"
        // (RFC 4513 §5.1.2), which servers answer with success.
        if login.is_empty() {
            return Err(Fault::Denied(
                "empty login name refused before any bind".into(),
            ));
        }
        if !self.skip_auth && password.is_none_or(Secret::is_empty) {
            return Err(Fault::Denied(
                "empty password refused before any bind".into(),
            ));
        }
        let budget = self.budget();
        let stats = Stats::default();
        let mut warnings = Vec::new();
        let (entry, found) = match &self.admin {
            Some(admin) => {
                let entry = match self.find_user(admin, login, &budget, &stats).await {
                    Err(Fault::Denied(why))
                        if why.starts_with("unknown user")
                            && !self.skip_auth
                            && self.password_attr.is_none() =>
                    {
                        // An unknown user costs a bind too, so that the answer's timing does
                        // not tell which names exist.
                        if let Some(pw) = password {
                            self.dummy_bind(pw, &budget, &stats).await;
                        }
                        return Err(Fault::Denied(why));
                    }
                    other => other?,
                };
                if !self.skip_auth {
                    let pw = password.ok_or_else(|| Fault::Denied("no password".into()))?;
                    match &self.password_attr {
                        Some(attr) => {
                            let ok = entry
                                .raw_values(attr)
                                .iter()
                                .fold(false, |acc, v| pw.ct_eq(v) | acc);
                            if !ok {
                                return Err(Fault::Denied(format!(
                                    "wrong password for {:?} (compared with {attr})",
                                    entry.dn
                                )));
                            }
                        }
                        None => self.user_bind(&entry.dn, pw, &budget, &stats).await?,
                    }
                }
                let found = self
                    .with_admin(admin, &budget, &stats, |mut ldap| {
                        let entry = &entry;
                        async move {
                            let st = Stats::default();
                            let r = match self.role_settings(&mut ldap, &budget, &st).await {
                                Ok(settings) => {
                                    roles::resolve(&settings, &ldap, entry, &budget, &st).await
                                }
                                Err(f) => Err(f),
                            };
                            (r, st)
                        }
                    })
                    .await?;
                (entry, found)
            }
            None => self.bind_and_read(login, password, &budget, &stats).await?,
        };
        warnings.extend(found.warnings.iter().cloned());
        for w in &found.warnings {
            tracing::warn!(realm = %self.realm, "{w}");
        }
        let name = entry
            .values(&self.user_name_attr)
            .first()
            .cloned()
            .unwrap_or_else(|| {
                warnings.push(format!(
                    "the user entry has no {}; the login name is the identity",
                    self.user_name_attr
                ));
                login.to_string()
            });
        let (roles, role_paths) = self.map_roles(found);
        Ok(LdapOutcome {
            name,
            dn: entry.dn,
            roles,
            role_paths,
            warnings,
            requests: stats.requests.load(Ordering::Relaxed),
            round_trips: stats.round_trips.load(Ordering::Relaxed),
        })
    }

    /// `configured`, or when it is empty the URL's base DN, or the server's naming context
    /// (`defaultNamingContext`, else the first of `namingContexts`), read once from the root DSE.
    /// Searching from the empty DN finds nothing on most servers (Hazelcast relies on JNDI's
    /// root context, which ApacheDS answers and OpenLDAP does not).
    async fn base(
        &self,
        configured: &str,
        ldap: &mut ldap3::Ldap,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<String, Fault> {
        if !configured.is_empty() {
            return Ok(configured.to_string());
        }
        if let Some(b) = &self.url_base {
            return Ok(b.clone());
        }
        let found = self
            .discovered_base
            .get_or_try_init(|| async {
                let root = ops::read(
                    ldap,
                    "",
                    &["defaultNamingContext", "namingContexts"],
                    budget,
                    stats,
                    true,
                )
                .await?;
                let base = root
                    .as_ref()
                    .and_then(|r| {
                        r.values("defaultNamingContext")
                            .first()
                            .or_else(|| r.values("namingContexts").first())
                            .cloned()
                    })
                    .unwrap_or_default();
                tracing::debug!(realm = %self.realm, base = %base, "LDAP naming context discovered");
                Ok::<String, Fault>(base)
            })
            .await?;
        Ok(found.clone())
    }

    /// The role settings with an empty role context resolved (borrowed when nothing changes).
    async fn role_settings(
        &self,
        ldap: &mut ldap3::Ldap,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<std::borrow::Cow<'_, RoleSettings>, Fault> {
        if self.roles.context.is_empty()
            && self.roles.mode == realm_core::config::RoleMappingMode::Reverse
        {
            let mut s = self.roles.clone();
            s.context = self.base("", ldap, budget, stats).await?;
            return Ok(std::borrow::Cow::Owned(s));
        }
        Ok(std::borrow::Cow::Borrowed(&self.roles))
    }

    /// Applies `role-mappings`: without a table, the group names are the roles.
    fn map_roles(&self, found: roles::Found) -> (Vec<String>, Vec<(String, Vec<String>)>) {
        if self.role_mappings.is_empty() {
            let roles = found.roles.iter().map(|r| r.name.clone()).collect();
            let paths = found.roles.into_iter().map(|r| (r.name, r.path)).collect();
            return (roles, paths);
        }
        let mut roles = Vec::new();
        let mut paths = Vec::new();
        for (role, groups) in &self.role_mappings {
            if let Some(r) = found
                .roles
                .iter()
                .find(|r| groups.contains(&r.name.to_lowercase()))
                && !roles.contains(role)
            {
                {
                    roles.push(role.clone());
                    let mut p = r.path.clone();
                    p.push(format!("group {} → role {role}", r.name));
                    paths.push((role.clone(), p));
                }
            }
        }
        (roles, paths)
    }

    /// Runs `op` on an admin connection; a transport failure on a reused (possibly stale after a
    /// server restart) connection discards it and retries once on a fresh one.
    async fn with_admin<T, F, Fut>(
        &self,
        admin: &AdminPool,
        budget: &Budget,
        stats: &Stats,
        op: F,
    ) -> Result<T, Fault>
    where
        F: Fn(ldap3::Ldap) -> Fut,
        Fut: Future<Output = (Result<T, Fault>, Stats)>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let conn = admin.get(budget, stats).await?;
            let (r, st) = op(conn.ldap.clone()).await;
            stats.add(
                st.requests.load(Ordering::Relaxed),
                st.round_trips.load(Ordering::Relaxed),
            );
            match r {
                Err(Fault::Unavailable(msg)) => {
                    admin.discard(&conn).await;
                    if conn.reused && attempt == 1 && !msg.contains("login-timeout") {
                        tracing::debug!(realm = %self.realm, "retrying on a fresh admin connection: {msg}");
                        continue;
                    }
                    return Err(Fault::Unavailable(msg));
                }
                other => return other,
            }
        }
    }

    async fn find_user(
        &self,
        admin: &AdminPool,
        login: &str,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<Entry, Fault> {
        let filter = user_filter(&self.user_filter, login, self.domain.as_deref());
        let attrs: Vec<&str> = self.search_attrs.iter().map(String::as_str).collect();
        let sc = self.user_scope;
        let base_used = std::sync::Mutex::new(String::new());
        let one = self
            .with_admin(admin, budget, stats, |mut ldap| {
                let filter = &filter;
                let attrs = &attrs;
                let budget = *budget;
                let base_used = &base_used;
                async move {
                    let st = Stats::default();
                    let base = match self.base(&self.user_context, &mut ldap, &budget, &st).await {
                        Ok(b) => b,
                        Err(f) => return (Err(f), st),
                    };
                    if let Ok(mut b) = base_used.lock() {
                        b.clone_from(&base);
                    }
                    let r =
                        ops::search_one(&mut ldap, &base, sc, filter, attrs, &budget, &st).await;
                    (r, st)
                }
            })
            .await?;
        let base = base_used.lock().map(|b| b.clone()).unwrap_or_default();
        match one {
            One::Single(e) => Ok(e),
            One::None => Err(Fault::Denied(format!(
                "unknown user {login:?} (no entry matches {filter} under {base:?})"
            ))),
            One::Many(dns) => {
                tracing::warn!(
                    realm = %self.realm,
                    filter = %filter,
                    "login refused: more than one directory entry matches the user filter ({}); \
                     make user-filter select a single entry",
                    dns.join(" | ")
                );
                Err(Fault::Denied(format!(
                    "ambiguous login {login:?}: {} entries match {filter}",
                    dns.len()
                )))
            }
        }
    }

    /// A bind that cannot succeed (no such entry), for an unknown user: the same round trip as a
    /// real verification. Its result is ignored; the connection goes back to the bind pool.
    async fn dummy_bind(&self, password: &Secret, budget: &Budget, stats: &Stats) {
        let Ok(mut conn) = self.binds.take(budget).await else {
            return;
        };
        let pw = password.expose_str().unwrap_or("x");
        stats.add(1, 1);
        let dn = "cn=realm-no-such-user,cn=realm-no-such-user";
        if let Ok(res) = budget.run("bind", conn.ldap.simple_bind(dn, pw)).await
            && res.rc == 49
        {
            self.binds.put_back(conn);
        }
    }

    /// Verifies a password with a real bind as `dn` on a connection of the bind pool.
    async fn user_bind(
        &self,
        dn: &str,
        password: &Secret,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<(), Fault> {
        let conn = self.bind_on(dn, password, budget, stats).await?;
        self.binds.put_back(conn);
        Ok(())
    }

    /// Binds as `dn` on a bind-pool connection and hands the bound connection over. A refused
    /// bind returns the connection to the bind pool (never to the admin pool) and is a denial.
    async fn bind_on(
        &self,
        dn: &str,
        password: &Secret,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<crate::conn::BindConn, Fault> {
        let pw = password
            .expose_str()
            .ok_or_else(|| Fault::Denied("the password is not valid UTF-8".into()))?;
        let mut conn = self.binds.take(budget).await?;
        stats.add(1, 1);
        let mut res = budget.run("user bind", conn.ldap.simple_bind(dn, pw)).await;
        if res.is_err() && conn.reused {
            // A pooled connection may have died with a server restart: once more, on a fresh one.
            conn = self.binds.take(budget).await?;
            while conn.reused {
                conn = self.binds.take(budget).await?;
            }
            stats.add(1, 1);
            res = budget.run("user bind", conn.ldap.simple_bind(dn, pw)).await;
        }
        match classify_bind(&res?, dn) {
            Ok(()) => Ok(conn),
            Err(Fault::Denied(why)) => {
                self.binds.put_back(conn);
                tracing::info!(realm = %self.realm, dn = %dn, "LDAP bind refused: {why}");
                Err(Fault::Denied(why))
            }
            Err(f) => Err(f),
        }
    }

    /// Without a system account: bind as the user (a DN, or `name@domain` for Active Directory),
    /// then read the user's entry and roles on the user's own connection.
    async fn bind_and_read(
        &self,
        login: &str,
        password: Option<&Secret>,
        budget: &Budget,
        stats: &Stats,
    ) -> Result<(Entry, roles::Found), Fault> {
        let pw = password.ok_or_else(|| Fault::Denied("no password".into()))?;
        let bind_name = match &self.domain {
            Some(d) if !login.contains('@') && !login.contains('=') => format!("{login}@{d}"),
            Some(_) => login.to_string(),
            None => {
                if let Err(e) = login.parse::<Dn>() {
                    return Err(Fault::Denied(format!(
                        "login {login:?} is not a DN ({e}): without system-user-dn the login name \
                         must be the user's full DN"
                    )));
                }
                login.to_string()
            }
        };
        let mut conn = self.bind_on(&bind_name, pw, budget, stats).await?;
        let a: Vec<&str> = self.user_attrs.iter().map(String::as_str).collect();
        let entry = if self.domain.is_some() {
            let filter = user_filter(&self.user_filter, login, self.domain.as_deref());
            match ops::search_one(
                &mut conn.ldap,
                &self.user_context,
                self.user_scope,
                &filter,
                &a,
                budget,
                stats,
            )
            .await?
            {
                One::Single(e) => e,
                One::None => {
                    return Err(Fault::Unavailable(format!(
                        "the bind as {bind_name:?} succeeded but no entry matches {filter} under {:?}: \
                         check user-filter and user-context",
                        self.user_context
                    )));
                }
                One::Many(dns) => {
                    tracing::warn!(realm = %self.realm, "login refused: {} entries match {filter}", dns.len());
                    return Err(Fault::Denied(format!("ambiguous login {login:?}")));
                }
            }
        } else {
            ops::read(&mut conn.ldap, login, &a, budget, stats, true)
                .await?
                .ok_or_else(|| {
                    Fault::Unavailable(format!(
                        "the bind as {login:?} succeeded but the entry cannot be read: the user \
                         needs read access to its own entry"
                    ))
                })?
        };
        let settings = self.role_settings(&mut conn.ldap, budget, stats).await?;
        let found = roles::resolve(&settings, &conn.ldap, &entry, budget, stats).await?;
        self.binds.put_back(conn);
        Ok((entry, found))
    }
}

/// What a bind result means: only `invalidCredentials` and its kin are a denial; a server that
/// wants TLS, is busy or broken is unavailable.
fn classify_bind(res: &ldap3::LdapResult, dn: &str) -> Result<(), Fault> {
    match res.rc {
        0 => Ok(()),
        49 => {
            let why = AdReason::from_diagnostic(&res.text)
                .map_or_else(|| "invalid credentials".to_string(), |r| r.to_string());
            Err(Fault::Denied(format!("bind as {dn:?} refused: {why}")))
        }
        48 | 50 | 53 => Err(Fault::Denied(format!(
            "bind as {dn:?} refused: {}",
            describe(res)
        ))),
        8 | 13 => Err(Fault::Unavailable(format!(
            "the server requires a protected connection for binds ({}): use ldaps:// or start-tls",
            describe(res)
        ))),
        _ => Err(Fault::Unavailable(format!(
            "bind as {dn:?} failed: {}",
            describe(res)
        ))),
    }
}

#[async_trait::async_trait]
impl LoginModule for LdapLoginModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let inner = &self.inner;
        let (login, password) = if inner.skip_auth {
            match cx.shared().get(LAST_IDENTITY) {
                Some(name) => (name.clone(), None),
                None => {
                    return Err(LoginError::Denied(
                        "skip-authentication: no previous module left an identity to look up"
                            .into(),
                    ));
                }
            }
        } else {
            match cx.credentials() {
                Credentials::Password { name, password } => (name.clone(), Some(password.clone())),
                _ => {
                    return Err(LoginError::Denied(
                        "the ldap realm needs username/password credentials".into(),
                    ));
                }
            }
        };
        let out = match inner.authenticate(&login, password.as_ref()).await {
            Ok(o) => o,
            Err(f) => return Err(to_login_error(f)),
        };
        cx.note(format!("user {:?} is {}", login, out.dn));
        for (role, path) in &out.role_paths {
            if path.is_empty() {
                cx.note(format!("role {role:?}"));
            } else {
                cx.note(format!("role {role:?} via {}", path.join(" > ")));
            }
        }
        for w in &out.warnings {
            cx.note(format!("warning: {w}"));
        }
        cx.note(format!(
            "{} LDAP requests in {} round trips",
            out.requests, out.round_trips
        ));
        if !inner.skip.skip_identity {
            cx.shared_mut()
                .insert(LAST_IDENTITY.into(), out.name.clone());
            cx.propose(Principal::Identity(out.name));
        }
        if !inner.skip.skip_role {
            for r in out.roles {
                cx.propose(Principal::Role(r));
            }
        }
        if !inner.skip.skip_endpoint
            && let Some(host) = cx.endpoint().host()
        {
            cx.propose(Principal::Endpoint(host));
        }
        Ok(Verdict::Succeeded)
    }
}

/// Hazelcast's class names for its two LDAP modules, accepted so that Hazelcast `jaas`
/// configurations work as written (both mean the same module here: the properties decide).
pub const HAZELCAST_CLASS_NAMES: &[&str] = &[
    "com.hazelcast.security.loginimpl.LdapLoginModule",
    "com.hazelcast.security.loginimpl.BasicLdapLoginModule",
];

/// Registers the `ldap` authentication type and the LDAP login-module class names
/// ([`CLASS_NAME`] and Hazelcast's), whose properties are the typed option names or Hazelcast's
/// (`roleMappingAttribute`, `java.naming.provider.url`, …). Relative paths in properties resolve
/// against the working directory.
pub fn register(registry: &mut Registry) {
    for class in std::iter::once(CLASS_NAME).chain(HAZELCAST_CLASS_NAMES.iter().copied()) {
        registry.register_login_module(class, |spec| {
            let (config, warnings) = realm_core::config::ldap_config_from_properties(
                spec.properties,
                spec.realm,
                std::path::Path::new("."),
            )?;
            for w in warnings {
                spec.warn(w);
            }
            let mut more = Vec::new();
            let module =
                LdapLoginModule::with_security(spec.realm, &config, spec.config, &mut more)?;
            for w in more {
                spec.warn(w);
            }
            Ok(Arc::new(module))
        });
    }
    registry.register_authentication_type("ldap", |spec| match spec.authentication {
        AuthenticationConfig::Ldap(c) => {
            let module = LdapLoginModule::with_security(spec.realm, c, spec.config, spec.warnings)?;
            Ok(vec![ChainLink {
                name: "ldap".into(),
                usage: Usage::Required,
                module: Arc::new(module),
            }])
        }
        _ => Err("not an ldap configuration".into()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_values_are_escaped_in_user_filters() {
        assert_eq!(user_filter("(uid={login})", "*", None), "(uid=\\2a)");
        assert_eq!(
            user_filter("(uid={login})", "x)(uid=*", None),
            "(uid=x\\29\\28uid=\\2a)"
        );
        assert_eq!(
            user_filter(
                "(&(objectClass=user)(|(userPrincipalName={0})(sAMAccountName={1})))",
                "alice",
                Some("realm.test")
            ),
            "(&(objectClass=user)(|(userPrincipalName=alice@realm.test)(sAMAccountName=alice)))"
        );
        assert_eq!(
            user_filter(
                "(sAMAccountName={1})",
                "alice@realm.test",
                Some("realm.test")
            ),
            "(sAMAccountName=alice)"
        );
        assert_eq!(
            user_filter("(userPrincipalName={0})", "a\u{0}b", Some("d")),
            "(userPrincipalName=a\\00b@d)"
        );
    }

    #[test]
    fn a_base_dn_in_the_url_is_read() {
        assert_eq!(
            url_base_dn("ldap://h:389/dc=example,dc=com"),
            Some("dc=example,dc=com".into())
        );
        assert_eq!(
            url_base_dn("ldaps://h/ou=A%20B,dc=x?cn?sub"),
            Some("ou=A B,dc=x".into())
        );
        assert_eq!(url_base_dn("ldap://h:389"), None);
        assert_eq!(url_base_dn("ldap://h:389/"), None);
    }

    #[test]
    fn domain_becomes_a_base_dn() {
        assert_eq!(domain_base("realm.test"), "DC=realm,DC=test");
    }

    #[test]
    fn bind_results_are_classified() {
        let r = |rc, text: &str| ldap3::LdapResult {
            rc,
            matched: String::new(),
            text: text.into(),
            refs: vec![],
            ctrls: vec![],
        };
        assert!(classify_bind(&r(0, ""), "x").is_ok());
        assert!(matches!(
            classify_bind(&r(49, "AcceptSecurityContext error, data 775, v4563"), "x"),
            Err(Fault::Denied(m)) if m.contains("locked")
        ));
        assert!(matches!(
            classify_bind(&r(52, ""), "x"),
            Err(Fault::Unavailable(_))
        ));
        assert!(matches!(
            classify_bind(&r(13, ""), "x"),
            Err(Fault::Unavailable(_))
        ));
    }
}
