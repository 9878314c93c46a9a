//! `realm users`: managing the users of an ini file (Terracotta's `usermanagement`), end to end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};

/// A password that follows every rule of the default policy.
const ALICE_PW: &str = "Tr0ub4dor&3x";
const ALICE_PW2: &str = "c0rect-H0rse!";
const BOB_PW: &str = "B0b!s-k3y#9";

fn spawn(dir: &Path, args: &[&str]) -> Child {
    crate::realm_command(dir, args).spawn().unwrap()
}

use crate::feed;

/// `realm ARGS` in `dir`, with `stdin` piped in.
fn realm(dir: &Path, args: &[&str], stdin: &str) -> Output {
    feed(spawn(dir, args), stdin)
}

/// `realm users ARGS` in `dir`, with `stdin` piped in.
fn users(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut all = vec!["users"];
    all.extend_from_slice(args);
    realm(dir, &all, stdin)
}

fn dir(name: &str) -> PathBuf {
    crate::temp_dir("users", name)
}

use crate::text;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit code 2; returns stderr.
fn fails(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The line of `user` in an ini text.
fn line_of(ini: &str, user: &str) -> String {
    ini.lines()
        .find(|l| l.starts_with(&format!("{user} = ")))
        .unwrap_or_else(|| panic!("no line for {user} in:\n{ini}"))
        .to_owned()
}

fn assert_no_password(out: &Output) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    for pw in [ALICE_PW, ALICE_PW2, BOB_PW, "$argon2id$"] {
        assert!(!all.contains(pw), "output shows {pw:?}: {all}");
    }
}

#[test]
fn create_add_list_passwd_roles_remove() {
    let d = dir("lifecycle");
    let ini = d.join("users.ini");

    // Without --create a missing file is an error that says how to start one.
    let err = fails(&users(
        &d,
        &["add", "users.ini", "alice", "--password-stdin"],
        ALICE_PW,
    ));
    assert!(
        err.contains("users.ini") && err.contains("--create"),
        "{err}"
    );
    assert!(!ini.exists());

    let out = users(
        &d,
        &[
            "add",
            "users.ini",
            "alice",
            "--create",
            "--roles",
            "admin,operator",
            "--password-stdin",
        ],
        &format!("{ALICE_PW}\n"),
    );
    assert!(
        ok(&out).contains("added user \"alice\""),
        "{}",
        text(&out.stdout)
    );
    assert_no_password(&out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ini).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a new users file is private");
    }
    let out = users(
        &d,
        &[
            "add",
            "users.ini",
            "bob",
            "--roles",
            "monitor",
            "--password-stdin",
        ],
        BOB_PW,
    );
    ok(&out);

    let file = read(&ini);
    assert!(file.starts_with("[users]\n"), "{file}");
    assert!(
        line_of(&file, "alice").starts_with("alice = \"$argon2id$v=19$"),
        "{file}"
    );
    assert!(
        line_of(&file, "alice").ends_with("\", admin, operator"),
        "{file}"
    );
    assert!(!file.contains(ALICE_PW) && !file.contains(BOB_PW), "{file}");

    let out = users(&d, &["list", "users.ini"], "");
    assert_eq!(ok(&out), "alice: admin, operator\nbob: monitor\n");
    assert_no_password(&out);

    // passwd changes alice's hash only.
    let before = read(&ini);
    let out = users(
        &d,
        &["passwd", "users.ini", "alice", "--password-stdin"],
        ALICE_PW2,
    );
    assert!(ok(&out).contains("changed the password of \"alice\""));
    assert_no_password(&out);
    let after = read(&ini);
    assert_ne!(line_of(&before, "alice"), line_of(&after, "alice"));
    assert!(line_of(&after, "alice").ends_with("\", admin, operator"));
    assert_eq!(line_of(&before, "bob"), line_of(&after, "bob"));

    let out = users(
        &d,
        &["roles", "users.ini", "alice", "--add", "ops,admin"],
        "",
    );
    assert_eq!(ok(&out), "alice: admin, operator, ops\n");
    let out = users(
        &d,
        &["roles", "users.ini", "alice", "--remove", "operator"],
        "",
    );
    assert_eq!(ok(&out), "alice: admin, ops\n");
    let out = users(&d, &["roles", "users.ini", "alice", "--set", "x, y"], "");
    assert_eq!(ok(&out), "alice: x, y\n");
    let out = users(&d, &["roles", "users.ini", "bob", "--set", ""], "");
    assert_eq!(ok(&out), "bob: (no roles)\n");
    // The hash survives role changes.
    assert_eq!(
        line_of(&read(&ini), "alice"),
        line_of(&after, "alice").replace("admin, operator", "x, y")
    );
    // Exactly one of --set, --add, --remove.
    fails(&users(&d, &["roles", "users.ini", "alice"], ""));
    fails(&users(
        &d,
        &["roles", "users.ini", "alice", "--add", "a", "--remove", "b"],
        "",
    ));

    let out = users(&d, &["remove", "users.ini", "bob"], "");
    assert!(ok(&out).contains("removed user \"bob\""));
    assert_eq!(ok(&users(&d, &["list", "users.ini"], "")), "alice: x, y\n");
}

#[test]
fn comments_and_other_sections_survive_edits_byte_for_byte() {
    let d = dir("keep");
    let ini = d.join("users.ini");
    let original = "# Terracotta users and roles\r\n\
                    ; managed with realm users\r\n\
                    [main]\r\n\
                    securityManager.realms = $iniRealm\r\n\
                    \r\n\
                    [users]\r\n\
                    # servers\r\n\
                    server1 = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE\", terracotta\r\n\
                    \r\n\
                    ; clients go below\r\n\
                    \r\n\
                    [roles]\r\n\
                    # everything\r\n\
                    admin = *\r\n\
                    terracotta = cluster:*\r\n";
    std::fs::write(&ini, original).unwrap();

    ok(&users(
        &d,
        &[
            "add",
            "users.ini",
            "client1",
            "--roles",
            "terracotta",
            "--password-stdin",
        ],
        ALICE_PW,
    ));
    let added = read(&ini);
    let client_line = format!("{}\r\n", line_of(&added, "client1").trim_end());
    // The new entry goes after the section's last entry; every other byte is the original's
    // (CRLF line endings included).
    assert_eq!(
        added,
        original.replace(
            ", terracotta\r\n",
            &format!(", terracotta\r\n{client_line}")
        )
    );

    ok(&users(
        &d,
        &["roles", "users.ini", "client1", "--add", "admin"],
        "",
    ));
    ok(&users(
        &d,
        &["roles", "users.ini", "client1", "--remove", "admin"],
        "",
    ));
    assert_eq!(
        read(&ini),
        added,
        "a role added and removed leaves the file as it was"
    );

    ok(&users(
        &d,
        &["passwd", "users.ini", "server1", "--password-stdin"],
        BOB_PW,
    ));
    let changed = read(&ini);
    let server_line = format!("{}\r\n", line_of(&changed, "server1").trim_end());
    assert_ne!(
        server_line,
        format!("{}\r\n", line_of(&added, "server1").trim_end())
    );
    assert_eq!(
        changed,
        added.replace(
            &format!("{}\r\n", line_of(&added, "server1").trim_end()),
            &server_line
        )
    );

    ok(&users(&d, &["remove", "users.ini", "client1"], ""));
    assert_eq!(read(&ini), changed.replace(&client_line, ""));
}

#[test]
fn a_weak_password_is_refused_with_every_rule_it_breaks() {
    let d = dir("policy");
    let out = users(
        &d,
        &["add", "users.ini", "abc", "--create", "--password-stdin"],
        "aabc123\n",
    );
    let err = fails(&out);
    for rule in [
        "at least 8 characters",
        "user name",
        "special character",
        "same letter twice in a row",
        "consecutive letters",
        "consecutive digits",
    ] {
        assert!(err.contains(rule), "missing {rule:?} in: {err}");
    }
    assert!(!err.contains("aabc123"), "{err}");
    assert!(!d.join("users.ini").exists(), "nothing is written");

    // The dictionary: a whole-password match, in any letter case.
    std::fs::write(d.join("words.txt"), "password\ntr0ub4dor&3x\n").unwrap();
    let err = fails(&users(
        &d,
        &[
            "add",
            "users.ini",
            "alice",
            "--create",
            "--dictionary",
            "words.txt",
            "--password-stdin",
        ],
        ALICE_PW,
    ));
    assert!(err.contains("dictionary"), "{err}");
    assert_eq!(
        err.matches("\n  - ").count(),
        1,
        "only the dictionary rule: {err}"
    );

    // --min-length raises the minimum.
    let err = fails(&users(
        &d,
        &[
            "add",
            "users.ini",
            "alice",
            "--create",
            "--min-length",
            "16",
            "--password-stdin",
        ],
        ALICE_PW,
    ));
    assert!(err.contains("at least 16 characters"), "{err}");

    // --no-policy (for legacy users) accepts it, and says so.
    let out = users(
        &d,
        &[
            "add",
            "users.ini",
            "legacy",
            "--create",
            "--no-policy",
            "--password-stdin",
        ],
        "aabc123",
    );
    ok(&out);
    assert!(
        text(&out.stderr).contains("warning: --no-policy"),
        "{}",
        text(&out.stderr)
    );
    assert!(read(&d.join("users.ini")).contains("legacy = \"$argon2id$"));
    // ... but never an empty password.
    let err = fails(&users(
        &d,
        &[
            "add",
            "users.ini",
            "empty",
            "--no-policy",
            "--password-stdin",
        ],
        "\n",
    ));
    assert!(err.contains("empty password"), "{err}");
}

#[test]
fn passwords_are_never_taken_from_the_command_line() {
    let d = dir("argv");
    let out = users(&d, &["add", "users.ini", "alice", ALICE_PW, "--create"], "");
    fails(&out);
    assert!(!d.join("users.ini").exists());
}

#[test]
fn a_user_added_by_realm_users_logs_in() {
    let d = dir("login");
    ok(&users(
        &d,
        &[
            "add",
            "users.ini",
            "alice",
            "--create",
            "--roles",
            "admin,operator",
            "--password-stdin",
        ],
        ALICE_PW,
    ));
    std::fs::write(
        d.join("security.yaml"),
        "security:\n  realms:\n    - name: files\n      authentication:\n        ini:\n          path: users.ini\n",
    )
    .unwrap();
    let login = |pw: &str| {
        realm(
            &d,
            &[
                "login",
                "--config",
                "security.yaml",
                "--realm",
                "files",
                "--username",
                "alice",
                "--password-stdin",
                "--json",
            ],
            pw,
        )
    };
    let out = login(ALICE_PW);
    assert_eq!(
        ok(&out).trim(),
        r#"{"identity":"alice","roles":["admin","operator"],"endpoint":null}"#
    );
    assert_eq!(login("wrong-Passw0rd!").status.code(), Some(1));

    ok(&users(
        &d,
        &["passwd", "users.ini", "alice", "--password-stdin"],
        ALICE_PW2,
    ));
    assert_eq!(login(ALICE_PW).status.code(), Some(1));
    ok(&login(ALICE_PW2));
}

#[test]
fn concurrent_adds_all_land_in_the_file() {
    let d = dir("concurrent");
    ok(&users(
        &d,
        &["add", "users.ini", "first", "--create", "--password-stdin"],
        ALICE_PW,
    ));
    let names = ["u1", "u2", "u3", "u4", "u5", "u6"];
    // Spawn all, then feed and wait: the runs overlap.
    let children: Vec<Child> = names
        .iter()
        .map(|n| {
            spawn(
                &d,
                &[
                    "users",
                    "add",
                    "users.ini",
                    n,
                    "--roles",
                    n,
                    "--password-stdin",
                ],
            )
        })
        .collect();
    for child in children {
        ok(&feed(child, BOB_PW));
    }
    let listed = ok(&users(&d, &["list", "users.ini"], ""));
    assert!(listed.starts_with("first: (no roles)\n"), "{listed}");
    for n in names {
        assert!(
            listed.contains(&format!("{n}: {n}\n")),
            "{n} is missing: {listed}"
        );
    }
    assert_eq!(listed.lines().count(), names.len() + 1, "{listed}");
    // No temporary files are left behind.
    let mut files: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["users.ini", "users.ini.lock"]);
}

#[test]
fn a_writer_waits_for_the_lock_of_another() {
    let d = dir("lock");
    ok(&users(
        &d,
        &["add", "users.ini", "first", "--create", "--password-stdin"],
        ALICE_PW,
    ));
    let before = read(&d.join("users.ini"));
    // Another writer holds the lock.
    let lock = std::fs::File::options()
        .write(true)
        .open(d.join("users.ini.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut children: Vec<Child> = ["u1", "u2"]
        .iter()
        .map(|n| {
            let mut c = spawn(&d, &["users", "add", "users.ini", n, "--password-stdin"]);
            let _ = c.stdin.take().unwrap().write_all(BOB_PW.as_bytes());
            c
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for c in &mut children {
        assert!(c.try_wait().unwrap().is_none(), "finished without the lock");
    }
    assert_eq!(read(&d.join("users.ini")), before);
    drop(lock);
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    assert_eq!(
        ok(&users(&d, &["list", "users.ini"], "")).lines().count(),
        3
    );
}

#[test]
fn missing_users_and_existing_users_exit_2_with_a_clear_message() {
    let d = dir("missing");
    ok(&users(
        &d,
        &["add", "users.ini", "alice", "--create", "--password-stdin"],
        ALICE_PW,
    ));
    let before = read(&d.join("users.ini"));
    for args in [
        vec!["passwd", "users.ini", "nobody", "--password-stdin"],
        vec!["remove", "users.ini", "nobody"],
        vec!["roles", "users.ini", "nobody", "--add", "x"],
    ] {
        let err = fails(&users(&d, &args, ALICE_PW));
        assert_eq!(err, "users.ini: no user \"nobody\"\n", "{args:?}");
    }
    let err = fails(&users(
        &d,
        &["add", "users.ini", "alice", "--password-stdin"],
        BOB_PW,
    ));
    assert!(
        err.contains("users.ini:2: user \"alice\" already exists"),
        "{err}"
    );
    assert!(err.contains("passwd"), "{err}");
    assert_eq!(read(&d.join("users.ini")), before);

    // A file that does not exist, for every command.
    for args in [
        vec!["list", "nope.ini"],
        vec!["remove", "nope.ini", "alice"],
        vec!["passwd", "nope.ini", "alice", "--password-stdin"],
    ] {
        let err = fails(&users(&d, &args, ALICE_PW));
        assert!(err.starts_with("nope.ini: no such file"), "{args:?}: {err}");
    }
    // A file that does not parse: the error names the line.
    std::fs::write(d.join("bad.ini"), "[users]\nalice = x\nbob\n").unwrap();
    let err = fails(&users(&d, &["remove", "bad.ini", "alice"], ""));
    assert!(err.starts_with("bad.ini:3:"), "{err}");
}
