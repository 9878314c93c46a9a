//! Connections: failover over the configured URLs, TLS, timeouts, the shared admin pool and the
//! separate pool of connections used for user binds.
//!
//! * **Admin pool.** `pool-size` long-lived connections, each bound once as the system account
//!   and then shared: ldap3 multiplexes operations, so a checkout is a clone of a handle, not an
//!   exclusive lease. A connection is used only while its driver task is alive (a server restart
//!   closes the socket, which ends the task: detected without a round trip) and younger than
//!   `pool-max-lifetime`; a transport error discards it, and the operation is retried once on a
//!   fresh connection.
//! * **Bind pool.** User binds change a connection's identity, so they never happen on an admin
//!   connection. They use connections of their own, leased exclusively and returned to the bind
//!   pool only, never to the admin pool.
//! * **Failover.** URLs are tried in order, starting with the last one that worked; only a
//!   failure to *connect* moves on to the next. An authentication failure never fails over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult};
use realm_core::Secret;
use rustls::ClientConfig;
use tokio::sync::Mutex;

/// Why an LDAP step did not produce an answer we can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The directory could not be asked (down, slow, refused the admin bind, protocol error).
    Unavailable(String),
    /// The directory answered, and the answer is "no" (wrong password, unknown user, …).
    Denied(String),
}

/// Result codes that mean "ask again later / elsewhere", never "wrong password".
pub(crate) fn rc_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "error",
    }
}

/// A one-line description of a server result (code, name, diagnostic text).
pub(crate) fn describe(r: &LdapResult) -> String {
    let mut s = format!("result {} ({})", r.rc, rc_name(r.rc));
    if !r.text.is_empty() {
        s.push_str(": ");
        s.push_str(r.text.trim());
    }
    s
}

/// Counts the LDAP requests of one login and its sequential round trips (requests sent
/// concurrently count as one round trip).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) requests: AtomicU32,
    pub(crate) round_trips: AtomicU32,
}

impl Stats {
    pub(crate) fn add(&self, requests: u32, round_trips: u32) {
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.round_trips.fetch_add(round_trips, Ordering::Relaxed);
    }
}

/// The time budget of one login: each operation gets `op_timeout`, but never past `deadline`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    pub(crate) deadline: Instant,
    pub(crate) op_timeout: Duration,
}

impl Budget {
    /// The timeout for the next operation, or a fault once the login's deadline has passed.
    pub(crate) fn next(&self) -> Result<Duration, Fault> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Fault::Unavailable(
                "login-timeout reached: the directory took too long in total".into(),
            ));
        }
        Ok(left.min(self.op_timeout))
    }

    /// Runs `fut` within the next operation's timeout; an expired timer is `Unavailable`.
    pub(crate) async fn run<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, LdapError>>,
    ) -> Result<T, Fault> {
        let limit = self.next()?;
        match tokio::time::timeout(limit, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Fault::Unavailable(format!(
                "{what} failed: {}",
                ldap_error(&e)
            ))),
            Err(_) => Err(Fault::Unavailable(format!(
                "{what}: no answer within {} ms",
                limit.as_millis()
            ))),
        }
    }
}

/// ldap3's error, in words, without anything secret (ldap3 never puts passwords in errors).
pub(crate) fn ldap_error(e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { result } => describe(result),
        other => other.to_string(),
    }
}

/// Opens connections to the configured servers.
pub(crate) struct Connector {
    urls: Vec<String>,
    tls: Option<Arc<ClientConfig>>,
    start_tls: bool,
    connect_timeout: Duration,
    preferred: AtomicUsize,
}

impl Connector {
    pub(crate) fn new(
        urls: Vec<String>,
        tls: Option<Arc<ClientConfig>>,
        start_tls: bool,
        connect_timeout: Duration,
    ) -> Self {
        Connector {
            urls,
            tls,
            start_tls,
            connect_timeout,
            preferred: AtomicUsize::new(0),
        }
    }

    /// Connects to the first URL that accepts, starting with the last one that worked. Every
    /// failure is a connection failure (refused, unreachable, timed out, TLS refused): those and
    /// only those fail over.
    pub(crate) async fn connect(&self, budget: &Budget) -> Result<Ldap, Fault> {
        self.connect_to(budget).await.map(|(ldap, _)| ldap)
    }

    /// [`connect`](Self::connect), also giving the host of the URL that answered (a GSSAPI bind
    /// asks a ticket for `ldap/<host>`).
    pub(crate) async fn connect_to(&self, budget: &Budget) -> Result<(Ldap, String), Fault> {
        let n = self.urls.len();
        let first = self.preferred.load(Ordering::Relaxed) % n.max(1);
        let mut errors = Vec::new();
        for k in 0..n {
            let i = (first + k) % n;
            let Some(url) = self.urls.get(i) else {
                continue;
            };
            let limit = budget.next()?.min(self.connect_timeout);
            let mut settings = LdapConnSettings::new().set_conn_timeout(limit);
            let tls_url = url.to_ascii_lowercase().starts_with("ldaps://");
            if let Some(cfg) = &self.tls {
                settings = settings.set_config(cfg.clone());
            }
            if self.start_tls && !tls_url {
                settings = settings.set_starttls(true);
            }
            match tokio::time::timeout(limit, LdapConnAsync::with_settings(settings, url)).await {
                Ok(Ok((conn, ldap))) => {
                    tokio::spawn(async move {
                        // The driver ends when the server closes the connection or every handle
                        // is dropped; either way there is nothing to report.
                        let _ = conn.drive().await;
                    });
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok((ldap, url_host(url)));
                }
                Ok(Err(e)) => errors.push(format!("{url}: {}", ldap_error(&e))),
                Err(_) => errors.push(format!(
                    "{url}: no connection within {} ms",
                    limit.as_millis()
                )),
            }
            tracing::debug!(url = %url, "LDAP connection failed; trying the next URL if any");
        }
        Err(Fault::Unavailable(format!(
            "cannot connect to the directory: {}",
            errors.join("; ")
        )))
    }
}

/// The host of an LDAP URL: `ldap://[::1]:389/dc=x` → `::1`, `ldaps://h.example.com` →
/// `h.example.com`.
pub(crate) fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("").to_string();
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_string()
}

/// How the admin pool authenticates its connections.
pub(crate) enum AdminAuth {
    /// A simple bind as the system account.
    Simple {
        /// `system-user-dn`.
        dn: String,
        /// `system-user-password`.
        password: Secret,
    },
    /// SASL GSSAPI with a realm's Kerberos credentials.
    #[cfg(feature = "gssapi")]
    Gssapi(Arc<crate::gssapi::GssapiAuth>),
}

/// One pooled connection.
struct Pooled {
    ldap: Ldap,
    born: Instant,
    generation: u64,
}

impl Pooled {
    fn live(&mut self, max_lifetime: Duration) -> bool {
        !self.ldap.is_closed() && self.born.elapsed() < max_lifetime
    }
}

/// A handle on an admin connection for one or more operations. While it exists, its connection
/// counts as busy, so concurrent logins spread over the pool.
pub(crate) struct AdminConn {
    pub(crate) ldap: Ldap,
    slot: usize,
    generation: u64,
    pub(crate) reused: bool,
    _busy: Busy,
}

/// Counts a connection's users; decremented on drop.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(c: &Arc<AtomicUsize>) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        Busy(c.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Slot {
    conn: Mutex<Option<Pooled>>,
    busy: Arc<AtomicUsize>,
}

/// The shared pool of admin connections, bound as the system account. Connections are opened
/// lazily: a new one only when every live one is busy and the pool is not full, so a quiet
/// realm keeps one connection and a busy one spreads over `pool-size`.
pub(crate) struct AdminPool {
    connector: Arc<Connector>,
    auth: AdminAuth,
    slots: Vec<Slot>,
    next: AtomicUsize,
    max_lifetime: Duration,
    generations: std::sync::atomic::AtomicU64,
    /// Connections opened so far (for tests and the benchmark).
    pub(crate) opened: AtomicU32,
}

impl AdminPool {
    pub(crate) fn new(
        connector: Arc<Connector>,
        auth: AdminAuth,
        size: usize,
        max_lifetime: Duration,
    ) -> Self {
        AdminPool {
            connector,
            auth,
            slots: (0..size.max(1))
                .map(|_| Slot {
                    conn: Mutex::new(None),
                    busy: Arc::new(AtomicUsize::new(0)),
                })
                .collect(),
            next: AtomicUsize::new(0),
            max_lifetime,
            generations: std::sync::atomic::AtomicU64::new(0),
            opened: AtomicU32::new(0),
        }
    }

    /// Picks a slot: the least busy live connection, unless it is busy and an empty (or dead)
    /// slot could take a new connection.
    fn pick(&self) -> usize {
        let mut best: Option<(usize, usize)> = None;
        let mut empty: Option<usize> = None;
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            let i = (start + k) % n;
            let Some(slot) = self.slots.get(i) else {
                continue;
            };
            let Ok(mut g) = slot.conn.try_lock() else {
                continue; // being (re)connected by someone else
            };
            if g.as_mut().is_some_and(|p| p.live(self.max_lifetime)) {
                let load = slot.busy.load(Ordering::Relaxed);
                if best.is_none_or(|(_, b)| load < b) {
                    best = Some((i, load));
                }
            } else {
                empty.get_or_insert(i);
            }
        }
        match (best, empty) {
            (Some((i, 0)), _) | (Some((i, _)), None) => i,
            (_, Some(e)) => e,
            (None, None) => start % n,
        }
    }

    /// A connection bound as the system account: a live pooled one, or a new one.
    pub(crate) async fn get(&self, budget: &Budget, stats: &Stats) -> Result<AdminConn, Fault> {
        let i = self.pick();
        let Some(slot) = self.slots.get(i) else {
            return Err(Fault::Unavailable("admin pool is empty".into()));
        };
        let limit = budget.next()?;
        let mut guard = tokio::time::timeout(limit, slot.conn.lock())
            .await
            .map_err(|_| {
                Fault::Unavailable("no admin connection became available in time".into())
            })?;
        if let Some(p) = guard.as_mut() {
            if p.live(self.max_lifetime) {
                return Ok(AdminConn {
                    ldap: p.ldap.clone(),
                    slot: i,
                    generation: p.generation,
                    reused: true,
                    _busy: Busy::new(&slot.busy),
                });
            }
            tracing::debug!("replacing a closed or expired LDAP admin connection");
        }
        *guard = None;
        let (mut ldap, host) = self.connector.connect_to(budget).await?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        stats.add(1, 1);
        let (res, who, check) = match &self.auth {
            AdminAuth::Simple { dn, password } => {
                let Some(pw) = password.expose_str() else {
                    return Err(Fault::Unavailable(
                        "system-user-password is not valid UTF-8".into(),
                    ));
                };
                let res = budget.run("admin bind", ldap.simple_bind(dn, pw)).await?;
                (
                    res,
                    format!("{dn:?}"),
                    "check system-user-dn and system-user-password",
                )
            }
            #[cfg(feature = "gssapi")]
            AdminAuth::Gssapi(g) => {
                let res = g.bind(&mut ldap, &host, budget).await?;
                (
                    res,
                    format!("{} (SASL GSSAPI, ldap/{host})", g.who()),
                    "check that the directory accepts this principal (its sasl-host, keytab and \
                     authz-regexp)",
                )
            }
        };
        let _ = &host;
        if res.rc != 0 {
            let msg = format!(
                "the admin bind as {who} was refused ({}): {check}",
                describe(&res)
            );
            tracing::error!("{msg}");
            return Err(Fault::Unavailable(msg));
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        *guard = Some(Pooled {
            ldap: ldap.clone(),
            born: Instant::now(),
            generation,
        });
        Ok(AdminConn {
            ldap,
            slot: i,
            generation,
            reused: false,
            _busy: Busy::new(&slot.busy),
        })
    }

    /// Discards a connection that failed (if the slot still holds it).
    pub(crate) async fn discard(&self, conn: &AdminConn) {
        if let Some(slot) = self.slots.get(conn.slot) {
            let mut g = slot.conn.lock().await;
            if g.as_ref().is_some_and(|p| p.generation == conn.generation) {
                *g = None;
            }
        }
    }
}

/// Connections for user binds: leased exclusively, returned here only.
pub(crate) struct BindPool {
    connector: Arc<Connector>,
    idle: std::sync::Mutex<Vec<Pooled>>,
    max_idle: usize,
    max_lifetime: Duration,
    /// Connections opened so far.
    pub(crate) opened: AtomicU32,
}

/// A leased bind connection; give it back with [`BindPool::put_back`] when its state is known.
pub(crate) struct BindConn {
    pub(crate) ldap: Ldap,
    born: Instant,
    pub(crate) reused: bool,
}

impl BindPool {
    pub(crate) fn new(connector: Arc<Connector>, max_idle: usize, max_lifetime: Duration) -> Self {
        BindPool {
            connector,
            idle: std::sync::Mutex::new(Vec::new()),
            max_idle,
            max_lifetime,
            opened: AtomicU32::new(0),
        }
    }

    pub(crate) async fn take(&self, budget: &Budget) -> Result<BindConn, Fault> {
        loop {
            let candidate = self.idle.lock().ok().and_then(|mut v| v.pop());
            match candidate {
                Some(mut p) => {
                    if p.live(self.max_lifetime) {
                        return Ok(BindConn {
                            ldap: p.ldap,
                            born: p.born,
                            reused: true,
                        });
                    }
                }
                None => break,
            }
        }
        let ldap = self.connector.connect(budget).await?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(BindConn {
            ldap,
            born: Instant::now(),
            reused: false,
        })
    }

    /// Returns a connection whose last operation completed (a bind that succeeded or was
    /// refused): its next user replaces the identity with a bind of its own.
    pub(crate) fn put_back(&self, conn: BindConn) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < self.max_idle
        {
            v.push(Pooled {
                ldap: conn.ldap,
                born: conn.born,
                generation: 0,
            });
        }
    }
}
