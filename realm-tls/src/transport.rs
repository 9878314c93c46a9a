//! rustls configurations for mutual TLS from PEM files, and the step from a finished
//! `tokio-rustls` handshake to what a realm logs in with.

use realm_core::config::TlsConfig;
use realm_core::{CertificateDer as RealmCert, Credentials, Endpoint};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file-related setup failure: which file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TlsSetupError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

fn err(path: &Path, reason: impl Into<String>) -> TlsSetupError {
    TlsSetupError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The files of one side of a mutual-TLS connection.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// This side's certificate chain, PEM, leaf first.
    pub certificate: PathBuf,
    /// This side's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The CA certificates the other side's certificate must chain to, PEM.
    pub ca: PathBuf,
    /// Certificate revocation lists, PEM (server side only).
    pub crl: Option<PathBuf>,
}

impl TlsFiles {
    /// The server files of a `tls` authentication (`certificate-file`, `key-file`, `ca-file`,
    /// optional `crl-file`).
    pub fn from_config(c: &TlsConfig) -> Result<TlsFiles, String> {
        let need = |v: &Option<PathBuf>, key: &str| {
            v.clone().ok_or_else(|| {
                format!(
                    "tls: `{key}` is not set; a TLS server needs certificate-file, key-file and \
                     ca-file"
                )
            })
        };
        Ok(TlsFiles {
            certificate: need(&c.certificate_file, "certificate-file")?,
            key: need(&c.key_file, "key-file")?,
            ca: need(&c.ca_file, "ca-file")?,
            crl: c.crl_file.clone(),
        })
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the PEM certificates of `path` (at least one).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(path, format!("cannot read: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(path, format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(err(path, "holds no PEM certificate (BEGIN CERTIFICATE)"));
    }
    Ok(certs)
}

/// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| err(path, format!("no usable PEM private key: {e}")))
}

fn roots(path: &Path) -> Result<Arc<RootCertStore>, TlsSetupError> {
    let mut store = RootCertStore::empty();
    for c in load_certificates(path)? {
        store
            .add(c)
            .map_err(|e| err(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(Arc::new(store))
}

/// The verifier of client certificates: they must chain to the CA certificates of `ca` (PEM),
/// be fit for client authentication, and not be revoked by the CRLs of `crl` (PEM). Used by
/// [`server_config`] and by anything else that checks a peer's certificate chain the same way.
pub fn client_verifier(
    ca: &Path,
    crl: Option<&Path>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsSetupError> {
    let mut verifier = WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider());
    if let Some(crl_path) = crl {
        let crls = CertificateRevocationListDer::pem_file_iter(crl_path)
            .map_err(|e| err(crl_path, format!("cannot read: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(crl_path, format!("not PEM CRLs: {e}")))?;
        verifier = verifier.with_crls(crls);
    }
    verifier
        .build()
        .map_err(|e| err(ca, format!("cannot verify clients with it: {e}")))
}

/// A rustls server configuration that **requires** a client certificate chaining to `ca`
/// (checked against `crl` when given) and presents `certificate` with `key`. TLS 1.2 and 1.3,
/// rustls's safe defaults.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let verifier = client_verifier(&files.ca, files.crl.as_deref())?;
    let chain = load_certificates(&files.certificate)?;
    let key = load_key(&files.key)?;
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&files.certificate, e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map(Arc::new)
        .map_err(|e| err(&files.key, format!("does not fit the certificate: {e}")))
}

/// The matching client configuration: trusts servers chaining to `ca` (with hostname
/// verification) and presents `certificate` with `key`.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let chain = load_certificates(&files.certificate)?;
    let key = load_key(&files.key)?;
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&files.certificate, e.to_string()))?
        .with_root_certificates(roots(&files.ca)?)
        .with_client_auth_cert(chain, key)
        .map(Arc::new)
        .map_err(|e| err(&files.key, format!("does not fit the certificate: {e}")))
}

/// A rustls server configuration that presents `certificate` with `key` and asks clients for
/// no certificate: for peers that log in with a password or token over an encrypted,
/// server-authenticated connection (Terracotta's clients). Use [`server_config`] where clients
/// have certificates.
pub fn server_config_without_client_certificates(
    certificate: &Path,
    key: &Path,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let chain = load_certificates(certificate)?;
    let key_der = load_key(key)?;
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(certificate, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map(Arc::new)
        .map_err(|e| err(key, format!("does not fit the certificate: {e}")))
}

/// A client configuration that trusts servers chaining to `ca` (hostname verified) and presents
/// no certificate.
pub fn client_config_without_certificate(ca: &Path) -> Result<Arc<ClientConfig>, TlsSetupError> {
    Ok(Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| err(ca, e.to_string()))?
            .with_root_certificates(roots(ca)?)
            .with_no_client_auth(),
    ))
}

/// What a realm needs from a finished server-side handshake: the peer's verified chain as
/// [`Credentials::Certificate`], and the endpoint (address and the same chain). No certificate
/// (impossible with [`server_config`], which requires one) gives an empty chain, which the `tls`
/// module refuses.
pub fn peer_login<IO>(
    stream: &tokio_rustls::server::TlsStream<IO>,
    address: Option<std::net::SocketAddr>,
) -> (Credentials, Endpoint) {
    let (_, conn) = stream.get_ref();
    let chain: Vec<RealmCert> = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| RealmCert(c.as_ref().to_vec()))
        .collect();
    let endpoint = Endpoint {
        address,
        logical_name: None,
        peer_certificates: chain.clone(),
    };
    (Credentials::Certificate { chain }, endpoint)
}
