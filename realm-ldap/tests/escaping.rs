//! Property tests of the escapers and the DN parser: no value can change a filter's structure or a
//! DN's structure, and escaped values come back unchanged.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use realm_ldap::dn::Dn;
use realm_ldap::escape::{dn_value, filter_value};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Injection: the escaped value has no filter metacharacter left unescaped, so the template
    /// `(uid={login})` keeps exactly one pair of parentheses and no wildcard.
    #[test]
    fn filter_escaping_leaves_no_metacharacters(v in "\\PC*|[*()\\\\\\x00a-z]{0,12}") {
        let e = filter_value(&v);
        prop_assert!(!e.contains(['*', '(', ')', '\0']));
        // Every backslash starts a two-hex-digit escape.
        let b = e.as_bytes();
        for (i, c) in b.iter().enumerate() {
            if *c == b'\\' {
                prop_assert!(b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit());
            }
        }
        let filter = format!("(uid={e})");
        prop_assert_eq!(filter.matches('(').count(), 1);
    }

    /// A DN built from any value with `dn_value` parses back to one RDN holding exactly that value.
    #[test]
    fn dn_escaping_round_trips(v in "[^\\x00]{1,24}|[ #,+;<>=\\\\\"a-z]{1,12}") {
        let dn: Dn = format!("cn={},ou=People,dc=example", dn_value(&v)).parse().unwrap();
        prop_assert_eq!(dn.rdns().count(), 3);
        prop_assert_eq!(dn.values_of("cn").collect::<Vec<_>>(), vec![v.as_str()]);
        // Display gives a DN equal to the original.
        prop_assert_eq!(dn.to_string().parse::<Dn>().unwrap(), dn);
    }

    /// Parsing never panics on any input.
    #[test]
    fn dn_parser_never_panics(s in "\\PC{0,40}|[a-z=,+;#\\\\\" 0-9]{0,40}") {
        let _ = s.parse::<Dn>();
    }
}

#[test]
fn a_login_that_tries_dn_injection_stays_one_value() {
    let login = "admin,ou=admins";
    let dn: Dn = format!("uid={},ou=People,dc=example", dn_value(login))
        .parse()
        .unwrap();
    assert_eq!(dn.values_of("uid").collect::<Vec<_>>(), [login]);
    assert_eq!(dn.values_of("ou").collect::<Vec<_>>(), ["People"]);
}
