//! The typed configuration model: one struct or enum per element of the security section.
//!
//! Every field carries its documented default once loaded (see each field's doc), so the model
//! is what the realms will actually do. `Serialize` produces the canonical form that
//! `realm config dump` prints: kebab-case keys (sorted by serde_json), defaults filled in,
//! secrets as `"<redacted>"`.

use crate::secret::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Which kind of file the security section came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// A document whose root is the security section itself.
    Standalone,
    /// A Hazelcast member configuration (`<hazelcast>` / `hazelcast:`).
    Member,
    /// A Hazelcast client configuration (`<hazelcast-client>` / `hazelcast-client:`).
    Client,
}

/// The security section.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SecurityConfig {
    /// Where the section was read from.
    pub document: DocumentKind,
    /// `enabled` (default `false`). Informational for Realm: a server decides what to do with it.
    pub enabled: bool,
    /// The named realms, in document order; names are unique.
    pub realms: Vec<RealmConfig>,
    /// `member-authentication realm=`: the realm that authenticates cluster members.
    pub member_authentication: Option<RealmRef>,
    /// `client-authentication realm=`: the realm that authenticates clients.
    pub client_authentication: Option<RealmRef>,
    /// The node's own identity given directly in the security section (client configurations).
    pub identity: Option<IdentityConfig>,
    /// `client-permission-policy` (not used for authentication; read and shown).
    pub client_permission_policy: Option<ClassConfig>,
    /// `client-permissions` (not used for authentication; read and shown).
    pub client_permissions: Option<ClientPermissions>,
    /// `security-interceptors`: class names (not used for authentication; read and shown).
    pub security_interceptors: Vec<String>,
    /// `client-block-unmapped-actions` (default `true`).
    pub client_block_unmapped_actions: bool,
    /// `keychain` (Realm's own): the keychain `${keychain:URI}` placeholders and keychain
    /// identities read from.
    pub keychain: Option<KeychainConfig>,
}

/// `keychain`: where the keychain is and how to open it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct KeychainConfig {
    /// `path`, resolved against the config file's folder.
    pub path: PathBuf,
    /// `master-password` (usually `${env:…}` or `${file:…}`); absent for an obfuscated keychain.
    pub master_password: Option<Secret>,
}

impl SecurityConfig {
    /// The realm with this name.
    pub fn realm(&self, name: &str) -> Option<&RealmConfig> {
        self.realms.iter().find(|r| r.name == name)
    }
}

/// A reference to a realm by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RealmRef {
    /// The realm's name.
    pub realm: String,
}

/// A named realm: how peers are authenticated, and what this node presents to others.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RealmConfig {
    /// `name` (required, unique).
    pub name: String,
    /// The authentication part (exactly one method), if any.
    pub authentication: Option<AuthenticationConfig>,
    /// The identity part (exactly one kind), if any.
    pub identity: Option<IdentityConfig>,
    /// `access-control-service` (Hazelcast 6; read and shown).
    pub access_control_service: Option<AccessControlService>,
}

/// How a realm authenticates peers: exactly one method.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // built once at start-up; boxing would only cost readability
pub enum AuthenticationConfig {
    /// A stack of login modules.
    Jaas(Vec<LoginModuleConfig>),
    /// LDAP or Active Directory.
    Ldap(LdapConfig),
    /// Kerberos (GSSAPI tokens), optionally with LDAP roles.
    Kerberos(KerberosAuthConfig),
    /// The client certificate of a mutual-TLS connection.
    Tls(TlsConfig),
    /// Users listed in the configuration.
    Simple(SimpleConfig),
    /// A Shiro-style ini file of users and roles.
    Ini(IniConfig),
}

impl AuthenticationConfig {
    /// The element/key name of the method.
    pub fn type_name(&self) -> &'static str {
        match self {
            AuthenticationConfig::Jaas(_) => "jaas",
            AuthenticationConfig::Ldap(_) => "ldap",
            AuthenticationConfig::Kerberos(_) => "kerberos",
            AuthenticationConfig::Tls(_) => "tls",
            AuthenticationConfig::Simple(_) => "simple",
            AuthenticationConfig::Ini(_) => "ini",
        }
    }
}

/// `skip-identity`, `skip-endpoint`, `skip-role`: common to every typed method (all default `false`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SkipFlags {
    /// Do not set the identity principal.
    pub skip_identity: bool,
    /// Do not set the endpoint principal.
    pub skip_endpoint: bool,
    /// Do not add roles (and do no role lookups).
    pub skip_role: bool,
}

/// A JAAS control flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Usage {
    /// Must succeed; the chain continues either way.
    Required,
    /// Must succeed; a failure stops the chain.
    Requisite,
    /// Success is enough if no earlier REQUIRED/REQUISITE failed; failure is tolerated.
    Sufficient,
    /// Neither required nor sufficient.
    Optional,
}

impl Usage {
    /// The documents' spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Required => "REQUIRED",
            Usage::Requisite => "REQUISITE",
            Usage::Sufficient => "SUFFICIENT",
            Usage::Optional => "OPTIONAL",
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A property value: plain text, or a secret (from a `${env:}`/`${file:}` placeholder, or under
/// a name that says it is one, such as `password` or `seed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// Plain text.
    Text(String),
    /// A secret; dumped as `"<redacted>"`.
    Secret(Secret),
}

impl PropertyValue {
    /// The value's text (exposes a secret: use only where the module needs the value).
    pub fn expose(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(t) => Some(t),
            PropertyValue::Secret(s) => s.expose_str(),
        }
    }
}

/// `properties`: name → value.
pub type Properties = BTreeMap<String, PropertyValue>;

/// One `login-module` of a `jaas` stack.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoginModuleConfig {
    /// `class-name`: the name the module is registered under.
    pub class_name: String,
    /// `usage` (default `REQUIRED`).
    pub usage: Usage,
    /// `properties`.
    pub properties: Properties,
}

/// A class name with properties (`credentials-factory`, `client-permission-policy`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClassConfig {
    /// `class-name`.
    pub class_name: String,
    /// `properties`.
    pub properties: Properties,
}

/// `access-control-service`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccessControlService {
    /// `factory-class-name`.
    pub factory_class_name: Option<String>,
    /// `properties`.
    pub properties: Properties,
}

/// `role-mapping-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleMappingMode {
    /// Role names are values of an attribute of the user entry.
    Attribute,
    /// The user entry holds the DNs of its role entries.
    Direct,
    /// Role entries are searched by a filter naming the user (`{memberDN}`).
    Reverse,
}

/// An LDAP search scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchScope {
    /// The base entry only.
    Object,
    /// The base's direct children.
    OneLevel,
    /// The base and everything under it.
    Subtree,
}

/// `system-authentication`: how the admin connection binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SystemAuthentication {
    /// A simple bind with `system-user-dn` / `system-user-password`.
    #[serde(rename = "simple")]
    Simple,
    /// A SASL GSSAPI bind with this node's Kerberos credentials (`security-realm`).
    #[serde(rename = "GSSAPI")]
    Gssapi,
}

/// `ldap` authentication: every option of the documents' LDAP options table.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LdapConfig {
    /// skip-* flags.
    #[serde(flatten)]
    pub skip: SkipFlags,
    /// `url`: one or more space-separated `ldap://` / `ldaps://` URLs, tried in order (failover).
    pub url: Vec<String>,
    /// `socket-factory-class-name`: a Java socket factory; accepted for compatibility, unused.
    pub socket_factory_class_name: Option<String>,
    /// `parse-dn` (default `false`): in attribute mode, read role names out of DN values.
    pub parse_dn: bool,
    /// `role-context`: search base for reverse role mapping.
    pub role_context: Option<String>,
    /// `role-filter` (default `(<role-mapping-attribute>={memberDN})`).
    pub role_filter: Option<String>,
    /// `role-mapping-attribute`.
    pub role_mapping_attribute: Option<String>,
    /// `role-mapping-mode` (default `attribute`).
    pub role_mapping_mode: RoleMappingMode,
    /// `role-name-attribute`.
    pub role_name_attribute: Option<String>,
    /// `role-recursion-max-depth` (default 1 = no recursion).
    pub role_recursion_max_depth: u32,
    /// `role-search-scope` (default `subtree`).
    pub role_search_scope: SearchScope,
    /// `user-name-attribute` (default `uid`; with `domain`, `sAMAccountName`).
    pub user_name_attribute: String,
    /// `system-user-dn`: the admin account; switches to search-then-verify authentication.
    pub system_user_dn: Option<String>,
    /// `system-user-password`.
    pub system_user_password: Option<Secret>,
    /// `system-authentication` (default `simple` when an admin connection is configured).
    pub system_authentication: Option<SystemAuthentication>,
    /// `security-realm`: the realm whose Kerberos credentials a GSSAPI admin bind uses.
    pub security_realm: Option<String>,
    /// `password-attribute`: compare the password with this attribute instead of binding.
    pub password_attribute: Option<String>,
    /// `user-context`: search base for users.
    pub user_context: Option<String>,
    /// `user-filter` (default `(uid={login})`; with `domain`,
    /// `(&(objectClass=user)(userPrincipalName={0}))`).
    pub user_filter: String,
    /// `user-search-scope` (default `subtree`).
    pub user_search_scope: SearchScope,
    /// `skip-authentication` (default `false`): take the login from the previous module.
    pub skip_authentication: bool,
    /// Realm's extensions beyond Hazelcast's option table.
    #[serde(flatten)]
    pub ext: LdapExtensions,
}

/// LDAP options Realm adds to Hazelcast's table: Active Directory, timeouts, TLS, pooling, paging,
/// nested-group strategy and group-to-role mapping. Every one has a safe default.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LdapExtensions {
    /// `domain`: the Active Directory domain (`example.com`). Enables `{0}` (= `login@domain`)
    /// and `{1}` (= `login`) in `user-filter`; without an admin connection the user binds as
    /// `login@domain` (a userPrincipalName bind) instead of giving a DN.
    pub domain: Option<String>,
    /// `connect-timeout` in milliseconds (default 3000): TCP connect plus TLS handshake.
    pub connect_timeout_ms: u64,
    /// `operation-timeout` in milliseconds (default 3000): each LDAP request's answer.
    pub operation_timeout_ms: u64,
    /// `login-timeout` in milliseconds (default 10000): the whole login, every step together.
    pub login_timeout_ms: u64,
    /// `start-tls` (default `false`): upgrade `ldap://` connections with StartTLS before any bind.
    pub start_tls: bool,
    /// `trust-ca-file`: PEM file of CA certificates to trust; without it the system trust store
    /// is used (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    pub trust_ca_file: Option<PathBuf>,
    /// `verify-hostname` (default `true`): check the server certificate's names against the URL's
    /// host. Turning it off is explicit and warned about.
    pub verify_hostname: bool,
    /// `require-tls` (default `false`): make a password sent over plain `ldap://` to a
    /// non-loopback host a configuration error instead of a warning.
    pub require_tls: bool,
    /// `pool-size` (default 4): long-lived admin connections shared by searches.
    pub pool_size: u32,
    /// `pool-max-lifetime` in milliseconds (default 300000): pooled connections are replaced
    /// after this long.
    pub pool_max_lifetime_ms: u64,
    /// `page-size` (default 500): page size of the paged-results control on group searches.
    pub page_size: u32,
    /// `role-recursion-strategy` (default `client`): how nested groups are followed.
    pub role_recursion_strategy: RoleRecursionStrategy,
    /// `role-mappings`: directory group names to application roles. When present, a login's
    /// roles are the mapped application roles only.
    pub role_mappings: Vec<RoleMapping>,
}

impl Default for LdapExtensions {
    fn default() -> Self {
        LdapExtensions {
            domain: None,
            connect_timeout_ms: 3000,
            operation_timeout_ms: 3000,
            login_timeout_ms: 10_000,
            start_tls: false,
            trust_ca_file: None,
            verify_hostname: true,
            require_tls: false,
            pool_size: 4,
            pool_max_lifetime_ms: 300_000,
            page_size: 500,
            role_recursion_strategy: RoleRecursionStrategy::Client,
            role_mappings: Vec::new(),
        }
    }
}

/// `role-recursion-strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleRecursionStrategy {
    /// Realm walks the group graph itself, breadth-first, one search per level.
    Client,
    /// Active Directory resolves nesting on the server with the in-chain matching rule
    /// (`1.2.840.113556.1.4.1941`) in one search (reverse mode only).
    InChain,
}

/// One `role-mapping`: the directory groups that grant an application role.
#[derive(Clone, Debug, Serialize)]
pub struct RoleMapping {
    /// `role`: the application role granted.
    pub role: String,
    /// `groups`: group names (`;`-separated in the file), compared without regard to case.
    pub groups: Vec<String>,
}

impl LdapConfig {
    /// True when an admin connection is configured (`system-user-dn` or `system-authentication`):
    /// users are then searched, not bound by DN.
    pub fn has_system_account(&self) -> bool {
        self.system_user_dn.is_some() || self.system_authentication.is_some()
    }
}

/// `kerberos` authentication (the acceptor side).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct KerberosAuthConfig {
    /// skip-* flags.
    #[serde(flatten)]
    pub skip: SkipFlags,
    /// `relax-flags-check` (default `false`).
    pub relax_flags_check: bool,
    /// `use-name-without-realm` (default `false`): strip `@REALM` from the identity.
    pub use_name_without_realm: bool,
    /// `security-realm`: the realm holding the acceptor's Kerberos credentials.
    pub security_realm: Option<String>,
    /// `principal` (simplified form).
    pub principal: Option<String>,
    /// `keytab-file` (simplified form), resolved against the config file's folder.
    pub keytab_file: Option<PathBuf>,
    /// Nested `ldap`: roles from LDAP after the token is accepted.
    pub ldap: Option<Box<LdapConfig>>,
}

/// `tls` authentication.
#[derive(Clone, Debug, Serialize)]
pub struct TlsConfig {
    /// skip-* flags.
    #[serde(flatten)]
    pub skip: SkipFlags,
    /// `roleAttribute` (default `cn`): the subject-DN attribute whose values are roles.
    #[serde(rename = "roleAttribute")]
    pub role_attribute: String,
    /// Realm's extension `allow`: rules a certificate must match to be accepted at all (none:
    /// every certificate the transport verified).
    #[serde(skip_serializing_if = "TlsAllow::is_empty")]
    pub allow: TlsAllow,
    /// Realm's extension `ca-file`: the PEM CA certificates client certificates must chain to
    /// (for the rustls server configuration `realm-tls` builds).
    #[serde(rename = "ca-file", skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Realm's extension `crl-file`: PEM certificate revocation lists checked in the handshake.
    #[serde(rename = "crl-file", skip_serializing_if = "Option::is_none")]
    pub crl_file: Option<PathBuf>,
    /// Realm's extension `certificate-file`: this server's PEM certificate chain, leaf first.
    #[serde(rename = "certificate-file", skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
    /// Realm's extension `key-file`: this server's PEM private key.
    #[serde(rename = "key-file", skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

/// The allow-list of a `tls` authentication: a certificate is accepted when it matches **any**
/// rule (and every certificate when there are none). Subjects compare as RFC 4514 strings
/// (the identity's form); SANs are the DNS names, e-mail addresses, URIs and IP addresses of the
/// subject alternative name extension. Patterns are regular expressions that must match the whole
/// value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsAllow {
    /// `subjects`: exact subject DNs (`<subject>` in XML).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// `subject-patterns`: regular expressions over the subject DN (`<subject-pattern>`).
    #[serde(rename = "subject-patterns", skip_serializing_if = "Vec::is_empty")]
    pub subject_patterns: Vec<String>,
    /// `sans`: exact subject alternative names (`<san>`; DNS names compare case-insensitively).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    /// `san-patterns`: regular expressions over each subject alternative name (`<san-pattern>`).
    #[serde(rename = "san-patterns", skip_serializing_if = "Vec::is_empty")]
    pub san_patterns: Vec<String>,
}

impl TlsAllow {
    /// True when there is no rule (every verified certificate is accepted).
    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty()
            && self.subject_patterns.is_empty()
            && self.sans.is_empty()
            && self.san_patterns.is_empty()
    }
}

/// One user of a `simple` realm.
#[derive(Clone, Debug, Serialize)]
pub struct SimpleUser {
    /// `username` (case-sensitive, unique).
    pub username: String,
    /// `password`: plain text or a PHC hash string.
    pub password: Secret,
    /// `role`s.
    pub roles: Vec<String>,
}

/// `simple` authentication.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SimpleConfig {
    /// skip-* flags.
    #[serde(flatten)]
    pub skip: SkipFlags,
    /// `user`s.
    pub users: Vec<SimpleUser>,
    /// `role-separator` (default `,`). Realm keeps roles as a list, so it has no effect; kept
    /// for compatibility.
    pub role_separator: String,
}

/// `ini` authentication (Realm's own): a Shiro-style ini file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct IniConfig {
    /// skip-* flags.
    #[serde(flatten)]
    pub skip: SkipFlags,
    /// `path`, resolved against the config file's folder.
    pub path: PathBuf,
    /// `allow-plaintext-passwords` (default `false`): accept plain-text passwords in the file (each
    /// one is a warning at load). Without it, a plain-text password is a load error for that user.
    pub allow_plaintext_passwords: bool,
}

/// What this node presents to others: exactly one kind.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IdentityConfig {
    /// A fixed user name and password.
    UsernamePassword {
        /// `username`.
        username: String,
        /// `password`.
        password: Secret,
    },
    /// A fixed token.
    Token {
        /// `encoding` as written (default `none`).
        encoding: TokenEncoding,
        /// The token bytes (base64-decoded when `encoding` is `base64`).
        value: Secret,
    },
    /// A Kerberos service ticket for the peer.
    Kerberos(KerberosIdentityConfig),
    /// A registered credentials factory.
    CredentialsFactory(ClassConfig),
}

impl IdentityConfig {
    /// The element/key name of the kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            IdentityConfig::UsernamePassword { .. } => "username-password",
            IdentityConfig::Token { .. } => "token",
            IdentityConfig::Kerberos(_) => "kerberos",
            IdentityConfig::CredentialsFactory(_) => "credentials-factory",
        }
    }
}

/// A token's `encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenEncoding {
    /// The text's bytes are the token.
    None,
    /// The text is base64.
    Base64,
}

/// `kerberos` identity (the initiator side).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct KerberosIdentityConfig {
    /// `realm`: appended to the SPN as `@REALM`.
    pub realm: Option<String>,
    /// `security-realm`: the realm holding this node's Kerberos credentials.
    pub security_realm: Option<String>,
    /// `principal` (simplified form).
    pub principal: Option<String>,
    /// `keytab-file` (simplified form).
    pub keytab_file: Option<PathBuf>,
    /// `service-name-prefix` (default `hz/` when `spn` is not set).
    pub service_name_prefix: Option<String>,
    /// `spn`: a fixed service principal name.
    pub spn: Option<String>,
    /// `use-canonical-hostname` (default `false`).
    pub use_canonical_hostname: bool,
}

/// `client-permissions`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClientPermissions {
    /// `on-join-operation` (default `RECEIVE`).
    pub on_join_operation: String,
    /// `priority-grant` (default `false`).
    pub priority_grant: bool,
    /// The permissions in document order.
    pub permissions: Vec<PermissionConfig>,
}

/// One client permission.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PermissionConfig {
    /// The permission type as YAML names it (`map`, `queue`, `all`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `name` (the object name pattern).
    pub name: Option<String>,
    /// `principal` (role pattern).
    pub principal: Option<String>,
    /// `deny` (default `false`).
    pub deny: bool,
    /// `endpoints`.
    pub endpoints: Vec<String>,
    /// `actions`.
    pub actions: Vec<String>,
}
