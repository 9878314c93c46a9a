//! The one mapping from the positioned tree to the typed model.
//!
//! Both readers hand over the same tree shape, so every rule lives here once: unknown keys, wrong
//! types, enum values, the one-method rules, placeholders, path resolution and the cross-realm
//! references. The mapping never stops at the first defect: each sub-tree is checked on its own,
//! so independent errors are all reported.

use super::diag::Diags;
use super::model::*;
use super::tree::{Entry, Node, Pos, Value};
use crate::secret::Secret;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a class name is referenced (so a binary can warn about names it does not register).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRef {
    /// `login-module` or `credentials-factory`.
    pub kind: ClassKind,
    /// The class name as written.
    pub name: String,
    /// Where.
    pub pos: Pos,
    /// Key path.
    pub path: String,
}

/// What a referenced class must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassKind {
    /// A `jaas` `login-module`.
    LoginModule,
    /// An identity `credentials-factory`.
    CredentialsFactory,
}

/// The environment lookup used for `${env:NAME}`.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(crate) struct Cx<'a> {
    pub(crate) diags: Diags,
    base_dir: PathBuf,
    env: EnvLookup<'a>,
    pub(crate) class_refs: Vec<ClassRef>,
    file_refs: Vec<(PathBuf, Pos, String)>,
    realm_refs: Vec<RealmRefUse>,
    keychain_config: Option<KeychainConfig>,
    keychain: KeychainState,
}

/// The keychain behind `${keychain:URI}`, opened on first use.
enum KeychainState {
    NotOpened,
    Open(crate::keychain::Keychain),
    /// Opening failed; the error was reported once.
    Failed,
}

struct RealmRefUse {
    from: Option<String>,
    to: String,
    pos: Pos,
    path: String,
    /// A `security-realm` reference (participates in cycle detection).
    security_realm: bool,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(diags: Diags, base_dir: PathBuf, env: EnvLookup<'a>) -> Self {
        Cx {
            diags,
            base_dir,
            env,
            class_refs: Vec::new(),
            file_refs: Vec::new(),
            realm_refs: Vec::new(),
            keychain_config: None,
            keychain: KeychainState::NotOpened,
        }
    }

    /// The secret stored in the keychain for `uri`, opening the keychain on first use: the one named
    /// in the configuration's `keychain` section, else `REALM_KEYCHAIN` (with `REALM_KEYCHAIN_PASSWORD`
    /// or `REALM_KEYCHAIN_PASSWORD_FILE` for an encrypted one).
    fn keychain_secret(&mut self, uri: &str, pos: Pos, path: &str) -> Option<String> {
        if matches!(self.keychain, KeychainState::NotOpened) {
            let config = match &self.keychain_config {
                Some(c) => Some(c.clone()),
                None => (self.env)("REALM_KEYCHAIN").map(|p| {
                    let master = (self.env)("REALM_KEYCHAIN_PASSWORD")
                        .map(Secret::from)
                        .or_else(|| {
                            (self.env)("REALM_KEYCHAIN_PASSWORD_FILE").and_then(|f| {
                                std::fs::read_to_string(f).ok().map(|t| {
                                    Secret::from(t.trim_end_matches(['\n', '\r']).to_string())
                                })
                            })
                        });
                    KeychainConfig {
                        path: self.base_dir.join(p),
                        master_password: master,
                    }
                }),
            };
            let Some(config) = config else {
                self.diags.error(pos, path, format!("`${{keychain:{uri}}}` needs a keychain: add `keychain: {{path: …, master-password: …}}` to the security section, or set REALM_KEYCHAIN"));
                self.keychain = KeychainState::Failed;
                return None;
            };
            self.keychain = match crate::keychain::Keychain::open(
                &config.path,
                config.master_password.as_ref(),
            ) {
                Ok(k) => KeychainState::Open(k),
                Err(e) => {
                    self.diags.error(
                        pos,
                        path,
                        format!("cannot open the keychain {}: {e}", config.path.display()),
                    );
                    KeychainState::Failed
                }
            };
        }
        match &self.keychain {
            KeychainState::Open(k) => match k.get(uri).and_then(|s| s.expose_str()) {
                Some(v) => Some(v.to_string()),
                None => {
                    self.diags.error(
                        pos,
                        path,
                        format!("no password available in the keychain for `{uri}`"),
                    );
                    None
                }
            },
            _ => None,
        }
    }
}

/// A map node being read: remembers which keys were asked for, so unknown keys can be reported
/// with the list of keys that would have been accepted.
struct MapView<'n> {
    pos: Pos,
    path: String,
    entries: &'n [Entry],
    used: Vec<bool>,
    known: Vec<&'static str>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) if s.is_empty() => "an empty value".into(),
        Value::Scalar(s) if s.chars().count() > 40 => "a scalar".into(),
        Value::Scalar(s) => format!("`{s}`"),
        _ => node.kind().into(),
    }
}

fn map_view<'n>(cx: &mut Cx<'_>, node: &'n Node, path: &str, what: &str) -> Option<MapView<'n>> {
    match &node.value {
        Value::Map(entries) => Some(MapView {
            pos: node.pos,
            path: path.to_string(),
            entries,
            used: vec![false; entries.len()],
            known: Vec::new(),
        }),
        _ => {
            cx.diags.error(
                node.pos,
                path,
                format!("expected {what}, found {}", describe(node)),
            );
            None
        }
    }
}

impl<'n> MapView<'n> {
    /// Takes a key (and any alias spellings, e.g. `roleAttribute` for `role-attribute`).
    fn take(&mut self, key: &'static str, aliases: &[&'static str]) -> Option<(&'n Entry, String)> {
        self.known.push(key);
        let mut found: Option<&'n Entry> = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.key == key || aliases.contains(&e.key.as_str()) {
                if let Some(u) = self.used.get_mut(i) {
                    *u = true;
                }
                if found.is_none() {
                    found = Some(e);
                }
            }
        }
        found.map(|e| (e, join(&self.path, &e.key)))
    }

    fn finish(self, cx: &mut Cx<'_>) {
        for (e, used) in self.entries.iter().zip(&self.used) {
            if !used {
                let hint = suggest(&e.key, &self.known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let mut known = self.known.clone();
                known.sort_unstable();
                known.dedup();
                cx.diags.error(
                    e.key_pos,
                    &join(&self.path, &e.key),
                    format!(
                        "unknown key `{}`{hint}; expected one of: {}",
                        e.key,
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn string(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<String> {
        let (e, path) = self.take(key, &[])?;
        string(cx, &e.value, &path)
    }

    fn secret(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Secret> {
        let (e, path) = self.take(key, &[])?;
        scalar_text(cx, &e.value, &path, "a string").map(|(t, _)| Secret::from(t))
    }

    fn bool(&mut self, cx: &mut Cx<'_>, key: &'static str, default: bool) -> bool {
        match self.take(key, &[]) {
            None => default,
            Some((e, path)) => {
                match scalar_text(cx, &e.value, &path, "a boolean (true or false)") {
                    Some((t, _)) if t.eq_ignore_ascii_case("true") => true,
                    Some((t, _)) if t.eq_ignore_ascii_case("false") => false,
                    Some((t, _)) => {
                        cx.diags.error(
                            e.value.pos,
                            &path,
                            format!("expected a boolean (true or false), found `{t}`"),
                        );
                        default
                    }
                    None => default,
                }
            }
        }
    }

    /// An integer option within `min..=max`.
    fn int(&mut self, cx: &mut Cx<'_>, key: &'static str, min: u64, max: u64, default: u64) -> u64 {
        let Some((e, path)) = self.take(key, &[]) else {
            return default;
        };
        let what = format!("an integer from {min} to {max}");
        match scalar_text(cx, &e.value, &path, &what) {
            Some((t, _)) => match t.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    cx.diags
                        .error(e.value.pos, &path, format!("expected {what}, found `{t}`"));
                    default
                }
            },
            None => default,
        }
    }

    fn choice<T: Copy>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        choices: &[(&str, T)],
        default: T,
    ) -> T {
        let Some((e, path)) = self.take(key, &[]) else {
            return default;
        };
        enum_value(cx, &e.value, &path, choices).unwrap_or(default)
    }

    fn path(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<PathBuf> {
        let (e, path) = self.take(key, &[])?;
        let text = string(cx, &e.value, &path)?;
        let resolved = cx.base_dir.join(&text);
        cx.file_refs.push((resolved.clone(), e.value.pos, path));
        Some(resolved)
    }

    /// The `name`-style key that labels list items in paths.
    fn realm_ref(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        from: Option<&str>,
    ) -> Option<String> {
        let (e, path) = self.take(key, &[])?;
        let name = string(cx, &e.value, &path)?;
        cx.realm_refs.push(RealmRefUse {
            from: from.map(str::to_string),
            to: name.clone(),
            pos: e.value.pos,
            path,
            security_realm: key == "security-realm",
        });
        Some(name)
    }
}

fn enum_value<T: Copy>(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    choices: &[(&str, T)],
) -> Option<T> {
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let (t, _) = scalar_text(cx, node, path, &format!("one of {}", names.join(", ")))?;
    match choices.iter().find(|(n, _)| *n == t) {
        Some((_, v)) => Some(*v),
        None => {
            let case = choices
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&t))
                .map(|(n, _)| format!(" (values are case-sensitive: write `{n}`)"))
                .unwrap_or_default();
            cx.diags.error(
                node.pos,
                path,
                format!("expected one of {}, found `{t}`{case}", names.join(", ")),
            );
            None
        }
    }
}

/// The closest known key, if it is close enough to be a likely typo.
fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// A scalar's text with placeholders resolved; the flag says whether a placeholder was used.
fn scalar_text(cx: &mut Cx<'_>, node: &Node, path: &str, expected: &str) -> Option<(String, bool)> {
    match &node.value {
        Value::Scalar(s) => resolve(cx, s, node.pos, path),
        _ => {
            cx.diags.error(
                node.pos,
                path,
                format!("expected {expected}, found {}", describe(node)),
            );
            None
        }
    }
}

/// A non-empty string.
fn string(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<String> {
    let (t, _) = scalar_text(cx, node, path, "a string")?;
    if t.trim().is_empty() {
        cx.diags.error(
            node.pos,
            path,
            "expected a non-empty string (leave the key out to use the default)",
        );
        return None;
    }
    Some(t)
}

/// Resolves `${env:NAME}` and `${file:PATH}` anywhere in a value; `$${` is a literal `${`.
fn resolve(cx: &mut Cx<'_>, text: &str, pos: Pos, path: &str) -> Option<(String, bool)> {
    if !text.contains("${") {
        return Some((text.to_string(), false));
    }
    let mut out = String::new();
    let mut rest = text;
    let mut used = false;
    while let Some(i) = rest.find("${") {
        let (before, after) = rest.split_at(i);
        if let Some(literal) = before.strip_suffix('$') {
            // `$${…}`: an escaped literal.
            out.push_str(literal);
            out.push_str("${");
            rest = &after[2..];
            continue;
        }
        out.push_str(before);
        let Some(end) = after.find('}') else {
            cx.diags.error(pos, path, "unterminated placeholder: expected `${env:NAME}` or `${file:PATH}` (write `$${` for a literal `${`)");
            return None;
        };
        let inner = &after[2..end];
        let value = match inner.split_once(':') {
            Some(("env", name)) if !name.is_empty() => match (cx.env)(name) {
                Some(v) => v,
                None => {
                    cx.diags.error(pos, path, format!("placeholder `${{env:{name}}}`: environment variable `{name}` is not set"));
                    return None;
                }
            },
            Some(("file", p)) if !p.is_empty() => {
                let file = cx.base_dir.join(p);
                match std::fs::read_to_string(&file) {
                    Ok(v) => v
                        .strip_suffix('\n')
                        .map(|v| v.strip_suffix('\r').unwrap_or(v))
                        .unwrap_or(&v)
                        .to_string(),
                    Err(e) => {
                        cx.diags.error(
                            pos,
                            path,
                            format!(
                                "placeholder `${{file:{p}}}`: cannot read {}: {e}",
                                file.display()
                            ),
                        );
                        return None;
                    }
                }
            }
            Some(("keychain", uri)) if !uri.is_empty() => cx.keychain_secret(uri, pos, path)?,
            _ => {
                cx.diags.error(pos, path, format!("unknown placeholder `${{{inner}}}`: expected `${{env:NAME}}`, `${{file:PATH}}` or `${{keychain:URI}}`"));
                return None;
            }
        };
        out.push_str(&value);
        used = true;
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some((out, used))
}

fn list<'n>(cx: &mut Cx<'_>, node: &'n Node, path: &str, what: &str) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => {
            cx.diags.error(
                node.pos,
                path,
                format!("expected a list of {what}, found {}", describe(node)),
            );
            None
        }
    }
}

/// The path of a list item: by name where items have one (`realms[ldapRealm]`), else by index.
pub(crate) fn item_path(path: &str, index: usize, node: &Node, label_key: Option<&str>) -> String {
    let label = label_key
        .and_then(|k| node.get(k))
        .and_then(|e| match &e.value.value {
            Value::Scalar(s) if !s.is_empty() && !s.contains("${") => Some(s.clone()),
            _ => None,
        });
    match label {
        Some(l) => format!("{path}[{l}]"),
        None => format!("{path}[{index}]"),
    }
}

fn strings(cx: &mut Cx<'_>, node: &Node, path: &str, what: &str) -> Vec<String> {
    let Some(items) = list(cx, node, path, what) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| string(cx, n, &format!("{path}[{i}]")))
        .collect()
}

const SECRET_PROPERTY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "credential",
    "token",
    "seed",
    "passphrase",
    "privatekey",
    "private-key",
    "apikey",
    "api-key",
];

fn properties(cx: &mut Cx<'_>, node: &Node, path: &str) -> Properties {
    let mut out = BTreeMap::new();
    let Value::Map(entries) = &node.value else {
        cx.diags.error(
            node.pos,
            path,
            format!(
                "expected a map of property names to values, found {}",
                describe(node)
            ),
        );
        return out;
    };
    for e in entries {
        let p = join(path, &e.key);
        let (text, from_placeholder) = match &e.value.value {
            Value::Scalar(s) => match resolve(cx, s, e.value.pos, &p) {
                Some(x) => x,
                None => continue,
            },
            _ => {
                cx.diags.error(
                    e.value.pos,
                    &p,
                    format!(
                        "expected a property value (text), found {}",
                        describe(&e.value)
                    ),
                );
                continue;
            }
        };
        let lower = e.key.to_ascii_lowercase();
        let secret = from_placeholder || SECRET_PROPERTY_WORDS.iter().any(|w| lower.contains(w));
        let v = if secret {
            PropertyValue::Secret(Secret::from(text))
        } else {
            PropertyValue::Text(text)
        };
        out.insert(e.key.clone(), v);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The security section.

const IDENTITY_KEYS: &[&str] = &[
    "username-password",
    "token",
    "kerberos",
    "credentials-factory",
];
const CLIENT_FORBIDDEN: &[&str] = &[
    "enabled",
    "member-authentication",
    "client-authentication",
    "client-permission-policy",
    "client-permissions",
    "security-interceptors",
    "client-block-unmapped-actions",
];

pub(crate) fn security(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    kind: DocumentKind,
) -> Option<SecurityConfig> {
    let mut m = map_view(cx, node, path, "the security section (a map)")?;
    if kind == DocumentKind::Client {
        for k in CLIENT_FORBIDDEN {
            if let Some((e, p)) = m.take(k, &[]) {
                cx.diags.error(e.key_pos, &p, format!("`{k}` is a member-configuration element; a client configuration's security section holds an identity and realms"));
            }
        }
    }
    if kind == DocumentKind::Client {
        client_realm_warnings(cx, node, path);
    }
    // The keychain first: `${keychain:…}` anywhere below reads from it.
    let keychain = m.take("keychain", &[]).and_then(|(e, p)| {
        let mut k = map_view(
            cx,
            &e.value,
            &p,
            "a map with `path` and optionally `master-password`",
        )?;
        let file = k.path(cx, "path");
        if file.is_none() && k.entries.iter().all(|e| e.key != "path") {
            cx.diags
                .error(k.pos, &p, "missing `path`: expected the keychain file");
        }
        let master_password = k.secret(cx, "master-password");
        k.finish(cx);
        Some(KeychainConfig {
            path: file?,
            master_password,
        })
    });
    cx.keychain_config = keychain.clone();
    let enabled = m.bool(cx, "enabled", false);
    let realms = match m.take("realms", &[]) {
        Some((e, p)) => realms(cx, &e.value, &p),
        None => Vec::new(),
    };
    let member_authentication = m
        .take("member-authentication", &[])
        .and_then(|(e, p)| realm_reference(cx, &e.value, &p));
    let client_authentication = m
        .take("client-authentication", &[])
        .and_then(|(e, p)| realm_reference(cx, &e.value, &p));
    // An identity directly in the security section: the client form.
    let mut identity = None;
    let mut first_identity: Option<String> = None;
    for key in IDENTITY_KEYS {
        if let Some((e, p)) = m.take(key, &[]) {
            if kind == DocumentKind::Member {
                cx.diags.error(e.key_pos, &p, format!("`{key}` directly under security is the client-configuration form; in a member configuration put it in a realm's `identity`"));
                continue;
            }
            if let Some(first) = &first_identity {
                cx.diags.error(
                    e.key_pos,
                    &p,
                    format!("only one identity is allowed; found `{first}` and `{key}`"),
                );
                continue;
            }
            first_identity = Some(key.to_string());
            identity = identity_kind(cx, key, &e.value, &p, None);
        }
    }
    let client_permission_policy = m
        .take("client-permission-policy", &[])
        .and_then(|(e, p)| class_config(cx, &e.value, &p, None));
    let client_permissions = m
        .take("client-permissions", &[])
        .and_then(|(e, p)| client_permissions(cx, &e.value, &p));
    let security_interceptors = m
        .take("security-interceptors", &[])
        .map(|(e, p)| strings(cx, &e.value, &p, "interceptor class names"))
        .unwrap_or_default();
    let client_block_unmapped_actions = m.bool(cx, "client-block-unmapped-actions", true);
    m.finish(cx);
    let config = SecurityConfig {
        document: kind,
        enabled,
        realms,
        member_authentication,
        client_authentication,
        identity,
        client_permission_policy,
        client_permissions,
        security_interceptors,
        client_block_unmapped_actions,
        keychain,
    };
    check_references(cx, &config);
    check_files(cx);
    Some(config)
}

/// A Hazelcast client reads only `jaas` authentication from its realms (the Kerberos initiator's
/// login); anything else in a client file would be silently unused there, so say so.
fn client_realm_warnings(cx: &mut Cx<'_>, node: &Node, path: &str) {
    let Some(Value::Seq(realms)) = node.get("realms").map(|e| &e.value.value) else {
        return;
    };
    for (i, realm) in realms.iter().enumerate() {
        let rp = item_path(&join(path, "realms"), i, realm, Some("name"));
        if let Some(Value::Map(methods)) = realm.get("authentication").map(|e| &e.value.value) {
            for m in methods.iter().filter(|m| m.key != "jaas") {
                cx.diags.warn(m.key_pos, &format!("{rp}.authentication.{}", m.key), format!("a client configuration's realms hold `jaas` login modules (for the Kerberos initiator); `{}` authentication has no effect in a client", m.key));
            }
        }
        if let Some(e) = realm.get("identity") {
            cx.diags.warn(
                e.key_pos,
                &join(&rp, "identity"),
                "a client configuration's identity goes directly under `security`, not in a realm",
            );
        }
    }
}

fn realm_reference(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<RealmRef> {
    let mut m = map_view(cx, node, path, "a map with `realm`")?;
    let realm = m.realm_ref(cx, "realm", None);
    if realm.is_none() && m.entries.iter().all(|e| e.key != "realm") {
        cx.diags.error(
            m.pos,
            path,
            "missing `realm`: expected the name of a realm defined in `realms`",
        );
    }
    m.finish(cx);
    realm.map(|realm| RealmRef { realm })
}

fn realms(cx: &mut Cx<'_>, node: &Node, path: &str) -> Vec<RealmConfig> {
    let Some(items) = list(cx, node, path, "realms") else {
        return Vec::new();
    };
    let mut out: Vec<RealmConfig> = Vec::new();
    let mut seen: BTreeMap<String, Pos> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let p = item_path(path, i, item, Some("name"));
        let Some(r) = realm(cx, item, &p) else {
            continue;
        };
        if let Some(first) = seen.get(&r.name) {
            let at = item.get("name").map_or(item.pos, |e| e.value.pos);
            cx.diags.error(
                at,
                &join(&p, "name"),
                format!(
                    "duplicate realm name `{}` (first defined at line {}, column {})",
                    r.name, first.line, first.col
                ),
            );
            continue;
        }
        seen.insert(
            r.name.clone(),
            item.get("name").map_or(item.pos, |e| e.value.pos),
        );
        out.push(r);
    }
    out
}

fn realm(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<RealmConfig> {
    let mut m = map_view(cx, node, path, "a realm (a map with `name`)")?;
    let name = m.string(cx, "name");
    if name.is_none() && m.entries.iter().all(|e| e.key != "name") {
        cx.diags.error(m.pos, path, "a realm needs a `name`");
    }
    let authentication = m
        .take("authentication", &[])
        .and_then(|(e, p)| authentication(cx, &e.value, &p, name.as_deref()));
    let identity = m
        .take("identity", &[])
        .and_then(|(e, p)| identity(cx, &e.value, &p, name.as_deref()));
    let access_control_service = m.take("access-control-service", &[]).and_then(|(e, p)| {
        let mut a = map_view(cx, &e.value, &p, "a map")?;
        let factory_class_name = a.string(cx, "factory-class-name");
        let props = a
            .take("properties", &[])
            .map(|(e, p)| properties(cx, &e.value, &p))
            .unwrap_or_default();
        a.finish(cx);
        Some(AccessControlService {
            factory_class_name,
            properties: props,
        })
    });
    m.finish(cx);
    Some(RealmConfig {
        name: name?,
        authentication,
        identity,
        access_control_service,
    })
}

const AUTH_KEYS: &[&str] = &["jaas", "ldap", "kerberos", "tls", "simple", "ini"];

/// Picks the single key of a one-of map (`authentication`, `identity`).
fn one_of<'n>(
    cx: &mut Cx<'_>,
    node: &'n Node,
    path: &str,
    what: &str,
    keys: &[&'static str],
) -> Option<(&'static str, &'n Entry, String)> {
    if matches!(&node.value, Value::Null) || matches!(&node.value, Value::Scalar(t) if t.is_empty())
    {
        cx.diags.error(
            node.pos,
            path,
            format!("expected exactly one {what}: one of {}", keys.join(", ")),
        );
        return None;
    }
    let mut m = map_view(cx, node, path, &format!("a map holding one {what}"))?;
    let mut chosen: Option<(&'static str, &'n Entry, String)> = None;
    let mut present: Vec<(&'static str, &'n Entry, String)> = keys
        .iter()
        .filter_map(|k| m.take(k, &[]).map(|(e, p)| (*k, e, p)))
        .collect();
    // Document order: the first method written is the one kept, later ones are the defects.
    present.sort_by_key(|(_, e, _)| e.key_pos);
    for (k, e, p) in present {
        match &chosen {
            None => chosen = Some((k, e, p)),
            Some((first, _, _)) => cx.diags.error(
                e.key_pos,
                &p,
                format!("a realm has exactly one {what}; found `{first}` and `{k}`"),
            ),
        }
    }
    let pos = m.pos;
    let empty = m.entries.is_empty();
    m.finish(cx);
    if chosen.is_none() && empty {
        cx.diags.error(
            pos,
            path,
            format!("expected exactly one {what}: one of {}", keys.join(", ")),
        );
    }
    chosen
}

fn authentication(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    realm: Option<&str>,
) -> Option<AuthenticationConfig> {
    let (key, e, p) = one_of(cx, node, path, "authentication method", AUTH_KEYS)?;
    let v = &e.value;
    Some(match key {
        "jaas" => AuthenticationConfig::Jaas(jaas(cx, v, &p)?),
        "ldap" => AuthenticationConfig::Ldap(ldap(cx, v, &p, realm)?),
        "kerberos" => AuthenticationConfig::Kerberos(kerberos_auth(cx, v, &p, realm)?),
        "tls" => AuthenticationConfig::Tls(tls(cx, v, &p)?),
        "simple" => AuthenticationConfig::Simple(simple(cx, v, &p)?),
        _ => AuthenticationConfig::Ini(ini(cx, v, &p)?),
    })
}

fn skip_flags(cx: &mut Cx<'_>, m: &mut MapView<'_>) -> SkipFlags {
    SkipFlags {
        skip_identity: m.bool(cx, "skip-identity", false),
        skip_endpoint: m.bool(cx, "skip-endpoint", false),
        skip_role: m.bool(cx, "skip-role", false),
    }
}

const USAGES: &[(&str, Usage)] = &[
    ("REQUIRED", Usage::Required),
    ("REQUISITE", Usage::Requisite),
    ("SUFFICIENT", Usage::Sufficient),
    ("OPTIONAL", Usage::Optional),
];

fn jaas(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<Vec<LoginModuleConfig>> {
    let items = list(cx, node, path, "login modules")?;
    if items.is_empty() {
        cx.diags.error(
            node.pos,
            path,
            "expected at least one login-module (an empty stack can never authenticate)",
        );
        return None;
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut m) = map_view(cx, item, &p, "a login-module (a map with `class-name`)") else {
            continue;
        };
        let class_name = class_name(cx, &mut m, ClassKind::LoginModule);
        let usage = m.choice(cx, "usage", USAGES, Usage::Required);
        let props = m
            .take("properties", &[])
            .map(|(e, p)| properties(cx, &e.value, &p))
            .unwrap_or_default();
        m.finish(cx);
        if let Some(class_name) = class_name {
            out.push(LoginModuleConfig {
                class_name,
                usage,
                properties: props,
            });
        }
    }
    Some(out)
}

fn class_name(cx: &mut Cx<'_>, m: &mut MapView<'_>, kind: ClassKind) -> Option<String> {
    let pos = m.pos;
    match m.take("class-name", &[]) {
        Some((e, p)) => {
            let name = string(cx, &e.value, &p)?;
            cx.class_refs.push(ClassRef {
                kind,
                name: name.clone(),
                pos: e.value.pos,
                path: p,
            });
            Some(name)
        }
        None => {
            cx.diags.error(pos, &m.path, "missing `class-name`");
            None
        }
    }
}

fn class_config(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    kind: Option<ClassKind>,
) -> Option<ClassConfig> {
    let mut m = map_view(cx, node, path, "a map with `class-name`")?;
    let class_name = match kind {
        Some(k) => class_name(cx, &mut m, k),
        None => {
            let pos = m.pos;
            let n = m.string(cx, "class-name");
            if n.is_none() && m.entries.iter().all(|e| e.key != "class-name") {
                cx.diags.error(pos, path, "missing `class-name`");
            }
            n
        }
    };
    let props = m
        .take("properties", &[])
        .map(|(e, p)| properties(cx, &e.value, &p))
        .unwrap_or_default();
    m.finish(cx);
    Some(ClassConfig {
        class_name: class_name?,
        properties: props,
    })
}

const MODES: &[(&str, RoleMappingMode)] = &[
    ("attribute", RoleMappingMode::Attribute),
    ("direct", RoleMappingMode::Direct),
    ("reverse", RoleMappingMode::Reverse),
];
const SCOPES: &[(&str, SearchScope)] = &[
    ("object", SearchScope::Object),
    ("one-level", SearchScope::OneLevel),
    ("subtree", SearchScope::Subtree),
];
const SYSTEM_AUTH: &[(&str, SystemAuthentication)] = &[
    ("simple", SystemAuthentication::Simple),
    ("GSSAPI", SystemAuthentication::Gssapi),
];

/// A light syntax check of an LDAP filter template: parenthesised and balanced.
fn check_filter(cx: &mut Cx<'_>, filter: &str, pos: Pos, path: &str) -> bool {
    let mut depth: i64 = 0;
    let mut escaped = false;
    for c in filter.chars() {
        match c {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '(' if !escaped => depth += 1,
            ')' if !escaped => {
                depth -= 1;
                if depth < 0 {
                    break;
                }
            }
            _ => {}
        }
        escaped = false;
    }
    let t = filter.trim();
    if !(t.starts_with('(') && t.ends_with(')')) || depth != 0 {
        cx.diags.error(pos, path, format!("expected an LDAP filter in balanced parentheses, e.g. `(uid={{login}})`, found `{filter}`"));
        return false;
    }
    true
}

fn ldap(cx: &mut Cx<'_>, node: &Node, path: &str, realm: Option<&str>) -> Option<LdapConfig> {
    let mut m = map_view(cx, node, path, "the ldap options (a map)")?;
    let skip = skip_flags(cx, &mut m);
    let pos = m.pos;
    let url = match m.take("url", &[]) {
        Some((e, p)) => match string(cx, &e.value, &p) {
            Some(s) => {
                let urls: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                for u in &urls {
                    let lower = u.to_ascii_lowercase();
                    let ok = ["ldap://", "ldaps://", "ldapi://"]
                        .iter()
                        .any(|s| lower.starts_with(s));
                    if !ok {
                        cx.diags.error(e.value.pos, &p, format!("expected ldap://, ldaps:// or ldapi:// URLs separated by spaces, found `{u}`"));
                    }
                }
                urls
            }
            None => Vec::new(),
        },
        None => {
            cx.diags.error(
                pos,
                path,
                "missing `url`: expected one or more ldap:// or ldaps:// URLs",
            );
            Vec::new()
        }
    };
    let socket_factory_class_name = m.take("socket-factory-class-name", &[]).and_then(|(e, p)| {
        let v = string(cx, &e.value, &p)?;
        cx.diags.warn(e.value.pos, &p, "a Java socket factory has no meaning here: Realm connects with rustls; the option is ignored");
        Some(v)
    });
    let parse_dn_set = m.entries.iter().any(|e| e.key == "parse-dn");
    let parse_dn = m.bool(cx, "parse-dn", false);
    let role_context = m.string(cx, "role-context");
    let role_filter_entry = m.take("role-filter", &[]);
    let role_filter = role_filter_entry.and_then(|(e, p)| {
        let f = string(cx, &e.value, &p)?;
        check_filter(cx, &f, e.value.pos, &p).then_some(f)
    });
    let role_mapping_attribute = m.string(cx, "role-mapping-attribute");
    let role_mapping_mode = m.choice(cx, "role-mapping-mode", MODES, RoleMappingMode::Attribute);
    let role_name_attribute = m.string(cx, "role-name-attribute");
    let depth_entry = m.take("role-recursion-max-depth", &[]);
    let role_recursion_max_depth = match depth_entry {
        None => 1,
        Some((e, ref p)) => match scalar_text(cx, &e.value, p, "an integer >= 1") {
            Some((t, _)) => match t.trim().parse::<i64>() {
                Ok(n) if (1..=i64::from(u32::MAX)).contains(&n) => u32::try_from(n).unwrap_or(1),
                Ok(n) => {
                    cx.diags.error(
                        e.value.pos,
                        p,
                        format!("expected an integer >= 1 (1 = no recursion), found {n}"),
                    );
                    1
                }
                Err(_) => {
                    cx.diags.error(
                        e.value.pos,
                        p,
                        format!("expected an integer >= 1, found `{t}`"),
                    );
                    1
                }
            },
            None => 1,
        },
    };
    let role_search_scope = m.choice(cx, "role-search-scope", SCOPES, SearchScope::Subtree);
    let user_name_attribute = m
        .string(cx, "user-name-attribute")
        .unwrap_or_else(|| "uid".into());
    let system_user_dn = m.string(cx, "system-user-dn");
    let system_user_password = m.secret(cx, "system-user-password");
    let system_authentication = m
        .take("system-authentication", &[])
        .and_then(|(e, p)| enum_value(cx, &e.value, &p, SYSTEM_AUTH));
    let security_realm = m.realm_ref(cx, "security-realm", realm);
    let password_attribute = m.string(cx, "password-attribute");
    let user_context = m.string(cx, "user-context");
    let user_filter_entry = m.take("user-filter", &[]);
    let user_filter = user_filter_entry
        .and_then(|(e, p)| {
            let f = string(cx, &e.value, &p)?;
            check_filter(cx, &f, e.value.pos, &p).then_some(f)
        })
        .unwrap_or_else(|| "(uid={login})".into());
    let user_search_scope = m.choice(cx, "user-search-scope", SCOPES, SearchScope::Subtree);
    let skip_authentication = m.bool(cx, "skip-authentication", false);

    // Options that only make sense in some modes: say so instead of ignoring them silently.
    let has_system = system_user_dn.is_some() || system_authentication.is_some();
    if !has_system {
        for k in [
            "user-context",
            "user-filter",
            "user-search-scope",
            "password-attribute",
            "skip-authentication",
            "security-realm",
        ] {
            if let Some(e) = m.entries.iter().find(|e| e.key == k) {
                cx.diags.warn(e.key_pos, &join(path, k), format!("`{k}` is used only with an admin connection (system-user-dn or system-authentication); without one the login name must be the user's DN and this option is ignored"));
            }
        }
    }
    let has_key = |k: &str| m.entries.iter().any(|e| e.key == k);
    if has_key("system-user-dn")
        && !has_key("system-user-password")
        && system_authentication != Some(SystemAuthentication::Gssapi)
    {
        let at = m
            .entries
            .iter()
            .find(|e| e.key == "system-user-dn")
            .map_or(pos, |e| e.key_pos);
        cx.diags.error(at, &join(path, "system-user-dn"), "system-user-dn needs system-user-password: a DN with an empty password is an unauthenticated bind, which servers accept as anonymous");
    }
    if password_attribute.is_some() && skip_authentication {
        let at = m
            .entries
            .iter()
            .find(|e| e.key == "password-attribute")
            .map_or(pos, |e| e.key_pos);
        cx.diags.warn(at, &join(path, "password-attribute"), "password-attribute has no effect with skip-authentication: the password is not checked at all");
    }
    if parse_dn_set && role_mapping_mode != RoleMappingMode::Attribute {
        let at = m
            .entries
            .iter()
            .find(|e| e.key == "parse-dn")
            .map_or(pos, |e| e.key_pos);
        cx.diags.warn(
            at,
            &join(path, "parse-dn"),
            "parse-dn is used only with role-mapping-mode attribute; ignored",
        );
    }
    if role_mapping_mode != RoleMappingMode::Reverse {
        for k in ["role-context", "role-filter", "role-search-scope"] {
            if let Some(e) = m.entries.iter().find(|e| e.key == k) {
                cx.diags.warn(
                    e.key_pos,
                    &join(path, k),
                    format!("`{k}` is used only with role-mapping-mode reverse; ignored"),
                );
            }
        }
    }
    if role_mapping_mode == RoleMappingMode::Attribute
        && let Some((e, p)) = depth_entry
            .as_ref()
            .filter(|_| role_recursion_max_depth > 1)
    {
        cx.diags.warn(e.key_pos, p, "role-recursion-max-depth is used only with role-mapping-mode direct or reverse; ignored");
    }
    let role_filter = match (role_filter, &role_mapping_attribute) {
        (Some(f), _) => Some(f),
        (None, Some(a)) => Some(format!("({a}={{memberDN}})")),
        (None, None) => None,
    };
    if !skip.skip_role {
        let mode_pos = m
            .entries
            .iter()
            .find(|e| e.key == "role-mapping-mode")
            .map_or(pos, |e| e.value.pos);
        match role_mapping_mode {
            RoleMappingMode::Reverse if role_filter.is_none() && !has_key("role-filter") => cx.diags.error(mode_pos, &join(path, "role-mapping-mode"), "reverse role mapping needs `role-filter` (e.g. `(member={memberDN})`) or `role-mapping-attribute`"),
            RoleMappingMode::Direct if !has_key("role-mapping-attribute") => cx.diags.error(mode_pos, &join(path, "role-mapping-mode"), "direct role mapping needs `role-mapping-attribute` (the user attribute holding role DNs)"),
            RoleMappingMode::Direct | RoleMappingMode::Reverse if role_name_attribute.is_none() => cx.diags.warn(mode_pos, &join(path, "role-mapping-mode"), "no `role-name-attribute`: role entries are found but give no role names"),
            RoleMappingMode::Attribute if role_mapping_attribute.is_none() => cx.diags.warn(pos, path, "no `role-mapping-attribute`: this realm adds no roles, and a peer without roles is granted nothing"),
            RoleMappingMode::Attribute if parse_dn && role_name_attribute.is_none() => cx.diags.error(pos, &join(path, "parse-dn"), "parse-dn needs `role-name-attribute` (the RDN type to take, e.g. cn)"),
            _ => {}
        }
    }
    let ext = ldap_extensions(
        cx,
        &mut m,
        path,
        &url,
        has_system,
        password_attribute.is_some() || skip_authentication,
    );
    // Active Directory's conventions when `domain` is set and the option is not.
    let has_key2 = |k: &str| m.entries.iter().any(|e| e.key == k);
    let user_filter = if ext.domain.is_some() && !has_key2("user-filter") {
        "(&(objectClass=user)(userPrincipalName={0}))".to_string()
    } else {
        user_filter
    };
    let user_name_attribute = if ext.domain.is_some() && !has_key2("user-name-attribute") {
        "sAMAccountName".to_string()
    } else {
        user_name_attribute
    };
    if let Some(d) = &ext.domain
        && has_system
        && !user_filter.contains("{0}")
        && !user_filter.contains("{1}")
        && !user_filter.contains("{login}")
    {
        let at = m
            .entries
            .iter()
            .find(|e| e.key == "user-filter")
            .map_or(pos, |e| e.value.pos);
        cx.diags.warn(at, &join(path, "user-filter"), format!("`domain` ({d}) is set but user-filter uses none of {{0}}, {{1}}, {{login}}: every login searches the same entry"));
    }
    if role_mapping_mode != RoleMappingMode::Reverse
        && ext.role_recursion_strategy == RoleRecursionStrategy::InChain
    {
        let at = m
            .entries
            .iter()
            .find(|e| e.key == "role-recursion-strategy")
            .map_or(pos, |e| e.value.pos);
        cx.diags.error(at, &join(path, "role-recursion-strategy"), "in-chain works with role-mapping-mode reverse only (the server resolves `member` chains); use client for direct mode");
    }
    m.finish(cx);
    Some(LdapConfig {
        ext,
        skip,
        url,
        socket_factory_class_name,
        parse_dn,
        role_context,
        role_filter,
        role_mapping_attribute,
        role_mapping_mode,
        role_name_attribute,
        role_recursion_max_depth,
        role_search_scope,
        user_name_attribute,
        system_authentication: system_authentication.or(system_user_dn
            .as_ref()
            .map(|_| SystemAuthentication::Simple)),
        system_user_dn,
        system_user_password,
        security_realm,
        password_attribute,
        user_context,
        user_filter,
        user_search_scope,
        skip_authentication,
    })
}

const STRATEGIES: &[(&str, RoleRecursionStrategy)] = &[
    ("client", RoleRecursionStrategy::Client),
    ("in-chain", RoleRecursionStrategy::InChain),
];

/// True for `localhost` and loopback IP literals (plain-text binds there never leave the host).
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host of an `ldap://host:port/...` URL.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn ldap_extensions(
    cx: &mut Cx<'_>,
    m: &mut MapView<'_>,
    path: &str,
    urls: &[String],
    has_system: bool,
    no_user_bind: bool,
) -> LdapExtensions {
    let d = LdapExtensions::default();
    let domain = m
        .string(cx, "domain")
        .map(|s| s.trim().trim_start_matches('@').to_string());
    let connect_timeout_ms = m.int(cx, "connect-timeout", 1, 600_000, d.connect_timeout_ms);
    let operation_timeout_ms = m.int(cx, "operation-timeout", 1, 600_000, d.operation_timeout_ms);
    let login_timeout_ms = m.int(cx, "login-timeout", 1, 3_600_000, d.login_timeout_ms);
    let start_tls = m.bool(cx, "start-tls", false);
    let trust_ca_file = m.path(cx, "trust-ca-file");
    let verify_hostname = m.bool(cx, "verify-hostname", true);
    let require_tls = m.bool(cx, "require-tls", false);
    let pool_size = m.int(cx, "pool-size", 1, 64, u64::from(d.pool_size));
    let pool_max_lifetime_ms = m.int(
        cx,
        "pool-max-lifetime",
        1000,
        86_400_000,
        d.pool_max_lifetime_ms,
    );
    let page_size = m.int(cx, "page-size", 1, 100_000, u64::from(d.page_size));
    let role_recursion_strategy = m.choice(
        cx,
        "role-recursion-strategy",
        STRATEGIES,
        RoleRecursionStrategy::Client,
    );
    let mut role_mappings = Vec::new();
    if let Some((e, p)) = m.take("role-mappings", &[])
        && let Some(items) = list(cx, &e.value, &p, "role mappings")
    {
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let Some(mut rm) =
                map_view(cx, item, &ip, "a role mapping (a map with role and groups)")
            else {
                continue;
            };
            let rpos = rm.pos;
            let role = rm.string(cx, "role").map(|r| r.trim().to_string());
            let groups: Vec<String> = rm
                .string(cx, "groups")
                .map(|g| {
                    g.split(';')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            rm.finish(cx);
            match role {
                Some(r) if !r.is_empty() && !groups.is_empty() => {
                    role_mappings.push(RoleMapping { role: r, groups })
                }
                Some(r) if r.is_empty() => cx.diags.error(
                    rpos,
                    &ip,
                    "`role` is empty: expected the application role to grant",
                ),
                Some(_) => cx.diags.error(
                    rpos,
                    &ip,
                    "missing `groups`: expected one or more group names separated by `;`",
                ),
                None => cx.diags.error(
                    rpos,
                    &ip,
                    "missing `role`: expected the application role to grant",
                ),
            }
        }
    }
    let key_pos =
        |m: &MapView<'_>, k: &str| m.entries.iter().find(|e| e.key == k).map(|e| e.key_pos);
    if !verify_hostname {
        let at = key_pos(m, "verify-hostname").unwrap_or(m.pos);
        cx.diags.warn(at, &join(path, "verify-hostname"), "hostname verification is off: any certificate signed by a trusted CA is accepted for this server, so anyone holding one can impersonate it");
    }
    if start_tls
        && urls
            .iter()
            .any(|u| u.to_ascii_lowercase().starts_with("ldaps://"))
    {
        let at = key_pos(m, "start-tls").unwrap_or(m.pos);
        cx.diags.warn(
            at,
            &join(path, "start-tls"),
            "start-tls applies to ldap:// URLs only; ldaps:// URLs are TLS from the first byte",
        );
    }
    // Passwords (the user's, the admin's) cross the wire in a simple bind unless TLS protects it.
    let sends_password = !no_user_bind || has_system;
    if sends_password && !start_tls {
        let plain: Vec<&String> = urls
            .iter()
            .filter(|u| {
                u.to_ascii_lowercase().starts_with("ldap://") && !is_loopback_host(url_host(u))
            })
            .collect();
        if !plain.is_empty() {
            let at = key_pos(m, "url").unwrap_or(m.pos);
            let list = plain
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let msg = format!(
                "passwords would be sent in clear text to {list}: use ldaps:// or start-tls: true"
            );
            if require_tls {
                cx.diags
                    .error(at, &join(path, "url"), format!("{msg} (require-tls is on)"));
            } else {
                cx.diags.warn(
                    at,
                    &join(path, "url"),
                    format!("{msg}, or require-tls: true to refuse this"),
                );
            }
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    LdapExtensions {
        domain,
        connect_timeout_ms,
        operation_timeout_ms,
        login_timeout_ms,
        start_tls,
        trust_ca_file,
        verify_hostname,
        require_tls,
        pool_size: pool_size as u32,
        pool_max_lifetime_ms,
        page_size: page_size as u32,
        role_recursion_strategy,
        role_mappings,
    }
}

fn conflict(cx: &mut Cx<'_>, m: &MapView<'_>, a: &str, others: &[&str], why: &str) {
    if let Some(ea) = m.entries.iter().find(|e| e.key == a) {
        for o in others {
            if let Some(eo) = m.entries.iter().find(|e| e.key == *o) {
                let (first, second) = if ea.key_pos <= eo.key_pos {
                    (ea, eo)
                } else {
                    (eo, ea)
                };
                cx.diags.error(
                    second.key_pos,
                    &join(&m.path, &second.key),
                    format!(
                        "`{}` cannot be combined with `{}`: {why}",
                        second.key, first.key
                    ),
                );
            }
        }
    }
}

fn kerberos_auth(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    realm: Option<&str>,
) -> Option<KerberosAuthConfig> {
    let mut m = map_view(cx, node, path, "the kerberos options (a map)")?;
    let skip = skip_flags(cx, &mut m);
    let relax_flags_check = m.bool(cx, "relax-flags-check", false);
    let use_name_without_realm = m.bool(cx, "use-name-without-realm", false);
    let security_realm = m.realm_ref(cx, "security-realm", realm);
    let principal = m.string(cx, "principal");
    let keytab_file = m.path(cx, "keytab-file");
    conflict(
        cx,
        &m,
        "security-realm",
        &["principal", "keytab-file"],
        "either reference a realm holding the Kerberos credentials or give principal and keytab-file",
    );
    let ldap = m
        .take("ldap", &[])
        .and_then(|(e, p)| ldap(cx, &e.value, &p, realm))
        .map(Box::new);
    m.finish(cx);
    Some(KerberosAuthConfig {
        skip,
        relax_flags_check,
        use_name_without_realm,
        security_realm,
        principal,
        keytab_file,
        ldap,
    })
}

fn tls(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<TlsConfig> {
    let mut m = map_view(cx, node, path, "the tls options (a map)")?;
    let skip = skip_flags(cx, &mut m);
    let role_attribute = match m.take("roleAttribute", &["role-attribute"]) {
        Some((e, p)) => {
            let v = string(cx, &e.value, &p);
            match v {
                Some(v)
                    if v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
                {
                    v
                }
                Some(v) => {
                    cx.diags.error(
                        e.value.pos,
                        &p,
                        format!(
                            "expected an attribute type such as cn, ou or 2.5.4.3, found `{v}`"
                        ),
                    );
                    "cn".into()
                }
                None => "cn".into(),
            }
        }
        None => "cn".into(),
    };
    let allow = match m.take("allow", &[]) {
        Some((e, p)) => tls_allow(cx, &e.value, &p),
        None => TlsAllow::default(),
    };
    let ca_file = m.path(cx, "ca-file");
    let crl_file = m.path(cx, "crl-file");
    let certificate_file = m.path(cx, "certificate-file");
    let key_file = m.path(cx, "key-file");
    m.finish(cx);
    Some(TlsConfig {
        skip,
        role_attribute,
        allow,
        ca_file,
        crl_file,
        certificate_file,
        key_file,
    })
}

/// The `allow` rules of a `tls` authentication; patterns are checked to be valid regular
/// expressions here, where the error can say where they are.
fn tls_allow(cx: &mut Cx<'_>, node: &Node, path: &str) -> TlsAllow {
    let Some(mut m) = map_view(
        cx,
        node,
        path,
        "the allow rules (a map of subjects, subject-patterns, sans, san-patterns)",
    ) else {
        return TlsAllow::default();
    };
    let mut list_of = |cx: &mut Cx<'_>, key: &'static str, patterns: bool| -> Vec<String> {
        let Some((e, p)) = m.take(key, &[]) else {
            return Vec::new();
        };
        let values = strings(cx, &e.value, &p, "a list of strings");
        if patterns && let Value::Seq(items) = &e.value.value {
            for (i, (v, n)) in values.iter().zip(items.iter()).enumerate() {
                if let Err(err) = regex::Regex::new(&format!("^(?:{v})$")) {
                    let first = err.to_string().lines().last().unwrap_or("").to_string();
                    cx.diags.error(
                        n.pos,
                        &format!("{p}[{i}]"),
                        format!(
                            "expected a regular expression: {}",
                            first.trim().trim_start_matches("error: ")
                        ),
                    );
                }
            }
        }
        values
    };
    let allow = TlsAllow {
        subjects: list_of(cx, "subjects", false),
        subject_patterns: list_of(cx, "subject-patterns", true),
        sans: list_of(cx, "sans", false),
        san_patterns: list_of(cx, "san-patterns", true),
    };
    m.finish(cx);
    allow
}

fn simple(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<SimpleConfig> {
    let mut m = map_view(cx, node, path, "the simple options (a map)")?;
    let skip = skip_flags(cx, &mut m);
    let mut users: Vec<SimpleUser> = Vec::new();
    if let Some((e, p)) = m.take("users", &[])
        && let Some(items) = list(cx, &e.value, &p, "users")
    {
        for (i, item) in items.iter().enumerate() {
            let up = item_path(&p, i, item, Some("username"));
            let Some(mut u) = map_view(
                cx,
                item,
                &up,
                "a user (a map with username, password, roles)",
            ) else {
                continue;
            };
            let upos = u.pos;
            let username = u.string(cx, "username");
            let password = u.secret(cx, "password");
            let roles = u
                .take("roles", &[])
                .map(|(e, p)| strings(cx, &e.value, &p, "role names"))
                .unwrap_or_default();
            for (k, v) in [
                ("username", username.is_some()),
                ("password", password.is_some()),
            ] {
                if !v && u.entries.iter().all(|e| e.key != k) {
                    cx.diags.error(upos, &up, format!("missing `{k}`"));
                }
            }
            if let Some(pw) = &password
                && pw.is_empty()
            {
                let at = u
                    .entries
                    .iter()
                    .find(|e| e.key == "password")
                    .map_or(upos, |e| e.value.pos);
                cx.diags.error(
                    at,
                    &join(&up, "password"),
                    "an empty password is not allowed: it would never authenticate",
                );
            }
            u.finish(cx);
            let (Some(username), Some(password)) = (username, password) else {
                continue;
            };
            if users.iter().any(|x| x.username == username) {
                let at = item.get("username").map_or(upos, |e| e.value.pos);
                cx.diags.error(
                    at,
                    &join(&up, "username"),
                    format!("duplicate user `{username}`"),
                );
                continue;
            }
            users.push(SimpleUser {
                username,
                password,
                roles,
            });
        }
    }
    let role_separator = m
        .take("role-separator", &[])
        .and_then(|(e, p)| scalar_text(cx, &e.value, &p, "a string"))
        .map(|(t, _)| t)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| ",".into());
    if users.is_empty() && !cx.diags.has_errors() {
        cx.diags
            .warn(m.pos, path, "no users: nobody can log in to this realm");
    }
    m.finish(cx);
    Some(SimpleConfig {
        skip,
        users,
        role_separator,
    })
}

fn ini(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<IniConfig> {
    let mut m = map_view(cx, node, path, "the ini options (a map with `path`)")?;
    let skip = skip_flags(cx, &mut m);
    let pos = m.pos;
    let file = m.path(cx, "path");
    let allow_plaintext_passwords = m.bool(cx, "allow-plaintext-passwords", false);
    if file.is_none() && m.entries.iter().all(|e| e.key != "path") {
        cx.diags.error(
            pos,
            path,
            "missing `path`: expected the ini file with [users] and [roles]",
        );
    }
    m.finish(cx);
    Some(IniConfig {
        skip,
        path: file?,
        allow_plaintext_passwords,
    })
}

fn identity(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &str,
    realm: Option<&str>,
) -> Option<IdentityConfig> {
    let (key, e, p) = one_of(cx, node, path, "identity", IDENTITY_KEYS)?;
    identity_kind(cx, key, &e.value, &p, realm)
}

const ENCODINGS: &[(&str, TokenEncoding)] = &[
    ("none", TokenEncoding::None),
    ("base64", TokenEncoding::Base64),
];

fn identity_kind(
    cx: &mut Cx<'_>,
    key: &str,
    node: &Node,
    path: &str,
    realm: Option<&str>,
) -> Option<IdentityConfig> {
    match key {
        "username-password" => {
            let mut m = map_view(cx, node, path, "a map with username and password")?;
            let pos = m.pos;
            let username = m.string(cx, "username");
            let password = m.secret(cx, "password");
            for (k, v) in [
                ("username", username.is_some()),
                ("password", password.is_some()),
            ] {
                if !v && m.entries.iter().all(|e| e.key != k) {
                    cx.diags.error(pos, path, format!("missing `{k}`"));
                }
            }
            m.finish(cx);
            Some(IdentityConfig::UsernamePassword {
                username: username?,
                password: password?,
            })
        }
        "token" => {
            let mut m = map_view(cx, node, path, "a token (a map with encoding and value)")?;
            let pos = m.pos;
            let encoding = m.choice(cx, "encoding", ENCODINGS, TokenEncoding::None);
            let value = match m.take("value", &[]) {
                Some((e, p)) => {
                    match scalar_text(cx, &e.value, &p, "the token text") {
                        Some((t, _)) if t.trim().is_empty() => {
                            cx.diags
                                .error(e.value.pos, &p, "expected a non-empty token");
                            None
                        }
                        Some((t, _)) => {
                            match encoding {
                                TokenEncoding::None => Some(Secret::from(t)),
                                TokenEncoding::Base64 => {
                                    let compact: String =
                                        t.chars().filter(|c| !c.is_whitespace()).collect();
                                    match base64::engine::general_purpose::STANDARD
                                        .decode(compact.as_bytes())
                                    {
                                        Ok(b) => Some(Secret::from_bytes(b)),
                                        Err(err) => {
                                            // The token is a secret: say where, never which character.
                                            let why = match err {
                                                base64::DecodeError::InvalidByte(at, _)
                                                | base64::DecodeError::InvalidLastSymbol {
                                                    offset: at,
                                                    ..
                                                } => {
                                                    format!(
                                                        "the character at position {} is not valid base64",
                                                        at + 1
                                                    )
                                                }
                                                base64::DecodeError::InvalidLength(n) => {
                                                    format!(
                                                        "{n} base64 characters cannot encode whole bytes"
                                                    )
                                                }
                                                base64::DecodeError::InvalidPadding => {
                                                    "the `=` padding is wrong".to_string()
                                                }
                                            };
                                            cx.diags.error(e.value.pos, &p, format!("expected base64 text (encoding is base64): {why}"));
                                            None
                                        }
                                    }
                                }
                            }
                        }
                        None => None,
                    }
                }
                None => {
                    cx.diags.error(pos, path, "missing the token value");
                    None
                }
            };
            m.finish(cx);
            Some(IdentityConfig::Token {
                encoding,
                value: value?,
            })
        }
        "kerberos" => {
            let mut m = map_view(cx, node, path, "the kerberos identity options (a map)")?;
            let realm_name = m.string(cx, "realm");
            let security_realm = m.realm_ref(cx, "security-realm", realm);
            let principal = m.string(cx, "principal");
            let keytab_file = m.path(cx, "keytab-file");
            let service_name_prefix = m.string(cx, "service-name-prefix");
            let spn = m.string(cx, "spn");
            let use_canonical_hostname = m.bool(cx, "use-canonical-hostname", false);
            conflict(
                cx,
                &m,
                "spn",
                &["service-name-prefix"],
                "a fixed spn leaves nothing to prefix",
            );
            conflict(
                cx,
                &m,
                "security-realm",
                &["principal", "keytab-file"],
                "either reference a realm holding the Kerberos credentials or give principal and keytab-file",
            );
            m.finish(cx);
            Some(IdentityConfig::Kerberos(KerberosIdentityConfig {
                realm: realm_name,
                security_realm,
                principal,
                keytab_file,
                service_name_prefix: service_name_prefix
                    .or_else(|| spn.is_none().then(|| "hz/".to_string())),
                spn,
                use_canonical_hostname,
            }))
        }
        _ => class_config(cx, node, path, Some(ClassKind::CredentialsFactory))
            .map(IdentityConfig::CredentialsFactory),
    }
}

const PERMISSION_TYPES: &[&str] = &[
    "all",
    "config",
    "transaction",
    "map",
    "queue",
    "topic",
    "multimap",
    "list",
    "set",
    "flake-id-generator",
    "lock",
    "atomic-long",
    "atomic-reference",
    "countdown-latch",
    "semaphore",
    "executor-service",
    "durable-executor-service",
    "cardinality-estimator",
    "scheduled-executor",
    "cache",
    "user-code-deployment",
    "pn-counter",
    "replicatedmap",
    "management",
    "sql",
    "ring-buffer",
    "reliable-topic",
    "job",
    "connector",
    "user-code-namespace",
    "cp-map",
    "vector-collection",
];

fn client_permissions(cx: &mut Cx<'_>, node: &Node, path: &str) -> Option<ClientPermissions> {
    let mut m = map_view(cx, node, path, "the client permissions (a map)")?;
    let on_join_operation = m
        .choice(
            cx,
            "on-join-operation",
            &[("RECEIVE", "RECEIVE"), ("SEND", "SEND"), ("NONE", "NONE")],
            "RECEIVE",
        )
        .to_string();
    let priority_grant = m.bool(cx, "priority-grant", false);
    let mut permissions = Vec::new();
    for kind in PERMISSION_TYPES {
        let Some((e, p)) = m.take(kind, &[]) else {
            continue;
        };
        if super::xml::SINGLETON_PERMISSIONS.contains(kind) {
            if let Some(pc) = permission(cx, kind, &e.value, &p) {
                permissions.push((e.key_pos, pc));
            }
        } else if let Some(items) = list(cx, &e.value, &p, &format!("{kind} permissions")) {
            for (i, item) in items.iter().enumerate() {
                if let Some(pc) = permission(cx, kind, item, &format!("{p}[{i}]")) {
                    permissions.push((item.pos, pc));
                }
            }
        }
    }
    m.finish(cx);
    permissions.sort_by_key(|(pos, _)| *pos);
    Some(ClientPermissions {
        on_join_operation,
        priority_grant,
        permissions: permissions.into_iter().map(|(_, p)| p).collect(),
    })
}

fn permission(cx: &mut Cx<'_>, kind: &str, node: &Node, path: &str) -> Option<PermissionConfig> {
    let mut m = map_view(cx, node, path, "a permission (a map)")?;
    let name = m.string(cx, "name");
    let principal = m.string(cx, "principal");
    let deny = m.bool(cx, "deny", false);
    let endpoints = m
        .take("endpoints", &[])
        .map(|(e, p)| strings(cx, &e.value, &p, "endpoints"))
        .unwrap_or_default();
    let actions = m
        .take("actions", &[])
        .map(|(e, p)| strings(cx, &e.value, &p, "actions"))
        .unwrap_or_default();
    m.finish(cx);
    Some(PermissionConfig {
        kind: kind.to_string(),
        name,
        principal,
        deny,
        endpoints,
        actions,
    })
}

// ---------------------------------------------------------------------------------------------
// Cross-checks.

fn check_references(cx: &mut Cx<'_>, config: &SecurityConfig) {
    let names: Vec<&str> = config.realms.iter().map(|r| r.name.as_str()).collect();
    let defined = if names.is_empty() {
        "no realms are defined".to_string()
    } else {
        format!("defined realms: {}", names.join(", "))
    };
    for r in &cx.realm_refs {
        if !names.contains(&r.to.as_str()) {
            cx.diags.error(
                r.pos,
                &r.path,
                format!("no realm named `{}` ({defined})", r.to),
            );
        }
    }
    // security-realm cycles: for every edge u → v (in file order), look for a path v ⇝ u.
    // Each cycle is reported once, at the first of its edges in the file.
    let edges: Vec<(&str, &str, Pos, &str)> = cx
        .realm_refs
        .iter()
        .filter(|r| r.security_realm)
        .filter_map(|r| {
            r.from
                .as_deref()
                .map(|f| (f, r.to.as_str(), r.pos, r.path.as_str()))
        })
        .collect();
    let mut reported: Vec<Vec<String>> = Vec::new();
    let mut found = Vec::new();
    for (from, to, pos, path) in &edges {
        // Breadth-first search from `to` back to `from`, remembering parents for the message.
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([*to]);
        let mut seen = vec![*to];
        let mut closed = *to == *from;
        while let Some(n) = queue.pop_front() {
            if closed {
                break;
            }
            for (f, t, _, _) in &edges {
                if *f == n && !seen.contains(t) {
                    seen.push(t);
                    parent.insert(t, n);
                    if *t == *from {
                        closed = true;
                    }
                    queue.push_back(t);
                }
            }
        }
        if !closed {
            continue;
        }
        // Walk back from `from` to `to`, then read the cycle forwards: from → to → … → from.
        let mut rev = vec![*from];
        let mut n = *from;
        while n != *to {
            match parent.get(n) {
                Some(p) => {
                    rev.push(p);
                    n = p;
                }
                None => break,
            }
        }
        rev.reverse();
        let chain: Vec<String> = std::iter::once(*from)
            .chain(rev)
            .map(str::to_string)
            .collect();
        let mut key: Vec<String> = chain.clone();
        key.sort();
        key.dedup();
        if !reported.contains(&key) {
            reported.push(key);
            found.push((*pos, path.to_string(), chain.join(" → ")));
        }
    }
    for (pos, path, cycle) in found {
        cx.diags.error(
            pos,
            &path,
            format!("security-realm references form a cycle: {cycle}"),
        );
    }
}

fn check_files(cx: &mut Cx<'_>) {
    let refs = std::mem::take(&mut cx.file_refs);
    for (file, pos, path) in refs {
        if !file.exists() {
            cx.diags.warn(
                pos,
                &path,
                format!("file {} does not exist (yet)", file.display()),
            );
        }
    }
}

/// Base folder for relative paths in a config file.
pub(crate) fn base_dir(file: &Path) -> PathBuf {
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = match parent {
        Some(p) if p.is_absolute() => p.to_path_buf(),
        Some(p) => std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf()),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    // Drop `.` components so messages show clean paths.
    dir.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// Hazelcast's option names for its LDAP login modules (and the JNDI ones it passes through),
/// with the typed keys they mean.
const LDAP_PROPERTY_KEYS: &[(&str, &str)] = &[
    ("java.naming.provider.url", "url"),
    (
        "java.naming.ldap.factory.socket",
        "socket-factory-class-name",
    ),
    ("java.naming.security.principal", "system-user-dn"),
    ("java.naming.security.credentials", "system-user-password"),
    (
        "java.naming.security.authentication",
        "system-authentication",
    ),
    ("com.sun.jndi.ldap.connect.timeout", "connect-timeout"),
    ("com.sun.jndi.ldap.read.timeout", "operation-timeout"),
    ("parseDN", "parse-dn"),
    ("roleContext", "role-context"),
    ("roleFilter", "role-filter"),
    ("roleMappingAttribute", "role-mapping-attribute"),
    ("roleMappingMode", "role-mapping-mode"),
    ("roleNameAttribute", "role-name-attribute"),
    ("roleRecursionMaxDepth", "role-recursion-max-depth"),
    ("roleSearchScope", "role-search-scope"),
    ("userNameAttribute", "user-name-attribute"),
    ("passwordAttribute", "password-attribute"),
    ("userContext", "user-context"),
    ("userFilter", "user-filter"),
    ("userSearchScope", "user-search-scope"),
    ("skipAuthentication", "skip-authentication"),
    ("securityRealm", "security-realm"),
    ("skipIdentity", "skip-identity"),
    ("skipEndpoint", "skip-endpoint"),
    ("skipRole", "skip-role"),
];

/// Reads the properties of an LDAP login module named in a `jaas` chain into the same
/// [`LdapConfig`] the typed `ldap` element gives, with the same checks. Accepts Hazelcast's
/// option names (`roleMappingAttribute`, `java.naming.provider.url`, …) and the typed names
/// (`role-mapping-attribute`, `url`, …). Other JNDI properties (`java.naming.*`,
/// `com.sun.jndi.*`) have no meaning here and are ignored with a warning. Returns the
/// configuration and the warnings, or every error joined.
pub fn ldap_config_from_properties(
    properties: &Properties,
    realm: &str,
    base_dir: &Path,
) -> Result<(LdapConfig, Vec<String>), String> {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    let pos = Pos::new(1, 1);
    for (key, value) in properties {
        let typed = LDAP_PROPERTY_KEYS
            .iter()
            .find(|(h, _)| h == key)
            .map(|(_, t)| *t)
            .unwrap_or(key.as_str());
        if typed.starts_with("java.") || typed.starts_with("com.sun.") {
            warnings.push(format!(
                "property `{key}` is a JNDI setting with no meaning here; ignored"
            ));
            continue;
        }
        let text = match value {
            PropertyValue::Text(t) => t.clone(),
            PropertyValue::Secret(s) => s.expose_str().unwrap_or_default().to_string(),
        };
        // Values are final: keep the mapper from reading `${…}` in them again.
        let text = text.replace("${", "$${");
        entries.push(Entry {
            key: typed.to_string(),
            key_pos: pos,
            value: Node::scalar(pos, text),
        });
    }
    let node = Node {
        pos,
        value: Value::Map(entries),
    };
    let file = PathBuf::from(format!("<properties of realm {realm}>"));
    let no_env = |_: &str| None;
    let mut cx = Cx::new(Diags::new(&file), base_dir.to_path_buf(), &no_env);
    let config = ldap(&mut cx, &node, "properties", Some(realm));
    let diags = cx.diags.into_sorted();
    let text = |d: &super::Diagnostic| format!("{}: {}", d.path, d.message);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == super::Severity::Error)
        .map(text)
        .collect();
    warnings.extend(
        diags
            .iter()
            .filter(|d| d.severity != super::Severity::Error)
            .map(text),
    );
    match config {
        Some(c) if errors.is_empty() => Ok((c, warnings)),
        _ => Err(errors.join("; ")),
    }
}
