//! Smoke tests of the OpenLDAP harness ([`realm_testkit::slapd`]), driven with OpenLDAP's own
//! command-line clients (`ldapwhoami`, `ldapsearch` from `ldap-utils`): the server starts
//! quickly, holds the directory of `fixtures/DIRECTORY.md`, enforces its ACLs and limits, serves
//! TLS with the promised certificate, survives stop/restart and logs binds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use realm_testkit::slapd::{Slapd, SlapdOptions};
use realm_testkit::util::require_binary;

const ALICE: &str = "uid=alice,ou=Users,dc=realm,dc=test";

/// Runs an ldap-utils `tool` with `args`, `LDAPTLS_CACERT` set to the server's CA, and reading
/// no user configuration files.
fn ldap_tool(s: &Slapd, tool: &str, args: &[&str]) -> Output {
    Command::new(require_binary(tool, "ldap-utils"))
        .args(args)
        .env("LDAPTLS_CACERT", s.ca_file())
        .env("LDAPTLS_REQCERT", "demand")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap()
}

/// `ldapwhoami -x -H url -D dn -w password` (plus `extra` options).
fn whoami(s: &Slapd, url: &str, dn: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec!["-x", "-H", url, "-D", dn, "-w", password];
    args.extend_from_slice(extra);
    ldap_tool(s, "ldapwhoami", &args)
}

/// `ldapsearch -x -LLL -o ldif-wrap=no -H url -D dn -w password -b base args...`.
fn search(s: &Slapd, dn: &str, password: &str, base: &str, args: &[&str]) -> Output {
    let url = s.url();
    let mut all = vec![
        "-x",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-H",
        &url,
        "-D",
        dn,
        "-w",
        password,
        "-b",
        base,
    ];
    all.extend_from_slice(args);
    ldap_tool(s, "ldapsearch", &all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn describe(o: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The number of entries in `ldapsearch -LLL` output.
fn entries(o: &Output) -> usize {
    stdout(o).lines().filter(|l| l.starts_with("dn:")).count()
}

#[track_caller]
fn assert_binds(s: &Slapd, url: &str, dn: &str, password: &str) -> String {
    let out = whoami(s, url, dn, password, &[]);
    assert!(
        out.status.success(),
        "{dn} / {password} must bind on {url}: {}\nslapd log:\n{}",
        describe(&out),
        s.log()
    );
    stdout(&out)
}

#[test]
fn starts_quickly_and_two_run_at_once() {
    let t = Instant::now();
    let a = Slapd::start();
    let first = t.elapsed();
    let t = Instant::now();
    let b = Slapd::start();
    let second = t.elapsed();
    eprintln!("slapd startup: {first:?}, {second:?}");
    assert!(
        first < Duration::from_secs(5) && second < Duration::from_secs(5),
        "startup took {first:?} and {second:?}"
    );
    assert_ne!(a.url(), b.url());
    assert_ne!(a.ldaps_url(), b.ldaps_url());
    for s in [&a, &b] {
        assert_binds(s, &s.url(), ALICE, "wonderland");
    }
    // Each has its own data: an entry added to one is not in the other.
    a.ldapadd("dn: cn=only-in-a,ou=Roles,dc=realm,dc=test\nobjectClass: organizationalRole\ncn: only-in-a\n");
    let base = "ou=Roles,dc=realm,dc=test";
    let in_a = search(
        &a,
        a.root_dn(),
        a.root_password(),
        base,
        &["(cn=only-in-a)", "dn"],
    );
    let in_b = search(
        &b,
        b.root_dn(),
        b.root_password(),
        base,
        &["(cn=only-in-a)", "dn"],
    );
    assert_eq!((entries(&in_a), entries(&in_b)), (1, 0));
}

#[test]
fn alice_binds_with_her_password_only() {
    let s = Slapd::shared();
    let who = assert_binds(s, &s.url(), ALICE, "wonderland");
    assert_eq!(who.trim(), format!("dn:{ALICE}"));
    let out = whoami(s, &s.url(), ALICE, "Wonderland", &[]);
    assert_eq!(out.status.code(), Some(49), "{}", describe(&out));
    // The other listener address serves the same directory.
    assert_binds(s, &s.url_on("127.0.0.2"), ALICE, "wonderland");
}

#[test]
fn service_account_reads_user_password_and_users_do_not() {
    let s = Slapd::shared();
    let out = search(
        s,
        s.service_dn(),
        s.service_password(),
        ALICE,
        &["-s", "base", "userPassword"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    // ldapsearch prints userPassword (an octet string) in base64: "wonderland".
    assert!(
        stdout(&out).contains("userPassword:: d29uZGVybGFuZA=="),
        "{}",
        describe(&out)
    );
    let bob = search(
        s,
        "uid=bob,ou=Users,dc=realm,dc=test",
        "builder",
        ALICE,
        &["-s", "base", "userPassword", "cn"],
    );
    assert!(bob.status.success(), "{}", describe(&bob));
    let text = stdout(&bob);
    assert!(
        text.contains("cn: Alice Liddell") && !text.contains("userPassword"),
        "{text}"
    );
}

#[test]
fn anonymous_searches_are_refused() {
    let s = Slapd::shared();
    let out = ldap_tool(
        s,
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &s.url(),
            "-b",
            s.base_dn(),
            "(uid=alice)",
        ],
    );
    assert_eq!(out.status.code(), Some(53), "{}", describe(&out));
}

#[test]
fn every_special_user_binds() {
    let s = Slapd::shared();
    // (DN to bind with, password, the DN ldapwhoami reports: slapd's pretty form)
    let users = [
        ("uid=a*b,ou=Users,dc=realm,dc=test", "star-pw", "uid=a*b"),
        (
            "uid=p(a)r,ou=Users,dc=realm,dc=test",
            "paren-pw",
            "uid=p(a)r",
        ),
        (
            "uid=back\\5cslash,ou=Users,dc=realm,dc=test",
            "backslash-pw",
            "uid=back\\5Cslash",
        ),
        (
            "uid=back\\\\slash,ou=Users,dc=realm,dc=test",
            "backslash-pw",
            "uid=back\\5Cslash",
        ),
        (
            "uid=nul\\5c00x,ou=Users,dc=realm,dc=test",
            "nul-pw",
            "uid=nul\\5C00x",
        ),
        (
            "uid=doe\\, john,ou=Users,dc=realm,dc=test",
            "doe-pw",
            "uid=doe\\2C john",
        ),
        (
            "uid=a\\+b\\=c,ou=Users,dc=realm,dc=test",
            "plus-pw",
            "uid=a\\2Bb\\3Dc",
        ),
        (
            "uid=jürgen,ou=Users,dc=realm,dc=test",
            "jürgen-pw",
            "uid=jürgen",
        ),
        ("uid=名前,ou=Users,dc=realm,dc=test", "namae-pw", "uid=名前"),
        (
            "uid=twin1,ou=Users,dc=realm,dc=test",
            "twin-pw",
            "uid=twin1",
        ),
        (
            "uid=twin2,ou=Users,dc=realm,dc=test",
            "twin-pw",
            "uid=twin2",
        ),
        (
            "uid=joiner,ou=Users,dc=realm,dc=test",
            "joiner-pw",
            "uid=joiner",
        ),
    ];
    for (dn, password, pretty) in users {
        let who = assert_binds(s, &s.url(), dn, password);
        assert_eq!(
            who.trim(),
            format!("dn:{pretty},ou=Users,dc=realm,dc=test"),
            "{dn}"
        );
        let wrong = whoami(s, &s.url(), dn, "wrong", &[]);
        assert_eq!(wrong.status.code(), Some(49), "{dn}: {}", describe(&wrong));
    }
    // nopass has no userPassword: no password works.
    let out = whoami(
        s,
        &s.url(),
        "uid=nopass,ou=Users,dc=realm,dc=test",
        "nopass",
        &[],
    );
    assert_eq!(out.status.code(), Some(49), "{}", describe(&out));
}

#[test]
fn special_uids_are_the_literal_values() {
    let s = Slapd::shared();
    let users = "ou=Users,dc=realm,dc=test";
    // RFC 4515 filter escapes of the literal uid values.
    for (filter, dn) in [
        ("(uid=a\\2ab)", "dn: uid=a*b,"),
        ("(uid=p\\28a\\29r)", "dn: uid=p(a)r,"),
        ("(uid=back\\5cslash)", "dn: uid=back\\5Cslash,"),
        ("(uid=nul\\5c00x)", "dn: uid=nul\\5C00x,"),
        ("(uid=doe, john)", "dn: uid=doe\\2C john,"),
        ("(uid=a+b=c)", "dn: uid=a\\2Bb\\3Dc,"),
        ("(uid=jürgen)", "dn:: dWlkPWrDvHJnZW4s"),
        ("(uid=名前)", "dn:: dWlkPeWQjeWJjSxvdT1Vc2Vy"),
    ] {
        let out = search(
            s,
            s.service_dn(),
            s.service_password(),
            users,
            &[filter, "dn"],
        );
        assert!(out.status.success(), "{filter}: {}", describe(&out));
        assert_eq!(entries(&out), 1, "{filter}: {}", describe(&out));
        assert!(stdout(&out).starts_with(dn), "{filter}: {}", describe(&out));
    }
    let twins = search(
        s,
        s.service_dn(),
        s.service_password(),
        users,
        &["(cn=Twin)", "dn"],
    );
    assert_eq!(entries(&twins), 2, "{}", describe(&twins));
}

#[test]
fn directory_has_the_specified_shape() {
    let s = Slapd::shared();
    let count = |base: &str, filter: &str| {
        let out = search(s, s.root_dn(), s.root_password(), base, &[filter, "dn"]);
        assert!(out.status.success(), "{base} {filter}: {}", describe(&out));
        entries(&out)
    };
    assert_eq!(
        count("ou=Users,dc=realm,dc=test", "(objectClass=inetOrgPerson)"),
        17
    );
    assert_eq!(
        count("ou=Groups,dc=realm,dc=test", "(objectClass=groupOfNames)"),
        15
    );
    assert_eq!(
        count("ou=Bulk,dc=realm,dc=test", "(objectClass=groupOfNames)"),
        120
    );
    assert_eq!(
        count("ou=Fillers,dc=realm,dc=test", "(objectClass=inetOrgPerson)"),
        150
    );
    assert_eq!(
        count(
            "ou=Roles,dc=realm,dc=test",
            "(objectClass=organizationalRole)"
        ),
        2
    );
    assert_eq!(
        count(
            "dc=realm,dc=test",
            "(&(objectClass=inetOrgPerson)(!(userPassword=*)))"
        ),
        151,
        "nopass and the fillers have no password"
    );
    // Reverse mode for carol's and dave's first level; Big's size.
    assert_eq!(
        count(
            "ou=Groups,dc=realm,dc=test",
            "(member=cn=L1,ou=Groups,dc=realm,dc=test)"
        ),
        2
    );
    assert_eq!(
        count(
            "ou=Groups,dc=realm,dc=test",
            "(member=uid=dave,ou=Users,dc=realm,dc=test)"
        ),
        2
    );
    let big = search(
        s,
        s.root_dn(),
        s.root_password(),
        "cn=Big,ou=Groups,dc=realm,dc=test",
        &["-s", "base", "member"],
    );
    assert_eq!(
        stdout(&big)
            .lines()
            .filter(|l| l.starts_with("member:"))
            .count(),
        151
    );
    // Direct mode mirrors reverse mode: readers' members list Readers in seeAlso.
    let readers = count(
        "ou=Users,dc=realm,dc=test",
        "(seeAlso=cn=Readers,ou=Groups,dc=realm,dc=test)",
    );
    assert_eq!(readers, 4);
    let alice = search(
        s,
        s.service_dn(),
        s.service_password(),
        ALICE,
        &["-s", "base"],
    );
    let text = stdout(&alice);
    for line in [
        "description: admin",
        "description: monitor",
        "employeeType: cn=admin,ou=Roles,dc=realm,dc=test",
        "employeeType: cn=monitor,ou=Roles,dc=realm,dc=test",
        "seeAlso: cn=Readers,ou=Groups,dc=realm,dc=test",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}

#[test]
fn ldaps_verifies_against_the_ca_and_the_address() {
    let s = Slapd::shared();
    assert_binds(s, &s.ldaps_url(), ALICE, "wonderland");
    // StartTLS on the plain port, same certificate.
    assert_binds(s, &s.url(), ALICE, "wonderland");
    let out = whoami(s, &s.url(), ALICE, "wonderland", &["-ZZ"]);
    assert!(out.status.success(), "StartTLS: {}", describe(&out));
    // 127.0.0.2 is not in the certificate.
    let out = whoami(
        s,
        &s.ldaps_url_on("127.0.0.2"),
        ALICE,
        "wonderland",
        &["-d", "1"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("does not match"),
        "{}",
        describe(&out)
    );
    // Without the CA (the system trust store only), even 127.0.0.1 fails.
    let out = Command::new(require_binary("ldapwhoami", "ldap-utils"))
        .args(["-x", "-H", &s.ldaps_url(), "-D", ALICE, "-w", "wonderland"])
        .env("LDAPTLS_CACERT", "/etc/ssl/certs/ca-certificates.crt")
        .env("LDAPTLS_REQCERT", "demand")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn without_tls_there_is_no_ldaps_and_no_starttls() {
    let s = Slapd::start_with(SlapdOptions {
        tls: false,
        ..Default::default()
    });
    assert_binds(&s, &s.url(), ALICE, "wonderland");
    let out = whoami(&s, &s.url(), ALICE, "wonderland", &["-ZZ"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(std::panic::catch_unwind(|| s.ldaps_url()).is_err());
}

#[test]
fn size_limit_stops_plain_searches_and_paging_returns_everything() {
    let s = Slapd::shared();
    let joiner = "(member=uid=joiner,ou=Users,dc=realm,dc=test)";
    let bulk = "ou=Bulk,dc=realm,dc=test";
    let plain = search(
        s,
        s.service_dn(),
        s.service_password(),
        bulk,
        &[joiner, "dn"],
    );
    assert_eq!(plain.status.code(), Some(4), "{}", describe(&plain));
    assert_eq!(entries(&plain), 100);
    let paged = search(
        s,
        s.service_dn(),
        s.service_password(),
        bulk,
        &["-E", "pr=50/noprompt", joiner, "dn"],
    );
    assert!(paged.status.success(), "{}", describe(&paged));
    assert_eq!(entries(&paged), 120);
    // The whole tree: the 120 bulk groups and Big.
    let all = search(
        s,
        s.service_dn(),
        s.service_password(),
        s.base_dn(),
        &["-E", "pr=100/noprompt", joiner, "dn"],
    );
    assert_eq!(entries(&all), 121, "{}", describe(&all));
    // The rootdn has no limit.
    let root = search(s, s.root_dn(), s.root_password(), bulk, &[joiner, "dn"]);
    assert!(root.status.success(), "{}", describe(&root));
    assert_eq!(entries(&root), 120);
}

#[test]
fn stop_closes_the_ports_and_restart_keeps_ports_and_data() {
    let s = Slapd::start();
    let port_of = |url: &str| url.rsplit(':').next().unwrap().to_string();
    let addr = format!("127.0.0.1:{}", port_of(&s.url()));
    let (url, ldaps) = (s.url(), s.ldaps_url());
    s.ldapadd(
        "dn: uid=late,ou=Users,dc=realm,dc=test\nobjectClass: inetOrgPerson\nuid: late\n\
         cn: Late\nsn: Late\nuserPassword: late-pw\n",
    );
    for round in 0..3 {
        s.stop();
        assert!(
            TcpStream::connect(&addr).is_err(),
            "round {round}: port open after stop"
        );
        let out = whoami(&s, &url, ALICE, "wonderland", &[]);
        assert!(!out.status.success(), "round {round}: {}", describe(&out));
        s.stop(); // stopping twice is harmless
        let t = Instant::now();
        s.restart();
        eprintln!("slapd restart: {:?}", t.elapsed());
        assert_eq!((s.url(), s.ldaps_url()), (url.clone(), ldaps.clone()));
        assert_binds(&s, &url, ALICE, "wonderland");
        assert_binds(&s, &ldaps, "uid=late,ou=Users,dc=realm,dc=test", "late-pw");
    }
    // restart also restarts a running server.
    s.restart();
    assert_binds(&s, &url, ALICE, "wonderland");
    assert_eq!(s.log().matches("slapd starting").count(), 5);
}

#[test]
fn the_log_records_binds() {
    let s = Slapd::start();
    assert_binds(&s, &s.url(), ALICE, "wonderland");
    let wrong = whoami(
        &s,
        &s.url(),
        "uid=bob,ou=Users,dc=realm,dc=test",
        "nope",
        &[],
    );
    assert_eq!(wrong.status.code(), Some(49));
    let log = s.log();
    let bind = format!("BIND dn=\"{ALICE}\" method=128");
    assert!(log.lines().any(|l| l.ends_with(&bind)), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("BIND dn=\"{ALICE}\" mech=SIMPLE"))),
        "{log}"
    );
    // RESULT lines may lag behind the client's answer.
    assert!(
        s.wait_for_log("RESULT tag=97 err=49", Duration::from_secs(5)),
        "{}",
        s.log()
    );
    // Nobody bound as carol.
    assert!(!log.contains("uid=carol"), "{log}");
}
