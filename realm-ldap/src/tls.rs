//! TLS for `ldaps://` and StartTLS: rustls with a CA file from the configuration, or the system
//! trust store (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR` as OpenSSL does).

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Builds the client configuration: trust anchors from `ca_file` (PEM, one or more certificates)
/// or else the system store; hostname verification unless `verify_hostname` is false.
pub(crate) fn client_config(
    ca_file: Option<&Path>,
    verify_hostname: bool,
) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read trust-ca-file {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("trust-ca-file {} is not PEM: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "trust-ca-file {} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                    path.display()
                ));
            }
            for c in certs {
                roots.add(c).map_err(|e| {
                    format!(
                        "trust-ca-file {}: unusable certificate: {e}",
                        path.display()
                    )
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                // A malformed system certificate is skipped, as OpenSSL skips it.
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(
                    "no trusted CA certificates: the system trust store is empty and no \
                     trust-ca-file is configured"
                        .into(),
                );
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(roots);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let config = if verify_hostname {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| format!("TLS setup failed: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly { inner }))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Verifies the chain to a trusted CA, validity and signatures, but not the host name
/// (`verify-hostname: false`, which the configuration loader warns about).
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
