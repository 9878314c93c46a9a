//! Runnable examples of Realm: a TCP server that authenticates clients with a named realm, its
//! client, and a demo that runs both in one process.
//!
//! This library is the part they share: a deliberately tiny protocol, **JSON lines over TCP**.
//! A client sends one request per line and gets one response line back; a connection may carry
//! any number of requests.
//!
//! ```text
//! → {"username":"alice","password":"wonderland"}
//! ← {"ok":true,"identity":"alice","roles":["admin","monitor"],"endpoint":"127.0.0.1"}
//! → {"token":"c2VjcmV0LXRva2Vu"}
//! ← {"ok":false,"error":"denied"}
//! ```
//!
//! * A request is `{"username":…,"password":…}` or `{"token":"<base64>"}`; anything else (unknown
//!   keys, both kinds at once, bad base64, a user name with control characters, not JSON) gets
//!   `{"ok":false,"error":"bad-request"}`.
//! * An accepted login answers `{"ok":true,"identity":…,"roles":[…],"endpoint":…}`, roles sorted;
//!   `identity` and `endpoint` are `null` when no module established them.
//! * A refused one answers `{"ok":false,"error":"denied"}`, **byte for byte the same** whether the
//!   password was wrong, the user unknown or the password empty: the peer must not learn which
//!   user names exist. The reason goes to the server's log only, and the login trace never leaves
//!   the server.
//! * `{"ok":false,"error":"unavailable"}` means the realm could not check the credentials (a
//!   backend is down, or the realm is misconfigured): not a verdict, try again later.
//!
//! The server side is [`serve`] (or [`serve_with`] for other [`Limits`]) over a [`Service`]; the
//! client side is [`authenticate`] for one request, or a [`Client`] for several on one connection.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use realm_examples::{Request, Response, setup, serve, authenticate};
//!
//! let setup = setup("examples/configs/embedded.yaml".as_ref(), None)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(serve(listener, setup.service));
//!
//! let response = authenticate(addr, &Request::password("alice", "wonderland")).await?;
//! assert!(matches!(response, Response::Accepted { .. }));
//! # Ok(()) }
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use realm_core::config::ConfigError;
use realm_core::{
    BuildErrors, Credentials, Endpoint, LoginFailure, Realm, Registry, Secret, Security,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio::time::timeout;

/// The longest request or response line accepted, newline excluded (64 KiB). A peer that sends a
/// longer line is disconnected.
pub const MAX_LINE: usize = 64 * 1024;

/// How long the server waits for a complete request line (and the client for a response) before
/// closing the connection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// What a client asks: log in with a password, or with a token.
///
/// The secret parts are [`Secret`]s, so `Debug` output of a request is safe to log.
#[derive(Clone, Debug)]
pub enum Request {
    /// `{"username":…,"password":…}`.
    Password {
        /// The login name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `{"token":"<base64>"}`: an opaque token (its bytes; base64 only on the wire).
    Token {
        /// The token bytes.
        token: Secret,
    },
    /// `{"certificate":true}`: log in with the client certificate of this TLS connection (the
    /// server answers `denied` on a connection without one).
    Certificate,
}

/// A request as it travels: every key optional, unknown keys refused.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<bool>,
}

impl Request {
    /// A username/password request.
    pub fn password(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Request::Password {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A token request (the raw token bytes; the wire form is base64).
    pub fn token(bytes: Vec<u8>) -> Self {
        Request::Token {
            token: Secret::from_bytes(bytes),
        }
    }

    /// The name the request claims (`<token>` for a token), for logs.
    pub fn name(&self) -> &str {
        match self {
            Request::Password { username, .. } => username,
            Request::Token { .. } => "<token>",
            Request::Certificate => "<certificate>",
        }
    }

    /// The wire form, one line without the newline. **Contains the secret**: send it, never log
    /// it (log [`Request::to_masked_json`]).
    pub fn to_json(&self) -> String {
        self.wire(false)
    }

    /// The wire form with a non-empty password or token replaced by `***` (an empty one stays
    /// empty, so a transcript still shows it), for transcripts and logs.
    pub fn to_masked_json(&self) -> String {
        self.wire(true)
    }

    fn wire(&self, masked: bool) -> String {
        let mask = |s: &Secret, shown: String| {
            if masked && !s.is_empty() {
                "***".to_string()
            } else {
                shown
            }
        };
        let wire = match self {
            Request::Password { username, password } => WireRequest {
                username: Some(username.clone()),
                password: Some(mask(
                    password,
                    String::from_utf8_lossy(password.expose()).into_owned(),
                )),
                token: None,
                certificate: None,
            },
            Request::Certificate => WireRequest {
                username: None,
                password: None,
                token: None,
                certificate: Some(true),
            },
            Request::Token { token } => WireRequest {
                username: None,
                password: None,
                certificate: None,
                token: Some(mask(token, BASE64.encode(token.expose()))),
            },
        };
        to_json_line(&wire)
    }

    /// Parses one request line. The error says what is wrong with the request's *shape* (it never
    /// echoes a value, so it is safe to log).
    pub fn from_json(line: &str) -> Result<Request, String> {
        let wire: WireRequest = serde_json::from_str(line).map_err(|e| {
            // serde_json may quote the offending string value: keep the message, drop the value.
            format!("not a request: {}", redact_serde_error(&e))
        })?;
        match wire {
            WireRequest {
                username: None,
                password: None,
                token: None,
                certificate: Some(true),
            } => Ok(Request::Certificate),
            WireRequest {
                username: Some(username),
                password: Some(_),
                token: None,
                certificate: None,
            } if username.chars().any(char::is_control) => {
                // No user name contains a newline or an escape sequence; refusing them here also
                // keeps them out of every log line downstream.
                Err("`username` contains control characters".to_string())
            }
            WireRequest {
                username: Some(username),
                password: Some(password),
                token: None,
                certificate: None,
            } => Ok(Request::Password {
                username,
                password: Secret::from(password),
            }),
            WireRequest {
                username: None,
                password: None,
                token: Some(token),
                certificate: None,
            } => BASE64
                .decode(token.as_bytes())
                .map(|bytes| Request::Token {
                    token: Secret::from_bytes(bytes),
                })
                .map_err(|_| "`token` is not valid base64".to_string()),
            _ => Err(
                "expected {\"username\",\"password\"}, {\"token\"} or {\"certificate\":true}"
                    .to_string(),
            ),
        }
    }

    /// The credentials this request presents to a realm from `endpoint` (a certificate
    /// request presents the endpoint's TLS chain).
    pub fn into_credentials(self, endpoint: &Endpoint) -> Credentials {
        match self {
            Request::Password { username, password } => Credentials::password(username, password),
            Request::Token { token } => Credentials::Token { token },
            Request::Certificate => Credentials::Certificate {
                chain: endpoint.peer_certificates.clone(),
            },
        }
    }
}

/// serde_json errors quote unexpected *string values* (`invalid type: string "hunter2"`); keep the
/// category and position, drop the quoted value.
fn redact_serde_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find('"') {
        Some(i) => format!(
            "{}… (line {} column {})",
            text.get(..i).unwrap_or("invalid JSON").trim_end(),
            e.line(),
            e.column()
        ),
        None => text,
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// What the server answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `{"ok":true,"identity":…,"roles":[…],"endpoint":…}`.
    Accepted {
        /// Who the peer is, if a module established an identity.
        identity: Option<String>,
        /// The roles, sorted, without duplicates.
        roles: Vec<String>,
        /// Where the peer connected from, as the realm recorded it (an IP address, no port).
        endpoint: Option<String>,
    },
    /// `{"ok":false,"error":"denied"}`: the credentials were checked and refused. Always exactly
    /// this line, whatever the reason.
    Denied,
    /// `{"ok":false,"error":"unavailable"}`: the realm could not check the credentials.
    Unavailable,
    /// `{"ok":false,"error":"bad-request"}`: the request line was not a request.
    BadRequest,
}

#[derive(Serialize)]
struct WireAccepted<'a> {
    ok: bool,
    identity: Option<&'a str>,
    roles: &'a [String],
    endpoint: Option<&'a str>,
}

#[derive(Serialize)]
struct WireRefused<'a> {
    ok: bool,
    error: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireResponse {
    ok: bool,
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl Response {
    /// The response for a login result. Every refusal maps to one of two fixed lines; no detail
    /// of a [`LoginFailure`] reaches the peer.
    pub fn from_login(result: &Result<realm_core::Subject, LoginFailure>) -> Response {
        match result {
            Ok(subject) => {
                let mut roles: Vec<String> = subject.roles().map(str::to_string).collect();
                roles.sort();
                Response::Accepted {
                    identity: subject.identity().map(str::to_string),
                    roles,
                    endpoint: subject.endpoint().map(str::to_string),
                }
            }
            Err(LoginFailure::Denied) => Response::Denied,
            // Unavailable, Config, and whatever kinds realm-core adds later: not a verdict.
            Err(_) => Response::Unavailable,
        }
    }

    /// The `error` code of a refusal (`denied`, `unavailable`, `bad-request`), `None` if accepted.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Response::Accepted { .. } => None,
            Response::Denied => Some("denied"),
            Response::Unavailable => Some("unavailable"),
            Response::BadRequest => Some("bad-request"),
        }
    }

    /// True for [`Response::Accepted`].
    pub fn is_accepted(&self) -> bool {
        matches!(self, Response::Accepted { .. })
    }

    /// The wire form, one line without the newline.
    pub fn to_json(&self) -> String {
        match self {
            Response::Accepted {
                identity,
                roles,
                endpoint,
            } => to_json_line(&WireAccepted {
                ok: true,
                identity: identity.as_deref(),
                roles,
                endpoint: endpoint.as_deref(),
            }),
            refused => to_json_line(&WireRefused {
                ok: false,
                error: refused.error_code().unwrap_or("unavailable"),
            }),
        }
    }

    /// Parses one response line.
    pub fn from_json(line: &str) -> Result<Response, String> {
        let wire: WireResponse = serde_json::from_str(line)
            .map_err(|e| format!("not a response: {}", redact_serde_error(&e)))?;
        match wire {
            WireResponse {
                ok: true,
                identity,
                roles,
                endpoint,
                error: None,
            } => Ok(Response::Accepted {
                identity,
                roles: roles.unwrap_or_default(),
                endpoint,
            }),
            WireResponse {
                ok: false,
                identity: None,
                roles: None,
                endpoint: None,
                error: Some(code),
            } => match code.as_str() {
                "denied" => Ok(Response::Denied),
                "unavailable" => Ok(Response::Unavailable),
                "bad-request" => Ok(Response::BadRequest),
                other => Err(format!("unknown error code `{other}`")),
            },
            _ => Err(
                "a response is {\"ok\":true,…} without `error` or {\"ok\":false,\"error\":…} alone"
                    .into(),
            ),
        }
    }
}

impl fmt::Display for Response {
    /// A one-line human summary: `accepted: alice, roles admin, monitor (from 127.0.0.1)` or
    /// `denied`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Accepted {
                identity,
                roles,
                endpoint,
            } => {
                write!(
                    f,
                    "accepted: {}, roles {}",
                    identity.as_deref().unwrap_or("(no identity)"),
                    if roles.is_empty() {
                        "(none)".to_string()
                    } else {
                        roles.join(", ")
                    }
                )?;
                if let Some(e) = endpoint {
                    write!(f, " (from {e})")?;
                }
                Ok(())
            }
            refused => f.write_str(refused.error_code().unwrap_or("unavailable")),
        }
    }
}

/// Serialises a wire struct. These structs hold only strings, options and lists, which
/// serde_json always serialises; the fallback exists only to avoid a panic path.
fn to_json_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| r#"{"ok":false,"error":"unavailable"}"#.into())
}

// ---------------------------------------------------------------------------------------------
// Setting up: configuration → Security → the realm to serve
// ---------------------------------------------------------------------------------------------

/// Why a [`Service`] could not be set up. `Display` gives one line per problem.
#[derive(Debug)]
pub enum SetupError {
    /// The configuration file could not be loaded (every error, with its position).
    Config(ConfigError),
    /// Realms could not be built (unknown class names, bad properties).
    Build(BuildErrors),
    /// No realm was named and the configuration has no `client-authentication`.
    NoClientAuthentication {
        /// The realms the configuration defines.
        realms: Vec<String>,
    },
    /// The named realm does not exist.
    NoSuchRealm {
        /// The name asked for.
        name: String,
        /// The realms the configuration defines.
        realms: Vec<String>,
    },
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |realms: &[String]| {
            if realms.is_empty() {
                "none".to_string()
            } else {
                realms.join(", ")
            }
        };
        match self {
            SetupError::Config(e) => write!(f, "{e}"),
            SetupError::Build(e) => write!(f, "{e}"),
            SetupError::NoClientAuthentication { realms } => write!(
                f,
                "the configuration has no `client-authentication` section: add one, or name a realm with --realm (defined realms: {})",
                list(realms)
            ),
            SetupError::NoSuchRealm { name, realms } => write!(
                f,
                "no realm named `{name}` (defined realms: {})",
                list(realms)
            ),
        }
    }
}

impl std::error::Error for SetupError {}

/// A [`Service`] ready to serve, and the warnings found on the way.
#[derive(Debug)]
pub struct Setup {
    /// The service.
    pub service: Service,
    /// Configuration warnings (`FILE:LINE:COL: key.path: warning: …`) and build warnings
    /// (`realm `x`: plain-text password for …`), for the operator.
    pub warnings: Vec<String>,
    /// The loaded configuration (e.g. for the TLS files of a `tls` realm).
    pub config: realm_core::config::SecurityConfig,
}

/// What the examples register: the JAAS chain engine, and Realm's ini, LDAP, Kerberos and TLS
/// authentication types, modules and identities.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_ini::register(&mut registry);
    realm_kerberos::register(&mut registry);
    realm_tls::register(&mut registry);
    registry
}

/// The request a client sends to the server at `server`: the credentials the identity of a realm
/// of the configuration at `path` makes for it (a Kerberos service ticket, a password, …). The
/// realm is `realm` if given, else the only realm with an identity.
pub async fn identity_request(
    path: &Path,
    realm: Option<&str>,
    server: SocketAddr,
) -> Result<Request, IdentityError> {
    let loaded = realm_core::config::load_file(path)
        .map_err(|e| IdentityError::Setup(SetupError::Config(e)))?;
    let security = Security::from_config(&loaded.config, &registry())
        .map_err(|e| IdentityError::Setup(SetupError::Build(e)))?;
    let with_identity: Vec<&Realm> = security.realms().filter(|r| r.has_identity()).collect();
    let chosen = match realm {
        Some(name) => security.realm(name).ok_or_else(|| {
            IdentityError::Setup(SetupError::NoSuchRealm {
                name: name.to_string(),
                realms: realm_names(&security),
            })
        })?,
        None => match with_identity.as_slice() {
            [one] => *one,
            _ => {
                return Err(IdentityError::Choose(format!(
                    "name the realm whose identity to present with --identity-realm (realms \
                     with an identity: {})",
                    with_identity
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        },
    };
    let credentials = chosen
        .credentials_for(&realm_core::Endpoint::from_addr(server))
        .await
        .map_err(IdentityError::Credentials)?;
    match credentials {
        Credentials::Password { name, password } => Ok(Request::Password {
            username: name,
            password,
        }),
        Credentials::Token { token } => Ok(Request::Token { token }),
        Credentials::Certificate { .. } => Ok(Request::Certificate),
        _ => Err(IdentityError::Choose(
            "the identity made credentials the protocol cannot carry".into(),
        )),
    }
}

/// Why [`identity_request`] made no request.
#[derive(Debug)]
pub enum IdentityError {
    /// The configuration does not load or build, or names no such realm.
    Setup(SetupError),
    /// No realm (or more than one) has an identity.
    Choose(String),
    /// The identity could not make credentials (`Unavailable` when its backend, e.g. the KDC,
    /// cannot be reached).
    Credentials(LoginFailure),
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::Setup(e) => write!(f, "{e}"),
            IdentityError::Choose(e) => f.write_str(e),
            IdentityError::Credentials(e) => write!(f, "no credentials: {e}"),
        }
    }
}

impl std::error::Error for IdentityError {}

/// Loads `path`, builds its realms with the JAAS chain engine registered, and picks the realm to
/// serve: `realm` if given, else the one `client-authentication` names.
pub fn setup(path: &Path, realm: Option<&str>) -> Result<Setup, SetupError> {
    setup_with(path, realm, &mut |_| {})
}

/// [`setup`] with a hook that registers a program's own login modules and credentials factories.
pub fn setup_with(
    path: &Path,
    realm: Option<&str>,
    register: &mut dyn FnMut(&mut Registry),
) -> Result<Setup, SetupError> {
    let loaded = realm_core::config::load_file(path).map_err(SetupError::Config)?;
    let mut registry = registry();
    register(&mut registry);
    let security = Security::from_config(&loaded.config, &registry).map_err(SetupError::Build)?;
    let mut warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    warnings.extend(security.warnings().iter().cloned());
    let service = match realm {
        Some(name) => Service::for_realm(security, name)?,
        None => Service::client_authentication(security)?,
    };
    Ok(Setup {
        service,
        warnings,
        config: loaded.config,
    })
}

/// One realm of a built [`Security`], shared by every connection.
///
/// (`Security` owns its realms and hands out `&Realm`, so the service keeps the whole `Security`
/// and the realm's name.)
#[derive(Clone, Debug)]
pub struct Service {
    security: Arc<Security>,
    realm: String,
    required_roles: Vec<String>,
}

impl Service {
    /// Serves the realm named by `client-authentication`.
    pub fn client_authentication(
        security: impl Into<Arc<Security>>,
    ) -> Result<Service, SetupError> {
        let security = security.into();
        match security
            .client_authentication()
            .map(|r| r.name().to_string())
        {
            Some(realm) => Ok(Service {
                security,
                realm,
                required_roles: Vec::new(),
            }),
            None => Err(SetupError::NoClientAuthentication {
                realms: realm_names(&security),
            }),
        }
    }

    /// Serves the realm with this name.
    pub fn for_realm(
        security: impl Into<Arc<Security>>,
        name: &str,
    ) -> Result<Service, SetupError> {
        let security = security.into();
        if security.realm(name).is_some() {
            Ok(Service {
                security,
                realm: name.to_string(),
                required_roles: Vec::new(),
            })
        } else {
            Err(SetupError::NoSuchRealm {
                name: name.to_string(),
                realms: realm_names(&security),
            })
        }
    }

    /// Authorization on top of authentication: a peer the realm accepts is still refused
    /// (`denied`, logged as lacking a role) unless it holds one of `roles`. Empty: no
    /// requirement. (Terracotta's servers admit clients with `terracotta` or `admin` only.)
    pub fn require_any_role(mut self, roles: Vec<String>) -> Service {
        self.required_roles = roles;
        self
    }

    /// The served realm's name.
    pub fn realm_name(&self) -> &str {
        &self.realm
    }

    /// The served realm (always present: checked when the service was made).
    pub fn realm(&self) -> Option<&Realm> {
        self.security.realm(&self.realm)
    }

    /// Answers one request from `peer`, logging the outcome (user, realm, verdict; never a secret).
    pub async fn handle(&self, request: Request, peer: SocketAddr) -> Response {
        self.handle_at(request, Endpoint::from_addr(peer)).await
    }

    /// [`Service::handle`] for a peer known by more than its address (its TLS chain).
    pub async fn handle_at(&self, request: Request, endpoint: Endpoint) -> Response {
        let peer = endpoint
            .address
            .map_or_else(|| "?".to_string(), |a| a.to_string());
        let user = request.name().to_string();
        let Some(realm) = self.realm() else {
            tracing::error!(realm = %self.realm, %peer, "the served realm is missing");
            return Response::Unavailable;
        };
        let credentials = request.into_credentials(&endpoint);
        let result = realm.login(credentials, endpoint).await;
        if let Ok(subject) = &result
            && !self.required_roles.is_empty()
            && !subject
                .roles()
                .any(|r| self.required_roles.iter().any(|q| q == r))
        {
            tracing::info!(
                realm = %self.realm, user = ?user, %peer, verdict = "denied",
                identity = subject.identity().unwrap_or(""),
                roles = ?subject.roles().collect::<Vec<_>>(),
                required = ?self.required_roles,
                "authenticated but lacks every required role"
            );
            return Response::Denied;
        }
        // `?user`: the name is the peer's text; Debug quotes and escapes it, so a name with a
        // newline cannot forge a log line.
        match &result {
            Ok(subject) => tracing::info!(
                realm = %self.realm, user = ?user, %peer, verdict = "accepted",
                identity = subject.identity().unwrap_or(""), "authentication"
            ),
            Err(LoginFailure::Denied) => {
                tracing::info!(realm = %self.realm, user = ?user, %peer, verdict = "denied", "authentication")
            }
            Err(failure) => tracing::warn!(
                realm = %self.realm, user = ?user, %peer, verdict = "unavailable",
                cause = %failure, "authentication"
            ),
        }
        Response::from_login(&result)
    }
}

fn realm_names(security: &Security) -> Vec<String> {
    security.realms().map(|r| r.name().to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// The server's limits. [`Limits::default`] is what [`serve`] uses.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest request line, newline excluded; a longer one closes the connection.
    pub max_line: usize,
    /// How long to wait for a complete request line; an idle or slow peer is disconnected.
    pub read_timeout: Duration,
    /// How long writing a response may take.
    pub write_timeout: Duration,
    /// Connections served at once; further peers wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: MAX_LINE,
            read_timeout: READ_TIMEOUT,
            write_timeout: READ_TIMEOUT,
            max_connections: 1024,
        }
    }
}

/// Accepts connections forever (until the task is dropped), one task per connection, with the
/// default [`Limits`].
pub async fn serve(listener: TcpListener, service: Service) {
    serve_with(listener, service, Limits::default()).await;
}

/// [`serve`] with other limits.
pub async fn serve_with(listener: TcpListener, service: Service, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return; // the semaphore is never closed
        };
        match listener.accept().await {
            Ok((stream, peer)) => {
                let service = service.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    connection(stream, Endpoint::from_addr(peer), &service, limits).await;
                });
            }
            Err(e) => {
                // Usually transient (out of file descriptors, a peer that reset before accept).
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// [`serve_with`] over mutual TLS: each connection first completes a TLS handshake with
/// `acceptor` (within the read timeout; a failed one is logged and closed), then speaks the
/// same protocol, its peer known by its verified certificate chain too, so a
/// `{"certificate":true}` request logs in with it.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    service: Service,
    limits: Limits,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, peer)) => {
                let service = service.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match timeout(limits.read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let (_, endpoint) = realm_tls::peer_login(&tls, Some(peer));
                            connection(tls, endpoint, &service, limits).await;
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(%peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::warn!(%peer, "TLS handshake timed out"),
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// One connection: request lines in, response lines out, until EOF, a timeout or a bad line.
async fn connection<S>(stream: S, endpoint: Endpoint, service: &Service, limits: Limits)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let peer = endpoint
        .address
        .map_or_else(|| "?".to_string(), |a| a.to_string());
    tracing::debug!(%peer, "connection opened");
    let (read, mut write) = tokio::io::split(stream);
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    let why = loop {
        line.clear();
        let read = timeout(
            limits.read_timeout,
            read_line_capped(&mut reader, &mut line, limits.max_line),
        )
        .await;
        let text = match read {
            Err(_) => break "read timeout",
            Ok(Err(_)) => break "read error",
            Ok(Ok(LineRead::Eof)) => break "closed by peer",
            Ok(Ok(LineRead::TooLong)) => {
                tracing::warn!(%peer, max = limits.max_line, "request line too long; closing the connection");
                break "line too long";
            }
            Ok(Ok(LineRead::Line)) => String::from_utf8_lossy(&line).into_owned(),
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let response = match Request::from_json(text) {
            Ok(request) => service.handle_at(request, endpoint.clone()).await,
            Err(why) => {
                tracing::info!(realm = %service.realm, %peer, verdict = "bad-request", %why, "authentication");
                Response::BadRequest
            }
        };
        let mut out = response.to_json();
        out.push('\n');
        let sent = timeout(limits.write_timeout, async {
            write.write_all(out.as_bytes()).await?;
            write.flush().await
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            break "write failed";
        }
    };
    tracing::debug!(%peer, why, "connection closed");
}

/// How a capped line read ended.
enum LineRead {
    /// A line is in the buffer (newline removed; the last line may lack one).
    Line,
    /// The peer closed the connection before sending anything more.
    Eof,
    /// More than the cap arrived without a newline.
    TooLong,
}

/// Reads one line into `buf` without ever buffering more than `max + 1` bytes of it.
async fn read_line_capped<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = reader.take(cap).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(LineRead::Eof);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(if buf.len() > max {
        LineRead::TooLong
    } else {
        LineRead::Line
    })
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// A client connection: several requests, one after the other, on one TCP connection.
pub struct Client {
    reader: BufReader<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
    writer: Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
    buf: Vec<u8>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Connects (waiting at most [`READ_TIMEOUT`]).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<Client> {
        let stream = timeout(READ_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        let (read, writer) = stream.into_split();
        Ok(Client {
            reader: BufReader::new(Box::new(read)),
            writer: Box::new(writer),
            buf: Vec::new(),
        })
    }

    /// Connects over TLS with `config` (e.g. [`realm_tls::client_config`]: it presents the
    /// client certificate), checking that the server's certificate is for `server_name`.
    pub async fn connect_tls(
        addr: impl ToSocketAddrs,
        config: Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> io::Result<Client> {
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let stream = timeout(READ_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        let tls = timeout(
            READ_TIMEOUT,
            tokio_rustls::TlsConnector::from(config).connect(name, stream),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        let (read, writer) = tokio::io::split(tls);
        Ok(Client {
            reader: BufReader::new(Box::new(read)),
            writer: Box::new(writer),
            buf: Vec::new(),
        })
    }

    /// Sends a request and reads the response.
    pub async fn send(&mut self, request: &Request) -> io::Result<Response> {
        let line = self.send_line(&request.to_json()).await?;
        Response::from_json(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Sends one raw line (a newline is added) and returns the raw response line, newline
    /// removed: what a transcript shows, and what byte-for-byte comparisons compare.
    pub async fn send_line(&mut self, line: &str) -> io::Result<String> {
        let mut out = String::with_capacity(line.len() + 1);
        out.push_str(line);
        out.push('\n');
        timeout(READ_TIMEOUT, async {
            self.writer.write_all(out.as_bytes()).await?;
            self.writer.flush().await
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "sending timed out"))??;
        self.buf.clear();
        let read = timeout(
            READ_TIMEOUT,
            read_line_capped(&mut self.reader, &mut self.buf, MAX_LINE),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response in time"))??;
        match read {
            LineRead::Line => String::from_utf8(std::mem::take(&mut self.buf))
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "response is not UTF-8")),
            LineRead::Eof => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            LineRead::TooLong => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response line too long",
            )),
        }
    }
}

/// Connects to `addr`, sends one request and returns the response.
pub async fn authenticate(addr: impl ToSocketAddrs, request: &Request) -> io::Result<Response> {
    Client::connect(addr).await?.send(request).await
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_mask() {
        let r = Request::password("alice", "wonderland");
        assert_eq!(
            r.to_json(),
            r#"{"username":"alice","password":"wonderland"}"#
        );
        assert_eq!(
            r.to_masked_json(),
            r#"{"username":"alice","password":"***"}"#
        );
        assert!(!format!("{r:?}").contains("wonderland"));
        let back = Request::from_json(&r.to_json()).unwrap();
        assert_eq!(back.name(), "alice");

        let empty = Request::password("alice", "");
        assert_eq!(
            empty.to_masked_json(),
            r#"{"username":"alice","password":""}"#
        );

        let t = Request::token(b"tok".to_vec());
        assert_eq!(t.to_json(), r#"{"token":"dG9r"}"#);
        assert_eq!(t.to_masked_json(), r#"{"token":"***"}"#);
        match Request::from_json(r#"{"token":"dG9r"}"#).unwrap() {
            Request::Token { token } => assert_eq!(token.expose(), b"tok"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_requests_are_refused_without_echoing_values() {
        for bad in [
            r#"{"username":"a"}"#,
            r#"{"username":"a","password":"p","token":"dG9r"}"#,
            r#"{"token":"%%%"}"#,
            r#"{"user":"a","password":"p"}"#,
            r#"{"username":"a","password":7}"#,
            r#"{"username":"a\nb","password":"p"}"#,
            r#"{"username":"a\u001b[31m","password":"p"}"#,
            "not json",
            "[]",
        ] {
            assert!(Request::from_json(bad).is_err(), "{bad}");
        }
        let e = Request::from_json(r#"{"username":"a","password":["hunter2"]}"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let e = Request::from_json(r#"{"username":1,"password":"hunter2"}"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn responses_round_trip() {
        let ok = Response::Accepted {
            identity: Some("alice".into()),
            roles: vec!["admin".into(), "monitor".into()],
            endpoint: Some("127.0.0.1".into()),
        };
        let line = ok.to_json();
        assert_eq!(
            line,
            r#"{"ok":true,"identity":"alice","roles":["admin","monitor"],"endpoint":"127.0.0.1"}"#
        );
        assert_eq!(Response::from_json(&line).unwrap(), ok);
        for r in [
            Response::Denied,
            Response::Unavailable,
            Response::BadRequest,
        ] {
            assert_eq!(Response::from_json(&r.to_json()).unwrap(), r);
        }
        assert_eq!(
            Response::Denied.to_json(),
            r#"{"ok":false,"error":"denied"}"#
        );
        assert!(Response::from_json(r#"{"ok":false,"error":"denied","identity":"x"}"#).is_err());
        assert!(Response::from_json(r#"{"ok":false,"error":"nope"}"#).is_err());
    }

    #[test]
    fn login_failures_never_leak_detail() {
        let unavailable: Result<realm_core::Subject, LoginFailure> = Err(
            LoginFailure::Unavailable("ldap1.example.com: connection refused".into()),
        );
        assert_eq!(
            Response::from_login(&unavailable).to_json(),
            r#"{"ok":false,"error":"unavailable"}"#
        );
        let config: Result<realm_core::Subject, LoginFailure> =
            Err(LoginFailure::Config("x".into()));
        assert_eq!(Response::from_login(&config), Response::Unavailable);
    }

    #[tokio::test]
    async fn capped_reader() {
        let data: &[u8] = b"short\r\n0123456789\nlast";
        let mut r = BufReader::new(data);
        let mut buf = Vec::new();
        assert!(matches!(
            read_line_capped(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"short");
        buf.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::TooLong
        ));
        let mut r = BufReader::new(&b"last"[..]);
        buf.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"last");
        buf.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Eof
        ));
        // Exactly at the cap is fine.
        let mut r = BufReader::new(&b"12345678\n"[..]);
        buf.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut buf, 8).await.unwrap(),
            LineRead::Line
        ));
    }
}
