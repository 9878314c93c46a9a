//! Diagnostics: every configuration defect as `FILE:LINE:COL: key.path: what was expected`.

use super::tree::Pos;
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The configuration is usable, but something deserves a look (a file that does not exist
    /// yet, an option that has no effect, a plain-text password).
    Warning,
    /// The configuration cannot be used.
    Error,
}

/// One finding about a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file the finding is in.
    pub file: PathBuf,
    /// Line and column (1-based).
    pub pos: Pos,
    /// The key path, e.g. `security.realms[ldapRealm].authentication.ldap.url`.
    pub path: String,
    /// What is wrong and what was expected. Never contains a secret value.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: ",
            self.file.display(),
            self.pos.line,
            self.pos.col,
            if self.path.is_empty() {
                "(document)"
            } else {
                &self.path
            }
        )?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A configuration that could not be loaded: all the errors found (and the warnings).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Every diagnostic, errors and warnings, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for d in self.errors() {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(crate) struct Diags {
    file: PathBuf,
    pub(crate) list: Vec<Diagnostic>,
}

impl Diags {
    pub(crate) fn new(file: &Path) -> Self {
        Diags {
            file: file.to_path_buf(),
            list: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, pos, path, message.into());
    }

    pub(crate) fn warn(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, pos, path, message.into());
    }

    fn push(&mut self, severity: Severity, pos: Pos, path: &str, message: String) {
        let d = Diagnostic {
            severity,
            file: self.file.clone(),
            pos,
            path: path.to_string(),
            message,
        };
        if !self.list.contains(&d) {
            self.list.push(d);
        }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.list
            .sort_by(|a, b| (a.pos, &a.path).cmp(&(b.pos, &b.path)));
        self.list
    }
}
