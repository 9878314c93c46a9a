//! SASL GSSAPI admin binds (`system-authentication: GSSAPI`): the admin connection
//! authenticates with the Kerberos credentials of the realm named by `security-realm`.
//!
//! ldap3 runs the GSSAPI exchange inside its async bind, and MIT krb5 may block there (reading
//! the keytab, asking the KDC for tickets). So before each bind the credential is acquired and
//! the `ldap/<host>` service ticket fetched **off the async executor**, into a ticket cache
//! private to this realm (`MEMORY:realm-…`, `realm_kerberos_sys::ClientCredential`); the bind
//! then finds everything in memory.

use libgssapi::context::{ClientCtx, CtxFlags};
use libgssapi::credential::Cred;
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL};
use realm_core::config::KerberosKeys;
use realm_core::module::off_executor;
use realm_kerberos_sys::ClientCredential;

use crate::conn::{Budget, Fault};

/// The Kerberos side of a GSSAPI admin bind: whose keys, in which private cache.
#[derive(Debug)]
pub(crate) struct GssapiAuth {
    // Without realm-kerberos's no-conf/integ option: SASL GSSAPI negotiates a security layer.
    cred: ClientCredential,
}

impl GssapiAuth {
    pub(crate) fn new(keys: KerberosKeys) -> Self {
        GssapiAuth {
            cred: ClientCredential::new(
                keys.principal.as_deref(),
                keys.keytab.as_deref(),
                keys.ticket_cache,
                false,
            ),
        }
    }

    /// Who binds, for messages.
    pub(crate) fn who(&self) -> String {
        self.cred
            .principal()
            .unwrap_or("the default Kerberos principal")
            .to_string()
    }

    /// Acquires the credential (once) and makes sure the cache holds a ticket for
    /// `ldap/<host>`. Blocking.
    fn prepare(&self, host: &str) -> Result<Cred, String> {
        let cred = self.cred.get().map_err(|e| {
            format!(
                "cannot get Kerberos credentials for {} from {}: {e}",
                self.who(),
                self.cred.source()
            )
        })?;
        let spn = format!("ldap/{host}");
        let name = Name::new(spn.as_bytes(), Some(&GSS_NT_KRB5_PRINCIPAL))
            .map_err(|e| format!("`{spn}` is not a valid principal name: {e}"))?;
        // One initial step puts the service ticket into the cache; the token is discarded.
        let mut ctx = ClientCtx::new(
            Some(cred.clone()),
            name,
            CtxFlags::GSS_C_MUTUAL_FLAG,
            Some(&GSS_MECH_KRB5),
        );
        ctx.step(None, None)
            .map_err(|e| format!("cannot get a service ticket for {spn}: {e}"))?;
        Ok(cred)
    }

    /// Binds `ldap` (connected to `host`) with SASL GSSAPI. Every failure is `Unavailable`: a
    /// realm whose admin bind fails can judge no password.
    pub(crate) async fn bind(
        self: &std::sync::Arc<Self>,
        ldap: &mut ldap3::Ldap,
        host: &str,
        budget: &Budget,
    ) -> Result<ldap3::LdapResult, Fault> {
        let me = self.clone();
        let h = host.to_string();
        let limit = budget.next()?;
        let cred = tokio::time::timeout(limit, off_executor(move || me.prepare(&h)))
            .await
            .map_err(|_| {
                Fault::Unavailable(format!(
                    "the Kerberos credentials for the admin bind took more than {} ms (KDC slow \
                     or unreachable)",
                    limit.as_millis()
                ))
            })?
            .ok_or_else(|| Fault::Unavailable("the Kerberos admin bind panicked".into()))?
            .map_err(|e| Fault::Unavailable(format!("GSSAPI admin bind: {e}")))?;
        budget
            .run(
                "GSSAPI admin bind",
                ldap.sasl_gssapi_cred_bind(cross_krb5::Cred::from(cred), host),
            )
            .await
    }
}
