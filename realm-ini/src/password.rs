//! Stored passwords of an ini file: the formats, their verification, and dummies for unknown users.
//!
//! | format | example | verified by |
//! |---|---|---|
//! | Shiro 1 crypt | `$shiro1$SHA-256$500000$<base64 salt>$<base64 hash>` | this module (SHA-256, SHA-384, SHA-512, SHA-1, MD5) |
//! | argon2 (PHC) | `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` | `realm_core::password` (argon2id, argon2i, argon2d) |
//! | bcrypt | `$2b$12$<22 chars salt><31 chars hash>` (`$2a$`, `$2b$`, `$2y$`) | the `bcrypt` crate |
//! | PBKDF2 (PHC) | `$pbkdf2-sha256$i=600000,l=32$<salt>$<hash>` (or `pbkdf2-sha512`) | the `pbkdf2` crate |
//! | plain text | anything not starting with `$` | constant-time comparison, only where the realm allows it |
//!
//! **Shiro 1 crypt** is what Shiro's `DefaultPasswordService.encryptPassword` writes (by default
//! SHA-256, 500,000 iterations, a random 16-byte salt) through `Shiro1CryptFormat`: the salt and
//! the hash in standard base64 with padding. The hash is Shiro's `SimpleHash`:
//! `h = D(salt ‖ UTF-8(password))`, then `iterations − 1` more times `h = D(h)`, where `D` is the
//! named `MessageDigest` (an empty salt field means no salt). `tests/shiro_compat.rs` checks this
//! against hashes made by Shiro itself.
//!
//! A value that starts with `$` but is not one of these formats, or is one of them but malformed,
//! is an error ([`PasswordError`]): it is never taken for a plain-text password.
//!
//! Timing: every comparison is constant-time ([`realm_core::ct_eq`] for Shiro and plain text; the
//! argon2, bcrypt and pbkdf2 verifiers compare their outputs in constant time). For unknown users a
//! realm verifies against [`StoredPassword::dummy_like`] of its most common stored kind, so "no such
//! user" costs what "wrong password" costs.

use base64::Engine as _;
use realm_core::password::StoredPassword as CorePassword;
use realm_core::{Secret, ct_eq};
use sha2::Digest;
use std::fmt;

/// The kind of a stored password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashKind {
    /// `$shiro1$…`.
    Shiro1,
    /// `$argon2id$…`, `$argon2i$…`, `$argon2d$…`.
    Argon2,
    /// `$2a$…`, `$2b$…`, `$2y$…`.
    Bcrypt,
    /// `$pbkdf2-sha256$…`, `$pbkdf2-sha512$…`.
    Pbkdf2,
    /// Plain text.
    Plain,
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashKind::Shiro1 => "shiro1",
            HashKind::Argon2 => "argon2",
            HashKind::Bcrypt => "bcrypt",
            HashKind::Pbkdf2 => "pbkdf2",
            HashKind::Plain => "plain text",
        })
    }
}

/// The digest algorithms of Shiro 1 crypt strings, by their `MessageDigest` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiroAlgorithm {
    /// `MD5`.
    Md5,
    /// `SHA-1`.
    Sha1,
    /// `SHA-256` (Shiro's default).
    Sha256,
    /// `SHA-384`.
    Sha384,
    /// `SHA-512`.
    Sha512,
}

impl ShiroAlgorithm {
    /// The `MessageDigest` name Shiro writes (`SHA-256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ShiroAlgorithm::Md5 => "MD5",
            ShiroAlgorithm::Sha1 => "SHA-1",
            ShiroAlgorithm::Sha256 => "SHA-256",
            ShiroAlgorithm::Sha384 => "SHA-384",
            ShiroAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The algorithm of a `MessageDigest` name; Java's names are case-insensitive.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ShiroAlgorithm::Md5,
            ShiroAlgorithm::Sha1,
            ShiroAlgorithm::Sha256,
            ShiroAlgorithm::Sha384,
            ShiroAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            ShiroAlgorithm::Md5 => 16,
            ShiroAlgorithm::Sha1 => 20,
            ShiroAlgorithm::Sha256 => 32,
            ShiroAlgorithm::Sha384 => 48,
            ShiroAlgorithm::Sha512 => 64,
        }
    }

    /// Shiro's `SimpleHash`: `h = D(salt ‖ password)`, then `iterations − 1` times `h = D(h)`.
    pub fn hash(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        fn first<D: Digest>(password: &[u8], salt: &[u8]) -> Vec<u8> {
            let mut digest = D::new();
            digest.update(salt);
            digest.update(password);
            digest.finalize().to_vec()
        }
        fn rehash<D: Digest>(h: &mut Vec<u8>, times: u32) {
            for _ in 0..times {
                *h = D::digest(&*h).to_vec();
            }
        }
        let rest = iterations.saturating_sub(1);
        match self {
            ShiroAlgorithm::Md5 => {
                let mut h = first::<md5::Md5>(password, salt);
                rehash::<md5::Md5>(&mut h, rest);
                h
            }
            ShiroAlgorithm::Sha1 => {
                let mut h = first::<sha1::Sha1>(password, salt);
                rehash::<sha1::Sha1>(&mut h, rest);
                h
            }
            ShiroAlgorithm::Sha256 => {
                let mut h = first::<sha2::Sha256>(password, salt);
                rehash_sha256(&mut h, rest);
                h
            }
            ShiroAlgorithm::Sha384 => {
                let mut h = first::<sha2::Sha384>(password, salt);
                rehash_sha512(&mut h, &SHA384_IV, rest);
                h
            }
            ShiroAlgorithm::Sha512 => {
                let mut h = first::<sha2::Sha512>(password, salt);
                rehash_sha512(&mut h, &SHA512_IV, rest);
                h
            }
        }
    }
}

// The iterations of Shiro's hash digest a digest: a message of one fixed length, so each is
// exactly one compression of one padded block. Doing that directly (FIPS 180-4 §5.1, §5.3) skips
// the streaming machinery around it; `fast_rehash_matches_the_digest_api` checks it against it.
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA384_IV: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// `times` times `h = SHA-256(h)` for a 32-byte `h`.
fn rehash_sha256(h: &mut [u8], times: u32) {
    let mut block = [0u8; 64];
    let (data, padding) = block.split_at_mut(h.len().min(55));
    if let Some(first) = padding.first_mut() {
        *first = 0x80;
    }
    let bits = (data.len() as u64 * 8).to_be_bytes();
    for (dst, src) in padding.iter_mut().rev().zip(bits.iter().rev()) {
        *dst = *src;
    }
    for _ in 0..times {
        if let Some(data) = block.get_mut(..h.len()) {
            data.copy_from_slice(h);
        }
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, std::slice::from_ref(&block));
        for (out, word) in h.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// `times` times `h = SHA-512(h)` (or SHA-384 with its IV) for a 64-byte (48-byte) `h`.
fn rehash_sha512(h: &mut [u8], iv: &[u64; 8], times: u32) {
    let mut block = [0u8; 128];
    let (data, padding) = block.split_at_mut(h.len().min(111));
    if let Some(first) = padding.first_mut() {
        *first = 0x80;
    }
    let bits = (data.len() as u128 * 8).to_be_bytes();
    for (dst, src) in padding.iter_mut().rev().zip(bits.iter().rev()) {
        *dst = *src;
    }
    for _ in 0..times {
        if let Some(data) = block.get_mut(..h.len()) {
            data.copy_from_slice(h);
        }
        let mut state = *iv;
        sha2::block_api::compress512(&mut state, std::slice::from_ref(&block));
        for (out, word) in h.chunks_exact_mut(8).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// Writes a Shiro 1 crypt string (`$shiro1$ALG$ITERATIONS$SALT$HASH`) exactly as Shiro's
/// `Shiro1CryptFormat` does. Use 16 random bytes of salt, and at least Shiro's default of 500,000
/// iterations for SHA-256.
pub fn shiro1_hash(
    password: &Secret,
    algorithm: ShiroAlgorithm,
    iterations: u32,
    salt: &[u8],
) -> String {
    let iterations = iterations.max(1);
    let hash = algorithm.hash(password.expose(), salt, iterations);
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "$shiro1${}${iterations}${}${}",
        algorithm.name(),
        b64.encode(salt),
        b64.encode(hash)
    )
}

/// Why a stored value cannot be used. Never contains the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Empty.
    #[error("empty password (an empty password never authenticates)")]
    Empty,
    /// Starts with `$` but is none of the supported formats: a known other format (named:
    /// `$6$… (sha512-crypt)`), or an unrecognised value (then nothing of it is shown: it may be a
    /// plain-text password that happens to start with `$`).
    #[error(
        "unsupported password hash {0} (supported: $shiro1$, $argon2id$/$argon2i$/$argon2d$, $2a$/$2b$/$2y$ bcrypt, $pbkdf2-sha256$/$pbkdf2-sha512$); a value starting with `$` is never taken as plain text"
    )]
    Unsupported(String),
    /// One of the supported formats, but malformed.
    #[error("malformed {format} hash: {reason}")]
    Malformed {
        /// Which format it looks like.
        format: &'static str,
        /// What is wrong with it (never the value).
        reason: String,
    },
    /// Not valid UTF-8 (hashes are ASCII).
    #[error("the stored password is not valid UTF-8 text")]
    NotText,
}

/// What verifying a stored password costs: its kind and parameters, without salt or hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cost {
    /// `$shiro1$`.
    Shiro1 {
        /// The digest.
        algorithm: ShiroAlgorithm,
        /// Iterations.
        iterations: u32,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// `$argon2…$`.
    Argon2 {
        /// `argon2id`, `argon2i` or `argon2d`.
        variant: &'static str,
        /// `v=` (16 or 19).
        version: u32,
        /// Memory in KiB.
        m: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// bcrypt.
    Bcrypt {
        /// log2 of the rounds.
        cost: u32,
    },
    /// `$pbkdf2-…$`.
    Pbkdf2 {
        /// SHA-512 rather than SHA-256.
        sha512: bool,
        /// Iterations.
        rounds: u32,
        /// Output length in bytes.
        output_len: usize,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// Plain text.
    Plain,
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cost::Shiro1 {
                algorithm,
                iterations,
                salt_len,
            } => write!(
                f,
                "shiro1 {} i={iterations} salt={salt_len}",
                algorithm.name()
            ),
            Cost::Argon2 {
                variant,
                version,
                m,
                t,
                p,
            } => write!(f, "{variant} v={version} m={m},t={t},p={p}"),
            Cost::Bcrypt { cost } => write!(f, "bcrypt cost={cost}"),
            Cost::Pbkdf2 {
                sha512,
                rounds,
                output_len,
                salt_len,
            } => write!(
                f,
                "pbkdf2-{} i={rounds} l={output_len} salt={salt_len}",
                if *sha512 { "sha512" } else { "sha256" }
            ),
            Cost::Plain => f.write_str("plain"),
        }
    }
}

/// A parsed Shiro 1 crypt string.
struct Shiro1 {
    algorithm: ShiroAlgorithm,
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

enum Inner {
    Shiro1(Shiro1),
    Argon2 { stored: CorePassword, cost: Cost },
    Bcrypt { text: Secret, cost: u32 },
    Pbkdf2(Pbkdf2),
    Plain(Secret),
}

/// A parsed `$pbkdf2-…$` PHC string.
struct Pbkdf2 {
    /// SHA-512 (`pbkdf2-sha512`) rather than SHA-256 (`pbkdf2-sha256`).
    sha512: bool,
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// A password as an ini file stores it, parsed and ready to verify.
pub struct StoredPassword {
    inner: Inner,
}

impl fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredPassword({})", self.profile())
    }
}

const DUMMY_PASSWORD: &[u8] = b"realm-dummy-password-never-matches";

/// Hash formats met in password files that this realm does not verify, by their `$id$`.
const OTHER_FORMATS: &[(&str, &str)] = &[
    ("1", "md5-crypt"),
    ("apr1", "Apache md5-crypt"),
    ("md5", "Sun md5-crypt"),
    ("5", "sha256-crypt"),
    ("6", "sha512-crypt"),
    ("sha1", "sha1-crypt"),
    ("y", "yescrypt"),
    ("gy", "gost-yescrypt"),
    ("7", "scrypt"),
    ("scrypt", "scrypt"),
    ("2", "original bcrypt"),
    ("2x", "bcrypt's buggy-8-bit variant"),
    ("shiro2", "Shiro 2 crypt"),
    ("pbkdf2", "PBKDF2-SHA1"),
    ("pbkdf2-sha1", "PBKDF2-SHA1"),
    ("bcrypt-sha256", "passlib bcrypt-sha256"),
];

impl StoredPassword {
    /// Classifies and checks a stored value: `$…` must be a supported, well-formed hash; anything
    /// else is plain text (whether plain text is acceptable is the realm's decision).
    pub fn parse(stored: &Secret) -> Result<StoredPassword, PasswordError> {
        if stored.is_empty() {
            return Err(PasswordError::Empty);
        }
        let Some(text) = stored.expose_str() else {
            // Bytes that are not UTF-8 cannot come out of an ini file (it is text); refuse them
            // rather than guess.
            return Err(PasswordError::NotText);
        };
        let Some(rest) = text.strip_prefix('$') else {
            return Ok(StoredPassword {
                inner: Inner::Plain(stored.clone()),
            });
        };
        let id = rest.split('$').next().unwrap_or("");
        let inner = match id {
            "shiro1" => Inner::Shiro1(parse_shiro1(text)?),
            "argon2id" | "argon2i" | "argon2d" => parse_argon2(stored, text)?,
            "2a" | "2b" | "2y" => parse_bcrypt(stored, text)?,
            "pbkdf2-sha256" | "pbkdf2-sha512" => Inner::Pbkdf2(parse_pbkdf2(text)?),
            other => {
                // Name the format only if it is a known one, so that a plain-text password
                // starting with `$` is never echoed, not even in part.
                let shown = OTHER_FORMATS
                    .iter()
                    .find(|(id, _)| *id == other)
                    .map_or_else(
                        || "(an unrecognised `$…` value)".to_string(),
                        |(id, name)| format!("`${id}$…` ({name})"),
                    );
                return Err(PasswordError::Unsupported(shown));
            }
        };
        Ok(StoredPassword { inner })
    }

    /// The kind of storage.
    pub fn kind(&self) -> HashKind {
        match &self.inner {
            Inner::Shiro1(_) => HashKind::Shiro1,
            Inner::Argon2 { .. } => HashKind::Argon2,
            Inner::Bcrypt { .. } => HashKind::Bcrypt,
            Inner::Pbkdf2(_) => HashKind::Pbkdf2,
            Inner::Plain(_) => HashKind::Plain,
        }
    }

    /// True for plain-text storage.
    pub fn is_plain(&self) -> bool {
        matches!(self.inner, Inner::Plain(_))
    }

    /// True when verification costs real CPU time (every hash; not plain text): run it off the
    /// async executor.
    pub fn is_slow(&self) -> bool {
        !self.is_plain()
    }

    /// The kind and cost parameters, without salt or hash: two passwords of the same cost take the
    /// same time to verify.
    pub fn cost(&self) -> Cost {
        match &self.inner {
            Inner::Shiro1(s) => Cost::Shiro1 {
                algorithm: s.algorithm,
                iterations: s.iterations,
                salt_len: s.salt.len(),
            },
            Inner::Argon2 { cost, .. } => *cost,
            Inner::Bcrypt { cost, .. } => Cost::Bcrypt { cost: *cost },
            Inner::Pbkdf2(p) => Cost::Pbkdf2 {
                sha512: p.sha512,
                rounds: p.rounds,
                output_len: p.hash.len(),
                salt_len: p.salt.len(),
            },
            Inner::Plain(_) => Cost::Plain,
        }
    }

    /// [`StoredPassword::cost`] as text (`shiro1 SHA-256 i=500000 salt=16`,
    /// `argon2id v=19 m=19456,t=2,p=1`, `bcrypt cost=12`, `pbkdf2-sha256 i=600000 l=32 salt=16`,
    /// `plain`).
    pub fn profile(&self) -> String {
        self.cost().to_string()
    }

    /// Checks a presented password. An empty presented password is always refused (after
    /// spending the same time).
    pub fn verify(&self, presented: &Secret) -> bool {
        if presented.is_empty() {
            let _ = self.check(b"\x00");
            return false;
        }
        self.check(presented.expose())
    }

    fn check(&self, presented: &[u8]) -> bool {
        match &self.inner {
            Inner::Shiro1(s) => {
                let computed = s.algorithm.hash(presented, &s.salt, s.iterations);
                ct_eq(&computed, &s.hash)
            }
            Inner::Argon2 { stored, .. } => stored.verify(&Secret::from_bytes(presented.to_vec())),
            Inner::Bcrypt { text, .. } => text
                .expose_str()
                .is_some_and(|t| bcrypt::verify(presented, t).unwrap_or(false)),
            Inner::Pbkdf2(p) => {
                let mut out = vec![0u8; p.hash.len()];
                if p.sha512 {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(presented, &p.salt, p.rounds, &mut out);
                } else {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(presented, &p.salt, p.rounds, &mut out);
                }
                ct_eq(&out, &p.hash)
            }
            Inner::Plain(p) => ct_eq(p.expose(), presented),
        }
    }

    /// A stored password of the same kind and cost as `self` that no real password matches:
    /// verifying against it costs what verifying a real one costs.
    pub fn dummy_like(&self) -> StoredPassword {
        let inner = match &self.inner {
            // The stored hash is replaced by bytes no digest chain is expected to produce; the
            // work (salt length, iterations) is the same.
            Inner::Shiro1(s) => Inner::Shiro1(Shiro1 {
                algorithm: s.algorithm,
                iterations: s.iterations,
                salt: vec![0x5a; s.salt.len()],
                hash: vec![0xff; s.hash.len()],
            }),
            Inner::Pbkdf2(p) => Inner::Pbkdf2(Pbkdf2 {
                sha512: p.sha512,
                rounds: p.rounds,
                salt: vec![0x5a; p.salt.len()],
                hash: vec![0xff; p.hash.len()],
            }),
            Inner::Argon2 { stored, cost } => Inner::Argon2 {
                stored: stored.dummy_like(),
                cost: *cost,
            },
            // An all-zero salt and hash at the same cost (`.` is bcrypt's base64 zero).
            Inner::Bcrypt { cost, .. } => Inner::Bcrypt {
                text: Secret::from(format!("$2b${cost:02}${}", ".".repeat(53))),
                cost: *cost,
            },
            Inner::Plain(p) => Inner::Plain(Secret::from_bytes(vec![0xff; p.len().max(1)])),
        };
        StoredPassword { inner }
    }

    /// The dummy of a realm with no users at all: plain text that never matches.
    pub fn never_matches() -> StoredPassword {
        StoredPassword {
            inner: Inner::Plain(Secret::from_bytes(
                DUMMY_PASSWORD.iter().map(|b| !b).collect(),
            )),
        }
    }
}

fn malformed(format: &'static str, reason: impl Into<String>) -> PasswordError {
    PasswordError::Malformed {
        format,
        reason: reason.into(),
    }
}

/// `$shiro1$ALG$ITERATIONS$SALT$HASH`, as `Shiro1CryptFormat.parse` reads it.
fn parse_shiro1(text: &str) -> Result<Shiro1, PasswordError> {
    const F: &str = "$shiro1$";
    let fields: Vec<&str> = text.split('$').collect();
    let [_, _, alg, iterations, salt, hash] = fields.as_slice() else {
        return Err(malformed(
            F,
            format!(
                "expected 5 `$`-separated fields `$shiro1$ALGORITHM$ITERATIONS$SALT$HASH`, found {}",
                fields.len().saturating_sub(1)
            ),
        ));
    };
    let algorithm = ShiroAlgorithm::from_name(alg).ok_or_else(|| {
        let shown = if alg.len() <= 16 { alg } else { "…" };
        malformed(
            F,
            format!(
                "unsupported digest `{shown}` (supported: SHA-256, SHA-512, SHA-384, SHA-1, MD5)"
            ),
        )
    })?;
    let iterations: u32 = iterations
        .parse()
        .ok()
        .filter(|&i| i >= 1 && i <= i32::MAX as u32)
        .ok_or_else(|| malformed(F, "the iteration count is not a positive integer"))?;
    let b64 = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
    let salt = b64
        .decode(salt)
        .map_err(|_| malformed(F, "the salt is not valid base64"))?;
    let hash = b64
        .decode(hash)
        .map_err(|_| malformed(F, "the hash is not valid base64"))?;
    if hash.len() != algorithm.output_len() {
        return Err(malformed(
            F,
            format!(
                "the hash is {} bytes long; {} gives {}",
                hash.len(),
                algorithm.name(),
                algorithm.output_len()
            ),
        ));
    }
    Ok(Shiro1 {
        algorithm,
        iterations,
        salt,
        hash,
    })
}

fn parse_argon2(stored: &Secret, text: &str) -> Result<Inner, PasswordError> {
    const F: &str = "argon2";
    let h = argon2::PasswordHash::new(text).map_err(|e| malformed(F, e.to_string()))?;
    let params = argon2::Params::try_from(&h).map_err(|e| malformed(F, e.to_string()))?;
    let variant = match h.algorithm.as_str() {
        "argon2id" => "argon2id",
        "argon2i" => "argon2i",
        "argon2d" => "argon2d",
        other => return Err(malformed(F, format!("unknown variant `{other}`"))),
    };
    let version = h.version.unwrap_or(0x10);
    if version != 0x10 && version != 0x13 {
        return Err(malformed(F, format!("unknown version {version}")));
    }
    if h.salt.is_none() || h.hash.is_none() {
        return Err(malformed(F, "missing salt or hash"));
    }
    Ok(Inner::Argon2 {
        // Checked above as realm-core checks it: a PHC string of an argon2 variant.
        stored: CorePassword::Phc(stored.clone()),
        cost: Cost::Argon2 {
            variant,
            version,
            m: params.m_cost(),
            t: params.t_cost(),
            p: params.p_cost(),
        },
    })
}

fn parse_bcrypt(stored: &Secret, text: &str) -> Result<Inner, PasswordError> {
    const F: &str = "bcrypt";
    let parts: bcrypt::HashParts = text
        .parse()
        .map_err(|e: bcrypt::BcryptError| malformed(F, e.to_string()))?;
    let cost = parts.get_cost();
    if !(4..=31).contains(&cost) {
        return Err(malformed(
            F,
            format!("cost {cost} is outside bcrypt's 4..=31"),
        ));
    }
    Ok(Inner::Bcrypt {
        text: stored.clone(),
        cost,
    })
}

/// `$pbkdf2-sha256$i=ROUNDS[,l=LEN]$SALT$HASH` (PHC, unpadded standard base64). Without `l`, the
/// output length is the hash's length.
fn parse_pbkdf2(text: &str) -> Result<Pbkdf2, PasswordError> {
    const F: &str = "pbkdf2";
    let h = pbkdf2::phc::PasswordHash::new(text).map_err(|e| malformed(F, e.to_string()))?;
    let sha512 = match h.algorithm.as_str() {
        "pbkdf2-sha256" => false,
        "pbkdf2-sha512" => true,
        other => return Err(malformed(F, format!("unsupported variant `{other}`"))),
    };
    if h.version.is_some() {
        return Err(malformed(F, "PBKDF2 strings have no version field"));
    }
    let (Some(salt), Some(hash)) = (&h.salt, &h.hash) else {
        return Err(malformed(F, "missing salt or hash"));
    };
    let mut rounds = None;
    for (name, value) in h.params.iter() {
        let n = value
            .decimal()
            .map_err(|_| malformed(F, format!("parameter `{name}` is not a number")))?;
        match name.as_str() {
            "i" => rounds = Some(n),
            "l" => {
                if n as usize != hash.len() {
                    return Err(malformed(
                        F,
                        format!("`l={n}` but the hash is {} bytes long", hash.len()),
                    ));
                }
            }
            other => {
                return Err(malformed(
                    F,
                    format!("unknown parameter `{other}` (expected `i` and `l`)"),
                ));
            }
        }
    }
    let rounds = rounds
        .filter(|&r| r >= 1)
        .ok_or_else(|| malformed(F, "missing or zero iteration count `i`"))?;
    Ok(Pbkdf2 {
        sha512,
        rounds,
        salt: salt.as_ref().to_vec(),
        hash: hash.as_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(s: &str) -> StoredPassword {
        StoredPassword::parse(&Secret::from(s)).unwrap()
    }

    #[test]
    fn shiro1_known_answer() {
        // Made by Shiro 1.3.2: new SimpleHash("SHA-256", "pw", "somesalt", 3) in Shiro1CryptFormat.
        let s = "$shiro1$SHA-256$3$c29tZXNhbHQ=$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=";
        let p = stored(s);
        assert_eq!(p.kind(), HashKind::Shiro1);
        assert!(p.verify(&Secret::from("pw")));
        assert!(!p.verify(&Secret::from("pW")));
        assert!(!p.verify(&Secret::from("")));
        assert_eq!(
            shiro1_hash(&Secret::from("pw"), ShiroAlgorithm::Sha256, 3, b"somesalt"),
            s
        );
        assert_eq!(p.profile(), "shiro1 SHA-256 i=3 salt=8");
        assert!(!p.dummy_like().verify(&Secret::from("pw")));
        assert_eq!(p.dummy_like().profile(), p.profile());
    }

    #[test]
    fn fast_rehash_matches_the_digest_api() {
        fn slow<D: Digest>(mut h: Vec<u8>, times: u32) -> Vec<u8> {
            for _ in 0..times {
                h = D::digest(&h).to_vec();
            }
            h
        }
        let start = |n: usize| (0..n).map(|i| i as u8 ^ 0x5c).collect::<Vec<u8>>();
        for times in [0, 1, 2, 17] {
            let mut h = start(32);
            rehash_sha256(&mut h, times);
            assert_eq!(h, slow::<sha2::Sha256>(start(32), times));
            let mut h = start(48);
            rehash_sha512(&mut h, &SHA384_IV, times);
            assert_eq!(h, slow::<sha2::Sha384>(start(48), times));
            let mut h = start(64);
            rehash_sha512(&mut h, &SHA512_IV, times);
            assert_eq!(h, slow::<sha2::Sha512>(start(64), times));
        }
    }

    #[test]
    fn every_shiro_algorithm_round_trips() {
        for alg in ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "sha-512"] {
            let a = ShiroAlgorithm::from_name(alg).unwrap();
            let s = shiro1_hash(&Secret::from("pässwörd"), a, 7, b"0123456789abcdef");
            assert!(stored(&s).verify(&Secret::from("pässwörd")), "{alg}");
            assert!(!stored(&s).verify(&Secret::from("passwörd")), "{alg}");
        }
        // No salt: Shiro writes an empty field.
        let s = shiro1_hash(&Secret::from("x"), ShiroAlgorithm::Sha1, 1, b"");
        assert!(s.contains("$1$$"));
        assert!(stored(&s).verify(&Secret::from("x")));
    }

    #[test]
    fn bcrypt_and_pbkdf2() {
        let b = bcrypt::hash_with_salt("hunter2", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        let p = stored(&b);
        assert_eq!(p.kind(), HashKind::Bcrypt);
        assert!(p.verify(&Secret::from("hunter2")) && !p.verify(&Secret::from("hunter3")));
        let d = p.dummy_like();
        assert_eq!(d.profile(), "bcrypt cost=4");
        assert!(!d.verify(&Secret::from("hunter2")));
        // The dummy is a well-formed bcrypt string.
        assert!(
            matches!(&d.inner, Inner::Bcrypt { text, .. } if text.expose_str().is_some_and(|t| t.parse::<bcrypt::HashParts>().is_ok()))
        );

        // PBKDF2-HMAC("password", "saltSALTsalt", 2 rounds), as Python's hashlib computes it.
        let v =
            "$pbkdf2-sha256$i=2,l=32$c2FsdFNBTFRzYWx0$1sO4e+/cXZkHEEXBbLKgXuIg4Tzp7BLO0ST8YBKgD4g";
        let p = stored(v);
        assert_eq!(p.kind(), HashKind::Pbkdf2);
        assert!(p.verify(&Secret::from("password")) && !p.verify(&Secret::from("passwort")));
        assert!(!p.dummy_like().verify(&Secret::from("password")));
        assert_eq!(p.dummy_like().profile(), "pbkdf2-sha256 i=2 l=32 salt=12");
        // Without `l`, the hash length decides.
        let p = stored(
            "$pbkdf2-sha512$i=2$c2FsdFNBTFRzYWx0$lnlEQujbsaSoChIFW6sPyjiO5mcfZc7UkRXmiHofi7cVDr+qjyFipN7DlWIjR3yIb+CkLzGSktKPgmVObAW0ZQ",
        );
        assert!(p.verify(&Secret::from("password")) && !p.verify(&Secret::from("Password")));
    }

    #[test]
    fn argon2_via_realm_core() {
        let h = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).unwrap(),
        );
        let s = argon2::PasswordHasher::hash_password_with_salt(&h, b"pw", b"0123456789abcdef")
            .unwrap()
            .to_string();
        let p = stored(&s);
        assert_eq!(p.kind(), HashKind::Argon2);
        assert_eq!(p.profile(), "argon2id v=19 m=1024,t=1,p=1");
        assert!(p.verify(&Secret::from("pw")) && !p.verify(&Secret::from("pw ")));
        assert!(!p.dummy_like().verify(&Secret::from("pw")));
    }

    #[test]
    fn malformed_and_unsupported_are_errors_never_plain_text() {
        let err = |s: &str| StoredPassword::parse(&Secret::from(s)).unwrap_err();
        assert_eq!(err(""), PasswordError::Empty);
        assert_eq!(
            err("$md5$abc$def"),
            PasswordError::Unsupported("`$md5$…` (Sun md5-crypt)".into())
        );
        for secret in ["$s3cr3t pass", "$hunter2", "$ab$cd$ef"] {
            let e = err(secret);
            assert_eq!(
                e,
                PasswordError::Unsupported("(an unrecognised `$…` value)".into())
            );
            assert!(!e.to_string().contains(&secret[1..3]), "{e}");
        }
        for bad in [
            "$shiro1$SHA-256$500000$c2FsdA==",
            "$shiro1$MD2$1$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAA==",
            "$shiro1$SHA-256$0$c2FsdA==$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=",
            "$shiro1$SHA-256$x$c2FsdA==$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=",
            "$shiro1$SHA-256$1$!!$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=",
            "$shiro1$SHA-512$1$c2FsdA==$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=",
            "$argon2id$nonsense",
            "$2b$04$short",
            "$2b$99$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "$pbkdf2-sha256$i=0$c2FsdFNBTFRzYWx0$1sO4e+/cXZkHEEXBbLKgXuIg4Tzp7BLO0ST8YBKgD4g",
            "$pbkdf2-sha256$i=1,l=16$c2FsdFNBTFRzYWx0$1sO4e+/cXZkHEEXBbLKgXuIg4Tzp7BLO0ST8YBKgD4g",
            "$pbkdf2-sha256$i=1,x=1$c2FsdFNBTFRzYWx0$1sO4e+/cXZkHEEXBbLKgXuIg4Tzp7BLO0ST8YBKgD4g",
        ] {
            let e = err(bad);
            assert!(matches!(e, PasswordError::Malformed { .. }), "{bad}: {e}");
        }
        let plain = stored("pw");
        assert!(plain.is_plain() && !plain.is_slow());
        assert!(plain.verify(&Secret::from("pw")) && !plain.verify(&Secret::from("pw2")));
        assert!(!StoredPassword::never_matches().verify(&Secret::from("pw")));
    }

    #[test]
    fn debug_shows_no_hash() {
        let p =
            stored("$shiro1$SHA-256$3$c29tZXNhbHQ=$l7fR2f24r3vcdEbqUYjIal09h/nhn2UyNskJKuUulCA=");
        let d = format!("{p:?}");
        assert!(!d.contains("l7fR2f") && !d.contains("c29tZXNhbHQ"), "{d}");
        let p = stored("plain-secret");
        assert!(!format!("{p:?}").contains("plain-secret"));
    }
}
