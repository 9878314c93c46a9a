//! Keychains: the passwords a node needs, in one file, keyed by URI.
//!
//! A keychain holds the secrets a server or client presents to others: the password of its own
//! key store (`jks:alias@/path/to/keystore.jks`), its credentials for every server it connects to
//! (`tc://user@host:port`), the password of a management endpoint (`jmx://user@host:port`). This
//! is Terracotta's keychain (its `keychain` script with `-O` for obfuscated files and `-c` to
//! create one), with an authenticated file format. The `realm keychain` command manages the file;
//! a configuration reads it.
//!
//! # Two modes
//!
//! * **Encrypted** ([`KeychainMode::Encrypted`], the default of `realm keychain`): the file is
//!   locked with a master password. The password is stretched with Argon2id (19 MiB of memory, two
//!   passes, one lane, a random 16-byte salt: the parameters are recorded in the file), and the
//!   entries are sealed with XChaCha20-Poly1305 under a key derived from it. Without the master
//!   password the file reveals its total size, nothing else (not even the URIs). A wrong master
//!   password and a modified file are told apart ([`KeychainError::WrongMasterPassword`],
//!   [`KeychainError::Tampered`]).
//! * **Obfuscated** ([`KeychainMode::Obfuscated`], `realm keychain create -O`): there is no master
//!   password. The entries are scrambled with XChaCha20-Poly1305 under a key that is a constant
//!   of this source code.
//!
//!   **Obfuscation is no protection against anyone who can read the file**: whoever can read it
//!   can recover every password in it, with this library or with the published key. It only keeps
//!   secrets from being read over a shoulder or found by `grep`. Protect an obfuscated keychain
//!   with the file system (the file is written with mode 0600) or use an encrypted one. A
//!   modified obfuscated file is still detected ([`KeychainError::Tampered`]).
//!
//! Opening a file in the other mode (a master password for an obfuscated file, none for an
//! encrypted one) is [`KeychainError::WrongMode`], which says what the file is.
//!
//! # The `realm keychain` command
//!
//! | command | what it does |
//! |---|---|
//! | `realm keychain create FILE [-O] [--force]` | an empty keychain: encrypted, or obfuscated with `-O`; refuses to overwrite FILE without `--force` |
//! | `realm keychain add FILE URI [-c] [-O] [--password-stdin]` | stores the password for URI, typed twice at a prompt or one line from stdin; `-c` creates FILE if needed |
//! | `realm keychain get FILE URI` | prints the password for URI (and warns on stderr that it does) |
//! | `realm keychain list FILE` | the URIs, sorted; never the passwords |
//! | `realm keychain remove FILE URI` | removes the entry for URI |
//!
//! ```text
//! $ realm keychain add -O -c server1.keychain jks:server1alias@/the/path/keystore-file.jks
//! Enter the password you wish to associate with jks:server1alias@/the/path/keystore-file.jks:
//! Confirm the password to associate with jks:server1alias@/the/path/keystore-file.jks:
//! Keychain file successfully created in server1.keychain (obfuscated, NOT encrypted)
//! Password for jks:server1alias@/the/path/keystore-file.jks successfully stored in server1.keychain
//! warning: this keychain is OBFUSCATED, NOT ENCRYPTED: anyone who can read the file can recover every password in it. […]
//! ```
//!
//! Passwords never come from the command line. The master password of an encrypted keychain comes
//! from `--master-password-env VAR`, `--master-password-file FILE` (its first line), else the
//! variable `REALM_KEYCHAIN_PASSWORD`, else a prompt (typed twice when the keychain is created).
//! A master password named by a flag is always used, so giving one for an obfuscated file is the
//! wrong-mode error; `REALM_KEYCHAIN_PASSWORD` is only read for encrypted files. Exit codes: 0
//! done, 1 no entry for the URI (`get`, `remove`: "No password available in keychain for URI"),
//! 2 any error (wrong master password, tampered file, wrong mode, I/O, usage).
//!
//! # Example
//!
//! ```
//! use realm_core::Secret;
//! use realm_core::keychain::{Keychain, KeychainMode};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("realm-keychain-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("server1.keychain");
//! let master = Secret::from("correct horse battery staple");
//!
//! let mut keychain = Keychain::create(KeychainMode::Encrypted, Some(&master))?;
//! keychain.insert("tc://server2@db2.example.com:9530", Secret::from("s2-password"));
//! keychain.save(&path)?;
//!
//! let keychain = Keychain::open(&path, Some(&master))?;
//! let password = keychain.get("tc://server2@db2.example.com:9530");
//! assert_eq!(password.and_then(|p| p.expose_str()), Some("s2-password"));
//! assert!(keychain.get("tc://nobody@db2.example.com:9530").is_none());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```
//!
//! # File format (version 1)
//!
//! Integers are unsigned little-endian. Both modes start with the same 10 bytes:
//!
//! | offset | length | field                                                                   |
//! |-------:|-------:|-------------------------------------------------------------------------|
//! |      0 |      8 | magic `REALMKCH` (`52 45 41 4c 4d 4b 43 48`)                              |
//! |      8 |      1 | format version: `01`                                                    |
//! |      9 |      1 | mode: `45` (`E`, encrypted) or `4f` (`O`, obfuscated)                   |
//!
//! **Encrypted** (`E`), a 110-byte header and the sealed entries:
//!
//! | offset | length | field                                                                   |
//! |-------:|-------:|-------------------------------------------------------------------------|
//! |     10 |      4 | Argon2id memory cost, KiB (u32; at least 19456, at most 1048576)        |
//! |     14 |      4 | Argon2id passes (u32; at least 2, at most 64)                           |
//! |     18 |      4 | Argon2id lanes (u32; 1 to 16)                                           |
//! |     22 |     16 | salt (random, chosen when the keychain is created)                      |
//! |     38 |     32 | key-check value `C`                                                     |
//! |     70 |     24 | nonce of the entries (random, new at every save)                        |
//! |     94 |     16 | header checksum over bytes 0..94                                        |
//! |    110 |  n + 16 | entries, sealed: XChaCha20-Poly1305 ciphertext and tag, with bytes 0..110 as associated data |
//!
//! * `K = Argon2id(v=0x13, m, t, p, password = master password, salt, 32 bytes)`.
//! * Two subkeys with domain separation: `PRF(K, label)` is the XChaCha20 key stream of `K` with
//!   the 24-byte `label` as nonce (the first 32 bytes of the XChaCha20-Poly1305 encryption of 32
//!   zero bytes). `C = PRF(K, "realm-keychain-v1:check\0")`, and the entries key is
//!   `E = PRF(K, "realm-keychain-v1:entry\0")`. `C` reveals nothing about `E`.
//! * Header checksum: the Poly1305 tag of XChaCha20-Poly1305 with the public key
//!   `"realm-keychain-header-checksum!!"`, the nonce `"realm-keychain-v1:header"`, an empty
//!   plaintext and bytes 0..94 as associated data. It is a checksum, not a secret MAC: it tells a
//!   damaged or edited header (salt, parameters, check value, nonce) from a wrong password. Whoever
//!   recomputes it after editing the header gains nothing: a changed salt or parameter gives a
//!   different `K`, so no password opens the file any more, and every header byte is also
//!   associated data of the entries.
//!
//! Opening checks, in order: magic ([`KeychainError::NotAKeychain`]), version
//! ([`KeychainError::Version`]), length and header checksum ([`KeychainError::Tampered`]), mode
//! ([`KeychainError::WrongMode`]), the master password against `C`
//! ([`KeychainError::WrongMasterPassword`]), the entries' tag ([`KeychainError::Tampered`]).
//!
//! **Obfuscated** (`O`), a 34-byte header and the scrambled entries:
//!
//! | offset | length | field                                                                   |
//! |-------:|-------:|-------------------------------------------------------------------------|
//! |     10 |     24 | nonce of the entries (random, new at every save)                        |
//! |     34 |  n + 16 | entries: XChaCha20-Poly1305 ciphertext and tag under the constant key `"realm-keychain-obfuscation-key!!"`, with bytes 0..34 as associated data |
//!
//! **Entries** (the `n` plaintext bytes, the same in both modes), sorted by URI, no duplicates:
//!
//! | length | field                                  |
//! |-------:|----------------------------------------|
//! |      4 | number of entries (u32)                |
//! |      4 | per entry: URI length in bytes (u32)   |
//! |      … | the URI, UTF-8                         |
//! |      4 | the secret's length in bytes (u32)     |
//! |      … | the secret                             |
//!
//! # Files and memory
//!
//! [`Keychain::save`] writes a temporary file with mode 0600 in the keychain's folder, flushes it
//! to disk and renames it over the keychain, so a crash leaves the old file or the new one, never
//! half of one. Secrets are held as [`Secret`] (redacted in `Debug`, zeroized on drop); so are the
//! derived keys and every decrypted buffer. No error message contains a secret.

use crate::secret::{Secret, ct_eq};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The first 8 bytes of every keychain file.
const MAGIC: &[u8; 8] = b"REALMKCH";
/// The format version this build reads and writes.
const FORMAT_VERSION: u8 = 1;
const MODE_ENCRYPTED: u8 = b'E';
const MODE_OBFUSCATED: u8 = b'O';

/// Argon2id parameters of new keychains (OWASP's recommendation: 19 MiB, 2 passes, 1 lane).
const DEFAULT_KDF: KdfParams = KdfParams {
    m_kib: 19 * 1024,
    t: 2,
    p: 1,
};
const MIN_M_KIB: u32 = 19 * 1024;
const MAX_M_KIB: u32 = 1024 * 1024;
const MIN_T: u32 = 2;
const MAX_T: u32 = 64;
const MIN_P: u32 = 1;
const MAX_P: u32 = 16;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const CHECK_LEN: usize = 32;
const CHECKSUM_LEN: usize = 16;
const TAG_LEN: usize = 16;
/// magic, version, mode.
const PREFIX_LEN: usize = 10;
/// Bytes covered by the header checksum of an encrypted file.
const ENC_CHECKED_LEN: usize = PREFIX_LEN + 12 + SALT_LEN + CHECK_LEN + NONCE_LEN;
const ENC_HEADER_LEN: usize = ENC_CHECKED_LEN + CHECKSUM_LEN;
const OBF_HEADER_LEN: usize = PREFIX_LEN + NONCE_LEN;
/// A keychain holds a handful of passwords; anything this large is not one.
const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

const CHECK_LABEL: &[u8; 24] = b"realm-keychain-v1:check\0";
const ENTRIES_LABEL: &[u8; 24] = b"realm-keychain-v1:entry\0";
const CHECKSUM_KEY: &[u8; 32] = b"realm-keychain-header-checksum!!";
const CHECKSUM_NONCE: &[u8; 24] = b"realm-keychain-v1:header";
/// The key of obfuscated files. It is public (it is right here): obfuscation is not encryption.
const OBFUSCATION_KEY: &[u8; 32] = b"realm-keychain-obfuscation-key!!";

/// How a keychain file protects its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeychainMode {
    /// Scrambled with a constant key: **no protection against anyone who can read the file**,
    /// only against reading over a shoulder. No master password. Terracotta's `-O`.
    Obfuscated,
    /// Encrypted under a key stretched from a master password (Argon2id, XChaCha20-Poly1305).
    Encrypted,
}

impl fmt::Display for KeychainMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeychainMode::Obfuscated => "obfuscated",
            KeychainMode::Encrypted => "encrypted",
        })
    }
}

/// Why a keychain cannot be created, opened or saved. Messages name the file (where there is
/// one) and never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeychainError {
    /// The file could not be read or written.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The keychain file (or the master-password file).
        path: PathBuf,
        /// What was being done, e.g. `cannot read the keychain`.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a keychain (wrong magic, unknown mode) or its content is malformed.
    #[error("{}: not a keychain file: {reason}", path.display())]
    NotAKeychain {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file is a keychain of a format version this build does not read.
    #[error("{}: keychain format version {found} is not supported (this build reads version {supported})", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// The keychain was opened in the other mode: a master password was given for an obfuscated
    /// keychain, or none for an encrypted one.
    #[error("{}wrong keychain mode: {}", at(path.as_deref()), mode_hint(*file_mode, *requested))]
    WrongMode {
        /// The file (none when creating a keychain).
        path: Option<PathBuf>,
        /// The mode of the file (or of the keychain being created).
        file_mode: KeychainMode,
        /// The mode the caller asked for: encrypted when it gave a master password.
        requested: KeychainMode,
    },
    /// The master password does not open this keychain.
    #[error("{}: wrong master password", path.display())]
    WrongMasterPassword {
        /// The file.
        path: PathBuf,
    },
    /// The file was modified or damaged: an integrity check failed (for an encrypted keychain,
    /// although the master password is right, or in its header).
    #[error("{}: the keychain has been tampered with or is damaged ({detail})", path.display())]
    Tampered {
        /// The file.
        path: PathBuf,
        /// Which check failed.
        detail: &'static str,
    },
    /// An encrypted keychain needs a master password and none is available.
    #[error("a master password is required: {reason}")]
    MasterPasswordRequired {
        /// Why none is available, e.g. `environment variable X is not set`.
        reason: String,
    },
    /// The master password is empty; an encrypted keychain needs a non-empty one.
    #[error("the master password {origin} is empty: an encrypted keychain needs a non-empty one")]
    EmptyMasterPassword {
        /// Where the empty password came from, e.g. `for FILE` or `in environment variable X`.
        origin: String,
    },
    /// A cryptographic primitive or the operating system's random number generator failed.
    #[error("{}{what}", at(path.as_deref()))]
    Crypto {
        /// The file, if any.
        path: Option<PathBuf>,
        /// What failed.
        what: String,
    },
}

fn at(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

fn mode_hint(file_mode: KeychainMode, requested: KeychainMode) -> String {
    match (file_mode, requested) {
        (KeychainMode::Obfuscated, KeychainMode::Encrypted) => {
            "the keychain is obfuscated and has no master password, but a master password was given"
                .into()
        }
        (KeychainMode::Encrypted, KeychainMode::Obfuscated) => {
            "the keychain is encrypted and needs its master password, but none was given".into()
        }
        (file, _) => format!("the keychain is {file}"),
    }
}

/// Argon2id cost parameters, as recorded in an encrypted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

impl KdfParams {
    fn in_bounds(&self) -> bool {
        (MIN_M_KIB..=MAX_M_KIB).contains(&self.m_kib)
            && (MIN_T..=MAX_T).contains(&self.t)
            && (MIN_P..=MAX_P).contains(&self.p)
            && self.m_kib >= 8 * self.p
    }
}

/// The key material of an encrypted keychain (derived once, reused by every save with a fresh
/// nonce).
struct EncryptionKeys {
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    check: Zeroizing<[u8; CHECK_LEN]>,
    entries_key: Zeroizing<[u8; KEY_LEN]>,
}

enum Protection {
    Obfuscated,
    Encrypted(Box<EncryptionKeys>),
}

/// A keychain: secrets keyed by URI (`tc://user@host:port`, `jks:alias@/path/to/store`,
/// `jmx://user@host:port`, …), obfuscated or encrypted. See the [module documentation](self).
///
/// `Debug` shows the mode and the URIs, never a secret or a key.
pub struct Keychain {
    protection: Protection,
    entries: BTreeMap<String, Secret>,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Secret` redacts itself; the keys are not shown at all.
        f.debug_struct("Keychain")
            .field("mode", &self.mode())
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl Keychain {
    /// A new, empty keychain. [`KeychainMode::Encrypted`] requires a non-empty master password
    /// (stretched here, with a new random salt: this takes a few tens of milliseconds);
    /// [`KeychainMode::Obfuscated`] refuses one.
    pub fn create(mode: KeychainMode, master: Option<&Secret>) -> Result<Keychain, KeychainError> {
        let protection = match (mode, master) {
            (KeychainMode::Obfuscated, None) => Protection::Obfuscated,
            (KeychainMode::Obfuscated, Some(_)) => {
                return Err(KeychainError::WrongMode {
                    path: None,
                    file_mode: KeychainMode::Obfuscated,
                    requested: KeychainMode::Encrypted,
                });
            }
            (KeychainMode::Encrypted, None) => {
                return Err(KeychainError::MasterPasswordRequired {
                    reason: "an encrypted keychain is locked with one".into(),
                });
            }
            (KeychainMode::Encrypted, Some(master)) => {
                if master.is_empty() {
                    return Err(KeychainError::EmptyMasterPassword {
                        origin: "for the new keychain".into(),
                    });
                }
                let mut salt = [0u8; SALT_LEN];
                random(&mut salt, None)?;
                let (check, entries_key) = derive_keys(master, DEFAULT_KDF, &salt)
                    .map_err(|what| KeychainError::Crypto { path: None, what })?;
                Protection::Encrypted(Box::new(EncryptionKeys {
                    kdf: DEFAULT_KDF,
                    salt,
                    check,
                    entries_key,
                }))
            }
        };
        Ok(Keychain {
            protection,
            entries: BTreeMap::new(),
        })
    }

    /// Opens a keychain file: with the master password for an encrypted one, with `None` for an
    /// obfuscated one (anything else is [`KeychainError::WrongMode`]).
    pub fn open(path: &Path, master: Option<&Secret>) -> Result<Keychain, KeychainError> {
        let bytes = read_file(path)?;
        let mode = parse_prefix(path, &bytes)?;
        match mode {
            KeychainMode::Obfuscated => open_obfuscated(path, &bytes, master),
            KeychainMode::Encrypted => open_encrypted(path, &bytes, master),
        }
    }

    /// The mode of a keychain file, read from its first bytes (nothing is decrypted or verified
    /// beyond the magic and the version). Lets a tool decide whether to ask for a master password.
    pub fn file_mode(path: &Path) -> Result<KeychainMode, KeychainError> {
        let mut prefix = Vec::with_capacity(PREFIX_LEN);
        std::fs::File::open(path)
            .and_then(|f| f.take(PREFIX_LEN as u64).read_to_end(&mut prefix))
            .map_err(|source| KeychainError::Io {
                path: path.to_path_buf(),
                action: "cannot read the keychain",
                source,
            })?;
        parse_prefix(path, &prefix)
    }

    /// The secret stored for `uri` (compared exactly, case-sensitively).
    pub fn get(&self, uri: &str) -> Option<&Secret> {
        self.entries.get(uri)
    }

    /// Stores `secret` for `uri`, replacing any previous one.
    pub fn insert(&mut self, uri: impl Into<String>, secret: Secret) {
        self.entries.insert(uri.into(), secret);
    }

    /// Removes the entry for `uri`; true if there was one.
    pub fn remove(&mut self, uri: &str) -> bool {
        self.entries.remove(uri).is_some()
    }

    /// The URIs, sorted.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the keychain has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How the keychain protects its entries.
    pub fn mode(&self) -> KeychainMode {
        match self.protection {
            Protection::Obfuscated => KeychainMode::Obfuscated,
            Protection::Encrypted(_) => KeychainMode::Encrypted,
        }
    }

    /// Writes the keychain to `path` atomically: a temporary file with mode 0600 in the same
    /// folder, flushed to disk, then renamed over `path`. Every save uses a new random nonce.
    pub fn save(&self, path: &Path) -> Result<(), KeychainError> {
        let plain = encode_entries(&self.entries).ok_or_else(|| KeychainError::Io {
            path: path.to_path_buf(),
            action: "cannot save the keychain",
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "an entry or the number of entries exceeds 4 GiB",
            ),
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce, Some(path))?;
        let mut file = Vec::with_capacity(ENC_HEADER_LEN + plain.len() + TAG_LEN);
        file.extend_from_slice(MAGIC);
        file.push(FORMAT_VERSION);
        let key: &[u8; KEY_LEN] = match &self.protection {
            Protection::Obfuscated => {
                file.push(MODE_OBFUSCATED);
                file.extend_from_slice(&nonce);
                OBFUSCATION_KEY
            }
            Protection::Encrypted(keys) => {
                file.push(MODE_ENCRYPTED);
                file.extend_from_slice(&keys.kdf.m_kib.to_le_bytes());
                file.extend_from_slice(&keys.kdf.t.to_le_bytes());
                file.extend_from_slice(&keys.kdf.p.to_le_bytes());
                file.extend_from_slice(&keys.salt);
                file.extend_from_slice(keys.check.as_slice());
                file.extend_from_slice(&nonce);
                let sum = header_checksum(&file).map_err(|what| KeychainError::Crypto {
                    path: Some(path.to_path_buf()),
                    what,
                })?;
                file.extend_from_slice(&sum);
                &keys.entries_key
            }
        };
        let sealed = seal(key, &nonce, &file, plain).map_err(|what| KeychainError::Crypto {
            path: Some(path.to_path_buf()),
            what,
        })?;
        file.extend_from_slice(&sealed);
        write_atomic(path, &file)
    }
}

/// Where a master password comes from. Prompting needs a terminal, which is the caller's
/// business (realm-core does not read terminals): [`MasterPasswordSource::read`] refuses
/// [`MasterPasswordSource::Prompt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterPasswordSource {
    /// Typed at a prompt, by the caller.
    Prompt,
    /// The value of this environment variable.
    Env(String),
    /// The first line of this file (its line ending dropped; any further lines are ignored).
    File(PathBuf),
}

impl MasterPasswordSource {
    /// Reads the master password. An empty one is [`KeychainError::EmptyMasterPassword`]; an unset
    /// variable and [`MasterPasswordSource::Prompt`] are [`KeychainError::MasterPasswordRequired`].
    pub fn read(&self) -> Result<Secret, KeychainError> {
        let (secret, origin) = match self {
            MasterPasswordSource::Prompt => {
                return Err(KeychainError::MasterPasswordRequired {
                    reason: "it must be typed at a prompt, which the calling program provides"
                        .into(),
                });
            }
            MasterPasswordSource::Env(var) => {
                let Some(value) = std::env::var_os(var) else {
                    return Err(KeychainError::MasterPasswordRequired {
                        reason: format!("environment variable `{var}` is not set"),
                    });
                };
                (
                    Secret::from_bytes(value.into_encoded_bytes()),
                    format!("in environment variable `{var}`"),
                )
            }
            MasterPasswordSource::File(path) => {
                let mut bytes =
                    Zeroizing::new(std::fs::read(path).map_err(|source| KeychainError::Io {
                        path: path.clone(),
                        action: "cannot read the master password",
                        source,
                    })?);
                let end = bytes
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(bytes.len());
                bytes.truncate(end);
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                // The moved-out buffer (whole capacity) is zeroized when the secret drops.
                (
                    Secret::from_bytes(std::mem::take(&mut *bytes)),
                    format!("in file {}", path.display()),
                )
            }
        };
        if secret.is_empty() {
            return Err(KeychainError::EmptyMasterPassword { origin });
        }
        Ok(secret)
    }
}

fn random(buf: &mut [u8], path: Option<&Path>) -> Result<(), KeychainError> {
    getrandom::fill(buf).map_err(|e| KeychainError::Crypto {
        path: path.map(Path::to_path_buf),
        what: format!("the operating system's random number generator failed: {e}"),
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, KeychainError> {
    let io = |source| KeychainError::Io {
        path: path.to_path_buf(),
        action: "cannot read the keychain",
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(KeychainError::NotAKeychain {
            path: path.to_path_buf(),
            reason: format!("larger than {} MiB", MAX_FILE_LEN / (1024 * 1024)),
        });
    }
    Ok(bytes)
}

/// Magic, version and mode.
fn parse_prefix(path: &Path, bytes: &[u8]) -> Result<KeychainMode, KeychainError> {
    let not = |reason: &str| KeychainError::NotAKeychain {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let mut r = Reader(bytes);
    if r.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(not("it does not start with the keychain magic `REALMKCH`"));
    }
    let Some(version) = r.u8() else {
        return Err(tampered(path, "the file is truncated"));
    };
    if version != FORMAT_VERSION {
        return Err(KeychainError::Version {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    match r.u8() {
        Some(MODE_ENCRYPTED) => Ok(KeychainMode::Encrypted),
        Some(MODE_OBFUSCATED) => Ok(KeychainMode::Obfuscated),
        Some(other) => Err(not(&format!("unknown mode byte 0x{other:02x}"))),
        None => Err(tampered(path, "the file is truncated")),
    }
}

fn tampered(path: &Path, detail: &'static str) -> KeychainError {
    KeychainError::Tampered {
        path: path.to_path_buf(),
        detail,
    }
}

fn open_obfuscated(
    path: &Path,
    bytes: &[u8],
    master: Option<&Secret>,
) -> Result<Keychain, KeychainError> {
    let (header, sealed) = bytes
        .split_at_checked(OBF_HEADER_LEN)
        .ok_or_else(|| tampered(path, "the file is truncated"))?;
    let nonce = Reader(header)
        .skip(PREFIX_LEN)
        .and_then(|mut r| r.array::<NONCE_LEN>())
        .ok_or_else(|| tampered(path, "the file is truncated"))?;
    let plain = open_sealed(OBFUSCATION_KEY, &nonce, header, sealed)
        .ok_or_else(|| tampered(path, "the entries failed their integrity check"))?;
    if master.is_some() {
        return Err(KeychainError::WrongMode {
            path: Some(path.to_path_buf()),
            file_mode: KeychainMode::Obfuscated,
            requested: KeychainMode::Encrypted,
        });
    }
    Ok(Keychain {
        protection: Protection::Obfuscated,
        entries: decode_entries(path, &plain)?,
    })
}

fn open_encrypted(
    path: &Path,
    bytes: &[u8],
    master: Option<&Secret>,
) -> Result<Keychain, KeychainError> {
    let truncated = || tampered(path, "the file is truncated");
    let (header, sealed) = bytes
        .split_at_checked(ENC_HEADER_LEN)
        .ok_or_else(truncated)?;
    let (checked, stored_sum) = header
        .split_at_checked(ENC_CHECKED_LEN)
        .ok_or_else(truncated)?;
    let sum = header_checksum(checked).map_err(|what| KeychainError::Crypto {
        path: Some(path.to_path_buf()),
        what,
    })?;
    if !ct_eq(&sum, stored_sum) {
        return Err(tampered(path, "the header checksum does not match"));
    }
    let mut r = Reader(checked).skip(PREFIX_LEN).ok_or_else(truncated)?;
    let (Some(m_kib), Some(t), Some(p), Some(salt), Some(check), Some(nonce)) = (
        r.u32(),
        r.u32(),
        r.u32(),
        r.array::<SALT_LEN>(),
        r.array::<CHECK_LEN>(),
        r.array::<NONCE_LEN>(),
    ) else {
        return Err(truncated());
    };
    let Some(master) = master else {
        return Err(KeychainError::WrongMode {
            path: Some(path.to_path_buf()),
            file_mode: KeychainMode::Encrypted,
            requested: KeychainMode::Obfuscated,
        });
    };
    if master.is_empty() {
        return Err(KeychainError::EmptyMasterPassword {
            origin: format!("for {}", path.display()),
        });
    }
    let kdf = KdfParams { m_kib, t, p };
    if !kdf.in_bounds() {
        return Err(KeychainError::NotAKeychain {
            path: path.to_path_buf(),
            reason: format!(
                "Argon2id parameters m={m_kib} KiB, t={t}, p={p} are outside the accepted range (m {MIN_M_KIB}..={MAX_M_KIB}, t {MIN_T}..={MAX_T}, p {MIN_P}..={MAX_P})"
            ),
        });
    }
    let (derived_check, entries_key) =
        derive_keys(master, kdf, &salt).map_err(|what| KeychainError::Crypto {
            path: Some(path.to_path_buf()),
            what,
        })?;
    if !ct_eq(derived_check.as_slice(), &check) {
        return Err(KeychainError::WrongMasterPassword {
            path: path.to_path_buf(),
        });
    }
    let plain = open_sealed(&entries_key, &nonce, header, sealed).ok_or_else(|| {
        tampered(
            path,
            "the entries failed their integrity check although the master password is right",
        )
    })?;
    Ok(Keychain {
        protection: Protection::Encrypted(Box::new(EncryptionKeys {
            kdf,
            salt,
            check: derived_check,
            entries_key,
        })),
        entries: decode_entries(path, &plain)?,
    })
}

/// The key-check value and the entries key.
type DerivedKeys = (Zeroizing<[u8; CHECK_LEN]>, Zeroizing<[u8; KEY_LEN]>);

/// Argon2id, then the check value and the entries key (see the module documentation).
fn derive_keys(
    master: &Secret,
    kdf: KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<DerivedKeys, String> {
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(KEY_LEN))
        .map_err(|e| format!("bad Argon2id parameters: {e}"))?;
    let mut stretched = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(master.expose(), salt, stretched.as_mut_slice())
        .map_err(|e| format!("Argon2id failed: {e}"))?;
    Ok((
        prf(&stretched, CHECK_LABEL)?,
        prf(&stretched, ENTRIES_LABEL)?,
    ))
}

/// 32 bytes of the XChaCha20 key stream of `key` with `label` as nonce.
fn prf(key: &[u8; KEY_LEN], label: &[u8; NONCE_LEN]) -> Result<Zeroizing<[u8; 32]>, String> {
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key));
    let mut out = Zeroizing::new([0u8; 32]);
    cipher
        .encrypt_inout_detached(<&XNonce>::from(label), &[], out.as_mut_slice().into())
        .map_err(|_| "key derivation failed".to_string())?;
    Ok(out)
}

/// The public Poly1305 checksum of an encrypted file's header.
fn header_checksum(data: &[u8]) -> Result<[u8; CHECKSUM_LEN], String> {
    let cipher = XChaCha20Poly1305::new(<&Key>::from(CHECKSUM_KEY));
    let mut empty = [0u8; 0];
    let tag = cipher
        .encrypt_inout_detached(
            <&XNonce>::from(CHECKSUM_NONCE),
            data,
            empty.as_mut_slice().into(),
        )
        .map_err(|_| "header checksum failed".to_string())?;
    Ok(tag.into())
}

/// Encrypts `plain` in place (ciphertext then tag).
fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    mut plain: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>, String> {
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key));
    cipher
        .encrypt_in_place(<&XNonce>::from(nonce), aad, &mut *plain)
        .map_err(|_| "encryption failed".to_string())?;
    Ok(plain)
}

/// Decrypts and verifies; `None` if the tag does not match.
fn open_sealed(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key));
    let mut buf = Zeroizing::new(sealed.to_vec());
    cipher
        .decrypt_in_place(<&XNonce>::from(nonce), aad, &mut *buf)
        .ok()?;
    Some(buf)
}

/// The plaintext entries, in a buffer allocated once (so no reallocation leaves a copy behind),
/// with room for the tag. `None` if a length does not fit in a u32.
fn encode_entries(entries: &BTreeMap<String, Secret>) -> Option<Zeroizing<Vec<u8>>> {
    let size = entries
        .iter()
        .map(|(uri, secret)| 8 + uri.len() + secret.len())
        .sum::<usize>()
        + 4;
    let mut out = Zeroizing::new(Vec::with_capacity(size + TAG_LEN));
    out.extend_from_slice(&u32::try_from(entries.len()).ok()?.to_le_bytes());
    for (uri, secret) in entries {
        out.extend_from_slice(&u32::try_from(uri.len()).ok()?.to_le_bytes());
        out.extend_from_slice(uri.as_bytes());
        out.extend_from_slice(&u32::try_from(secret.len()).ok()?.to_le_bytes());
        out.extend_from_slice(secret.expose());
    }
    Some(out)
}

fn decode_entries(path: &Path, plain: &[u8]) -> Result<BTreeMap<String, Secret>, KeychainError> {
    let bad = |reason: &str| KeychainError::NotAKeychain {
        path: path.to_path_buf(),
        reason: format!("malformed entries: {reason}"),
    };
    let mut r = Reader(plain);
    let count = r.u32().ok_or_else(|| bad("no entry count"))?;
    let mut entries = BTreeMap::new();
    for _ in 0..count {
        let uri = r
            .u32()
            .and_then(|n| r.take(usize::try_from(n).ok()?))
            .ok_or_else(|| bad("an entry is cut short"))?;
        let uri = std::str::from_utf8(uri).map_err(|_| bad("a URI is not UTF-8"))?;
        let secret = r
            .u32()
            .and_then(|n| r.take(usize::try_from(n).ok()?))
            .ok_or_else(|| bad("an entry is cut short"))?;
        if entries
            .insert(uri.to_string(), Secret::from_bytes(secret.to_vec()))
            .is_some()
        {
            return Err(bad("a URI appears twice"));
        }
    }
    if !r.0.is_empty() {
        return Err(bad("bytes after the last entry"));
    }
    Ok(entries)
}

/// A bounds-checked cursor.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn skip(mut self, n: usize) -> Option<Self> {
        self.take(n)?;
        Some(self)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|s| s.try_into().ok())
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array::<4>().map(u32::from_le_bytes)
    }
}

/// Temporary file in the same folder (mode 0600), fsync, rename, fsync of the folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeychainError> {
    let io = |action, source| KeychainError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let Some(name) = path.file_name() else {
        return Err(io(
            "cannot save the keychain",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        ));
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut suffix = [0u8; 8];
    random(&mut suffix, Some(path))?;
    let tmp = dir.join(format!(
        ".{}.{:016x}.tmp",
        name.to_string_lossy(),
        u64::from_le_bytes(suffix)
    ));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    };
    if let Err(source) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("cannot save the keychain", source));
    }
    // Make the rename itself durable. Best effort: not every platform can open a folder.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URIS: [(&str, &str); 3] = [
        ("tc://server2@db2.example.com:9530", "Srv2-pw-7391"),
        (
            "jks:server1alias@/the/path/keystore-file.jks",
            "Jks-pw-2044",
        ),
        ("jmx://admin@db1.example.com:9540", "Jmx-pw-5180"),
    ];

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let d = std::env::temp_dir()
                .join(format!("realm-keychain-unit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
        fn file(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn master() -> Secret {
        Secret::from("Master-pw-8642")
    }

    /// A saved keychain with the three test entries.
    fn saved(dir: &TempDir, mode: KeychainMode) -> PathBuf {
        let m = master();
        let master = (mode == KeychainMode::Encrypted).then_some(&m);
        let mut kc = Keychain::create(mode, master).unwrap();
        for (uri, pw) in URIS {
            kc.insert(uri, Secret::from(pw));
        }
        let path = dir.file(&format!("{mode}.keychain"));
        kc.save(&path).unwrap();
        path
    }

    fn open_with(path: &Path, mode: KeychainMode) -> Result<Keychain, KeychainError> {
        let m = master();
        Keychain::open(path, (mode == KeychainMode::Encrypted).then_some(&m))
    }

    fn flip(path: &Path, offset: usize) {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[offset] ^= 0x01;
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn keychain_round_trips_in_both_modes() {
        let dir = TempDir::new("roundtrip");
        for mode in [KeychainMode::Obfuscated, KeychainMode::Encrypted] {
            let path = saved(&dir, mode);
            let kc = open_with(&path, mode).unwrap();
            assert_eq!(kc.mode(), mode);
            assert_eq!(kc.len(), 3);
            for (uri, pw) in URIS {
                assert_eq!(kc.get(uri).and_then(Secret::expose_str), Some(pw), "{uri}");
            }
            assert!(kc.get("tc://server2@db2.example.com:9531").is_none());
            let mut sorted: Vec<&str> = URIS.iter().map(|(u, _)| *u).collect();
            sorted.sort_unstable();
            assert_eq!(kc.uris().collect::<Vec<_>>(), sorted);
            assert_eq!(Keychain::file_mode(&path).unwrap(), mode);
        }
    }

    #[test]
    fn keychain_edits_survive_a_second_save_with_a_new_nonce() {
        let dir = TempDir::new("edit");
        let path = saved(&dir, KeychainMode::Encrypted);
        let first = std::fs::read(&path).unwrap();
        let mut kc = open_with(&path, KeychainMode::Encrypted).unwrap();
        assert!(kc.remove(URIS[0].0));
        assert!(!kc.remove(URIS[0].0));
        kc.insert(URIS[1].0, Secret::from("Replaced-pw-1"));
        kc.insert("tc://new@h:1", Secret::from_bytes(vec![0, 0xff, b'\n']));
        kc.save(&path).unwrap();
        let second = std::fs::read(&path).unwrap();
        // Same salt and parameters, new nonce.
        assert_eq!(first[..70], second[..70]);
        assert_ne!(first[70..94], second[70..94]);
        let kc = open_with(&path, KeychainMode::Encrypted).unwrap();
        assert!(kc.get(URIS[0].0).is_none());
        assert_eq!(
            kc.get(URIS[1].0).and_then(Secret::expose_str),
            Some("Replaced-pw-1")
        );
        assert_eq!(
            kc.get("tc://new@h:1").map(Secret::expose),
            Some(&[0, 0xff, b'\n'][..])
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
    }

    #[test]
    fn keychain_empty_round_trips() {
        let dir = TempDir::new("empty");
        let path = dir.file("e.keychain");
        Keychain::create(KeychainMode::Obfuscated, None)
            .unwrap()
            .save(&path)
            .unwrap();
        let kc = Keychain::open(&path, None).unwrap();
        assert!(kc.is_empty() && kc.uris().next().is_none());
    }

    #[test]
    fn keychain_wrong_master_password_is_not_tampering() {
        let dir = TempDir::new("wrongpw");
        let path = saved(&dir, KeychainMode::Encrypted);
        let err = Keychain::open(&path, Some(&Secret::from("Master-pw-8643"))).unwrap_err();
        assert!(
            matches!(err, KeychainError::WrongMasterPassword { .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()) && msg.contains("wrong master password"));
        // A wrong password on a file whose entries were modified: still a wrong password.
        let len = std::fs::read(&path).unwrap().len();
        flip(&path, len - 1);
        let err = Keychain::open(&path, Some(&Secret::from("nope"))).unwrap_err();
        assert!(
            matches!(err, KeychainError::WrongMasterPassword { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn keychain_tampering_is_detected_in_header_ciphertext_and_length() {
        let dir = TempDir::new("tamper");
        for mode in [KeychainMode::Encrypted, KeychainMode::Obfuscated] {
            let path = saved(&dir, mode);
            let pristine = std::fs::read(&path).unwrap();
            let header = match mode {
                KeychainMode::Encrypted => ENC_HEADER_LEN,
                KeychainMode::Obfuscated => OBF_HEADER_LEN,
            };
            // Every header byte after the prefix (KDF parameters, salt, check value, nonce,
            // checksum), the first and last ciphertext bytes, and the tag.
            let mut offsets: Vec<usize> = (PREFIX_LEN..header).collect();
            offsets.extend([header, header + 5, pristine.len() - 17, pristine.len() - 1]);
            for offset in offsets {
                std::fs::write(&path, &pristine).unwrap();
                flip(&path, offset);
                let err = open_with(&path, mode).unwrap_err();
                assert!(
                    matches!(err, KeychainError::Tampered { .. }),
                    "{mode} offset {offset}: {err:?}"
                );
                assert!(err.to_string().contains("tampered"), "{err}");
            }
            for cut in [1, 16, pristine.len() - header, pristine.len() - 11] {
                std::fs::write(&path, &pristine[..pristine.len() - cut]).unwrap();
                let err = open_with(&path, mode).unwrap_err();
                assert!(
                    matches!(err, KeychainError::Tampered { .. }),
                    "{mode} cut {cut}: {err:?}"
                );
            }
            // Appended bytes are part of the ciphertext: the tag no longer matches.
            let mut longer = pristine.clone();
            longer.push(0);
            std::fs::write(&path, &longer).unwrap();
            assert!(matches!(
                open_with(&path, mode),
                Err(KeychainError::Tampered { .. })
            ));
        }
    }

    #[test]
    fn keychain_tampered_says_so_although_the_master_password_is_right() {
        let dir = TempDir::new("tamper-msg");
        let path = saved(&dir, KeychainMode::Encrypted);
        let len = std::fs::read(&path).unwrap().len();
        flip(&path, len - 20);
        let err = open_with(&path, KeychainMode::Encrypted).unwrap_err();
        assert!(
            err.to_string()
                .contains("although the master password is right"),
            "{err}"
        );
    }

    #[test]
    fn keychain_wrong_mode_both_ways_names_the_file_mode() {
        let dir = TempDir::new("mode");
        let obf = saved(&dir, KeychainMode::Obfuscated);
        let err = Keychain::open(&obf, Some(&master())).unwrap_err();
        assert!(
            matches!(
                err,
                KeychainError::WrongMode {
                    file_mode: KeychainMode::Obfuscated,
                    requested: KeychainMode::Encrypted,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("is obfuscated"), "{err}");
        let enc = saved(&dir, KeychainMode::Encrypted);
        let err = Keychain::open(&enc, None).unwrap_err();
        assert!(
            matches!(
                err,
                KeychainError::WrongMode {
                    file_mode: KeychainMode::Encrypted,
                    requested: KeychainMode::Obfuscated,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("is encrypted"), "{err}");
        assert!(err.to_string().contains(&enc.display().to_string()));
        // Creating an obfuscated keychain with a master password is the same mistake.
        assert!(matches!(
            Keychain::create(KeychainMode::Obfuscated, Some(&master())),
            Err(KeychainError::WrongMode { path: None, .. })
        ));
    }

    #[test]
    fn keychain_not_a_keychain_version_and_missing_file() {
        let dir = TempDir::new("notakc");
        let path = dir.file("x");
        for content in [
            &b""[..],
            b"REALMKC",
            b"hello, world, this is text",
            b"REALMKCX\x01O",
        ] {
            std::fs::write(&path, content).unwrap();
            let err = Keychain::open(&path, None).unwrap_err();
            assert!(
                matches!(err, KeychainError::NotAKeychain { .. }),
                "{content:?}: {err:?}"
            );
            assert!(err.to_string().contains("not a keychain file"));
        }
        std::fs::write(&path, b"REALMKCH\x01Z").unwrap();
        assert!(matches!(
            Keychain::open(&path, None),
            Err(KeychainError::NotAKeychain { .. })
        ));
        let enc = saved(&dir, KeychainMode::Encrypted);
        let mut bytes = std::fs::read(&enc).unwrap();
        bytes[8] = 2;
        std::fs::write(&enc, &bytes).unwrap();
        let err = Keychain::open(&enc, Some(&master())).unwrap_err();
        assert!(
            matches!(
                err,
                KeychainError::Version {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = Keychain::open(&dir.file("missing"), None).unwrap_err();
        assert!(matches!(err, KeychainError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("missing"));
    }

    #[test]
    fn keychain_refuses_kdf_parameters_out_of_range_even_with_a_valid_checksum() {
        let dir = TempDir::new("kdf");
        let path = saved(&dir, KeychainMode::Encrypted);
        let mut bytes = std::fs::read(&path).unwrap();
        // m = 8 KiB, a downgrade; recompute the public checksum as an attacker could.
        bytes[10..14].copy_from_slice(&8u32.to_le_bytes());
        let sum = header_checksum(&bytes[..ENC_CHECKED_LEN]).unwrap();
        bytes[ENC_CHECKED_LEN..ENC_HEADER_LEN].copy_from_slice(&sum);
        std::fs::write(&path, &bytes).unwrap();
        let err = Keychain::open(&path, Some(&master())).unwrap_err();
        assert!(matches!(err, KeychainError::NotAKeychain { .. }), "{err:?}");
    }

    #[test]
    fn keychain_master_password_must_be_present_and_non_empty() {
        assert!(matches!(
            Keychain::create(KeychainMode::Encrypted, None),
            Err(KeychainError::MasterPasswordRequired { .. })
        ));
        assert!(matches!(
            Keychain::create(KeychainMode::Encrypted, Some(&Secret::from(""))),
            Err(KeychainError::EmptyMasterPassword { .. })
        ));
        let dir = TempDir::new("emptypw");
        let path = saved(&dir, KeychainMode::Encrypted);
        assert!(matches!(
            Keychain::open(&path, Some(&Secret::from(""))),
            Err(KeychainError::EmptyMasterPassword { .. })
        ));
    }

    #[test]
    fn keychain_debug_and_errors_do_not_show_secrets() {
        let dir = TempDir::new("debug");
        for mode in [KeychainMode::Obfuscated, KeychainMode::Encrypted] {
            let path = saved(&dir, mode);
            let kc = open_with(&path, mode).unwrap();
            let debug = format!("{kc:?}{kc:#?}");
            assert!(debug.contains(URIS[0].0), "{debug}");
            for (_, pw) in URIS {
                assert!(!debug.contains(pw), "{debug}");
            }
            assert!(!debug.contains("Master-pw-8642"));
        }
        let path = saved(&dir, KeychainMode::Encrypted);
        let err = Keychain::open(&path, Some(&Secret::from("Wrong-pw-0000"))).unwrap_err();
        let text = format!("{err}{err:?}");
        assert!(!text.contains("Wrong-pw-0000") && !text.contains("Master-pw-8642"));
    }

    #[test]
    fn keychain_file_contains_no_plaintext_secret_and_is_private() {
        let dir = TempDir::new("plaintext");
        for mode in [KeychainMode::Obfuscated, KeychainMode::Encrypted] {
            let path = saved(&dir, mode);
            let bytes = std::fs::read(&path).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            for (uri, pw) in URIS {
                assert!(!hay.contains(pw), "{mode}: {pw}");
                assert!(!hay.contains(uri), "{mode}: {uri}");
                assert!(!hay.contains("Srv2"), "{mode}");
            }
            assert!(!hay.contains("Master-pw-8642"));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode_bits = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode_bits & 0o777, 0o600);
            }
        }
    }

    #[test]
    fn keychain_header_layout_matches_the_documented_table() {
        let dir = TempDir::new("layout");
        let path = saved(&dir, KeychainMode::Encrypted);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..10], b"REALMKCH\x01E");
        assert_eq!(bytes[10..14], 19456u32.to_le_bytes());
        assert_eq!(bytes[14..18], 2u32.to_le_bytes());
        assert_eq!(bytes[18..22], 1u32.to_le_bytes());
        assert_eq!(ENC_HEADER_LEN, 110);
        let plain_len = 4 + URIS
            .iter()
            .map(|(u, p)| 8 + u.len() + p.len())
            .sum::<usize>();
        assert_eq!(bytes.len(), 110 + plain_len + 16);
        let path = saved(&dir, KeychainMode::Obfuscated);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..10], b"REALMKCH\x01O");
        assert_eq!(OBF_HEADER_LEN, 34);
        assert_eq!(bytes.len(), 34 + plain_len + 16);
    }

    #[test]
    fn keychain_master_password_sources() {
        let dir = TempDir::new("sources");
        let f = dir.file("pw");
        std::fs::write(&f, "From-file-pw\r\nsecond line\n").unwrap();
        let pw = MasterPasswordSource::File(f.clone()).read().unwrap();
        assert_eq!(pw.expose_str(), Some("From-file-pw"));
        std::fs::write(&f, "From-file-pw").unwrap();
        let pw = MasterPasswordSource::File(f.clone()).read().unwrap();
        assert_eq!(pw.expose_str(), Some("From-file-pw"));
        std::fs::write(&f, "\n").unwrap();
        assert!(matches!(
            MasterPasswordSource::File(f.clone()).read(),
            Err(KeychainError::EmptyMasterPassword { .. })
        ));
        assert!(matches!(
            MasterPasswordSource::File(dir.file("absent")).read(),
            Err(KeychainError::Io { .. })
        ));
        // PATH is always set; a variable with this name never is.
        let path_var = MasterPasswordSource::Env("PATH".into()).read().unwrap();
        assert!(!path_var.is_empty());
        let err = MasterPasswordSource::Env("REALM_KEYCHAIN_TEST_UNSET_VARIABLE_4711".into())
            .read()
            .unwrap_err();
        assert!(
            matches!(err, KeychainError::MasterPasswordRequired { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("REALM_KEYCHAIN_TEST_UNSET_VARIABLE_4711")
        );
        assert!(matches!(
            MasterPasswordSource::Prompt.read(),
            Err(KeychainError::MasterPasswordRequired { .. })
        ));
    }
}
