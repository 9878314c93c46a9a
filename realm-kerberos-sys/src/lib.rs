//! # realm-kerberos-sys
//!
//! The one place of Realm that needs `unsafe`: [`acquire_cred_from`], a safe wrapper of MIT
//! krb5's `gss_acquire_cred_from` (RFC 5588 credential-store extension), which the safe
//! `libgssapi` binding does not expose, and [`canonical_host_name`], a reverse lookup
//! (`getnameinfo`), which the standard library does not offer.
//!
//! Why it is needed: `gss_acquire_cred` finds keytabs and credential caches only through
//! process-wide environment variables (`KRB5_KTNAME`, `KRB5_CLIENT_KTNAME`, `KRB5CCNAME`), so a
//! process could hold only one service identity, and changing the environment of a running,
//! multi-threaded program is itself unsound. The credential store names them per call, so each
//! realm gets its own keytab, its own in-memory ticket cache and, if wanted, its own replay cache.
//!
//! Everything here is a thin, audited shell: names are imported and released in this file, the
//! acquired handle is handed to `libgssapi`'s [`Cred`], which owns and releases it.
//!
//! ```no_run
//! use realm_kerberos_sys::{acquire_cred_from, Usage};
//! let cred = acquire_cred_from(
//!     Some("hz/127.0.0.1@EXAMPLE.COM"),
//!     Usage::Accept,
//!     &[("keytab", "/etc/realm/hz.keytab")],
//! )?;
//! # Ok::<(), realm_kerberos_sys::Error>(())
//! ```
#![allow(unsafe_code)]

use libgssapi::credential::Cred;
pub use libgssapi::error::Error;
use libgssapi::error::MajorFlags;
use libgssapi_sys as sys;
use std::ffi::{CString, c_void};
use std::ptr;

/// What the credential is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// Accepting peers' tokens (a service key from a keytab).
    Accept,
    /// Initiating: getting service tickets (a client key or a ticket cache).
    Initiate,
}

/// The DER body of the OID 1.2.840.113554.1.2.2.1 (`GSS_KRB5_NT_PRINCIPAL_NAME`): a name such as
/// `service/host@REALM` or `user@REALM`, parsed by Kerberos' own rules.
const KRB5_NT_PRINCIPAL: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];

/// The DER body of 1.2.840.113554.1.2.2 (the Kerberos V5 mechanism).
const KRB5_MECH: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

fn error(major: u32, minor: u32) -> Error {
    Error {
        major: MajorFlags::from_bits_retain(major),
        minor,
    }
}

/// A failure before GSSAPI ran at all (a NUL byte in a name or path).
fn bad_input() -> Error {
    error(sys::_GSS_S_BAD_NAME, 0)
}

/// An imported name, released on drop.
struct OwnedName(sys::gss_name_t);

impl OwnedName {
    fn import(name: &str) -> Result<Self, Error> {
        let mut oid = sys::gss_OID_desc {
            length: KRB5_NT_PRINCIPAL.len() as u32,
            elements: KRB5_NT_PRINCIPAL.as_ptr() as *mut c_void,
        };
        let mut buf = sys::gss_buffer_desc {
            length: name.len(),
            value: name.as_ptr() as *mut c_void,
        };
        let mut minor = 0;
        let mut out: sys::gss_name_t = ptr::null_mut();
        // SAFETY: every pointer is valid for the call; gss_import_name copies the buffer and
        // reads the OID only during the call; `out` receives a new name we own.
        let major = unsafe { sys::gss_import_name(&mut minor, &mut buf, &mut oid, &mut out) };
        if major == sys::GSS_S_COMPLETE {
            Ok(OwnedName(out))
        } else {
            Err(error(major, minor))
        }
    }
}

impl Drop for OwnedName {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: self.0 came from gss_import_name and is released exactly once.
        unsafe {
            sys::gss_release_name(&mut minor, &mut self.0);
        }
    }
}

/// Acquires a Kerberos credential for `principal` (or the store's default principal when
/// `None`) from a credential store: `keytab` (acceptor key), `client_keytab` (initiator key),
/// `ccache` (ticket cache, e.g. `MEMORY:realm-7`), `rcache` (replay cache), as MIT krb5
/// documents them in `gss_store_cred_into(3)`.
///
/// Blocking: with `client_keytab` this may contact the KDC. Call it off the async executor.
pub fn acquire_cred_from(
    principal: Option<&str>,
    usage: Usage,
    store: &[(&str, &str)],
) -> Result<Cred, Error> {
    acquire_cred_from_with(principal, usage, store, false)
}

/// MIT's `GSS_KRB5_CRED_NO_CI_FLAGS_X` (1.2.752.43.13.29): a credential option that stops the
/// initiator from adding the confidentiality and integrity flags to every token it makes.
const NO_CI_FLAGS_X: &[u8] = b"\x2a\x85\x70\x2b\x0d\x1d";

/// [`acquire_cred_from`], and with `no_conf_integ_flags` an initiator credential whose tokens
/// do not claim confidentiality and integrity (MIT claims both on every token unless told not
/// to; an acceptor that refuses those flags, as Hazelcast's does without `relax-flags-check`,
/// needs tokens without them).
pub fn acquire_cred_from_with(
    principal: Option<&str>,
    usage: Usage,
    store: &[(&str, &str)],
    no_conf_integ_flags: bool,
) -> Result<Cred, Error> {
    let name = principal.map(OwnedName::import).transpose()?;
    let owned: Vec<(CString, CString)> = store
        .iter()
        .map(|(k, v)| Ok((CString::new(*k)?, CString::new(*v)?)))
        .collect::<Result<_, std::ffi::NulError>>()
        .map_err(|_| bad_input())?;
    let mut elements: Vec<sys::gss_key_value_element_desc> = owned
        .iter()
        .map(|(k, v)| sys::gss_key_value_element_desc {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let set = sys::gss_key_value_set_desc {
        count: u32::try_from(elements.len()).map_err(|_| bad_input())?,
        elements: elements.as_mut_ptr(),
    };
    let mut mech = sys::gss_OID_desc {
        length: KRB5_MECH.len() as u32,
        elements: KRB5_MECH.as_ptr() as *mut c_void,
    };
    let mut mechs = sys::gss_OID_set_desc {
        count: 1,
        elements: &mut mech,
    };
    let usage = match usage {
        Usage::Accept => sys::GSS_C_ACCEPT,
        Usage::Initiate => sys::GSS_C_INITIATE,
    };
    let mut minor = 0;
    let mut cred: sys::gss_cred_id_t = ptr::null_mut();
    // SAFETY: the name, the OID set and the key/value set (and the C strings it points into)
    // outlive the call; the library copies what it keeps. `cred` receives a new handle.
    let major = unsafe {
        sys::gss_acquire_cred_from(
            &mut minor,
            name.as_ref().map_or(ptr::null_mut(), |n| n.0),
            sys::_GSS_C_INDEFINITE,
            &mut mechs,
            usage as sys::gss_cred_usage_t,
            &set,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if major == sys::GSS_S_COMPLETE && no_conf_integ_flags {
        let mut oid = sys::gss_OID_desc {
            length: NO_CI_FLAGS_X.len() as u32,
            elements: NO_CI_FLAGS_X.as_ptr() as *mut c_void,
        };
        let mut empty = sys::gss_buffer_desc {
            length: 0,
            value: ptr::null_mut(),
        };
        let mut minor2 = 0;
        // SAFETY: `cred` is the valid handle just acquired; the OID and the empty buffer outlive
        // the call. On failure the handle is still ours and is released below.
        let major2 =
            unsafe { sys::gss_set_cred_option(&mut minor2, &mut cred, &mut oid, &mut empty) };
        if major2 != sys::GSS_S_COMPLETE {
            // SAFETY: releasing the handle acquired above, exactly once.
            unsafe {
                sys::gss_release_cred(&mut minor2, &mut cred);
            }
            return Err(error(major2, minor2));
        }
    }
    if major == sys::GSS_S_COMPLETE {
        // A fresh handle from a successful call, handed over once: Cred releases it on drop.
        Ok(Cred::from(cred))
    } else {
        Err(error(major, minor))
    }
}

/// The canonical host name of `ip` by reverse lookup (`getnameinfo` with `NI_NAMEREQD`), as the
/// `use-canonical-hostname` option asks; `None` when the address has no name. Blocking (DNS).
pub fn canonical_host_name(ip: std::net::IpAddr) -> Option<String> {
    use std::net::SocketAddr;
    let sa = SocketAddr::new(ip, 0);
    // A sockaddr of the right family, built from the standard library's own representation.
    let mut storage: libc::sockaddr_storage = unsafe_zeroed_storage();
    let len = match sa {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
            unsafe { ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
            unsafe { ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: storage holds a valid sockaddr of `len` bytes; `host` is a writable buffer of the
    // stated size; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            (&storage as *const libc::sockaddr_storage).cast(),
            len as libc::socklen_t,
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    name.to_str().ok().map(str::to_string)
}

fn unsafe_zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid (AF_UNSPEC) value.
    unsafe { std::mem::zeroed() }
}

/// Numbers private in-memory ticket caches (`MEMORY:realm-<pid>-<n>`) apart.
static NEXT_CACHE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// An initiator credential, acquired on first use and kept: `principal`'s key from a client
/// keytab into a ticket cache of its own (MIT fetches the TGT when first needed and again when it
/// expires), or a named or the default ticket cache. Thread-safe; share it.
pub struct ClientCredential {
    principal: Option<String>,
    keytab: Option<String>,
    ccache: Option<String>,
    no_conf_integ_flags: bool,
    cred: std::sync::Mutex<Option<Cred>>,
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredential")
            .field("principal", &self.principal)
            .field("keytab", &self.keytab)
            .field("ccache", &self.ccache)
            .finish_non_exhaustive()
    }
}

impl ClientCredential {
    /// A credential for `principal` (`None`: the keytab's or cache's default). `ticket_cache`:
    /// `Some(Some(name))` a named cache, `Some(None)` the default one (`KRB5CCNAME`), `None` a
    /// new private `MEMORY:` cache when there is a keytab. With `no_conf_integ_flags`, tokens made
    /// with it claim no confidentiality or integrity ([`acquire_cred_from_with`]).
    pub fn new(
        principal: Option<&str>,
        keytab: Option<&std::path::Path>,
        ticket_cache: Option<Option<String>>,
        no_conf_integ_flags: bool,
    ) -> ClientCredential {
        let ccache = match ticket_cache {
            Some(named) => named,
            None => keytab.map(|_| {
                format!(
                    "MEMORY:realm-{}-{}",
                    std::process::id(),
                    NEXT_CACHE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                )
            }),
        };
        ClientCredential {
            principal: principal.map(str::to_string),
            keytab: keytab.map(|p| p.display().to_string()),
            ccache,
            no_conf_integ_flags,
            cred: std::sync::Mutex::new(None),
        }
    }

    /// The principal, if one was named.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// Where the key comes from, for messages (`the keytab /etc/x.keytab`, ...).
    pub fn source(&self) -> String {
        match (&self.keytab, &self.ccache) {
            (Some(k), _) => k.clone(),
            (None, Some(c)) => format!("the ticket cache {c}"),
            (None, None) => "the default ticket cache".into(),
        }
    }

    /// The ticket cache used, if not the default one.
    pub fn ccache(&self) -> Option<&str> {
        self.ccache.as_deref()
    }

    /// The credential: the kept one, or a new one. Blocking (may read files and ask the KDC).
    pub fn get(&self) -> Result<Cred, Error> {
        let mut slot = self.cred.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let mut store: Vec<(&str, &str)> = Vec::new();
        if let Some(k) = &self.keytab {
            store.push(("client_keytab", k));
        }
        if let Some(c) = &self.ccache {
            store.push(("ccache", c));
        }
        let cred = acquire_cred_from_with(
            self.principal.as_deref(),
            Usage::Initiate,
            &store,
            self.no_conf_integ_flags,
        )?;
        *slot = Some(cred.clone());
        Ok(cred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_a_name() {
        // /etc/hosts names 127.0.0.1 ("localhost") on every Debian machine.
        let name = canonical_host_name("127.0.0.1".parse().unwrap());
        assert!(name.is_some_and(|n| !n.is_empty() && !n.contains('\0')));
    }

    #[test]
    fn a_nul_byte_is_refused_before_the_library_runs() {
        let e = acquire_cred_from(None, Usage::Accept, &[("keytab", "a\0b")]).unwrap_err();
        assert_eq!(e.minor, 0);
        assert!(e.major.contains(MajorFlags::GSS_S_BAD_NAME));
    }

    #[test]
    fn a_missing_keytab_is_an_error_not_a_crash() {
        let e = acquire_cred_from(
            Some("hz/nowhere@NO.REALM"),
            Usage::Accept,
            &[("keytab", "/nonexistent/realm-test.keytab")],
        )
        .unwrap_err();
        assert!(!e.major.is_empty());
    }
}
