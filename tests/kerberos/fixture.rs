//! The test realm: principals and keytabs, made once by the parent process.

use realm_testkit::kdc::{DOWN_REALM, Kdc, REALM};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The service the acceptor tests accept for.
pub const SERVICE: &str = "hz/127.0.0.1";
/// A second service (tokens for it are "for another service").
pub const OTHER_SERVICE: &str = "hz/127.0.0.2";
/// A service whose keytab is exported twice: `stale.keytab` holds the older kvno.
pub const STALE_SERVICE: &str = "stale/127.0.0.1";
/// A service whose tickets live [`SHORT_LIFE_SECS`].
pub const SHORT_SERVICE: &str = "short/127.0.0.1";
/// Ticket lifetime of [`SHORT_SERVICE`].
pub const SHORT_LIFE_SECS: u64 = 3;
/// The test slapd's service principal (SASL GSSAPI binds), in `ldap.keytab`.
pub const LDAP_SERVICE: &str = "ldap/127.0.0.1";
/// The client principal with an LDAP entry (`uid=alice` in the test directory).
pub const ALICE: &str = "alice";
/// The client of `examples/kerberos` (`client1.keytab`).
pub const CLIENT1: &str = "client1";
/// A member principal (client keytab).
pub const MEMBER: &str = "member";

/// Creates the realm with every principal and keytab the cases use.
pub fn create_realm() -> Kdc {
    let kdc = Kdc::start();
    for p in [
        SERVICE,
        OTHER_SERVICE,
        STALE_SERVICE,
        SHORT_SERVICE,
        ALICE,
        MEMBER,
        LDAP_SERVICE,
        CLIENT1,
    ] {
        kdc.add_random_key_principal(p);
    }
    kdc.kadmin(&format!(
        "modprinc -maxlife \"{SHORT_LIFE_SECS} seconds\" {SHORT_SERVICE}"
    ));
    kdc.export_keytab("service.keytab", &[SERVICE, SHORT_SERVICE]);
    kdc.export_keytab("other.keytab", &[OTHER_SERVICE]);
    kdc.export_keytab("stale.keytab", &[STALE_SERVICE]);
    kdc.export_keytab("stale-current.keytab", &[STALE_SERVICE]);
    kdc.export_keytab("alice.keytab", &[ALICE]);
    kdc.export_keytab("member.keytab", &[MEMBER]);
    kdc.export_keytab("ldap.keytab", &[LDAP_SERVICE]);
    kdc.export_keytab("client1.keytab", &[CLIENT1]);
    // The process's default keytab (KRB5_KTNAME): the service's current key, copied.
    kdc.export_keytab_norandkey("default.keytab", &[SERVICE]);
    // A client of DOWN.TEST, whose KDC is unreachable: its key is made locally with ktutil.
    down_keytab(&kdc.dir().join("down.keytab"), &kdc);
    kdc
}

fn down_keytab(path: &Path, kdc: &Kdc) {
    realm_testkit::util::require_binary("ktutil", "krb5-user");
    let script = format!(
        "addent -password -p {MEMBER}@{DOWN_REALM} -k 1 -e aes256-cts-hmac-sha1-96\nunreachable-secret\nwkt {}\nquit\n",
        path.display()
    );
    let mut child = Command::new("ktutil")
        .envs(kdc.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ktutil");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        path.exists(),
        "ktutil wrote no keytab: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the child sees of the realm.
pub struct Realm {
    /// The realm's directory.
    pub dir: PathBuf,
}

impl Realm {
    /// A keytab made by [`create_realm`].
    pub fn keytab(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `name@REALM.TEST`.
    pub fn principal(name: &str) -> String {
        format!("{name}@{REALM}")
    }
}
