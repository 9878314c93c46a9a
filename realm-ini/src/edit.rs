//! Editing the users of an ini file in place: what `realm users` does (Terracotta's
//! `usermanagement` tool).
//!
//! # What an edit keeps
//! Every line the edit is not about stays byte-for-byte: comments, blank lines, other sections
//! (`[roles]`, `[main]`, …), other users, their order and their line endings. An edit touches
//! exactly one entry:
//!
//! * **add** appends `name = password, role, …` after the last entry of the `[users]` section
//!   (after its header, or its comments, when it has no entry yet). A file without `[users]` gets
//!   the section appended at its end.
//! * **change the password / roles** rewrites the user's line (its continuation lines, if it has
//!   any, become that one line, and comment lines between them go with it), keeping its
//!   indentation and line ending.
//! * **remove** deletes the user's line (and its continuation lines); comments above it stay.
//!
//! A written password is put in double quotes when the parser would otherwise split or trim it:
//! an argon2 PHC string always needs them, for the commas of its parameters
//! (`alice = "$argon2id$v=19$m=19456,t=2,p=1$…", admin`).
//!
//! User names are case-sensitive, as in Shiro. Roles are kept in the order given, without
//! duplicates.
//!
//! # Safety of an edit
//! * The file is read with [`crate::parse::parse`]; a file that does not parse is not edited (the
//!   error names each line). After an edit, the new text is parsed again and must read back as
//!   exactly the intended users (same names, roles and passwords as before, except the one change):
//!   an edit that the parser would read differently is refused instead of written.
//! * Writes are atomic: a temporary file in the same directory, `fsync`, `rename` over the
//!   original (which keeps the original's permission bits; a new file is created `0600`), then an
//!   `fsync` of the directory. A reader (a realm reloading the file) sees the old or the new file,
//!   never half of one; readers need no lock. A symbolic link is followed: the file it points to
//!   is replaced, the link stays.
//! * Concurrent writers are serialised by an exclusive lock ([`std::fs::File::lock`]) on a lock
//!   file beside the ini file (`users.ini.lock`), held around the whole read-modify-write. The
//!   lock file is created `0600` and left in place (removing it would let two writers lock two
//!   different files).

use crate::parse::{IniFile, ParseError, parse};
use realm_core::Secret;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A well-formed argon2id PHC string that no password hashes to, for dry runs.
const PLACEHOLDER_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cGxhY2Vob2xkZXItc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Why an edit was refused or failed. See [`EditError`] for the file it is about.
#[derive(Debug)]
#[non_exhaustive]
pub enum EditErrorKind {
    /// Reading, writing, locking or syncing failed.
    Io {
        /// What was being done (`read`, `lock`, …).
        action: &'static str,
        /// The system's error.
        source: io::Error,
    },
    /// The file does not exist (and creating it was not asked for).
    NotFound,
    /// The file is not valid ini (each error with its line).
    Parse(Vec<ParseError>),
    /// Adding a user that exists.
    UserExists {
        /// The user.
        user: String,
        /// Where the user is defined (1-based).
        line: usize,
    },
    /// Changing or removing a user that does not exist.
    NoSuchUser {
        /// The user.
        user: String,
    },
    /// The file defines the user more than once, so an edit would be ambiguous.
    DuplicateUser {
        /// The user.
        user: String,
        /// The lines defining it (1-based).
        lines: Vec<usize>,
    },
    /// A user or role name that cannot be written into an ini file.
    InvalidName {
        /// `user name` or `role name`.
        what: &'static str,
        /// The name (shown escaped).
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A stored password (hash) that cannot be written into an ini file.
    InvalidPassword {
        /// Why.
        reason: &'static str,
    },
    /// The edited text would not read back as intended (a safety net: nothing was written).
    WouldBreak {
        /// What would differ.
        detail: String,
    },
}

/// An edit error: the file it is about and what went wrong. `Display` starts with the file name
/// (and, where there is one, the line: `users.ini:3: …`); parse problems are one per line.
#[derive(Debug)]
pub struct EditError {
    /// The ini file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: EditErrorKind,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            EditErrorKind::Io { action, source } => write!(f, "{path}: cannot {action}: {source}"),
            EditErrorKind::NotFound => write!(f, "{path}: no such file"),
            EditErrorKind::Parse(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{path}:{e}")?;
                }
                if errors.is_empty() {
                    write!(f, "{path}: not a valid ini file")?;
                }
                Ok(())
            }
            EditErrorKind::UserExists { user, line } => write!(
                f,
                "{path}:{line}: user {user:?} already exists (use `passwd` to change its password, `roles` to change its roles)"
            ),
            EditErrorKind::NoSuchUser { user } => write!(f, "{path}: no user {user:?}"),
            EditErrorKind::DuplicateUser { user, lines } => {
                let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "{path}: user {user:?} is defined more than once (lines {}): fix the file first",
                    lines.join(", ")
                )
            }
            EditErrorKind::InvalidName { what, name, reason } => {
                write!(f, "{path}: invalid {what} {name:?}: {reason}")
            }
            EditErrorKind::InvalidPassword { reason } => {
                write!(f, "{path}: cannot store the password: {reason}")
            }
            EditErrorKind::WouldBreak { detail } => write!(
                f,
                "{path}: refusing to write an edit that would not read back as intended ({detail}); the file is unchanged"
            ),
        }
    }
}

impl std::error::Error for EditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            EditErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A user as listed: name, roles and where it is defined. Never the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The user name.
    pub name: String,
    /// The roles, as written.
    pub roles: Vec<String>,
    /// Where the user is defined (1-based).
    pub line: usize,
}

/// A change of a user's roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleChange {
    /// Replace all roles with these (an empty list removes every role).
    Set(Vec<String>),
    /// Add these roles (those the user has already are ignored).
    Add(Vec<String>),
    /// Remove these roles (those the user does not have are ignored).
    Remove(Vec<String>),
}

/// The password of an expected user after an edit: as before (index into the old users) or new.
enum ExpectedPassword<'a> {
    Old(usize),
    New(&'a Secret),
}

/// A user an edit should leave in the file.
struct Expected<'a> {
    name: String,
    roles: Vec<String>,
    password: ExpectedPassword<'a>,
}

/// An ini file's text, edited line by line. Every method that changes it checks that the new text
/// parses to the intended users before it takes effect, so a `Document` is always valid.
pub struct Document {
    /// The lines, each with its own line ending (the last one may have none).
    lines: Vec<String>,
    /// The line ending for new lines: the file's first one, else `\n`.
    eol: &'static str,
    /// The parsed file.
    ini: IniFile,
    /// Whether an edit changed the text.
    changed: bool,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text holds passwords (hashes, or plain text where a realm allows it): never shown.
        f.debug_struct("Document")
            .field("lines", &self.lines.len())
            .field("users", &self.ini.users.len())
            .field("changed", &self.changed)
            .finish()
    }
}

impl Document {
    /// Reads ini text.
    pub fn parse(text: &str) -> Result<Document, Vec<ParseError>> {
        let ini = parse(text)?;
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        let eol = match lines.first() {
            Some(l) if l.ends_with("\r\n") => "\r\n",
            _ => "\n",
        };
        Ok(Document {
            lines,
            eol,
            ini,
            changed: false,
        })
    }

    /// The text, as it would be written.
    pub fn text(&self) -> String {
        self.lines.concat()
    }

    /// Whether an edit changed the text since it was read.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// The users in file order: names and roles, never passwords.
    pub fn users(&self) -> Vec<UserSummary> {
        self.ini
            .users
            .iter()
            .map(|u| UserSummary {
                name: u.name.clone(),
                roles: u.roles.clone(),
                line: u.line,
            })
            .collect()
    }

    /// Where `user` is defined (1-based line), if it is; an error if it is defined more than once.
    pub fn find(&self, user: &str) -> Result<Option<usize>, EditErrorKind> {
        Ok(self
            .index_of(user)?
            .and_then(|i| self.ini.users.get(i))
            .map(|u| u.line))
    }

    /// Adds `user` with a stored password (a PHC hash) and roles, after the last entry of the
    /// `[users]` section (created at the end of the file if missing).
    pub fn add_user(
        &mut self,
        user: &str,
        stored_password: &Secret,
        roles: &[String],
    ) -> Result<(), EditErrorKind> {
        check_name("user name", user)?;
        let roles = clean_roles(roles)?;
        if let Some(line) = self.find(user)? {
            return Err(EditErrorKind::UserExists {
                user: user.to_owned(),
                line,
            });
        }
        let entry = entry_line(user, stored_password, &roles)?;
        let mut lines = self.lines.clone();
        match self.insertion_point() {
            Some(at) => {
                if let Some(before) = at.checked_sub(1).and_then(|i| lines.get_mut(i))
                    && !before.ends_with('\n')
                {
                    before.push_str(self.eol);
                }
                lines.insert(at, format!("{entry}{}", self.eol));
            }
            None => {
                if let Some(last) = lines.last_mut() {
                    if !last.ends_with('\n') {
                        last.push_str(self.eol);
                    }
                    if !last.trim().is_empty() {
                        lines.push(self.eol.to_owned());
                    }
                }
                lines.push(format!("[users]{}", self.eol));
                lines.push(format!("{entry}{}", self.eol));
            }
        }
        let mut expected = self.expected_unchanged();
        expected.push(Expected {
            name: user.to_owned(),
            roles,
            password: ExpectedPassword::New(stored_password),
        });
        self.commit(lines, expected)
    }

    /// Replaces `user`'s stored password (a PHC hash), keeping its roles.
    pub fn set_password(
        &mut self,
        user: &str,
        stored_password: &Secret,
    ) -> Result<(), EditErrorKind> {
        let index = self.existing(user)?;
        let roles = self
            .ini
            .users
            .get(index)
            .map(|u| u.roles.clone())
            .unwrap_or_default();
        let entry = entry_line(user, stored_password, &roles)?;
        let lines = self.replace_entry(index, Some(&entry))?;
        let mut expected = self.expected_unchanged();
        if let Some(e) = expected.get_mut(index) {
            e.password = ExpectedPassword::New(stored_password);
        }
        self.commit(lines, expected)
    }

    /// Changes `user`'s roles; returns the roles it has afterwards. Nothing changes (and
    /// [`Document::is_changed`] stays as it was) when the roles come out the same.
    pub fn change_roles(
        &mut self,
        user: &str,
        change: &RoleChange,
    ) -> Result<Vec<String>, EditErrorKind> {
        let index = self.existing(user)?;
        let Some(current) = self.ini.users.get(index) else {
            return Err(no_such_user(user));
        };
        let roles = match change {
            RoleChange::Set(roles) => clean_roles(roles)?,
            RoleChange::Add(add) => {
                let add = clean_roles(add)?;
                let mut roles = current.roles.clone();
                roles.extend(add.into_iter().filter(|r| !current.roles.contains(r)));
                roles
            }
            RoleChange::Remove(remove) => {
                let remove = clean_roles(remove)?;
                current
                    .roles
                    .iter()
                    .filter(|r| !remove.contains(r))
                    .cloned()
                    .collect()
            }
        };
        if roles == current.roles {
            return Ok(roles);
        }
        let entry = entry_line(user, &current.password, &roles)?;
        let lines = self.replace_entry(index, Some(&entry))?;
        let mut expected = self.expected_unchanged();
        if let Some(e) = expected.get_mut(index) {
            e.roles.clone_from(&roles);
        }
        self.commit(lines, expected)?;
        Ok(roles)
    }

    /// Removes `user` (its line and continuation lines; comments stay).
    pub fn remove_user(&mut self, user: &str) -> Result<(), EditErrorKind> {
        let index = self.existing(user)?;
        let lines = self.replace_entry(index, None)?;
        let mut expected = self.expected_unchanged();
        if index < expected.len() {
            expected.remove(index);
        }
        self.commit(lines, expected)
    }

    /// The index of `user` among the parsed users; an error if it is defined more than once.
    fn index_of(&self, user: &str) -> Result<Option<usize>, EditErrorKind> {
        let mut found = self
            .ini
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.name == user);
        let first = found.next();
        let rest: Vec<usize> = found.map(|(_, u)| u.line).collect();
        match first {
            Some((_, u)) if !rest.is_empty() => Err(EditErrorKind::DuplicateUser {
                user: user.to_owned(),
                lines: std::iter::once(u.line).chain(rest).collect(),
            }),
            Some((i, _)) => Ok(Some(i)),
            None => Ok(None),
        }
    }

    /// The index of `user`, which must exist.
    fn existing(&self, user: &str) -> Result<usize, EditErrorKind> {
        self.index_of(user)?.ok_or_else(|| no_such_user(user))
    }

    /// Every current user, unchanged.
    fn expected_unchanged<'a>(&self) -> Vec<Expected<'a>> {
        self.ini
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| Expected {
                name: u.name.clone(),
                roles: u.roles.clone(),
                password: ExpectedPassword::Old(i),
            })
            .collect()
    }

    /// The lines with the entry of user `index` (and its continuation lines) replaced by
    /// `replacement` (keeping the first line's indentation and the last line's ending), or
    /// removed.
    fn replace_entry(
        &self,
        index: usize,
        replacement: Option<&str>,
    ) -> Result<Vec<String>, EditErrorKind> {
        let entry = self.ini.users.get(index);
        let start = entry
            .and_then(|u| u.line.checked_sub(1))
            .filter(|i| *i < self.lines.len())
            .ok_or_else(|| EditErrorKind::WouldBreak {
                detail: "the parser reported a user on a line the file does not have".into(),
            })?;
        // The entry ends at its first line that does not continue; comment and blank lines in
        // between belong to it (the parser skips them inside a continued entry).
        let mut end = start; // inclusive
        while self.lines.get(end).is_some_and(|l| continues(l)) {
            match (end + 1..self.lines.len())
                .find(|i| self.lines.get(*i).is_some_and(|l| !skipped(l)))
            {
                Some(next) => end = next,
                None => break,
            }
        }
        let mut lines = self.lines.clone();
        let first = lines.get(start).cloned().unwrap_or_default();
        let last = lines.get(end).cloned().unwrap_or_default();
        lines.drain(start..=end);
        if let Some(text) = replacement {
            let indent: String = first
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let ending = last.get(content(&last).len()..).unwrap_or_default();
            lines.insert(start, format!("{indent}{text}{ending}"));
        }
        Ok(lines)
    }

    /// Where a new entry goes: after the last entry of the last `[users]` section; after its last
    /// comment or its header if it has none. `None` when there is no `[users]` section.
    fn insertion_point(&self) -> Option<usize> {
        let mut section: Option<(usize, Option<usize>, usize)> = None; // (header, last entry, last non-blank)
        let mut in_users = false;
        for (i, line) in self.lines.iter().enumerate() {
            let text = trimmed(line);
            if let Some(name) = section_header(text) {
                in_users = name == "users";
                if in_users {
                    section = Some((i, None, i));
                }
                continue;
            }
            if !in_users || text.is_empty() {
                continue;
            }
            if let Some((_, last_entry, last_non_blank)) = section.as_mut() {
                *last_non_blank = i;
                if !skipped(line) {
                    *last_entry = Some(i);
                }
            }
        }
        section.map(|(_, last_entry, last_non_blank)| last_entry.unwrap_or(last_non_blank) + 1)
    }

    /// Takes `lines` if they parse to exactly the `expected` users.
    fn commit(
        &mut self,
        lines: Vec<String>,
        expected: Vec<Expected<'_>>,
    ) -> Result<(), EditErrorKind> {
        let text = lines.concat();
        let ini = parse(&text).map_err(|errors| {
            let detail = errors
                .iter()
                .map(|p| format!("line {}: {}", p.line, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            EditErrorKind::WouldBreak { detail }
        })?;
        if ini.users.len() != expected.len() {
            return Err(EditErrorKind::WouldBreak {
                detail: format!(
                    "{} users would be read instead of {}",
                    ini.users.len(),
                    expected.len()
                ),
            });
        }
        for want in &expected {
            let mut got = ini.users.iter().filter(|u| u.name == want.name);
            let (Some(got), None) = (got.next(), got.next()) else {
                return Err(would_break(&want.name, "would not be read exactly once"));
            };
            if got.roles != want.roles {
                return Err(would_break(&want.name, "would be read with other roles"));
            }
            let same_password = match want.password {
                ExpectedPassword::New(password) => got.password == *password,
                ExpectedPassword::Old(i) => self
                    .ini
                    .users
                    .get(i)
                    .is_some_and(|old| old.password == got.password),
            };
            if !same_password {
                return Err(would_break(
                    &want.name,
                    "would be read with another password",
                ));
            }
        }
        self.lines = lines;
        self.ini = ini;
        self.changed = true;
        Ok(())
    }
}

fn would_break(user: &str, what: &str) -> EditErrorKind {
    EditErrorKind::WouldBreak {
        detail: format!("user {user:?} {what}"),
    }
}

fn no_such_user(user: &str) -> EditErrorKind {
    EditErrorKind::NoSuchUser {
        user: user.to_owned(),
    }
}

/// A line without its line ending.
fn content(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The trimmed text of a line (without a byte order mark, which the parser ignores).
fn trimmed(line: &str) -> &str {
    content(line).trim_start_matches('\u{feff}').trim()
}

/// A blank or comment line, which the parser skips.
fn skipped(line: &str) -> bool {
    let t = trimmed(line);
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

/// Whether a line continues on the next one (as the parser decides: an odd number of trailing
/// backslashes, not counting a `\` that is the line's first character).
fn continues(line: &str) -> bool {
    let mut chars = trimmed(line).chars();
    chars.next(); // a `\` that starts the line does not count
    !skipped(line) && chars.rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// The section name of a header line (`[users]` → `users`), trimmed.
fn section_header(trimmed: &str) -> Option<&str> {
    trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .map(str::trim)
}

/// Checks a user or role name: it must come back as itself from a `name = value, role` line.
fn check_name(what: &'static str, name: &str) -> Result<(), EditErrorKind> {
    let invalid = |reason| EditErrorKind::InvalidName {
        what,
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains white space or a control character"));
    }
    if name
        .chars()
        .any(|c| matches!(c, '=' | ':' | ',' | '"' | '\\'))
    {
        return Err(invalid("it contains one of = : , \" \\"));
    }
    if name.starts_with(['#', ';', '[']) {
        return Err(invalid("it starts with # ; or ["));
    }
    Ok(())
}

/// Checked roles without duplicates (first occurrence kept).
fn clean_roles(roles: &[String]) -> Result<Vec<String>, EditErrorKind> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for role in roles {
        check_name("role name", role)?;
        if !out.contains(role) {
            out.push(role.clone());
        }
    }
    Ok(out)
}

/// `user = password, role, …`.
fn entry_line(user: &str, password: &Secret, roles: &[String]) -> Result<String, EditErrorKind> {
    let invalid = |reason| EditErrorKind::InvalidPassword { reason };
    let password = password
        .expose_str()
        .ok_or_else(|| invalid("it is not UTF-8 text"))?;
    if password.is_empty() {
        return Err(invalid("it is empty"));
    }
    if password.chars().any(char::is_control) {
        return Err(invalid("it contains a control character"));
    }
    let mut line = format!("{user} = {}", quote(password));
    for role in roles {
        line.push_str(", ");
        line.push_str(role);
    }
    Ok(line)
}

/// A value as the parser reads it back: in double quotes (`"` doubled) when it contains a comma
/// or a quote (an argon2 PHC string always does: `m=19456,t=2,p=1`), or when its edges would be
/// trimmed, taken for separators (`=`, `:`) or for a line continuation (`\\`).
fn quote(value: &str) -> String {
    let needs_quotes = value.contains([',', '"'])
        || value.starts_with(|c: char| c.is_whitespace() || c == '=' || c == ':')
        || value.ends_with(|c: char| c.is_whitespace() || c == '\\');
    if needs_quotes {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The users of an ini file, edited under a lock with atomic writes.
#[derive(Clone, Debug)]
pub struct UsersFile {
    path: PathBuf,
}

impl UsersFile {
    /// The ini file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> UsersFile {
        UsersFile { path: path.into() }
    }

    /// The path given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and parses the file (no lock: writes are atomic, so a reader sees a whole file).
    pub fn read(&self) -> Result<Document, EditError> {
        let text = fs::read(&self.path)
            .map_err(|e| self.io_or_missing("read", e))
            .and_then(|bytes| self.text(bytes))?;
        Document::parse(&text).map_err(|p| self.err(EditErrorKind::Parse(p)))
    }

    /// The users, in file order: names and roles, never passwords.
    pub fn list(&self) -> Result<Vec<UserSummary>, EditError> {
        Ok(self.read()?.users())
    }

    /// Adds a user with a stored password (a PHC hash). With `create`, a missing file is
    /// started (mode 0600); an existing one is edited, never truncated.
    pub fn add(
        &self,
        user: &str,
        stored_password: &Secret,
        roles: &[String],
        create: bool,
    ) -> Result<(), EditError> {
        self.edit(create, |doc| doc.add_user(user, stored_password, roles))
    }

    /// Checks, without writing, that [`UsersFile::add`] could add `user` with `roles` (file
    /// present or `create`, valid names, no such user yet): to refuse before asking for a password.
    pub fn check_add(&self, user: &str, roles: &[String], create: bool) -> Result<(), EditError> {
        let mut doc = match self.read() {
            Ok(doc) => doc,
            Err(EditError {
                kind: EditErrorKind::NotFound,
                ..
            }) if create => Document::parse("").map_err(|p| self.err(EditErrorKind::Parse(p)))?,
            Err(e) => return Err(e),
        };
        doc.add_user(user, &Secret::from(PLACEHOLDER_HASH), roles)
            .map_err(|k| self.err(k))
    }

    /// Checks, without writing, that the file defines `user` (exactly once).
    pub fn check_user(&self, user: &str) -> Result<(), EditError> {
        match self.read()?.find(user) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(self.err(no_such_user(user))),
            Err(k) => Err(self.err(k)),
        }
    }

    /// Replaces a user's stored password (a PHC hash).
    pub fn set_password(&self, user: &str, stored_password: &Secret) -> Result<(), EditError> {
        self.edit(false, |doc| doc.set_password(user, stored_password))
    }

    /// Changes a user's roles; returns its roles afterwards. The file is not rewritten when they
    /// come out the same.
    pub fn change_roles(&self, user: &str, change: &RoleChange) -> Result<Vec<String>, EditError> {
        self.edit(false, |doc| doc.change_roles(user, change))
    }

    /// Removes a user.
    pub fn remove(&self, user: &str) -> Result<(), EditError> {
        self.edit(false, |doc| doc.remove_user(user))
    }

    /// Locks, reads, applies `f` and, if the text changed, writes atomically.
    fn edit<T>(
        &self,
        create: bool,
        f: impl FnOnce(&mut Document) -> Result<T, EditErrorKind>,
    ) -> Result<T, EditError> {
        let target = self.target()?;
        let _lock = self.lock(&target)?;
        let (text, permissions) = match fs::read(&target) {
            Ok(bytes) => {
                let permissions = fs::metadata(&target)
                    .map_err(|e| self.io("read the permissions of", e))?
                    .permissions();
                (self.text(bytes)?, Some(permissions))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => (String::new(), None),
            Err(e) => return Err(self.io_or_missing("read", e)),
        };
        let mut doc = Document::parse(&text).map_err(|p| self.err(EditErrorKind::Parse(p)))?;
        let out = f(&mut doc).map_err(|k| self.err(k))?;
        if doc.is_changed() {
            self.write_atomic(&target, &doc.text(), permissions)?;
        }
        Ok(out)
    }

    /// The file to replace: the target of a symbolic link, else the path itself.
    fn target(&self) -> Result<PathBuf, EditError> {
        match fs::canonicalize(&self.path) {
            Ok(p) => Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(self.path.clone()),
            Err(e) => Err(self.io("resolve", e)),
        }
    }

    /// Takes the exclusive lock on `<file>.lock`, released when the returned file is dropped.
    fn lock(&self, target: &Path) -> Result<File, EditError> {
        let name = target.file_name().ok_or_else(|| {
            self.io(
                "lock",
                io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
            )
        })?;
        let mut lock_name = OsString::from(name);
        lock_name.push(".lock");
        let lock_path = target.with_file_name(lock_name);
        let file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| self.io("create the lock file for", e))?;
        file.lock().map_err(|e| self.io("lock", e))?;
        Ok(file)
    }

    /// Temporary file in the same directory, fsync, rename over `target`, fsync the directory.
    fn write_atomic(
        &self,
        target: &Path,
        text: &str,
        permissions: Option<fs::Permissions>,
    ) -> Result<(), EditError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| self.io("write", io::Error::other(e.to_string())))?;
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
        let written = (|| -> io::Result<()> {
            let mut file = private_options().write(true).create_new(true).open(&tmp)?;
            file.write_all(text.as_bytes())?;
            if let Some(p) = permissions {
                file.set_permissions(p)?;
            }
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, target)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.io("write", e));
        }
        sync_dir(dir).map_err(|e| self.io("sync the directory of", e))
    }

    fn text(&self, bytes: Vec<u8>) -> Result<String, EditError> {
        String::from_utf8(bytes).map_err(|_| {
            self.io(
                "read",
                io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
            )
        })
    }

    fn err(&self, kind: EditErrorKind) -> EditError {
        EditError {
            path: self.path.clone(),
            kind,
        }
    }

    fn io(&self, action: &'static str, source: io::Error) -> EditError {
        self.err(EditErrorKind::Io { action, source })
    }

    fn io_or_missing(&self, action: &'static str, source: io::Error) -> EditError {
        if source.kind() == io::ErrorKind::NotFound {
            self.err(EditErrorKind::NotFound)
        } else {
            self.io(action, source)
        }
    }
}

/// Options for files that may hold secrets: created readable by the owner only.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        // Some file systems cannot sync a directory; the rename is then as durable as they allow.
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                || e.kind() == io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Directories cannot be opened for syncing here; the rename is as durable as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
    const HASH_B: &str = "$argon2id$v=19$m=19456,t=2,p=1$cGVwcGVycGVwcGVycGVwcA$YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI";

    /// Comments of both kinds, blank lines, an indented entry and other sections.
    fn file() -> String {
        format!(
            "# Cluster users\n\
             [main]\n\
             securityManager.realms = $iniRealm\n\
             \n\
             [users]\n\
             # servers\n\
             server1 = \"{HASH_A}\", terracotta\n\
             \n\
             ; admins\n  \
             admin1 = \"{HASH_A}\", admin, operator\n\
             # end of users\n\
             \n\
             [roles]\n\
             admin = *\n\
             terracotta = cluster:*\n"
        )
    }

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    fn doc(text: &str) -> Document {
        Document::parse(text).unwrap()
    }

    fn stored(d: &Document, user: &str) -> String {
        let ini = parse(&d.text()).unwrap();
        ini.user(user)
            .unwrap()
            .password
            .expose_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn add_appends_after_the_last_entry_and_keeps_every_other_line() {
        let file = file();
        let mut d = doc(&file);
        d.add_user("client1", &Secret::from(HASH_B), &roles(&["terracotta"]))
            .unwrap();
        let want = file.replace(
            "admin, operator\n",
            &format!("admin, operator\nclient1 = \"{HASH_B}\", terracotta\n"),
        );
        assert_eq!(d.text(), want);
        assert!(d.is_changed());
        let names: Vec<String> = d.users().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["server1", "admin1", "client1"]);
        assert_eq!(stored(&d, "client1"), HASH_B);
    }

    #[test]
    fn add_creates_the_users_section_when_missing() {
        let mut d = doc("[roles]\nadmin = *");
        d.add_user("alice", &Secret::from(HASH_A), &[]).unwrap();
        assert_eq!(
            d.text(),
            format!("[roles]\nadmin = *\n\n[users]\nalice = \"{HASH_A}\"\n")
        );

        let mut empty = doc("");
        empty
            .add_user("alice", &Secret::from(HASH_A), &roles(&["a", "b", "a"]))
            .unwrap();
        assert_eq!(
            empty.text(),
            format!("[users]\nalice = \"{HASH_A}\", a, b\n")
        );
        assert_eq!(empty.users()[0].roles, ["a", "b"]);
    }

    #[test]
    fn add_to_an_empty_users_section_goes_after_its_comments() {
        let mut d = doc("[users]\n# name = password, roles\n\n[roles]\n");
        d.add_user("alice", &Secret::from(HASH_A), &[]).unwrap();
        assert_eq!(
            d.text(),
            format!("[users]\n# name = password, roles\nalice = \"{HASH_A}\"\n\n[roles]\n")
        );
    }

    #[test]
    fn crlf_files_get_crlf_lines_and_a_bom_stays() {
        let mut d = doc("\u{feff}[users]\r\n# x\r\n");
        d.add_user("alice", &Secret::from(HASH_A), &[]).unwrap();
        assert_eq!(
            d.text(),
            format!("\u{feff}[users]\r\n# x\r\nalice = \"{HASH_A}\"\r\n")
        );
    }

    #[test]
    fn values_the_parser_would_misread_are_quoted() {
        let mut d = doc("[users]\n");
        for (i, pw) in ["a,b", "say \"hi\"", "=x", ":x", "x\\", "plain"]
            .into_iter()
            .enumerate()
        {
            d.add_user(&format!("u{i}"), &Secret::from(pw), &roles(&["r"]))
                .unwrap();
            assert_eq!(stored(&d, &format!("u{i}")), pw);
        }
        assert!(d.text().contains("u5 = plain, r\n"), "{}", d.text());
    }

    #[test]
    fn adding_an_existing_user_is_an_error_that_suggests_passwd() {
        let file = file();
        let mut d = doc(&file);
        let err = d
            .add_user("admin1", &Secret::from(HASH_B), &[])
            .unwrap_err();
        assert!(
            matches!(err, EditErrorKind::UserExists { line: 10, .. }),
            "{err:?}"
        );
        let shown = EditError {
            path: "u.ini".into(),
            kind: err,
        }
        .to_string();
        assert!(
            shown.starts_with("u.ini:10: user \"admin1\" already exists"),
            "{shown}"
        );
        assert!(shown.contains("passwd"), "{shown}");
        assert_eq!(d.text(), file);
        assert!(!d.is_changed());
    }

    #[test]
    fn set_password_rewrites_only_that_line_keeping_roles_and_indentation() {
        let file = file();
        let mut d = doc(&file);
        d.set_password("admin1", &Secret::from(HASH_B)).unwrap();
        let old = format!("  admin1 = \"{HASH_A}\", admin, operator\n");
        let new = format!("  admin1 = \"{HASH_B}\", admin, operator\n");
        assert_eq!(d.text(), file.replace(&old, &new));
        assert_eq!(stored(&d, "admin1"), HASH_B);
        assert_eq!(stored(&d, "server1"), HASH_A);
    }

    #[test]
    fn roles_set_add_and_remove() {
        let file = file();
        let mut d = doc(&file);
        assert_eq!(
            d.change_roles("server1", &RoleChange::Add(roles(&["admin", "terracotta"])))
                .unwrap(),
            roles(&["terracotta", "admin"])
        );
        assert_eq!(
            d.change_roles(
                "server1",
                &RoleChange::Remove(roles(&["terracotta", "nope"]))
            )
            .unwrap(),
            roles(&["admin"])
        );
        assert_eq!(
            d.change_roles("server1", &RoleChange::Set(roles(&["x", "y"])))
                .unwrap(),
            roles(&["x", "y"])
        );
        assert_eq!(
            d.text(),
            file.replace(
                &format!("{HASH_A}\", terracotta\n"),
                &format!("{HASH_A}\", x, y\n")
            )
        );
        assert_eq!(
            d.change_roles("server1", &RoleChange::Set(vec![])).unwrap(),
            roles(&[])
        );
        assert!(d.text().contains(&format!("server1 = \"{HASH_A}\"\n")));
        assert_eq!(stored(&d, "server1"), HASH_A);
    }

    #[test]
    fn roles_that_come_out_the_same_change_nothing() {
        let file = file();
        let mut d = doc(&file);
        d.change_roles("admin1", &RoleChange::Add(roles(&["admin"])))
            .unwrap();
        d.change_roles("admin1", &RoleChange::Remove(roles(&["nope"])))
            .unwrap();
        d.change_roles("admin1", &RoleChange::Set(roles(&["admin", "operator"])))
            .unwrap();
        assert!(!d.is_changed());
        assert_eq!(d.text(), file);
    }

    #[test]
    fn remove_deletes_only_the_entry() {
        let file = file();
        let mut d = doc(&file);
        d.remove_user("server1").unwrap();
        assert_eq!(
            d.text(),
            file.replace(&format!("server1 = \"{HASH_A}\", terracotta\n"), "")
        );
        assert_eq!(d.users().len(), 1);
    }

    #[test]
    fn continued_entries_are_edited_whole() {
        let text =
            "[users]\nalice = pw, \\\n  # inside\n\n   admin, \\\n operator\nbob = x\n# after\n";
        let mut d = doc(text);
        d.set_password("alice", &Secret::from(HASH_B)).unwrap();
        assert_eq!(
            d.text(),
            format!("[users]\nalice = \"{HASH_B}\", admin, operator\nbob = x\n# after\n")
        );
        let mut d = doc(text);
        d.remove_user("alice").unwrap();
        assert_eq!(d.text(), "[users]\nbob = x\n# after\n");
    }

    #[test]
    fn missing_users_are_errors() {
        let file = file();
        let mut d = doc(&file);
        for err in [
            d.set_password("nobody", &Secret::from(HASH_B)).unwrap_err(),
            d.change_roles("nobody", &RoleChange::Set(vec![]))
                .unwrap_err(),
            d.remove_user("nobody").unwrap_err(),
            d.remove_user("Admin1").unwrap_err(),
        ] {
            assert!(matches!(err, EditErrorKind::NoSuchUser { .. }), "{err:?}");
        }
        assert_eq!(d.text(), file);
    }

    #[test]
    fn names_that_cannot_be_written_are_refused() {
        let file = file();
        let mut d = doc(&file);
        for bad in [
            "", "a b", "a=b", "a,b", "a:b", "a\"b", "#a", "[a", ";a", "a\nb", "a\\",
        ] {
            let err = d.add_user(bad, &Secret::from(HASH_B), &[]).unwrap_err();
            assert!(
                matches!(
                    err,
                    EditErrorKind::InvalidName {
                        what: "user name",
                        ..
                    }
                ),
                "{bad:?}: {err:?}"
            );
            let err = d
                .add_user("ok", &Secret::from(HASH_B), &roles(&[bad]))
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    EditErrorKind::InvalidName {
                        what: "role name",
                        ..
                    }
                ),
                "{bad:?}: {err:?}"
            );
        }
        assert_eq!(d.text(), file);
    }

    #[test]
    fn a_stored_password_with_a_newline_is_refused() {
        let mut d = doc(&file());
        let err = d.add_user("x", &Secret::from("a\nb = c"), &[]).unwrap_err();
        assert!(
            matches!(err, EditErrorKind::InvalidPassword { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn debug_never_shows_the_text() {
        let d = doc(&file());
        let shown = format!("{d:?}");
        assert!(!shown.contains("argon2"), "{shown}");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("realm-edit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn files_are_created_only_when_asked_and_then_0600() {
        let dir = temp_dir("create");
        let file = UsersFile::new(dir.join("users.ini"));
        let err = file
            .add("alice", &Secret::from(HASH_A), &[], false)
            .unwrap_err();
        assert!(matches!(err.kind, EditErrorKind::NotFound), "{err}");
        assert!(err.to_string().contains("users.ini"), "{err}");
        assert!(file.check_add("alice", &[], false).is_err());
        file.check_add("alice", &[], true).unwrap();
        assert!(!dir.join("users.ini").exists());
        file.add("alice", &Secret::from(HASH_A), &roles(&["admin"]), true)
            .unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("users.ini")).unwrap(),
            format!("[users]\nalice = \"{HASH_A}\", admin\n")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join("users.ini"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // --create on an existing file adds, never truncates.
        file.add("bob", &Secret::from(HASH_B), &[], true).unwrap();
        let users: Vec<String> = file.list().unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(users, ["alice", "bob"]);
        assert!(matches!(
            file.check_add("bob", &[], true).unwrap_err().kind,
            EditErrorKind::UserExists { line: 3, .. }
        ));
        file.check_user("bob").unwrap();
        assert!(matches!(
            file.check_user("carol").unwrap_err().kind,
            EditErrorKind::NoSuchUser { .. }
        ));
        // No temporary file is left behind.
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["users.ini", "users.ini.lock"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn edits_keep_the_permissions_and_follow_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perm");
        fs::write(dir.join("real.ini"), file()).unwrap();
        fs::set_permissions(dir.join("real.ini"), fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("real.ini", dir.join("link.ini")).unwrap();
        let file = UsersFile::new(dir.join("link.ini"));
        file.remove("server1").unwrap();
        assert!(
            fs::symlink_metadata(dir.join("link.ini"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mode = fs::metadata(dir.join("real.ini"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(
            !fs::read_to_string(dir.join("real.ini"))
                .unwrap()
                .contains("server1")
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_does_not_parse_is_not_edited_and_the_error_names_the_line() {
        let dir = temp_dir("bad");
        let path = dir.join("users.ini");
        let bad = "[users]\nalice = x\nbob = \n";
        fs::write(&path, bad).unwrap();
        let err = UsersFile::new(&path).remove("alice").unwrap_err();
        assert!(matches!(err.kind, EditErrorKind::Parse(_)), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}:3:", path.display())),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), bad);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_writers_are_serialised() {
        let dir = temp_dir("concurrent");
        let path = dir.join("users.ini");
        UsersFile::new(&path)
            .add("first", &Secret::from(HASH_A), &[], true)
            .unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    UsersFile::new(path).add(&format!("user{i}"), &Secret::from(HASH_B), &[], false)
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert_eq!(UsersFile::new(&path).list().unwrap().len(), 9);
        let _ = fs::remove_dir_all(&dir);
    }
}
