//! `examples/secure-cluster`, the Terracotta-style setup, run as its README runs it: the
//! certificates from its `setup.sh`, users and the client keychain made with the `realm`
//! command, two example `server` processes (the client port with an ini realm over TLS, the group
//! port with the certificate realm over mutual TLS) and the example `client` as each peer.

use crate::{realm_bin, repo, temp_dir};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const MASTER: &str = "client-master-Pw1";

/// A binary of the examples package, built by `cargo test --workspace`.
fn example_bin(name: &str) -> PathBuf {
    let bin = realm_bin().with_file_name(name);
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (which builds it) or `cargo build -p realm-examples`",
        bin.display()
    );
    bin
}

fn realm(dir: &Path, args: &[&str], stdin: &str) {
    let mut c = crate::realm_command(dir, args);
    c.env("CLIENT_KEYCHAIN_PASSWORD", MASTER);
    let out = crate::run(c, stdin);
    assert!(
        out.status.success(),
        "realm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(example_bin("server"))
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("the server exited: {seen}");
        }
        seen.push_str(&line);
        if line.contains("listening on") {
            break;
        }
    }
    // Keep draining its log so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in err.lines() {});
    Server(child)
}

fn client(dir: &Path, args: &[&str], stdin: &str) -> (i32, String) {
    let mut c = Command::new(example_bin("client"));
    c.args(args)
        .current_dir(dir)
        .env("CLIENT_KEYCHAIN_PASSWORD", MASTER);
    let out = crate::run(
        {
            c.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c
        },
        stdin,
    );
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_terracotta_style_cluster_admits_servers_and_clients_by_role() {
    let d = temp_dir("secure-cluster", "run");
    for f in ["server.yaml", "client.yaml", "setup.sh"] {
        std::fs::copy(repo().join("examples/secure-cluster").join(f), d.join(f)).unwrap();
    }
    let setup = Command::new("bash")
        .arg("setup.sh")
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let (client_port, group_port) = (free_port(), free_port());
    let client_addr = format!("127.0.0.1:{client_port}");
    let group_addr = format!("127.0.0.1:{group_port}");
    for (user, role, pw) in [
        ("client1", "terracotta", "Cl1ent#pw-Xy"),
        ("admin1", "admin", "Adm1n#pw-Qz"),
        ("console1", "operator", "C0ns0le#pw-Wv"),
    ] {
        let mut args = vec!["users", "add"];
        if user == "client1" {
            args.push("--create");
        }
        args.extend(["users.ini", user, "--roles", role, "--password-stdin"]);
        realm(&d, &args, &format!("{pw}\n"));
    }
    for (i, (user, pw)) in [("client1", "Cl1ent#pw-Xy"), ("console1", "C0ns0le#pw-Wv")]
        .iter()
        .enumerate()
    {
        let uri = format!("tc://{user}@{client_addr}");
        let mut args = vec!["keychain", "add"];
        if i == 0 {
            args.push("-c");
        }
        args.extend([
            "client.keychain",
            &uri,
            "--password-stdin",
            "--master-password-env",
            "CLIENT_KEYCHAIN_PASSWORD",
        ]);
        realm(&d, &args, &format!("{pw}\n"));
    }

    let _clients = start_server(
        &d,
        &[
            "--config",
            "server.yaml",
            "--listen",
            &client_addr,
            "--tls",
            "--tls-no-client-cert",
            "--tls-cert",
            "server1.pem",
            "--tls-key",
            "server1.key",
            "--require-role",
            "terracotta,admin",
        ],
    );
    let _group = start_server(
        &d,
        &[
            "--config",
            "server.yaml",
            "--realm",
            "servers",
            "--listen",
            &group_addr,
            "--tls",
            "--tls-cert",
            "server1.pem",
            "--tls-key",
            "server1.key",
            "--require-role",
            "terracotta",
        ],
    );

    // server2 connects to server1's group port and is known by its certificate.
    let (code, out) = client(
        &d,
        &[
            "--connect",
            &group_addr,
            "--tls-ca",
            "ca.pem",
            "--tls-cert",
            "server2.pem",
            "--tls-key",
            "server2.key",
            "--certificate",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(r#""identity":"CN=server2,OU=terracotta,O=SAG","roles":["terracotta"]"#),
        "{out}"
    );
    // client1 (role terracotta), its password from the keychain.
    let tls = ["--connect", client_addr.as_str(), "--tls-ca", "ca.pem"];
    let with = |extra: &[&str]| -> Vec<String> {
        tls.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |extra: &[&str], stdin: &str| {
        let args = with(extra);
        client(
            &d,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            stdin,
        )
    };
    let (code, out) = run(
        &["--identity", "client.yaml", "--identity-realm", "client1"],
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(r#""identity":"client1","roles":["terracotta"]"#),
        "{out}"
    );
    // admin1 (role admin).
    let (code, out) = run(
        &["--username", "admin1", "--password-stdin"],
        "Adm1n#pw-Qz\n",
    );
    assert_eq!(code, 0, "{out}");
    // console1 authenticates (right password) but holds only `operator`: refused.
    let (code, out) = run(
        &["--identity", "client.yaml", "--identity-realm", "console1"],
        "",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"{"ok":false,"error":"denied"}"#), "{out}");
    // A client certificate is no way into the group port without the cluster CA.
    let (code, _) = client(
        &d,
        &[
            "--connect",
            &group_addr,
            "--tls-ca",
            "ca.pem",
            "--certificate",
        ],
        "",
    );
    assert_ne!(code, 0);
    // Plain TCP to the TLS client port gets nowhere.
    let (code, out) = client(
        &d,
        &[
            "--connect",
            &client_addr,
            "--username",
            "client1",
            "--password-stdin",
        ],
        "Cl1ent#pw-Xy\n",
    );
    assert_eq!(code, 3, "{out}");
}
