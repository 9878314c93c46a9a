//! Distinguished names as a type: parsed per RFC 4514, compared by normalised value.
//!
//! Two DNs are equal when they name the same entry, however they are spelled: attribute types
//! compare case-insensitively and by OID (`CN` = `cn` = `2.5.4.3`), values compare after
//! unescaping (`\,` = `\2c`), case-insensitively, with leading, trailing and repeated inner spaces
//! ignored (the usual `caseIgnoreMatch` of directory attributes such as cn, ou, dc, uid), and the
//! attribute-value pairs of a multi-valued RDN compare in any order. Visited sets, de-duplication
//! and group matching use this equality, never raw strings.
//!
//! ```
//! use realm_ldap::dn::Dn;
//! let a: Dn = "CN=Admins,OU=Groups,DC=Example,DC=com".parse().unwrap();
//! let b: Dn = "cn=admins, ou=groups, dc=example, dc=COM".parse().unwrap();
//! assert_eq!(a, b);
//! assert_eq!(a.to_string(), "CN=Admins,OU=Groups,DC=Example,DC=com");
//! ```

use crate::escape::dn_value;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// One `type=value` pair.
#[derive(Clone, Debug)]
pub struct Ava {
    /// The attribute type as written (`CN`, `cn`, `2.5.4.3`).
    pub attr: String,
    /// The value, unescaped (for `#hex` values: the `#hex` text as written).
    pub value: String,
    norm_attr: String,
    norm_value: String,
    /// Written as `#hex` (BER): printed back the same way.
    hex: bool,
}

impl Ava {
    fn new(attr: String, value: String, hex: bool) -> Self {
        let norm_attr = normalise_type(&attr);
        let norm_value = if hex {
            value.to_ascii_lowercase()
        } else {
            normalise_value(&value)
        };
        Ava {
            attr,
            value,
            norm_attr,
            norm_value,
            hex,
        }
    }

    /// The normalised attribute type (lower case, well-known OIDs as names).
    pub fn normalised_type(&self) -> &str {
        &self.norm_attr
    }
}

/// A distinguished name: a sequence of RDNs, most specific first.
#[derive(Clone, Debug)]
pub struct Dn {
    rdns: Vec<Vec<Ava>>,
    /// The normalised form, computed once: equality and hashing compare it.
    norm: Vec<u8>,
}

/// A string that is not a distinguished name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid DN at character {position}: {message}")]
pub struct DnError {
    /// 1-based character position of the problem.
    pub position: usize,
    /// What was expected.
    pub message: String,
}

const OIDS: &[(&str, &str)] = &[
    ("2.5.4.3", "cn"),
    ("2.5.4.6", "c"),
    ("2.5.4.7", "l"),
    ("2.5.4.8", "st"),
    ("2.5.4.9", "street"),
    ("2.5.4.10", "o"),
    ("2.5.4.11", "ou"),
    ("0.9.2342.19200300.100.1.1", "uid"),
    ("0.9.2342.19200300.100.1.25", "dc"),
];

fn normalise_type(t: &str) -> String {
    let t = t.trim();
    let t = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("oid.") => t.get(4..).unwrap_or_default(),
        _ => t,
    };
    OIDS.iter()
        .find(|(oid, _)| *oid == t)
        .map_or_else(|| t.to_ascii_lowercase(), |(_, name)| (*name).to_string())
}

fn normalise_value(v: &str) -> String {
    // Fast path for the common case: no runs of spaces to collapse, so only case to fold (one
    // allocation; the general path below makes three).
    let plain = !v.starts_with(' ')
        && !v.ends_with(' ')
        && !v.contains("  ")
        && v.chars().all(|c| c == ' ' || !c.is_whitespace());
    if plain {
        return if v.is_ascii() {
            v.to_ascii_lowercase()
        } else {
            v.to_lowercase()
        };
    }
    v.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Dn {
    /// The RDNs, most specific first; each is one or more attribute-value pairs.
    pub fn rdns(&self) -> impl Iterator<Item = &[Ava]> {
        self.rdns.iter().map(Vec::as_slice)
    }

    /// Every value of the attribute type `attr` (case-insensitive, OIDs understood), in order.
    pub fn values_of<'a>(&'a self, attr: &str) -> impl Iterator<Item = &'a str> {
        let want = normalise_type(attr);
        self.rdns
            .iter()
            .flatten()
            .filter(move |a| a.norm_attr == want)
            .map(|a| a.value.as_str())
    }

    /// True for the empty DN (the root).
    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The parent entry's DN (`None` for the root).
    pub fn parent(&self) -> Option<Dn> {
        (!self.rdns.is_empty()).then(|| Dn::from_rdns(self.rdns.iter().skip(1).cloned().collect()))
    }

    /// True if `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &Dn) -> bool {
        let (n, m) = (self.rdns.len(), ancestor.rdns.len());
        n >= m
            && self
                .rdns
                .iter()
                .skip(n - m)
                .zip(&ancestor.rdns)
                .all(|(a, b)| rdn_key(a) == rdn_key(b))
    }

    fn from_rdns(rdns: Vec<Vec<Ava>>) -> Dn {
        // Length-prefixed, so no value can imitate a separator; no formatting machinery and,
        // for the usual single-valued RDN, no temporary vector.
        fn push(norm: &mut Vec<u8>, part: &str) {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            norm.extend_from_slice(&len.to_le_bytes());
            norm.extend_from_slice(part.as_bytes());
        }
        let size = rdns
            .iter()
            .flatten()
            .map(|a| a.norm_attr.len() + a.norm_value.len() + 8)
            .sum::<usize>()
            + 4 * rdns.len();
        let mut norm = Vec::with_capacity(size);
        for rdn in &rdns {
            push(&mut norm, "");
            if let [one] = rdn.as_slice() {
                push(&mut norm, &one.norm_attr);
                push(&mut norm, &one.norm_value);
            } else {
                for (t, v) in rdn_key(rdn) {
                    push(&mut norm, t);
                    push(&mut norm, v);
                }
            }
        }
        Dn { rdns, norm }
    }
}

fn rdn_key(rdn: &[Ava]) -> Vec<(&str, &str)> {
    let mut k: Vec<(&str, &str)> = rdn
        .iter()
        .map(|a| (a.norm_attr.as_str(), a.norm_value.as_str()))
        .collect();
    k.sort_unstable();
    k
}

impl PartialEq for Dn {
    fn eq(&self, other: &Self) -> bool {
        self.norm == other.norm
    }
}

impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.norm.hash(state);
    }
}

impl fmt::Display for Dn {
    /// RFC 4514 form: types as written, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, a) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                if a.hex {
                    write!(f, "{}={}", a.attr, a.value)?;
                } else {
                    write!(f, "{}={}", a.attr, dn_value(&a.value))?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for Dn {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Dn, DnError> {
        let chars: Vec<char> = s.chars().collect();
        let mut p = Parser {
            chars: &chars,
            i: 0,
        };
        let mut rdns = Vec::new();
        p.skip_spaces();
        if p.peek().is_none() {
            return Ok(Dn::from_rdns(rdns));
        }
        loop {
            let mut rdn = Vec::new();
            loop {
                rdn.push(p.ava()?);
                p.skip_spaces();
                if p.peek() == Some('+') {
                    p.i += 1;
                    continue;
                }
                break;
            }
            rdns.push(rdn);
            match p.peek() {
                None => break,
                Some(',') | Some(';') => p.i += 1,
                Some(c) => {
                    return Err(p.err(format!("expected `,` or `+` after a value, found `{c}`")));
                }
            }
        }
        Ok(Dn::from_rdns(rdns))
    }
}

struct Parser<'a> {
    chars: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn err(&self, message: impl Into<String>) -> DnError {
        DnError {
            position: self.i + 1,
            message: message.into(),
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.i += 1;
        }
    }

    fn ava(&mut self) -> Result<Ava, DnError> {
        self.skip_spaces();
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                self.i += 1;
            } else {
                break;
            }
        }
        let attr: String = self
            .chars
            .get(start..self.i)
            .unwrap_or_default()
            .iter()
            .collect();
        if attr.is_empty() || !attr.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(self.err("expected an attribute type (e.g. cn, ou, dc, 2.5.4.3)"));
        }
        self.skip_spaces();
        if self.peek() != Some('=') {
            return Err(self.err(format!("expected `=` after `{attr}`")));
        }
        self.i += 1;
        self.skip_spaces();
        if self.peek() == Some('#') {
            let start = self.i;
            self.i += 1;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.i += 1;
            }
            let hex: String = self
                .chars
                .get(start..self.i)
                .unwrap_or_default()
                .iter()
                .collect();
            if hex.len() < 3 || hex.len().is_multiple_of(2) {
                return Err(self.err("expected an even number of hex digits after `#`"));
            }
            return Ok(Ava::new(attr, hex, true));
        }
        let mut bytes: Vec<u8> = Vec::new();
        let mut trailing_spaces = 0usize;
        while let Some(c) = self.peek() {
            match c {
                ',' | '+' | ';' => break,
                '\\' => {
                    self.i += 1;
                    trailing_spaces = 0;
                    match self.peek() {
                        Some(e) if " \"#+,;<=>\\".contains(e) => {
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                            self.i += 1;
                        }
                        Some(h1) if h1.is_ascii_hexdigit() => {
                            let h2 = self
                                .chars
                                .get(self.i + 1)
                                .copied()
                                .filter(char::is_ascii_hexdigit);
                            let Some(h2) = h2 else {
                                return Err(self.err("expected two hex digits after `\\`"));
                            };
                            let byte = u8::from_str_radix(&format!("{h1}{h2}"), 16)
                                .map_err(|_| self.err("bad hex escape"))?;
                            bytes.push(byte);
                            self.i += 2;
                        }
                        _ => {
                            return Err(self
                                .err("expected a special character or two hex digits after `\\`"));
                        }
                    }
                }
                '"' | '<' | '>' => {
                    return Err(self.err(format!("`{c}` must be escaped in a DN value")));
                }
                c => {
                    trailing_spaces = if c == ' ' { trailing_spaces + 1 } else { 0 };
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    self.i += 1;
                }
            }
        }
        // Unescaped trailing spaces are not part of the value.
        bytes.truncate(bytes.len().saturating_sub(trailing_spaces));
        let value =
            String::from_utf8(bytes).map_err(|_| self.err("the escaped bytes are not UTF-8"))?;
        if value.is_empty() {
            return Err(self.err(format!("empty value for `{attr}`")));
        }
        Ok(Ava::new(attr, value, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn an_escaped_hash_value_is_not_printed_as_hex() {
        // Found by the round-trip property test: `\#abc` is text, not a BER value.
        let d = dn("cn=\\#abc,dc=x");
        assert_eq!(d.to_string(), "cn=\\#abc,dc=x");
        assert_eq!(d.to_string().parse::<Dn>().unwrap(), d);
        let h = dn("cn=#04024869,dc=x");
        assert_eq!(h.to_string(), "cn=#04024869,dc=x");
    }

    #[test]
    fn equal_spellings_of_one_entry() {
        let same = [
            "CN=Admins,DC=x",
            "cn=admins, dc=x",
            "cn = ADMINS , dc = X",
            "2.5.4.3=admins,0.9.2342.19200300.100.1.25=x",
            r"cn=\41dmins,dc=x",
        ];
        for s in same {
            assert_eq!(dn(s), dn("cn=Admins,dc=x"), "{s}");
        }
        assert_eq!(dn(r"cn=Doe\, John,dc=x"), dn(r"cn=doe\2c john,dc=x"));
        assert_eq!(dn("cn=a+ou=b,dc=x"), dn("ou=B+cn=A,dc=x"));
        assert_eq!(dn("cn=a  b,dc=x"), dn("cn=a b,dc=x"));
        assert_ne!(dn("cn=a,dc=x"), dn("cn=a,dc=y"));
        assert_ne!(dn(r"cn=a\,dc=x"), dn("cn=a,dc=x"));
    }

    #[test]
    fn values_of_an_attribute_in_order() {
        let d = dn("CN=role1,OU=test,CN=Hazelcast,cn=hazelcast,C=CZ");
        assert_eq!(
            d.values_of("cn").collect::<Vec<_>>(),
            ["role1", "Hazelcast", "hazelcast"]
        );
        assert_eq!(d.values_of("2.5.4.6").collect::<Vec<_>>(), ["CZ"]);
    }

    #[test]
    fn display_escapes_and_round_trips() {
        let d = dn(r"cn=Doe\, John \+ \<x\>,ou=People");
        assert_eq!(d.to_string(), r"cn=Doe\, John \+ \<x\>,ou=People");
        assert_eq!(dn(&d.to_string()), d);
    }

    #[test]
    fn within_and_parent() {
        let user = dn("uid=jduke,ou=Users,dc=example,dc=com");
        assert!(user.is_within(&dn("DC=Example,DC=Com")));
        assert!(!user.is_within(&dn("ou=Groups,dc=example,dc=com")));
        assert_eq!(user.parent().unwrap(), dn("ou=users,dc=example,dc=com"));
        assert!(dn("").is_root());
    }

    #[test]
    fn malformed_dns_say_where() {
        for (s, pos) in [
            ("cn", 3),
            ("cn=", 4),
            ("=x", 1),
            ("cn=a,", 6),
            ("cn=a\"b", 5),
            (r"cn=a\zz", 6),
            ("cn=#abc", 8),
        ] {
            let e = s.parse::<Dn>().unwrap_err();
            assert_eq!(e.position, pos, "{s}: {e}");
        }
    }
}
