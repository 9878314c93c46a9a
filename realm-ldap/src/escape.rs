//! The two escapers: one for values put into LDAP search filters (RFC 4515), one for values put
//! into distinguished names (RFC 4514). They are different on purpose: filter-escaping a DN value,
//! or DN-escaping a filter value, is a classic injection bug.

/// Escapes a value for an LDAP filter (RFC 4515): `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`,
/// `\29`, `\5c`, `\00`; other ASCII control characters are hex-escaped too, so a value can never
/// change a filter's structure or smuggle line breaks into logs. UTF-8 text is kept as it is.
///
/// ```
/// use realm_ldap::escape::filter_value;
/// assert_eq!(filter_value("*)(uid=*"), r"\2a\29\28uid=\2a");
/// assert_eq!(filter_value("Jürgen"), "Jürgen");
/// ```
pub fn filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => out.push_str(&format!("\\{:02x}", u32::from(c))),
            c if c.is_ascii_control() => out.push_str(&format!("\\{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value for one attribute value of a distinguished name (RFC 4514): `"`, `+`, `,`, `;`,
/// `<`, `=`, `>` and `\` get a backslash, a leading `#` or space and a trailing space are escaped,
/// and NUL and other control characters become `\XX`.
///
/// ```
/// use realm_ldap::escape::dn_value;
/// assert_eq!(dn_value("admin,ou=admins"), r"admin\,ou\=admins");
/// assert_eq!(dn_value(" #lead and trail "), r"\ #lead and trail\ ");
/// assert_eq!(dn_value("#lead"), r"\#lead");
/// ```
pub fn dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '=' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if c.is_ascii_control() => out.push_str(&format!("\\{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_specials_and_controls_are_hex_escaped() {
        assert_eq!(filter_value("a\\b\0c\nd"), r"a\5cb\00c\0ad");
        assert_eq!(filter_value(""), "");
    }

    #[test]
    fn dn_specials_are_escaped_and_edges_protected() {
        assert_eq!(
            dn_value(r#"Doe, John "JD" <j>+x;y\z"#),
            r#"Doe\, John \"JD\" \<j\>\+x\;y\\z"#
        );
        assert_eq!(dn_value("#x"), r"\#x");
        assert_eq!(dn_value("a#"), "a#");
        assert_eq!(dn_value(" "), r"\ ");
        assert_eq!(dn_value("a\0"), r"a\00");
    }
}
