//! The initiator: gets a service ticket for a peer from the KDC and wraps it as a GSSAPI
//! initial token, the credentials a `kerberos` identity presents.
//!
//! Each initiator has its own in-memory ticket cache (`MEMORY:realm-…`), filled from its keytab
//! (MIT's "client keytab": the TGT is fetched when first needed and again when it expires), so
//! two realms of one process never share or overwrite each other's tickets, and nothing is
//! written to disk. With `useTicketCache` (a referenced realm's `Krb5LoginModule`), the named
//! or default cache is used instead, e.g. one that `kinit` filled.

use crate::acceptor::codes;
use libgssapi::context::{ClientCtx, CtxFlags};
use libgssapi::credential::Cred;
use libgssapi::error::Error as GssError;
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL};
use realm_core::config::KerberosKeys;
use realm_kerberos_sys::{Usage, acquire_cred_from_with};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why no token could be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitError {
    /// `true` when the KDC could not be reached (down, unknown realm, timeout): a reason to
    /// retry, never a verdict on the credentials.
    pub unavailable: bool,
    /// The explanation (never contains key material).
    pub message: String,
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InitError {}

static NEXT_CACHE: AtomicU64 = AtomicU64::new(1);

/// A Kerberos initiator holding one client credential. Share it (`Arc`); the credential is
/// acquired on first use and kept.
pub struct Initiator {
    keys: KerberosKeys,
    ccache: Option<String>,
    cred: Mutex<Option<Cred>>,
}

impl fmt::Debug for Initiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initiator")
            .field("principal", &self.keys.principal)
            .field("keytab", &self.keys.keytab)
            .field("ccache", &self.ccache)
            .finish_non_exhaustive()
    }
}

/// Classifies an initiator-side GSSAPI failure.
pub(crate) fn init_error(e: &GssError, what: &str) -> InitError {
    let minor = e.minor as i32;
    let mit = e.to_string();
    let (unavailable, hint) = match minor {
        codes::KDC_UNREACH => (true, "the KDC cannot be reached (down, or a wrong address)"),
        codes::REALM_UNKNOWN => (
            true,
            "no KDC is configured for the realm (krb5.conf [realms] or DNS)",
        ),
        codes::KDC_ERR_S_PRINCIPAL_UNKNOWN => (
            false,
            "the KDC does not know this service principal: check spn, service-name-prefix and \
             realm, and that the peer's principal exists",
        ),
        codes::KDC_ERR_C_PRINCIPAL_UNKNOWN => (false, "the KDC does not know our principal"),
        codes::KDC_ERR_PREAUTH_FAILED => (
            false,
            "the KDC refused our key (the keytab is out of date, or the password is wrong)",
        ),
        codes::KT_NOTFOUND | codes::KT_KVNONOTFOUND => {
            (false, "the keytab has no key for our principal")
        }
        m if (1..4096).contains(&m) => (true, "a system error"),
        _ => (false, "the Kerberos library refused"),
    };
    InitError {
        unavailable,
        message: format!("{what}: {hint} (MIT: {mit})"),
    }
}

impl Initiator {
    /// An initiator for `keys` (principal and keytab, or a ticket cache). Checks the keytab
    /// now; contacts no KDC until the first token.
    pub fn new(keys: KerberosKeys, warnings: &mut Vec<String>) -> Result<Initiator, String> {
        if let Some(k) = &keys.keytab {
            crate::acceptor::check_keytab(k, keys.principal.as_deref(), warnings)?;
        }
        let ccache = match &keys.ticket_cache {
            Some(Some(name)) => Some(name.clone()),
            Some(None) => None,
            None if keys.keytab.is_some() => Some(format!(
                "MEMORY:realm-{}-{}",
                std::process::id(),
                NEXT_CACHE.fetch_add(1, Ordering::Relaxed)
            )),
            None => None,
        };
        Ok(Initiator {
            keys,
            ccache,
            cred: Mutex::new(None),
        })
    }

    /// The principal tokens are made for (`None`: the cache's or keytab's default).
    pub fn principal(&self) -> Option<&str> {
        self.keys.principal.as_deref()
    }

    fn credential(&self) -> Result<Cred, InitError> {
        let mut slot = self.cred.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let keytab = self.keys.keytab.as_ref().map(|p| p.display().to_string());
        let mut store: Vec<(&str, &str)> = Vec::new();
        if let Some(k) = &keytab {
            store.push(("client_keytab", k));
        }
        if let Some(c) = &self.ccache {
            store.push(("ccache", c));
        }
        // Tokens claim no confidentiality or integrity: the documents' acceptors refuse those
        // flags unless relax-flags-check is set, and a token is never used to wrap messages.
        let cred = acquire_cred_from_with(
            self.keys.principal.as_deref(),
            Usage::Initiate,
            &store,
            true,
        )
        .map_err(|e| {
            init_error(
                &e,
                &format!(
                    "cannot get Kerberos credentials for {} from {}",
                    self.keys
                        .principal
                        .as_deref()
                        .unwrap_or("the default principal"),
                    keytab.as_deref().unwrap_or("the default ticket cache")
                ),
            )
        })?;
        *slot = Some(cred.clone());
        Ok(cred)
    }

    /// Makes an initial context token for `spn` (`service/host` or `service/host@REALM`).
    /// `flags` are normally empty: the documents' acceptors neither answer (no mutual
    /// authentication) nor wrap messages. Blocking (may talk to the KDC): call it off the async
    /// executor.
    pub fn token_for(&self, spn: &str, flags: CtxFlags) -> Result<Vec<u8>, InitError> {
        let cred = self.credential()?;
        let name =
            Name::new(spn.as_bytes(), Some(&GSS_NT_KRB5_PRINCIPAL)).map_err(|e| InitError {
                unavailable: false,
                message: format!("`{spn}` is not a valid Kerberos principal name: {e}"),
            })?;
        let mut ctx = ClientCtx::new(Some(cred), name, flags, Some(&GSS_MECH_KRB5));
        match ctx.step(None, None) {
            Ok(Some(token)) => Ok(token.to_vec()),
            Ok(None) => Err(InitError {
                unavailable: false,
                message: format!("the Kerberos library produced no token for {spn}"),
            }),
            Err(e) => Err(init_error(
                &e,
                &format!("cannot get a service ticket for {spn}"),
            )),
        }
    }
}
