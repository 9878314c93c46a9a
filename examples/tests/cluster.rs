//! `examples/cluster`: a coordinator process and joining member processes over loopback (the
//! exchange over TLS, the coordinator known by its certificate), with the certificates made here
//! by the `openssl` tool. Refused: a coordinator with a certificate of another CA (the joiner does
//! not talk to it), and three intruders: a certificate from another CA, a captured response
//! replayed, and a good certificate from an unlisted address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use realm_testkit::tls::{Ca, Issued, Purpose, Validity};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn join(dir: &Path, addr: &str, name: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args([
            "join",
            "--connect",
            addr,
            "--name",
            name,
            "--tls-ca",
            "cluster-ca.pem",
        ])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn creds(i: &Issued) -> [String; 4] {
    [
        "--cert".into(),
        i.cert.display().to_string(),
        "--key".into(),
        i.key.display().to_string(),
    ]
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a coordinator with `cert` on a free port: the process, its log, its address.
fn start(dir: &Path, cert: &Issued) -> (Kill, BufReader<std::process::ChildStderr>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cluster"))
        .args([
            "coordinator",
            "--config",
            "join.yaml",
            "--name",
            "m1",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--tls-cert")
        .arg(&cert.cert)
        .arg("--tls-key")
        .arg(&cert.key)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let coordinator = Kill(child);
    let mut line = String::new();
    while log.read_line(&mut line).unwrap() > 0 {
        if let Some(a) = line.trim().strip_prefix("cluster: m1 coordinates on ") {
            return (coordinator, log, a.to_string());
        }
        line.clear();
    }
    panic!("the coordinator did not start: {line}");
}

#[test]
fn members_join_and_intruders_are_refused() {
    let dir = std::env::temp_dir().join(format!("realm-cluster-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ca = Ca::new(&dir, "Cluster CA");
    let other = Ca::new(&dir, "Intruder CA");
    std::fs::copy(&ca.cert, dir.join("cluster-ca.pem")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("cluster/join.yaml"),
        dir.join("join.yaml"),
    )
    .unwrap();
    let d = Validity::Days(1);
    let m2 = ca.issue("m2", "/O=Acme/OU=Members/CN=m2", &[], Purpose::Both, d);
    let m3 = ca.issue("m3", "/O=Acme/OU=Members/CN=m3", &[], Purpose::Both, d);
    let fake = other.issue("fake", "/O=Acme/OU=Members/CN=m4", &[], Purpose::Both, d);

    let m1 = ca.issue(
        "m1",
        "/O=Acme/OU=Members/CN=m1",
        &["IP:127.0.0.1"],
        Purpose::Both,
        d,
    );
    let impostor = other.issue(
        "imp",
        "/O=Acme/OU=Members/CN=m1",
        &["IP:127.0.0.1"],
        Purpose::Both,
        d,
    );

    let (coordinator, mut log, addr) = start(&dir, &m1);
    // A coordinator with a certificate from another CA: joiners do not talk to it at all.
    let (_impostor, _, fake_addr) = start(&dir, &impostor);
    let a2 = creds(&m2);
    let a2: Vec<&str> = a2.iter().map(String::as_str).collect();
    let (code, out) = join(&dir, &fake_addr, "m2", &a2);
    assert_eq!(code, 1, "impostor coordinator: {out}");
    assert!(out.contains("not the coordinator"), "{out}");

    let captured = dir.join("captured.json");
    let cap = captured.display().to_string();
    let mut a = creds(&m2).to_vec();
    a.extend(["--save-response".to_string(), cap.clone()]);
    let args: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out) = join(&dir, &addr, "m2", &args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("CN=m2,OU=Members,O=Acme"), "{out}");
    let a3 = creds(&m3);
    let args3: Vec<&str> = a3.iter().map(String::as_str).collect();
    assert_eq!(join(&dir, &addr, "m3", &args3).0, 0);

    // Intruders.
    let af = creds(&fake);
    let argsf: Vec<&str> = af.iter().map(String::as_str).collect();
    let (code, out) = join(&dir, &addr, "m4", &argsf);
    assert_eq!(code, 1, "wrong CA: {out}");
    let (code, out) = join(&dir, &addr, "m2", &["--replay", &cap]);
    assert_eq!(code, 1, "replay: {out}");
    let mut ab = args3.clone();
    ab.extend(["--bind", "127.0.0.3"]);
    let (code, out) = join(&dir, &addr, "m3", &ab);
    assert_eq!(code, 1, "unlisted address: {out}");

    drop(coordinator);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
    assert!(
        rest.contains("\"m2\" from 127.0.0.1")
            && rest.contains("joined as CN=m2,OU=Members,O=Acme"),
        "{rest}"
    );
    assert!(rest.contains("not a valid cluster certificate"), "{rest}");
    assert!(rest.contains("replayed on another connection"), "{rest}");
    assert!(
        rest.contains("127.0.0.3") && rest.contains("is not a member"),
        "{rest}"
    );
    println!("{rest}");
    let _ = std::fs::remove_dir_all(&dir);
}
