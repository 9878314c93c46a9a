//! Active Directory's bind sub-errors: the `data NNN` code in the diagnostic text of an
//! `invalidCredentials` (49) result says *why* the bind was refused.

use std::fmt;

/// Why Active Directory refused a bind. Goes to the trace and logs only: the caller always sees
/// one generic denial, so an attacker cannot tell a locked account from a wrong password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdReason {
    /// `525`: no such user.
    UnknownUser,
    /// `52e`: the password is wrong.
    BadCredentials,
    /// `530`: logon not permitted at this time (logon hours).
    NotPermittedNow,
    /// `531`: logon not permitted from this workstation.
    NotPermittedHere,
    /// `532`: the password has expired.
    PasswordExpired,
    /// `533`: the account is disabled.
    AccountDisabled,
    /// `701`: the account has expired.
    AccountExpired,
    /// `773`: the user must change the password before the first logon.
    MustChangePassword,
    /// `775`: the account is locked out.
    AccountLocked,
}

impl AdReason {
    /// Reads the sub-error from a bind result's diagnostic text (`…, data 52e, v4563`).
    pub fn from_diagnostic(text: &str) -> Option<AdReason> {
        let lower = text.to_ascii_lowercase();
        let at = lower.find("data ")?;
        let code: String = lower
            .get(at + 5..)?
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        Some(match code.as_str() {
            "525" => AdReason::UnknownUser,
            "52e" => AdReason::BadCredentials,
            "530" => AdReason::NotPermittedNow,
            "531" => AdReason::NotPermittedHere,
            "532" => AdReason::PasswordExpired,
            "533" => AdReason::AccountDisabled,
            "701" => AdReason::AccountExpired,
            "773" => AdReason::MustChangePassword,
            "775" => AdReason::AccountLocked,
            _ => return None,
        })
    }
}

impl fmt::Display for AdReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdReason::UnknownUser => "unknown user (AD 525)",
            AdReason::BadCredentials => "bad credentials (AD 52e)",
            AdReason::NotPermittedNow => "logon not permitted at this time (AD 530)",
            AdReason::NotPermittedHere => "logon not permitted from this workstation (AD 531)",
            AdReason::PasswordExpired => "password expired (AD 532)",
            AdReason::AccountDisabled => "account disabled (AD 533)",
            AdReason::AccountExpired => "account expired (AD 701)",
            AdReason::MustChangePassword => "must change password (AD 773)",
            AdReason::AccountLocked => "account locked (AD 775)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::AdReason;

    #[test]
    fn every_documented_code_is_recognised() {
        let msg = |c: &str| {
            format!(
                "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data {c}, v3839"
            )
        };
        for (code, r) in [
            ("525", AdReason::UnknownUser),
            ("52e", AdReason::BadCredentials),
            ("530", AdReason::NotPermittedNow),
            ("531", AdReason::NotPermittedHere),
            ("532", AdReason::PasswordExpired),
            ("533", AdReason::AccountDisabled),
            ("701", AdReason::AccountExpired),
            ("773", AdReason::MustChangePassword),
            ("775", AdReason::AccountLocked),
        ] {
            assert_eq!(AdReason::from_diagnostic(&msg(code)), Some(r), "{code}");
        }
        assert_eq!(AdReason::from_diagnostic("invalid credentials"), None);
        assert_eq!(AdReason::from_diagnostic(&msg("999")), None);
        assert_eq!(AdReason::from_diagnostic("data "), None);
    }
}
