//! The LDAP realm's Active Directory flavour against a real Samba AD domain controller started by
//! the harness (`realm-testkit`, directory in `testkit/fixtures/samba_DIRECTORY.md`).

use realm_core::config::{AuthenticationConfig, LoadOptions, Syntax, load_str};
use realm_core::module::LoginError;
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Secret, Security};
use realm_ldap::{LdapLoginModule, LdapOutcome};
use realm_testkit::samba::{REFUSED_ACCOUNTS, SambaAd};

fn yaml(ldap_yaml: &str) -> String {
    format!(
        "security:\n  realms:\n    - name: ad\n      authentication:\n        ldap:\n{}",
        ldap_yaml
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("          {l}\n"))
            .collect::<String>()
    )
}

fn load(ldap_yaml: &str) -> realm_core::config::Loaded {
    let text = yaml(ldap_yaml);
    load_str(
        &text,
        Syntax::Yaml,
        "ad.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn module(ldap_yaml: &str) -> LdapLoginModule {
    let loaded = load(ldap_yaml);
    let Some(AuthenticationConfig::Ldap(c)) = &loaded.config.realm("ad").unwrap().authentication
    else {
        panic!("not ldap")
    };
    LdapLoginModule::new("ad", c, &mut Vec::new()).unwrap()
}

fn security(ldap_yaml: &str) -> Security {
    let loaded = load(ldap_yaml);
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ldap::register(&mut r);
    Security::from_config(&loaded.config, &r).unwrap()
}

/// Search mode with the service account over plain LDAP, plus `extra`.
fn service(ad: &SambaAd, extra: &str) -> String {
    format!(
        "url: {}\ndomain: {}\nsystem-user-dn: {}\nsystem-user-password: {}\n{extra}",
        ad.url(),
        ad.domain(),
        ad.service_dn(),
        ad.service_password()
    )
}

async fn ok(m: &LdapLoginModule, login: &str, pw: &str) -> LdapOutcome {
    m.authenticate(login, Some(&Secret::from(pw)))
        .await
        .unwrap_or_else(|e| panic!("login {login:?} failed: {e:?}"))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn names(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| s.to_string()).collect())
}

const CHAIN: &[&str] = &["G1", "G2", "G3", "G4", "G5"];

#[tokio::test]
async fn upn_login_without_a_service_account() {
    let ad = SambaAd::shared();
    let m = module(&format!(
        "url: {}\ndomain: {}\nrole-mapping-attribute: memberOf\nparse-dn: true\nrole-name-attribute: cn",
        ad.url(),
        ad.domain()
    ));
    // Bound as alice@realm.test, the entry found with the AD default filter on her connection.
    let out = ok(&m, "alice", "Wonderland-1").await;
    assert_eq!(out.name, "alice", "the identity is sAMAccountName");
    assert_eq!(out.dn, ad.user_dn("alice"));
    assert_eq!(sorted(out.roles), names(&["Readers", "SRE"]));
    let out = ok(&m, "alice@realm.test", "Wonderland-1").await;
    assert_eq!(out.name, "alice");
    match m.authenticate("alice", Some(&Secret::from("wrong"))).await {
        Err(LoginError::Denied(why)) => assert!(why.contains("bad credentials (AD 52e)"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn search_mode_with_0_and_1_placeholders_from_the_domain_root() {
    let ad = SambaAd::shared();
    // The user context defaults to the domain's DN: a subtree search there returns a
    // continuation reference (to CN=Configuration), which must not fail the login.
    let m = module(&service(
        ad,
        "user-filter: (&(objectClass=user)(|(userPrincipalName={0})(sAMAccountName={1})))\nrole-mapping-attribute: memberOf\nparse-dn: true\nrole-name-attribute: cn",
    ));
    for login in ["alice", "alice@realm.test"] {
        let out = ok(&m, login, "Wonderland-1").await;
        assert_eq!(out.name, "alice");
        assert_eq!(sorted(out.roles), names(&["Readers", "SRE"]));
    }
    // A name with a comma (DN `CN=Doe\, John,…`) logs in; the bind uses the DN the server gave.
    let out = ok(&m, "jdoe", "Doe-pw-1").await;
    assert_eq!(out.dn, ad.user_dn("jdoe"));
    assert_eq!(out.roles, vec!["Readers".to_string()]);
    // Injection through {0}/{1} finds nobody.
    for login in ["*", "al*", "alice)(sAMAccountName=*"] {
        assert!(matches!(
            m.authenticate(login, Some(&Secret::from("Wonderland-1")))
                .await,
            Err(LoginError::Denied(_))
        ));
    }
    // The CVE case: with a service account, a wrong password still fails.
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("Wonderland-2")))
            .await,
        Err(LoginError::Denied(_))
    ));
}

#[tokio::test]
async fn bind_sub_errors_are_typed_in_the_trace_but_one_generic_denial_for_the_caller() {
    let ad = SambaAd::shared();
    let sec = security(&service(ad, "role-mapping-attribute: memberOf"));
    let realm = sec.realm("ad").unwrap();
    for acct in REFUSED_ACCOUNTS {
        let (r, trace) = realm
            .login_traced(
                Credentials::password(acct.sam, acct.password),
                Endpoint::default(),
            )
            .await;
        assert!(
            matches!(r, Err(LoginFailure::Denied)),
            "{}: {r:?}",
            acct.sam
        );
        let want = format!("(AD {})", acct.data);
        assert!(
            trace.to_string().contains(&want),
            "{}: want {want} in\n{trace}",
            acct.sam
        );
        // What the caller sees says nothing about the account.
        assert_eq!(r.unwrap_err().to_string(), "authentication failed");
    }
}

#[tokio::test]
async fn nested_groups_client_walk_and_in_chain_agree() {
    let ad = SambaAd::shared();
    let reverse = |depth: u32, strategy: &str| {
        module(&service(
            ad,
            &format!(
                "role-mapping-mode: reverse\nrole-mapping-attribute: member\nrole-name-attribute: cn\nrole-recursion-max-depth: {depth}\nrole-recursion-strategy: {strategy}"
            ),
        ))
    };
    assert_eq!(
        ok(&reverse(1, "client"), "carol", "Carol-pw-1").await.roles,
        vec!["G1".to_string()]
    );
    let walk = reverse(5, "client");
    ok(&walk, "carol", "Carol-pw-1").await;
    let out = ok(&walk, "carol", "Carol-pw-1").await;
    assert_eq!(sorted(out.roles.clone()), names(CHAIN));
    assert!(out.round_trips <= 5 + 2, "{out:?}");
    let chain = reverse(1, "in-chain");
    ok(&chain, "carol", "Carol-pw-1").await;
    let out = ok(&chain, "carol", "Carol-pw-1").await;
    assert_eq!(
        sorted(out.roles.clone()),
        names(CHAIN),
        "the server follows the chain, cycle included"
    );
    assert_eq!(
        out.round_trips, 3,
        "search, bind, one in-chain search: {out:?}"
    );
    // Direct mode over memberOf, walked by the client.
    let direct = module(&service(
        ad,
        "role-mapping-mode: direct\nrole-mapping-attribute: memberOf\nrole-name-attribute: cn\nrole-recursion-max-depth: 5",
    ));
    assert_eq!(
        sorted(ok(&direct, "carol", "Carol-pw-1").await.roles),
        names(CHAIN)
    );
}

#[tokio::test]
async fn groups_map_to_application_roles() {
    let ad = SambaAd::shared();
    let m = module(&service(
        ad,
        "role-mapping-attribute: memberOf\nparse-dn: true\nrole-name-attribute: cn\nrole-mappings:\n  - {role: admin, groups: ops;sre}\n  - {role: reader, groups: Readers}",
    ));
    assert_eq!(
        ok(&m, "bob", "Builder-1").await.roles,
        vec!["admin".to_string()]
    );
    assert_eq!(
        sorted(ok(&m, "alice", "Wonderland-1").await.roles),
        names(&["admin", "reader"])
    );
    assert!(ok(&m, "carol", "Carol-pw-1").await.roles.is_empty());
}

#[tokio::test]
async fn upn_logins_over_ldaps_and_start_tls() {
    let ad = SambaAd::shared();
    let ca = ad.ca_file().display().to_string();
    for (url, extra) in [(ad.ldaps_url(), ""), (ad.url(), "start-tls: true")] {
        let m = module(&format!(
            "url: {url}\ndomain: {}\ntrust-ca-file: {ca}\nrole-mapping-attribute: memberOf\nparse-dn: true\nrole-name-attribute: cn\n{extra}",
            ad.domain()
        ));
        let out = ok(&m, "alice", "Wonderland-1").await;
        assert_eq!(sorted(out.roles), names(&["Readers", "SRE"]));
        assert!(matches!(
            m.authenticate("alice", Some(&Secret::from("nope"))).await,
            Err(LoginError::Denied(_))
        ));
    }
    let log = ad.log();
    assert!(log.contains("simple bind/TLS"), "binds went over TLS");
}

#[tokio::test]
async fn a_wrong_service_password_is_unavailable() {
    let ad = SambaAd::shared();
    let m = module(&format!(
        "url: {}\ndomain: {}\nsystem-user-dn: {}\nsystem-user-password: not-it",
        ad.url(),
        ad.domain(),
        ad.service_dn()
    ));
    assert!(matches!(
        m.authenticate("alice", Some(&Secret::from("Wonderland-1"))).await,
        Err(LoginError::Unavailable(w)) if w.contains("admin bind")
    ));
}
