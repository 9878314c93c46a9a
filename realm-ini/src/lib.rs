//! # realm-ini
//!
//! The file-based realm: users, passwords and roles in an Apache Shiro ini file, as Terracotta's
//! file-based security uses it (`my_auth.ini`, managed by its `usermanagement` tool), read at
//! start-up and **reloaded when it changes**.
//!
//! Its configuration is [`realm_core::config::IniConfig`]:
//!
//! ```yaml
//! security:
//!   realms:
//!     - name: file
//!       authentication:
//!         ini:
//!           path: users.ini              # relative to the configuration file
//!           allow-plaintext-passwords: false
//!   client-authentication: {realm: file}
//! ```
//!
//! (XML: `<ini path="users.ini"/>`.) In a `jaas` chain the same module is the class
//! `realm.ini.IniLoginModule` with the properties `path` (required; a relative path is relative to
//! the working directory) and `allow-plaintext-passwords` (default `false`). [`register`] adds both
//! to a [`realm_core::Registry`].
//!
//! ## The file
//!
//! ```ini
//! # Terracotta cluster users
//! [users]
//! server1 = $shiro1$SHA-256$500000$m/KBy6n89p3C0W2k95Zwug==$cYdIIF9J5CLA7AYT/9Spcifg0IljfqZK1pgjcHBo+28=, terracotta
//! admin1  = $argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$…, admin, \
//!           operator
//! client1 = $2b$12$…, terracotta
//!
//! [roles]
//! admin = *
//! operator = "cluster:read,stop", cache:*
//!
//! [main]
//! # read by Shiro, ignored here
//! ```
//!
//! * `[users]`: `name = password[, role, ...]`; `[roles]`: `role = permission[, ...]` (exposed
//!   through [`IniLoginModule::permissions`]; Realm itself does not evaluate permissions). Other
//!   sections are skipped.
//! * Shiro's syntax exactly: trimmed lines, `#` and `;` comments on their own line, `key: value`
//!   as well as `key = value`, a trailing `\` continues the line, `"…"` quotes a comma. The details,
//!   and where Realm is stricter than Shiro (it reports what Shiro would silently misread), are in
//!   [`parse`]. Every error of the file is reported, each as `path:line:col: message`.
//! * User and role names are case-sensitive.
//!
//! ## Stored passwords
//!
//! | format | written by |
//! |---|---|
//! | `$shiro1$SHA-256$500000$<salt>$<hash>` (also SHA-512, SHA-384, SHA-1, MD5) | Shiro's `DefaultPasswordService`, `shiro-tools-hasher` |
//! | `$argon2id$…` (argon2i, argon2d) | `realm hash-password`, the `argon2` tools |
//! | `$2a$…`, `$2b$…`, `$2y$…` | bcrypt (`htpasswd -B`, most frameworks) |
//! | `$pbkdf2-sha256$…`, `$pbkdf2-sha512$…` (PHC) | the `pbkdf2` PHC tools |
//! | plain text (anything not starting with `$`) | only with `allow-plaintext-passwords` |
//!
//! The Shiro rule, checked against hashes written by Shiro itself (`tests/shiro_compat.rs` runs
//! Shiro from Debian's `libshiro-java`): `h = D(salt ‖ UTF-8(password))`, then `iterations − 1`
//! times `h = D(h)`; salt and hash in standard base64. See [`password`].
//!
//! ## What is refused
//!
//! * At start-up (a build error of the realm, naming the file and the position): a missing or
//!   unreadable file, any syntax error, a value starting with `$` that is not a supported and
//!   well-formed hash (never taken for plain text), an empty password, a duplicate user, and any
//!   plain-text password unless `allow-plaintext-passwords` is set (then it is one warning naming
//!   the users). A file without users is a warning: every login is denied.
//! * At login: credentials other than a user name and password, an empty name or password (before
//!   any lookup), an unknown user, a wrong password. An unknown user is verified against a dummy of
//!   the file's most common hash kind and cost, so it takes as long as a wrong password; the
//!   caller learns neither. Comparisons are constant-time; hashing runs on tokio's blocking pool
//!   when a runtime is present, so it never stalls an async server.
//!
//! ## Hot reload
//!
//! Before a login, at most once per second ([`module::DEFAULT_CHECK_INTERVAL`]), the module looks
//! at the file's metadata (size, modification time and, on Unix, device, inode and change time).
//! When it changed, the file is read and checked **whole**, exactly as at start-up, and the new
//! users replace the old ones in one atomic swap: a login in progress finishes with the version
//! it started with, and no login ever sees part of a file.
//!
//! * A new version with errors is not used: the last good version stays in use, and the errors
//!   are logged once for that version (`tracing::error!`, each `path:line:col: message`).
//! * A file that disappears, cannot be read, or is empty (truncated by a writer that has not
//!   written the new version yet) leaves the last good version in use (logged once until it is
//!   back).
//! * A file that changes while it is read is read again at the next check. Writers should still
//!   replace the file atomically (write a temporary file, then rename it), as [`edit`] does.
//! * The trace of the login that performed a reload (or found a bad version) says so in its notes.
//! * The check and the reload run on tokio's blocking pool. The login that finds the change waits
//!   for the reload (about 0.2 s for 100,000 users: `cargo bench -p realm-ini --bench ini_login`);
//!   logins running meanwhile go on with the version in use. [`IniLoginModule::check_now`] checks
//!   at once, regardless of the interval.
//!
//! ## Modules
//!
//! * [`parse`]: the file format ([`parse::parse`] returns every error with its line and column);
//! * [`password`]: the stored-password formats and their verification;
//! * [`module`]: the login module, hot reload and [`register`];
//! * [`edit`]: editing the users of a file in place (what `realm users` does);
//! * [`policy`]: the password policy new passwords are checked against.
//!
//! Terracotta reads its ini file once at start-up ("changes made to the files after startup cannot
//! be read unless the cluster is restarted"); this realm picks changes up without a restart.

pub use realm_core::config::IniConfig;

pub mod edit;
pub mod module;
pub mod parse;
pub mod password;
pub mod policy;

pub use module::{IniLoginModule, Reload, register};
