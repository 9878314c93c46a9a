//! A reader for MIT keytab files (format version 0x0502, and 0x0501), enough to check a keytab
//! at start-up and to explain a refused token: which principals, key versions (kvno) and
//! encryption types it holds. Keys themselves are skipped, never kept in memory.
//!
//! The format (MIT krb5's `keytab.txt`): a 16-bit version, then entries, each a signed 32-bit
//! length (negative for a deleted slot) followed by the principal (component count, realm,
//! components), the name type (v2 only), a timestamp, an 8-bit kvno, the key (enctype, length,
//! bytes) and, when the entry has room for it, a 32-bit kvno that supersedes the 8-bit one.

use std::fmt;
use std::path::Path;

/// One key of a keytab, without the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeytabEntry {
    /// `primary/instance@REALM`.
    pub principal: String,
    /// The key version number.
    pub kvno: u32,
    /// The encryption type number (17 = aes128-cts-hmac-sha1-96, 18 = aes256-cts-hmac-sha1-96…).
    pub enctype: i32,
}

/// The keys of a keytab file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keytab {
    /// The keys, in file order.
    pub entries: Vec<KeytabEntry>,
}

/// Why a keytab could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeytabError(String);

struct Reader<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KeytabError> {
        if self.data.len() < n {
            return Err(KeytabError("the file ends inside an entry".into()));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, KeytabError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn u16(&mut self) -> Result<u16, KeytabError> {
        let b: [u8; 2] = self.take(2)?.try_into().unwrap_or([0; 2]);
        Ok(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(&mut self) -> Result<u32, KeytabError> {
        let b: [u8; 4] = self.take(4)?.try_into().unwrap_or([0; 4]);
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
    fn string(&mut self) -> Result<String, KeytabError> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

impl Keytab {
    /// Reads a keytab file. The file is read once and its key bytes are overwritten before the
    /// buffer is freed.
    pub fn read(path: &Path) -> Result<Keytab, KeytabError> {
        let mut data = std::fs::read(path)
            .map_err(|e| KeytabError(format!("cannot read keytab {}: {e}", path.display())))?;
        let parsed = Keytab::parse(&data)
            .map_err(|e| KeytabError(format!("keytab {}: {}", path.display(), e.0)));
        data.iter_mut().for_each(|b| *b = 0);
        parsed
    }

    /// Parses keytab bytes.
    pub fn parse(data: &[u8]) -> Result<Keytab, KeytabError> {
        let (version, body) = match data {
            [5, v, rest @ ..] => (*v, rest),
            _ => {
                return Err(KeytabError(
                    "not a keytab file (it does not start with 0x05 0x01 or 0x05 0x02)".into(),
                ));
            }
        };
        let big_endian = match version {
            2 => true,
            1 => cfg!(target_endian = "big"),
            v => return Err(KeytabError(format!("unsupported keytab version 5.{v}"))),
        };
        let mut r = Reader {
            data: body,
            big_endian,
        };
        let mut entries = Vec::new();
        while !r.data.is_empty() {
            if r.data.len() < 4 {
                break; // trailing padding
            }
            let size = r.u32()? as i32;
            if size == 0 {
                break;
            }
            let record = r.take(size.unsigned_abs() as usize)?;
            if size < 0 {
                continue; // a deleted slot
            }
            let mut e = Reader {
                data: record,
                big_endian,
            };
            let mut count = e.u16()? as usize;
            if version == 1 {
                count = count.saturating_sub(1); // v1 counts the realm as a component
            }
            let realm = e.string()?;
            let mut components = Vec::with_capacity(count.min(8));
            for _ in 0..count {
                components.push(e.string()?);
            }
            if version == 2 {
                e.u32()?; // name type
            }
            e.u32()?; // timestamp
            let kvno8 = e.u8()?;
            let enctype = e.u16()? as i16 as i32;
            let key_len = e.u16()? as usize;
            e.take(key_len)?;
            let kvno = if e.data.len() >= 4 {
                match e.u32()? {
                    0 => u32::from(kvno8),
                    v => v,
                }
            } else {
                u32::from(kvno8)
            };
            entries.push(KeytabEntry {
                principal: format!("{}@{realm}", components.join("/")),
                kvno,
                enctype,
            });
        }
        Ok(Keytab { entries })
    }

    /// The distinct principals, in file order.
    pub fn principals(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.principal.as_str()) {
                out.push(&e.principal);
            }
        }
        out
    }

    /// The keys held for `principal` (compared as Kerberos does: case-sensitively).
    pub fn keys_of<'a>(&'a self, principal: &'a str) -> impl Iterator<Item = &'a KeytabEntry> {
        self.entries
            .iter()
            .filter(move |e| e.principal == principal)
    }

    /// A one-line summary of what the keytab holds for `principal`, e.g.
    /// `kvno 2 (aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96)`.
    pub fn describe(&self, principal: &str) -> String {
        let mut by_kvno: Vec<(u32, Vec<String>)> = Vec::new();
        for e in self.keys_of(principal) {
            let name = enctype_name(e.enctype).to_string();
            match by_kvno.iter_mut().find(|(k, _)| *k == e.kvno) {
                Some((_, v)) => v.push(name),
                None => by_kvno.push((e.kvno, vec![name])),
            }
        }
        if by_kvno.is_empty() {
            return "no keys".into();
        }
        by_kvno
            .iter()
            .map(|(k, v)| format!("kvno {k} ({})", v.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for KeytabEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} kvno {} {}",
            self.principal,
            self.kvno,
            enctype_name(self.enctype)
        )
    }
}

/// The name of a Kerberos encryption type number (RFC 3961/3962/4757/8009), or `enctype N`.
pub fn enctype_name(etype: i32) -> std::borrow::Cow<'static, str> {
    match etype {
        1 => "des-cbc-crc".into(),
        3 => "des-cbc-md5".into(),
        16 => "des3-cbc-sha1".into(),
        17 => "aes128-cts-hmac-sha1-96".into(),
        18 => "aes256-cts-hmac-sha1-96".into(),
        19 => "aes128-cts-hmac-sha256-128".into(),
        20 => "aes256-cts-hmac-sha384-192".into(),
        23 => "arcfour-hmac".into(),
        24 => "arcfour-hmac-exp".into(),
        25 => "camellia128-cts-cmac".into(),
        26 => "camellia256-cts-cmac".into(),
        n => format!("enctype {n}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a v2 entry.
    fn entry(components: &[&str], realm: &str, kvno: u32, enctype: u16, key: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend((components.len() as u16).to_be_bytes());
        e.extend((realm.len() as u16).to_be_bytes());
        e.extend(realm.as_bytes());
        for c in components {
            e.extend((c.len() as u16).to_be_bytes());
            e.extend(c.as_bytes());
        }
        e.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
        e.extend(0x6000_0000u32.to_be_bytes());
        e.push((kvno & 0xff) as u8);
        e.extend(enctype.to_be_bytes());
        e.extend((key.len() as u16).to_be_bytes());
        e.extend(key);
        e.extend(kvno.to_be_bytes());
        let mut out = (e.len() as u32).to_be_bytes().to_vec();
        out.extend(e);
        out
    }

    #[test]
    fn entries_are_read_and_deleted_slots_skipped() {
        let mut data = vec![5, 2];
        data.extend(entry(&["hz", "127.0.0.1"], "REALM.TEST", 3, 18, &[7; 32]));
        data.extend((-12i32).to_be_bytes());
        data.extend([0u8; 12]);
        data.extend(entry(&["hz", "127.0.0.1"], "REALM.TEST", 300, 17, &[7; 16]));
        let kt = Keytab::parse(&data).unwrap();
        assert_eq!(kt.entries.len(), 2);
        assert_eq!(kt.entries[0].principal, "hz/127.0.0.1@REALM.TEST");
        assert_eq!(kt.entries[0].kvno, 3);
        assert_eq!(
            kt.entries[1].kvno, 300,
            "the 32-bit kvno wins over the 8-bit one"
        );
        assert_eq!(kt.principals(), vec!["hz/127.0.0.1@REALM.TEST"]);
        assert_eq!(
            kt.describe("hz/127.0.0.1@REALM.TEST"),
            "kvno 3 (aes256-cts-hmac-sha1-96); kvno 300 (aes128-cts-hmac-sha1-96)"
        );
        assert_eq!(kt.describe("other@REALM.TEST"), "no keys");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Keytab::parse(b"").is_err());
        assert!(Keytab::parse(b"hello").is_err());
        assert!(Keytab::parse(&[5, 9]).is_err());
        let mut data = vec![5, 2];
        data.extend(100u32.to_be_bytes());
        data.extend([0u8; 10]);
        assert!(Keytab::parse(&data).is_err());
        // Truncated inside the principal.
        let mut data = vec![5, 2];
        let e = entry(&["a"], "R", 1, 18, &[1; 4]);
        data.extend(&e[..e.len() - 9]);
        let _ = Keytab::parse(&data);
        for n in 0..e.len() {
            let mut d = vec![5, 2];
            d.extend(&e[..n]);
            let _ = Keytab::parse(&d); // never panics
        }
    }
}
