//! What a GSSAPI Kerberos token says about itself before it is decrypted: the service principal
//! it was issued for, the realm, the ticket's encryption type and key version, and whether the
//! initiator asked for mutual authentication. Used only to explain a refusal ("the ticket is for
//! `hz/10.0.0.2@ACME.COM`, kvno 3, aes256-cts-hmac-sha1-96, but the keytab holds kvno 2"); the
//! acceptance itself is MIT krb5's.
//!
//! The ASN.1 is decoded with `picky-krb` (MIT/Apache-2.0). Not with `kerberos_asn1`: that crate
//! is AGPL-3.0, which would impose its terms on every program linking Realm, and it depends on
//! the deprecated, unmaintained `failure` crate.

use crate::keytab::enctype_name;
use picky_krb::gss_api::KrbMessage;
use picky_krb::messages::ApReq;
use std::fmt;

/// The OID of the Kerberos V5 GSSAPI mechanism, dotted.
pub const KRB5_MECH_OID: &str = "1.2.840.113554.1.2.2";
/// The OID of SPNEGO, dotted.
const SPNEGO_OID: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/// The clear-text facts of an initial Kerberos context token (an AP-REQ).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The service principal the ticket is for, `service/host@REALM`.
    pub spn: String,
    /// The ticket's realm.
    pub realm: String,
    /// The encryption type of the ticket (which service key decrypts it).
    pub etype: i32,
    /// The version of that service key, if the KDC stated it.
    pub kvno: Option<u32>,
    /// The AP-REQ's mutual-required option: the initiator waits for an answer token.
    pub mutual_required: bool,
}

impl fmt::Display for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ticket for {}, {}, ", self.spn, enctype_name(self.etype))?;
        match self.kvno {
            Some(k) => write!(f, "kvno {k}"),
            None => write!(f, "no kvno"),
        }
    }
}

/// Why a token could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Empty token.
    #[error("the token is empty")]
    Empty,
    /// A SPNEGO (Negotiate) token rather than a raw Kerberos one.
    #[error(
        "the token is a SPNEGO (Negotiate) token; this acceptor takes raw Kerberos V5 GSSAPI \
         tokens (mechanism {KRB5_MECH_OID})"
    )]
    Spnego,
    /// Something else.
    #[error("the token is not a Kerberos V5 GSSAPI initial token: {0}")]
    NotKerberos(String),
}

fn int(bytes: &[u8]) -> i64 {
    // Two's complement, big-endian, at most 8 bytes are meaningful for Int32/UInt32 fields.
    let neg = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut v: i64 = if neg { -1 } else { 0 };
    for b in bytes.iter().rev().take(8).rev() {
        v = (v << 8) | i64::from(*b);
    }
    v
}

/// Decodes the clear-text part of an initial context token.
pub fn inspect(token: &[u8]) -> Result<TokenInfo, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    // An initial token is [APPLICATION 0] { mech OID, inner }; SPNEGO's OID comes right after the
    // two-to-four length bytes.
    if token
        .windows(SPNEGO_OID.len())
        .take(8)
        .any(|w| w == SPNEGO_OID)
    {
        return Err(TokenError::Spnego);
    }
    let msg = KrbMessage::<ApReq>::decode_application_krb_message(token)
        .map_err(|e| TokenError::NotKerberos(e.to_string()))?
        .0;
    let oid: String = msg.krb5_oid.0.clone().into();
    if oid != KRB5_MECH_OID {
        return Err(TokenError::NotKerberos(format!(
            "mechanism {oid}, expected {KRB5_MECH_OID}"
        )));
    }
    if msg.krb5_token_id != [0x01, 0x00] {
        return Err(TokenError::NotKerberos(format!(
            "token id {:02x}{:02x}, expected 0100 (AP-REQ)",
            msg.krb5_token_id[0], msg.krb5_token_id[1]
        )));
    }
    let ap = msg.krb_msg.0;
    let ticket = &ap.ticket.0.0;
    let realm = ticket.realm.0.0.to_string();
    let names: Vec<String> = ticket
        .sname
        .0
        .name_string
        .0
        .0
        .iter()
        .map(|s| s.0.to_string())
        .collect();
    let enc = &ticket.enc_part.0;
    let etype = int(enc.etype.0.as_signed_bytes_be()) as i32;
    let kvno = enc
        .kvno
        .0
        .as_ref()
        .map(|k| int(k.0.as_signed_bytes_be()) as u32);
    // ap-options: bit 1 use-session-key, bit 2 mutual-required (RFC 4120 5.5.1).
    let mutual_required = ap.ap_options.0.0.is_set(2);
    Ok(TokenInfo {
        spn: format!("{}@{realm}", names.join("/")),
        realm,
        etype,
        kvno,
        mutual_required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_tokens_are_errors() {
        assert_eq!(inspect(b""), Err(TokenError::Empty));
        assert!(matches!(inspect(b"hello"), Err(TokenError::NotKerberos(_))));
        assert!(matches!(
            inspect(&[0x60, 0x03, 0x06, 0x01, 0x00]),
            Err(TokenError::NotKerberos(_))
        ));
        let spnego = [
            0x60, 0x10, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x06, 0, 0, 0, 0,
        ];
        assert_eq!(inspect(&spnego), Err(TokenError::Spnego));
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n)
                .map(|i| 0x60u8.wrapping_add(i.wrapping_mul(37)))
                .collect();
            let _ = inspect(&junk); // never panics
        }
    }

    #[test]
    fn integers_are_twos_complement() {
        assert_eq!(int(&[0x12]), 0x12);
        assert_eq!(int(&[0x00, 0xff]), 255);
        assert_eq!(int(&[0xff]), -1);
        assert_eq!(int(&[]), 0);
    }
}
