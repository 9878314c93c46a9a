//! Configuration: one model, two syntaxes.
//!
//! ```text
//! XML  ─ quick-xml ─→ DOM ─ normalise ─┐
//!                                      ├─→ positioned tree ─ map ─→ SecurityConfig (+ warnings)
//! YAML ─ saphyr-parser events ─────────┘
//! ```
//!
//! A file may be a standalone security document (root `<security>` / key `security:`), or a
//! complete Hazelcast member (`hazelcast`) or client (`hazelcast-client`) configuration, from which
//! only the security section is read; every other section is ignored.
//!
//! Every defect is reported as `FILE:LINE:COL: key.path: what was expected`, for XML and YAML
//! alike, and all independent defects are reported, not only the first:
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax};
//! let yaml = "security:\n  realms:\n    - name: r\n      authentication:\n        ldap:\n          url: ldap://h\n          role-recursion-max-depth: -1\n";
//! let err = load_str(yaml, Syntax::Yaml, "s.yaml".as_ref(), &LoadOptions::default()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "s.yaml:7:37: security.realms[r].authentication.ldap.role-recursion-max-depth: \
//!      expected an integer >= 1 (1 = no recursion), found -1"
//! );
//! ```
//!
//! String values may be `${env:NAME}` or `${file:PATH}` (relative to the config file), anywhere in
//! the value; `$${` writes a literal `${`. Relative file paths (`keytab-file`, the ini `path`, ...)
//! are resolved against the folder of the config file that names them.

mod diag;
mod emit;
mod kerberos;
mod map;
mod model;
mod tree;
mod xml;
mod yaml;

pub use diag::{ConfigError, Diagnostic, Severity};
pub use kerberos::{KRB5_LOGIN_MODULE_CLASSES, KRB5_LOGIN_MODULE_PROPERTIES, KerberosKeys};
pub use map::{ClassKind, ClassRef, EnvLookup, ldap_config_from_properties};
pub use model::*;
pub use tree::{Entry, Node, Pos, Value};

use diag::Diags;
use std::path::{Path, PathBuf};

/// The two syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// XML.
    Xml,
    /// YAML.
    Yaml,
}

impl Syntax {
    /// The syntax a file name implies (`.xml`, `.yaml`/`.yml`), if any.
    pub fn from_path(path: &Path) -> Option<Syntax> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xml" => Some(Syntax::Xml),
            "yaml" | "yml" => Some(Syntax::Yaml),
            _ => None,
        }
    }

    /// Guesses from content: a document starting with `<` is XML.
    pub fn sniff(text: &str) -> Syntax {
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            Syntax::Xml
        } else {
            Syntax::Yaml
        }
    }
}

/// How to load.
#[derive(Default)]
pub struct LoadOptions<'a> {
    /// Lookup for `${env:NAME}`; the process environment when `None`.
    pub env: Option<EnvLookup<'a>>,
}

/// The security section as read: the tree (kept for `convert`) and its kind.
#[derive(Clone, Debug)]
pub struct Document {
    /// Standalone, member or client.
    pub kind: DocumentKind,
    /// The security section, in the YAML shape.
    pub security: Node,
}

/// A successfully loaded configuration.
#[derive(Debug)]
pub struct Loaded {
    /// The typed model.
    pub config: SecurityConfig,
    /// Warnings (the configuration is usable).
    pub warnings: Vec<Diagnostic>,
    /// Every class name the configuration references, for registry checks.
    pub class_refs: Vec<ClassRef>,
    /// The file it came from.
    pub file: PathBuf,
    /// The syntax it was written in.
    pub syntax: Syntax,
    /// The parsed security section.
    pub document: Document,
}

impl Loaded {
    /// The model as canonical JSON: sorted keys, defaults filled in, secrets `"<redacted>"`.
    pub fn dump(&self) -> String {
        dump(&self.config)
    }

    /// The security section written in the given syntax (placeholders are kept as written,
    /// secrets are written as they are in the source, comments are not kept).
    pub fn convert(&self, to: Syntax) -> String {
        match to {
            Syntax::Xml => emit::xml(&self.document),
            Syntax::Yaml => emit::yaml(&self.document),
        }
    }

    /// A warning diagnostic at a class reference (used for names a binary does not register).
    pub fn class_warning(&self, r: &ClassRef, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            file: self.file.clone(),
            pos: r.pos,
            path: r.path.clone(),
            message: message.into(),
        }
    }
}

/// Canonical JSON of a model.
pub fn dump(config: &SecurityConfig) -> String {
    let value = serde_json::to_value(config).unwrap_or(serde_json::Value::Null);
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// Loads a configuration file; the syntax comes from the extension, else from the content.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    load_file_with(path, &LoadOptions::default())
}

/// [`load_file`] with options.
pub fn load_file_with(path: &Path, options: &LoadOptions<'_>) -> Result<Loaded, ConfigError> {
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                let mut d = Diags::new(path);
                d.error(Pos::new(1, 1), "", "the file is not valid UTF-8");
                return Err(ConfigError {
                    diagnostics: d.into_sorted(),
                });
            }
        },
        Err(e) => {
            let mut d = Diags::new(path);
            d.error(Pos::new(1, 1), "", format!("cannot read the file: {e}"));
            return Err(ConfigError {
                diagnostics: d.into_sorted(),
            });
        }
    };
    let syntax = Syntax::from_path(path).unwrap_or_else(|| Syntax::sniff(&text));
    load_str(&text, syntax, path, options)
}

/// Loads configuration text. `file` names it in messages and anchors relative paths.
pub fn load_str(
    text: &str,
    syntax: Syntax,
    file: &Path,
    options: &LoadOptions<'_>,
) -> Result<Loaded, ConfigError> {
    let mut diags = Diags::new(file);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = match syntax {
        Syntax::Xml => {
            xml::parse(text, &mut diags).and_then(|root| xml_document(&root, &mut diags))
        }
        Syntax::Yaml => {
            yaml::parse(text, &mut diags).and_then(|root| yaml_document(root, &mut diags))
        }
    };
    let Some(document) = document else {
        return Err(ConfigError {
            diagnostics: diags.into_sorted(),
        });
    };
    let process_env = |name: &str| std::env::var(name).ok();
    let env: &dyn Fn(&str) -> Option<String> = match options.env {
        Some(f) => f,
        None => &process_env,
    };
    let mut cx = map::Cx::new(diags, map::base_dir(file), env);
    let root = match document.kind {
        DocumentKind::Standalone => "security",
        DocumentKind::Member => "hazelcast.security",
        DocumentKind::Client => "hazelcast-client.security",
    };
    let config = map::security(&mut cx, &document.security, root, document.kind);
    let class_refs = std::mem::take(&mut cx.class_refs);
    let diags = cx.diags;
    match config {
        Some(config) if !diags.has_errors() => Ok(Loaded {
            config,
            warnings: diags.into_sorted(),
            class_refs,
            file: file.to_path_buf(),
            syntax,
            document,
        }),
        _ => Err(ConfigError {
            diagnostics: diags.into_sorted(),
        }),
    }
}

fn xml_document(root: &xml::Elem, diags: &mut Diags) -> Option<Document> {
    let kind = match root.name.as_str() {
        "security" => {
            return Some(Document {
                kind: DocumentKind::Standalone,
                security: xml::normalize(root, "security", diags),
            });
        }
        "hazelcast" => DocumentKind::Member,
        "hazelcast-client" => DocumentKind::Client,
        other => {
            diags.error(root.pos, "", format!("unexpected root element <{other}>: expected <security>, <hazelcast> or <hazelcast-client>"));
            return None;
        }
    };
    let mut sections = root.children.iter().filter(|c| c.name == "security");
    let Some(security) = sections.next() else {
        diags.error(
            root.pos,
            &root.name,
            format!("no <security> section in <{}>", root.name),
        );
        return None;
    };
    if let Some(second) = sections.next() {
        diags.error(
            second.pos,
            &format!("{}.security", root.name),
            "a second <security> section: only one is allowed",
        );
        return None;
    }
    let path = format!("{}.security", root.name);
    Some(Document {
        kind,
        security: xml::normalize(security, &path, diags),
    })
}

fn yaml_document(root: Node, diags: &mut Diags) -> Option<Document> {
    let Value::Map(entries) = root.value else {
        diags.error(root.pos, "", format!("expected a map with `security`, `hazelcast` or `hazelcast-client` at the top, found {}", root.kind()));
        return None;
    };
    let mut chosen: Option<(DocumentKind, Entry)> = None;
    for e in entries {
        let kind = match e.key.as_str() {
            "security" => DocumentKind::Standalone,
            "hazelcast" => DocumentKind::Member,
            "hazelcast-client" => DocumentKind::Client,
            other => {
                diags.error(e.key_pos, other, format!("unexpected top-level key `{other}`: expected `security`, `hazelcast` or `hazelcast-client`"));
                continue;
            }
        };
        if let Some((_, first)) = &chosen {
            diags.error(
                e.key_pos,
                &e.key,
                format!(
                    "a file holds one configuration; found `{}` and `{}`",
                    first.key, e.key
                ),
            );
            continue;
        }
        chosen = Some((kind, e));
    }
    let Some((kind, entry)) = chosen else {
        if !diags.has_errors() {
            diags.error(root.pos, "", "no security section: expected `security:` (or a `hazelcast:`/`hazelcast-client:` configuration)");
        }
        return None;
    };
    if diags.has_errors() {
        return None;
    }
    if kind == DocumentKind::Standalone {
        return Some(Document {
            kind,
            security: entry.value,
        });
    }
    let Value::Map(inner) = entry.value.value else {
        diags.error(
            entry.value.pos,
            &entry.key,
            format!("expected the `{}` configuration (a map)", entry.key),
        );
        return None;
    };
    match inner.into_iter().find(|e| e.key == "security") {
        Some(sec) => Some(Document {
            kind,
            security: sec.value,
        }),
        None => {
            diags.error(
                entry.key_pos,
                &entry.key,
                format!("no `security` section in `{}`", entry.key),
            );
            None
        }
    }
}
