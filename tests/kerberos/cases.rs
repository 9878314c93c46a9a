//! The cases, run in the child process (the realm's environment is set): each is an async
//! function that panics on failure and returns what a user would read (the error message), which
//! the runner prints under the case's line.

use crate::fixture::{
    ALICE, CLIENT1, MEMBER, OTHER_SERVICE, Realm, SERVICE, SHORT_LIFE_SECS, SHORT_SERVICE,
    STALE_SERVICE,
};
use realm_core::config::{KerberosKeys, LoadOptions, Syntax, load_str};
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Security};
use realm_kerberos::CtxFlags;
use realm_kerberos::acceptor::{AcceptErrorKind, Acceptor};
use realm_kerberos::initiator::Initiator;
use realm_testkit::kdc::{CLOCKSKEW_SECS, DOWN_REALM, REALM};
use realm_testkit::slapd::{Slapd, SlapdKerberos, SlapdOptions};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

type CaseFn = fn() -> Pin<Box<dyn Future<Output = String> + Send>>;

static REALM_DIR: OnceLock<PathBuf> = OnceLock::new();
static SLAPD: OnceLock<Slapd> = OnceLock::new();

fn realm() -> Realm {
    Realm {
        dir: REALM_DIR.get().expect("the realm directory").clone(),
    }
}

/// The slapd of the role cases, accepting SASL GSSAPI binds with `ldap/127.0.0.1`; the service
/// principal [`SERVICE`] is mapped to the directory's service account.
fn slapd() -> &'static Slapd {
    SLAPD.get_or_init(|| {
        let escaped = SERVICE.replace('.', "[.]");
        let service_dn = realm_testkit::slapd::SERVICE_DN;
        Slapd::start_with(SlapdOptions {
            tls: false,
            kerberos: Some(SlapdKerberos {
                keytab: realm().keytab("ldap.keytab"),
                env: Vec::new(),
                authz: vec![(
                    format!("^uid={escaped}(,cn=realm[.]test)?,cn=gssapi,cn=auth$"),
                    service_dn.to_string(),
                )],
            }),
        })
    })
}

fn registry() -> Registry {
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_kerberos::register(&mut r);
    realm_membership::register(&mut r);
    r
}

/// Builds the realms of a YAML configuration; `{dir}` stands for the realm's directory.
fn security(yaml: &str) -> Security {
    let text = yaml.replace("{dir}", &realm().dir.display().to_string());
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        "kerberos.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    Security::from_config(&loaded.config, &registry()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn keys(principal: &str, keytab: &str) -> KerberosKeys {
    KerberosKeys {
        principal: Some(Realm::principal(principal)),
        keytab: Some(realm().keytab(keytab)),
        ticket_cache: None,
    }
}

fn initiator(principal: &str, keytab: &str) -> Initiator {
    Initiator::new(keys(principal, keytab), &mut Vec::new()).unwrap()
}

fn acceptor(principal: &str, keytab: &str, relax: bool) -> Acceptor {
    Acceptor::new(&keys(principal, keytab), relax, &mut Vec::new()).unwrap()
}

/// A token from `client` (its keytab `<client>.keytab`) for `spn`, made off the executor.
async fn token(client: &'static str, spn: &str, flags: CtxFlags) -> Vec<u8> {
    let spn = spn.to_string();
    tokio::task::spawn_blocking(move || {
        initiator(client, &format!("{client}.keytab"))
            .token_for(&spn, flags)
            .unwrap_or_else(|e| panic!("no token for {spn}: {e}"))
    })
    .await
    .unwrap()
}

async fn accept(
    a: &Arc<Acceptor>,
    t: Vec<u8>,
) -> Result<realm_kerberos::acceptor::Accepted, realm_kerberos::acceptor::AcceptError> {
    let a = a.clone();
    tokio::task::spawn_blocking(move || a.accept(&t))
        .await
        .unwrap()
}

fn peer() -> Endpoint {
    Endpoint::from_addr("127.0.0.1:5701".parse().unwrap())
}

fn service_yaml(extra: &str) -> String {
    format!(
        "security:\n  realms:\n    - name: krb\n      authentication:\n        kerberos:\n          principal: {SERVICE}@{REALM}\n          keytab-file: {{dir}}/service.keytab\n{}",
        indent(extra, 10)
    )
}

fn indent(text: &str, n: usize) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

fn roles(s: &realm_core::Subject) -> Vec<String> {
    let mut r: Vec<String> = s.roles().map(str::to_string).collect();
    r.sort();
    r
}

// ---------------------------------------------------------------------------------------------

/// The documents' simplified form: a token from `member` is accepted; the identity is the
/// client principal and no role is added.
async fn good_login() -> String {
    let sec = security(&service_yaml(""));
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let (res, trace) = sec
        .realm("krb")
        .unwrap()
        .login_traced(Credentials::token(t), peer())
        .await;
    let subject = res.unwrap_or_else(|e| panic!("{e}\n{trace}"));
    assert_eq!(
        subject.identity(),
        Some(format!("{MEMBER}@{REALM}").as_str())
    );
    assert!(roles(&subject).is_empty(), "{:?}", roles(&subject));
    // On a current-thread runtime the token is checked on the blocking pool instead of in place.
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let on_current = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(
            sec.realm("krb")
                .unwrap()
                .login(Credentials::token(t), peer()),
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(on_current.identity(), subject.identity());
    format!(
        "identity {:?}, no roles; trace: {}",
        subject.identity(),
        trace.to_string().trim()
    )
}

/// Neither `principal` nor `keytab-file`: the acceptor uses the process's default keytab
/// (`KRB5_KTNAME`) and any key in it.
async fn default_keytab() -> String {
    let sec = security(
        "security:\n  realms:\n    - name: krb\n      authentication:\n        kerberos:\n          use-name-without-realm: true\n",
    );
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let s = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::token(t), peer())
        .await
        .unwrap();
    assert_eq!(s.identity(), Some(MEMBER));
    // A token for a service the default keytab has no key for is refused.
    let t = token(MEMBER, OTHER_SERVICE, CtxFlags::empty()).await;
    let r = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::token(t), peer())
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    String::new()
}

/// Password credentials are not for the kerberos module: the login is denied, not an error.
async fn password_credentials_are_denied() -> String {
    let sec = security(&service_yaml(""));
    let r = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::password(MEMBER, "pw"), peer())
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    String::new()
}

/// `use-name-without-realm` cuts `@REALM.TEST`.
async fn name_without_realm() -> String {
    let sec = security(&service_yaml("use-name-without-realm: true"));
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let s = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::token(t), peer())
        .await
        .unwrap();
    assert_eq!(s.identity(), Some(MEMBER));
    String::new()
}

/// A token for another service is refused with the SPN it was for.
async fn wrong_service() -> String {
    let a = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let t = token(MEMBER, OTHER_SERVICE, CtxFlags::empty()).await;
    let e = accept(&a, t).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::WrongService, "{e}");
    assert!(
        e.message.contains(&format!("{OTHER_SERVICE}@{REALM}")),
        "{e}"
    );
    e.message
}

/// A keytab exported before the last key change: the ticket's kvno is not in it.
async fn wrong_kvno() -> String {
    let a = Arc::new(acceptor(STALE_SERVICE, "stale.keytab", false));
    let t = token(MEMBER, STALE_SERVICE, CtxFlags::empty()).await;
    let e = accept(&a, t.clone()).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::WrongKvno, "{e}");
    assert!(e.message.contains("key version"), "{e}");
    // The current keytab accepts the same ticket (a fresh token of it).
    let current = Arc::new(acceptor(STALE_SERVICE, "stale-current.keytab", false));
    let t = token(MEMBER, STALE_SERVICE, CtxFlags::empty()).await;
    accept(&current, t).await.unwrap();
    e.message
}

/// A keytab replaced on disk (key rotation) is used by the next token, without rebuilding the
/// realm: MIT reads the keytab file at each accept.
async fn keytab_rotation_without_restart() -> String {
    let path = realm().dir.join("rotating.keytab");
    let install = |from: &str| {
        // As an operator would: write aside, then rename over (atomic).
        let tmp = realm().dir.join("rotating.keytab.new");
        std::fs::copy(realm().keytab(from), &tmp).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    };
    install("stale-current.keytab");
    let a = Arc::new(
        Acceptor::new(
            &KerberosKeys {
                principal: Some(Realm::principal(STALE_SERVICE)),
                keytab: Some(path.clone()),
                ticket_cache: None,
            },
            false,
            &mut Vec::new(),
        )
        .unwrap(),
    );
    let fresh = || token(MEMBER, STALE_SERVICE, CtxFlags::empty());
    accept(&a, fresh().await).await.unwrap();
    // An old keytab put back: refused, and the message describes the file as it is now.
    install("stale.keytab");
    let e = accept(&a, fresh().await).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::WrongKvno, "{e}");
    assert!(e.message.contains("the keytab holds kvno 2"), "{e}");
    // The current keytab again: accepted, with the same realm (no restart).
    install("stale-current.keytab");
    let ok = accept(&a, fresh().await)
        .await
        .unwrap_or_else(|e| panic!("after rotation: {e}"));
    format!(
        "old keytab: {e}\ncurrent keytab again: accepted {}",
        ok.principal
    )
}

/// The same token twice: the second time is a replay.
async fn replay() -> String {
    let a = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    accept(&a, t.clone()).await.unwrap();
    let e = accept(&a, t.clone()).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::Replay, "{e}");
    // Another acceptor of the same process shares the replay cache.
    let b = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let e2 = accept(&b, t).await.unwrap_err();
    assert_eq!(e2.kind, AcceptErrorKind::Replay, "{e2}");
    e.message
}

/// A ticket past its end time (the service's tickets live SHORT_LIFE_SECS).
async fn expired_ticket() -> String {
    let a = Arc::new(acceptor(SHORT_SERVICE, "service.keytab", false));
    let t = token(MEMBER, SHORT_SERVICE, CtxFlags::empty()).await;
    tokio::time::sleep(Duration::from_secs(SHORT_LIFE_SECS + CLOCKSKEW_SECS + 1)).await;
    let e = accept(&a, t).await.unwrap_err();
    assert!(
        matches!(
            e.kind,
            AcceptErrorKind::Expired | AcceptErrorKind::ClockSkew
        ),
        "{:?}: {e}",
        e.kind
    );
    format!("{:?}: {}", e.kind, e.message)
}

/// A token whose authenticator is older than the allowed clock skew (the ticket is still
/// valid): what a server whose clock is behind sees.
async fn clock_skew() -> String {
    let a = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    tokio::time::sleep(Duration::from_secs(CLOCKSKEW_SECS + 2)).await;
    let e = accept(&a, t).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::ClockSkew, "{e}");
    assert!(e.message.contains("clock skew"), "{e}");
    e.message
}

/// Mutual authentication and confidentiality are refused without relax-flags-check (with the
/// option named in the message), accepted with it; Realm's own tokens carry no such flag.
async fn flags_check() -> String {
    let strict = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let relaxed = Arc::new(acceptor(SERVICE, "service.keytab", true));
    let plain = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let ok = accept(&strict, plain).await.unwrap();
    assert!(
        !ok.flags.contains(CtxFlags::GSS_C_CONF_FLAG),
        "{:?}",
        ok.flags
    );
    let mut out = Vec::new();
    for (flag, word) in [
        (CtxFlags::GSS_C_MUTUAL_FLAG, "mutual authentication"),
        (CtxFlags::GSS_C_CONF_FLAG, "confidentiality"),
        (CtxFlags::GSS_C_INTEG_FLAG, "integrity"),
    ] {
        let e = accept(&strict, token(MEMBER, SERVICE, flag).await)
            .await
            .unwrap_err();
        assert_eq!(e.kind, AcceptErrorKind::Flags, "{e}");
        assert!(
            e.message.contains(word) && e.message.contains("relax-flags-check"),
            "{e}"
        );
        accept(&relaxed, token(MEMBER, SERVICE, flag).await)
            .await
            .unwrap_or_else(|e| panic!("relaxed, {word}: {e}"));
        out.push(e.message);
    }
    out.join("\n")
}

/// A plain MIT initiator (a credential without `GSS_KRB5_CRED_NO_CI_FLAGS_X`, no flags asked)
/// claims confidentiality and integrity anyway: the strict acceptor refuses its token, the
/// relaxed one accepts it. This is why Realm's initiator sets that option.
async fn plain_mit_initiator_needs_relax() -> String {
    use libgssapi::context::ClientCtx;
    use libgssapi::name::Name;
    use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL};
    let make = || {
        tokio::task::spawn_blocking(|| {
            let kt = realm().keytab("member.keytab").display().to_string();
            let cache = format!("MEMORY:plain-{}", std::process::id());
            let cred = realm_kerberos_sys::acquire_cred_from(
                Some(&Realm::principal(MEMBER)),
                realm_kerberos_sys::Usage::Initiate,
                &[("client_keytab", &kt), ("ccache", &cache)],
            )
            .unwrap();
            let name = Name::new(SERVICE.as_bytes(), Some(&GSS_NT_KRB5_PRINCIPAL)).unwrap();
            let mut ctx = ClientCtx::new(Some(cred), name, CtxFlags::empty(), Some(&GSS_MECH_KRB5));
            ctx.step(None, None).unwrap().unwrap().to_vec()
        })
    };
    let strict = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let relaxed = Arc::new(acceptor(SERVICE, "service.keytab", true));
    let e = accept(&strict, make().await.unwrap()).await.unwrap_err();
    assert_eq!(e.kind, AcceptErrorKind::Flags, "{e}");
    assert!(
        e.message.contains("confidentiality") && e.message.contains("integrity"),
        "{e}"
    );
    accept(&relaxed, make().await.unwrap()).await.unwrap();
    e.message
}

/// The identity side builds the SPN as the documents say, and the acceptor accepts the token.
async fn spn_building() -> String {
    let sec = security(&format!(
        "security:\n  realms:\n    - name: default-prefix\n      identity:\n        kerberos:\n          realm: {REALM}\n          principal: {MEMBER}@{REALM}\n          keytab-file: {{dir}}/member.keytab\n    - name: prefix\n      identity:\n        kerberos:\n          service-name-prefix: stale/\n          principal: {MEMBER}@{REALM}\n          keytab-file: {{dir}}/member.keytab\n    - name: static\n      identity:\n        kerberos:\n          spn: {OTHER_SERVICE}\n          realm: {REALM}\n          principal: {MEMBER}@{REALM}\n          keytab-file: {{dir}}/member.keytab\n    - name: canonical\n      identity:\n        kerberos:\n          use-canonical-hostname: true\n          principal: {MEMBER}@{REALM}\n          keytab-file: {{dir}}/member.keytab\n"
    ));
    let spn_of = |c: Credentials| match c {
        Credentials::Token { token } => realm_kerberos::token::inspect(token.expose()).unwrap().spn,
        other => panic!("not a token: {other:?}"),
    };
    let mut out = Vec::new();
    for (realm_name, want) in [
        ("default-prefix", format!("hz/127.0.0.1@{REALM}")),
        ("prefix", format!("stale/127.0.0.1@{REALM}")),
        ("static", format!("{OTHER_SERVICE}@{REALM}")),
    ] {
        let c = sec
            .realm(realm_name)
            .unwrap()
            .credentials_for(&peer())
            .await
            .unwrap();
        assert_eq!(spn_of(c), want, "{realm_name}");
        out.push(format!("{realm_name}: {want}"));
    }
    // 127.0.0.1's canonical name (from /etc/hosts) has no principal in the realm: a denial
    // that names the SPN, not an outage.
    let name = realm_kerberos_sys::canonical_host_name("127.0.0.1".parse().unwrap());
    let r = sec
        .realm("canonical")
        .unwrap()
        .credentials_for(&peer())
        .await;
    match (&name, &r) {
        (Some(n), Err(LoginFailure::Denied)) => {
            out.push(format!("canonical: hz/{n} (unknown to the KDC: denied)"))
        }
        (None, Err(LoginFailure::Denied)) => out.push("canonical: no reverse name: denied".into()),
        other => panic!("use-canonical-hostname: {other:?}"),
    }
    out.join("\n")
}

/// Hazelcast's full form: both sides reference realms holding a Krb5LoginModule; the client's
/// credentials log in to the server's realm end to end.
async fn security_realm_end_to_end() -> String {
    let sec = security(&format!(
        "security:
  realms:
    - name: kerberosRealm
      authentication:
        kerberos:
          security-realm: krb5Acceptor
    - name: krb5Acceptor
      authentication:
        jaas:
          - class-name: com.sun.security.auth.module.Krb5LoginModule
            usage: REQUIRED
            properties:
              isInitiator: false
              useKeyTab: true
              storeKey: true
              doNotPrompt: true
              keyTab: {{dir}}/service.keytab
              principal: {SERVICE}@{REALM}
    - name: clientRealm
      identity:
        kerberos:
          realm: {REALM}
          security-realm: krb5Initiator
    - name: krb5Initiator
      authentication:
        jaas:
          - class-name: com.sun.security.auth.module.Krb5LoginModule
            usage: REQUIRED
            properties:
              useKeyTab: true
              keyTab: {{dir}}/member.keytab
              principal: {MEMBER}@{REALM}
              doNotPrompt: true
"
    ));
    let c = sec
        .realm("clientRealm")
        .unwrap()
        .credentials_for(&peer())
        .await
        .unwrap();
    let s = sec
        .realm("kerberosRealm")
        .unwrap()
        .login(c, peer())
        .await
        .unwrap();
    assert_eq!(s.identity(), Some(format!("{MEMBER}@{REALM}").as_str()));
    // The credential holder itself authenticates nobody.
    let r = sec
        .realm("krb5Acceptor")
        .unwrap()
        .login(Credentials::password("x", "y"), peer())
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    String::new()
}

/// Conflicting identity options are configuration errors that say what to do.
async fn conflicting_options() -> String {
    let error_of = |kerberos: &str| {
        let text = format!(
            "security:\n  realms:\n    - name: keys\n      authentication:\n        jaas:\n          - class-name: com.sun.security.auth.module.Krb5LoginModule\n            properties:\n              keyTab: {{dir}}/member.keytab\n              principal: {MEMBER}@{REALM}\n    - name: c\n      identity:\n        kerberos:\n{}",
            indent(kerberos, 10)
        )
        .replace("{dir}", &realm().dir.display().to_string());
        match load_str(
            &text,
            Syntax::Yaml,
            "c.yaml".as_ref(),
            &LoadOptions::default(),
        ) {
            Err(e) => e.to_string(),
            Ok(l) => Security::from_config(&l.config, &registry())
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        }
    };
    let spn = error_of(&format!(
        "spn: {SERVICE}\nservice-name-prefix: hz/\nprincipal: {MEMBER}@{REALM}\nkeytab-file: member.keytab"
    ));
    assert!(
        spn.contains("c.yaml:") && spn.contains("spn") && spn.contains("service-name-prefix"),
        "{spn:?}"
    );
    let sr = error_of(&format!(
        "security-realm: keys\nprincipal: {MEMBER}@{REALM}"
    ));
    assert!(
        sr.contains("c.yaml:") && sr.contains("security-realm") && sr.contains("principal"),
        "{sr:?}"
    );
    format!("{spn}\n{sr}")
}

/// Roles from the test slapd through the nested `ldap` (simple admin bind): alice's
/// `description` values.
async fn roles_from_ldap() -> String {
    let s = slapd();
    let sec = security(&service_yaml(&format!(
        "use-name-without-realm: true
ldap:
  url: {}
  system-user-dn: {}
  system-user-password: {}
  user-context: ou=Users,dc=realm,dc=test
  user-filter: (uid={{login}})
  role-mapping-attribute: description",
        s.url(),
        s.service_dn(),
        s.service_password()
    )));
    let t = token(ALICE, SERVICE, CtxFlags::empty()).await;
    let (r, trace) = sec
        .realm("krb")
        .unwrap()
        .login_traced(Credentials::token(t), peer())
        .await;
    let subject = r.unwrap_or_else(|e| panic!("{e}\n{trace}"));
    assert_eq!(subject.identity(), Some(ALICE));
    assert_eq!(roles(&subject), ["admin", "monitor"]);
    // A principal without an entry is denied.
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let r = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::token(t), peer())
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    format!("alice: roles {:?}", roles(&subject))
}

/// The nested `ldap` binds with SASL GSSAPI as the service principal (`system-authentication:
/// GSSAPI` + `security-realm`); roles by reverse group search with recursion.
async fn roles_over_gssapi_admin_bind() -> String {
    let s = slapd();
    let yaml = format!(
        "security:
  realms:
    - name: krb5Acceptor
      authentication:
        jaas:
          - class-name: com.sun.security.auth.module.Krb5LoginModule
            usage: REQUIRED
            properties:
              isInitiator: false
              useKeyTab: true
              keyTab: {{dir}}/service.keytab
              principal: {SERVICE}@{REALM}
    - name: krb
      authentication:
        kerberos:
          security-realm: krb5Acceptor
          use-name-without-realm: true
          ldap:
            url: {}
            system-authentication: GSSAPI
            security-realm: krb5Acceptor
            user-context: ou=Users,dc=realm,dc=test
            user-filter: (uid={{login}})
            role-mapping-mode: reverse
            role-mapping-attribute: member
            role-context: ou=Groups,dc=realm,dc=test
            role-name-attribute: cn
            role-recursion-max-depth: 3
",
        s.url()
    );
    let sec = security(&yaml);
    let t = token(ALICE, SERVICE, CtxFlags::empty()).await;
    let (r, trace) = sec
        .realm("krb")
        .unwrap()
        .login_traced(Credentials::token(t), peer())
        .await;
    let subject = r.unwrap_or_else(|e| panic!("{e}\n{trace}\n{}", s.log()));
    assert_eq!(subject.identity(), Some(ALICE));
    let got = roles(&subject);
    assert!(
        got.contains(&"Readers".to_string()) && got.contains(&"Staff".to_string()),
        "{got:?}"
    );
    // Whom the admin connection is bound as: the service account the principal maps to.
    let text = yaml.replace("{dir}", &realm().dir.display().to_string());
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        "k.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let Some(realm_core::config::AuthenticationConfig::Kerberos(k)) =
        &loaded.config.realm("krb").unwrap().authentication
    else {
        panic!("not kerberos")
    };
    let mut ldap = (**k.ldap.as_ref().unwrap()).clone();
    ldap.skip_authentication = true;
    let m =
        realm_ldap::LdapLoginModule::with_security("krb", &ldap, &loaded.config, &mut Vec::new())
            .unwrap();
    let who = m.admin_identity().await.unwrap().unwrap();
    assert!(
        who.eq_ignore_ascii_case(&format!("dn:{}", s.service_dn())),
        "{who}"
    );
    format!("roles {got:?}; admin bound as {who}")
}

/// A GSSAPI admin bind whose principal the directory does not know is reported unavailable.
async fn gssapi_admin_bind_refused() -> String {
    let s = slapd();
    // The directory has no key for ldap/127.0.0.2: the service ticket cannot be made.
    let url = s.url().replace("127.0.0.1", "127.0.0.2");
    let sec = security(&format!(
        "security:
  realms:
    - name: keys
      authentication:
        jaas:
          - class-name: com.sun.security.auth.module.Krb5LoginModule
            properties:
              keyTab: {{dir}}/service.keytab
              principal: {SERVICE}@{REALM}
    - name: krb
      authentication:
        kerberos:
          security-realm: keys
          ldap:
            url: {url}
            system-authentication: GSSAPI
            security-realm: keys
            user-filter: (uid={{login}})
            user-context: ou=Users,dc=realm,dc=test
            role-mapping-attribute: description
"
    ));
    let t = token(ALICE, SERVICE, CtxFlags::empty()).await;
    let r = sec
        .realm("krb")
        .unwrap()
        .login(Credentials::token(t), peer())
        .await;
    match r {
        Err(LoginFailure::Unavailable(why)) => {
            assert!(why.contains("GSSAPI"), "{why}");
            why
        }
        other => panic!("{other:?}"),
    }
}

/// The KDC of the client's realm cannot be reached: the identity side is unavailable, quickly.
async fn kdc_down() -> String {
    let sec = security(&format!(
        "security:\n  realms:\n    - name: c\n      identity:\n        kerberos:\n          realm: {DOWN_REALM}\n          principal: {MEMBER}@{DOWN_REALM}\n          keytab-file: {{dir}}/down.keytab\n"
    ));
    let started = Instant::now();
    let r = sec.realm("c").unwrap().credentials_for(&peer()).await;
    let took = started.elapsed();
    match r {
        Err(LoginFailure::Unavailable(why)) => {
            assert!(why.contains("KDC"), "{why}");
            format!("{why} (after {} ms)", took.as_millis())
        }
        other => panic!("{other:?}"),
    }
}

/// Joining a cluster with a Kerberos ticket (JGroups' Krb5Token): REQUIRED fixed membership +
/// REQUIRED Kerberos acceptor for the cluster's SPN; the joining member's ticket is accepted
/// once, a replayed one is refused, and a listed address does not help a stranger's ticket.
async fn membership_kerberos_token() -> String {
    let sec = security(&format!(
        "security:
  realms:
    - name: join
      authentication:
        jaas:
          - class-name: org.jgroups.auth.FixedMembershipToken
            usage: REQUIRED
            properties:
              fixed_members_value: 127.0.0.1
          - class-name: com.hazelcast.security.loginimpl.GssApiLoginModule
            usage: REQUIRED
            properties:
              principal: {SERVICE}@{REALM}
              keytab-file: {{dir}}/service.keytab
"
    ));
    let join = sec.realm("join").unwrap();
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let s = join
        .login(Credentials::token(t.clone()), peer())
        .await
        .unwrap();
    assert_eq!(s.identity(), Some(format!("{MEMBER}@{REALM}").as_str()));
    let (r, trace) = join.login_traced(Credentials::token(t), peer()).await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    assert!(trace.to_string().contains("replay"), "{trace}");
    // A ticket for another service (not the cluster's SPN) from a listed address.
    let t = token(MEMBER, OTHER_SERVICE, CtxFlags::empty()).await;
    let r = join.login(Credentials::token(t), peer()).await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    // The right ticket from an address not on the list.
    let t = token(MEMBER, SERVICE, CtxFlags::empty()).await;
    let r = join
        .login(
            Credentials::token(t),
            Endpoint::from_addr("127.0.0.9:5701".parse().unwrap()),
        )
        .await;
    assert!(matches!(r, Err(LoginFailure::Denied)), "{r:?}");
    String::new()
}

/// Garbage is refused as malformed, never a panic.
async fn malformed_tokens() -> String {
    let a = Arc::new(acceptor(SERVICE, "service.keytab", false));
    let mut out = Vec::new();
    for t in [
        Vec::new(),
        vec![0x60],
        b"not a token".to_vec(),
        vec![0x60, 0x82, 0xff, 0xff, 0x06],
    ] {
        let e = accept(&a, t).await.unwrap_err();
        assert_eq!(e.kind, AcceptErrorKind::Malformed, "{e}");
        out.push(e.message);
    }
    out.dedup();
    out.join("\n")
}

/// `examples/kerberos` as its README runs it: the server's and the client's configurations as
/// they are in the repository, next to keytabs for `hz/127.0.0.1` and `client1`; the server
/// accepts the client's ticket, and the same request sent again is a replay, denied.
async fn example_server_and_client() -> String {
    use realm_examples::{Response, authenticate, identity_request, serve, setup};
    let dir = realm().dir.join("example");
    std::fs::create_dir_all(&dir).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/kerberos");
    for f in ["server.yaml", "client.yaml"] {
        std::fs::copy(repo.join(f), dir.join(f)).unwrap();
    }
    std::fs::copy(realm().keytab("service.keytab"), dir.join("hz.keytab")).unwrap();
    std::fs::copy(realm().keytab("client1.keytab"), dir.join("client1.keytab")).unwrap();
    let s = setup(&dir.join("server.yaml"), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, s.service));
    let request = identity_request(&dir.join("client.yaml"), None, addr)
        .await
        .unwrap();
    let first = authenticate(addr, &request).await.unwrap();
    assert_eq!(
        first,
        Response::Accepted {
            identity: Some(format!("{CLIENT1}@{REALM}")),
            roles: Vec::new(),
            endpoint: Some("127.0.0.1".into()),
        }
    );
    let again = authenticate(addr, &request).await.unwrap();
    assert_eq!(again, Response::Denied);
    format!("{}\nreplayed: {}", first.to_json(), again.to_json())
}

const CASES: &[(&str, CaseFn)] = &[
    ("example_server_and_client", || {
        Box::pin(example_server_and_client())
    }),
    ("good_login", || Box::pin(good_login())),
    ("default_keytab", || Box::pin(default_keytab())),
    ("password_credentials_are_denied", || {
        Box::pin(password_credentials_are_denied())
    }),
    ("name_without_realm", || Box::pin(name_without_realm())),
    ("wrong_service", || Box::pin(wrong_service())),
    ("wrong_kvno", || Box::pin(wrong_kvno())),
    ("replay", || Box::pin(replay())),
    ("keytab_rotation_without_restart", || {
        Box::pin(keytab_rotation_without_restart())
    }),
    ("expired_ticket", || Box::pin(expired_ticket())),
    ("clock_skew", || Box::pin(clock_skew())),
    ("flags_check", || Box::pin(flags_check())),
    ("plain_mit_initiator_needs_relax", || {
        Box::pin(plain_mit_initiator_needs_relax())
    }),
    ("spn_building", || Box::pin(spn_building())),
    ("security_realm_end_to_end", || {
        Box::pin(security_realm_end_to_end())
    }),
    ("conflicting_options", || Box::pin(conflicting_options())),
    ("roles_from_ldap", || Box::pin(roles_from_ldap())),
    ("roles_over_gssapi_admin_bind", || {
        Box::pin(roles_over_gssapi_admin_bind())
    }),
    ("gssapi_admin_bind_refused", || {
        Box::pin(gssapi_admin_bind_refused())
    }),
    ("kdc_down", || Box::pin(kdc_down())),
    ("malformed_tokens", || Box::pin(malformed_tokens())),
    ("membership_kerberos_token", || {
        Box::pin(membership_kerberos_token())
    }),
];

/// Runs the cases whose names contain one of `filters` (all without filters), concurrently.
pub fn run(dir: PathBuf, filters: &[String]) -> ExitCode {
    REALM_DIR.set(dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let chosen: Vec<_> = CASES
        .iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())))
        .collect();
    println!("\nrunning {} kerberos tests", chosen.len());
    let started = Instant::now();
    let results = rt.block_on(async {
        let handles: Vec<_> = chosen
            .iter()
            .map(|(name, case)| (*name, tokio::spawn(case())))
            .collect();
        let mut results = Vec::new();
        for (name, h) in handles {
            results.push((name, h.await));
        }
        results
    });
    let mut failed = Vec::new();
    for (name, r) in results {
        match r {
            Ok(seen) => {
                println!("test {name} ... ok");
                for l in seen.lines() {
                    println!("    | {l}");
                }
            }
            Err(e) => {
                println!("test {name} ... FAILED");
                let why = e
                    .try_into_panic()
                    .ok()
                    .and_then(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    })
                    .unwrap_or_default();
                failed.push((name, why));
            }
        }
    }
    for (name, why) in &failed {
        println!("\n---- {name} ----\n{why}");
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
