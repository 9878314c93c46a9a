//! The LDAP realm against a real OpenLDAP `slapd` started by the harness (`realm-testkit`), with
//! the directory of `testkit/fixtures/DIRECTORY.md`.

use std::time::{Duration, Instant};

use realm_core::config::{AuthenticationConfig, LdapConfig, LoadOptions, Syntax, load_str};
use realm_core::module::LoginError;
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Secret, Security};
use realm_ldap::{LdapLoginModule, LdapOutcome};
use realm_testkit::slapd::Slapd;
use realm_testkit::util::SilentServer;

const BASE: &str = "dc=realm,dc=test";

fn user_dn(uid_rdn_value: &str) -> String {
    format!("uid={uid_rdn_value},ou=Users,{BASE}")
}

/// The `ldap:` options of a realm, as YAML lines (indented by the caller's text).
/// A configuration with one realm `corp` whose `ldap:` options are `ldap_yaml` (one option per
/// line; the lines are indented here).
fn realm_yaml(ldap_yaml: &str) -> String {
    format!(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n{}",
        ldap_yaml
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("          {}\n", l.trim()))
            .collect::<String>()
    )
}

fn config(ldap_yaml: &str) -> LdapConfig {
    let text = realm_yaml(ldap_yaml);
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        "corp.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    match &loaded.config.realm("corp").unwrap().authentication {
        Some(AuthenticationConfig::Ldap(c)) => c.clone(),
        other => panic!("not ldap: {other:?}"),
    }
}

fn module(ldap_yaml: &str) -> LdapLoginModule {
    LdapLoginModule::new("corp", &config(ldap_yaml), &mut Vec::new()).unwrap()
}

/// Search mode with the service account, plus `extra` options.
fn search_mode(s: &Slapd, extra: &str) -> LdapLoginModule {
    module(&format!(
        "url: {}\nsystem-user-dn: {}\nsystem-user-password: {}\nuser-context: ou=Users,{BASE}\n{extra}",
        s.url(),
        s.service_dn(),
        s.service_password()
    ))
}

async fn ok(m: &LdapLoginModule, login: &str, pw: &str) -> LdapOutcome {
    m.authenticate(login, Some(&Secret::from(pw)))
        .await
        .unwrap_or_else(|e| panic!("login {login:?} failed: {e:?}"))
}

async fn denied(m: &LdapLoginModule, login: &str, pw: &str) -> String {
    match m.authenticate(login, Some(&Secret::from(pw))).await {
        Err(LoginError::Denied(why)) => why,
        other => panic!("login {login:?}: expected a denial, got {other:?}"),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn names(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| s.to_string()).collect())
}

fn security(yaml: &str) -> Security {
    let loaded = load_str(
        yaml,
        Syntax::Yaml,
        "s.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ldap::register(&mut r);
    Security::from_config(&loaded.config, &r).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn bind_mode_logs_in_with_the_dn_and_reads_every_value_of_a_multi_valued_attribute() {
    let s = Slapd::shared();
    let m = module(&format!(
        "url: {}\nrole-mapping-attribute: description",
        s.url()
    ));
    let out = ok(&m, &user_dn("alice"), "wonderland").await;
    assert_eq!(out.name, "alice");
    // Hazelcast reads only the first value; both count.
    assert_eq!(sorted(out.roles), names(&["admin", "monitor"]));
    let why = denied(&m, &user_dn("alice"), "wrong").await;
    assert!(why.contains("invalid credentials"), "{why}");
    // Not a DN: refused without a bind.
    let why = denied(&m, "alice", "wonderland").await;
    assert!(why.contains("not a DN"), "{why}");
}

#[tokio::test]
async fn search_mode_verifies_the_password_with_a_real_bind_cve_2020_26168() {
    let s = Slapd::shared();
    let m = search_mode(s, "role-mapping-attribute: description");
    let out = ok(&m, "alice", "wonderland").await;
    assert_eq!(out.dn, user_dn("alice"));
    assert_eq!(sorted(out.roles), names(&["admin", "monitor"]));
    // The CVE: with system-user-dn set, any password was accepted.
    denied(&m, "alice", "not-wonderland").await;
    denied(&m, "alice", "wonderland ").await;
    // Unknown users are denied, never unavailable.
    let why = denied(&m, "nobody-here", "x").await;
    assert!(why.contains("unknown user"), "{why}");
    // A user without a password cannot log in with any.
    denied(&m, "nopass", "anything").await;
}

#[tokio::test]
async fn the_cve_case_through_the_configuration_path_and_the_realm() {
    let s = Slapd::shared();
    let sec = security(&format!(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {}\n          system-user-dn: {}\n          system-user-password: {}\n          role-mapping-mode: reverse\n          role-mapping-attribute: member\n          role-name-attribute: cn\n          role-recursion-max-depth: 5\n  client-authentication:\n    realm: corp\n",
        s.url(),
        s.service_dn(),
        s.service_password()
    ));
    let realm = sec.realm("corp").unwrap();
    let (subject, trace) = realm
        .login_traced(
            Credentials::password("alice", "wonderland"),
            Endpoint::default(),
        )
        .await;
    let subject = subject.unwrap();
    assert_eq!(subject.identity(), Some("alice"));
    assert!(
        subject.has_role("Readers") && subject.has_role("Staff"),
        "{:?}\n{trace}",
        subject.principals()
    );
    let (r, trace) = realm
        .login_traced(
            Credentials::password("alice", "wrongPassword"),
            Endpoint::default(),
        )
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    // The caller learns nothing; the trace says what happened.
    assert!(trace.to_string().contains("invalid credentials"), "{trace}");
}

#[tokio::test]
async fn password_attribute_is_compared_in_constant_time_without_a_bind() {
    let s = Slapd::shared();
    let m = search_mode(s, "password-attribute: userPassword");
    ok(&m, "bob", "builder").await;
    let why = denied(&m, "bob", "builder2").await;
    assert!(why.contains("compared with userPassword"), "{why}");
    // The user without the attribute never matches.
    denied(&m, "nopass", "x").await;
}

#[tokio::test]
async fn skip_authentication_only_looks_the_user_up() {
    let s = Slapd::shared();
    let m = search_mode(
        s,
        "skip-authentication: true\nrole-mapping-attribute: description",
    );
    let out = m.authenticate("bob", None).await.unwrap();
    assert_eq!(out.roles, vec!["monitor".to_string()]);
}

#[tokio::test]
async fn empty_passwords_and_logins_never_reach_the_server() {
    let s = Slapd::start();
    let m = search_mode(&s, "");
    let bind = module(&format!("url: {}", s.url()));
    let before = s.log();
    for (login, pw) in [("alice", ""), ("", "wonderland")] {
        let why = denied(&m, login, pw).await;
        assert!(why.contains("refused before any bind"), "{why}");
    }
    let why = denied(&bind, &user_dn("alice"), "").await;
    assert!(why.contains("refused before any bind"), "{why}");
    // Nothing was sent at all: not even a connection.
    assert_eq!(m.connections_opened(), (0, 0));
    assert_eq!(bind.connections_opened(), (0, 0));
    let after = s.log();
    assert_eq!(
        after[before.len()..].matches("BIND").count(),
        0,
        "{}",
        &after[before.len()..]
    );
}

#[tokio::test]
async fn more_than_one_matching_entry_is_a_denial_not_the_first_one() {
    let s = Slapd::shared();
    let m = search_mode(s, "user-filter: (cn={login})");
    let why = denied(&m, "Twin", "twin-pw").await;
    assert!(
        why.contains("ambiguous") && why.contains("2 entries"),
        "{why}"
    );
}

#[tokio::test]
async fn users_with_special_characters_log_in_both_ways() {
    let s = Slapd::shared();
    let search = search_mode(s, "role-mapping-attribute: description");
    let bind = module(&format!(
        "url: {}\nrole-mapping-attribute: description",
        s.url()
    ));
    for (uid, rdn, pw, role) in [
        ("a*b", "a*b", "star-pw", "star"),
        ("p(a)r", "p(a)r", "paren-pw", "paren"),
        ("back\\slash", "back\\\\slash", "backslash-pw", "backslash"),
        ("nul\\00x", "nul\\\\00x", "nul-pw", "nul"),
        ("doe, john", "doe\\, john", "doe-pw", "comma"),
        ("a+b=c", "a\\+b\\=c", "plus-pw", "plus"),
        ("jürgen", "jürgen", "jürgen-pw", "umlaut"),
        ("名前", "名前", "namae-pw", "cjk"),
    ] {
        let out = ok(&search, uid, pw).await;
        assert_eq!(out.roles, vec![role.to_string()], "{uid}");
        assert_eq!(out.name, uid);
        let out = ok(&bind, &user_dn(rdn), pw).await;
        assert_eq!(out.roles, vec![role.to_string()], "{uid} by DN");
        denied(&search, uid, "wrong").await;
    }
}

#[tokio::test]
async fn injection_attempts_are_denied_and_do_not_widen_the_search() {
    let s = Slapd::start();
    let m = search_mode(&s, "");
    for login in [
        "*",
        "a*",
        "alice)(uid=*",
        "*)(|(uid=*",
        "alice\u{0}",
        "\\2a",
        "alice)(|(userPassword=*)",
    ] {
        let why = denied(&m, login, "wonderland").await;
        assert!(why.contains("unknown user"), "{login:?}: {why}");
    }
    // The server saw escaped values only: `*` never reached it as a wildcard.
    let log = s.log();
    let filters: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once("filter=\"").map(|(_, f)| f))
        .collect();
    assert!(
        filters.iter().any(|f| f.starts_with("(uid=\\2A)")),
        "{filters:?}"
    );
    assert!(
        !filters
            .iter()
            .any(|f| f.contains("(uid=*)") || f.starts_with("(uid=a*")),
        "{filters:?}"
    );
}

#[tokio::test]
async fn a_wrong_admin_password_is_unavailable_never_a_wrong_user_password() {
    let s = Slapd::shared();
    let m = module(&format!(
        "url: {}\nsystem-user-dn: {}\nsystem-user-password: not-the-password",
        s.url(),
        s.service_dn()
    ));
    match m
        .authenticate("alice", Some(&Secret::from("wonderland")))
        .await
    {
        Err(LoginError::Unavailable(why)) => {
            assert!(
                why.contains("admin bind") && why.contains("system-user-password"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Roles

fn paths(out: &LdapOutcome, role: &str) -> Vec<String> {
    out.role_paths
        .iter()
        .find(|(r, _)| r == role)
        .map(|(_, p)| p.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn attribute_mode_with_parse_dn() {
    let s = Slapd::shared();
    let m = search_mode(
        s,
        "role-mapping-attribute: employeeType\nparse-dn: true\nrole-name-attribute: cn",
    );
    assert_eq!(
        sorted(ok(&m, "alice", "wonderland").await.roles),
        names(&["admin", "monitor"])
    );
    let m = search_mode(
        s,
        "role-mapping-attribute: employeeType\nparse-dn: true\nrole-name-attribute: ou",
    );
    assert_eq!(
        ok(&m, "alice", "wonderland").await.roles,
        vec!["Roles".to_string()]
    );
}

const DEEP: &[&str] = &["L1", "L2a", "L2b", "L3", "L4", "L5"];

#[tokio::test]
async fn direct_mode_at_depth_1_and_5_with_a_diamond_and_a_cycle() {
    let s = Slapd::shared();
    let direct = |depth: u32| {
        search_mode(
            s,
            &format!(
                "role-mapping-mode: direct\nrole-mapping-attribute: seeAlso\nrole-name-attribute: cn\nrole-recursion-max-depth: {depth}"
            ),
        )
    };
    assert_eq!(
        ok(&direct(1), "carol", "carol-pw").await.roles,
        vec!["L1".to_string()]
    );
    let out = ok(&direct(5), "carol", "carol-pw").await;
    assert_eq!(sorted(out.roles.clone()), names(DEEP));
    assert_eq!(paths(&out, "L5"), vec!["L1", "L2a", "L3", "L4", "L5"]);
    // The cycle (L5 ∈ L3) ends; L6 is six hops away.
    let out = ok(&direct(6), "carol", "carol-pw").await;
    assert!(out.roles.contains(&"L6".to_string()));
    // Depth 5, pool warm: search + bind + one (concurrent) round trip per level.
    let m = direct(5);
    ok(&m, "carol", "carol-pw").await;
    let out = ok(&m, "carol", "carol-pw").await;
    assert_eq!(out.round_trips, 5 + 2, "{out:?}");
}

#[tokio::test]
async fn reverse_mode_at_depth_1_and_5_and_round_trips_grow_with_depth_only() {
    let s = Slapd::shared();
    let reverse = |depth: u32| {
        search_mode(
            s,
            &format!(
                "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: ou=Groups,{BASE}\nrole-recursion-max-depth: {depth}"
            ),
        )
    };
    // Pools warm (the first login also opens and binds the admin connection).
    let m = reverse(1);
    ok(&m, "carol", "carol-pw").await;
    let out = ok(&m, "carol", "carol-pw").await;
    assert_eq!(out.roles, vec!["L1".to_string()]);
    assert_eq!(out.round_trips, 3, "search, bind, one level");
    let m = reverse(5);
    ok(&m, "carol", "carol-pw").await;
    let out = ok(&m, "carol", "carol-pw").await;
    assert_eq!(sorted(out.roles.clone()), names(DEEP));
    // Five levels plus one more that finds nothing new is at most depth + 2.
    assert!(out.round_trips <= 5 + 2, "{} round trips", out.round_trips);
    let p = paths(&out, "L4");
    assert_eq!(p.first().map(String::as_str), Some("L1"));
    assert_eq!(p.last().map(String::as_str), Some("L4"));
    // The documents' placeholder spelling works too.
    let m = search_mode(
        s,
        &format!(
            "role-mapping-mode: reverse\nrole-filter: (member={{MEMBERDN}})\nrole-name-attribute: cn\nrole-context: ou=Groups,{BASE}"
        ),
    );
    assert_eq!(
        ok(&m, "bob", "builder").await.roles,
        vec!["Writers".to_string()]
    );
}

#[tokio::test]
async fn breadth_first_finds_what_a_depth_first_walk_misses() {
    let s = Slapd::shared();
    let want = names(&["QA", "QC", "QD", "QE"]);
    let direct = search_mode(
        s,
        "role-mapping-mode: direct\nrole-mapping-attribute: seeAlso\nrole-name-attribute: cn\nrole-recursion-max-depth: 3",
    );
    assert_eq!(sorted(ok(&direct, "dave", "dave-pw").await.roles), want);
    let reverse = search_mode(
        s,
        &format!(
            "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: ou=Groups,{BASE}\nrole-recursion-max-depth: 3"
        ),
    );
    assert_eq!(sorted(ok(&reverse, "dave", "dave-pw").await.roles), want);
}

#[tokio::test]
async fn a_dangling_group_dn_is_skipped_with_a_warning() {
    let s = Slapd::shared();
    let m = search_mode(
        s,
        "role-mapping-mode: direct\nrole-mapping-attribute: seeAlso\nrole-name-attribute: cn\nrole-recursion-max-depth: 2",
    );
    let out = ok(&m, "erin", "erin-pw").await;
    assert_eq!(sorted(out.roles), names(&["Readers", "Staff"]));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("Ghost") && w.contains("does not exist")),
        "{:?}",
        out.warnings
    );
}

#[tokio::test]
async fn more_groups_than_the_size_limit_are_all_found_with_paging() {
    let s = Slapd::shared();
    let m = search_mode(
        s,
        &format!(
            "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: {BASE}\npage-size: 50"
        ),
    );
    let out = ok(&m, "joiner", "joiner-pw").await;
    assert_eq!(out.roles.len(), 121, "120 bulk groups and Big");
    assert!(out.roles.contains(&"Big".to_string()));
    // An account whose searches the server cuts off at 100 entries: an incomplete answer is
    // reported as such (unavailable), never as "these are all the groups".
    let m = module(&format!(
        "url: {}\nsystem-user-dn: cn=limited,ou=system,{BASE}\nsystem-user-password: limited-secret\nrole-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: {BASE}\npage-size: 50",
        s.url()
    ));
    match m
        .authenticate("joiner", Some(&Secret::from("joiner-pw")))
        .await
    {
        Err(LoginError::Unavailable(why)) => {
            assert!(
                why.contains("incomplete") && why.contains("sizeLimitExceeded"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The same account with fewer groups is fine.
    assert_eq!(
        ok(&m, "bob", "builder").await.roles,
        vec!["Writers".to_string()]
    );
}

#[tokio::test]
async fn groups_map_to_application_roles() {
    let s = Slapd::shared();
    let m = search_mode(
        s,
        &format!(
            "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: ou=Groups,{BASE}\nrole-recursion-max-depth: 2\nrole-mappings:\n  - {{role: admin, groups: writers;ops}}\n  - {{role: staff, groups: Staff}}"
        ),
    );
    assert_eq!(
        sorted(ok(&m, "bob", "builder").await.roles),
        names(&["admin", "staff"])
    );
    assert_eq!(
        ok(&m, "alice", "wonderland").await.roles,
        vec!["staff".to_string()]
    );
}

// ---------------------------------------------------------------------------------------------
// Operations

#[tokio::test]
async fn failover_skips_a_dead_first_url() {
    let s = Slapd::shared();
    let dead = format!(
        "ldap://127.0.0.1:{}",
        realm_testkit::util::free_port("127.0.0.1")
    );
    let m = module(&format!(
        "url: {dead} {}\nsystem-user-dn: {}\nsystem-user-password: {}",
        s.url(),
        s.service_dn(),
        s.service_password()
    ));
    ok(&m, "alice", "wonderland").await;
    // A wrong password does not fail over (there is nothing to fail over to, and it is denied).
    denied(&m, "alice", "nope").await;
}

#[tokio::test]
async fn a_dead_server_is_unavailable() {
    let dead = format!(
        "ldap://127.0.0.1:{}",
        realm_testkit::util::free_port("127.0.0.1")
    );
    let m = module(&format!(
        "url: {dead}\nsystem-user-dn: cn=x\nsystem-user-password: y"
    ));
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("wonderland")))
            .await,
        Err(LoginError::Unavailable(_))
    ));
    let sec = security(&format!(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {dead}\n"
    ));
    let r = sec
        .realm("corp")
        .unwrap()
        .login(
            Credentials::password(user_dn("alice"), "wonderland"),
            Endpoint::default(),
        )
        .await;
    assert!(matches!(r, Err(LoginFailure::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn a_silent_server_is_unavailable_within_the_timeout() {
    let silent = SilentServer::start();
    let m = module(&format!(
        "url: {}\noperation-timeout: 300\nconnect-timeout: 300",
        silent.url()
    ));
    let t = Instant::now();
    let r = m
        .authenticate(&user_dn("alice"), Some(&Secret::from("wonderland")))
        .await;
    let took = t.elapsed();
    assert!(
        matches!(&r, Err(LoginError::Unavailable(w)) if w.contains("no answer")),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // The whole-login deadline bounds everything, whatever the per-operation timeout.
    let m = module(&format!(
        "url: {}\noperation-timeout: 60000\nlogin-timeout: 400",
        silent.url()
    ));
    let t = Instant::now();
    assert!(matches!(
        m.authenticate(&user_dn("alice"), Some(&Secret::from("x")))
            .await,
        Err(LoginError::Unavailable(_))
    ));
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn logins_recover_after_a_server_restart() {
    let s = Slapd::start();
    let m = search_mode(
        &s,
        &format!(
            "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: ou=Groups,{BASE}"
        ),
    );
    ok(&m, "alice", "wonderland").await;
    ok(&m, "bob", "builder").await;
    s.restart();
    // Same module, same pools: the dead connections are noticed and replaced.
    let out = ok(&m, "alice", "wonderland").await;
    assert_eq!(out.roles, vec!["Readers".to_string()]);
    ok(&m, "bob", "builder").await;
    let (admin, binds) = m.connections_opened();
    assert!(admin >= 2 && binds >= 2, "({admin}, {binds})");
    s.stop();
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("wonderland")))
            .await,
        Err(LoginError::Unavailable(_))
    ));
}

#[tokio::test]
async fn the_admin_pool_is_never_left_bound_as_a_user() {
    let s = Slapd::shared();
    let m = search_mode(s, "pool-size: 1");
    assert_eq!(
        m.admin_identity().await.unwrap().unwrap(),
        format!("dn:{}", s.service_dn())
    );
    ok(&m, "alice", "wonderland").await;
    assert_eq!(
        m.admin_identity().await.unwrap().unwrap(),
        format!("dn:{}", s.service_dn())
    );
    denied(&m, "bob", "wrong").await;
    assert_eq!(
        m.admin_identity().await.unwrap().unwrap(),
        format!("dn:{}", s.service_dn())
    );
    // And the one admin connection was reused throughout.
    assert_eq!(m.connections_opened().0, 1);
}

#[tokio::test]
async fn ldaps_and_start_tls_with_the_harness_ca() {
    let s = Slapd::shared();
    let ca = s.ca_file().display().to_string();
    let tls = |url: String, extra: &str| {
        module(&format!(
            "url: {url}\nsystem-user-dn: {}\nsystem-user-password: {}\ntrust-ca-file: {ca}\n{extra}",
            s.service_dn(),
            s.service_password()
        ))
    };
    ok(&tls(s.ldaps_url(), ""), "alice", "wonderland").await;
    ok(&tls(s.url(), "start-tls: true"), "alice", "wonderland").await;
    // 127.0.0.2 is not in the certificate: refused, as unavailable.
    for m in [
        tls(s.ldaps_url_on("127.0.0.2"), ""),
        tls(s.url_on("127.0.0.2"), "start-tls: true"),
    ] {
        match m
            .authenticate("alice", Some(&Secret::from("wonderland")))
            .await
        {
            Err(LoginError::Unavailable(why)) => assert!(
                why.to_lowercase().contains("certificate") || why.contains("name"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }
    // Explicitly turning hostname verification off accepts it (and the loader warned).
    ok(
        &tls(s.ldaps_url_on("127.0.0.2"), "verify-hostname: false"),
        "alice",
        "wonderland",
    )
    .await;
    // Without our CA the system store does not trust the harness's certificate.
    let m = module(&format!(
        "url: {}\nsystem-user-dn: {}\nsystem-user-password: {}",
        s.ldaps_url(),
        s.service_dn(),
        s.service_password()
    ));
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("wonderland")))
            .await,
        Err(LoginError::Unavailable(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Configuration

fn warnings(ldap_yaml: &str) -> Vec<String> {
    let text = realm_yaml(ldap_yaml);
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        "corp.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    loaded.warnings.iter().map(|d| d.to_string()).collect()
}

#[test]
fn a_password_over_plain_ldap_to_another_host_is_warned_about_naming_the_realm() {
    let w = warnings("url: ldap://ldap.example.com\nrole-mapping-attribute: memberOf");
    assert!(
        w.iter().any(
            |w| w.contains("security.realms[corp].authentication.ldap.url")
                && w.contains("clear text to ldap://ldap.example.com")
        ),
        "{w:?}"
    );
    // Loopback, ldaps:// and StartTLS are fine.
    for ok in [
        "url: ldap://127.0.0.1:389",
        "url: ldap://localhost",
        "url: ldaps://ldap.example.com",
        "url: ldap://ldap.example.com\nstart-tls: true",
    ] {
        let w = warnings(&format!("{ok}\nrole-mapping-attribute: memberOf"));
        assert!(!w.iter().any(|w| w.contains("clear text")), "{ok}: {w:?}");
    }
    let w = warnings(
        "url: ldaps://ldap.example.com\nverify-hostname: false\nrole-mapping-attribute: memberOf",
    );
    assert!(
        w.iter().any(|w| w.contains("hostname verification is off")),
        "{w:?}"
    );
}

#[test]
fn the_realm_cli_exits_3_when_the_directory_is_down() {
    let dir = crate::temp_dir("ldap", "cli-down");
    let dead = realm_testkit::util::free_port("127.0.0.1");
    std::fs::write(
        dir.join("realm.yaml"),
        format!(
            "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: ldap://127.0.0.1:{dead}\n          role-mapping-attribute: description\n"
        ),
    )
    .unwrap();
    let mut c = crate::realm_command(
        &dir,
        &[
            "login",
            "--config",
            "realm.yaml",
            "--realm",
            "corp",
            "--username",
            "uid=alice,ou=Users,dc=realm,dc=test",
            "--password-stdin",
        ],
    );
    c.env_remove("RUST_LOG");
    let out = crate::run(c, "wonderland\n");
    assert_eq!(out.status.code(), Some(3), "{}", crate::text(&out.stderr));
    assert!(
        crate::text(&out.stderr).contains("unavailable"),
        "{}",
        crate::text(&out.stderr)
    );
}

#[test]
fn the_realm_cli_logs_in_against_slapd() {
    let s = Slapd::shared();
    let dir = crate::temp_dir("ldap", "cli-ok");
    std::fs::write(
        dir.join("realm.yaml"),
        format!(
            "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {}\n          system-user-dn: {}\n          system-user-password: ${{env:LDAP_ADMIN_PASSWORD}}\n          role-mapping-mode: reverse\n          role-mapping-attribute: member\n          role-name-attribute: cn\n          role-recursion-max-depth: 2\n",
            s.url(),
            s.service_dn()
        ),
    )
    .unwrap();
    let login = |pw: &str| {
        let mut c = crate::realm_command(
            &dir,
            &[
                "login",
                "--config",
                "realm.yaml",
                "--realm",
                "corp",
                "--username",
                "alice",
                "--password-stdin",
                "--json",
                "--trace",
            ],
        );
        c.env("LDAP_ADMIN_PASSWORD", s.service_password());
        crate::run(c, &format!("{pw}\n"))
    };
    let out = login("wonderland");
    assert_eq!(out.status.code(), Some(0), "{}", crate::text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["identity"], "alice");
    let roles: Vec<&str> = json["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"Readers") && roles.contains(&"Staff"),
        "{roles:?}"
    );
    let out = login("wrong");
    assert_eq!(out.status.code(), Some(1), "{}", crate::text(&out.stderr));
}

#[tokio::test]
async fn a_refused_start_tls_aborts_and_never_binds_in_clear_text() {
    let s = Slapd::start_with(realm_testkit::slapd::SlapdOptions {
        tls: false,
        ..Default::default()
    });
    let m = module(&format!(
        "url: {}\nstart-tls: true\ntrust-ca-file: {}\nsystem-user-dn: {}\nsystem-user-password: {}",
        s.url(),
        s.ca_file().display(),
        s.service_dn(),
        s.service_password()
    ));
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("wonderland")))
            .await,
        Err(LoginError::Unavailable(_))
    ));
    assert!(!s.log().contains("BIND"), "{}", s.log());
}

#[test]
fn no_password_in_logs_traces_errors_or_debug() {
    let s = Slapd::shared();
    let logs = crate::Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let mut out = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let yaml = |admin_pw: &str| {
            format!(
                "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {}\n          system-user-dn: {}\n          system-user-password: {admin_pw}\n          role-mapping-attribute: description\n",
                s.url(),
                s.service_dn()
            )
        };
        for admin_pw in [s.service_password(), "Wrong-admin-pw-77"] {
            let sec = security(&yaml(admin_pw));
            out.push_str(&format!("{sec:?}"));
            let realm = sec.realm("corp").unwrap();
            for (user, pw) in [
                ("alice", "wonderland"),
                ("alice", "Wrong-user-pw-42"),
                ("ghost", "Wrong-user-pw-42"),
            ] {
                let (r, trace) = rt.block_on(
                    realm.login_traced(Credentials::password(user, pw), Endpoint::default()),
                );
                out.push_str(&format!("{r:?} {trace} {trace:?}"));
                if let Err(e) = r {
                    out.push_str(&e.to_string());
                }
            }
        }
        let m = search_mode(s, "role-mapping-attribute: description");
        out.push_str(&format!("{m:?}"));
        let o = rt
            .block_on(m.authenticate("alice", Some(&Secret::from("wonderland"))))
            .unwrap();
        out.push_str(&format!("{o:?}"));
    });
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logs.contains("admin bind"), "logs were captured: {logs}");
    for secret in [
        "wonderland",
        "Wrong-user-pw-42",
        "Wrong-admin-pw-77",
        s.service_password(),
    ] {
        assert!(!logs.contains(secret), "logs contain {secret}:\n{logs}");
        assert!(!out.contains(secret), "outputs contain {secret}:\n{out}");
    }
}

#[tokio::test]
async fn search_scopes_contexts_and_the_name_attribute() {
    let s = Slapd::shared();
    let with = |extra: &str| {
        module(&format!(
            "url: {}\nsystem-user-dn: {}\nsystem-user-password: {}\n{extra}",
            s.url(),
            s.service_dn(),
            s.service_password()
        ))
    };
    // user-search-scope: users sit one level under ou=Users, two under the suffix.
    ok(
        &with(&format!(
            "user-context: ou=Users,{BASE}\nuser-search-scope: one-level"
        )),
        "bob",
        "builder",
    )
    .await;
    denied(
        &with(&format!(
            "user-context: {BASE}\nuser-search-scope: one-level"
        )),
        "bob",
        "builder",
    )
    .await;
    ok(
        &with(&format!("user-context: {BASE}\nuser-search-scope: subtree")),
        "bob",
        "builder",
    )
    .await;
    ok(
        &with(&format!(
            "user-context: uid=bob,ou=Users,{BASE}\nuser-search-scope: object"
        )),
        "bob",
        "builder",
    )
    .await;
    // A user-context without the user finds nobody (Hazelcast's testUserContext_notFound).
    let why = denied(
        &with(&format!("user-context: ou=Groups,{BASE}")),
        "bob",
        "builder",
    )
    .await;
    assert!(why.contains("unknown user"), "{why}");
    // user-name-attribute names the identity; a custom user-filter finds users by cn.
    let out = ok(
        &with(&format!("user-context: ou=Users,{BASE}\nuser-filter: (&(cn={{login}})(objectClass=inetOrgPerson))\nuser-name-attribute: uid")),
        "Bob Builder",
        "builder",
    )
    .await;
    assert_eq!(out.name, "bob");
    let out = ok(&with("user-name-attribute: cn"), "bob", "builder").await;
    assert_eq!(out.name, "Bob Builder");
    // role-search-scope: Writers is one level under ou=Groups, two under the suffix.
    let reverse = |ctx: &str, scope: &str| {
        with(&format!(
            "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-context: {ctx}\nrole-search-scope: {scope}"
        ))
    };
    assert_eq!(
        ok(
            &reverse(&format!("ou=Groups,{BASE}"), "one-level"),
            "bob",
            "builder"
        )
        .await
        .roles,
        vec!["Writers".to_string()]
    );
    assert!(
        ok(&reverse(BASE, "one-level"), "bob", "builder")
            .await
            .roles
            .is_empty()
    );
    assert_eq!(
        ok(&reverse(BASE, "subtree"), "bob", "builder").await.roles,
        vec!["Writers".to_string()]
    );
    assert_eq!(
        ok(
            &reverse(&format!("cn=Writers,ou=Groups,{BASE}"), "object"),
            "bob",
            "builder"
        )
        .await
        .roles,
        vec!["Writers".to_string()]
    );
}

#[tokio::test]
async fn skip_flags_leave_out_identity_roles_or_endpoint() {
    let s = Slapd::shared();
    let realm_with = |flags: &str| {
        security(&format!(
            "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {}\n          system-user-dn: {}\n          system-user-password: {}\n          role-mapping-attribute: description\n{flags}",
            s.url(),
            s.service_dn(),
            s.service_password()
        ))
    };
    let peer = Endpoint::from_addr("127.0.0.1:5701".parse().unwrap());
    let login = |sec: Security| {
        let peer = peer.clone();
        async move {
            sec.realm("corp")
                .unwrap()
                .login(Credentials::password("bob", "builder"), peer)
                .await
        }
    };
    let all = login(realm_with("")).await.unwrap();
    assert_eq!(all.identity(), Some("bob"));
    assert!(all.has_role("monitor"));
    assert_eq!(all.endpoint(), Some("127.0.0.1"));
    let no_role = login(realm_with("          skip-role: true\n"))
        .await
        .unwrap();
    assert!(!no_role.has_role("monitor") && no_role.identity() == Some("bob"));
    let no_endpoint = login(realm_with("          skip-endpoint: true\n"))
        .await
        .unwrap();
    assert_eq!(no_endpoint.endpoint(), None);
    // Without an identity the realm fails closed (a chain must name someone).
    assert!(
        login(realm_with("          skip-identity: true\n"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn hazelcast_jaas_ldap_modules_work_with_their_own_option_names() {
    let s = Slapd::shared();
    let sec = security(&format!(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        jaas:\n          - class-name: com.hazelcast.security.loginimpl.LdapLoginModule\n            usage: REQUIRED\n            properties:\n              java.naming.provider.url: {}\n              java.naming.security.principal: {}\n              java.naming.security.credentials: {}\n              com.sun.jndi.ldap.read.timeout: \"2000\"\n              java.naming.referral: ignore\n              roleMappingMode: reverse\n              roleMappingAttribute: member\n              roleNameAttribute: cn\n              roleRecursionMaxDepth: \"2\"\n",
        s.url(),
        s.service_dn(),
        s.service_password()
    ));
    let subject = sec
        .realm("corp")
        .unwrap()
        .login(
            Credentials::password("alice", "wonderland"),
            Endpoint::default(),
        )
        .await
        .unwrap();
    assert!(subject.has_role("Readers") && subject.has_role("Staff"));
    assert!(
        sec.warnings()
            .iter()
            .any(|w| w.contains("java.naming.referral")),
        "{:?}",
        sec.warnings()
    );
    // A bad option is a start-up error that names it.
    let loaded = load_str(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        jaas:\n          - class-name: realm.ldap.LdapLoginModule\n            properties:\n              url: ldap://127.0.0.1:1\n              roleMappingMode: sideways\n",
        Syntax::Yaml,
        "s.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ldap::register(&mut r);
    let err = Security::from_config(&loaded.config, &r)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("role-mapping-mode") && err.contains("sideways"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_user_costs_a_bind_like_a_wrong_password() {
    let s = Slapd::shared();
    let m = search_mode(s, "");
    ok(&m, "alice", "wonderland").await;
    let wrong = m.authenticate("alice", Some(&Secret::from("nope"))).await;
    let unknown = m
        .authenticate("no-such-user", Some(&Secret::from("nope")))
        .await;
    assert!(matches!(wrong, Err(LoginError::Denied(_))));
    assert!(matches!(unknown, Err(LoginError::Denied(_))));
    // Same requests on the wire: search + bind (both refused), so timing does not tell them apart.
    let (admin, binds) = m.connections_opened();
    assert_eq!(
        (admin, binds),
        (1, 1),
        "the dummy bind reused the bind pool"
    );
}

#[test]
fn the_system_trust_store_honours_ssl_cert_file() {
    let s = Slapd::shared();
    let dir = crate::temp_dir("ldap", "ssl-cert-file");
    std::fs::write(
        dir.join("realm.yaml"),
        format!(
            "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n          url: {}\n          system-user-dn: {}\n          system-user-password: {}\n          role-mapping-attribute: description\n",
            s.ldaps_url(),
            s.service_dn(),
            s.service_password()
        ),
    )
    .unwrap();
    let login = |cert_file: Option<&std::path::Path>| {
        let mut c = crate::realm_command(
            &dir,
            &[
                "login",
                "--config",
                "realm.yaml",
                "--realm",
                "corp",
                "--username",
                "alice",
                "--password-stdin",
            ],
        );
        c.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
        if let Some(f) = cert_file {
            c.env("SSL_CERT_FILE", f);
        }
        crate::run(c, "wonderland\n")
    };
    let out = login(Some(s.ca_file()));
    assert_eq!(out.status.code(), Some(0), "{}", crate::text(&out.stderr));
    // Another CA: the harness's certificate is not trusted, the directory is unavailable.
    let other = realm_testkit::tls::Pki::generate(&dir.join("other-ca"), &["127.0.0.1"]);
    let out = login(Some(&other.ca_cert));
    assert_eq!(out.status.code(), Some(3), "{}", crate::text(&out.stderr));
}

#[test]
fn java_only_and_not_yet_supported_options_say_so() {
    let w = warnings(
        "url: ldaps://ldap.example.com\nsocket-factory-class-name: security.ldap.CustomSSLSocketFactory\nrole-mapping-attribute: memberOf",
    );
    assert!(
        w.iter()
            .any(|w| w.contains("socket factory") && w.contains("ignored")),
        "{w:?}"
    );
    // A Kerberos (GSSAPI) admin bind cannot be built without the whole configuration (its
    // credentials come from security-realm): a clear message at start-up, not at login. The
    // working bind is tested against slapd and the KDC in tests/kerberos.
    let text = "security:\n  realms:\n    - name: krb\n      authentication:\n        kerberos:\n          principal: HTTP/host@EXAMPLE.COM\n          keytab-file: /nonexistent.keytab\n    - name: corp\n      authentication:\n        ldap:\n          url: ldaps://ldap.example.com\n          system-authentication: GSSAPI\n          security-realm: krb\n          role-mapping-attribute: memberOf\n";
    let loaded = load_str(
        text,
        Syntax::Yaml,
        "s.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let Some(AuthenticationConfig::Ldap(c)) = &loaded.config.realm("corp").unwrap().authentication
    else {
        panic!("not ldap")
    };
    let err = LdapLoginModule::new("corp", c, &mut Vec::new()).unwrap_err();
    assert!(
        err.contains("GSSAPI")
            && (err.contains("LdapLoginModule::with_security") || err.contains("`gssapi` feature")),
        "{err}"
    );
}
