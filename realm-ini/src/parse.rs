//! The ini file format, as Apache Shiro reads it (`org.apache.shiro.config.Ini` and
//! `TextConfigurationRealm`), with every defect reported instead of silently dropped.
//!
//! ```
//! let file = realm_ini::parse::parse(
//!     "[users]\nalice = $shiro1$SHA-256$500000$c2FsdA==$aGFzaA==, admin, operator\n\
//!      [roles]\nadmin = *\n",
//! )
//! .unwrap();
//! assert_eq!(file.users[0].name, "alice");
//! assert_eq!(file.users[0].roles, ["admin", "operator"]);
//! assert_eq!(file.roles[0].permissions, ["*"]);
//! ```
//!
//! # Rules (Shiro's, unless marked *stricter*)
//!
//! * Lines are trimmed. A line whose first character is `#` or `;` is a comment; there are no
//!   comments at the end of a line (`alice = pw # x` has the password `pw # x`). Blank lines are
//!   ignored.
//! * `[name]` starts a section. Only `[users]` and `[roles]` are read; any other section
//!   (`[main]`, `[urls]`, ...) is skipped without a look at its content.
//! * A line ending in an odd number of backslashes continues on the next line: the final `\` is
//!   removed and the next (trimmed) line is appended directly. Comment and blank lines in between
//!   are skipped, as Shiro skips them.
//! * `key = value`: the key ends at the first whitespace, `=` or `:` not preceded by a backslash;
//!   every separator character after it (`=`, `:`, whitespace) is skipped, and the rest of the
//!   line is the value. `key: value` is the same.
//! * Values are split at commas, each item trimmed; double quotes group an item that contains
//!   commas (`"printer:print,query"`), `""` inside quotes is a literal quote, and the quotes
//!   themselves are removed (Shiro's `StringUtils.split`).
//! * `[users]`: `name = password[, role, ...]`. `[roles]`: `role = permission[, permission ...]`.
//!   Empty items in a role or permission list are dropped.
//! * *Realm's extension*: an argon2 or PBKDF2 PHC string may be written without quotes although
//!   its parameters contain commas (`alice = $argon2id$v=19$m=19456,t=2,p=1$…$…, admin`): the
//!   items that continue its `name=value` parameter list are joined back onto the password (Shiro
//!   needs quotes: `alice = "$argon2id$…", admin`, which works here too).
//!
//! Errors (all of them are collected, each with its 1-based line and column):
//!
//! * a line before any section header (*stricter*: Shiro puts it in a nameless section);
//! * a section header without its closing `]`, or with text after it (Shiro fails on such a
//!   line, or reads it as a key when it looks like `key = value`);
//! * `[Users]`, `[ROLES]`, ... (*stricter*: Shiro would silently skip the whole section);
//! * a second `[users]` or `[roles]` section (*stricter*: Shiro keeps only the last one);
//! * in `[users]` and `[roles]`: a line with no `=` or `:` after the key (*stricter*: Shiro
//!   also accepts a blank as the separator), an empty key or value, a duplicate name (*stricter*:
//!   Shiro keeps the last), an unbalanced double quote (*stricter*), an empty password, and a
//!   continuation (`\`) with no line after it in the section (*stricter*: Shiro drops the line).
//!
//! No message ever contains a password: messages quote user and role names only.

use realm_core::Secret;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// A parsed ini file: the `[users]` and `[roles]` sections, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IniFile {
    /// The `[users]` entries.
    pub users: Vec<UserEntry>,
    /// The `[roles]` entries.
    pub roles: Vec<RoleEntry>,
}

impl IniFile {
    /// The user of this name (names are case-sensitive).
    pub fn user(&self, name: &str) -> Option<&UserEntry> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The role of this name in `[roles]` (names are case-sensitive).
    pub fn role(&self, name: &str) -> Option<&RoleEntry> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// One line of `[users]`: `name = password, role1, role2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEntry {
    /// The user name (case-sensitive).
    pub name: String,
    /// The stored password exactly as written: a hash string or, where allowed, plain text.
    pub password: Secret,
    /// The roles, in file order (possibly empty).
    pub roles: Vec<String>,
    /// The 1-based line where the entry starts.
    pub line: usize,
}

/// One line of `[roles]`: `role = permission, permission`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleEntry {
    /// The role name (case-sensitive).
    pub name: String,
    /// The permissions (Shiro wildcard permission strings such as `printer:print`), in file order.
    pub permissions: Vec<String>,
    /// The 1-based line where the entry starts.
    pub line: usize,
}

/// A defect of the file, at a 1-based line and column (columns count characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line (from 1).
    pub line: usize,
    /// The column (from 1, in characters).
    pub col: usize,
    /// What is wrong. Never contains a password.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Which section the parser is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the first header.
    None,
    Users,
    Roles,
    /// Any other section: skipped.
    Other,
}

/// A logical line: physical lines joined by continuations (borrowed from the text when it is
/// one line, as nearly all are).
struct Logical<'a> {
    text: Cow<'a, str>,
    line: usize,
    col: usize,
    /// Bytes of `text` that come from the first physical line (for error columns).
    first_bytes: usize,
}

impl Logical<'_> {
    /// The column of the byte at `offset` of `text`, if it is on the first physical line; the
    /// start of the line otherwise.
    fn col_of(&self, offset: usize) -> usize {
        match self.text.get(..offset) {
            Some(before) if offset < self.first_bytes => self.col + before.chars().count(),
            _ => self.col,
        }
    }

    /// The column just after the first physical line's text.
    fn end_of_first_line(&self) -> usize {
        self.col
            + self
                .text
                .get(..self.first_bytes)
                .map_or(0, |t| t.chars().count())
    }
}

struct Parser<'a> {
    file: IniFile,
    /// Name → line of the users and roles seen so far (duplicate checks in constant time).
    user_lines: HashMap<Cow<'a, str>, usize>,
    role_lines: HashMap<Cow<'a, str>, usize>,
    errors: Vec<ParseError>,
    section: Section,
    users_header: Option<usize>,
    roles_header: Option<usize>,
    pending: Option<Logical<'a>>,
}

/// Parses the text of an ini file. Returns every error, in line order, or the file.
pub fn parse(text: &str) -> Result<IniFile, Vec<ParseError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        file: IniFile::default(),
        user_lines: HashMap::new(),
        role_lines: HashMap::new(),
        errors: Vec::new(),
        section: Section::None,
        users_header: None,
        roles_header: None,
        pending: None,
    };
    for (index, raw) in text.split('\n').enumerate() {
        p.physical_line(index + 1, raw.strip_suffix('\r').unwrap_or(raw));
    }
    p.end_of_section();
    if p.errors.is_empty() {
        Ok(p.file)
    } else {
        p.errors.sort_by_key(|e| (e.line, e.col));
        Err(p.errors)
    }
}

impl<'a> Parser<'a> {
    fn error(&mut self, line: usize, col: usize, message: impl Into<String>) {
        self.errors.push(ParseError {
            line,
            col,
            message: message.into(),
        });
    }

    fn physical_line(&mut self, line: usize, raw: &'a str) {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            return;
        }
        let col = raw.chars().take_while(|c| c.is_whitespace()).count() + 1;
        if trimmed.starts_with('[') {
            self.end_of_section();
            self.header(line, col, trimmed);
            return;
        }
        match self.section {
            Section::Other => {}
            Section::None => self.error(
                line,
                col,
                "line outside any section: put it under `[users]` or `[roles]`",
            ),
            Section::Users | Section::Roles => self.content_line(line, col, trimmed),
        }
    }

    fn header(&mut self, line: usize, col: usize, trimmed: &str) {
        // Whatever happens, the lines that follow do not belong to the previous section.
        self.section = Section::Other;
        let Some(close) = trimmed.find(']') else {
            self.error(
                line,
                col,
                "unterminated section header: `[` without a closing `]`",
            );
            return;
        };
        if close + 1 != trimmed.len() {
            let after = trimmed.get(..close + 1).map_or(0, |s| s.chars().count());
            self.error(
                line,
                col + after,
                "text after the `]` of a section header (comments go on their own line)",
            );
            return;
        }
        let name = trimmed.get(1..close).unwrap_or("").trim();
        let (section, first) = match name {
            "users" => (Section::Users, &mut self.users_header),
            "roles" => (Section::Roles, &mut self.roles_header),
            "" => {
                self.error(line, col, "empty section name `[]`");
                return;
            }
            other => {
                if other.eq_ignore_ascii_case("users") || other.eq_ignore_ascii_case("roles") {
                    let lower = other.to_ascii_lowercase();
                    self.error(
                        line,
                        col + 1,
                        format!(
                            "section names are case-sensitive: write `[{lower}]` (Shiro would skip `[{other}]` entirely)"
                        ),
                    );
                }
                return;
            }
        };
        if let Some(first) = *first {
            let name = name.to_string();
            self.error(
                line,
                col,
                format!("second `[{name}]` section (the first is at line {first}): Shiro keeps only the last one; merge them"),
            );
            return;
        }
        *first = Some(line);
        self.section = section;
    }

    /// A non-comment line of `[users]` or `[roles]`, with Shiro's continuation rule.
    fn content_line(&mut self, line: usize, col: usize, trimmed: &'a str) {
        let continued = is_continued(trimmed);
        let part = if continued {
            trimmed.strip_suffix('\\').unwrap_or(trimmed)
        } else {
            trimmed
        };
        let logical = match self.pending.take() {
            Some(mut l) => {
                l.text.to_mut().push_str(part);
                l
            }
            None => Logical {
                text: Cow::Borrowed(part),
                line,
                col,
                first_bytes: part.len(),
            },
        };
        if continued {
            self.pending = Some(logical);
        } else {
            self.entry(logical);
        }
    }

    /// Called at every section header and at the end of the file.
    fn end_of_section(&mut self) {
        if let Some(l) = self.pending.take() {
            self.error(
                l.line,
                l.end_of_first_line(),
                "the line ends with `\\` (continued) but no line follows in its section",
            );
        }
    }

    fn entry(&mut self, l: Logical<'a>) {
        let what = if self.section == Section::Users {
            "user"
        } else {
            "role"
        };
        let Some(kv) = split_key_value(&l.text) else {
            // Do not quote the line: it may be a password pasted on its own.
            let example = if what == "user" {
                "name = password, role1, role2"
            } else {
                "role = permission1, permission2"
            };
            self.error(
                l.line,
                l.col,
                format!("expected `{example}`: no `=` after the {what} name"),
            );
            return;
        };
        if kv.key.is_empty() {
            self.error(l.line, l.col, format!("empty {what} name before `=`"));
            return;
        }
        // The key borrows from the file's text unless the line was continued.
        let key: Cow<'a, str> = match &l.text {
            Cow::Borrowed(text) => Cow::Borrowed(text.get(..kv.key.len()).unwrap_or_default()),
            Cow::Owned(_) => Cow::Owned(kv.key.to_string()),
        };
        let value_col = l.col_of(kv.value_start);
        let split = split_items(kv.value);
        if split.unbalanced_quote {
            self.error(
                l.line,
                value_col,
                format!("{what} `{key}`: unbalanced `\"` in the value"),
            );
            return;
        }
        let mut items = split.items;
        if self.section == Section::Users {
            join_phc_parameters(&mut items);
        }
        let mut items = items.into_iter();
        match self.section {
            Section::Users => {
                let password = items.next().unwrap_or_default();
                if let Some(&first) = self.user_lines.get(&key) {
                    self.error(
                        l.line,
                        l.col,
                        format!("duplicate user `{key}` (first defined at line {first})"),
                    );
                    return;
                }
                if password.is_empty() {
                    self.error(
                        l.line,
                        value_col,
                        format!(
                            "user `{key}`: empty password (an empty password never authenticates)"
                        ),
                    );
                    return;
                }
                let name = key.to_string();
                self.user_lines.insert(key, l.line);
                self.file.users.push(UserEntry {
                    name,
                    password: Secret::from(password),
                    roles: items.filter(|r| !r.is_empty()).collect(),
                    line: l.line,
                });
            }
            Section::Roles => {
                if let Some(&first) = self.role_lines.get(&key) {
                    self.error(
                        l.line,
                        l.col,
                        format!("duplicate role `{key}` (first defined at line {first})"),
                    );
                    return;
                }
                let permissions: Vec<String> = items.filter(|p| !p.is_empty()).collect();
                if permissions.is_empty() {
                    self.error(
                        l.line,
                        value_col,
                        format!("role `{key}`: no permissions after `=` (Shiro refuses an empty value; remove the line or give a permission such as `*`)"),
                    );
                    return;
                }
                let name = key.to_string();
                self.role_lines.insert(key, l.line);
                self.file.roles.push(RoleEntry {
                    name,
                    permissions,
                    line: l.line,
                });
            }
            Section::None | Section::Other => {}
        }
    }
}

/// Shiro's `Ini.Section.isContinued`: an odd number of trailing backslashes (a lone `\` at the
/// start of the line does not count).
fn is_continued(line: &str) -> bool {
    let count = line
        .as_bytes()
        .iter()
        .skip(1)
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    count & 1 == 1
}

/// The 1-based column where the value of a `key = value` line starts (for messages about the
/// value, such as a malformed password hash), if the line has one.
pub(crate) fn value_column(line: &str) -> Option<usize> {
    let indent = line.chars().take_while(|c| c.is_whitespace()).count();
    let trimmed = line.trim();
    let kv = split_key_value(trimmed)?;
    let before = trimmed.get(..kv.value_start)?;
    (kv.value_start < trimmed.len()).then_some(indent + before.chars().count() + 1)
}

struct KeyValue<'a> {
    key: &'a str,
    value: &'a str,
    /// Byte offset of the value in the line.
    value_start: usize,
}

/// Shiro's `Ini.Section.splitKeyValue`, stricter in one way: the separator run must contain `=`
/// or `:`. `None` when it does not (no `=`).
fn split_key_value(line: &str) -> Option<KeyValue<'_>> {
    let is_sep = |c: char| c.is_whitespace() || c == ':' || c == '=';
    let mut prev: Option<char> = None;
    let mut key_end = None;
    for (i, c) in line.char_indices() {
        if is_sep(c) && prev != Some('\\') {
            key_end = Some(i);
            break;
        }
        prev = Some(c);
    }
    let key_end = key_end?;
    let key = line.get(..key_end)?.trim();
    let rest = line.get(key_end..)?;
    let mut saw_equals = false;
    let mut value_offset = rest.len();
    let mut prev: Option<char> = line.get(..key_end).and_then(|k| k.chars().last());
    for (i, c) in rest.char_indices() {
        if is_sep(c) && prev != Some('\\') {
            saw_equals |= c == '=' || c == ':';
            prev = Some(c);
            continue;
        }
        value_offset = i;
        break;
    }
    if !saw_equals {
        return None;
    }
    let value = rest.get(value_offset..)?.trim();
    let value_start = key_end + value_offset;
    Some(KeyValue {
        key,
        value,
        value_start,
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`, `$pbkdf2-sha256$i=600000,l=32$…`)
/// has commas in its parameter field. Written without quotes, Shiro's split cuts it there; the
/// items that continue the parameter list (`t=2`, `p=1$salt$hash`) are joined back onto the
/// password, as long as the password still ends inside a `name=value` parameter field.
fn join_phc_parameters(items: &mut Vec<String>) {
    fn is_param(s: &str) -> bool {
        s.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
    }
    let is_phc = |p: &str| p.starts_with("$argon2") || p.starts_with("$pbkdf2-");
    while items.len() > 1 {
        let (Some(password), Some(next)) = (items.first(), items.get(1)) else {
            return;
        };
        let in_params = password.rsplit('$').next().is_some_and(is_param);
        if !(is_phc(password) && in_params && is_param(next.split('$').next().unwrap_or(""))) {
            return;
        }
        let next = items.remove(1);
        if let Some(password) = items.first_mut() {
            password.push(',');
            password.push_str(&next);
        }
    }
}

struct Items {
    items: Vec<String>,
    unbalanced_quote: bool,
}

/// Shiro's `StringUtils.split(value)`: comma-separated, `"` quoting (`""` inside quotes is a
/// literal quote), quotes removed, items trimmed.
fn split_items(value: &str) -> Items {
    fn trimmed(item: String) -> String {
        let t = item.trim();
        if t.len() == item.len() {
            item
        } else {
            t.to_string()
        }
    }
    if !value.contains('"') {
        // No quoting: a plain split (nearly every line).
        return Items {
            items: value.split(',').map(|i| i.trim().to_string()).collect(),
            unbalanced_quote: false,
        };
    }
    let mut items = Vec::new();
    let mut current = String::with_capacity(value.len());
    let mut in_quotes = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => items.push(trimmed(std::mem::take(&mut current))),
            c => current.push(c),
        }
    }
    items.push(trimmed(current));
    Items {
        items,
        unbalanced_quote: in_quotes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn users_roles_and_other_sections() {
        let f = parse(
            "# comment\n; another\n\n[main]\nsecurityManager.realms = $iniRealm\nno value here\n\
             [users]\n  alice = pw1, admin, operator  \nbob: pw2\ncarol=pw3,\n\
             [urls]\n/** = authc\n[roles]\nadmin = *\noperator = \"printer:print,query\", doc:read\n",
        )
        .unwrap();
        let names: Vec<_> = f.users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        assert_eq!(f.users[0].roles, ["admin", "operator"]);
        assert_eq!(f.users[0].password.expose_str(), Some("pw1"));
        assert_eq!(f.users[0].line, 8);
        assert_eq!(f.users[1].password.expose_str(), Some("pw2"));
        assert!(f.users[1].roles.is_empty() && f.users[2].roles.is_empty());
        assert_eq!(
            f.role("operator").unwrap().permissions,
            ["printer:print,query", "doc:read"]
        );
        assert_eq!(f.role("admin").unwrap().line, 14);
    }

    #[test]
    fn continuation_comments_and_quotes_as_shiro() {
        let f = parse(
            "[users]\nalice = pw, \\\n  # skipped comment\n\n   admin, \\\n operator\n\
             bob = \"p,w\"\"x\", r\nc\\=d = x\n",
        )
        .unwrap();
        assert_eq!(f.users[0].roles, ["admin", "operator"]);
        assert_eq!(f.users[0].line, 2);
        assert_eq!(f.users[1].password.expose_str(), Some("p,w\"x"));
        assert_eq!(f.users[2].name, "c\\=d");
        // An even number of trailing backslashes is not a continuation.
        let f = parse("[users]\na = pw\\\\\nb = x\n").unwrap();
        assert_eq!(f.users[0].password.expose_str(), Some("pw\\\\"));
        assert_eq!(f.users.len(), 2);
        // CRLF and a BOM.
        let f = parse("\u{feff}[users]\r\na = b\r\n").unwrap();
        assert_eq!(f.users[0].password.expose_str(), Some("b"));
    }

    #[test]
    fn every_error_with_position_and_no_password() {
        let text = "orphan = x\n[users\n[users]\nalice\n = secret1\nbob = \ncarol = secret2\n\
                    carol = secret3\ndave = \"secret4\n[Roles]\n[users]\n[roles]\nr1\nr2 =\nr3 = a\\\n";
        let e = errors(text);
        assert_eq!(
            e,
            [
                "1:1: line outside any section: put it under `[users]` or `[roles]`",
                "2:1: unterminated section header: `[` without a closing `]`",
                "4:1: expected `name = password, role1, role2`: no `=` after the user name",
                "5:2: empty user name before `=`",
                "6:1: user `bob`: empty password (an empty password never authenticates)",
                "8:1: duplicate user `carol` (first defined at line 7)",
                "9:8: user `dave`: unbalanced `\"` in the value",
                "10:2: section names are case-sensitive: write `[roles]` (Shiro would skip `[Roles]` entirely)",
                "11:1: second `[users]` section (the first is at line 3): Shiro keeps only the last one; merge them",
                "13:1: expected `role = permission1, permission2`: no `=` after the role name",
                "14:1: role `r2`: no permissions after `=` (Shiro refuses an empty value; remove the line or give a permission such as `*`)",
                "15:7: the line ends with `\\` (continued) but no line follows in its section",
            ]
        );
        assert!(!e.iter().any(|m| m.contains("secret")));
    }

    #[test]
    fn header_with_trailing_text_and_empty_header() {
        assert_eq!(
            errors("[users] # x\n[]\n"),
            [
                "1:8: text after the `]` of a section header (comments go on their own line)",
                "2:1: empty section name `[]`"
            ]
        );
        assert_eq!(
            errors("[roles]\nadmin = *\nadmin = x\n"),
            ["3:1: duplicate role `admin` (first defined at line 2)"]
        );
    }

    #[test]
    fn phc_parameters_stay_in_the_password() {
        let argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        let pbkdf = "$pbkdf2-sha256$i=600000,l=32$c2FsdHNhbHQ$aGFzaA";
        let f = parse(&format!(
            "[users]\na = {argon}, admin, x=y\nb = \"{argon}\", admin\nc = {pbkdf}\nd = $argon2id$v=19$m=8, t=1,p=1$s$h\n"
        ))
        .unwrap();
        assert_eq!(f.users[0].password.expose_str(), Some(argon));
        assert_eq!(f.users[0].roles, ["admin", "x=y"]);
        assert_eq!(f.users[1].password.expose_str(), Some(argon));
        assert_eq!(f.users[1].roles, ["admin"]);
        assert_eq!(f.users[2].password.expose_str(), Some(pbkdf));
        assert_eq!(
            f.users[3].password.expose_str(),
            Some("$argon2id$v=19$m=8,t=1,p=1$s$h")
        );
        // Only PHC strings: a plain password keeps Shiro's split.
        let f = parse("[users]\na = m=1, t=2\n").unwrap();
        assert_eq!(f.users[0].password.expose_str(), Some("m=1"));
        assert_eq!(f.users[0].roles, ["t=2"]);
    }

    #[test]
    fn a_large_file_parses_in_linear_time() {
        // Quadratic duplicate checks would make this take minutes.
        let mut text = String::from("[users]\n");
        for i in 0..100_000 {
            text.push_str(&format!("user{i} = pw{i}, r\n"));
        }
        text.push_str("user7 = again\n");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            "100002:1: duplicate user `user7` (first defined at line 9)"
        );
    }

    #[test]
    fn whitespace_separator_is_refused_but_separator_runs_are_swallowed() {
        assert_eq!(
            errors("[users]\nalice secret\n"),
            ["2:1: expected `name = password, role1, role2`: no `=` after the user name"]
        );
        let f = parse("[users]\nalice == :pw\n").unwrap();
        assert_eq!(f.users[0].password.expose_str(), Some("pw"));
    }
}
