//! # realm-membership
//!
//! Cluster-join checks as login modules, so they stack in a `jaas` chain like any other
//! (e.g. REQUIRED fixed membership + REQUIRED X.509 challenge), configured by class name:
//!
//! | class name | what it checks | JGroups' equivalent |
//! |---|---|---|
//! | `realm.membership.RegexMembership` | the joiner's IP address and/or logical name against a regex (**no security on its own**) | `org.jgroups.auth.RegexMembership` (also accepted) |
//! | `realm.membership.FixedMembership` | the joiner's address against a list (`host` or `host:port`) | `org.jgroups.auth.FixedMembershipToken` (also accepted) |
//! | `realm.membership.X509Challenge` | a signature over a fresh challenge by the key of a certificate from the cluster CA ([`x509`]) | replaces `X509Token`, whose encrypted secret can be replayed |
//! | `realm.kerberos.KerberosLoginModule` (realm-kerberos) | a Kerberos service ticket for the cluster's SPN, replay cache on | `Krb5Token` |
//!
//! Properties take JGroups' names, with or without the `auth_token.` prefix: `match_string`,
//! `match_ip_address` (default `true`), `match_logical_name` (default `false`);
//! `fixed_members_value` (or `members`), `fixed_members_seperator` (sic; default `,`).
//! The X.509 challenge takes `ca-file` and optional `crl-file`, and needs the member's
//! [`x509::Challenger`], which the program registers with [`register_x509_challenge`].
//!
//! ```
//! use realm_core::config::{load_str, LoadOptions, Syntax};
//! let yaml = "
//! security:
//!   realms:
//!     - name: join
//!       authentication:
//!         jaas:
//!           - class-name: org.jgroups.auth.RegexMembership
//!             properties:
//!               auth_token.match_string: '^127\\..*'
//!               auth_token.match_ip_address: true
//! ";
//! let loaded = load_str(yaml, Syntax::Yaml, "join.yaml".as_ref(), &LoadOptions::default()).unwrap();
//! let mut registry = realm_core::Registry::new();
//! realm_jaas_chain::register(&mut registry);
//! realm_membership::register(&mut registry);
//! let security = realm_core::Security::from_config(&loaded.config, &registry).unwrap();
//! // The build warns: a regex over addresses is no security on its own.
//! assert!(security.warnings().iter().any(|w| w.contains("no security")));
//! ```

pub mod addr;
pub mod x509;

pub use addr::{FixedMembership, RegexMembership};
pub use x509::{Challenge, Challenger, Prover, X509ChallengeModule};

use realm_core::registry::{Props, Registry};
use std::sync::Arc;

/// Realm's class name of [`RegexMembership`].
pub const REGEX_CLASS: &str = "realm.membership.RegexMembership";
/// Realm's class name of [`FixedMembership`].
pub const FIXED_CLASS: &str = "realm.membership.FixedMembership";
/// Realm's class name of [`X509ChallengeModule`].
pub const X509_CLASS: &str = "realm.membership.X509Challenge";

/// A property by its JGroups name, with or without `auth_token.`.
fn prop<'a>(p: &Props<'a>, name: &str) -> Option<&'a str> {
    p.str(name).or_else(|| p.str(&format!("auth_token.{name}")))
}

fn prop_bool(p: &Props<'_>, name: &str, default: bool) -> Result<bool, String> {
    p.bool_any(&[name, &format!("auth_token.{name}")], default)
}

fn known(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| [n.to_string(), format!("auth_token.{n}")])
        .collect()
}

/// Registers the regex and fixed membership modules (Realm's and JGroups' class names).
pub fn register(registry: &mut Registry) {
    for class in [REGEX_CLASS, "org.jgroups.auth.RegexMembership"] {
        registry.register_login_module(class, |spec| {
            let p = spec.props();
            let k = known(&["match_string", "match_ip_address", "match_logical_name"]);
            p.deny_unknown(&k.iter().map(String::as_str).collect::<Vec<_>>())?;
            let pattern = prop(&p, "match_string").ok_or("property `match_string` is required")?;
            let m = RegexMembership::new(
                pattern,
                prop_bool(&p, "match_ip_address", true)?,
                prop_bool(&p, "match_logical_name", false)?,
            )?;
            spec.warn(format!(
                "realm {}: regex membership is no security on its own (an address or a name is \
                 what a peer claims); stack it with an X.509 challenge or Kerberos",
                spec.realm
            ));
            Ok(Arc::new(m))
        });
    }
    for class in [FIXED_CLASS, "org.jgroups.auth.FixedMembershipToken"] {
        registry.register_login_module(class, |spec| {
            let p = spec.props();
            let k = known(&[
                "fixed_members_value",
                "members",
                "fixed_members_seperator",
                "fixed_members_separator",
            ]);
            p.deny_unknown(&k.iter().map(String::as_str).collect::<Vec<_>>())?;
            let value = prop(&p, "fixed_members_value")
                .or_else(|| prop(&p, "members"))
                .ok_or("property `fixed_members_value` (the member list) is required")?;
            let sep = prop(&p, "fixed_members_seperator")
                .or_else(|| prop(&p, "fixed_members_separator"))
                .unwrap_or(",");
            if sep.is_empty() {
                return Err("property `fixed_members_seperator` is empty".into());
            }
            let entries: Vec<&str> = value
                .split(sep)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            Ok(Arc::new(FixedMembership::new(&entries)?))
        });
    }
}

/// Registers [`X509_CLASS`] for this member's `challenger` (share the same `Arc` with the code
/// that sends the challenges). Properties: `ca-file` (required), `crl-file`.
pub fn register_x509_challenge(registry: &mut Registry, challenger: Arc<Challenger>) {
    registry.register_login_module(X509_CLASS, move |spec| {
        let p = spec.props();
        p.deny_unknown(&["ca-file", "caFile", "crl-file", "crlFile"])?;
        let ca = p
            .str("ca-file")
            .or_else(|| p.str("caFile"))
            .ok_or("property `ca-file` (the cluster CA, PEM) is required")?;
        let crl = p.str("crl-file").or_else(|| p.str("crlFile"));
        Ok(Arc::new(X509ChallengeModule::new(
            challenger.clone(),
            ca.as_ref(),
            crl.map(std::path::Path::new),
        )?))
    });
}
