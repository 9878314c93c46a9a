//! `realm keychain` end to end: create, add, get, list and remove in both modes, the master
//! password from a variable, a file or `REALM_KEYCHAIN_PASSWORD`, and every failure with its exit
//! code and message (wrong master password, tampered file, wrong mode, missing entry).

use std::path::{Path, PathBuf};
use std::process::Output;

const MASTER: &str = "KC-master-pw-3141";
const SERVER2: (&str, &str) = ("tc://server2@db2.example.com:9530", "KC-tc-pw-2718");
const KEYSTORE: (&str, &str) = (
    "jks:server1alias@/the/path/keystore-file.jks",
    "KC-jks-pw-1618",
);
const JMX: (&str, &str) = ("jmx://admin@db1.example.com:9540", "KC-jmx-pw-1414");

/// Runs `realm keychain ARGS` in `dir` with `stdin`, extra environment, and no inherited
/// `REALM_KEYCHAIN_PASSWORD`.
fn keychain(args: &[&str], stdin: &str, env: &[(&str, &str)], dir: &Path) -> Output {
    let mut all = vec!["keychain"];
    all.extend_from_slice(args);
    let mut c = crate::realm_command(dir, &all);
    c.env_remove("REALM_KEYCHAIN_PASSWORD")
        .envs(env.iter().copied());
    crate::run(c, stdin)
}

fn dir(name: &str) -> PathBuf {
    crate::temp_dir("keychain", name)
}

use crate::text;

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// How the tests give the master password of an encrypted keychain (or none).
#[derive(Clone, Copy)]
enum Master {
    None,
    Env,
    File,
    DefaultEnv,
}

impl Master {
    fn args(self) -> Vec<&'static str> {
        match self {
            Master::Env => vec!["--master-password-env", "KC_TEST_MASTER"],
            Master::File => vec!["--master-password-file", "master.txt"],
            Master::None | Master::DefaultEnv => vec![],
        }
    }

    fn env(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Master::Env => vec![("KC_TEST_MASTER", MASTER)],
            Master::DefaultEnv => vec![("REALM_KEYCHAIN_PASSWORD", MASTER)],
            Master::None | Master::File => vec![],
        }
    }
}

fn run(dir: &Path, master: Master, args: &[&str], stdin: &str) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(master.args());
    keychain(&all, stdin, &master.env(), dir)
}

/// The whole life of one keychain: create, add three entries, get, list, remove, get again.
fn life_cycle(name: &str, create: &[&str], master: Master) {
    let d = dir(name);
    std::fs::write(d.join("master.txt"), format!("{MASTER}\n")).unwrap();
    let obfuscated = create.contains(&"-O");

    let out = run(&d, master, create, "");
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("Keychain file successfully created in kc"),
        "{}",
        text(&out.stdout)
    );
    if obfuscated {
        assert!(text(&out.stderr).contains("OBFUSCATED, NOT ENCRYPTED"));
    }
    // A second create refuses to overwrite.
    let out = run(&d, master, create, "");
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("already exists (use --force"));

    for (uri, pw) in [SERVER2, KEYSTORE, JMX] {
        let out = run(
            &d,
            master,
            &["add", "kc", uri, "--password-stdin"],
            &format!("{pw}\n"),
        );
        assert_exit(&out, 0);
        assert_eq!(
            text(&out.stdout),
            format!("Password for {uri} successfully stored in kc\n")
        );
        assert_eq!(
            text(&out.stderr).contains("NOT ENCRYPTED"),
            obfuscated,
            "{}",
            text(&out.stderr)
        );
    }

    let out = run(&d, master, &["get", "kc", KEYSTORE.0], "");
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{}\n", KEYSTORE.1));
    assert!(text(&out.stderr).contains("warning: printing the password"));

    let out = run(&d, master, &["list", "kc"], "");
    assert_exit(&out, 0);
    let mut uris = [SERVER2.0, KEYSTORE.0, JMX.0];
    uris.sort_unstable();
    assert_eq!(text(&out.stdout), format!("{}\n", uris.join("\n")));

    let out = run(&d, master, &["remove", "kc", SERVER2.0], "");
    assert_exit(&out, 0);
    let out = run(&d, master, &["get", "kc", SERVER2.0], "");
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!("kc: No password available in keychain for {}\n", SERVER2.0)
    );
    let out = run(&d, master, &["remove", "kc", SERVER2.0], "");
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("No password available in keychain for"));
    let out = run(&d, master, &["get", "kc", JMX.0], "");
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{}\n", JMX.1));

    // The file holds no secret in the clear, and only its owner may read it.
    let bytes = text(&std::fs::read(d.join("kc")).unwrap());
    for secret in [SERVER2.1, KEYSTORE.1, JMX.1, MASTER] {
        assert!(!bytes.contains(secret), "{name}: {secret} in the file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("kc"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Nothing but the keychain (and the master password file) in the folder: no temp files.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2);
}

#[test]
fn keychain_encrypted_life_cycle_master_password_from_a_variable() {
    life_cycle("enc-env", &["create", "kc"], Master::Env);
}

#[test]
fn keychain_encrypted_life_cycle_master_password_from_a_file() {
    life_cycle("enc-file", &["create", "kc"], Master::File);
}

#[test]
fn keychain_encrypted_life_cycle_master_password_from_realm_keychain_password() {
    life_cycle("enc-default", &["create", "kc"], Master::DefaultEnv);
}

#[test]
fn keychain_obfuscated_life_cycle() {
    life_cycle("obf", &["create", "kc", "-O"], Master::None);
}

#[test]
fn keychain_add_with_c_creates_the_file_like_terracotta() {
    let d = dir("add-c");
    let out = keychain(
        &["add", "-O", "-c", "kc", SERVER2.0, "--password-stdin"],
        SERVER2.1,
        &[],
        &d,
    );
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("Keychain file successfully created in kc"));
    assert!(text(&out.stderr).contains("OBFUSCATED, NOT ENCRYPTED"));
    let env = [("KC_TEST_MASTER", MASTER)];
    let out = keychain(
        &[
            "add",
            "-c",
            "enc",
            JMX.0,
            "--password-stdin",
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        JMX.1,
        &env,
        &d,
    );
    assert_exit(&out, 0);
    let out = keychain(
        &[
            "get",
            "enc",
            JMX.0,
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        "",
        &env,
        &d,
    );
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{}\n", JMX.1));
    // Without -c a missing file is an error, and nothing is created.
    let out = keychain(
        &["add", "-O", "missing", SERVER2.0, "--password-stdin"],
        SERVER2.1,
        &[],
        &d,
    );
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("missing: no such keychain (use -c to create it)"));
    assert!(!d.join("missing").exists());
}

fn encrypted_with_one_entry(d: &Path) {
    let env = [("KC_TEST_MASTER", MASTER)];
    let out = keychain(
        &["create", "kc", "--master-password-env", "KC_TEST_MASTER"],
        "",
        &env,
        d,
    );
    assert_exit(&out, 0);
    let out = keychain(
        &[
            "add",
            "kc",
            SERVER2.0,
            "--password-stdin",
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        SERVER2.1,
        &env,
        d,
    );
    assert_exit(&out, 0);
}

#[test]
fn keychain_wrong_master_password_exits_2_and_says_so() {
    let d = dir("wrong-master");
    encrypted_with_one_entry(&d);
    for (args, env) in [
        (
            vec![
                "get",
                "kc",
                SERVER2.0,
                "--master-password-env",
                "KC_TEST_MASTER",
            ],
            vec![("KC_TEST_MASTER", "KC-wrong-pw-0000")],
        ),
        (
            vec!["list", "kc"],
            vec![("REALM_KEYCHAIN_PASSWORD", "KC-wrong-pw-0000")],
        ),
    ] {
        let out = keychain(&args, "", &env, &d);
        assert_exit(&out, 2);
        assert_eq!(text(&out.stderr), "kc: wrong master password\n");
        assert!(out.stdout.is_empty());
    }
    // An add with a wrong master password stores nothing.
    let before = std::fs::read(d.join("kc")).unwrap();
    let out = keychain(
        &[
            "add",
            "kc",
            JMX.0,
            "--password-stdin",
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        JMX.1,
        &[("KC_TEST_MASTER", "KC-wrong-pw-0000")],
        &d,
    );
    assert_exit(&out, 2);
    assert_eq!(std::fs::read(d.join("kc")).unwrap(), before);
}

#[test]
fn keychain_tampered_file_exits_2_and_says_so() {
    let d = dir("tampered");
    encrypted_with_one_entry(&d);
    let pristine = std::fs::read(d.join("kc")).unwrap();
    let env = [("KC_TEST_MASTER", MASTER)];
    let args = [
        "get",
        "kc",
        SERVER2.0,
        "--master-password-env",
        "KC_TEST_MASTER",
    ];
    // A flipped ciphertext byte: the master password is right, the entries are not.
    let mut bytes = pristine.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(d.join("kc"), &bytes).unwrap();
    let out = keychain(&args, "", &env, &d);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains(
            "kc: the keychain has been tampered with or is damaged (the entries failed their integrity check although the master password is right)"
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // A flipped salt byte in the header.
    let mut bytes = pristine.clone();
    bytes[30] ^= 0x01;
    std::fs::write(d.join("kc"), &bytes).unwrap();
    let out = keychain(&args, "", &env, &d);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr)
            .contains("tampered with or is damaged (the header checksum does not match)"),
        "{}",
        text(&out.stderr)
    );
    // Truncated.
    std::fs::write(d.join("kc"), &pristine[..pristine.len() - 3]).unwrap();
    let out = keychain(&args, "", &env, &d);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("tampered with or is damaged"));
    // Not a keychain at all.
    std::fs::write(d.join("kc"), "tc://server2@db2.example.com:9530=hunter2\n").unwrap();
    let out = keychain(&args, "", &env, &d);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("kc: not a keychain file"));
}

#[test]
fn keychain_obfuscated_file_with_a_master_password_is_the_wrong_mode() {
    let d = dir("wrong-mode");
    let out = keychain(
        &["add", "-O", "-c", "kc", SERVER2.0, "--password-stdin"],
        SERVER2.1,
        &[],
        &d,
    );
    assert_exit(&out, 0);
    let out = keychain(
        &[
            "get",
            "kc",
            SERVER2.0,
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        "",
        &[("KC_TEST_MASTER", MASTER)],
        &d,
    );
    assert_exit(&out, 2);
    assert_eq!(
        text(&out.stderr),
        "kc: wrong keychain mode: the keychain is obfuscated and has no master password, but a master password was given\n"
    );
    assert!(out.stdout.is_empty());
    // REALM_KEYCHAIN_PASSWORD is only a default: an obfuscated file does not need it.
    let out = keychain(
        &["get", "kc", SERVER2.0],
        "",
        &[("REALM_KEYCHAIN_PASSWORD", MASTER)],
        &d,
    );
    assert_exit(&out, 0);
    // The other way round: -O on an encrypted file.
    let e = dir("wrong-mode-enc");
    encrypted_with_one_entry(&e);
    let out = keychain(
        &["add", "-O", "kc", JMX.0, "--password-stdin"],
        JMX.1,
        &[],
        &e,
    );
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("the keychain is encrypted and needs its master password"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keychain_usage_errors_exit_2() {
    let d = dir("usage");
    let env = [("KC_TEST_MASTER", MASTER)];
    // -O with a master password, and two master password sources.
    for args in [
        vec![
            "create",
            "kc",
            "-O",
            "--master-password-env",
            "KC_TEST_MASTER",
        ],
        vec![
            "create",
            "kc",
            "--master-password-env",
            "KC_TEST_MASTER",
            "--master-password-file",
            "f",
        ],
    ] {
        let out = keychain(&args, "", &env, &d);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("cannot be used with"));
    }
    // An empty master password, an unset variable, an empty entry password, an empty URI.
    let out = keychain(
        &["create", "kc", "--master-password-env", "KC_TEST_MASTER"],
        "",
        &[("KC_TEST_MASTER", "")],
        &d,
    );
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("is empty"));
    let out = keychain(
        &[
            "create",
            "kc",
            "--master-password-env",
            "KC_TEST_UNSET_4711",
        ],
        "",
        &[],
        &d,
    );
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("`KC_TEST_UNSET_4711` is not set"));
    assert!(!d.join("kc").exists());
    let out = keychain(
        &["add", "-O", "-c", "kc", SERVER2.0, "--password-stdin"],
        "\n",
        &[],
        &d,
    );
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("refusing to store an empty password"));
    let out = keychain(
        &["add", "-O", "-c", "kc", "", "--password-stdin"],
        "x",
        &[],
        &d,
    );
    assert_exit(&out, 2);
    // The password is never taken from the command line.
    let out = keychain(
        &["add", "-O", "-c", "kc", SERVER2.0, SERVER2.1],
        "",
        &[],
        &d,
    );
    assert_exit(&out, 2);
    // A missing file.
    let out = keychain(&["list", "nope"], "", &[], &d);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("nope: cannot read the keychain"));
}
