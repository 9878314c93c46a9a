//! Small process, port and directory helpers shared by the server harnesses.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where Debian installs server binaries that are not on a normal user's `PATH`.
const SBIN: &[&str] = &["/usr/sbin", "/usr/local/sbin", "/sbin"];

/// The full path of `binary`, or a panic that says which Debian package provides it and that
/// `./scripts/test` installs everything the tests need.
pub fn require_binary(binary: &str, package: &str) -> PathBuf {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in path_dirs
        .iter()
        .map(PathBuf::as_path)
        .chain(SBIN.iter().map(Path::new))
    {
        let candidate = dir.join(binary);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{binary}` is not installed: these tests run a real server. Install it with \
         `sudo apt-get install {package}` (Debian/Ubuntu), or run `./scripts/test`, which installs \
         every package the test suite needs and then runs it"
    );
}

/// A fresh, empty directory under the system temp dir, unique to this process and call.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("realm-testkit-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// A TCP port on `ip` that was free a moment ago (bound to port 0, then released).
pub fn free_port(ip: &str) -> u16 {
    let l = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("cannot bind {ip}:0: {e}"));
    l.local_addr().unwrap().port()
}

/// Waits until something accepts TCP connections on `addr`, or panics after `limit` with `what`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration, what: &str) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not accept connections on {addr} within {limit:?}");
}

/// Waits until nothing accepts TCP connections on `addr` any more (after a kill).
pub fn wait_for_port_closed(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{addr} still accepts connections {limit:?} after its server was stopped");
}

/// Starts `cmd` as the leader of a new process group (so that it and every process it forks can
/// be killed together), with stdout/stderr appended to `log`.
pub fn spawn_group(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Kills the process group led by `pid` (TERM, then KILL after a grace period).
pub fn kill_group(pid: u32, grace: Duration) {
    let g = format!("-{pid}");
    let _ = Command::new("kill").args(["-TERM", "--", &g]).status();
    let start = Instant::now();
    while start.elapsed() < grace {
        // `kill -0` on the group fails once no member is left.
        let alive = Command::new("kill")
            .args(["-0", "--", &g])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !alive {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &g]).status();
}

/// Starts a watchdog that, once this test process has exited, kills the process group led by
/// `pid` and removes `dir`. Servers shared by a whole test binary live in statics, which Rust
/// never drops: the watchdog is what tears them down.
pub fn watchdog(pid: u32, dir: &Path) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
         env kill -TERM -- -{pid} 2>/dev/null; sleep 1; env kill -KILL -- -{pid} 2>/dev/null; \
         rm -rf '{}'",
        dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// The last `n` lines of a log file, for failure messages.
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A TCP server on 127.0.0.1 that accepts connections and never answers: the "silent server"
/// that a client must time out on. Connections are held open until the server is dropped.
pub struct SilentServer {
    addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SilentServer {
    /// Starts the server on a free loopback port.
    pub fn start() -> Self {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = l.local_addr().unwrap();
        l.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SilentServer { addr, stop }
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://{}", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
