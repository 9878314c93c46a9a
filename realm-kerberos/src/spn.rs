//! The service principal name (SPN) an initiator asks a ticket for, built as the documents say:
//! `spn` if set; otherwise `service-name-prefix` (default `hz/`) followed by the peer's IP
//! address, or its canonical host name with `use-canonical-hostname`; then `@realm` when `realm`
//! is set.

use realm_core::Endpoint;
use realm_core::config::KerberosIdentityConfig;

/// The default `service-name-prefix`.
pub const DEFAULT_PREFIX: &str = "hz/";

/// Builds the SPN for `peer`. `canonical` resolves an IP address to its canonical host name
/// (reverse DNS); it is called only with `use-canonical-hostname`.
pub fn spn_for(
    config: &KerberosIdentityConfig,
    peer: &Endpoint,
    canonical: impl FnOnce(std::net::IpAddr) -> Option<String>,
) -> Result<String, String> {
    let base = match &config.spn {
        Some(spn) => spn.clone(),
        None => {
            let prefix = config
                .service_name_prefix
                .as_deref()
                .unwrap_or(DEFAULT_PREFIX);
            let ip = peer.address.map(|a| a.ip()).ok_or(
                "the peer's address is unknown, so no service principal name can be built; \
                 set `spn` to name the service",
            )?;
            let host = if config.use_canonical_hostname {
                canonical(ip).ok_or_else(|| {
                    format!(
                        "use-canonical-hostname: {ip} has no canonical host name (reverse DNS \
                         lookup failed)"
                    )
                })?
            } else {
                ip.to_string()
            };
            format!("{prefix}{host}")
        }
    };
    Ok(match &config.realm {
        Some(r) if !base.contains('@') => format!("{base}@{r}"),
        _ => base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> KerberosIdentityConfig {
        KerberosIdentityConfig {
            realm: None,
            security_realm: None,
            principal: None,
            keytab_file: None,
            service_name_prefix: None,
            spn: None,
            use_canonical_hostname: false,
        }
    }

    fn peer() -> Endpoint {
        Endpoint::from_addr("192.168.1.1:5701".parse().unwrap())
    }

    #[test]
    fn prefix_address_and_realm_as_the_documents_say() {
        let none = |_| None;
        assert_eq!(spn_for(&cfg(), &peer(), none).unwrap(), "hz/192.168.1.1");
        let c = KerberosIdentityConfig {
            realm: Some("ACME.COM".into()),
            ..cfg()
        };
        assert_eq!(
            spn_for(&c, &peer(), none).unwrap(),
            "hz/192.168.1.1@ACME.COM"
        );
        let c = KerberosIdentityConfig {
            service_name_prefix: Some("jet/".into()),
            ..cfg()
        };
        assert_eq!(spn_for(&c, &peer(), none).unwrap(), "jet/192.168.1.1");
    }

    #[test]
    fn a_static_spn_wins_and_keeps_its_own_realm() {
        let c = KerberosIdentityConfig {
            spn: Some("hz/cluster.acme.com".into()),
            realm: Some("ACME.COM".into()),
            ..cfg()
        };
        assert_eq!(
            spn_for(&c, &Endpoint::default(), |_| None).unwrap(),
            "hz/cluster.acme.com@ACME.COM"
        );
        let c = KerberosIdentityConfig {
            spn: Some("hz/x@OTHER.COM".into()),
            realm: Some("ACME.COM".into()),
            ..cfg()
        };
        assert_eq!(spn_for(&c, &peer(), |_| None).unwrap(), "hz/x@OTHER.COM");
    }

    #[test]
    fn canonical_host_names_and_missing_addresses() {
        let c = KerberosIdentityConfig {
            use_canonical_hostname: true,
            ..cfg()
        };
        assert_eq!(
            spn_for(&c, &peer(), |_| Some("member1.acme.com".into())).unwrap(),
            "hz/member1.acme.com"
        );
        let e = spn_for(&c, &peer(), |_| None).unwrap_err();
        assert!(e.contains("reverse DNS"), "{e}");
        let e = spn_for(&cfg(), &Endpoint::default(), |_| None).unwrap_err();
        assert!(e.contains("set `spn`"), "{e}");
    }
}
