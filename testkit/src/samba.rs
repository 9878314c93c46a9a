//! A real Active Directory domain controller (Samba 4, Debian packages `samba`,
//! `samba-ad-provision`, `samba-dsdb-modules`) with the test directory of
//! `fixtures/samba_DIRECTORY.md`.
//!
//! [`SambaAd::start`] provisions a fresh domain `REALM.TEST` (NetBIOS `REALMTEST`, base DN
//! `DC=realm,DC=test`) into a new temp directory with `samba-tool domain provision` (about 4 s),
//! loads the fixtures offline into its `sam.ldb` with one Python process
//! (`fixtures/samba_fixtures.py`, about 0.5 s; `samba-tool` would take about 0.5 s per object),
//! and runs `samba -i -M single` (one process, in the foreground) with only the `ldap` service:
//! no KDC, DNS, SMB, RPC, NetBIOS or winbind. Simple binds do not need the KDC.
//!
//! Samba's LDAP ports are fixed (389, 636, and the global catalog's 3268, 3269), so each server
//! gets a loopback address of its own, `127.0.0.N` with `N` in 10..=249 (on Linux all of
//! `127.0.0.0/8` reaches `lo` without configuration), claimed with a lock file
//! (`$TMPDIR/realm-testkit-samba-127.0.0.N.lock`) held while the server runs, and only if nothing
//! listens on those ports. Samba binds only that address. Everything Samba writes is under the
//! temp directory (private, state, cache, lock, pid and socket directories, logs); the machine's
//! `/etc/samba`, `/var/lib/samba`, `/run/samba` and `/var/log/samba` are not used. Binding port
//! 389 and provisioning (which chowns the sysvol share) need root.
//!
//! The server speaks `ldap://` (simple binds allowed without TLS: `ldap server require strong
//! auth = no`), StartTLS and `ldaps://`, with a certificate from a private CA ([`SambaAd::ca_file`])
//! for `IP:127.0.0.N` and `DNS:dc.realm.test`.
//!
//! A failed simple bind returns `invalidCredentials` (49) with Active Directory's diagnostic
//! message, whose `data` code says why ([`bind_diagnostic`], [`REFUSED_ACCOUNTS`]): `52e` for a
//! wrong password or an unknown user, and for an account whose state forbids it, its own code
//! when the password is right (and `52e` when it is wrong, except `775`, locked out, which Samba
//! reports whatever the password).
//!
//! A subtree search from `DC=realm,DC=test` returns, besides the entries, one search continuation
//! reference, `ldap://realm.test/CN=Configuration,DC=realm,DC=test` (there are no DNS partitions,
//! since the domain has no DNS). Samba 4.17 does not implement the "Who am I?" extended
//! operation, so `ldapwhoami` fails with `protocolError` (2) after a successful bind.
//!
//! [`SambaAd::log`] holds Samba's output, with one `auth_audit` line per bind attempt, e.g.
//!
//! ```text
//! Auth: [LDAP,simple bind] user [REALMTEST]\[alice@realm.test] at [Mon, 23 Nov 2026 22:35:56.902023 UTC] with [Plaintext] status [NT_STATUS_OK] workstation [DC] remote host [ipv4:127.0.0.1:59282] became [REALMTEST]\[alice] [S-1-5-21-…-1102]. local host [ipv4:127.0.0.77:389]
//! Auth: [LDAP,simple bind/TLS] user [REALMTEST]\[CN=Alice Liddell,CN=Users,DC=realm,DC=test] at [...] with [Plaintext] status [NT_STATUS_WRONG_PASSWORD] workstation [DC] remote host [...] mapped to [REALMTEST]\[alice]. local host [ipv4:127.0.0.77:636]
//! ```

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::tls::Pki;
use crate::util::{kill_group, require_binary, spawn_group, tail, temp_dir};

/// The Python loader of the fixtures, run with Debian's Python (which has the `samba` module).
const FIXTURES_PY: &str = include_str!("../fixtures/samba_fixtures.py");
/// Debian's Python; a `python3` earlier on `PATH` (pyenv, venv) lacks the `samba` module.
const PYTHON: &str = "/usr/bin/python3";
/// Where `samba-ad-provision` installs the schema that `samba-tool domain provision` loads.
const SCHEMA_DIR: &str = "/usr/share/samba/setup/ad-schema";
/// The packages the harness needs, for the install hints.
const PACKAGES: &str = "samba samba-ad-dc samba-ad-provision samba-dsdb-modules winbind";

const REALM: &str = "REALM.TEST";
const DOMAIN: &str = "realm.test";
const NETBIOS_DOMAIN: &str = "REALMTEST";
const BASE_DN: &str = "DC=realm,DC=test";
const ADMIN_PASSWORD: &str = "Admin-pw-1!realm";
const SERVICE_ACCOUNT: &str = "svc-realm";
const SERVICE_PASSWORD: &str = "Service-pw-1";

/// Samba's fixed TCP ports: LDAP, LDAPS, global catalog, global catalog over TLS.
const PORTS: [u16; 4] = [389, 636, 3268, 3269];
/// The range of `N` in the loopback addresses `127.0.0.N` that servers may claim.
const HOSTS: std::ops::RangeInclusive<u32> = 10..=249;
/// How long provisioning, loading the fixtures and starting may each take.
const PROVISION_LIMIT: Duration = Duration::from_secs(180);
const FIXTURES_LIMIT: Duration = Duration::from_secs(60);
const START_LIMIT: Duration = Duration::from_secs(60);

/// An ordinary fixture account: `(sAMAccountName, cn, password)`.
const USERS: &[(&str, &str, &str)] = &[
    ("alice", "Alice Liddell", "Wonderland-1"),
    ("bob", "Bob Builder", "Builder-1"),
    ("carol", "Carol Nest", "Carol-pw-1"),
    ("jdoe", "Doe, John", "Doe-pw-1"),
    (SERVICE_ACCOUNT, SERVICE_ACCOUNT, SERVICE_PASSWORD),
];

/// The fixture groups (global security groups in `OU=Groups`) and their members: users by
/// sAMAccountName, groups by name.
const GROUPS: &[(&str, &[&str])] = &[
    ("Readers", &["alice", "jdoe"]),
    ("Ops", &["bob"]),
    ("SRE", &["alice"]),
    ("G1", &["carol"]),
    ("G2", &["G1"]),
    ("G3", &["G2", "G5"]),
    ("G4", &["G3"]),
    ("G5", &["G4"]),
];

/// A fixture account that Samba refuses to bind although the password is right, and the code
/// that says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusedAccount {
    /// The account's `sAMAccountName` (its `userPrincipalName` is `<sam>@realm.test`, its `cn`
    /// the same as the `sAMAccountName`).
    pub sam: &'static str,
    /// Its correct password.
    pub password: &'static str,
    /// The hexadecimal Windows error code after `data` in the bind's diagnostic message
    /// ([`bind_diagnostic`]), e.g. `"533"`.
    pub data: &'static str,
    /// The Windows name of that error and what made the account so.
    pub meaning: &'static str,
}

/// The accounts Samba refuses with a correct password, one per bind sub-error Samba 4.17
/// produces. Each is refused with its `data` code over `ldap://`, StartTLS and `ldaps://` alike.
pub const REFUSED_ACCOUNTS: &[RefusedAccount] = &[
    RefusedAccount {
        sam: "disabled",
        password: "Disabled-pw-1",
        data: "533",
        meaning: "ERROR_ACCOUNT_DISABLED: userAccountControl has ACCOUNTDISABLE (0x2)",
    },
    RefusedAccount {
        sam: "expired",
        password: "Expired-pw-1",
        data: "701",
        meaning: "ERROR_ACCOUNT_EXPIRED: accountExpires is a day before provisioning",
    },
    RefusedAccount {
        sam: "mustchange",
        password: "Mustchange-pw-1",
        data: "773",
        meaning: "ERROR_PASSWORD_MUST_CHANGE: pwdLastSet is 0",
    },
    RefusedAccount {
        sam: "locked",
        password: "Locked-pw-1",
        data: "775",
        meaning: "ERROR_ACCOUNT_LOCKED_OUT: lockoutTime is set and the domain's lockoutDuration \
                  is 0 (locked until an administrator unlocks it); reported for a wrong \
                  password too",
    },
    RefusedAccount {
        sam: "nohours",
        password: "Nohours-pw-1",
        data: "530",
        meaning: "ERROR_INVALID_LOGON_HOURS: logonHours is 21 zero bytes (no hour allowed)",
    },
    RefusedAccount {
        sam: "pwexpired",
        password: "Pwexpired-pw-1",
        data: "532",
        meaning: "ERROR_PASSWORD_EXPIRED: pwdLastSet is in 2012, older than maxPwdAge (42 days)",
    },
    RefusedAccount {
        sam: "otherpc",
        password: "Otherpc-pw-1",
        data: "531",
        meaning: "ERROR_INVALID_WORKSTATION: userWorkstations is OTHERPC (Samba's LDAP binds \
                  come from workstation DC)",
    },
];

/// The diagnostic message of a simple bind that Samba refuses with `invalidCredentials` (49),
/// for a `data` code (lowercase hex, as in [`RefusedAccount::data`], or `"52e"` for a wrong
/// password or unknown user), exactly as Samba 4.17 sends it:
/// `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1`.
pub fn bind_diagnostic(data: &str) -> String {
    format!(
        "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data {data}, v1db1"
    )
}

/// A running Samba AD domain controller on its own loopback address, with the fixture directory.
/// Dropping it stops the server and removes its directory (the [`SambaAd::shared`] one lives
/// until the test process exits, then a watchdog does that).
#[derive(Debug)]
pub struct SambaAd {
    ip: String,
    dir: PathBuf,
    log: PathBuf,
    ca_file: PathBuf,
    pid: u32,
    child: Mutex<Child>,
    /// Objects by name: users by sAMAccountName, groups by name, as loaded by the fixtures.
    users: HashMap<String, String>,
    groups: HashMap<String, String>,
    /// Holds the claim on `ip` for as long as the server may run.
    _lock: File,
}

impl SambaAd {
    /// The domain controller shared by the whole test binary, provisioned and started by the
    /// first caller (the others wait). Tests must not change its directory in ways other tests
    /// could see.
    pub fn shared() -> &'static SambaAd {
        static SHARED: OnceLock<SambaAd> = OnceLock::new();
        SHARED.get_or_init(SambaAd::start)
    }

    /// Provisions and starts a private domain controller (about 5 s), for a test that changes
    /// the directory or stops the server.
    pub fn start() -> SambaAd {
        let started = Instant::now();
        let samba = require_binary("samba", PACKAGES);
        let samba_tool = require_binary("samba-tool", PACKAGES);
        for (path, package) in [
            (PYTHON, "python3-samba"),
            (SCHEMA_DIR, "samba-ad-provision"),
        ] {
            assert!(
                Path::new(path).exists(),
                "`{path}` is missing: Samba AD tests need it. Install it with `sudo apt-get \
                 install {package}` (Debian/Ubuntu), or run `./scripts/test`, which installs every \
                 package the test suite needs and then runs it"
            );
        }
        assert!(
            is_root(),
            "Samba AD tests must run as root: Samba binds the fixed LDAP port 389 and \
             provisioning chowns its sysvol share"
        );

        let (ip, lock) = claim_ip();
        let dir = temp_dir("samba");
        let pki = Pki::generate(&dir.join("tls"), &[ip.as_str(), "dc.realm.test"]);
        let conf = dir.join("etc/smb.conf");
        let d = |sub: &str| dir.join(sub).to_str().unwrap().to_string();
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        // An empty smb.conf given with `-s`: provisioning must not read /etc/samba/smb.conf.
        std::fs::write(&conf, "").unwrap();

        let interface = format!("{ip}/8");
        let run_dir = d("run");
        let options = [
            format!("interfaces={interface}"),
            "bind interfaces only=yes".to_string(),
            format!("private dir={}", d("private")),
            format!("lock dir={}", dir.display()),
            format!("state directory={}", d("state")),
            format!("cache directory={}", d("cache")),
            format!("binddns dir={}", d("bind-dns")),
            format!("pid directory={run_dir}"),
            format!("ncalrpc dir={run_dir}/ncalrpc"),
            format!("winbindd socket directory={run_dir}/winbindd"),
            format!("ntp signd socket directory={run_dir}/ntp_signd"),
            format!("log file={}", d("provision-debug.log")),
        ];
        let mut provision = Command::new(&samba_tool);
        provision
            .args(["domain", "provision", "-s"])
            .arg(&conf)
            .arg(format!("--targetdir={}", dir.display()))
            .arg(format!("--realm={REALM}"))
            .arg(format!("--domain={NETBIOS_DOMAIN}"))
            .args(["--server-role=dc", "--dns-backend=NONE", "--use-rfc2307"])
            .arg(format!("--adminpass={ADMIN_PASSWORD}"))
            .arg("--host-name=dc")
            .arg(format!("--host-ip={ip}"))
            .args(options.iter().map(|o| format!("--option={o}")));
        run(
            &mut provision,
            &dir.join("provision.log"),
            PROVISION_LIMIT,
            "samba-tool domain provision",
        );
        let provisioned = started.elapsed();

        // The server's own configuration, replacing the one provisioning wrote.
        std::fs::write(&conf, smb_conf(&dir, &interface, &pki)).unwrap();

        let spec = dir.join("fixtures.tsv");
        let out = dir.join("fixtures.out");
        let script = dir.join("samba_fixtures.py");
        std::fs::write(&script, FIXTURES_PY).unwrap();
        std::fs::write(&spec, fixture_spec()).unwrap();
        run(
            Command::new(PYTHON)
                .arg(&script)
                .arg(&conf)
                .arg(&spec)
                .arg(&out),
            &dir.join("fixtures.log"),
            FIXTURES_LIMIT,
            "loading the Samba fixtures (fixtures/samba_fixtures.py)",
        );
        let (users, groups) = parse_fixture_out(&std::fs::read_to_string(&out).unwrap());
        let loaded = started.elapsed();

        let log = dir.join("samba.log");
        let mut cmd = Command::new(&samba);
        cmd.args(["-i", "-M", "single", "-s"])
            .arg(&conf)
            .env("KRB5_CONFIG", dir.join("private/krb5.conf"))
            .current_dir(&dir);
        let mut child = spawn_group(&mut cmd, &log);
        let pid = child.id();
        process_watchdog(pid, &dir);
        wait_until_listening(&mut child, &ip, &log);
        eprintln!(
            "samba-ad: {ip} provisioned after {provisioned:?}, fixtures loaded after {loaded:?}, \
             listening after {:?}",
            started.elapsed()
        );
        SambaAd {
            ip,
            dir,
            log,
            ca_file: pki.ca_cert,
            pid,
            child: Mutex::new(child),
            users,
            groups,
            _lock: lock,
        }
    }

    /// The server's loopback address, `127.0.0.N`.
    pub fn ip(&self) -> &str {
        &self.ip
    }

    /// `ldap://127.0.0.N` (port 389; simple binds allowed without TLS, StartTLS available).
    pub fn url(&self) -> String {
        format!("ldap://{}", self.ip)
    }

    /// `ldaps://127.0.0.N` (port 636), with a certificate signed by [`SambaAd::ca_file`].
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://{}", self.ip)
    }

    /// The PEM certificate of the private CA that signed the server's certificate (subject
    /// alternative names `IP:127.0.0.N` and `DNS:dc.realm.test`).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The DNS domain, `realm.test`: user principal names are `<sAMAccountName>@realm.test`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// The NetBIOS domain, `REALMTEST`, for down-level logon names (`REALMTEST\alice`).
    pub fn netbios_domain(&self) -> &str {
        NETBIOS_DOMAIN
    }

    /// The domain's naming context, `DC=realm,DC=test`.
    pub fn base_dn(&self) -> &str {
        BASE_DN
    }

    /// The DN of the realm's service account `svc-realm`, an ordinary domain user (it may read
    /// users and groups, as every authenticated user of AD may):
    /// `CN=svc-realm,CN=Users,DC=realm,DC=test`.
    pub fn service_dn(&self) -> String {
        self.user_dn(SERVICE_ACCOUNT)
    }

    /// The password of [`SambaAd::service_dn`], `Service-pw-1`.
    pub fn service_password(&self) -> &str {
        SERVICE_PASSWORD
    }

    /// The DN of the domain's `Administrator` (for tests that change the directory).
    pub fn admin_dn(&self) -> String {
        format!("CN=Administrator,CN=Users,{BASE_DN}")
    }

    /// The password of [`SambaAd::admin_dn`].
    pub fn admin_password(&self) -> &str {
        ADMIN_PASSWORD
    }

    /// The DN of a fixture user, by `sAMAccountName` (`alice` → `CN=Alice
    /// Liddell,CN=Users,DC=realm,DC=test`, `jdoe` → `CN=Doe\, John,CN=Users,DC=realm,DC=test`).
    /// Panics for a name that is not a fixture user.
    pub fn user_dn(&self, sam: &str) -> String {
        self.users
            .get(sam)
            .unwrap_or_else(|| panic!("no fixture user `{sam}` (see fixtures/samba_DIRECTORY.md)"))
            .clone()
    }

    /// The DN of a fixture group, by name (`G1` → `CN=G1,OU=Groups,DC=realm,DC=test`). Panics
    /// for a name that is not a fixture group.
    pub fn group_dn(&self, name: &str) -> String {
        self.groups
            .get(name)
            .unwrap_or_else(|| {
                panic!("no fixture group `{name}` (see fixtures/samba_DIRECTORY.md)")
            })
            .clone()
    }

    /// Everything Samba has logged so far: startup messages and one `Auth:` line per bind.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SambaAd {
    fn drop(&mut self) {
        // The server's data is thrown away: no need for a graceful shutdown.
        kill_group(self.pid, Duration::ZERO);
        let _ = self
            .child
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a watchdog that, once this test process has exited, kills the process group led by
/// `pid` (the server) and removes `dir`; it ends by itself once `dir` is gone (the server was
/// dropped), so that it never signals a process group whose id was reused. (Like
/// [`crate::util::watchdog`], which keeps watching after a drop.)
fn process_watchdog(pid: u32, dir: &Path) {
    let me = std::process::id();
    let d = dir.display();
    let script = format!(
        "while kill -0 {me} 2>/dev/null && [ -d '{d}' ]; do sleep 0.5; done; \
         if [ -d '{d}' ]; then \
           env kill -TERM -- -{pid} 2>/dev/null; sleep 1; env kill -KILL -- -{pid} 2>/dev/null; \
           rm -rf '{d}'; \
         fi"
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn();
}

/// The configuration Samba runs with: only the LDAP server, only on `interface`, everything in
/// `dir`, TLS with `pki`'s certificate, simple binds allowed without TLS.
fn smb_conf(dir: &Path, interface: &str, pki: &Pki) -> String {
    let d = dir.display();
    format!(
        "[global]\n\
         \tnetbios name = DC\n\
         \tworkgroup = {NETBIOS_DOMAIN}\n\
         \trealm = {REALM}\n\
         \tserver role = active directory domain controller\n\
         \tserver services = ldap\n\
         \tinterfaces = {interface}\n\
         \tbind interfaces only = yes\n\
         \tprivate dir = {d}/private\n\
         \tlock directory = {d}\n\
         \tstate directory = {d}/state\n\
         \tcache directory = {d}/cache\n\
         \tbinddns dir = {d}/bind-dns\n\
         \tpid directory = {d}/run\n\
         \tncalrpc dir = {d}/run/ncalrpc\n\
         \twinbindd socket directory = {d}/run/winbindd\n\
         \tntp signd socket directory = {d}/run/ntp_signd\n\
         \tlog file = {d}/samba.log\n\
         \tlog level = 0 auth_audit:3\n\
         \tidmap_ldb:use rfc2307 = yes\n\
         \ttls enabled = yes\n\
         \ttls certfile = {}\n\
         \ttls keyfile = {}\n\
         \ttls cafile = {}\n\
         \tldap server require strong auth = no\n",
        pki.server_cert.display(),
        pki.server_key.display(),
        pki.ca_cert.display(),
    )
}

/// The input of `samba_fixtures.py`: users, then groups, tab-separated.
fn fixture_spec() -> String {
    let mut s = String::new();
    for (sam, cn, password) in USERS {
        s.push_str(&format!("user\t{sam}\t{cn}\t{password}\t-\n"));
    }
    for a in REFUSED_ACCOUNTS {
        s.push_str(&format!("user\t{0}\t{0}\t{1}\t{0}\n", a.sam, a.password));
    }
    for (name, members) in GROUPS {
        s.push_str(&format!("group\t{name}"));
        for m in *members {
            s.push('\t');
            s.push_str(m);
        }
        s.push('\n');
    }
    s
}

/// Parses the loader's `kind<TAB>name<TAB>dn` lines into users and groups by name.
fn parse_fixture_out(out: &str) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut users = HashMap::new();
    let mut groups = HashMap::new();
    for line in out.lines().filter(|l| !l.is_empty()) {
        let mut f = line.splitn(3, '\t');
        let (kind, name, dn) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let map = if kind == "user" {
            &mut users
        } else {
            &mut groups
        };
        map.insert(name.to_string(), dn.to_string());
    }
    (users, groups)
}

/// Whether this process runs as root (effective user id 0, from `/proc/self/status`).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

/// Claims a loopback address `127.0.0.N` for a server: takes its lock file and checks that
/// nothing listens on Samba's ports there. Starts at an `N` derived from the process id, so that
/// test processes running at the same time rarely contend.
fn claim_ip() -> (String, File) {
    let span = HOSTS.end() - HOSTS.start() + 1;
    let first = std::process::id() % span;
    let mut last_problem = String::new();
    for i in 0..span {
        let n = HOSTS.start() + (first + i) % span;
        let ip = format!("127.0.0.{n}");
        let path = std::env::temp_dir().join(format!("realm-testkit-samba-{ip}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        if file.try_lock().is_err() {
            continue; // another server (of this or another process) has it
        }
        match PORTS.iter().find_map(|&port| {
            TcpListener::bind((ip.as_str(), port))
                .err()
                .map(|e| (port, e))
        }) {
            None => return (ip, file),
            Some((port, e)) => last_problem = format!("{ip}:{port}: {e}"),
        }
    }
    panic!(
        "no loopback address 127.0.0.N (N in {HOSTS:?}) is free for Samba (ports {PORTS:?}); \
         last problem: {last_problem}. Does something listen on port 389 on all addresses?"
    )
}

/// Runs `cmd` (its output appended to `log`) to completion within `limit`, or panics with `what`
/// and the end of the log.
fn run(cmd: &mut Command, log: &Path, limit: Duration, what: &str) {
    let mut child = spawn_group(cmd, log);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{what} failed ({status}); last lines of {}:\n{}",
                log.display(),
                tail(log, 30)
            );
            return;
        }
        if start.elapsed() > limit {
            kill_group(child.id(), Duration::from_secs(1));
            let _ = child.wait();
            panic!(
                "{what} did not finish within {limit:?}; last lines of {}:\n{}",
                log.display(),
                tail(log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until Samba accepts connections on ports 389 and 636 of `ip`, or panics (with the end of
/// its log) if it exits or takes longer than [`START_LIMIT`].
fn wait_until_listening(child: &mut Child, ip: &str, log: &Path) {
    let start = Instant::now();
    let addrs: Vec<SocketAddr> = [389, 636]
        .iter()
        .map(|&port| format!("{ip}:{port}").parse().unwrap())
        .collect();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "samba exited ({status}) before listening on {ip}; last lines of {}:\n{}",
                log.display(),
                tail(log, 30)
            );
        }
        if addrs
            .iter()
            .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
        {
            return;
        }
        if start.elapsed() > START_LIMIT {
            kill_group(child.id(), Duration::from_secs(1));
            panic!(
                "samba did not listen on {ip}:389 and :636 within {START_LIMIT:?}; last lines of \
                 {}:\n{}",
                log.display(),
                tail(log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_diagnostic_is_samba_s_message() {
        assert_eq!(
            bind_diagnostic("52e"),
            "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1"
        );
    }

    #[test]
    fn fixture_spec_lists_users_before_groups() {
        let spec = fixture_spec();
        let kinds: Vec<&str> = spec
            .lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        let first_group = kinds.iter().position(|k| *k == "group").unwrap();
        assert!(kinds[..first_group].iter().all(|k| *k == "user"));
        assert!(kinds[first_group..].iter().all(|k| *k == "group"));
        assert!(spec.contains("user\tjdoe\tDoe, John\tDoe-pw-1\t-\n"));
        assert!(spec.contains("user\tlocked\tlocked\tLocked-pw-1\tlocked\n"));
        assert!(spec.contains("group\tG3\tG2\tG5\n"));
    }

    #[test]
    fn fixture_output_is_parsed_by_kind() {
        let (users, groups) = parse_fixture_out(
            "user\tjdoe\tCN=Doe\\, John,CN=Users,DC=realm,DC=test\n\
             group\tG1\tCN=G1,OU=Groups,DC=realm,DC=test\n",
        );
        assert_eq!(users["jdoe"], "CN=Doe\\, John,CN=Users,DC=realm,DC=test");
        assert_eq!(groups["G1"], "CN=G1,OU=Groups,DC=realm,DC=test");
        assert!(!users.contains_key("G1"));
    }
}
