//! The contracts backends implement (a sketch in this release; the login pipeline that drives
//! them comes with the JAAS chain).
//!
//! A [`LoginModule`] is built once from its configuration and shared by every login (`Arc`), so it
//! may hold connection pools and caches. Everything that belongs to one attempt lives in the
//! per-attempt context the pipeline passes in. The protocol is JAAS's two phases: `login` proposes
//! principals, `commit` makes them part of the subject, `abort` discards them.

use crate::credentials::{Credentials, Endpoint};

/// Why a module could not establish an identity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The evidence was checked and is not good enough. Callers see one generic message that never
    /// says whether the user exists; the reason goes to the trace and logs.
    #[error("authentication failed")]
    Denied(String),
    /// The backend could not be asked (down, timed out, misbehaving). Never a wrong password.
    #[error("authentication backend unavailable: {0}")]
    Unavailable(String),
}

/// What this node presents to a peer (the `identity` side of a realm).
#[async_trait::async_trait]
pub trait CredentialsFactory: Send + Sync {
    /// Produces credentials for talking to `peer`.
    async fn new_credentials(&self, peer: &Endpoint) -> Result<Credentials, LoginError>;
}

/// A pluggable authentication step.
#[async_trait::async_trait]
pub trait LoginModule: Send + Sync {
    /// Checks `credentials` from `endpoint`. `Ok(true)`: succeeded; `Ok(false)`: this module does not
    /// apply and asks to be ignored; `Err`: denied or unavailable. Must never log a secret.
    async fn login(
        &self,
        credentials: &Credentials,
        endpoint: &Endpoint,
    ) -> Result<bool, LoginError>;
}
