//! Stored passwords: verification in constant time, and the same cost for unknown users.
//!
//! A stored password is either a PHC string (`$argon2id$v=19$m=…`, the format `argon2` and most
//! modern tools write) or, where a realm allows it, plain text. Plain text is accepted for
//! compatibility with Hazelcast's `simple` realm and logs a warning when the realm is built.
//!
//! Timing: [`StoredPassword::verify`] compares plain passwords with [`crate::ct_eq`], and hashes
//! with the hash function itself (whose result is compared in constant time by the argon2 crate).
//! To make "no such user" cost what "wrong password" costs, a realm verifies the presented password
//! against a [`StoredPassword::dummy_like`] of its users' stored form when the user is unknown.

use crate::secret::{Secret, ct_eq};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// A password as a realm stores it.
#[derive(Debug)]
pub enum StoredPassword {
    /// A PHC string; the parameters and salt are in the string.
    Phc(Secret),
    /// Plain text (compatibility only).
    Plain(Secret),
}

/// Why a stored password cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoredPasswordError {
    /// The value starts like a PHC hash but does not parse as one.
    #[error("looks like a PHC hash (`$…$`) but is not a valid one: {0}")]
    BadPhc(String),
    /// A PHC hash of an algorithm this build cannot verify.
    #[error("unsupported hash algorithm `{0}` (supported: argon2id, argon2i, argon2d)")]
    Unsupported(String),
    /// Empty.
    #[error("an empty password never authenticates")]
    Empty,
}

impl StoredPassword {
    /// Classifies a stored value: `$…` must be a PHC hash this build verifies; anything else is plain.
    pub fn parse(stored: &Secret) -> Result<StoredPassword, StoredPasswordError> {
        let Some(text) = stored.expose_str() else {
            return Ok(StoredPassword::Plain(stored.clone()));
        };
        if text.is_empty() {
            return Err(StoredPasswordError::Empty);
        }
        if !text.starts_with('$') {
            return Ok(StoredPassword::Plain(stored.clone()));
        }
        let hash =
            PasswordHash::new(text).map_err(|e| StoredPasswordError::BadPhc(e.to_string()))?;
        let alg = hash.algorithm.as_str();
        if !matches!(alg, "argon2id" | "argon2i" | "argon2d") {
            return Err(StoredPasswordError::Unsupported(alg.to_string()));
        }
        Ok(StoredPassword::Phc(stored.clone()))
    }

    /// True for plain-text storage.
    pub fn is_plain(&self) -> bool {
        matches!(self, StoredPassword::Plain(_))
    }

    /// Checks a presented password. An empty presented password is always refused.
    pub fn verify(&self, presented: &Secret) -> bool {
        if presented.is_empty() {
            // Still spend the time, so an empty password is not a timing oracle either.
            let _ = self.check(b"\x00");
            return false;
        }
        self.check(presented.expose())
    }

    fn check(&self, presented: &[u8]) -> bool {
        match self {
            StoredPassword::Plain(p) => ct_eq(p.expose(), presented),
            StoredPassword::Phc(s) => {
                let Some(text) = s.expose_str() else {
                    return false;
                };
                match PasswordHash::new(text) {
                    Ok(h) => Argon2::default().verify_password(presented, &h).is_ok(),
                    Err(_) => false,
                }
            }
        }
    }

    /// A stored password of the same kind and cost as `self`, which no real password matches:
    /// verifying against it costs what a real verification costs.
    pub fn dummy_like(&self) -> StoredPassword {
        match self {
            StoredPassword::Plain(p) => {
                StoredPassword::Plain(Secret::from_bytes(vec![0xff; p.len().max(1)]))
            }
            StoredPassword::Phc(s) => {
                let dummy = s
                    .expose_str()
                    .and_then(|t| PasswordHash::new(t).ok())
                    .and_then(|h| {
                        let params = argon2::Params::try_from(&h).ok()?;
                        let alg = argon2::Algorithm::try_from(h.algorithm.as_str()).ok()?;
                        let a = Argon2::new(alg, argon2::Version::V0x13, params);
                        a.hash_password_with_salt(
                            b"realm-dummy-password-never-matches",
                            b"realm-dummy-salt",
                        )
                        .ok()
                    })
                    .map(|h| h.to_string());
                match dummy {
                    Some(d) => StoredPassword::Phc(Secret::from(d)),
                    None => StoredPassword::Plain(Secret::from_bytes(vec![0xff; 16])),
                }
            }
        }
    }
}

/// Hashes a password as argon2id with the crate's default (OWASP-recommended) parameters and the
/// given salt (at least 8 bytes; use 16 random bytes).
pub fn hash_argon2id(password: &Secret, salt: &[u8]) -> Result<String, String> {
    Argon2::default()
        .hash_password_with_salt(password.expose(), salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phc_and_plain_verify_and_refuse() {
        let hash = hash_argon2id(&Secret::from("correct horse"), b"0123456789abcdef").unwrap();
        let stored = StoredPassword::parse(&Secret::from(hash.as_str())).unwrap();
        assert!(!stored.is_plain());
        assert!(stored.verify(&Secret::from("correct horse")));
        assert!(!stored.verify(&Secret::from("correct horsE")));
        assert!(!stored.verify(&Secret::from("")));
        let plain = StoredPassword::parse(&Secret::from("pw")).unwrap();
        assert!(plain.verify(&Secret::from("pw")) && !plain.verify(&Secret::from("pW")));
        assert!(!stored.dummy_like().verify(&Secret::from("correct horse")));
    }

    #[test]
    fn bad_or_unsupported_hashes_are_errors_not_plain_text() {
        assert!(matches!(
            StoredPassword::parse(&Secret::from("$argon2id$nonsense")),
            Err(StoredPasswordError::BadPhc(_))
        ));
        assert!(matches!(
            StoredPassword::parse(&Secret::from("$md5$v=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")),
            Err(StoredPasswordError::Unsupported(_)) | Err(StoredPasswordError::BadPhc(_))
        ));
        assert_eq!(
            StoredPassword::parse(&Secret::from("")).unwrap_err(),
            StoredPasswordError::Empty
        );
    }
}
