//! # Writing your own login module and credentials factory
//!
//! A Realm configuration names login modules and credentials factories by **class name**, as
//! Hazelcast does (`com.example.AddressAllowList`). A program makes such a name real by
//! registering a factory for it in its [`Registry`]; when the configuration is built into a
//! [`Security`](realm_core::Security), every module is constructed once from its properties, so a
//! typo or a bad value stops the program at start-up instead of failing the first login.
//!
//! This crate is a complete, tested example with two pieces:
//!
//! * [`AddressAllowList`], registered as [`ALLOW_LIST_CLASS`] (`com.example.AddressAllowList`): a
//!   login module that admits peers by IP address. Stacked as `REQUISITE` in front of a module
//!   that checks passwords, it turns away every peer from outside the allowed networks before
//!   any password is looked at.
//! * [`StaticPasswordCredentials`], registered as [`STATIC_CREDENTIALS_CLASS`]
//!   (`com.example.StaticPasswordCredentials`): the *identity* side of a realm, the credentials this
//!   node presents to others, with the password kept out of the configuration file by a
//!   `${env:…}` placeholder.
//!
//! `custom.xml` and `custom.yaml` next to this crate's manifest configure both (the same
//! configuration in the two syntaxes), and `tests/custom_module.rs` drives them end to end.
//!
//! ## Step 1: the module
//!
//! A login module implements [`LoginModule`]; only `login` is required. It reads the attempt
//! through its [`ModuleContext`] (the credentials, the peer's [`Endpoint`]),
//! **proposes** principals (they become part of the subject only if the whole chain succeeds), adds
//! notes to the login trace, and answers:
//!
//! * `Ok(Verdict::Succeeded)`: the evidence is good; this module counts towards the verdict;
//! * `Ok(Verdict::Ignored)`: this module does not apply to these credentials;
//! * `Err(LoginError::Denied(reason))`: the evidence is bad. The reason is for the trace and the
//!   server's log; the peer only ever learns "authentication failed";
//! * `Err(LoginError::Unavailable(cause))`: the module could not decide (a backend is down).
//!   Never use `Denied` for that: it would tell operators "wrong password" when a server is down.
//!
//! Never put a secret in a reason, a note or a log line.
//!
//! ### Succeeded or Ignored? The JAAS semantics of a gate
//!
//! An allowed address is evidence, so the allow-list answers `Succeeded` and the chain counts it:
//! a `REQUISITE` module must succeed for the login to go on, and its failure ends the login phase
//! at once (the password module is never asked). It proposes no identity: who the peer *is* is
//! for the next module to say. It may propose a role (property `role`), so that downstream
//! authorisation can tell local peers from others.
//!
//! That success has a consequence worth knowing. JAAS grants a login when no REQUIRED or
//! REQUISITE module failed and *at least one module succeeded*. Behind a successful gate, a
//! `SUFFICIENT` or `OPTIONAL` password module that fails does not fail the login: the gate's
//! success is enough, and the chain succeeds with no identity. Realm refuses a successful chain
//! that established no identity (fail closed), but the configuration is still wrong: put the
//! module that checks the password behind the gate as **`REQUIRED`** (as `custom.yaml` does), never
//! only as `SUFFICIENT`/`OPTIONAL`. `tests/custom_module.rs` shows both chains.
//!
//! ## Step 2: the factory and its properties
//!
//! The factory registered for a class name gets a [`ModuleSpec`] (realm, class name, properties)
//! and returns the module or an `Err(String)` that names the property. [`Props`] gives typed
//! access whose errors already do, and [`Props::deny_unknown`] turns a misspelt property into an
//! error. Parse everything here, not at login: the allow-list parses its CIDR ranges once, and a
//! bad entry is a start-up error such as
//!
//! ```text
//! realm `gateway`: login-module `com.example.AddressAllowList`: property `allowed`: `10.0.0.0/33`: prefix length 33 is out of range for IPv4 (0-32)
//! ```
//!
//! ## Step 3: register, then build
//!
//! ```
//! use realm_core::Registry;
//!
//! let mut registry = Registry::new();                 // has the `simple` module
//! realm_jaas_chain::register(&mut registry);          // the chain engine (REQUISITE etc.)
//! realm_example_custom_module::register(&mut registry); // our two classes
//! assert!(registry.login_module_names().any(|n| n == "com.example.AddressAllowList"));
//! // let security = realm_core::Security::from_config(&loaded.config, &registry)?;
//! ```
//!
//! The `realm check` command does not know your classes and says so with a warning, not an
//! error: it cannot know what your program registers.

use realm_core::config::PropertyValue;
use realm_core::module::{CredentialsFactory, LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::registry::{ModuleSpec, Props};
use realm_core::{Credentials, Endpoint, Principal, Registry, Secret};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

/// The class name of [`AddressAllowList`].
pub const ALLOW_LIST_CLASS: &str = "com.example.AddressAllowList";

/// The class name of [`StaticPasswordCredentials`].
pub const STATIC_CREDENTIALS_CLASS: &str = "com.example.StaticPasswordCredentials";

/// Registers both example classes under their class names.
pub fn register(registry: &mut Registry) {
    registry.register_login_module(ALLOW_LIST_CLASS, |spec| {
        Ok(Arc::new(AddressAllowList::from_props(spec.props())?))
    });
    registry.register_credentials_factory(STATIC_CREDENTIALS_CLASS, |spec| {
        Ok(Arc::new(StaticPasswordCredentials::from_spec(spec)?))
    });
}

// ---------------------------------------------------------------------------------------------
// A small CIDR matcher
// ---------------------------------------------------------------------------------------------

/// An IP address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address (`::1`, which
/// is `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// The first address of the range.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length (32 or 128 for a single address).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// True if `addr` is in the range. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a
    /// dual-stack listener reports for an IPv4 peer) is matched as the IPv4 address it is.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = mask_u32(self.prefix);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = mask_u128(self.prefix);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask_u32(prefix: u8) -> u32 {
    // A shift by 32 overflows: /0 is the empty mask.
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

fn mask_u128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

impl FromStr for IpRange {
    type Err = String;

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`. Strict on purpose: host bits after the prefix
    /// (`10.0.0.1/8`) and IPv4-mapped IPv6 ranges are errors, since both usually mean the author
    /// meant something else.
    fn from_str(text: &str) -> Result<IpRange, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{text}`: `{addr_text}` is not an IP address"))?;
        let (family, max) = match network {
            IpAddr::V4(_) => ("IPv4", 32u8),
            IpAddr::V6(_) => ("IPv6", 128u8),
        };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                let n: u8 = p
                    .parse()
                    .map_err(|_| format!("`{text}`: prefix length `{p}` is not a number"))?;
                if n > max {
                    return Err(format!(
                        "`{text}`: prefix length {n} is out of range for {family} (0-{max})"
                    ));
                }
                n
            }
        };
        if let IpAddr::V6(v6) = network
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            return Err(format!(
                "`{text}`: an IPv4-mapped IPv6 address; write the IPv4 form (`{v4}`), which also matches mapped peers"
            ));
        }
        let canonical = match network {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_u32(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_u128(prefix))),
        };
        if canonical != network {
            return Err(format!(
                "`{text}`: has bits set after the /{prefix} prefix (did you mean `{canonical}/{prefix}`?)"
            ));
        }
        Ok(IpRange { network, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

// ---------------------------------------------------------------------------------------------
// The login module
// ---------------------------------------------------------------------------------------------

/// `com.example.AddressAllowList`: admits peers whose IP address is in an allow-list.
///
/// Properties:
///
/// | property | required | meaning |
/// |---|---|---|
/// | `allowed` | yes | comma-separated IP addresses and CIDR ranges: `127.0.0.0/8, ::1, 10.0.0.0/8` |
/// | `role` | no | a role to propose for peers that pass (e.g. `local`) |
///
/// At login: a peer without an address is denied (nothing to check); an address outside the list
/// is denied with the address in the reason (for the trace and the log); an address inside
/// succeeds, proposing `role` if set and no identity. See the [crate documentation](crate) for
/// why it succeeds rather than ignores, and what that means for the rest of the chain.
#[derive(Clone, Debug)]
pub struct AddressAllowList {
    allowed: Vec<IpRange>,
    role: Option<String>,
}

impl AddressAllowList {
    /// An allow-list of these ranges, proposing `role` for admitted peers.
    pub fn new(allowed: Vec<IpRange>, role: Option<String>) -> Self {
        AddressAllowList { allowed, role }
    }

    /// Builds the module from its configured properties; every error names the property.
    pub fn from_props(props: Props<'_>) -> Result<Self, String> {
        props.deny_unknown(&["allowed", "role"])?;
        let entries = props.list("allowed");
        if entries.is_empty() {
            return Err(match props.str("allowed") {
                None => "property `allowed` is required (comma-separated addresses and CIDR ranges, e.g. `127.0.0.0/8, ::1`)".into(),
                Some(_) => "property `allowed`: lists no address, so every login would be denied".into(),
            });
        }
        let allowed = entries
            .into_iter()
            .map(|e| e.parse::<IpRange>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("property `allowed`: {e}"))?;
        let role = match props.str("role").map(str::trim) {
            None => None,
            Some("") => return Err("property `role`: is empty (remove it, or name a role)".into()),
            Some(r) => Some(r.to_string()),
        };
        Ok(AddressAllowList::new(allowed, role))
    }

    /// The ranges, as configured.
    pub fn allowed(&self) -> &[IpRange] {
        &self.allowed
    }
}

#[async_trait::async_trait]
impl LoginModule for AddressAllowList {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Some(address) = cx.endpoint().address else {
            return Err(LoginError::Denied(
                "the peer's address is unknown, so the allow-list cannot admit it".into(),
            ));
        };
        let ip = address.ip().to_canonical();
        let Some(range) = self.allowed.iter().find(|r| r.contains(ip)) else {
            return Err(LoginError::Denied(format!(
                "address {ip} is not in the allow-list"
            )));
        };
        cx.note(format!("address {ip} is in the allowed range {range}"));
        if let Some(role) = &self.role {
            cx.note(format!("proposing role `{role}`"));
            cx.propose(Principal::Role(role.clone()));
        }
        Ok(Verdict::Succeeded)
    }
}

// ---------------------------------------------------------------------------------------------
// The credentials factory
// ---------------------------------------------------------------------------------------------

/// `com.example.StaticPasswordCredentials`: presents the same username and password to every
/// peer (the identity side of a realm, what this node sends when it connects to others).
///
/// Properties: `username` and `password`, both required. Write the password as
/// `${env:EXAMPLE_PASSWORD}` (or `${file:…}`) so that the secret is not in the configuration
/// file; Realm resolves the placeholder when it loads the file and holds the value in a
/// redacting, zeroizing [`Secret`].
pub struct StaticPasswordCredentials {
    username: String,
    password: Secret,
}

impl fmt::Debug for StaticPasswordCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticPasswordCredentials")
            .field("username", &self.username)
            .field("password", &self.password) // prints <redacted>
            .finish()
    }
}

impl StaticPasswordCredentials {
    /// Credentials for `username` with `password`.
    pub fn new(username: impl Into<String>, password: Secret) -> Self {
        StaticPasswordCredentials {
            username: username.into(),
            password,
        }
    }

    /// Builds the factory from its configured properties; every error names the property.
    pub fn from_spec(spec: &ModuleSpec<'_>) -> Result<Self, String> {
        let props = spec.props();
        props.deny_unknown(&["username", "password"])?;
        let username = props.required("username")?.trim();
        if username.is_empty() {
            return Err("property `username`: is empty".into());
        }
        // `Props` exposes text only; to keep the password in its `Secret` box, read the raw value.
        let password = match spec.properties.get("password") {
            None => {
                return Err(
                    "property `password` is required (write it as `${env:NAME}` to keep it out of the file)"
                        .into(),
                );
            }
            Some(PropertyValue::Secret(s)) => s.clone(),
            Some(PropertyValue::Text(t)) => Secret::from(t.as_str()),
        };
        if password.is_empty() {
            return Err("property `password`: is empty".into());
        }
        Ok(StaticPasswordCredentials::new(username, password))
    }
}

#[async_trait::async_trait]
impl CredentialsFactory for StaticPasswordCredentials {
    async fn new_credentials(&self, _peer: &Endpoint) -> Result<Credentials, LoginError> {
        Ok(Credentials::password(
            self.username.clone(),
            self.password.clone(),
        ))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use realm_core::module::Attempt;
    use std::net::SocketAddr;

    fn range(s: &str) -> IpRange {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_ranges() {
        let r = range("10.0.0.0/8");
        assert!(r.contains(ip("10.0.0.0")));
        assert!(r.contains(ip("10.255.255.255")));
        assert!(!r.contains(ip("11.0.0.0")));
        assert!(!r.contains(ip("9.255.255.255")));
        let host = range("192.168.1.7");
        assert_eq!(host.prefix(), 32);
        assert!(host.contains(ip("192.168.1.7")));
        assert!(!host.contains(ip("192.168.1.8")));
        let all = range("0.0.0.0/0");
        assert!(all.contains(ip("203.0.113.9")));
        assert!(!all.contains(ip("::1")), "an IPv4 range never matches IPv6");
        let odd = range("172.16.0.0/12");
        assert!(odd.contains(ip("172.31.255.255")));
        assert!(!odd.contains(ip("172.32.0.0")));
    }

    #[test]
    fn ipv6_ranges() {
        let lo = range("::1");
        assert_eq!(lo.prefix(), 128);
        assert!(lo.contains(ip("::1")));
        assert!(!lo.contains(ip("::2")));
        assert!(!lo.contains(ip("127.0.0.1")));
        let ula = range("fd00::/8");
        assert!(ula.contains(ip("fd12:3456::1")));
        assert!(!ula.contains(ip("fe80::1")));
        let all = range("::/0");
        assert!(all.contains(ip("2001:db8::1")));
        let odd = range("2001:db8::/33");
        assert!(odd.contains(ip("2001:db8:7fff::1")));
        assert!(!odd.contains(ip("2001:db8:8000::1")));
    }

    #[test]
    fn mapped_peers_match_ipv4_ranges() {
        assert!(range("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert!(!range("127.0.0.0/8").contains(ip("::ffff:10.0.0.1")));
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let cases = [
            (
                "10.0.0.0/33",
                "prefix length 33 is out of range for IPv4 (0-32)",
            ),
            (
                "::/129",
                "prefix length 129 is out of range for IPv6 (0-128)",
            ),
            ("10.0.0.0/x", "prefix length `x` is not a number"),
            ("10.0.0.0/-1", "prefix length `-1` is not a number"),
            ("localhost", "`localhost` is not an IP address"),
            ("10.0.0/8", "`10.0.0` is not an IP address"),
            ("10.0.0.1/8", "did you mean `10.0.0.0/8`?"),
            ("fd00::1/8", "did you mean `fd00::/8`?"),
            ("::ffff:10.0.0.0/104", "write the IPv4 form (`10.0.0.0`)"),
        ];
        for (text, want) in cases {
            let err = text.parse::<IpRange>().unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.starts_with(&format!("`{text}`")), "{text}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["10.0.0.0/8", "::1/128", "0.0.0.0/0", "2001:db8::/32"] {
            assert_eq!(range(text).to_string(), text);
            assert_eq!(range(&range(text).to_string()), range(text));
        }
    }

    /// Runs the module's `login` alone: its verdict, notes and proposals.
    async fn login(
        module: &AddressAllowList,
        endpoint: Endpoint,
    ) -> (Result<Verdict, LoginError>, Vec<String>, Vec<Principal>) {
        let mut attempt = Attempt::new(Credentials::password("u", "p"), endpoint, 1);
        let mut cx = attempt.module(0);
        let r = module.login(&mut cx).await;
        (r, cx.take_notes(), cx.proposed().to_vec())
    }

    fn at(addr: &str) -> Endpoint {
        Endpoint::from_addr(addr.parse::<SocketAddr>().unwrap())
    }

    #[tokio::test]
    async fn gate_succeeds_denies_and_needs_an_address() {
        let module = AddressAllowList::new(
            vec![range("127.0.0.0/8"), range("::1")],
            Some("local".into()),
        );
        let (r, notes, proposed) = login(&module, at("127.0.0.1:5701")).await;
        assert_eq!(r, Ok(Verdict::Succeeded));
        assert!(notes.iter().any(|n| n.contains("127.0.0.0/8")), "{notes:?}");
        // A role, and no identity: who the peer is, is the next module's business.
        assert_eq!(proposed, [Principal::Role("local".into())]);
        let (r, _, _) = login(&module, at("[::1]:5701")).await;
        assert_eq!(r, Ok(Verdict::Succeeded));
        let (r, _, _) = login(&module, at("[::ffff:127.0.0.1]:5701")).await;
        assert_eq!(r, Ok(Verdict::Succeeded));
        let (r, _, proposed) = login(&module, at("10.9.8.7:5701")).await;
        assert!(proposed.is_empty());
        assert_eq!(
            r,
            Err(LoginError::Denied(
                "address 10.9.8.7 is not in the allow-list".into()
            ))
        );
        let (r, _, _) = login(&module, Endpoint::default()).await;
        assert!(matches!(r, Err(LoginError::Denied(why)) if why.contains("unknown")));

        let no_role = AddressAllowList::new(vec![range("0.0.0.0/0")], None);
        let (r, _, proposed) = login(&no_role, at("203.0.113.9:1")).await;
        assert_eq!(r, Ok(Verdict::Succeeded));
        assert!(proposed.is_empty());
    }
}
