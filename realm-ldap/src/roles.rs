//! Role mapping: `attribute`, `direct` and `reverse`, with breadth-first recursion.
//!
//! Recursion is breadth-first over DNs compared by normalised value ([`Dn`]): level *k* holds
//! exactly the groups *k* hops from the user, whatever order the server returns entries in, so
//! `role-recursion-max-depth` N finds every group within N hops (Hazelcast's depth-first walk with
//! a global visited set can miss some). Each level costs one round trip: in reverse mode one search
//! whose filter ORs the whole frontier (in batches), in direct mode concurrent reads of the
//! frontier's entries. Cycles end because a DN is expanded once; a referenced group that does not
//! exist is skipped with a warning.

use std::collections::HashSet;
use std::sync::Arc;

use ldap3::{Ldap, Scope};
use realm_core::config::{RoleMappingMode, RoleRecursionStrategy};

use crate::conn::{Budget, Fault, Stats};
use crate::dn::Dn;
use crate::escape::filter_value;
use crate::ops::{self, Entry};

/// At most this many DNs in one OR filter (servers limit filter size; AD's default request size
/// is generous, OpenLDAP's too, but a bound keeps every request sane).
pub(crate) const FILTER_BATCH: usize = 50;
/// At most this many entry reads in flight at once in direct mode.
const READ_BATCH: usize = 64;
/// The matching rule with which Active Directory follows `member` chains on the server.
pub(crate) const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

/// How roles are found, derived once from the configuration.
#[derive(Clone, Debug)]
pub(crate) struct RoleSettings {
    pub(crate) mode: RoleMappingMode,
    pub(crate) mapping_attr: Option<String>,
    pub(crate) name_attr: Option<String>,
    pub(crate) parse_dn: bool,
    pub(crate) context: String,
    pub(crate) filter: Option<String>,
    pub(crate) scope: Scope,
    pub(crate) max_depth: u32,
    pub(crate) strategy: RoleRecursionStrategy,
    pub(crate) page_size: u32,
}

/// One role and the group path it came through (outermost last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoundRole {
    pub(crate) name: String,
    pub(crate) path: Vec<String>,
}

/// Everything role mapping produced.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) roles: Vec<FoundRole>,
    pub(crate) warnings: Vec<String>,
}

impl Found {
    /// Adds the values of `role-name-attribute` of group entry `e` as roles reached by `path`.
    fn add_names(&mut self, s: &RoleSettings, e: &Entry, path: &[String]) {
        if let Some(name_attr) = &s.name_attr {
            for name in e.values(name_attr) {
                self.add(name, path.to_vec());
            }
        }
    }

    fn add(&mut self, name: &str, path: Vec<String>) {
        if !self.roles.iter().any(|r| r.name == name) {
            self.roles.push(FoundRole {
                name: name.to_string(),
                path,
            });
        }
    }
}

/// Replaces the member placeholder (`{memberDN}`, or `{MEMBERDN}` as the documents print it)
/// with the filter-escaped DN.
pub(crate) fn member_filter(template: &str, dn: &str) -> String {
    let v = filter_value(dn);
    let f = template.replace("{memberDN}", &v);
    if f.contains("{MEMBERDN}") {
        f.replace("{MEMBERDN}", &v)
    } else {
        f
    }
}

/// One filter matching any of `dns`: `(|f1 f2 …)`, or the single filter.
pub(crate) fn or_filter(template: &str, dns: &[&str]) -> String {
    match dns {
        [one] => member_filter(template, one),
        many => {
            let mut f = String::from("(|");
            for d in many {
                f.push_str(&member_filter(template, d));
            }
            f.push(')');
            f
        }
    }
}

/// The in-chain form of a reverse filter: `(member={memberDN})` becomes
/// `(member:1.2.840.113556.1.4.1941:={memberDN})`.
pub(crate) fn in_chain_filter(template: &str, attr: &str) -> String {
    // Attribute names and the placeholder's two spellings are matched without regard to case;
    // the rule goes between the attribute and `=`.
    let needle = format!("{}={{memberdn}}", attr.to_ascii_lowercase());
    match template.to_ascii_lowercase().find(&needle) {
        Some(at) => {
            let split = at + attr.len();
            format!(
                "{}:{IN_CHAIN}:{}",
                template.get(..split).unwrap_or_default(),
                template.get(split..).unwrap_or_default()
            )
        }
        None => template.to_string(),
    }
}

/// The attributes the user entry must carry for role mapping.
pub(crate) fn user_attrs(s: &RoleSettings) -> Vec<String> {
    match s.mode {
        RoleMappingMode::Attribute | RoleMappingMode::Direct => {
            s.mapping_attr.iter().cloned().collect()
        }
        RoleMappingMode::Reverse => Vec::new(),
    }
}

/// Maps the roles of `user` (whose DN is `user.dn`). `ldap` is the connection role lookups run
/// on (the admin pool's, or the user's own without a system account).
pub(crate) async fn resolve(
    s: &RoleSettings,
    ldap: &Ldap,
    user: &Entry,
    budget: &Budget,
    stats: &Stats,
) -> Result<Found, Fault> {
    match s.mode {
        RoleMappingMode::Attribute => Ok(attribute_mode(s, user)),
        RoleMappingMode::Direct => direct_mode(s, ldap, user, budget, stats).await,
        RoleMappingMode::Reverse => match s.strategy {
            RoleRecursionStrategy::Client => reverse_mode(s, ldap, user, budget, stats).await,
            RoleRecursionStrategy::InChain => in_chain_mode(s, ldap, user, budget, stats).await,
        },
    }
}

fn attribute_mode(s: &RoleSettings, user: &Entry) -> Found {
    let mut found = Found::default();
    let Some(attr) = &s.mapping_attr else {
        return found;
    };
    for v in user.values(attr) {
        if s.parse_dn {
            let Some(name_attr) = &s.name_attr else {
                continue;
            };
            match v.parse::<Dn>() {
                Ok(dn) => {
                    for name in dn.values_of(name_attr) {
                        found.add(name, Vec::new());
                    }
                }
                Err(e) => found
                    .warnings
                    .push(format!("value {v:?} of {attr} is not a DN ({e}); skipped")),
            }
        } else {
            found.add(v, Vec::new());
        }
    }
    found
}

/// A group reached by the walk: its DN as the server spells it and how we got there.
#[derive(Clone)]
struct Node {
    raw: String,
    path: Vec<String>,
}

/// A short label for paths: the first RDN's value (`cn=L2a,ou=…` → `L2a`).
fn label(dn: &Dn, raw: &str) -> String {
    dn.rdns()
        .next()
        .and_then(|r| r.first().map(|a| a.value.clone()))
        .unwrap_or_else(|| raw.to_string())
}

async fn direct_mode(
    s: &RoleSettings,
    ldap: &Ldap,
    user: &Entry,
    budget: &Budget,
    stats: &Stats,
) -> Result<Found, Fault> {
    let mut found = Found::default();
    let Some(attr) = s.mapping_attr.clone() else {
        return Ok(found);
    };
    let mut visited: HashSet<Dn> = HashSet::new();
    let mut frontier: Vec<Node> = Vec::new();
    for v in user.values(&attr) {
        frontier.push(Node {
            raw: v.clone(),
            path: Vec::new(),
        });
    }
    let mut want: Vec<String> = vec![attr.clone()];
    if let Some(n) = &s.name_attr {
        want.push(n.clone());
    }
    for level in 1..=s.max_depth {
        let mut todo = Vec::new();
        for n in frontier.drain(..) {
            match n.raw.parse::<Dn>() {
                Ok(dn) => {
                    if visited.insert(dn) {
                        todo.push(n);
                    }
                }
                Err(e) => found.warnings.push(format!(
                    "value {:?} of {attr} is not a DN ({e}); skipped",
                    n.raw
                )),
            }
        }
        if todo.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for chunk in todo.chunks(READ_BATCH) {
            let mut set = tokio::task::JoinSet::new();
            for (i, n) in chunk.iter().enumerate() {
                let mut l = ldap.clone();
                let dn = n.raw.clone();
                let want = want.clone();
                let budget = *budget;
                set.spawn(async move {
                    let local = Stats::default();
                    let attrs: Vec<&str> = want.iter().map(String::as_str).collect();
                    let r = ops::read(&mut l, &dn, &attrs, &budget, &local, false).await;
                    (i, r, local)
                });
            }
            stats.add(u32::try_from(chunk.len()).unwrap_or(u32::MAX), 1);
            let mut results: Vec<(usize, Result<Option<Entry>, Fault>)> = Vec::new();
            while let Some(j) = set.join_next().await {
                let (i, r, local) = j.map_err(|_| {
                    Fault::Unavailable("a group read task failed unexpectedly".into())
                })?;
                stats.add(
                    local.requests.load(std::sync::atomic::Ordering::Relaxed),
                    local.round_trips.load(std::sync::atomic::Ordering::Relaxed),
                );
                results.push((i, r));
            }
            results.sort_by_key(|(i, _)| *i);
            for (i, r) in results {
                let Some(n) = chunk.get(i) else { continue };
                match r? {
                    None => found.warnings.push(format!(
                        "group {:?} does not exist (referenced via {}); skipped",
                        n.raw,
                        if n.path.is_empty() {
                            "the user".to_string()
                        } else {
                            n.path.join(" > ")
                        }
                    )),
                    Some(e) => {
                        let mut path = n.path.clone();
                        match e.dn.parse::<Dn>() {
                            Ok(d) => path.push(label(&d, &e.dn)),
                            Err(_) => path.push(e.dn.clone()),
                        }
                        found.add_names(s, &e, &path);
                        if level < s.max_depth {
                            for v in e.values(&attr) {
                                next.push(Node {
                                    raw: v.clone(),
                                    path: path.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    Ok(found)
}

/// A paged group search under `role-context` with `role-search-scope`.
async fn search_groups(
    s: &RoleSettings,
    ldap: &Ldap,
    filter: &str,
    want: &[&str],
    budget: &Budget,
    stats: &Stats,
) -> Result<Vec<Entry>, Fault> {
    let mut l = ldap.clone();
    ops::search_all(
        &mut l,
        &s.context,
        s.scope,
        filter,
        want,
        s.page_size,
        budget,
        stats,
    )
    .await
}

async fn reverse_mode(
    s: &RoleSettings,
    ldap: &Ldap,
    user: &Entry,
    budget: &Budget,
    stats: &Stats,
) -> Result<Found, Fault> {
    let mut found = Found::default();
    let Some(template) = &s.filter else {
        return Ok(found);
    };
    // Shared between the visited set and the frontier: no DN is cloned, none parsed twice.
    let mut visited: HashSet<Arc<Dn>> = HashSet::new();
    let mut frontier: Vec<(Arc<Dn>, Node)> = Vec::new();
    if let Ok(d) = user.dn.parse::<Dn>() {
        let d = Arc::new(d);
        visited.insert(Arc::clone(&d));
        frontier.push((
            d,
            Node {
                raw: user.dn.clone(),
                path: Vec::new(),
            },
        ));
    }
    let mut want: Vec<&str> = Vec::new();
    if let Some(n) = &s.name_attr {
        want.push(n);
    }
    // The membership attribute tells which frontier DN led to a group (for the trace's paths);
    // when several DNs share one search, it is the only way to know.
    if let Some(m) = &s.mapping_attr {
        want.push(m);
    }
    if want.is_empty() {
        want.push("1.1");
    }
    for level in 1..=s.max_depth {
        if frontier.is_empty() {
            break;
        }
        let mut next: Vec<(Arc<Dn>, Node)> = Vec::new();
        for chunk in frontier.chunks(FILTER_BATCH) {
            let dns: Vec<&str> = chunk.iter().map(|(_, n)| n.raw.as_str()).collect();
            let filter = or_filter(template, &dns);
            let entries = search_groups(s, ldap, &filter, &want, budget, stats).await?;
            for e in entries {
                let dn = match e.dn.parse::<Dn>() {
                    Ok(d) => d,
                    Err(err) => {
                        found.warnings.push(format!(
                            "the server returned an entry with an invalid DN {:?} ({err}); skipped",
                            e.dn
                        ));
                        continue;
                    }
                };
                if visited.contains(&dn) {
                    continue;
                }
                let dn = Arc::new(dn);
                visited.insert(Arc::clone(&dn));
                // Which frontier member brought this group in (for the trace's path).
                let parent: Option<&Node> = match chunk {
                    [(_, only)] => Some(only),
                    _ => s.mapping_attr.as_ref().and_then(|m| {
                        e.values(m).iter().find_map(|v| {
                            let d = v.parse::<Dn>().ok()?;
                            chunk.iter().find(|(fd, _)| **fd == d).map(|(_, n)| n)
                        })
                    }),
                };
                let mut path = parent.map(|p| p.path.clone()).unwrap_or_default();
                path.push(label(&dn, &e.dn));
                found.add_names(s, &e, &path);
                if level < s.max_depth {
                    next.push((dn, Node { raw: e.dn, path }));
                }
            }
        }
        frontier = next;
    }
    Ok(found)
}

async fn in_chain_mode(
    s: &RoleSettings,
    ldap: &Ldap,
    user: &Entry,
    budget: &Budget,
    stats: &Stats,
) -> Result<Found, Fault> {
    let mut found = Found::default();
    let Some(template) = &s.filter else {
        return Ok(found);
    };
    // `template` already carries the in-chain rule (built once by the module).
    let filter = member_filter(template, &user.dn);
    let want: Vec<&str> = s.name_attr.iter().map(String::as_str).collect();
    let want = if want.is_empty() { vec!["1.1"] } else { want };
    let entries = search_groups(s, ldap, &filter, &want, budget, stats).await?;
    for e in entries {
        let l =
            e.dn.parse::<Dn>()
                .map_or_else(|_| e.dn.clone(), |d| label(&d, &e.dn));
        let path = vec![format!("{l} (in-chain)")];
        found.add_names(s, &e, &path);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_placeholder_is_escaped_in_both_spellings() {
        assert_eq!(
            member_filter("(member={memberDN})", "uid=a*b,dc=x"),
            "(member=uid=a\\2ab,dc=x)"
        );
        assert_eq!(
            member_filter("(member={MEMBERDN})", "cn=p(a)r,dc=x"),
            "(member=cn=p\\28a\\29r,dc=x)"
        );
        assert_eq!(
            member_filter("(member={memberDN})", "uid=doe\\, john,dc=x"),
            "(member=uid=doe\\5c, john,dc=x)"
        );
    }

    #[test]
    fn frontier_is_ored() {
        assert_eq!(
            or_filter("(member={memberDN})", &["cn=a", "cn=b"]),
            "(|(member=cn=a)(member=cn=b))"
        );
        assert_eq!(or_filter("(member={memberDN})", &["cn=a"]), "(member=cn=a)");
    }

    #[test]
    fn in_chain_rewrites_the_member_clause_only() {
        assert_eq!(
            in_chain_filter("(&(objectClass=group)(member={memberDN}))", "member"),
            "(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={memberDN}))"
        );
        assert_eq!(
            in_chain_filter("(Member={MEMBERDN})", "member"),
            "(Member:1.2.840.113556.1.4.1941:={MEMBERDN})"
        );
    }
}
