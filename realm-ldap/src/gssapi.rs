//! SASL GSSAPI admin binds (`system-authentication: GSSAPI`): the admin connection
//! authenticates with the Kerberos credentials of the realm named by `security-realm`.
//!
//! ldap3 runs the GSSAPI exchange inside its async bind, and MIT krb5 may block there (reading
//! the keytab, asking the KDC for tickets). So before each bind the credential is acquired and
//! the `ldap/<host>` service ticket fetched **off the async executor**, into a ticket cache
//! private to this realm (`MEMORY:realm-ldap-…`); the bind then finds everything in memory.

use libgssapi::context::{ClientCtx, CtxFlags};
use libgssapi::credential::Cred;
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL};
use realm_core::config::KerberosKeys;
use realm_core::module::off_executor;
use realm_kerberos_sys::{Usage, acquire_cred_from};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::conn::{Budget, Fault};

static NEXT_CACHE: AtomicU64 = AtomicU64::new(1);

/// The Kerberos side of a GSSAPI admin bind: whose keys, in which private cache.
pub(crate) struct GssapiAuth {
    keys: KerberosKeys,
    ccache: Option<String>,
    cred: Mutex<Option<Cred>>,
}

impl std::fmt::Debug for GssapiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiAuth")
            .field("principal", &self.keys.principal)
            .field("keytab", &self.keys.keytab)
            .finish_non_exhaustive()
    }
}

impl GssapiAuth {
    pub(crate) fn new(keys: KerberosKeys) -> Self {
        let ccache = match &keys.ticket_cache {
            Some(named) => named.clone(),
            None => keys.keytab.as_ref().map(|_| {
                format!(
                    "MEMORY:realm-ldap-{}-{}",
                    std::process::id(),
                    NEXT_CACHE.fetch_add(1, Ordering::Relaxed)
                )
            }),
        };
        GssapiAuth {
            keys,
            ccache,
            cred: Mutex::new(None),
        }
    }

    /// Who binds, for messages.
    pub(crate) fn who(&self) -> String {
        self.keys
            .principal
            .clone()
            .unwrap_or_else(|| "the default Kerberos principal".into())
    }

    /// Acquires the credential (once) and makes sure the cache holds a ticket for
    /// `ldap/<host>`. Blocking.
    fn prepare(&self, host: &str) -> Result<Cred, String> {
        let cred = {
            let mut slot = self.cred.lock().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let keytab = self.keys.keytab.as_ref().map(|p| p.display().to_string());
                    let mut store: Vec<(&str, &str)> = Vec::new();
                    if let Some(k) = &keytab {
                        store.push(("client_keytab", k));
                    }
                    if let Some(c) = &self.ccache {
                        store.push(("ccache", c));
                    }
                    let c =
                        acquire_cred_from(self.keys.principal.as_deref(), Usage::Initiate, &store)
                            .map_err(|e| {
                                format!(
                                    "cannot get Kerberos credentials for {} from {}: {e}",
                                    self.who(),
                                    keytab.as_deref().unwrap_or("the default ticket cache")
                                )
                            })?;
                    *slot = Some(c.clone());
                    c
                }
            }
        };
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
