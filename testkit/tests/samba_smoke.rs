//! Smoke tests of the Samba AD harness ([`realm_testkit::samba`]), driven with OpenLDAP's
//! command-line clients (`ldapwhoami`, `ldapsearch` from `ldap-utils`): the domain controller
//! holds the directory of `fixtures/samba_DIRECTORY.md`, accepts simple binds by UPN, DN and
//! down-level name over `ldap://`, StartTLS and `ldaps://` (verified with the harness's CA),
//! refuses each special account with its own `data` code, resolves nested groups with
//! LDAP_MATCHING_RULE_IN_CHAIN and returns a continuation reference from the domain root.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use realm_testkit::samba::{REFUSED_ACCOUNTS, SambaAd, bind_diagnostic};
use realm_testkit::tls::Pki;
use realm_testkit::util::{require_binary, temp_dir};

/// Runs an ldap-utils `tool` with `args`, trusting only `ca` for TLS and reading no user
/// configuration files.
fn ldap_tool_with_ca(ca: &Path, tool: &str, args: &[&str]) -> Output {
    Command::new(require_binary(tool, "ldap-utils"))
        .args(args)
        .env("LDAPTLS_CACERT", ca)
        .env("LDAPTLS_REQCERT", "demand")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap()
}

fn ldap_tool(s: &SambaAd, tool: &str, args: &[&str]) -> Output {
    ldap_tool_with_ca(s.ca_file(), tool, args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Binds as `who` at `url` (with StartTLS if `starttls`) and reads `attr` of `base`
/// (scope base): the output of `ldapsearch -LLL`.
fn bind_and_read(
    s: &SambaAd,
    url: &str,
    starttls: bool,
    who: &str,
    password: &str,
    base: &str,
    attr: &str,
) -> Output {
    let mut args = vec!["-LLL", "-x", "-H", url, "-D", who, "-w", password];
    if starttls {
        args.push("-ZZ");
    }
    args.extend(["-b", base, "-s", "base", attr]);
    ldap_tool(s, "ldapsearch", &args)
}

/// Asserts that `who` binds with `password` and then reads its own sAMAccountName, `sam`.
fn assert_binds_as(s: &SambaAd, url: &str, starttls: bool, who: &str, password: &str, sam: &str) {
    let dn = s.user_dn(sam);
    let o = bind_and_read(s, url, starttls, who, password, &dn, "sAMAccountName");
    let out = text(&o);
    assert!(o.status.success(), "bind as {who} at {url}: {out}");
    assert!(
        out.contains(&format!("sAMAccountName: {sam}\n")),
        "bind as {who} at {url} read: {out}"
    );
}

/// Asserts that a simple bind as `who` fails with invalidCredentials and `data` `code`.
fn assert_refused(s: &SambaAd, url: &str, who: &str, password: &str, code: &str) {
    assert_refused_with(s, url, &[], who, password, code);
}

/// [`assert_refused`] with `extra` arguments for `ldapwhoami` (`-ZZ` for StartTLS).
fn assert_refused_with(
    s: &SambaAd,
    url: &str,
    extra: &[&str],
    who: &str,
    password: &str,
    code: &str,
) {
    let mut args = vec!["-x", "-H", url, "-D", who, "-w", password];
    args.extend(extra);
    let o = ldap_tool(s, "ldapwhoami", &args);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(49), "bind as {who} {extra:?}: {out}");
    assert!(
        out.contains("Invalid credentials (49)") && out.contains(&bind_diagnostic(code)),
        "bind as {who} {extra:?} with {password:?}: expected data {code}, got: {out}"
    );
}

/// Subtree search from the domain root as the service account: (entry DNs, continuation
/// references, the output).
fn search(s: &SambaAd, filter: &str, attrs: &[&str]) -> (Vec<String>, Vec<String>, String) {
    let service = s.service_dn();
    let url = s.url();
    let mut args = vec![
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-x",
        "-H",
        &url,
        "-D",
        &service,
        "-w",
        s.service_password(),
        "-b",
        s.base_dn(),
        filter,
    ];
    args.extend(attrs);
    let o = ldap_tool(s, "ldapsearch", &args);
    let out = text(&o);
    assert!(o.status.success(), "search {filter}: {out}");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let dns = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(str::to_string)
        .collect();
    let refs = stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("# refldap://")
                .map(|r| format!("ldap://{r}"))
        })
        .collect();
    (dns, refs, stdout)
}

#[test]
fn alice_binds_by_upn_dn_and_down_level_name() {
    let s = SambaAd::shared();
    assert!(s.ip().starts_with("127.0.0.") && s.ip() != "127.0.0.1" && s.ip() != "127.0.0.2");
    assert_eq!(s.url(), format!("ldap://{}", s.ip()));
    assert_eq!(s.domain(), "realm.test");
    assert_eq!(s.base_dn(), "DC=realm,DC=test");
    assert_eq!(
        s.user_dn("alice"),
        "CN=Alice Liddell,CN=Users,DC=realm,DC=test"
    );
    let url = s.url();
    assert_binds_as(s, &url, false, "alice@realm.test", "Wonderland-1", "alice");
    assert_binds_as(s, &url, false, &s.user_dn("alice"), "Wonderland-1", "alice");
    assert_binds_as(s, &url, false, "REALMTEST\\alice", "Wonderland-1", "alice");
    // The DN with an escaped comma, and the service account.
    assert_eq!(
        s.user_dn("jdoe"),
        "CN=Doe\\, John,CN=Users,DC=realm,DC=test"
    );
    assert_binds_as(s, &url, false, &s.user_dn("jdoe"), "Doe-pw-1", "jdoe");
    assert_binds_as(
        s,
        &url,
        false,
        &s.service_dn(),
        s.service_password(),
        "svc-realm",
    );
    for (sam, password) in [("bob", "Builder-1"), ("carol", "Carol-pw-1")] {
        assert_binds_as(s, &url, false, &format!("{sam}@realm.test"), password, sam);
    }
    // Samba logs every bind.
    assert!(
        s.log()
            .contains("[LDAP,simple bind] user [REALMTEST]\\[alice@realm.test]"),
        "{}",
        s.log()
    );
}

#[test]
fn samba_has_no_who_am_i_operation() {
    // The bind succeeds, the extended operation that follows does not: the realm must not
    // rely on it.
    let s = SambaAd::shared();
    let o = ldap_tool(
        s,
        "ldapwhoami",
        &[
            "-x",
            "-H",
            &s.url(),
            "-D",
            "alice@realm.test",
            "-w",
            "Wonderland-1",
        ],
    );
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("Protocol error (2)"), "{out}");
    assert!(
        out.contains("Extended Operation(1.3.6.1.4.1.4203.1.11.3) not supported"),
        "{out}"
    );
}

#[test]
fn a_wrong_password_or_unknown_user_is_data_52e() {
    let s = SambaAd::shared();
    let url = s.url();
    assert_refused(s, &url, "alice@realm.test", "wonderland-1", "52e");
    assert_refused(s, &url, &s.user_dn("alice"), "nope", "52e");
    assert_refused(s, &url, "nobody@realm.test", "Wonderland-1", "52e");
    // A DN with an empty password is not an anonymous bind for Samba: it is refused too.
    assert_refused(s, &url, &s.user_dn("alice"), "", "52e");
}

#[test]
fn each_refused_account_gives_its_code() {
    let s = SambaAd::shared();
    assert_eq!(
        REFUSED_ACCOUNTS
            .iter()
            .map(|a| a.data)
            .collect::<BTreeSet<_>>(),
        ["530", "531", "532", "533", "701", "773", "775"].into()
    );
    for url in [s.url(), s.ldaps_url()] {
        for a in REFUSED_ACCOUNTS {
            assert_refused(
                s,
                &url,
                &format!("{}@realm.test", a.sam),
                a.password,
                a.data,
            );
            assert_refused(s, &url, &s.user_dn(a.sam), a.password, a.data);
            // With a wrong password the state is not revealed, except a lockout.
            let wrong = if a.data == "775" { "775" } else { "52e" };
            assert_refused(s, &url, &format!("{}@realm.test", a.sam), "wrong", wrong);
        }
    }
    for a in REFUSED_ACCOUNTS {
        let upn = format!("{}@realm.test", a.sam);
        assert_refused_with(s, &s.url(), &["-ZZ"], &upn, a.password, a.data);
    }
}

#[test]
fn tls_verifies_with_the_harness_ca_only() {
    let s = SambaAd::shared();
    assert!(s.ca_file().is_file());
    assert_binds_as(
        s,
        &s.ldaps_url(),
        false,
        "alice@realm.test",
        "Wonderland-1",
        "alice",
    );
    assert_binds_as(
        s,
        &s.url(),
        true,
        "alice@realm.test",
        "Wonderland-1",
        "alice",
    );
    // Another CA, which did not sign the server's certificate, is not trusted.
    let other_dir = temp_dir("samba-smoke-ca");
    let other = Pki::generate(&other_dir, &[s.ip()]);
    let o = ldap_tool_with_ca(
        &other.ca_cert,
        "ldapsearch",
        &[
            "-x",
            "-H",
            &s.ldaps_url(),
            "-D",
            "alice@realm.test",
            "-w",
            "Wonderland-1",
            "-b",
            "",
            "-s",
            "base",
        ],
    );
    assert_eq!(o.status.code(), Some(255), "{}", text(&o));
    assert!(
        text(&o).contains("Can't contact LDAP server"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(other_dir).unwrap();
}

#[test]
fn in_chain_search_finds_carols_five_groups_through_the_cycle() {
    let s = SambaAd::shared();
    let carol = s.user_dn("carol");
    let (dns, _, out) = search(
        s,
        &format!("(member:1.2.840.113556.1.4.1941:={carol})"),
        &["1.1"],
    );
    let got: BTreeSet<String> = dns.into_iter().collect();
    let want: BTreeSet<String> = ["G1", "G2", "G3", "G4", "G5"]
        .iter()
        .map(|g| s.group_dn(g))
        .collect();
    assert_eq!(got, want, "{out}");
    // memberOf holds the direct group only.
    let o = bind_and_read(
        s,
        &s.url(),
        false,
        &s.service_dn(),
        s.service_password(),
        &carol,
        "memberOf",
    );
    let memberof: Vec<&str> = std::str::from_utf8(&o.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("memberOf: "))
        .collect();
    assert_eq!(memberof, [s.group_dn("G1")]);
}

#[test]
fn groups_hold_the_documented_members() {
    let s = SambaAd::shared();
    let (dns, _, out) = search(s, &format!("(member={})", s.user_dn("alice")), &["1.1"]);
    let got: BTreeSet<String> = dns.into_iter().collect();
    assert_eq!(
        got,
        [s.group_dn("Readers"), s.group_dn("SRE")].into(),
        "{out}"
    );
    // The DN's escaped comma (`\,`) is `\5c,` in a filter value (RFC 4515).
    let (dns, _, out) = search(
        s,
        "(member=CN=Doe\\5c, John,CN=Users,DC=realm,DC=test)",
        &["1.1"],
    );
    assert_eq!(dns, [s.group_dn("Readers")], "{out}");
    let (dns, _, out) = search(s, &format!("(member={})", s.user_dn("bob")), &["1.1"]);
    assert_eq!(dns, [s.group_dn("Ops")], "{out}");
    let (dns, _, out) = search(s, "(&(objectClass=group)(cn=G3))", &["member"]);
    assert_eq!(dns, [s.group_dn("G3")], "{out}");
    for g in ["G2", "G5"] {
        assert!(
            out.contains(&format!("member: {}\n", s.group_dn(g))),
            "{out}"
        );
    }
    // Global security groups.
    let (_, _, out) = search(s, "(cn=Readers)", &["groupType"]);
    assert!(out.contains("groupType: -2147483646\n"), "{out}");
}

#[test]
fn a_search_from_the_domain_root_returns_a_continuation_reference() {
    let s = SambaAd::shared();
    let (dns, refs, out) = search(s, "(sAMAccountName=alice)", &["userPrincipalName"]);
    assert_eq!(dns, [s.user_dn("alice")], "{out}");
    assert!(
        out.contains("userPrincipalName: alice@realm.test\n"),
        "{out}"
    );
    assert_eq!(
        refs,
        ["ldap://realm.test/CN=Configuration,DC=realm,DC=test"],
        "{out}"
    );
    // Below the root there is none.
    let service = s.service_dn();
    let url = s.url();
    let o = ldap_tool(
        s,
        "ldapsearch",
        &[
            "-LLL",
            "-x",
            "-H",
            &url,
            "-D",
            &service,
            "-w",
            s.service_password(),
            "-b",
            "CN=Users,DC=realm,DC=test",
            "(sAMAccountName=alice)",
            "1.1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("ref"), "{}", text(&o));
}

#[test]
fn a_private_server_has_its_own_address_and_is_gone_once_dropped() {
    // Started first, so that it provisions while the other tests wait for the shared one.
    let own = SambaAd::start();
    let shared = SambaAd::shared();
    assert_ne!(own.ip(), shared.ip());
    assert_binds_as(
        &own,
        &own.url(),
        false,
        "bob@realm.test",
        "Builder-1",
        "bob",
    );
    let ip = own.ip().to_string();
    let lock = std::env::temp_dir().join(format!("realm-testkit-samba-{ip}.lock"));
    let held = std::fs::File::open(&lock).unwrap();
    assert!(held.try_lock().is_err(), "{} is not locked", lock.display());
    drop(own);
    for port in [389, 636] {
        let addr = format!("{ip}:{port}").parse().unwrap();
        assert!(
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)).is_err(),
            "{addr} still accepts connections"
        );
    }
    held.try_lock().unwrap();
    // The shared server is still there.
    assert_binds_as(
        shared,
        &shared.url(),
        false,
        "bob@realm.test",
        "Builder-1",
        "bob",
    );
}

#[test]
fn anonymous_clients_read_the_root_dse_only() {
    let s = SambaAd::shared();
    let url = s.url();
    let o = ldap_tool(
        s,
        "ldapsearch",
        &[
            "-LLL",
            "-x",
            "-H",
            &url,
            "-b",
            "",
            "-s",
            "base",
            "defaultNamingContext",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("defaultNamingContext: DC=realm,DC=test\n"),
        "{}",
        text(&o)
    );
    let o = ldap_tool(
        s,
        "ldapsearch",
        &[
            "-LLL",
            "-x",
            "-H",
            &url,
            "-b",
            s.base_dn(),
            "(sAMAccountName=alice)",
            "1.1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("00002020: Operation unavailable without authentication"),
        "{}",
        text(&o)
    );
}
