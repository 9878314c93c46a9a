//! A real MIT Kerberos KDC (`krb5kdc`, Debian package `krb5-kdc`) for the realm `REALM.TEST`.
//!
//! [`Kdc::start`] writes a private `krb5.conf` and `kdc.conf` into a fresh temp directory,
//! creates the realm's database there with `kdb5_util create -s` (a random master password,
//! stashed), and runs `krb5kdc -n` (in the foreground) on one free port of 127.0.0.1, for both
//! UDP and TCP; nothing else is bound. Principals and keytabs are made with `kadmin.local`
//! ([`Kdc::kadmin`] and the helpers around it), which works on the database directly: there is
//! no `kadmind`. Nothing of the machine's Kerberos setup is used (`/etc/krb5.conf`,
//! `/etc/krb5kdc`, `/var/lib/krb5kdc`): every command the harness runs gets the environment of
//! [`Kdc::env`], and so must every child process of a test that should use this realm. The
//! harness never changes its own process's environment.
//!
//! The client configuration ([`Kdc::krb5_conf`]) has, besides `REALM.TEST` (the default realm),
//! a realm [`DOWN_REALM`] whose KDC address is a loopback port where nothing listens, for "KDC
//! unreachable" tests. It turns off every DNS lookup (`dns_lookup_kdc`, `dns_lookup_realm`,
//! `rdns`, `dns_canonicalize_hostname`), prefers TCP (`udp_preference_limit = 1`), allows only
//! [`CLOCKSKEW_SECS`] of clock skew (the KDC reads the same file), and issues 10-hour,
//! non-forwardable tickets. The realm's keys are `aes256-cts-hmac-sha1-96` and
//! `aes128-cts-hmac-sha1-96`.
//!
//! With the KDC stopped ([`Kdc::stop`]), `kinit` fails within milliseconds (the port refuses
//! connections) with
//!
//! ```text
//! kinit: Cannot contact any KDC for realm 'REALM.TEST' while getting initial credentials
//! ```
//!
//! and the same for [`DOWN_REALM`]. [`Kdc::log`] holds krb5kdc's log, one line per request,
//! e.g.
//!
//! ```text
//! Dec 07 02:12:05 vm krb5kdc[10348](info): AS_REQ (8 etypes {aes256-cts-hmac-sha1-96(18), ...}) 127.0.0.1: ISSUE: authtime 1796609525, etypes {rep=aes256-cts-hmac-sha1-96(18), tkt=aes256-cts-hmac-sha1-96(18), ses=aes256-cts-hmac-sha1-96(18)}, alice@REALM.TEST for krbtgt/REALM.TEST@REALM.TEST
//! Dec 07 02:12:05 vm krb5kdc[10348](info): TGS_REQ (8 etypes {...}) 127.0.0.1: ISSUE: authtime 1796609525, etypes {...}, alice@REALM.TEST for hz/127.0.0.1@REALM.TEST
//! ```
//!
//! (its first line, `preauth spake failed to initialize: No SPAKE preauth groups configured`,
//! tagged `(Error)`, is normal: SPAKE pre-authentication is simply off).

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    free_port, kill_group, require_binary, spawn_group, tail, temp_dir, wait_for_port,
    wait_for_port_closed,
};

/// The realm the KDC serves, also the clients' default realm.
pub const REALM: &str = "REALM.TEST";
/// A second realm in [`Kdc::krb5_conf`] whose KDC address (a loopback port) has nothing
/// listening: any request for it fails with "Cannot contact any KDC".
pub const DOWN_REALM: &str = "DOWN.TEST";
/// The clock skew allowed (`clockskew` in `krb5.conf`, used by the clients and the KDC), in
/// seconds. Deliberately short, so that tests can wait out a ticket's end or a skewed
/// timestamp in a few seconds.
pub const CLOCKSKEW_SECS: u64 = 2;

/// The Debian package of `krb5kdc` and `kdb5_util`.
const KDC_PACKAGE: &str = "krb5-kdc";
/// The Debian package of `kadmin.local`.
const ADMIN_PACKAGE: &str = "krb5-admin-server";
/// The ticket cache in [`Kdc::env`] (and `default_ccache_name` in `krb5.conf`).
const CCACHE: &str = "MEMORY:realm-tests";
/// How long krb5kdc may take to start before the test fails.
const START_LIMIT: Duration = Duration::from_secs(15);
/// How long krb5kdc may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long `kdb5_util` and `kadmin.local` may run before the test fails.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);
/// The file in the KDC's directory holding the pid of the running krb5kdc (its process group).
const PID_FILE: &str = "krb5kdc.group";
/// How many times to pick a new port when another process took ours before krb5kdc bound it.
const PORT_ATTEMPTS: usize = 5;

/// One running MIT `krb5kdc` for [`REALM`], with its database, configuration and log in its own
/// temp directory, on its own port. Dropping it stops krb5kdc and removes the directory; should
/// the test process end without dropping it (an abort, a kill), a watchdog process does that
/// once the test process is gone.
#[derive(Debug)]
pub struct Kdc {
    dir: PathBuf,
    log: PathBuf,
    krb5_conf: PathBuf,
    kdc_conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Kdc {
    /// Creates the realm and starts krb5kdc; returns once it accepts TCP connections. Panics
    /// with a clear message (and the tail of the KDC log) on failure, or with an install hint if
    /// a binary is missing.
    pub fn start() -> Kdc {
        let kdb5_util = require_binary("kdb5_util", KDC_PACKAGE);
        require_binary("krb5kdc", KDC_PACKAGE);
        require_binary("kadmin.local", ADMIN_PACKAGE);
        let dir = temp_dir("kdc");
        std::fs::create_dir_all(dir.join("rcache")).unwrap();
        std::fs::write(dir.join("kadm5.acl"), "").unwrap();
        let mut kdc = Kdc {
            log: dir.join("kdc.log"),
            krb5_conf: dir.join("krb5.conf"),
            kdc_conf: dir.join("kdc.conf"),
            dir,
            port: 0,
            child: None,
        };
        process_watchdog(&kdc.dir);

        // The database does not depend on the port: the configuration is written again for
        // each port attempt below.
        kdc.write_config(free_port("127.0.0.1"));
        let master_password = random_hex(16);
        let mut cmd = Command::new(kdb5_util);
        cmd.args(["-r", REALM, "create", "-s", "-P", &master_password]);
        let out = kdc.run(&mut cmd, "kdb5_util create");
        assert!(
            out.status.success(),
            "kdb5_util create failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        let mut last_error = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            if attempt > 0 {
                kdc.write_config(free_port("127.0.0.1"));
            }
            match kdc.spawn() {
                Ok(child) => {
                    kdc.child = Some(child);
                    return kdc;
                }
                // EADDRINUSE: another process took the port (TCP or UDP) before krb5kdc bound it.
                Err(e) if e.contains("Address already in use") => last_error = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("krb5kdc found no free port in {PORT_ATTEMPTS} attempts: {last_error}");
    }

    /// `REALM.TEST` ([`REALM`]).
    pub fn realm(&self) -> &str {
        REALM
    }

    /// The KDC's temp directory: configuration, database, log, keytabs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The KDC's port on 127.0.0.1, the same number for UDP and TCP.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client configuration (`krb5.conf`) for this realm and [`DOWN_REALM`]; krb5kdc and
    /// `kadmin.local` read it too. See the module documentation for its settings.
    pub fn krb5_conf(&self) -> &Path {
        &self.krb5_conf
    }

    /// The environment a child process needs to use this realm: `KRB5_CONFIG` ([`Kdc::krb5_conf`]),
    /// `KRB5_KDC_PROFILE` (the KDC's `kdc.conf`), `KRB5RCACHEDIR` (a directory in
    /// [`Kdc::dir`]), `KRB5CCNAME=MEMORY:realm-tests` and `KRB5_KTNAME=<dir>/default.keytab` (a
    /// keytab that does not exist unless a test exports one there). `KRB5_TRACE` is not set.
    pub fn env(&self) -> Vec<(String, String)> {
        let path = |p: &Path| p.display().to_string();
        vec![
            ("KRB5_CONFIG".into(), path(&self.krb5_conf)),
            ("KRB5_KDC_PROFILE".into(), path(&self.kdc_conf)),
            ("KRB5RCACHEDIR".into(), path(&self.dir.join("rcache"))),
            ("KRB5CCNAME".into(), CCACHE.into()),
            ("KRB5_KTNAME".into(), path(&self.dir.join("default.keytab"))),
        ]
    }

    /// Runs `kadmin.local -q <query>` on this realm's database and returns its standard output
    /// (which starts with `Authenticating as principal ...`). Panics with the output if it exits
    /// with an error or reports one: `kadmin.local` exits 0 after most failed queries and says
    /// so only on stderr, in lines such as `add_principal: Principal or policy already exists
    /// while creating "alice@REALM.TEST".` or `kadmin.local: Principal nosuch does not exist.`
    /// (`WARNING: ...` lines and the `No policy specified ...` notice are not errors).
    ///
    /// Arguments in `query` are split at whitespace; quote one that contains whitespace with
    /// double quotes (a literal `"` inside quotes is written `""`).
    pub fn kadmin(&self, query: &str) -> String {
        self.try_kadmin(query).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Adds the principal `name` with random keys (`addprinc -randkey`). Without `@REALM`, the
    /// name is in [`REALM`].
    pub fn add_random_key_principal(&self, name: &str) {
        self.kadmin(&format!("addprinc -randkey {}", quote(name)));
    }

    /// Adds the principal `name` with keys derived from `password` (`addprinc -pw`). Without
    /// `@REALM`, the name is in [`REALM`]. The password may contain whitespace and quotes.
    pub fn add_password_principal(&self, name: &str, password: &str) {
        self.kadmin(&format!("addprinc -pw {} {}", quote(password), quote(name)));
    }

    /// Writes keys of `principals` to the keytab `<dir>/<file>` (`ktadd -k`) and returns its
    /// path; the file has mode 0600. This gives each principal new random keys and a kvno one
    /// higher (so a keytab exported earlier for the same principal is then stale: wrong kvno
    /// and keys), and so makes a password principal's password useless. An existing file is
    /// appended to.
    pub fn export_keytab(&self, file: &str, principals: &[&str]) -> PathBuf {
        self.ktadd("", file, principals)
    }

    /// Like [`Kdc::export_keytab`], but keeps the principals' current keys and kvno
    /// (`ktadd -norandkey`): earlier keytabs stay valid, passwords keep working.
    pub fn export_keytab_norandkey(&self, file: &str, principals: &[&str]) -> PathBuf {
        self.ktadd("-norandkey ", file, principals)
    }

    /// The current key version number of `principal`: the highest `Key: vno N` in `getprinc`.
    /// Panics if the principal does not exist or has no keys.
    pub fn kvno(&self, principal: &str) -> u32 {
        let out = self.kadmin(&format!("getprinc {}", quote(principal)));
        parse_kvno(&out).unwrap_or_else(|| panic!("getprinc {principal} shows no keys:\n{out}"))
    }

    /// Stops krb5kdc (SIGTERM, then SIGKILL after a grace period); when this returns, nothing
    /// accepts connections on the KDC's port. The database and log stay. Stopping a stopped KDC
    /// does nothing.
    pub fn stop(&mut self) {
        if self.halt() {
            wait_for_port_closed(self.addr(), Duration::from_secs(10));
        }
    }

    /// Stops krb5kdc if it runs, then starts it again on the same port with the same database;
    /// returns once it accepts connections. Panics if it cannot (e.g. the port was taken).
    pub fn restart(&mut self) {
        self.stop();
        match self.spawn() {
            Ok(child) => self.child = Some(child),
            Err(e) => panic!("krb5kdc did not come back on port {}: {e}", self.port),
        }
    }

    /// Everything krb5kdc has logged so far, over all its restarts (one line per request; see
    /// the module documentation).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// [`Kdc::kadmin`], with the failure as an error rather than a panic.
    fn try_kadmin(&self, query: &str) -> Result<String, String> {
        let mut cmd = Command::new(require_binary("kadmin.local", ADMIN_PACKAGE));
        cmd.args(["-r", REALM, "-q", query]);
        let out = self.run(&mut cmd, "kadmin.local");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors = kadmin_errors(&stderr);
        if out.status.success() && errors.is_empty() {
            return Ok(stdout);
        }
        let reported = if errors.is_empty() {
            String::new()
        } else {
            format!(", reported: {}", errors.join(" / "))
        };
        Err(format!(
            "kadmin.local -q {query:?} failed ({}{reported}):\n{stdout}{stderr}",
            out.status
        ))
    }

    /// `ktadd [options]-k <dir>/<file> <principals...>`, with the file's mode checked.
    fn ktadd(&self, options: &str, file: &str, principals: &[&str]) -> PathBuf {
        assert!(
            !principals.is_empty(),
            "export a keytab of which principals?"
        );
        let path = self.dir.join(file);
        let names: Vec<String> = principals.iter().map(|p| quote(p)).collect();
        self.kadmin(&format!(
            "ktadd {options}-k {} {}",
            quote(&path.display().to_string()),
            names.join(" ")
        ));
        // kadmin creates keytabs with mode 0600 (whatever the umask); make sure of it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("ktadd wrote no keytab {}: {e}", path.display()));
        path
    }

    /// Writes `krb5.conf` and `kdc.conf` for the KDC port `port` (and a new unused port for
    /// [`DOWN_REALM`]).
    fn write_config(&mut self, port: u16) {
        self.port = port;
        let down_port = loop {
            let p = free_port("127.0.0.1");
            if p != port {
                break p;
            }
        };
        std::fs::write(&self.krb5_conf, krb5_conf(port, down_port)).unwrap();
        std::fs::write(&self.kdc_conf, kdc_conf(&self.dir, port)).unwrap();
    }

    /// Starts krb5kdc on this instance's port and waits until it accepts TCP connections. On
    /// failure, the reason with the KDC's log of this start.
    fn spawn(&self) -> Result<Child, String> {
        let krb5kdc = require_binary("krb5kdc", KDC_PACKAGE);
        let log_start = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(krb5kdc);
        cmd.args(["-n", "-r", REALM]).envs(self.env());
        let mut child = spawn_group(&mut cmd, &self.log);
        std::fs::write(self.dir.join(PID_FILE), child.id().to_string()).unwrap();
        let addr = self.addr();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let _ = std::fs::remove_file(self.dir.join(PID_FILE));
                return Err(format!(
                    "krb5kdc (127.0.0.1:{}) exited at startup with {status}:\n{}",
                    self.port,
                    String::from_utf8_lossy(&log_since(&self.log, log_start))
                ));
            }
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if started.elapsed() > START_LIMIT {
                kill_group(child.id(), Duration::ZERO);
                let _ = child.wait();
                let _ = std::fs::remove_file(self.dir.join(PID_FILE));
                return Err(format!(
                    "krb5kdc did not accept connections on {addr} within {START_LIMIT:?}:\n{}",
                    tail(&self.log, 30)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Confirms, with the helper's own message, that the port serves.
        wait_for_port(addr, START_LIMIT, "krb5kdc");
        Ok(child)
    }

    /// Kills the running krb5kdc, if any, and reaps it. True if one was running.
    fn halt(&mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let pid = c.id();
        // Reap krb5kdc as soon as it exits, so that kill_group sees an empty group then and does
        // not wait out its grace period on a zombie.
        let reaper = std::thread::spawn(move || {
            let _ = c.wait();
        });
        kill_group(pid, STOP_GRACE);
        let _ = reaper.join();
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
        true
    }

    /// The KDC's TCP address.
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Runs an administration command (`kdb5_util`, `kadmin.local`) with this realm's
    /// environment and no stdin; panics if it cannot be run or takes longer than
    /// [`COMMAND_LIMIT`].
    fn run(&self, cmd: &mut Command, what: &str) -> Output {
        let child = cmd
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(COMMAND_LIMIT) {
            Ok(out) => out.unwrap_or_else(|e| panic!("{what} did not finish: {e}")),
            Err(_) => {
                kill_group(pid, Duration::ZERO);
                panic!(
                    "{what} did not finish within {COMMAND_LIMIT:?}; KDC log:\n{}",
                    tail(&self.log, 20)
                );
            }
        }
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        self.halt();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The client (and KDC) configuration: see the module documentation.
fn krb5_conf(port: u16, down_port: u16) -> String {
    format!(
        "[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    ignore_acceptor_hostname = false
    udp_preference_limit = 1
    clockskew = {CLOCKSKEW_SECS}
    ticket_lifetime = 10h
    forwardable = false
    default_ccache_name = {CCACHE}

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}
    {DOWN_REALM} = {{
        kdc = 127.0.0.1:{down_port}
    }}
"
    )
}

/// The KDC's configuration. The listen addresses are set in `[realms]` too, as addresses: the
/// per-realm `kdc_ports` would bind the wildcard addresses.
fn kdc_conf(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
    kdc_tcp_listen_backlog = 64

[realms]
    {REALM} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        max_life = 10h
        max_renewable_life = 0
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
        kdc_listen = 127.0.0.1:{port}
        kdc_tcp_listen = 127.0.0.1:{port}
    }}

[logging]
    kdc = FILE:{d}/kdc.log
    admin_server = FILE:{d}/kadmin.log
    default = FILE:{d}/krb5.log
"
    )
}

/// The error lines in `kadmin.local`'s stderr: `<command>: <message>` (the command name without
/// whitespace, e.g. `add_principal:`, `kadmin.local:`, `usage:`), except `WARNING: ...`.
fn kadmin_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| {
            line.split_once(": ").is_some_and(|(head, _)| {
                !head.is_empty()
                    && !head.contains(char::is_whitespace)
                    && !head.eq_ignore_ascii_case("warning")
            })
        })
        .collect()
}

/// The highest `Key: vno N` in `getprinc` output.
fn parse_kvno(getprinc: &str) -> Option<u32> {
    getprinc
        .lines()
        .filter_map(|l| l.strip_prefix("Key: vno "))
        .filter_map(|rest| rest.split(',').next()?.trim().parse().ok())
        .max()
}

/// `arg` as one argument of a `kadmin.local` query: in double quotes, with `"` doubled.
fn quote(arg: &str) -> String {
    format!("\"{}\"", arg.replace('"', "\"\""))
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("cannot read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a watchdog for the KDC whose directory is `dir`: once this test process has exited,
/// it kills the process group whose leader's pid is in `dir/krb5kdc.group` (rewritten by every
/// start, so it follows restarts; removed by every stop) and removes `dir`. It ends by itself
/// once `dir` is gone (the KDC was dropped). Like the slapd harness's watchdog, for the same
/// reasons: it must follow restarts, and run under `dash`, whose `kill` builtin rejects `--`.
fn process_watchdog(dir: &Path) {
    let me = std::process::id();
    let d = dir.display();
    let script = format!(
        "while kill -0 {me} 2>/dev/null && [ -d '{d}' ]; do sleep 0.5; done; \
         p=$(cat '{d}/{PID_FILE}' 2>/dev/null); \
         if [ -n \"$p\" ]; then \
           env kill -TERM -- \"-$p\" 2>/dev/null; i=0; \
           while [ $i -lt 50 ] && env kill -0 -- \"-$p\" 2>/dev/null; do sleep 0.1; i=$((i+1)); done; \
           env kill -KILL -- \"-$p\" 2>/dev/null; \
         fi; \
         rm -rf '{d}'"
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// The bytes of the file at `path` from byte `offset` on (empty if it cannot be read).
fn log_since(path: &Path, offset: u64) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.read_to_end(&mut bytes);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// alice's password: with whitespace and a quote, to check the quoting of kadmin queries.
    const PASSWORD: &str = "alice pw \"1\"";

    /// Runs `bin args...` (from `krb5-user`) with the realm's environment, a file ticket cache
    /// and `env` on top, and `stdin` on its standard input.
    fn client(kdc: &Kdc, bin: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(require_binary(bin, "krb5-user"))
            .args(args)
            .envs(kdc.env())
            .env("KRB5CCNAME", format!("FILE:{}/cc", kdc.dir().display()))
            .envs(env.iter().copied())
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
        child.wait_with_output().unwrap()
    }

    /// `kinit alice` with her password, and `env` on top of the realm's environment.
    fn kinit_alice(kdc: &Kdc, env: &[(&str, &str)]) -> Output {
        client(kdc, "kinit", &["alice"], &format!("{PASSWORD}\n"), env)
    }

    fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    #[test]
    fn kdc_issues_tickets_and_stops_and_restarts() {
        let started = Instant::now();
        let mut kdc = Kdc::start();
        eprintln!(
            "krb5kdc started in {:?} on port {}",
            started.elapsed(),
            kdc.port()
        );
        assert_eq!(kdc.realm(), REALM);

        kdc.add_password_principal("alice", PASSWORD);
        kdc.add_random_key_principal("hz/127.0.0.1");
        let before = kdc.kvno("hz/127.0.0.1");
        let keytab = kdc.export_keytab("hz.keytab", &["hz/127.0.0.1"]);
        let mode = std::fs::metadata(&keytab).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "keytab mode");
        let kvno = kdc.kvno("hz/127.0.0.1");
        assert_eq!(kvno, before + 1, "ktadd bumps the kvno");
        kdc.export_keytab_norandkey("hz2.keytab", &["hz/127.0.0.1"]);
        assert_eq!(kdc.kvno("hz/127.0.0.1"), kvno, "ktadd -norandkey keeps it");

        // Over TCP, as krb5.conf prefers it.
        let out = kinit_alice(&kdc, &[("KRB5_TRACE", "/dev/stderr")]);
        assert!(out.status.success(), "kinit: {}", text(&out));
        assert!(text(&out).contains("Sending TCP request"), "{}", text(&out));
        let out = client(&kdc, "kvno", &["hz/127.0.0.1@REALM.TEST"], "", &[]);
        assert!(out.status.success(), "kvno: {}", text(&out));
        let printed = text(&out);
        let shown: u32 = printed
            .rsplit("kvno = ")
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("kvno printed {printed:?}: {e}"));
        assert_eq!(shown, kvno);
        assert!(kdc.log().contains("TGS_REQ"), "{}", kdc.log());

        // The KDC serves UDP on the same port.
        let udp_conf = kdc.dir().join("krb5-udp.conf");
        let conf = std::fs::read_to_string(kdc.krb5_conf()).unwrap();
        std::fs::write(
            &udp_conf,
            conf.replace(
                "udp_preference_limit = 1\n",
                "udp_preference_limit = 65535\n",
            ),
        )
        .unwrap();
        let udp_conf = udp_conf.display().to_string();
        let out = kinit_alice(
            &kdc,
            &[("KRB5_CONFIG", &udp_conf), ("KRB5_TRACE", "/dev/stderr")],
        );
        assert!(out.status.success(), "kinit over UDP: {}", text(&out));
        assert!(text(&out).contains("UDP request"), "{}", text(&out));

        let out = client(&kdc, "kinit", &["someone@DOWN.TEST"], "pw\n", &[]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("Cannot contact any KDC for realm 'DOWN.TEST'"),
            "{}",
            text(&out)
        );

        let stopped = Instant::now();
        kdc.stop();
        eprintln!("krb5kdc stopped in {:?}", stopped.elapsed());
        let out = kinit_alice(&kdc, &[]);
        assert!(!out.status.success());
        eprintln!("kinit with the KDC down: {}", text(&out).trim());
        assert!(
            text(&out).contains("Cannot contact any KDC for realm 'REALM.TEST'"),
            "{}",
            text(&out)
        );
        kdc.stop();

        let restarted = Instant::now();
        kdc.restart();
        eprintln!("krb5kdc restarted in {:?}", restarted.elapsed());
        let out = kinit_alice(&kdc, &[]);
        assert!(out.status.success(), "kinit after restart: {}", text(&out));

        let dir = kdc.dir().to_path_buf();
        drop(kdc);
        assert!(!dir.exists(), "the temp dir is removed");
    }

    #[test]
    fn kadmin_reports_errors_that_exit_zero() {
        let kdc = Kdc::start();
        kdc.add_random_key_principal("dup");
        let mut prefixes = Vec::new();
        for query in [
            "addprinc -randkey dup",
            "getprinc nosuch",
            "ktadd -k x.keytab nosuch",
            "cpw -randkey nosuch",
            "no_such_command",
        ] {
            let e = kdc.try_kadmin(query).unwrap_err();
            prefixes.push(
                e.split(", reported: ")
                    .nth(1)
                    .unwrap()
                    .split(": ")
                    .next()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(
            prefixes,
            [
                "add_principal",
                "get_principal",
                "kadmin.local",
                "change_password",
                "kadmin.local"
            ]
        );
        let out = kdc
            .try_kadmin("addprinc -randkey -policy nopol warned")
            .unwrap();
        assert!(
            out.contains("Principal \"warned@REALM.TEST\" created."),
            "{out}"
        );
    }

    #[test]
    fn kadmin_errors_are_the_command_prefixed_lines() {
        let ok = "No policy specified for alice@REALM.TEST; defaulting to no policy\n\
                  WARNING: policy \"nopol\" does not exist\n";
        assert!(kadmin_errors(ok).is_empty());
        for bad in [
            "add_principal: Principal or policy already exists while creating \"a@REALM.TEST\".",
            "kadmin.local: Principal nosuch does not exist.",
            "kadmin.local: Key table file '/x/y.keytab' not found while adding key to keytab",
            "get_principal: Principal does not exist while retrieving \"nosuch@REALM.TEST\".",
            "usage: add_principal [options] principal",
        ] {
            assert_eq!(kadmin_errors(&format!("{ok}{bad}\n")), vec![bad]);
        }
    }

    #[test]
    fn kvno_is_the_highest_key_version() {
        let out = "Principal: hz/127.0.0.1@REALM.TEST\nNumber of keys: 3\n\
                   Key: vno 3, aes256-cts-hmac-sha1-96\nKey: vno 4, aes256-cts-hmac-sha1-96\n\
                   Key: vno 4, aes128-cts-hmac-sha1-96\nMKey: vno 1\n";
        assert_eq!(parse_kvno(out), Some(4));
        assert_eq!(parse_kvno("Number of keys: 0\nMKey: vno 1\n"), None);
    }

    #[test]
    fn quoted_arguments_double_their_quotes() {
        assert_eq!(quote("a b\"c"), "\"a b\"\"c\"");
    }
}
