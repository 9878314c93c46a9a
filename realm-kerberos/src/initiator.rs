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
use realm_kerberos_sys::ClientCredential;
use std::fmt;

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

/// A Kerberos initiator holding one client credential. Share it (`Arc`); the credential is
/// acquired on first use and kept.
#[derive(Debug)]
pub struct Initiator {
    cred: ClientCredential,
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
        // Tokens claim no confidentiality or integrity: the documents' acceptors refuse those
        // flags unless relax-flags-check is set, and a token is never used to wrap messages.
        Ok(Initiator {
            cred: ClientCredential::new(
                keys.principal.as_deref(),
                keys.keytab.as_deref(),
                keys.ticket_cache.clone(),
                true,
            ),
        })
    }

    /// The principal tokens are made for (`None`: the cache's or keytab's default).
    pub fn principal(&self) -> Option<&str> {
        self.cred.principal()
    }

    fn credential(&self) -> Result<Cred, InitError> {
        self.cred.get().map_err(|e| {
            init_error(
                &e,
                &format!(
                    "cannot get Kerberos credentials for {} from {}",
                    self.cred.principal().unwrap_or("the default principal"),
                    self.cred.source()
                ),
            )
        })
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
