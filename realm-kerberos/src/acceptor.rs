//! The acceptor: checks a peer's GSSAPI Kerberos token with the service key from a keytab and
//! says who the peer is.
//!
//! The credential is acquired once, when the realm is built, and shared by every login (MIT
//! krb5 credentials are thread-safe); each login runs one `gss_accept_sec_context` on tokio's
//! blocking pool. MIT's replay cache stays on: a token presented twice is refused the second
//! time (`KRB5RCACHETYPE=none` turns it off for the whole process; the acceptor warns if it
//! finds that). A refusal says why, with what the token itself reveals (see [`crate::token`])
//! and what the keytab holds.

use crate::keytab::{Keytab, enctype_name};
use crate::token::{self, TokenInfo};
use libgssapi::context::{CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::Cred;
use libgssapi::error::{Error as GssError, MajorFlags};
use realm_core::config::KerberosKeys;
use realm_kerberos_sys::{Usage, acquire_cred_from};
use std::fmt;
use std::path::PathBuf;

/// MIT krb5 error codes (`krb5/krb5.h`) the acceptor tells apart. GSSAPI reports them as the
/// minor status (an unsigned 32-bit view of these negative numbers).
pub mod codes {
    /// Decrypt integrity check failed (the key does not match).
    pub const AP_ERR_BAD_INTEGRITY: i32 = -1765328353;
    /// Ticket expired.
    pub const AP_ERR_TKT_EXPIRED: i32 = -1765328352;
    /// Ticket not yet valid.
    pub const AP_ERR_TKT_NYV: i32 = -1765328351;
    /// Request is a replay.
    pub const AP_ERR_REPEAT: i32 = -1765328350;
    /// The ticket isn't for us.
    pub const AP_ERR_NOT_US: i32 = -1765328349;
    /// Clock skew too great.
    pub const AP_ERR_SKEW: i32 = -1765328347;
    /// Message stream modified.
    pub const AP_ERR_MODIFIED: i32 = -1765328343;
    /// Specified version of key is not available.
    pub const AP_ERR_BADKEYVER: i32 = -1765328340;
    /// Service key not available.
    pub const AP_ERR_NOKEY: i32 = -1765328339;
    /// Wrong principal in request.
    pub const AP_WRONG_PRINC: i32 = -1765328240;
    /// Key table entry not found.
    pub const KT_NOTFOUND: i32 = -1765328203;
    /// Key version number for principal in key table is incorrect.
    pub const KT_KVNONOTFOUND: i32 = -1765328154;
    /// Cannot contact any KDC for requested realm.
    pub const KDC_UNREACH: i32 = -1765328228;
    /// Cannot find KDC for requested realm.
    pub const REALM_UNKNOWN: i32 = -1765328230;
    /// Server not found in Kerberos database.
    pub const KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = -1765328377;
    /// Client not found in Kerberos database.
    pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = -1765328378;
    /// Preauthentication failed (wrong key or password).
    pub const KDC_ERR_PREAUTH_FAILED: i32 = -1765328360;
    /// KDC has no support for encryption type.
    pub const KDC_ERR_ETYPE_NOSUPP: i32 = -1765328370;
}

/// Why a token was refused (the kind; the message is [`AcceptError`]'s `Display`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptErrorKind {
    /// The same token was presented before (replay cache hit).
    Replay,
    /// The ticket's end time has passed.
    Expired,
    /// The ticket's start time is in the future.
    NotYetValid,
    /// The authenticator's time is outside the allowed clock skew.
    ClockSkew,
    /// The ticket is for a service this acceptor has no key for.
    WrongService,
    /// The keytab holds the service, but not the key version the ticket was encrypted with.
    WrongKvno,
    /// The keytab holds the service and key version, but not for the ticket's encryption type.
    WrongEnctype,
    /// A key was found but does not decrypt the ticket (the keytab is stale or forged).
    WrongKey,
    /// The initiator asked for mutual authentication, confidentiality or integrity.
    Flags,
    /// The exchange needs more than one token.
    MultiStep,
    /// Not a Kerberos token at all.
    Malformed,
    /// The acceptor could not work (keytab unreadable, no credential): not the peer's fault.
    Unavailable,
    /// Another GSSAPI failure (the message carries MIT's text).
    Other,
}

/// A refused token: the kind and a message for logs and traces (never sent to the peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptError {
    /// What went wrong.
    pub kind: AcceptErrorKind,
    /// The explanation.
    pub message: String,
    /// What the token revealed, when it could be decoded.
    pub token: Option<TokenInfo>,
}

impl fmt::Display for AcceptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AcceptError {}

/// A token accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The client principal, `user@REALM`.
    pub principal: String,
    /// The flags the initiator asked for.
    pub flags: CtxFlags,
}

/// A Kerberos acceptor bound to one service credential. Cheap to share (`Arc` it).
pub struct Acceptor {
    cred: Cred,
    principal: Option<String>,
    keytab_path: Option<PathBuf>,
    keytab: Option<Keytab>,
    relax_flags_check: bool,
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("principal", &self.principal)
            .field("keytab", &self.keytab_path)
            .field("relax_flags_check", &self.relax_flags_check)
            .finish_non_exhaustive()
    }
}

/// Checks the keytab an acceptor or initiator is given: readable, a real keytab, holding the
/// principal when one is named. Returns it with warnings (a keytab others can read).
pub fn check_keytab(
    path: &std::path::Path,
    principal: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Keytab, String> {
    let kt = Keytab::read(path).map_err(|e| e.to_string())?;
    if kt.entries.is_empty() {
        return Err(format!("keytab {} holds no keys", path.display()));
    }
    if let Some(p) = principal
        && !p.contains('@')
        && kt.keys_of(p).next().is_none()
        && !kt
            .principals()
            .iter()
            .any(|q| q.rsplit_once('@').is_some_and(|(n, _)| n == p))
    {
        return Err(format!(
            "keytab {} holds no key for `{p}`; it holds {}",
            path.display(),
            kt.principals().join(", ")
        ));
    }
    if let Some(p) = principal
        && p.contains('@')
        && kt.keys_of(p).next().is_none()
    {
        return Err(format!(
            "keytab {} holds no key for `{p}`; it holds {}",
            path.display(),
            kt.principals().join(", ")
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            warnings.push(format!(
                "keytab {} is readable by other users (mode {:o}); a keytab is a password: \
                 chmod 600 it",
                path.display(),
                meta.permissions().mode() & 0o777
            ));
        }
    }
    Ok(kt)
}

/// The warning for a process whose replay cache is off.
pub fn replay_cache_warning() -> Option<String> {
    match std::env::var("KRB5RCACHETYPE") {
        Ok(v) if v.eq_ignore_ascii_case("none") => Some(
            "KRB5RCACHETYPE=none: MIT krb5's replay cache is off for this process, so a captured \
             Kerberos token can be replayed within the clock skew; unset it"
                .into(),
        ),
        _ => None,
    }
}

/// `configured` (maybe without `@REALM`, meaning the default realm) names `spn`.
fn same_principal(configured: &str, spn: &str) -> bool {
    configured == spn
        || (!configured.contains('@') && spn.rsplit_once('@').is_some_and(|(n, _)| n == configured))
}

impl Acceptor {
    /// Acquires the acceptor credential: `keys.principal` (any key of the keytab when `None`)
    /// from `keys.keytab` (the process's default keytab when `None`). Blocking (reads files).
    pub fn new(
        keys: &KerberosKeys,
        relax_flags_check: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Acceptor, String> {
        let keytab = match &keys.keytab {
            Some(p) => Some(check_keytab(p, keys.principal.as_deref(), warnings)?),
            None => None,
        };
        let keytab_str = keys.keytab.as_ref().map(|p| p.display().to_string());
        let mut store: Vec<(&str, &str)> = Vec::new();
        if let Some(k) = &keytab_str {
            store.push(("keytab", k));
        }
        let cred =
            acquire_cred_from(keys.principal.as_deref(), Usage::Accept, &store).map_err(|e| {
                format!(
                    "cannot acquire the Kerberos acceptor credential for {} from {}: {e}",
                    keys.principal.as_deref().unwrap_or("any principal"),
                    keytab_str.as_deref().unwrap_or("the default keytab")
                )
            })?;
        if relax_flags_check {
            warnings.push(
                "relax-flags-check: tokens asking for mutual authentication, confidentiality or \
                 integrity are accepted although this acceptor provides none of them"
                    .into(),
            );
        }
        warnings.extend(replay_cache_warning());
        Ok(Acceptor {
            cred,
            principal: keys.principal.clone(),
            keytab_path: keys.keytab.clone(),
            keytab,
            relax_flags_check,
        })
    }

    /// The principal the acceptor accepts for (`None`: any in its keytab).
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// Accepts one initial token. Blocking (file I/O on the replay cache): call it off the
    /// async executor.
    pub fn accept(&self, token: &[u8]) -> Result<Accepted, AcceptError> {
        let mut ctx = ServerCtx::new(Some(self.cred.clone()));
        let out = match ctx.step(token) {
            Ok(out) => out,
            Err(e) => {
                // The token is decoded only to explain a refusal (on success it would cost a
                // twentieth of the accept). MIT keeps its extended message ("... kvno 3 not
                // found in keytab") per thread, so `explain` formats it here, on the failing
                // thread; decoding the token in between makes no GSSAPI call.
                return Err(match token::inspect(token) {
                    Ok(info) => self.explain(&e, info),
                    Err(te) => AcceptError {
                        kind: AcceptErrorKind::Malformed,
                        message: te.to_string(),
                        token: None,
                    },
                });
            }
        };
        let describe = || token::inspect(token).map_or_else(|e| e.to_string(), |i| i.to_string());
        if !ctx.is_complete() {
            return Err(AcceptError {
                kind: AcceptErrorKind::MultiStep,
                message: format!(
                    "the token needs a multi-step negotiation, which is not supported ({})",
                    describe()
                ),
                token: token::inspect(token).ok(),
            });
        }
        let flags = ctx.flags().unwrap_or(CtxFlags::empty());
        let answered = out.as_ref().is_some_and(|b| !b.is_empty());
        if !self.relax_flags_check {
            let mut asked = Vec::new();
            if answered || flags.contains(CtxFlags::GSS_C_MUTUAL_FLAG) {
                asked.push("mutual authentication (GSS_C_MUTUAL_FLAG)");
            }
            if flags.contains(CtxFlags::GSS_C_CONF_FLAG) {
                asked.push("confidentiality (GSS_C_CONF_FLAG)");
            }
            if flags.contains(CtxFlags::GSS_C_INTEG_FLAG) {
                asked.push("integrity (GSS_C_INTEG_FLAG)");
            }
            if flags.contains(CtxFlags::GSS_C_DELEG_FLAG) {
                asked.push("credential delegation (GSS_C_DELEG_FLAG)");
            }
            if !asked.is_empty() {
                return Err(AcceptError {
                    kind: AcceptErrorKind::Flags,
                    message: format!(
                        "the initiator asked for {}, which this acceptor does not provide; \
                         set relax-flags-check: true to accept such tokens anyway ({})",
                        asked.join(" and "),
                        describe()
                    ),
                    token: token::inspect(token).ok(),
                });
            }
        }
        let principal = ctx
            .source_name()
            .map(|n| n.to_string())
            .map_err(|e| AcceptError {
                kind: AcceptErrorKind::Other,
                message: format!("the token was accepted but names no client: {e}"),
                token: token::inspect(token).ok(),
            })?;
        Ok(Accepted { principal, flags })
    }

    /// Turns a GSSAPI failure into a refusal that says what happened.
    fn explain(&self, e: &GssError, info: TokenInfo) -> AcceptError {
        use AcceptErrorKind as K;
        let minor = e.minor as i32;
        let mit = e.to_string();
        // The keytab as it is now (it may have been rotated since start-up; MIT reads it at each
        // accept), else as it was read then.
        let fresh = self
            .keytab_path
            .as_deref()
            .and_then(|p| Keytab::read(p).ok());
        let keytab = fresh.as_ref().or(self.keytab.as_ref());
        let have = |p: &str| match keytab {
            Some(kt) => format!("the keytab holds {}", kt.describe(p)),
            None => "the default keytab is used".to_string(),
        };
        // What the keytab (when we read it) says, independent of MIT's code.
        let from_keytab = keytab.and_then(|kt| {
            let keys: Vec<_> = kt.keys_of(&info.spn).collect();
            if keys.is_empty() {
                return Some(K::WrongService);
            }
            if let Some(kvno) = info.kvno
                && !keys.iter().any(|k| k.kvno == kvno)
            {
                return Some(K::WrongKvno);
            }
            if !keys
                .iter()
                .any(|k| k.enctype == info.etype && info.kvno.is_none_or(|v| v == k.kvno))
            {
                return Some(K::WrongEnctype);
            }
            None
        });
        let wrong_service = |why: &str| AcceptError {
            kind: K::WrongService,
            message: format!(
                "the ticket is for {} but this acceptor {}; {why} (MIT: {mit})",
                info.spn,
                match (&self.principal, keytab) {
                    (Some(p), _) => format!("is {p}"),
                    (None, Some(kt)) => format!("holds keys for {}", kt.principals().join(", ")),
                    (None, None) => "uses the default keytab".into(),
                }
            ),
            token: Some(info.clone()),
        };
        let (kind, message) = match minor {
            codes::AP_ERR_REPEAT => (
                K::Replay,
                format!(
                    "replay: this token was presented before ({info}); a captured token is \
                     refused, each login needs a fresh one"
                ),
            ),
            codes::AP_ERR_TKT_EXPIRED => (
                K::Expired,
                format!(
                    "the ticket has expired ({info}); the initiator must get a new service \
                     ticket (MIT: {mit})"
                ),
            ),
            codes::AP_ERR_TKT_NYV => (
                K::NotYetValid,
                format!("the ticket is not valid yet; are the clocks in sync? ({info})"),
            ),
            codes::AP_ERR_SKEW => (
                K::ClockSkew,
                format!(
                    "clock skew too great: the token's time is too far from this host's clock \
                     (krb5.conf clockskew, default 300 s); synchronise the clocks (NTP), or the \
                     token is old ({info})"
                ),
            ),
            _ if from_keytab == Some(K::WrongService)
                || matches!(minor, codes::AP_WRONG_PRINC | codes::AP_ERR_NOT_US)
                || (self
                    .principal
                    .as_deref()
                    .is_some_and(|p| !same_principal(p, &info.spn))
                    && matches!(minor, codes::KT_NOTFOUND | codes::AP_ERR_NOKEY)) =>
            {
                return wrong_service("the initiator asked the KDC for the wrong service name");
            }
            _ if from_keytab == Some(K::WrongKvno)
                || matches!(minor, codes::AP_ERR_BADKEYVER | codes::KT_KVNONOTFOUND) =>
            {
                (
                    K::WrongKvno,
                    format!(
                        "the ticket was encrypted with key version {} of {} but {}; the keytab is \
                         out of date (re-export it after every key change) ({info})",
                        info.kvno.map_or("?".into(), |k| k.to_string()),
                        info.spn,
                        have(&info.spn)
                    ),
                )
            }
            _ if from_keytab == Some(K::WrongEnctype) || minor == codes::AP_ERR_NOKEY => (
                K::WrongEnctype,
                format!(
                    "the keytab has no {} key for {}; {} ({info})",
                    enctype_name(info.etype),
                    info.spn,
                    have(&info.spn)
                ),
            ),
            codes::KT_NOTFOUND => {
                return wrong_service("no key for it was found");
            }
            codes::AP_ERR_BAD_INTEGRITY | codes::AP_ERR_MODIFIED => (
                K::WrongKey,
                format!(
                    "the service key does not decrypt the ticket: the keytab's key for {} kvno {} \
                     differs from the KDC's (a stale or foreign keytab), or the token was altered \
                     ({info})",
                    info.spn,
                    info.kvno.map_or("?".into(), |k| k.to_string())
                ),
            ),
            _ if e.major.contains(MajorFlags::GSS_S_NO_CRED)
                || e.major.contains(MajorFlags::GSS_S_DEFECTIVE_CREDENTIAL) =>
            {
                (
                    K::Unavailable,
                    format!("the acceptor has no usable credential: {mit}"),
                )
            }
            m if (1..4096).contains(&m) => (
                K::Unavailable,
                format!(
                    "the acceptor failed on a system error ({}): {mit}",
                    std::io::Error::from_raw_os_error(m)
                ),
            ),
            _ => (
                K::Other,
                format!("accepting the Kerberos token failed: {mit} ({info})"),
            ),
        };
        AcceptError {
            kind,
            message,
            token: Some(info),
        }
    }
}
