//! The `ini` realm end to end: every hash kind through `Security`, what is refused at build time,
//! `[roles]` permissions, the `jaas` class, and hot reload (added user, broken edit, deleted file).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test helpers may stop on a broken setup

use realm_core::config::{IniConfig, SkipFlags, Usage, load_file};
use realm_core::module::{Attempt, Authenticator};
use realm_core::registry::ChainLink;
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Secret, Security};
use realm_ini::password::{ShiroAlgorithm, shiro1_hash};
use realm_ini::{IniLoginModule, Reload};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "realm-ini-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a file and moves its modification time forward by `bump` seconds, so that a change is
/// visible whatever the file system's timestamp granularity.
fn write(path: &Path, text: &str, bump: u64) {
    std::fs::write(path, text).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(bump))
        .unwrap();
}

fn argon2id(pw: &str) -> String {
    let a = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(1024, 1, 1, None).unwrap(),
    );
    argon2::PasswordHasher::hash_password_with_salt(&a, pw.as_bytes(), b"0123456789abcdef")
        .unwrap()
        .to_string()
}

fn bcrypt(pw: &str) -> String {
    bcrypt::hash_with_salt(pw, 4, *b"0123456789abcdef")
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB)
}

fn pbkdf2(pw: &str, sha512: bool) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let salt = b"0123456789abcdef";
    let (name, out) = if sha512 {
        let mut out = vec![0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw.as_bytes(), salt, 1000, &mut out);
        ("pbkdf2-sha512", out)
    } else {
        let mut out = vec![0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.as_bytes(), salt, 1000, &mut out);
        ("pbkdf2-sha256", out)
    };
    format!(
        "${name}$i=1000,l={}${}${}",
        out.len(),
        b64.encode(salt),
        b64.encode(&out)
    )
}

fn shiro(pw: &str, alg: ShiroAlgorithm) -> String {
    shiro1_hash(&Secret::from(pw), alg, 1000, b"fedcba9876543210")
}

fn registry() -> Registry {
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ini::register(&mut r);
    r
}

/// Writes `security.yaml` next to the ini file and builds it.
fn build(dir: &TempDir, ini_options: &str) -> Result<Security, String> {
    let config = dir.path("security.yaml");
    std::fs::write(
        &config,
        format!(
            "security:\n  realms:\n    - name: file\n      authentication:\n        ini: {{path: users.ini{ini_options}}}\n  client-authentication: {{realm: file}}\n"
        ),
    )
    .unwrap();
    let loaded = load_file(&config).map_err(|e| e.to_string())?;
    Security::from_config(&loaded.config, &registry()).map_err(|e| e.to_string())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn endpoint() -> Endpoint {
    Endpoint::from_addr("10.1.2.3:5701".parse().unwrap())
}

/// Logs in through the realm: `Ok((identity, roles, endpoint))` or the failure.
fn login(
    security: &Security,
    user: &str,
    pw: &str,
) -> Result<(String, Vec<String>, Option<String>), LoginFailure> {
    let realm = security.realm("file").unwrap();
    let subject = rt().block_on(realm.login(Credentials::password(user, pw), endpoint()))?;
    Ok((
        subject.identity().unwrap_or_default().to_string(),
        subject.roles().map(str::to_string).collect(),
        subject.endpoint().map(str::to_string),
    ))
}

/// Logs in through a one-module chain around `module`: success, and the module's trace notes.
async fn login_module(module: &Arc<IniLoginModule>, user: &str, pw: &str) -> (bool, Vec<String>) {
    let chain = realm_jaas_chain::LoginChain::new(vec![ChainLink {
        name: "ini".into(),
        usage: Usage::Required,
        module: module.clone(),
    }]);
    let mut attempt = Attempt::new(Credentials::password(user, pw), Endpoint::default(), 1);
    let ok = chain.authenticate(&mut attempt).await.is_ok();
    let notes = attempt
        .trace
        .steps
        .iter()
        .flat_map(|s| s.notes.clone())
        .collect();
    (ok, notes)
}

fn ini_config(path: &Path, allow_plaintext_passwords: bool) -> IniConfig {
    IniConfig {
        skip: SkipFlags::default(),
        path: path.to_path_buf(),
        allow_plaintext_passwords,
    }
}

/// Everything logged in this test binary (tests filter by their own file's path).
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    let captured = LOGS.get_or_init(|| Mutex::new(Vec::new()));
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        struct W;
        impl Write for W {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                logs().lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| W)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    captured
}

/// The captured log lines that mention `needle`.
fn log_lines(needle: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Logins

#[test]
fn every_hash_kind_logs_in_and_wrong_or_unknown_or_empty_is_denied() {
    let dir = TempDir::new("kinds");
    let users = [
        ("argon", argon2id("argon-pw"), "admin"),
        ("bcrypt", bcrypt("bcrypt-pw"), "operator"),
        ("pbkdf256", pbkdf2("pbkdf256-pw", false), "operator"),
        ("pbkdf512", pbkdf2("pbkdf512-pw", true), "operator"),
        (
            "shiro256",
            shiro("shiro256-pw", ShiroAlgorithm::Sha256),
            "terracotta",
        ),
        (
            "shiro512",
            shiro("shiro512-pw", ShiroAlgorithm::Sha512),
            "terracotta",
        ),
    ];
    let mut text = String::from("# test users\n[users]\n");
    for (name, hash, role) in &users {
        text.push_str(&format!("{name} = {hash}, {role}, everyone\n"));
    }
    text.push_str("[roles]\nadmin = *\n[main]\nsecurityManager.realms = $iniRealm\n");
    write(&dir.path("users.ini"), &text, 0);
    let security = build(&dir, "").unwrap();
    assert!(security.warnings().is_empty(), "{:?}", security.warnings());

    for (name, _, role) in &users {
        let (identity, roles, endpoint) =
            login(&security, name, &format!("{name}-pw")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(identity, *name);
        let mut expected = vec![role.to_string(), "everyone".to_string()];
        expected.sort();
        assert_eq!(roles, expected, "{name}");
        assert_eq!(endpoint.as_deref(), Some("10.1.2.3"));
        assert_eq!(
            login(&security, name, &format!("{name}-pW")),
            Err(LoginFailure::Denied),
            "{name}: wrong password"
        );
        assert_eq!(
            login(&security, name, ""),
            Err(LoginFailure::Denied),
            "{name}: empty password"
        );
    }
    // Unknown users, names are case-sensitive, and an empty name.
    for user in ["nobody", "Argon", "ARGON", ""] {
        assert_eq!(
            login(&security, user, "argon-pw"),
            Err(LoginFailure::Denied),
            "{user}"
        );
    }
}

#[test]
fn the_trace_says_why_without_the_password() {
    let dir = TempDir::new("trace");
    write(
        &dir.path("users.ini"),
        &format!("[users]\nalice = {}, admin\n", argon2id("Secr3t!")),
        0,
    );
    let security = build(&dir, "").unwrap();
    let realm = security.realm("file").unwrap();
    for (user, pw, expect) in [
        ("alice", "Secr3t!", "verified; roles: [admin]"),
        ("alice", "wrong-Secr3t", "wrong password for user \"alice\""),
        ("bob", "Secr3t!", "unknown user \"bob\""),
        ("alice", "", "empty user name or password"),
    ] {
        let (_, trace) =
            rt().block_on(realm.login_traced(Credentials::password(user, pw), endpoint()));
        let text = trace.to_string();
        assert!(text.contains(expect), "{text}");
        assert!(pw.is_empty() || !text.contains(pw), "{text}");
    }
}

#[test]
fn shiro_fixture_hashes_log_in_without_java() {
    // Hashes written by Shiro 1.3.2 itself (see shiro/generate-fixture.sh).
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shiro-users.ini");
    let module =
        Arc::new(IniLoginModule::new(&ini_config(&fixture, false), &mut Vec::new()).unwrap());
    let rt = rt();
    for (user, pw) in [
        ("default", "default-pw"), // DefaultPasswordService as shipped: SHA-256, 500000 iterations
        ("sha512", "sha512-pw"),
        ("sha384", "sha384-pw"),
        ("sha1", "sha1-pw"),
        ("md5", "md5-pw"),
        ("unicode", "pässwörd ✓ 密码"),
        ("spaces", " lead, inner and trail spaces "),
        ("fixed", "fixed-pw"),
    ] {
        assert!(rt.block_on(login_module(&module, user, pw)).0, "{user}");
        assert!(
            !rt.block_on(login_module(&module, user, &format!("{pw}x")))
                .0,
            "{user}"
        );
    }
    assert_eq!(module.roles("sha512").unwrap(), ["operator", "terracotta"]);
    assert_eq!(
        module.permissions("operator"),
        ["cluster:read,stop", "cache:*"]
    );
    assert_eq!(module.permissions("admin"), ["*"]);
    assert!(module.permissions("terracotta").is_empty());
    assert!(module.roles("nobody").is_none());
}

#[test]
fn unknown_user_costs_what_a_wrong_password_costs() {
    // Mostly Shiro SHA-256 at 100,000 iterations, one cheap outlier: the dummy follows the majority.
    let dir = TempDir::new("timing");
    let slow = |pw: &str| {
        shiro1_hash(
            &Secret::from(pw),
            ShiroAlgorithm::Sha256,
            100_000,
            b"0123456789abcdef",
        )
    };
    let text = format!(
        "[users]\ncheap = {}\na = {}\nb = {}\nc = {}\n",
        shiro("cheap-pw", ShiroAlgorithm::Md5),
        slow("a-pw"),
        slow("b-pw"),
        slow("c-pw")
    );
    write(&dir.path("users.ini"), &text, 0);
    let module = Arc::new(
        IniLoginModule::new(&ini_config(&dir.path("users.ini"), false), &mut Vec::new()).unwrap(),
    );
    let rt = rt();
    let time = |user: &str| {
        let mut samples: Vec<Duration> = (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                assert!(!rt.block_on(login_module(&module, user, "wrong")).0);
                t.elapsed()
            })
            .collect();
        samples.sort();
        samples[2].as_secs_f64()
    };
    let (wrong, unknown, cheap) = (time("b"), time("nobody"), time("cheap"));
    let ratio = unknown / wrong;
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown {unknown:.4}s vs wrong password {wrong:.4}s"
    );
    assert!(
        cheap < wrong / 4.0,
        "the outlier is cheap: {cheap} vs {wrong}"
    );
}

// ---------------------------------------------------------------------------------------------
// Build-time checks

#[test]
fn plain_text_is_refused_without_the_flag_and_a_warning_with_it() {
    let dir = TempDir::new("plain");
    write(
        &dir.path("users.ini"),
        &format!(
            "[users]\nalice = plain-alice, admin\nbob = {}\ncarol = plain-carol\n",
            argon2id("bob-pw")
        ),
        0,
    );
    let err = build(&dir, "").unwrap_err();
    assert!(
        err.contains("users.ini:2:1: plain-text passwords for `alice` (line 2), `carol` (line 4)"),
        "{err}"
    );
    assert!(err.contains("allow-plaintext-passwords"), "{err}");
    assert!(
        !err.contains("plain-alice") && !err.contains("plain-carol"),
        "{err}"
    );

    let security = build(&dir, ", allow-plaintext-passwords: true").unwrap();
    let warnings = security.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("plain-text passwords for `alice`, `carol`"),
        "{warnings:?}"
    );
    assert!(!warnings[0].contains("plain-alice"));
    assert!(login(&security, "alice", "plain-alice").is_ok());
    assert!(login(&security, "carol", "plain-carol").is_ok());
    assert!(login(&security, "bob", "bob-pw").is_ok());
    assert_eq!(
        login(&security, "alice", "plain-alicE"),
        Err(LoginFailure::Denied)
    );
    assert_eq!(
        login(&security, "nobody", "plain-alice"),
        Err(LoginFailure::Denied)
    );
}

#[test]
fn parse_errors_and_bad_hashes_fail_the_build_with_file_line_and_column() {
    let dir = TempDir::new("errors");
    write(
        &dir.path("users.ini"),
        "stray = line\n[users]\nalice = $shiro1$SHA-256$x$c2FsdA==$aGFzaA==, admin\nbob\ncarol = $argon2$nope-secret\n = pw\ncarol = dup-secret\n[roles\n",
        0,
    );
    let err = build(&dir, "").unwrap_err();
    for expected in [
        "users.ini:1:1: line outside any section",
        "users.ini:4:1: expected `name = password, role1, role2`: no `=` after the user name",
        "users.ini:6:2: empty user name before `=`",
        "users.ini:7:1: duplicate user `carol` (first defined at line 5)",
        "users.ini:8:1: unterminated section header",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("realm `file`: ini authentication:"), "{err}");
    assert!(!err.contains("secret"), "{err}");

    // Once the syntax is right, the hashes are checked, each with its line and column.
    write(
        &dir.path("users.ini"),
        "[users]\nalice = $shiro1$SHA-256$x$c2FsdA==$aGFzaA==, admin\n  carol = $argon3$nope\n",
        0,
    );
    let err = build(&dir, ", allow-plaintext-passwords: true").unwrap_err();
    assert!(err.contains("users.ini:2:9: user `alice`: malformed $shiro1$ hash: the iteration count is not a positive integer"), "{err}");
    assert!(
        err.contains(
            "users.ini:3:11: user `carol`: unsupported password hash (an unrecognised `$…` value)"
        ),
        "{err}"
    );
}

#[test]
fn a_missing_file_fails_the_build_naming_it() {
    let dir = TempDir::new("missing");
    let err = build(&dir, "").unwrap_err();
    assert!(
        err.contains("cannot read") && err.contains("users.ini"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_a_warning_and_denies_everyone() {
    let dir = TempDir::new("empty");
    write(&dir.path("users.ini"), "# nobody yet\n[users]\n", 0);
    let security = build(&dir, "").unwrap();
    assert!(
        security.warnings()[0].contains("no users"),
        "{:?}",
        security.warnings()
    );
    assert_eq!(login(&security, "alice", "pw"), Err(LoginFailure::Denied));
}

#[test]
fn skip_flags_are_honoured() {
    let dir = TempDir::new("skip");
    write(
        &dir.path("users.ini"),
        &format!("[users]\nalice = {}, admin\n", bcrypt("pw")),
        0,
    );
    let security = build(&dir, ", skip-role: true, skip-endpoint: true").unwrap();
    let (identity, roles, endpoint) = login(&security, "alice", "pw").unwrap();
    assert_eq!(identity, "alice");
    assert!(roles.is_empty() && endpoint.is_none());
}

#[test]
fn the_jaas_login_module_class() {
    let dir = TempDir::new("jaas");
    let ini = dir.path("users.ini");
    write(
        &ini,
        &format!("[users]\nalice = {}, admin\nbob = pw\n", bcrypt("pw")),
        0,
    );
    let config = dir.path("jaas.yaml");
    let yaml = |props: &str| {
        format!(
            "security:\n  realms:\n    - name: file\n      authentication:\n        jaas:\n          - class-name: realm.ini.IniLoginModule\n            usage: REQUIRED\n            properties:\n{props}"
        )
    };
    let path = ini.display();
    std::fs::write(
        &config,
        yaml(&format!(
            "              path: {path}\n              allow-plaintext-passwords: true\n"
        )),
    )
    .unwrap();
    let loaded = load_file(&config).unwrap();
    let security = Security::from_config(&loaded.config, &registry()).unwrap();
    assert!(
        security.warnings()[0].contains("realm.ini.IniLoginModule: "),
        "{:?}",
        security.warnings()
    );
    let (identity, roles, _) = login(&security, "alice", "pw").unwrap();
    assert_eq!(
        (identity.as_str(), roles),
        ("alice", vec!["admin".to_string()])
    );
    assert!(login(&security, "bob", "pw").is_ok());

    std::fs::write(
        &config,
        yaml(&format!(
            "              path: {path}\n              user-file: x\n"
        )),
    )
    .unwrap();
    let loaded = load_file(&config).unwrap();
    let err = Security::from_config(&loaded.config, &registry())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown property `user-file`"), "{err}");
    std::fs::write(
        &config,
        yaml("              allow-plaintext-passwords: true\n"),
    )
    .unwrap();
    let loaded = load_file(&config).unwrap();
    let err = Security::from_config(&loaded.config, &registry())
        .unwrap_err()
        .to_string();
    assert!(err.contains("property `path` is required"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Hot reload

const INTERVAL: Duration = Duration::from_millis(40);

fn wait_interval() {
    std::thread::sleep(INTERVAL + Duration::from_millis(20));
}

#[test]
fn hot_reload_adds_users_survives_a_broken_edit_and_a_deleted_file() {
    logs();
    let dir = TempDir::new("reload");
    let ini = dir.path("users.ini");
    let alice = format!(
        "alice = {}, admin\n",
        shiro("alice-pw", ShiroAlgorithm::Sha256)
    );
    let bob = format!(
        "bob = {}, operator\n",
        shiro("bob-pw", ShiroAlgorithm::Sha512)
    );
    write(&ini, &format!("[users]\n{alice}"), 0);
    let module = Arc::new(
        IniLoginModule::with_check_interval(&ini_config(&ini, false), INTERVAL, &mut Vec::new())
            .unwrap(),
    );
    let rt = rt();
    let shown = ini.display().to_string();
    assert!(rt.block_on(login_module(&module, "alice", "alice-pw")).0);
    assert!(!rt.block_on(login_module(&module, "bob", "bob-pw")).0);

    // 1. An added user is picked up after the interval, and the trace says a reload happened.
    write(
        &ini,
        &format!("[users]\n{alice}{bob}[roles]\noperator = cache:read\n"),
        1,
    );
    wait_interval();
    let (ok, notes) = rt.block_on(login_module(&module, "bob", "bob-pw"));
    assert!(ok, "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("{shown} changed: reloaded, 2 users (was 1)"))),
        "{notes:?}"
    );
    assert_eq!(module.permissions("operator"), ["cache:read"]);
    // No change: no reload note.
    wait_interval();
    let (ok, notes) = rt.block_on(login_module(&module, "bob", "bob-pw"));
    assert!(
        ok && !notes.iter().any(|n| n.contains("reload")),
        "{notes:?}"
    );

    // 2. A broken edit: the last good version stays; the errors are logged once for that version.
    write(
        &ini,
        &format!("[users]\n{alice}bob = s3cret-but-broken\ncarol\n"),
        2,
    );
    wait_interval();
    let (ok, notes) = rt.block_on(login_module(&module, "alice", "alice-pw"));
    assert!(ok, "{notes:?}");
    assert!(
        notes.iter().any(|n| n
            .contains("changed but has errors; still using the last good version")
            && n.contains(&format!("{shown}:4:1: expected `name = password"))),
        "{notes:?}"
    );
    assert!(rt.block_on(login_module(&module, "bob", "bob-pw")).0);
    assert!(
        !rt.block_on(login_module(&module, "bob", "s3cret-but-broken"))
            .0
    );
    wait_interval();
    assert!(rt.block_on(login_module(&module, "alice", "alice-pw")).0);
    let errors = log_lines(&format!("ini file {shown} changed but was not reloaded"));
    assert_eq!(errors.len(), 1, "one error per bad version: {errors:?}");
    assert!(errors[0].contains("ERROR"), "{errors:?}");
    assert!(errors[0].contains(&format!("{shown}:4:1:")), "{errors:?}");
    assert!(!errors[0].contains("s3cret"), "{errors:?}");

    // 3. The file is deleted: the last good version stays (logged once).
    std::fs::remove_file(&ini).unwrap();
    for _ in 0..2 {
        wait_interval();
        assert!(rt.block_on(login_module(&module, "bob", "bob-pw")).0);
    }
    let missing = log_lines(&format!("cannot read {shown}"));
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(
        module.check_now(),
        Reload::Unreadable(format!(
            "cannot read {shown}: No such file or directory (os error 2)"
        ))
    );

    // 4. It comes back, without bob: reloaded.
    write(&ini, &format!("[users]\n{alice}"), 3);
    wait_interval();
    let (ok, notes) = rt.block_on(login_module(&module, "alice", "alice-pw"));
    assert!(
        ok && notes
            .iter()
            .any(|n| n.contains("reloaded, 1 users (was 2)")),
        "{notes:?}"
    );
    assert!(!rt.block_on(login_module(&module, "bob", "bob-pw")).0);
    assert!(module.permissions("operator").is_empty());
    assert_eq!(module.check_now(), Reload::Unchanged);
}

#[test]
fn no_check_before_the_interval() {
    let dir = TempDir::new("interval");
    let ini = dir.path("users.ini");
    write(&ini, &format!("[users]\nalice = {}\n", bcrypt("pw")), 0);
    let module = Arc::new(
        IniLoginModule::with_check_interval(
            &ini_config(&ini, false),
            Duration::from_secs(3600),
            &mut Vec::new(),
        )
        .unwrap(),
    );
    write(&ini, &format!("[users]\nbob = {}\n", bcrypt("pw")), 1);
    let rt = rt();
    assert!(rt.block_on(login_module(&module, "alice", "pw")).0);
    assert!(!rt.block_on(login_module(&module, "bob", "pw")).0);
    // An explicit check does not wait. An empty file (a writer truncated it) is not a version.
    std::fs::write(&ini, "").unwrap();
    assert_eq!(
        module.check_now(),
        Reload::Unreadable(format!("{} is empty", ini.display()))
    );
    assert!(rt.block_on(login_module(&module, "alice", "pw")).0);
    write(&ini, &format!("[users]\nbob = {}\n", bcrypt("pw")), 2);
    assert_eq!(
        module.check_now(),
        Reload::Reloaded {
            users: 1,
            previous: 1
        }
    );
    assert!(rt.block_on(login_module(&module, "bob", "pw")).0);
}

#[test]
fn logins_during_reloads_always_see_a_whole_version() {
    // Two versions that differ in every line but alice's; a writer swaps them (atomically, by
    // rename) while logins run on a multi-threaded runtime. Alice always gets in; the users of
    // one version never mix with the other's.
    let dir = TempDir::new("swap");
    let ini = dir.path("users.ini");
    let v1 = "[users]\nalice = a-pw, r1\nbob = b-pw\n";
    let v2 = "[users]\nalice = a-pw, r2\ncarol = c-pw\n";
    write(&ini, v1, 0);
    let module = Arc::new(
        IniLoginModule::with_check_interval(
            &ini_config(&ini, true),
            Duration::ZERO,
            &mut Vec::new(),
        )
        .unwrap(),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (ini, tmp, stop) = (ini.clone(), dir.path("users.ini.tmp"), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                write(&tmp, if i.is_multiple_of(2) { v1 } else { v2 }, i);
                std::fs::rename(&tmp, &ini).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            i
        })
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let results = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let module = module.clone();
            tasks.push(tokio::spawn(async move {
                let mut bob_or_carol = 0;
                for _ in 0..100 {
                    assert!(login_module(&module, "alice", "a-pw").await.0);
                    bob_or_carol += usize::from(login_module(&module, "bob", "b-pw").await.0);
                    bob_or_carol += usize::from(login_module(&module, "carol", "c-pw").await.0);
                }
                bob_or_carol
            }));
        }
        let mut all = 0;
        for t in tasks {
            all += t.await.unwrap();
        }
        all
    });
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    assert!(writes > 5, "{writes}");
    // Every version has bob or carol: about one of the two logins in each round succeeds.
    assert!(results >= 400, "{results}");
    // Each snapshot is whole: its users are exactly one version's.
    let roles = module.roles("alice").unwrap();
    let bob = module.roles("bob").is_some();
    let carol = module.roles("carol").is_some();
    assert!(bob != carol);
    assert_eq!(roles, [if bob { "r1" } else { "r2" }]);
}
