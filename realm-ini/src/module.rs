//! [`IniLoginModule`]: the login module of an `ini` realm, with hot reload of its file.
//!
//! Built once from [`IniConfig`] (or from the `path` / `allow-plaintext-passwords` properties of a
//! `realm.ini.IniLoginModule` in a `jaas` chain), it reads and checks the whole file at build time,
//! then serves logins from an in-memory snapshot that it replaces, atomically, when the file
//! changes. See the [crate documentation](crate) for the rules.

use crate::parse::{self, IniFile};
use crate::password::{Cost, StoredPassword};
use realm_core::config::{AuthenticationConfig, IniConfig, SkipFlags, Usage};
use realm_core::module::{
    LoginError, LoginModule, ModuleContext, Verdict, off_executor, password_verdict,
};
use realm_core::registry::{ChainLink, Registry};
use realm_core::{Credentials, Secret};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};
use std::time::{Duration, Instant, SystemTime};

/// The class name of the ini module for `jaas` chains.
pub const CLASS_NAME: &str = "realm.ini.IniLoginModule";

/// How often, at most, a login checks whether the file changed.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// At most this many errors (or user names) are spelled out in one message.
const MAX_LISTED: usize = 20;

/// One user of the snapshot.
struct User {
    password: StoredPassword,
    roles: Vec<String>,
}

/// One good version of the file: what logins are served from.
struct Users {
    /// In file order (allocated, and freed, in sequence: dropping a version of 100,000 users in
    /// hash order would cost a cache miss per allocation).
    entries: Vec<User>,
    /// Name → position in `entries`.
    by_name: HashMap<String, usize>,
    permissions: HashMap<String, Vec<String>>,
    /// Verified instead when the user is unknown: the most common stored kind and cost.
    dummy: StoredPassword,
    /// Plain-text users (only non-empty when the realm allows plain text).
    plain: Vec<String>,
}

/// What identifies a version of the file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    unix: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let unix = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
        };
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            unix,
        }
    }
}

/// The reload bookkeeping.
struct Watch {
    /// No check before this instant.
    next_check: Instant,
    /// The version last read (good or bad); `None` after the file went missing.
    seen: Option<Stamp>,
    /// Whether the file's absence was already logged.
    missing_logged: bool,
}

struct Shared {
    path: PathBuf,
    allow_plaintext: bool,
    interval: Duration,
    users: RwLock<Arc<Users>>,
    watch: Mutex<Watch>,
}

/// What a check of the file found (see [`IniLoginModule::check_now`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reload {
    /// The file has not changed since it was last read.
    Unchanged,
    /// The file changed and the new version is now in use.
    Reloaded {
        /// Users in the new version.
        users: usize,
        /// Users in the version it replaced.
        previous: usize,
    },
    /// The file changed but the new version has errors (`path:line:col: message` each); the last
    /// good version stays in use. Logged once per bad version.
    Rejected(Vec<String>),
    /// The file cannot be read (deleted, renamed, no permission) or is empty (a writer truncated
    /// it and has not written the new version yet); the last good version stays in use. Logged
    /// once until the file is back.
    Unreadable(String),
    /// The file changed while it was being read; it is read again at the next check.
    Changing,
}

/// The login module of an `ini` realm.
pub struct IniLoginModule {
    shared: Arc<Shared>,
    skip: SkipFlags,
}

impl std::fmt::Debug for IniLoginModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IniLoginModule")
            .field("path", &self.shared.path)
            .field("users", &self.user_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IniLoginModule {
    /// Builds the module: reads and checks the whole file now. A missing or unreadable file, a
    /// syntax error, a bad hash, or a plain-text password without `allow-plaintext-passwords` is
    /// an error naming the file and position; plain-text passwords with it, and a file without
    /// users, are reported in `warnings`.
    pub fn new(config: &IniConfig, warnings: &mut Vec<String>) -> Result<Self, String> {
        Self::with_check_interval(config, DEFAULT_CHECK_INTERVAL, warnings)
    }

    /// [`IniLoginModule::new`] with another interval between checks of the file (tests use a
    /// short one; `Duration::MAX` turns hot reload off).
    pub fn with_check_interval(
        config: &IniConfig,
        check_interval: Duration,
        warnings: &mut Vec<String>,
    ) -> Result<Self, String> {
        let path = config.path.clone();
        let shown = path.display().to_string();
        let (text, stamp) = read(&path)?;
        let users = load(&shown, &text, config.allow_plaintext_passwords)
            .map_err(|errors| summarize(&errors))?;
        if !users.plain.is_empty() {
            warnings.push(plain_warning(&shown, &users.plain));
        }
        if users.by_name.is_empty() {
            warnings.push(format!(
                "{shown}: no users in a `[users]` section: every login is denied"
            ));
        }
        let now = Instant::now();
        Ok(IniLoginModule {
            shared: Arc::new(Shared {
                path,
                allow_plaintext: config.allow_plaintext_passwords,
                interval: check_interval,
                users: RwLock::new(Arc::new(users)),
                watch: Mutex::new(Watch {
                    next_check: now.checked_add(check_interval).unwrap_or(now),
                    seen: Some(stamp),
                    missing_logged: false,
                }),
            }),
            skip: config.skip,
        })
    }

    /// The file this module reads.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The number of users in the version in use.
    pub fn user_count(&self) -> usize {
        self.shared.snapshot().by_name.len()
    }

    /// The roles of a user (from `[users]`), or `None` for an unknown user.
    pub fn roles(&self, user: &str) -> Option<Vec<String>> {
        self.shared.snapshot().user(user).map(|u| u.roles.clone())
    }

    /// The permissions `[roles]` gives a role (empty for a role it does not list). Realm does not
    /// evaluate them; a server can map them to its own authorization.
    pub fn permissions(&self, role: &str) -> Vec<String> {
        self.shared
            .snapshot()
            .permissions
            .get(role)
            .cloned()
            .unwrap_or_default()
    }

    /// Checks the file now, regardless of the interval, and reloads it if it changed. This does
    /// file I/O (and parses the file): call it from a blocking context.
    pub fn check_now(&self) -> Reload {
        self.shared.check()
    }

    /// If the interval has passed, checks the file (off the executor) and says what happened.
    async fn refresh_if_due(&self) -> Option<String> {
        {
            let mut watch = match self.shared.watch.try_lock() {
                Ok(w) => w,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                // Another login is checking right now: use the current version.
                Err(TryLockError::WouldBlock) => return None,
            };
            let now = Instant::now();
            if now < watch.next_check {
                return None;
            }
            watch.next_check = now.checked_add(self.shared.interval).unwrap_or(now);
        }
        let shared = self.shared.clone();
        let outcome = off_executor(move || shared.check()).await?;
        let path = self.shared.path.display();
        match outcome {
            Reload::Unchanged => None,
            Reload::Reloaded { users, previous } => Some(format!(
                "{path} changed: reloaded, {users} users (was {previous})"
            )),
            Reload::Rejected(errors) => Some(format!(
                "{path} changed but has errors; still using the last good version: {}",
                summarize(&errors)
            )),
            Reload::Unreadable(why) => Some(format!("{why}; still using the last good version")),
            Reload::Changing => Some(format!(
                "{path} is being written; still using the last good version"
            )),
        }
    }
}

impl Users {
    fn user(&self, name: &str) -> Option<&User> {
        self.by_name.get(name).and_then(|&i| self.entries.get(i))
    }

    /// The stored password at `index`, or the dummy for an unknown user.
    fn password(&self, index: Option<usize>) -> &StoredPassword {
        index
            .and_then(|i| self.entries.get(i))
            .map_or(&self.dummy, |u| &u.password)
    }
}

impl Shared {
    fn snapshot(&self) -> Arc<Users> {
        self.users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn check(&self) -> Reload {
        let mut watch = lock(&self.watch);
        let shown = self.path.display().to_string();
        let stamp = match std::fs::metadata(&self.path) {
            Ok(meta) => Stamp::of(&meta),
            Err(e) => return self.unreadable(&mut watch, format!("cannot read {shown}: {e}")),
        };
        if watch.seen == Some(stamp) {
            return Reload::Unchanged;
        }
        if stamp.len == 0 {
            // Most likely truncated by a writer that is about to write the new version: judge it
            // when it has content.
            return self.unreadable(&mut watch, format!("{shown} is empty"));
        }
        let (text, after) = match read(&self.path) {
            Ok(read) => read,
            Err(e) => return self.unreadable(&mut watch, e),
        };
        watch.missing_logged = false;
        if after != stamp {
            // Written while we read it: not a version to judge. The next check reads it again.
            return Reload::Changing;
        }
        watch.seen = Some(stamp);
        let previous = self.snapshot().by_name.len();
        match load(&shown, &text, self.allow_plaintext) {
            Ok(users) => {
                if !users.plain.is_empty() {
                    tracing::warn!("{}", plain_warning(&shown, &users.plain));
                }
                let count = users.by_name.len();
                let new = Arc::new(users);
                let old = std::mem::replace(
                    &mut *self
                        .users
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                    new,
                );
                // Freed after the lock is released (or by the last login still using it).
                drop(old);
                tracing::info!(path = %shown, users = count, previous, "ini file reloaded");
                Reload::Reloaded {
                    users: count,
                    previous,
                }
            }
            Err(errors) => {
                tracing::error!(
                    "ini file {shown} changed but was not reloaded (the {previous} users of the last good version stay in use): {}",
                    summarize(&errors)
                );
                Reload::Rejected(errors)
            }
        }
    }

    fn unreadable(&self, watch: &mut Watch, why: String) -> Reload {
        watch.seen = None;
        if !watch.missing_logged {
            watch.missing_logged = true;
            let previous = self.snapshot().by_name.len();
            tracing::error!(
                "{why}; the {previous} users of the last good version stay in use until it is back"
            );
        }
        Reload::Unreadable(why)
    }
}

/// Reads the file as UTF-8 text, with the stamp of what was read.
fn read(path: &Path) -> Result<(String, Stamp), String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let stamp = std::fs::metadata(path)
        .map(|m| Stamp::of(&m))
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e
            .as_bytes()
            .get(..e.utf8_error().valid_up_to())
            .unwrap_or(&[]);
        let good = String::from_utf8_lossy(good);
        let line = good.matches('\n').count() + 1;
        let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{shown}:{line}:{col}: not UTF-8 text")
    })?;
    Ok((text, stamp))
}

/// Parses and checks one version of the file; errors are `path:line:col: message`.
fn load(shown: &str, text: &str, allow_plaintext: bool) -> Result<Users, Vec<String>> {
    let file: IniFile = parse::parse(text).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{shown}:{e}"))
            .collect::<Vec<_>>()
    })?;
    let mut errors = Vec::new();
    let mut lines: Option<Vec<&str>> = None;
    let mut by_name = HashMap::with_capacity(file.users.len());
    let mut entries = Vec::with_capacity(file.users.len());
    let mut plain = Vec::new();
    // cost → (count, position in `entries` of the first password of that cost)
    let mut costs: HashMap<Cost, (usize, usize)> = HashMap::new();
    for user in file.users {
        let stored = match StoredPassword::parse(&user.password) {
            Ok(s) => s,
            Err(e) => {
                let lines = lines.get_or_insert_with(|| text.lines().collect());
                let col = lines
                    .get(user.line.saturating_sub(1))
                    .and_then(|l| parse::value_column(l))
                    .unwrap_or(1);
                errors.push(format!(
                    "{shown}:{}:{col}: user `{}`: {e}",
                    user.line, user.name
                ));
                continue;
            }
        };
        if stored.is_plain() {
            plain.push((user.name.clone(), user.line));
        }
        costs
            .entry(stored.cost())
            .and_modify(|(n, _)| *n += 1)
            .or_insert((1, entries.len()));
        by_name.insert(user.name, entries.len());
        entries.push(User {
            password: stored,
            roles: user.roles,
        });
    }
    if !plain.is_empty() && !allow_plaintext {
        let (first_line, listed) = (
            plain.first().map_or(1, |p| p.1),
            list(plain.iter().map(|(n, l)| format!("`{n}` (line {l})"))),
        );
        errors.push(format!(
            "{shown}:{first_line}:1: plain-text password{} for {listed}: store hashes ($shiro1$, argon2id, bcrypt or pbkdf2; `realm hash-password` writes argon2id) or set allow-plaintext-passwords",
            if plain.len() == 1 { "" } else { "s" }
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let dummy = costs
        .into_values()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .and_then(|(_, first)| entries.get(first))
        .map_or_else(StoredPassword::never_matches, |u| u.password.dummy_like());
    let permissions = file
        .roles
        .into_iter()
        .map(|r| (r.name, r.permissions))
        .collect();
    Ok(Users {
        entries,
        by_name,
        permissions,
        dummy,
        plain: plain.into_iter().map(|(n, _)| n).collect(),
    })
}

/// `a, b, c` (at most [`MAX_LISTED`], then how many more).
fn list(items: impl ExactSizeIterator<Item = String>) -> String {
    let total = items.len();
    let mut shown: Vec<String> = items.take(MAX_LISTED).collect();
    if total > MAX_LISTED {
        shown.push(format!("and {} more", total - MAX_LISTED));
    }
    shown.join(", ")
}

/// Errors as one message, `; `-separated (at most [`MAX_LISTED`], then how many more).
fn summarize(errors: &[String]) -> String {
    let mut shown: Vec<String> = errors.iter().take(MAX_LISTED).cloned().collect();
    if errors.len() > MAX_LISTED {
        shown.push(format!("and {} more errors", errors.len() - MAX_LISTED));
    }
    shown.join("; ")
}

fn plain_warning(shown: &str, users: &[String]) -> String {
    format!(
        "{shown}: plain-text password{} for {}: store hashes instead ($shiro1$, argon2id, bcrypt or pbkdf2)",
        if users.len() == 1 { "" } else { "s" },
        list(users.iter().map(|u| format!("`{u}`")))
    )
}

#[async_trait::async_trait]
impl LoginModule for IniLoginModule {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Credentials::Password { name, password } = cx.credentials() else {
            return Err(LoginError::Denied(
                "the ini realm needs username/password credentials".into(),
            ));
        };
        if name.is_empty() || password.is_empty() {
            return Err(LoginError::Denied("empty user name or password".into()));
        }
        let (name, password): (String, Secret) = (name.clone(), password.clone());
        if let Some(note) = self.refresh_if_due().await {
            cx.note(note);
        }
        // The version this login uses, whatever reloads happen meanwhile.
        let users = self.shared.snapshot();
        let found = users.by_name.get(&name).copied();
        let check = {
            let users = users.clone();
            move || users.password(found).verify(&password)
        };
        let verified = if users.password(found).is_slow() {
            off_executor(check).await.unwrap_or(false)
        } else {
            check()
        };
        let roles = found
            .and_then(|i| users.entries.get(i))
            .map(|u| u.roles.as_slice());
        password_verdict(cx, name, roles, verified, self.skip)
    }
}

/// Registers the `ini` authentication type and the `realm.ini.IniLoginModule` class (properties
/// `path`, required, relative to the working directory; `allow-plaintext-passwords`, default
/// `false`).
pub fn register(registry: &mut Registry) {
    registry.register_login_module(CLASS_NAME, |spec| {
        let props = spec.props();
        props.deny_unknown(&["path", "allow-plaintext-passwords"])?;
        let config = IniConfig {
            skip: SkipFlags::default(),
            path: PathBuf::from(props.required("path")?),
            allow_plaintext_passwords: props.bool("allow-plaintext-passwords", false)?,
        };
        let mut warnings = Vec::new();
        let module = IniLoginModule::new(&config, &mut warnings)?;
        for w in warnings {
            spec.warn(w);
        }
        Ok(Arc::new(module))
    });
    registry.register_authentication_type("ini", |spec| match spec.authentication {
        AuthenticationConfig::Ini(c) => {
            let module = IniLoginModule::new(c, spec.warnings)?;
            Ok(vec![ChainLink {
                name: "ini".into(),
                usage: Usage::Required,
                module: Arc::new(module),
            }])
        }
        _ => Err("not an ini configuration".into()),
    });
}
