//! Certificate subjects as distinguished names: decoded from DER with `x509-parser`, written as
//! RFC 4514 strings (the identity), and searched by attribute type (the roles).
//!
//! RFC 4514 writes the RDNs **last first** (the reverse of the encoding, as Java's
//! `X500Principal.getName()` does), the AVAs of a multi-valued RDN joined with `+`, the nine
//! keywords of RFC 4514 (`CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`, `DC`, `UID`) by name and any
//! other type as its dotted OID. The value of a keyword type that is a string (UTF8String,
//! PrintableString, IA5String, NumericString, VisibleString, TeletexString read as Latin-1,
//! BMPString, UniversalString) is written as text with `\` before `"` `+` `,` `;` `<` `>` `\`,
//! a leading space or `#`, a trailing space, and `\hh` for control characters (non-ASCII
//! characters are kept as UTF-8). As RFC 4514 requires, the value of a dotted-OID type
//! (`emailAddress`, `serialNumber`, `SN`, ...), or one that is not a string, is written as `#`
//! and the hex of its BER encoding, as Java's `X500Principal` does: roles can still be taken from
//! such attributes, by their decoded text.

use std::fmt::Write as _;
use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::x509::X509Name;

/// One attribute type and value of an RDN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ava {
    /// The attribute type as a dotted OID (`2.5.4.3`).
    pub oid: String,
    /// The RFC 4514 keyword of the type, if it has one (`CN`).
    pub keyword: Option<&'static str>,
    /// The value.
    pub value: AvaValue,
    /// The value's BER encoding (tag, length, contents).
    pub ber: Vec<u8>,
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AvaValue {
    /// A string type, decoded.
    Text(String),
    /// Anything else: the BER encoding of the value (tag, length, contents).
    Ber(Vec<u8>),
}

/// A distinguished name, its RDNs in encoding order (most significant first, e.g. `C` before
/// `CN`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    /// The RDNs; each holds one or more AVAs.
    pub rdns: Vec<Vec<Ava>>,
}

/// RFC 4514 keywords, and further names accepted (not written) as attribute types in
/// `roleAttribute`.
const KEYWORDS: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
];
const MORE_NAMES: &[(&str, &str)] = &[
    ("SN", "2.5.4.4"),
    ("SURNAME", "2.5.4.4"),
    ("SERIALNUMBER", "2.5.4.5"),
    ("TITLE", "2.5.4.12"),
    ("GIVENNAME", "2.5.4.42"),
    ("INITIALS", "2.5.4.43"),
    ("GENERATIONQUALIFIER", "2.5.4.44"),
    ("DNQUALIFIER", "2.5.4.46"),
    ("PSEUDONYM", "2.5.4.65"),
    ("EMAILADDRESS", "1.2.840.113549.1.9.1"),
    ("E", "1.2.840.113549.1.9.1"),
    ("ORGANIZATIONIDENTIFIER", "2.5.4.97"),
];

/// The OID an attribute type names: a keyword or known name (case-insensitive) or a dotted OID
/// (`oid.` prefix allowed). `None` for an unknown name.
pub fn attribute_oid(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    if let Some((_, oid)) = KEYWORDS.iter().chain(MORE_NAMES).find(|(k, _)| *k == upper) {
        return Some((*oid).to_string());
    }
    let dotted = upper.strip_prefix("OID.").unwrap_or(&upper);
    let ok = !dotted.is_empty()
        && dotted.split('.').count() >= 2
        && dotted
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| dotted.to_string())
}

fn keyword_of(oid: &str) -> Option<&'static str> {
    KEYWORDS.iter().find(|(_, o)| *o == oid).map(|(k, _)| *k)
}

impl DistinguishedName {
    /// Decodes an `X509Name`.
    pub fn from_x509(name: &X509Name<'_>) -> DistinguishedName {
        let rdns = name
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|ava| {
                        let oid = ava.attr_type().to_id_string();
                        Ava {
                            keyword: keyword_of(&oid),
                            value: decode_value(ava.attr_value()),
                            ber: ber_of(ava.attr_value()),
                            oid,
                        }
                    })
                    .collect()
            })
            .collect();
        DistinguishedName { rdns }
    }

    /// The RFC 4514 string (`CN=admin,OU=Devs,O=Hazelcast`); empty for an empty name.
    pub fn to_rfc4514(&self) -> String {
        let mut out = String::new();
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    out.push('+');
                }
                out.push_str(ava.keyword.unwrap_or(&ava.oid));
                out.push('=');
                match (&ava.value, ava.keyword) {
                    (AvaValue::Text(t), Some(_)) => escape_into(&mut out, t),
                    _ => {
                        out.push('#');
                        for byte in &ava.ber {
                            let _ = write!(out, "{byte:02X}");
                        }
                    }
                }
            }
        }
        out
    }

    /// Every text value of attributes of type `oid`, in RFC 4514 order (the order the string
    /// shows them), as written in the certificate (not escaped).
    pub fn values_of<'a>(&'a self, oid: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.rdns
            .iter()
            .rev()
            .flatten()
            .filter_map(move |ava| match (&ava.value, ava.oid == oid) {
                (AvaValue::Text(t), true) => Some(t.as_str()),
                _ => None,
            })
    }
}

/// Decodes a value of a string type; anything else is kept as BER.
fn decode_value(v: &Any<'_>) -> AvaValue {
    let data = v.data;
    let text = if v.header.class() != Class::Universal {
        None
    } else {
        match v.tag() {
            Tag::Utf8String
            | Tag::PrintableString
            | Tag::Ia5String
            | Tag::NumericString
            | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_string),
            // T.61 is close enough to Latin-1 for the names that use it.
            Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
            Tag::BmpString => {
                let units: Vec<u16> = data
                    .chunks(2)
                    .map(|c| match c {
                        [a, b] => u16::from_be_bytes([*a, *b]),
                        _ => 0xFFFD,
                    })
                    .collect();
                data.len()
                    .is_multiple_of(2)
                    .then(|| String::from_utf16(&units).ok())
                    .flatten()
            }
            Tag::UniversalString => data
                .len()
                .is_multiple_of(4)
                .then(|| {
                    data.chunks(4)
                        .map(|c| match c {
                            [a, b, cc, d] => char::from_u32(u32::from_be_bytes([*a, *b, *cc, *d])),
                            _ => None,
                        })
                        .collect::<Option<String>>()
                })
                .flatten(),
            _ => None,
        }
    };
    match text {
        Some(t) => AvaValue::Text(t),
        None => AvaValue::Ber(ber_of(v)),
    }
}

/// The BER (here DER) encoding of a value: identifier, length, contents.
fn ber_of(v: &Any<'_>) -> Vec<u8> {
    let class = match v.header.class() {
        Class::Universal => 0x00u8,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xC0,
    };
    let constructed = if v.header.is_constructed() { 0x20 } else { 0 };
    let tag = v.tag().0;
    let mut out = Vec::with_capacity(v.data.len() + 8);
    if tag < 31 {
        out.push(class | constructed | tag as u8);
    } else {
        out.push(class | constructed | 0x1F);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7F) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            out.push(if i + 1 < groups.len() { g | 0x80 } else { *g });
        }
    }
    let len = v.data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(v.data);
    out
}

/// Appends `value` escaped per RFC 4514 section 2.4.
pub fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(oid: &str, v: &str) -> Ava {
        Ava {
            oid: oid.into(),
            keyword: keyword_of(oid),
            value: AvaValue::Text(v.into()),
            ber: Vec::new(),
        }
    }

    #[test]
    fn rdns_are_written_last_first_with_plus_for_multi_valued() {
        let dn = DistinguishedName {
            rdns: vec![
                vec![text("2.5.4.6", "US")],
                vec![text("2.5.4.10", "Hazelcast Test")],
                vec![text("2.5.4.3", "a"), text("2.5.4.11", "b")],
            ],
        };
        assert_eq!(dn.to_rfc4514(), "CN=a+OU=b,O=Hazelcast Test,C=US");
        assert_eq!(dn.values_of("2.5.4.11").collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn special_characters_are_escaped_and_non_ascii_kept() {
        let mut s = String::new();
        escape_into(&mut s, " #a,b+c\"d\\e<f>g;h ");
        assert_eq!(s, "\\ #a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\ ");
        let mut s = String::new();
        escape_into(&mut s, "#x# jürgen\n");
        assert_eq!(s, "\\#x# jürgen\\0A");
    }

    #[test]
    fn attribute_names_resolve_case_insensitively() {
        assert_eq!(attribute_oid("cn").as_deref(), Some("2.5.4.3"));
        assert_eq!(attribute_oid("Ou").as_deref(), Some("2.5.4.11"));
        assert_eq!(attribute_oid("sn").as_deref(), Some("2.5.4.4"));
        assert_eq!(attribute_oid("2.5.4.3").as_deref(), Some("2.5.4.3"));
        assert_eq!(attribute_oid("OID.2.5.4.3").as_deref(), Some("2.5.4.3"));
        assert_eq!(attribute_oid("frobnicate"), None);
        assert_eq!(attribute_oid("1"), None);
    }

    #[test]
    fn unknown_types_are_dotted_oids_and_non_strings_hex() {
        let dn = DistinguishedName {
            rdns: vec![vec![Ava {
                oid: "1.2.3.4".into(),
                keyword: None,
                value: AvaValue::Ber(vec![0x04, 0x02, 0xAB, 0xCD]),
                ber: vec![0x04, 0x02, 0xAB, 0xCD],
            }]],
        };
        assert_eq!(dn.to_rfc4514(), "1.2.3.4=#0402ABCD");
    }
}
