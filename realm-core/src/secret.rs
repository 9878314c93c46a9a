//! Secret values: passwords, tokens and keys that must never be printed.
//!
//! [`Secret`] holds bytes (usually UTF-8 text) that redact themselves in `Debug` and
//! `Display` and are overwritten with zeros when dropped. There is deliberately no
//! `Serialize`, no `Deref` and no `Clone` into a plain `String`: the only way to see the value
//! is [`Secret::expose`] / [`Secret::expose_str`], whose names make every use easy to find in
//! review. Equality is constant-time ([`Secret::ct_eq`]), so comparing a presented password
//! with a stored one does not leak the position of the first differing byte.

use std::fmt;
use zeroize::Zeroizing;

/// The text shown instead of a secret value in every rendering.
pub const REDACTED: &str = "<redacted>";

/// A secret value (password, token, key). Redacted in `Debug`/`Display`; zeroized on drop.
///
/// ```
/// use realm_core::Secret;
/// let s = Secret::from("s3crEt");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.to_string(), "<redacted>");
/// assert_eq!(s.expose_str(), Some("s3crEt"));
/// ```
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw bytes (e.g. a token).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// The secret's bytes. Every call site is a place where a secret leaves its box: keep them few.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as UTF-8 text, or `None` if it is not valid UTF-8.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty secret (an empty password never authenticates anyone).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time equality: the time taken depends only on the lengths, never on where the
    /// first difference is.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        ct_eq(&self.0, other)
    }
}

/// Constant-time comparison of two byte strings (length is not hidden).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    // black_box keeps the optimiser from turning the loop into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::from_bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::from_bytes(s.into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other.expose())
    }
}

impl Eq for Secret {}

impl serde::Serialize for Secret {
    /// Serialises as the redaction marker, never as the value: dumps and traces stay clean.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serde_never_show_the_value() {
        let s = Secret::from("hunter2");
        assert!(!format!("{s:?}{s}{s:#?}").contains("hunter2"));
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(json, "\"<redacted>\"");
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }
}
