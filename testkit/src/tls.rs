//! A private certificate authority for TLS tests, made with the `openssl` command-line tool.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::require_binary;

/// A CA and one server certificate signed by it, as PEM files.
#[derive(Clone, Debug)]
pub struct Pki {
    /// The CA certificate (what a client trusts).
    pub ca_cert: PathBuf,
    /// The server certificate, valid for exactly the names given to [`Pki::generate`].
    pub server_cert: PathBuf,
    /// The server's private key (unencrypted PEM, mode 0600).
    pub server_key: PathBuf,
}

impl Pki {
    /// Generates a CA and a server certificate in `dir`. `names` become the certificate's subject
    /// alternative names: IP addresses as `IP:` entries, everything else as `DNS:` entries.
    pub fn generate(dir: &Path, names: &[&str]) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let ca_key = dir.join("ca.key");
        let ca_cert = dir.join("ca.pem");
        let key = dir.join("server.key");
        let csr = dir.join("server.csr");
        let cert = dir.join("server.pem");
        let ext = dir.join("server.ext");
        let san: Vec<String> = names
            .iter()
            .map(|n| {
                if n.parse::<std::net::IpAddr>().is_ok() {
                    format!("IP:{n}")
                } else {
                    format!("DNS:{n}")
                }
            })
            .collect();
        std::fs::write(
            &ext,
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
                 extendedKeyUsage=serverAuth\nsubjectAltName={}\n",
                san.join(",")
            ),
        )
        .unwrap();
        let run = |args: &[&str]| openssl(args, dir);
        let p = |p: &PathBuf| p.to_str().unwrap().to_string();
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p(&ca_key),
            "-out",
            &p(&ca_cert),
            "-days",
            "2",
            "-subj",
            "/CN=Realm Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p(&key),
            "-out",
            &p(&csr),
            "-subj",
            &format!("/CN={}", names.first().unwrap_or(&"server")),
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(&ca_cert),
            "-CAkey",
            &p(&ca_key),
            "-CAcreateserial",
            "-out",
            &p(&cert),
            "-days",
            "2",
            "-extfile",
            &p(&ext),
        ]);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        Pki {
            ca_cert,
            server_cert: cert,
            server_key: key,
        }
    }
}

/// How long an issued certificate is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// From now for this many days.
    Days(u32),
    /// Valid for one day in January 2020: expired.
    Expired,
}

/// What an issued certificate is for (its extended key usage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `clientAuth`.
    Client,
    /// `serverAuth`.
    Server,
    /// Both.
    Both,
}

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The certificate.
    pub cert: PathBuf,
    /// The private key (mode 0600).
    pub key: PathBuf,
}

impl Issued {
    /// The certificate's DER bytes.
    pub fn der(&self) -> Vec<u8> {
        pem_to_der(&std::fs::read_to_string(&self.cert).unwrap())
    }
}

/// The DER bytes of the first PEM block of `pem`.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    decode_base64(&b64)
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i as u32);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad.min(2)]);
    }
    out
}

/// A certificate authority made with the `openssl` command-line tool, issuing certificates with
/// any subject (`/C=CZ/CN=a+OU=b`, in `openssl -subj` form, UTF-8), any SANs, valid or expired.
#[derive(Clone, Debug)]
pub struct Ca {
    dir: PathBuf,
    /// The CA certificate (PEM).
    pub cert: PathBuf,
    /// The CA's private key (PEM).
    pub key: PathBuf,
}

/// One `openssl` at a time: issuing, revoking and CRLs share a CA's serial and index files.
static OPENSSL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn openssl(args: &[&str], dir: &Path) {
    let _one = OPENSSL.lock().unwrap_or_else(|p| p.into_inner());
    let out = Command::new(require_binary("openssl", "openssl"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fields `openssl ca` keeps (it drops the others, and splits multi-valued RDNs: so it is
/// used only for expired certificates).
const CA_FIELDS: &[&str] = &[
    "countryName",
    "stateOrProvinceName",
    "localityName",
    "organizationName",
    "organizationalUnitName",
    "commonName",
    "emailAddress",
    "domainComponent",
    "userId",
    "streetAddress",
    "surname",
    "serialNumber",
    "title",
    "givenName",
];

impl Ca {
    /// A new CA `/CN=<name>` in `dir/<file stem>`.
    pub fn new(dir: &Path, name: &str) -> Ca {
        let stem: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = dir.join(stem);
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
        std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
        let policy: String = CA_FIELDS
            .iter()
            .map(|f| format!("{f} = optional\n"))
            .collect();
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ ca ]\ndefault_ca = d\n[ d ]\ndir = .\ndatabase = ./index.txt\n\
                 new_certs_dir = ./newcerts\nserial = ./serial\ndefault_md = sha256\npolicy = p\n\
                 unique_subject = no\npreserve = yes\ncrlnumber = ./crlnumber\n\
                 crl_extensions = crl_ext\n[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n\
                 [ p ]\n{policy}"
            ),
        )
        .unwrap();
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3",
                "-utf8",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &dir,
        );
        Ca {
            cert: dir.join("ca.pem"),
            key: dir.join("ca.key"),
            dir,
        }
    }

    /// Revokes `cert` (it is listed in the next [`Ca::crl`]).
    pub fn revoke(&self, cert: &Issued) {
        let path = cert.cert.to_str().unwrap().to_string();
        openssl(
            &[
                "ca", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-revoke",
                &path,
            ],
            &self.dir,
        );
    }

    /// A fresh CRL (PEM, version 2, valid one day) listing every revoked certificate.
    pub fn crl(&self) -> PathBuf {
        openssl(
            &[
                "ca", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-gencrl",
                "-crldays", "1", "-out", "crl.pem",
            ],
            &self.dir,
        );
        self.dir.join("crl.pem")
    }

    /// Issues `<stem>.pem` and `<stem>.key`. `subject` is in `openssl -subj` form; `sans` are
    /// `DNS:..`, `IP:..`, `email:..` or `URI:..` entries.
    pub fn issue(
        &self,
        stem: &str,
        subject: &str,
        sans: &[&str],
        purpose: Purpose,
        validity: Validity,
    ) -> Issued {
        let d = &self.dir;
        let key = format!("{stem}.key");
        let csr = format!("{stem}.csr");
        let cert = format!("{stem}.pem");
        let ext = format!("{stem}.ext");
        let eku = match purpose {
            Purpose::Client => "clientAuth",
            Purpose::Server => "serverAuth",
            Purpose::Both => "serverAuth,clientAuth",
        };
        let mut ext_text = format!(
            "[ x ]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage={eku}\n"
        );
        if !sans.is_empty() {
            ext_text.push_str(&format!("subjectAltName={}\n", sans.join(",")));
        }
        std::fs::write(d.join(&ext), ext_text).unwrap();
        openssl(
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-utf8",
                "-subj",
                subject,
            ],
            d,
        );
        match validity {
            Validity::Days(days) => openssl(
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &cert,
                    "-days",
                    &days.to_string(),
                    "-extfile",
                    &ext,
                    "-extensions",
                    "x",
                ],
                d,
            ),
            Validity::Expired => openssl(
                &[
                    "ca",
                    "-batch",
                    "-config",
                    "ca.cnf",
                    "-cert",
                    "ca.pem",
                    "-keyfile",
                    "ca.key",
                    "-in",
                    &csr,
                    "-out",
                    &cert,
                    "-startdate",
                    "20200101000000Z",
                    "-enddate",
                    "20200102000000Z",
                    "-extfile",
                    &ext,
                    "-extensions",
                    "x",
                    "-notext",
                    "-utf8",
                ],
                d,
            ),
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join(&key), std::fs::Permissions::from_mode(0o600)).unwrap();
        Issued {
            cert: d.join(cert),
            key: d.join(key),
        }
    }
}
