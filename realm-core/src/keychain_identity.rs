//! An identity from the keychain: this node presents a user name and the keychain's password for
//! the peer it connects to, as a Terracotta client does with `client1@host:port` and its keychain.
//!
//! Class `realm.keychain.KeychainCredentials`, properties:
//!
//! | property | meaning |
//! |---|---|
//! | `username` | the name to present (required) |
//! | `uri` | the keychain entry; `{username}`, `{host}` and `{port}` are replaced by the user name and the peer's address. Default `tc://{username}@{host}:{port}` |
//!
//! The keychain is the one named in the configuration's `keychain` section (or `REALM_KEYCHAIN` /
//! `REALM_KEYCHAIN_PASSWORD`); it is opened when the realm is built, so a missing keychain or a
//! wrong master password stops the start-up, and a fixed `uri` without placeholders is checked then
//! too.
//!
//! ```yaml
//! security:
//!   keychain: {path: client.keychain, master-password: "${env:KEYCHAIN_PASSWORD}"}
//!   realms:
//!     - name: client
//!       identity:
//!         credentials-factory:
//!           class-name: realm.keychain.KeychainCredentials
//!           properties: {username: client1}
//! ```

use crate::credentials::{Credentials, Endpoint};
use crate::keychain::Keychain;
use crate::module::{CredentialsFactory, LoginError};
use crate::registry::Registry;
use crate::secret::Secret;
use std::sync::Arc;

/// The class name configurations use.
pub const CLASS_NAME: &str = "realm.keychain.KeychainCredentials";

/// Presents `username` and the keychain's password for the peer.
pub struct KeychainCredentials {
    username: String,
    uri: String,
    keychain: Keychain,
}

impl std::fmt::Debug for KeychainCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainCredentials")
            .field("username", &self.username)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl KeychainCredentials {
    /// The keychain URI for a peer.
    pub fn uri_for(&self, peer: &Endpoint) -> String {
        let (host, port) = match peer.address {
            Some(a) => (a.ip().to_string(), a.port().to_string()),
            None => (String::new(), String::new()),
        };
        self.uri
            .replace("{username}", &self.username)
            .replace("{host}", &host)
            .replace("{port}", &port)
    }
}

#[async_trait::async_trait]
impl CredentialsFactory for KeychainCredentials {
    async fn new_credentials(&self, peer: &Endpoint) -> Result<Credentials, LoginError> {
        let uri = self.uri_for(peer);
        match self.keychain.get(&uri) {
            Some(secret) => Ok(Credentials::password(self.username.clone(), secret.clone())),
            None => Err(LoginError::Unavailable(format!(
                "no password available in the keychain for `{uri}`"
            ))),
        }
    }
}

fn open(spec: &crate::registry::ModuleSpec<'_>) -> Result<Keychain, String> {
    let env = |k: &str| std::env::var(k).ok();
    let (path, master) = match &spec.config.keychain {
        Some(k) => (k.path.clone(), k.master_password.clone()),
        None => {
            let path = env("REALM_KEYCHAIN").ok_or(
                "no keychain: add a `keychain` section to the configuration or set REALM_KEYCHAIN",
            )?;
            (
                path.into(),
                env("REALM_KEYCHAIN_PASSWORD").map(Secret::from),
            )
        }
    };
    Keychain::open(&path, master.as_ref())
        .map_err(|e| format!("cannot open the keychain {}: {e}", path.display()))
}

/// Registers the keychain credentials factory.
pub fn register(registry: &mut Registry) {
    registry.register_credentials_factory(CLASS_NAME, |spec| {
        let p = spec.props();
        p.deny_unknown(&["username", "uri"])?;
        let username = p.required("username")?.to_string();
        let uri = p
            .str("uri")
            .unwrap_or("tc://{username}@{host}:{port}")
            .to_string();
        let keychain = open(spec)?;
        let factory = KeychainCredentials {
            username,
            uri,
            keychain,
        };
        if !factory.uri.contains('{') && factory.keychain.get(&factory.uri).is_none() {
            return Err(format!(
                "no password available in the keychain for `{}`",
                factory.uri
            ));
        }
        Ok(Arc::new(factory))
    });
}
