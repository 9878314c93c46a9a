//! The allow-list of a `tls` authentication, compiled.

use crate::cert::{PeerCertificate, San};
use realm_core::config::TlsAllow;
use regex::Regex;

/// Compiled allow rules: a certificate passes when it matches any rule, or when there is none.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    subjects: Vec<String>,
    subject_patterns: Vec<Regex>,
    sans: Vec<String>,
    san_patterns: Vec<Regex>,
}

fn whole(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("`{pattern}`: {e}"))
}

impl AllowList {
    /// Compiles the rules of a configuration (patterns must match whole values).
    pub fn new(allow: &TlsAllow) -> Result<AllowList, String> {
        Ok(AllowList {
            subjects: allow.subjects.clone(),
            subject_patterns: allow
                .subject_patterns
                .iter()
                .map(|p| whole(p))
                .collect::<Result<_, _>>()?,
            sans: allow.sans.clone(),
            san_patterns: allow
                .san_patterns
                .iter()
                .map(|p| whole(p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty()
            && self.subject_patterns.is_empty()
            && self.sans.is_empty()
            && self.san_patterns.is_empty()
    }

    /// The rule `cert` matches (described), or `None`.
    pub fn matching(&self, cert: &PeerCertificate) -> Option<String> {
        let subject = &cert.subject_string;
        if let Some(s) = self.subjects.iter().find(|s| *s == subject) {
            return Some(format!("subject {s}"));
        }
        if let Some(p) = self.subject_patterns.iter().find(|p| p.is_match(subject)) {
            return Some(format!("subject pattern {}", p.as_str()));
        }
        for san in &cert.sans {
            let value = san.value();
            let exact = self.sans.iter().find(|s| match san {
                San::Dns(d) => s.eq_ignore_ascii_case(d),
                _ => **s == value,
            });
            if let Some(s) = exact {
                return Some(format!("SAN {s}"));
            }
            if let Some(p) = self.san_patterns.iter().find(|p| p.is_match(&value)) {
                return Some(format!("SAN pattern {} ({san})", p.as_str()));
            }
        }
        None
    }
}
