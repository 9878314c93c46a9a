//! # realm-kerberos-sys
//!
//! The one place of Realm that needs `unsafe`: [`acquire_cred_from`], a safe wrapper of MIT
//! krb5's `gss_acquire_cred_from` (RFC 5588 credential-store extension), which the safe
//! `libgssapi` binding does not expose.
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
    if major == sys::GSS_S_COMPLETE {
        // A fresh handle from a successful call, handed over once: Cred releases it on drop.
        Ok(Cred::from(cred))
    } else {
        Err(error(major, minor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
