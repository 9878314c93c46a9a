//! Shiro compatibility, proven with Apache Shiro itself: `shiro/ShiroHashes.java` hashes passwords
//! with Shiro's `DefaultPasswordService` (as shipped: SHA-256, 500,000 iterations, random salt)
//! and `DefaultHashService` (other algorithms and iteration counts); the realm must accept each
//! password and refuse a wrong one. The same program parses a tricky ini file with Shiro's `Ini`
//! and `StringUtils.split`, and `realm_ini::parse` must read it the same way.
//!
//! Needs `java`, `javac` and Debian's `libshiro-java` (`/usr/share/java/shiro-core.jar`); without
//! them the test fails, saying what to install.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test helpers may stop on a broken setup

use realm_core::config::{IniConfig, SkipFlags, Usage};
use realm_core::module::{Attempt, Authenticator};
use realm_core::registry::ChainLink;
use realm_core::{Credentials, Endpoint};
use realm_ini::IniLoginModule;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const INSTALL: &str = "apt-get install libshiro-java default-jdk-headless";
const JARS: &str = "/usr/share/java";

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("realm-ini-shiro-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles `ShiroHashes.java` once per test run; returns the class path to run it with.
fn compiled() -> &'static str {
    static CLASS_PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CLASS_PATH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shiro-classes");
        std::fs::create_dir_all(&dir).unwrap();
        compile(&dir)
    })
}

/// Compiles `ShiroHashes.java` into `dir`; returns the class path to run it with.
fn compile(dir: &Path) -> String {
    for tool in ["java", "javac"] {
        let found = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "`{tool}` is not on PATH: the Shiro compatibility test needs a JDK and Shiro: {INSTALL}"
        );
    }
    let jar = |name: &str| Path::new(JARS).join(name);
    for needed in ["shiro-core.jar", "slf4j-api.jar"] {
        assert!(
            jar(needed).is_file(),
            "{} is missing: the Shiro compatibility test needs Apache Shiro from Debian: {INSTALL}",
            jar(needed).display()
        );
    }
    let mut class_path = vec![
        dir.display().to_string(),
        jar("shiro-core.jar").display().to_string(),
        jar("slf4j-api.jar").display().to_string(),
    ];
    // Silences SLF4J's "no binding" notice when the no-op binding is installed (it is, with
    // libslf4j-java).
    if jar("slf4j-nop.jar").is_file() {
        class_path.push(jar("slf4j-nop.jar").display().to_string());
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("shiro/ShiroHashes.java");
    let out = Command::new("javac")
        .arg("-cp")
        .arg(class_path.join(":"))
        .arg("-d")
        .arg(dir)
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "javac {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    class_path.join(":")
}

fn java(class_path: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(class_path)
        .arg("ShiroHashes")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ShiroHashes failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn login(module: &Arc<IniLoginModule>, user: &str, pw: &str) -> bool {
    let chain = realm_jaas_chain::LoginChain::new(vec![ChainLink {
        name: "ini".into(),
        usage: Usage::Required,
        module: module.clone(),
    }]);
    let mut attempt = Attempt::new(Credentials::password(user, pw), Endpoint::default(), 1);
    chain.authenticate(&mut attempt).await.is_ok()
}

#[test]
fn passwords_hashed_by_shiro_log_in() {
    let dir = TempDir::new("hashes");
    let class_path = compiled();
    // user, mode, roles, password
    let requests = [
        ("shipped1", "default", "admin", "wonderland"),
        ("shipped2", "default", "", "pässwörd ✓ 密码, with commas"),
        ("sha512", "SHA-512:1024", "operator, terracotta", "builder"),
        ("sha256", "SHA-256:1000", "", "  spaces around  "),
        ("sha384", "SHA-384:100", "", "x"),
        ("sha1", "SHA-1:2", "", "sha1 password"),
        ("md5", "MD5:1", "", "md5 password"),
        ("salted", "SHA-512:3:a fixed salt", "admin", "deterministic"),
    ];
    let stdin: String = requests
        .iter()
        .map(|(u, m, r, p)| format!("{u}\t{m}\t{r}\t{p}\n"))
        .collect();
    let lines = java(class_path, &[], &stdin);
    assert_eq!(lines.lines().count(), requests.len(), "{lines}");
    assert!(
        lines.contains("shipped1 = $shiro1$SHA-256$500000$"),
        "Shiro's default is SHA-256 with 500000 iterations: {lines}"
    );
    let ini = dir.0.join("users.ini");
    std::fs::write(&ini, format!("[users]\n{lines}")).unwrap();
    let config = IniConfig {
        skip: SkipFlags::default(),
        path: ini,
        allow_plaintext_passwords: false,
    };
    let mut warnings = Vec::new();
    let module = Arc::new(IniLoginModule::new(&config, &mut warnings).unwrap());
    assert!(warnings.is_empty(), "{warnings:?}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (user, mode, roles, pw) in requests {
        assert!(rt.block_on(login(&module, user, pw)), "{user} ({mode})");
        assert!(
            !rt.block_on(login(&module, user, &format!("{pw}!"))),
            "{user} ({mode}): wrong password"
        );
        let expected: Vec<&str> = roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .collect();
        assert_eq!(module.roles(user).unwrap(), expected, "{user}");
    }
}

#[test]
fn ini_files_read_as_shiro_reads_them() {
    let dir = TempDir::new("parse");
    let class_path = compiled();
    let text = "# comment\n; comment\n[main]\nsecurityManager.realms = $iniRealm\n\
                [users]\n  alice = pw1, admin, operator  \nbob: pw2\ncarol=pw3,\ndave == :pw4\n\
                erin = pw, \\\n  # a comment inside a continuation\n\n   admin, \\\n operator\n\
                frank = \"p,w\"\"x\", r\nc\\=d = x\ng = pw\\\\\nh = a # not a comment\n\
                i\t=\ttabs\t,\trole\n\
                [urls]\n/** = authc\n\
                [roles]\nadmin = *\noperator = \"printer:print,query\", doc:read\nempty = \"\", x\n";
    let file = dir.0.join("tricky.ini");
    std::fs::write(&file, text).unwrap();
    let shiro = java(class_path, &["parse", &file.display().to_string()], "");

    let parsed = realm_ini::parse::parse(text).unwrap();
    let mut ours = String::new();
    for u in &parsed.users {
        ours.push_str(&format!(
            "users\t{}\t{}",
            u.name,
            u.password.expose_str().unwrap()
        ));
        for r in &u.roles {
            ours.push_str(&format!("\t{r}"));
        }
        ours.push('\n');
    }
    for r in &parsed.roles {
        ours.push_str(&format!("roles\t{}", r.name));
        for p in &r.permissions {
            ours.push_str(&format!("\t{p}"));
        }
        ours.push('\n');
    }
    // Shiro keeps empty list items (`carol=pw3,` has the role ""); Realm drops them (but never
    // the password: the third field of a `users` line).
    let shiro: String = shiro
        .lines()
        .map(|l| {
            let fixed = if l.starts_with("users\t") { 3 } else { 2 };
            let kept: Vec<&str> = l
                .split('\t')
                .enumerate()
                .filter(|(i, t)| *i < fixed || !t.is_empty())
                .map(|(_, t)| t)
                .collect();
            format!("{}\n", kept.join("\t"))
        })
        .collect();
    assert_eq!(ours, shiro);
}
