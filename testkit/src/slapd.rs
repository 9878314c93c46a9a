//! A real OpenLDAP server (`slapd`, Debian package `slapd`) with the test directory loaded.
//!
//! [`Slapd::start`] builds a private `cn=config` in a fresh temp directory with `slapadd -n0`
//! (schemas core, cosine, inetorgperson, nis; one `mdb` database for `dc=realm,dc=test`; the ACLs
//! and limits of `fixtures/DIRECTORY.md`), loads `fixtures/realm.ldif` plus the generated bulk
//! entries with `slapadd -n1`, and runs `slapd` in the foreground on free ports. It listens on
//! `ldap://` and `ldaps://` on both 127.0.0.1 and 127.0.0.2; the server certificate (signed by a
//! private CA, [`Slapd::ca_file`]) names only `IP:127.0.0.1` and `DNS:localhost`, so TLS to
//! 127.0.0.2 is a hostname mismatch. StartTLS on the `ldap://` port works too.
//!
//! slapd runs with `-d 256` (the "stats" level): [`Slapd::log`] holds one line per connection
//! and operation, e.g. for a simple bind
//!
//! ```text
//! 6b04ba09.381a671c 0x7f14fe5fe6c0 conn=1000 op=0 BIND dn="uid=alice,ou=Users,dc=realm,dc=test" method=128
//! 6b04ba09.381b3e3c 0x7f14fe5fe6c0 conn=1000 op=0 BIND dn="uid=alice,ou=Users,dc=realm,dc=test" mech=SIMPLE bind_ssf=0 ssf=0
//! 6b04ba09.381ca7bf 0x7f14fe5fe6c0 conn=1000 op=0 RESULT tag=97 err=0 qtime=0.000012 etime=0.000194 text=
//! ```
//!
//! (the `mech=SIMPLE` line only for a successful bind; `err=49` for a wrong password). The DN is
//! logged in slapd's "pretty" form: special characters as uppercase hex escapes
//! (`uid=doe\2C john`, `uid=back\5Cslash`, `uid=a\2Bb\3Dc`), UTF-8 as is.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::tls::Pki;
use crate::util::{
    free_port, kill_group, require_binary, spawn_group, tail, temp_dir, wait_for_port,
    wait_for_port_closed,
};

/// The hand-written part of the test directory (see `fixtures/DIRECTORY.md`).
const REALM_LDIF: &str = include_str!("../fixtures/realm.ldif");

const BASE_DN: &str = "dc=realm,dc=test";
const ROOT_DN: &str = "cn=root,dc=realm,dc=test";
const ROOT_PASSWORD: &str = "root-secret";
/// The service account's DN (read access to every entry, including passwords).
pub const SERVICE_DN: &str = "cn=service,ou=system,dc=realm,dc=test";
const SERVICE_PASSWORD: &str = "service-secret";

/// The loopback addresses slapd listens on.
const IPS: [&str; 2] = ["127.0.0.1", "127.0.0.2"];
/// How long slapd may take to start before the test fails.
const START_LIMIT: Duration = Duration::from_secs(15);
/// How long slapd may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The file in a server's directory holding the pid of the running slapd (its process group).
const PID_FILE: &str = "slapd.group";
/// How many times to pick new ports when another process took ours before slapd bound them.
const PORT_ATTEMPTS: usize = 5;

/// The number of `bulk-NNN` groups joiner is a member of (more than the size limit).
const BULK_GROUPS: usize = 120;
/// The number of `filler-NNN` members of `cn=Big` (besides joiner).
const FILLERS: usize = 150;

/// How to start a [`Slapd`].
#[derive(Clone, Debug)]
pub struct SlapdOptions {
    /// Serve TLS: `ldaps://` listeners and StartTLS on the `ldap://` port (default `true`).
    /// With `false`, slapd has no certificate at all (StartTLS is refused) and
    /// [`Slapd::ldaps_url`] panics; [`Slapd::ca_file`] still names a CA (one that signed nothing
    /// slapd serves), for clients that need one configured.
    pub tls: bool,
    /// SASL GSSAPI (Kerberos) binds, for a test realm of [`crate::kdc::Kdc`] (default `None`).
    pub kerberos: Option<SlapdKerberos>,
}

impl Default for SlapdOptions {
    fn default() -> Self {
        SlapdOptions {
            tls: true,
            kerberos: None,
        }
    }
}

/// How slapd accepts SASL GSSAPI binds: the keytab with its `ldap/127.0.0.1` key, the Kerberos
/// environment it runs in, and how authenticated principals map to directory entries.
#[derive(Clone, Debug)]
pub struct SlapdKerberos {
    /// The keytab slapd accepts with (`KRB5_KTNAME`): it must hold `ldap/127.0.0.1`.
    pub keytab: PathBuf,
    /// The realm's environment (`KRB5_CONFIG`, ...), as [`crate::kdc::Kdc::env`] gives it.
    pub env: Vec<(String, String)>,
    /// `olcAuthzRegexp` rules, in order: (regex over the SASL DN
    /// `uid=<principal>,cn=gssapi,cn=auth`, replacement DN or LDAP URL).
    pub authz: Vec<(String, String)>,
}

/// One running `slapd` with the test directory of `fixtures/DIRECTORY.md`, in its own temp
/// directory and on its own ports. Dropping it stops slapd and removes the directory; should the
/// test process end without dropping it (a shared instance in a static, an abort, a kill), a
/// watchdog process does that once the test process is gone.
///
/// [`stop`](Slapd::stop) and [`restart`](Slapd::restart) take `&self`, so tests that share a
/// handle across threads can still take the server down and bring it back.
#[derive(Debug)]
pub struct Slapd {
    dir: PathBuf,
    log: PathBuf,
    ca_file: PathBuf,
    port: u16,
    tls_port: Option<u16>,
    kerberos: Option<SlapdKerberos>,
    child: Mutex<Option<Child>>,
}

impl Slapd {
    /// Starts a private slapd with TLS ([`SlapdOptions::default`]).
    pub fn start() -> Slapd {
        Slapd::start_with(SlapdOptions::default())
    }

    /// Starts a private slapd with `options`; returns once it accepts connections.
    pub fn start_with(options: SlapdOptions) -> Slapd {
        Slapd::launch(&options)
    }

    /// The slapd shared by every test in this test binary (started by the first caller, with
    /// TLS). It lives until the test process exits, when a watchdog kills it and removes its
    /// directory. Do not [`stop`](Slapd::stop) or [`restart`](Slapd::restart) it, and add entries
    /// with [`ldapadd`](Slapd::ldapadd) only under names no other test uses: tests that change
    /// the server start their own with [`Slapd::start`].
    pub fn shared() -> &'static Slapd {
        static SHARED: OnceLock<Slapd> = OnceLock::new();
        SHARED.get_or_init(|| Slapd::launch(&SlapdOptions::default()))
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url_on(IPS[0])
    }

    /// `ldaps://127.0.0.1:TLSPORT` (a certificate valid for this address). Panics if the server
    /// was started without TLS.
    pub fn ldaps_url(&self) -> String {
        self.ldaps_url_on(IPS[0])
    }

    /// `ldap://IP:PORT`: the same server and port on another address. slapd listens on
    /// 127.0.0.1 and 127.0.0.2; any other address refuses connections.
    pub fn url_on(&self, ip: &str) -> String {
        format!("ldap://{ip}:{}", self.port)
    }

    /// `ldaps://IP:TLSPORT`. On 127.0.0.2 the certificate does not match the address (its only
    /// names are `IP:127.0.0.1` and `DNS:localhost`). Panics if the server was started without
    /// TLS.
    pub fn ldaps_url_on(&self, ip: &str) -> String {
        let port = self
            .tls_port
            .expect("this slapd was started with SlapdOptions { tls: false }: it has no ldaps://");
        format!("ldaps://{ip}:{port}")
    }

    /// The PEM certificate of the CA that signed slapd's server certificate (what a client must
    /// trust).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// `dc=realm,dc=test`.
    pub fn base_dn(&self) -> &str {
        BASE_DN
    }

    /// `cn=service,ou=system,dc=realm,dc=test`: the realm's system account, which may read every
    /// attribute, `userPassword` included.
    pub fn service_dn(&self) -> &str {
        SERVICE_DN
    }

    /// The service account's password, `service-secret`.
    pub fn service_password(&self) -> &str {
        SERVICE_PASSWORD
    }

    /// `cn=root,dc=realm,dc=test`: the database's rootdn (no ACLs, no limits). For the harness.
    pub fn root_dn(&self) -> &str {
        ROOT_DN
    }

    /// The rootdn's password, `root-secret`.
    pub fn root_password(&self) -> &str {
        ROOT_PASSWORD
    }

    /// Stops slapd (SIGTERM, then SIGKILL after a grace period). The data stays; when this
    /// returns nothing accepts connections on the server's ports. Stopping a stopped server does
    /// nothing.
    pub fn stop(&self) {
        let mut child = self.child();
        if self.halt(&mut child) {
            for addr in self.addrs() {
                wait_for_port_closed(addr, Duration::from_secs(10));
            }
        }
    }

    /// Stops slapd if it runs, then starts it again on the same ports with the same data;
    /// returns once it accepts connections.
    pub fn restart(&self) {
        let mut child = self.child();
        if self.halt(&mut child) {
            for addr in self.addrs() {
                wait_for_port_closed(addr, Duration::from_secs(10));
            }
        }
        match self.spawn() {
            Ok(c) => *child = Some(c),
            Err(e) => panic!("slapd did not come back on its ports: {e}"),
        }
    }

    /// Everything slapd has logged so far (`-d 256`: connections, operations, results), over all
    /// its restarts. See the module documentation for the format of BIND lines.
    ///
    /// A request's line (`BIND dn=...`, `SRCH base=...`) is logged when slapd reads the request,
    /// so it is in the log once the client has its answer. A `RESULT` line may be written just
    /// *after* the client got the result: wait for those with [`Slapd::wait_for_log`].
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits up to `limit` for `needle` to appear in [`Slapd::log`]; true if it did.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Adds `ldif` (entries in LDIF, as for `ldapadd`) to the directory as the rootdn. Panics
    /// with ldapadd's output if that fails.
    pub fn ldapadd(&self, ldif: &str) {
        let ldapadd = require_binary("ldapadd", "ldap-utils");
        let mut child = Command::new(ldapadd)
            .args(["-x", "-H", &self.url(), "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run ldapadd");
        child
            .stdin
            .take()
            .expect("ldapadd's stdin")
            .write_all(ldif.as_bytes())
            .expect("cannot write to ldapadd");
        let out = child.wait_with_output().expect("ldapadd did not finish");
        assert!(
            out.status.success(),
            "ldapadd failed ({}):\n{}{}\nslapd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log, 20)
        );
    }

    /// Configures, loads and starts a new server, with a watchdog.
    fn launch(options: &SlapdOptions) -> Slapd {
        let slapadd = require_binary("slapadd", "slapd");
        require_binary("slapd", "slapd");
        let dir = temp_dir("slapd");
        let pki = Pki::generate(&dir.join("tls"), &[IPS[0], "localhost"]);
        std::fs::create_dir_all(dir.join("slapd.d")).unwrap();
        std::fs::create_dir_all(dir.join("data")).unwrap();

        let config = dir.join("config.ldif");
        std::fs::write(
            &config,
            config_ldif(&dir, options.tls.then_some(&pki), options.kerberos.as_ref()),
        )
        .unwrap();
        run_slapadd(&slapadd, &dir, "0", &config);
        let data = dir.join("data.ldif");
        std::fs::write(&data, format!("{REALM_LDIF}\n{}", bulk_ldif())).unwrap();
        run_slapadd(&slapadd, &dir, "1", &data);

        let mut slapd = Slapd {
            log: dir.join("slapd.log"),
            dir,
            ca_file: pki.ca_cert,
            port: 0,
            tls_port: None,
            kerberos: options.kerberos.clone(),
            child: Mutex::new(None),
        };
        process_watchdog(&slapd.dir);
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            slapd.port = free_port(IPS[0]);
            slapd.tls_port = options.tls.then(|| {
                loop {
                    let p = free_port(IPS[0]);
                    if p != slapd.port {
                        break p;
                    }
                }
            });
            match slapd.spawn() {
                Ok(child) => {
                    *slapd.child() = Some(child);
                    return slapd;
                }
                // EADDRINUSE: another process took a port between free_port and slapd's bind.
                Err(e) if e.contains("errno=98") => last_error = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("slapd found no free ports in {PORT_ATTEMPTS} attempts: {last_error}");
    }

    /// Starts slapd on this instance's ports and waits until it serves them. On failure, the
    /// reason with the end of the log.
    fn spawn(&self) -> Result<Child, String> {
        let slapd = require_binary("slapd", "slapd");
        let mut urls: Vec<String> = IPS.iter().map(|ip| self.url_on(ip)).collect();
        if self.tls_port.is_some() {
            urls.extend(IPS.iter().map(|ip| self.ldaps_url_on(ip)));
        }
        let log_start = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(slapd);
        cmd.args(["-d", "256", "-h", &urls.join(" "), "-F"])
            .arg(self.dir.join("slapd.d"));
        if let Some(k) = &self.kerberos {
            cmd.envs(k.env.iter().map(|(a, b)| (a, b)))
                .env("KRB5_KTNAME", &k.keytab);
        }
        let mut child = spawn_group(&mut cmd, &self.log);
        std::fs::write(self.dir.join(PID_FILE), child.id().to_string()).unwrap();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "slapd ({}) exited at startup with {status}:\n{}",
                    urls.join(" "),
                    String::from_utf8_lossy(&log_since(&self.log, log_start))
                ));
            }
            if log_since(&self.log, log_start)
                .windows(14)
                .any(|w| w == b"slapd starting")
            {
                break;
            }
            if started.elapsed() > START_LIMIT {
                kill_group(child.id(), Duration::ZERO);
                let _ = child.wait();
                return Err(format!(
                    "slapd did not start within {START_LIMIT:?}:\n{}",
                    tail(&self.log, 30)
                ));
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        // "slapd starting" comes after every listener is bound; this confirms it serves.
        wait_for_port(self.addrs()[0], START_LIMIT, "slapd");
        Ok(child)
    }

    /// Kills the running slapd, if any, and reaps it. True if one was running.
    fn halt(&self, child: &mut Option<Child>) -> bool {
        let Some(mut c) = child.take() else {
            return false;
        };
        let pid = c.id();
        // Reap slapd as soon as it exits, so that kill_group sees an empty group then and does
        // not wait out its grace period on a zombie.
        let reaper = std::thread::spawn(move || {
            let _ = c.wait();
        });
        kill_group(pid, STOP_GRACE);
        let _ = reaper.join();
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
        true
    }

    /// Every address slapd listens on.
    fn addrs(&self) -> Vec<SocketAddr> {
        let mut ports = vec![self.port];
        ports.extend(self.tls_port);
        ports
            .iter()
            .flat_map(|p| {
                IPS.iter()
                    .map(move |ip| SocketAddr::new(ip.parse().unwrap(), *p))
            })
            .collect()
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.halt(&mut child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a watchdog for the server whose directory is `dir`: once this test process has exited,
/// it kills the process group whose leader's pid is in `dir/slapd.group` (rewritten by every
/// start, so it follows restarts; removed by every stop) and removes `dir`. It ends by itself
/// once `dir` is gone (the server was dropped).
///
/// This, rather than [`crate::util::watchdog`], because it must follow restarts, and because the
/// script must run under `dash` (Debian's `sh`), whose `kill` builtin rejects `--`: the external
/// `kill` (run with `env`) is used instead.
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
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path)
        && f.seek(SeekFrom::Start(offset)).is_ok()
    {
        let _ = f.read_to_end(&mut bytes);
    }
    bytes
}

/// Runs `slapadd -n<db>` on the configuration in `dir`, or panics with its output.
fn run_slapadd(slapadd: &Path, dir: &Path, db: &str, ldif: &Path) {
    let mut cmd = Command::new(slapadd);
    // -q: skip the consistency checks an interrupted load would need (a failed load is a failed
    // test anyway); schema checks still apply.
    cmd.args(["-q", "-n", db, "-F"])
        .arg(dir.join("slapd.d"))
        .arg("-l")
        .arg(ldif);
    let out = cmd.output().expect("cannot run slapadd");
    assert!(
        out.status.success(),
        "slapadd -n{db} -l {} failed ({}):\n{}{}",
        ldif.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `cn=config` tree: schemas, the mdb database with its ACLs and limits, TLS if `pki`.
fn config_ldif(dir: &Path, pki: Option<&Pki>, kerberos: Option<&SlapdKerberos>) -> String {
    let d = dir.display();
    let mut tls = pki.map_or(String::new(), |p| {
        format!(
            "olcTLSCACertificateFile: {}\nolcTLSCertificateFile: {}\n\
             olcTLSCertificateKeyFile: {}\n",
            p.ca_cert.display(),
            p.server_cert.display(),
            p.server_key.display()
        )
    });
    if let Some(k) = kerberos {
        tls.push_str(&format!("olcSaslHost: {}\n", IPS[0]));
        for (i, (regex, to)) in k.authz.iter().enumerate() {
            tls.push_str(&format!("olcAuthzRegexp: {{{i}}}\"{regex}\" \"{to}\"\n"));
        }
    }
    let schemas: String = ["core", "cosine", "inetorgperson", "nis"]
        .iter()
        .map(|s| format!("include: file:///etc/ldap/schema/{s}.ldif\n\n"))
        .collect();
    format!(
        "dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
{tls}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE_DN}
olcDbDirectory: {d}/data
olcRootDN: {ROOT_DN}
olcRootPW: {ROOT_PASSWORD}
olcRequires: authc
olcSizeLimit: 100
olcLimits: {{0}}dn.exact=\"cn=limited,ou=system,{BASE_DN}\" size.soft=100 size.hard=100 size.prtotal=100
olcLimits: {{1}}* size.soft=100 size.hard=100 size.prtotal=unlimited
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: cn eq
olcDbIndex: member eq
olcDbIndex: seeAlso eq
olcAccess: {{0}}to attrs=userPassword by dn.exact=\"{SERVICE_DN}\" read by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"
    )
}

/// The generated part of the test directory (see the top of `fixtures/realm.ldif`): joiner, the
/// bulk groups, the fillers and `cn=Big`.
fn bulk_ldif() -> String {
    let joiner = format!("uid=joiner,ou=Users,{BASE_DN}");
    let bulk = |i: usize| format!("cn=bulk-{i:03},ou=Bulk,{BASE_DN}");
    let filler = |i: usize| format!("uid=filler-{i:03},ou=Fillers,{BASE_DN}");
    let big = format!("cn=Big,ou=Groups,{BASE_DN}");
    let mut out = format!(
        "dn: {joiner}\nobjectClass: inetOrgPerson\nuid: joiner\ncn: Joiner\nsn: Joiner\n\
         userPassword: joiner-pw\n"
    );
    for i in 1..=BULK_GROUPS {
        out.push_str(&format!("seeAlso: {}\n", bulk(i)));
    }
    out.push_str(&format!("seeAlso: {big}\n\n"));
    for i in 1..=BULK_GROUPS {
        out.push_str(&format!(
            "dn: {}\nobjectClass: groupOfNames\ncn: bulk-{i:03}\nmember: {joiner}\n\n",
            bulk(i)
        ));
    }
    for i in 1..=FILLERS {
        out.push_str(&format!(
            "dn: {}\nobjectClass: inetOrgPerson\nuid: filler-{i:03}\ncn: Filler {i:03}\n\
             sn: Filler\n\n",
            filler(i)
        ));
    }
    out.push_str(&format!(
        "dn: {big}\nobjectClass: groupOfNames\ncn: Big\nmember: {joiner}\n"
    ));
    for i in 1..=FILLERS {
        out.push_str(&format!("member: {}\n", filler(i)));
    }
    out
}
