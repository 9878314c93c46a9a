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
        let openssl = require_binary("openssl", "openssl");
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
        let run = |args: &[&str]| {
            let out = Command::new(&openssl).args(args).output().unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
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
