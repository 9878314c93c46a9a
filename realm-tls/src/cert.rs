//! What the realm reads from a peer certificate: the subject, the subject alternative names and
//! the validity period.

use crate::dn::DistinguishedName;
use std::fmt;
use std::net::IpAddr;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// One subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// `dNSName`.
    Dns(String),
    /// `rfc822Name` (an e-mail address).
    Email(String),
    /// `uniformResourceIdentifier`.
    Uri(String),
    /// `iPAddress`.
    Ip(IpAddr),
}

impl San {
    /// The value as text (`host.example.com`, `10.0.0.1`, ...).
    pub fn value(&self) -> String {
        match self {
            San::Dns(v) | San::Email(v) | San::Uri(v) => v.clone(),
            San::Ip(ip) => ip.to_string(),
        }
    }
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(v) => write!(f, "DNS:{v}"),
            San::Email(v) => write!(f, "email:{v}"),
            San::Uri(v) => write!(f, "URI:{v}"),
            San::Ip(v) => write!(f, "IP:{v}"),
        }
    }
}

/// A peer certificate, decoded.
#[derive(Clone, Debug)]
pub struct PeerCertificate {
    /// The subject.
    pub subject: DistinguishedName,
    /// The subject as an RFC 4514 string (the identity).
    pub subject_string: String,
    /// The issuer (its string, [`PeerCertificate::issuer_string`], is made only when needed:
    /// for messages, not on every login).
    pub issuer: DistinguishedName,
    /// The subject alternative names (DNS, e-mail, URI, IP; others are skipped).
    pub sans: Vec<San>,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
}

/// Why a certificate could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid X.509 certificate: {0}")]
pub struct CertificateError(String);

impl PeerCertificate {
    /// The issuer as an RFC 4514 string.
    pub fn issuer_string(&self) -> String {
        self.issuer.to_rfc4514()
    }

    /// Decodes a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<PeerCertificate, CertificateError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| CertificateError(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertificateError(format!(
                "{} bytes after the certificate",
                rest.len()
            )));
        }
        let subject = DistinguishedName::from_x509(cert.subject());
        let mut sans = Vec::new();
        let ext = cert
            .subject_alternative_name()
            .map_err(|e| CertificateError(format!("subject alternative names: {e}")))?;
        if let Some(ext) = ext {
            for name in &ext.value.general_names {
                match name {
                    GeneralName::DNSName(v) => sans.push(San::Dns((*v).to_string())),
                    GeneralName::RFC822Name(v) => sans.push(San::Email((*v).to_string())),
                    GeneralName::URI(v) => sans.push(San::Uri((*v).to_string())),
                    GeneralName::IPAddress(b) => {
                        if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                            sans.push(San::Ip(IpAddr::from(v4)));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                            sans.push(San::Ip(IpAddr::from(v6)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let validity = cert.validity();
        Ok(PeerCertificate {
            subject_string: subject.to_rfc4514(),
            issuer: DistinguishedName::from_x509(cert.issuer()),
            subject,
            sans,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }
}
