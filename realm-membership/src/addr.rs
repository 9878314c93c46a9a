//! Regex and fixed membership: who may join, by address or logical name.

use realm_core::module::{LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::{Endpoint, Principal};
use regex::Regex;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The identity a membership check proposes: the peer's logical name, else its IP address.
fn peer_identity(e: &Endpoint) -> Option<String> {
    e.logical_name.clone().or_else(|| e.host())
}

fn propose(cx: &mut ModuleContext<'_>) {
    let endpoint = cx.endpoint().clone();
    if let Some(id) = peer_identity(&endpoint) {
        cx.propose(Principal::Identity(id));
    }
    if let Some(host) = endpoint.host() {
        cx.propose(Principal::Endpoint(host));
    }
}

/// JGroups' `RegexMembership`: a peer may join when its IP address (`match_ip_address`, default
/// on) or its logical name (`match_logical_name`, default off) matches `match_string` (the whole
/// value). **No security on its own**: an address or a name is what a peer says it is; use it
/// to keep development clusters apart, or stacked with a real check (X.509 challenge, Kerberos).
#[derive(Debug)]
pub struct RegexMembership {
    pattern: Regex,
    ip: bool,
    name: bool,
}

impl RegexMembership {
    /// `pattern` must match the whole IP address or name.
    pub fn new(pattern: &str, ip: bool, name: bool) -> Result<RegexMembership, String> {
        if !ip && !name {
            return Err(
                "match_ip_address and match_logical_name are both false: nothing would be \
                 matched, so no peer could join"
                    .into(),
            );
        }
        let pattern = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| format!("match_string `{pattern}` is not a regular expression: {e}"))?;
        Ok(RegexMembership { pattern, ip, name })
    }

    /// What is checked of `e`, and whether it matches.
    pub fn admits(&self, e: &Endpoint) -> Result<(), String> {
        if self.ip
            && let Some(ip) = e.host()
            && self.pattern.is_match(&ip)
        {
            return Ok(());
        }
        if self.name
            && let Some(n) = &e.logical_name
            && self.pattern.is_match(n)
        {
            return Ok(());
        }
        Err(format!(
            "{} do{} not match {}",
            match (self.ip, self.name) {
                (true, true) => format!(
                    "neither the address {} nor the name {:?}",
                    e.host().unwrap_or_else(|| "?".into()),
                    e.logical_name.as_deref().unwrap_or("")
                ),
                (true, false) => format!("the address {}", e.host().unwrap_or_else(|| "?".into())),
                _ => format!("the name {:?}", e.logical_name.as_deref().unwrap_or("")),
            },
            if self.ip && self.name { "" } else { "es" },
            self.pattern.as_str()
        ))
    }
}

#[async_trait::async_trait]
impl LoginModule for RegexMembership {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        self.admits(cx.endpoint())
            .map_err(|e| LoginError::Denied(format!("regex membership: {e}")))?;
        cx.note(format!(
            "regex membership: matched {}",
            self.pattern.as_str()
        ));
        propose(cx);
        Ok(Verdict::Succeeded)
    }
}

/// One allowed member: an address, with or without a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// Any port of this address.
    Host(IpAddr),
    /// Exactly this address and port.
    Socket(SocketAddr),
}

/// JGroups' `FixedMembershipToken`: a peer may join only from an address on the list (`host`
/// or `host:port`, IPv6 as `[::1]:port`; host names are resolved once, when the realm is
/// built). Also no security on its own against a peer that can use a listed address.
#[derive(Debug)]
pub struct FixedMembership {
    members: Vec<Member>,
    written: Vec<String>,
}

impl FixedMembership {
    /// The list, as written; each entry is resolved now (blocking DNS for host names).
    pub fn new(entries: &[&str]) -> Result<FixedMembership, String> {
        if entries.is_empty() {
            return Err("the member list is empty: no peer could join".into());
        }
        let mut members = Vec::new();
        for raw in entries {
            let e = raw.trim();
            if let Ok(s) = e.parse::<SocketAddr>() {
                members.push(Member::Socket(s));
            } else if let Ok(ip) = e.trim_matches(['[', ']']).parse::<IpAddr>() {
                members.push(Member::Host(ip));
            } else {
                // host or host:port
                let (host, port) = match e.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (
                        h,
                        Some(p.parse::<u16>().map_err(|_| format!("`{e}`: bad port"))?),
                    ),
                    _ => (e, None),
                };
                let addrs: Vec<SocketAddr> = (host, port.unwrap_or(0))
                    .to_socket_addrs()
                    .map_err(|err| format!("member `{e}`: cannot resolve `{host}`: {err}"))?
                    .collect();
                if addrs.is_empty() {
                    return Err(format!("member `{e}`: `{host}` has no address"));
                }
                for a in addrs {
                    members.push(match port {
                        Some(_) => Member::Socket(a),
                        None => Member::Host(a.ip()),
                    });
                }
            }
        }
        Ok(FixedMembership {
            members,
            written: entries.iter().map(|s| s.trim().to_string()).collect(),
        })
    }

    /// Whether `addr` is a member.
    pub fn admits(&self, addr: SocketAddr) -> bool {
        let ip = canonical(addr.ip());
        self.members.iter().any(|m| match m {
            Member::Host(h) => canonical(*h) == ip,
            Member::Socket(s) => canonical(s.ip()) == ip && s.port() == addr.port(),
        })
    }
}

/// `::ffff:10.0.0.1` → `10.0.0.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[async_trait::async_trait]
impl LoginModule for FixedMembership {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        let Some(addr) = cx.endpoint().address else {
            return Err(LoginError::Denied(
                "fixed membership: the peer's address is unknown".into(),
            ));
        };
        if !self.admits(addr) {
            return Err(LoginError::Denied(format!(
                "fixed membership: {addr} is not a member ({})",
                self.written.join(", ")
            )));
        }
        cx.note(format!("fixed membership: {addr} is listed"));
        propose(cx);
        Ok(Verdict::Succeeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(addr: &str, name: Option<&str>) -> Endpoint {
        Endpoint {
            address: Some(
                addr.parse()
                    .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0))),
            ),
            logical_name: name.map(str::to_string),
            peer_certificates: Vec::new(),
        }
    }

    #[test]
    fn regex_membership_matches_whole_values() {
        let m = RegexMembership::new("127\\..*", true, false).unwrap_or_else(|e| panic!("{e}"));
        assert!(m.admits(&ep("127.0.0.5:1", None)).is_ok());
        assert!(m.admits(&ep("10.127.0.5:1", None)).is_err());
        let n = RegexMembership::new("node-[0-9]+", false, true).unwrap_or_else(|e| panic!("{e}"));
        assert!(n.admits(&ep("10.0.0.1:1", Some("node-7"))).is_ok());
        assert!(n.admits(&ep("10.0.0.1:1", Some("node-7x"))).is_err());
        assert!(n.admits(&ep("10.0.0.1:1", None)).is_err());
        assert!(RegexMembership::new("x", false, false).is_err());
        assert!(RegexMembership::new("(", true, false).is_err());
    }

    #[test]
    fn fixed_membership_by_host_or_host_and_port() {
        let f = FixedMembership::new(&["127.0.0.1:7800", "10.0.0.2", "[::1]:7801"])
            .unwrap_or_else(|e| panic!("{e}"));
        let a = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert!(f.admits(a("127.0.0.1:7800")));
        assert!(!f.admits(a("127.0.0.1:7801")));
        assert!(f.admits(a("10.0.0.2:1234")));
        assert!(f.admits(a("[::ffff:10.0.0.2]:1")));
        assert!(f.admits(a("[::1]:7801")));
        assert!(!f.admits(a("10.0.0.3:1234")));
        let l = FixedMembership::new(&["localhost:7900"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.admits(a("127.0.0.1:7900")));
        assert!(FixedMembership::new(&[]).is_err());
    }
}
