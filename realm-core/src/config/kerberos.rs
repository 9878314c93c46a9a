//! Where a realm's own Kerberos credentials come from: the documents' `security-realm`
//! references, resolved to a principal, a keytab and a ticket cache.
//!
//! The documents let a `kerberos` authentication or identity, or an `ldap` GSSAPI admin bind,
//! name another realm (`security-realm: krb5Acceptor`) whose `jaas` stack holds Java's
//! `com.sun.security.auth.module.Krb5LoginModule` with `keyTab`, `principal`, `useTicketCache`…
//! Realm does not run that module (there is no JVM); it reads the same properties and hands them
//! to MIT krb5. The simplified form (`principal` + `keytab-file` on the realm itself) and a
//! referenced `kerberos` realm resolve the same way.

use super::model::{AuthenticationConfig, IdentityConfig, Properties, SecurityConfig};
use std::path::PathBuf;

/// The class names whose properties are read as a Kerberos credential holder: Java's and IBM's
/// `Krb5LoginModule`, and Realm's own name for the same thing.
pub const KRB5_LOGIN_MODULE_CLASSES: &[&str] = &[
    "com.sun.security.auth.module.Krb5LoginModule",
    "com.ibm.security.auth.module.Krb5LoginModule",
    "realm.kerberos.Credentials",
];

/// The `Krb5LoginModule` properties Realm understands. `principal`, `keyTab`, `useKeyTab`,
/// `useTicketCache` and `ticketCache` decide the credential; the others are accepted so that the
/// documents' examples load as written, and change nothing (MIT krb5 never prompts, always keeps
/// the key it read, and re-reads `krb5.conf` as needed).
pub const KRB5_LOGIN_MODULE_PROPERTIES: &[&str] = &[
    "principal",
    "keyTab",
    "useKeyTab",
    "useTicketCache",
    "ticketCache",
    "isInitiator",
    "doNotPrompt",
    "storeKey",
    "refreshKrb5Config",
    "renewTGT",
    "debug",
];

/// A realm's own Kerberos credential, as MIT krb5 will be asked for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KerberosKeys {
    /// The principal (`hz/10.0.0.1@ACME.COM`); `None` for any key of the keytab (acceptor) or the
    /// cache's default principal (initiator).
    pub principal: Option<String>,
    /// The keytab; `None` for the process's default keytab (`KRB5_KTNAME`, `default_keytab_name`).
    pub keytab: Option<PathBuf>,
    /// Use a ticket cache (`useTicketCache`): `Some(None)` for the default cache (`KRB5CCNAME`),
    /// `Some(Some(name))` for a named one (`ticketCache`).
    pub ticket_cache: Option<Option<String>>,
}

impl KerberosKeys {
    /// Reads `Krb5LoginModule` properties. `useKeyTab=false` with a `keyTab` is refused (which
    /// of the two was meant?); `principal=*` means "any key of the keytab", as in Java.
    pub fn from_properties(p: &Properties) -> Result<KerberosKeys, String> {
        let text = |k: &str| p.get(k).and_then(|v| v.expose()).map(str::trim);
        let flag = |k: &str| -> Result<Option<bool>, String> {
            match text(k) {
                None => Ok(None),
                Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
                Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
                Some(v) => Err(format!(
                    "property `{k}`: expected true or false, found `{v}`"
                )),
            }
        };
        if let Some(unknown) = p
            .keys()
            .find(|k| !KRB5_LOGIN_MODULE_PROPERTIES.contains(&k.as_str()))
        {
            return Err(format!(
                "unknown Krb5LoginModule property `{unknown}`; known: {}",
                KRB5_LOGIN_MODULE_PROPERTIES.join(", ")
            ));
        }
        let keytab = text("keyTab").filter(|s| !s.is_empty()).map(PathBuf::from);
        let use_keytab = flag("useKeyTab")?;
        if use_keytab == Some(false) && keytab.is_some() {
            return Err("property `keyTab` is set but `useKeyTab` is false; remove one".into());
        }
        let ticket_cache = match flag("useTicketCache")? {
            Some(true) => Some(text("ticketCache").map(str::to_string)),
            _ if text("ticketCache").is_some() => {
                return Err("property `ticketCache` needs `useTicketCache: true`".into());
            }
            _ => None,
        };
        let principal = text("principal")
            .filter(|s| !s.is_empty() && *s != "*")
            .map(str::to_string);
        Ok(KerberosKeys {
            principal,
            keytab,
            ticket_cache,
        })
    }
}

impl SecurityConfig {
    /// The Kerberos credential held by realm `name` (the target of a `security-realm`): its
    /// `jaas` stack's `Krb5LoginModule` properties, or its `kerberos` authentication's or
    /// identity's `principal` and `keytab-file` (following further `security-realm` references;
    /// the loader has refused cycles).
    pub fn kerberos_keys(&self, name: &str) -> Result<KerberosKeys, String> {
        self.kerberos_keys_depth(name, 0)
    }

    fn kerberos_keys_depth(&self, name: &str, depth: usize) -> Result<KerberosKeys, String> {
        if depth > 8 {
            return Err(format!("security-realm `{name}`: references nest too deep"));
        }
        let realm = self
            .realms
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| format!("security-realm `{name}`: no realm of that name"))?;
        let simplified = |sr: &Option<String>, p: &Option<String>, k: &Option<PathBuf>| match sr {
            Some(next) => self.kerberos_keys_depth(next, depth + 1),
            None => Ok(KerberosKeys {
                principal: p.clone().filter(|p| p != "*"),
                keytab: k.clone(),
                ticket_cache: None,
            }),
        };
        match (&realm.authentication, &realm.identity) {
            (Some(AuthenticationConfig::Jaas(modules)), _) => {
                let m = modules
                    .iter()
                    .find(|m| KRB5_LOGIN_MODULE_CLASSES.contains(&m.class_name.as_str()))
                    .ok_or_else(|| {
                        format!(
                            "security-realm `{name}`: its jaas stack has no Krb5LoginModule \
                             (expected class-name {})",
                            KRB5_LOGIN_MODULE_CLASSES.join(" or ")
                        )
                    })?;
                KerberosKeys::from_properties(&m.properties)
                    .map_err(|e| format!("security-realm `{name}`: {e}"))
            }
            (Some(AuthenticationConfig::Kerberos(k)), _) => {
                simplified(&k.security_realm, &k.principal, &k.keytab_file)
            }
            (_, Some(IdentityConfig::Kerberos(k))) => {
                simplified(&k.security_realm, &k.principal, &k.keytab_file)
            }
            _ => Err(format!(
                "security-realm `{name}` holds no Kerberos credentials: expected a jaas stack \
                 with com.sun.security.auth.module.Krb5LoginModule (keyTab, principal), or a \
                 kerberos authentication or identity with principal and keytab-file"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PropertyValue;

    fn props(kv: &[(&str, &str)]) -> Properties {
        kv.iter()
            .map(|(k, v)| (k.to_string(), PropertyValue::Text(v.to_string())))
            .collect()
    }

    #[test]
    fn the_documents_acceptor_properties_give_a_keytab_and_a_principal() {
        let k = KerberosKeys::from_properties(&props(&[
            ("isInitiator", "false"),
            ("useTicketCache", "false"),
            ("doNotPrompt", "true"),
            ("useKeyTab", "true"),
            ("storeKey", "true"),
            ("principal", "hz/192.168.1.1@ACME.COM"),
            ("keyTab", "/opt/member1.keytab"),
        ]))
        .unwrap();
        assert_eq!(k.principal.as_deref(), Some("hz/192.168.1.1@ACME.COM"));
        assert_eq!(k.keytab, Some(PathBuf::from("/opt/member1.keytab")));
        assert_eq!(k.ticket_cache, None);
    }

    #[test]
    fn ticket_cache_and_star_principal() {
        let k = KerberosKeys::from_properties(&props(&[
            ("useTicketCache", "true"),
            ("doNotPrompt", "true"),
            ("principal", "*"),
        ]))
        .unwrap();
        assert_eq!(k.principal, None);
        assert_eq!(k.ticket_cache, Some(None));
        let k = KerberosKeys::from_properties(&props(&[
            ("useTicketCache", "true"),
            ("ticketCache", "FILE:/tmp/cc"),
        ]))
        .unwrap();
        assert_eq!(k.ticket_cache, Some(Some("FILE:/tmp/cc".into())));
    }

    #[test]
    fn contradictions_and_typos_are_refused() {
        let e = KerberosKeys::from_properties(&props(&[("keytab", "/x")])).unwrap_err();
        assert!(
            e.contains("unknown Krb5LoginModule property `keytab`"),
            "{e}"
        );
        let e = KerberosKeys::from_properties(&props(&[("keyTab", "/x"), ("useKeyTab", "false")]))
            .unwrap_err();
        assert!(e.contains("useKeyTab"), "{e}");
        let e = KerberosKeys::from_properties(&props(&[("ticketCache", "FILE:/x")])).unwrap_err();
        assert!(e.contains("useTicketCache"), "{e}");
        let e = KerberosKeys::from_properties(&props(&[("useKeyTab", "yes")])).unwrap_err();
        assert!(e.contains("expected true or false"), "{e}");
    }
}
