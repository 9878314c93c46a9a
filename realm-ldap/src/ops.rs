//! LDAP reads as the realm needs them: entries only (referrals and continuation references are
//! skipped, never an error), every page of a paged search, ranged attributes read to the end, and
//! an incomplete answer (size or time limit) reported as such instead of as "nothing found".

use std::collections::HashMap;

use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::{Ldap, ResultEntry, Scope, SearchEntry, SearchOptions};

use crate::conn::{Budget, Fault, Stats, describe};

/// One entry as the realm uses it: its DN and its attributes, names folded to lower case and any
/// `;range=` option removed (values of every range concatenated).
#[derive(Clone, Debug, Default)]
pub(crate) struct Entry {
    pub(crate) dn: String,
    pub(crate) attrs: HashMap<String, Vec<String>>,
    /// Attributes whose values were not valid UTF-8 (e.g. a binary password attribute).
    pub(crate) bin_attrs: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    /// All values of `attr` (case-insensitive name).
    pub(crate) fn values(&self, attr: &str) -> &[String] {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// All values of `attr` as bytes, text and binary alike.
    pub(crate) fn raw_values(&self, attr: &str) -> Vec<&[u8]> {
        let a = attr.to_ascii_lowercase();
        let mut v: Vec<&[u8]> = self
            .attrs
            .get(&a)
            .map(|x| x.iter().map(|s| s.as_bytes()).collect())
            .unwrap_or_default();
        if let Some(b) = self.bin_attrs.get(&a) {
            v.extend(b.iter().map(Vec::as_slice));
        }
        v
    }
}

/// A ranged attribute name (`member;range=0-1499`): the base name and the range's upper bound
/// (`None` for `*`, the last range).
pub(crate) fn parse_range(name: &str) -> Option<(String, Option<u64>)> {
    let lower = name.to_ascii_lowercase();
    let (base, opts) = lower.split_once(';')?;
    let range = opts.split(';').find_map(|o| o.strip_prefix("range="))?;
    let (_, hi) = range.split_once('-')?;
    let hi = if hi == "*" {
        None
    } else {
        Some(hi.parse().ok()?)
    };
    Some((base.to_string(), hi))
}

/// Converts ldap3's entry; a malformed entry from the server is an error, not a crash.
fn convert(re: ResultEntry) -> Result<(Entry, Vec<(String, u64)>), Fault> {
    let se = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SearchEntry::construct(re)))
        .map_err(|_| Fault::Unavailable("the server sent a malformed search entry".into()))?;
    let mut e = Entry {
        dn: se.dn,
        ..Entry::default()
    };
    let mut more = Vec::new();
    for (mut name, values) in se.attrs {
        // Most names have no option: fold them in place, without allocating.
        if !name.contains(';') {
            name.make_ascii_lowercase();
            e.attrs.entry(name).or_default().extend(values);
            continue;
        }
        match parse_range(&name) {
            Some((base, hi)) => {
                if let Some(hi) = hi {
                    more.push((base.clone(), hi + 1));
                }
                e.attrs.entry(base).or_default().extend(values);
            }
            None => e
                .attrs
                .entry(name.to_ascii_lowercase())
                .or_default()
                .extend(values),
        }
    }
    for (name, values) in se.bin_attrs {
        let base = parse_range(&name).map_or_else(|| name.to_ascii_lowercase(), |(b, _)| b);
        e.bin_attrs.entry(base).or_default().extend(values);
    }
    Ok((e, more))
}

/// Reads the remaining ranges of ranged attributes (Active Directory returns at most 1500
/// values of a multi-valued attribute per request, as `member;range=0-1499`).
async fn complete_ranges(
    ldap: &mut Ldap,
    entry: &mut Entry,
    mut more: Vec<(String, u64)>,
    budget: &Budget,
    stats: &Stats,
) -> Result<(), Fault> {
    // Bounded: a server that never says `*` cannot keep us here past the login deadline, and
    // 10 000 rounds is 15 million values.
    let mut rounds = 0;
    while let Some((attr, from)) = more.pop() {
        rounds += 1;
        if rounds > 10_000 {
            return Err(Fault::Unavailable(format!(
                "ranged attribute {attr} of {} never ends",
                entry.dn
            )));
        }
        let want = format!("{attr};range={from}-*");
        stats.add(1, 1);
        let dn = entry.dn.clone();
        let res = budget
            .run(
                "ranged attribute read",
                ldap.search(&dn, Scope::Base, "(objectClass=*)", vec![want.as_str()]),
            )
            .await?;
        if res.1.rc != 0 {
            return Err(Fault::Unavailable(format!(
                "reading {want} of {dn}: {}",
                describe(&res.1)
            )));
        }
        for re in res.0 {
            if re.is_ref() || re.is_intermediate() {
                continue;
            }
            let (part, next) = convert(re)?;
            for (k, v) in part.attrs {
                entry.attrs.entry(k).or_default().extend(v);
            }
            more.extend(next);
        }
    }
    Ok(())
}

/// The outcome of a search for one entry (the user).
pub(crate) enum Found {
    None,
    Single(Entry),
    /// More than one entry matched: never "take the first".
    Many(Vec<String>),
}

/// Searches for at most one entry (the user search): asks the server for two, so that a filter
/// matching several entries is detected without reading them all.
pub(crate) async fn search_one(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
    budget: &Budget,
    stats: &Stats,
) -> Result<Found, Fault> {
    stats.add(1, 1);
    let res = budget
        .run(
            "user search",
            ldap.with_search_options(SearchOptions::new().sizelimit(2))
                .search(base, scope, filter, attrs.to_vec()),
        )
        .await?;
    let entries: Vec<ResultEntry> = res
        .0
        .into_iter()
        .filter(|e| !e.is_ref() && !e.is_intermediate())
        .collect();
    // 4 = sizeLimitExceeded: expected when two match; 9 (partial results, LDAPv2 AD) and
    // 10 = referral: ignored like continuation references; 32 = noSuchObject: the base does not
    // exist, so nobody is under it.
    match res.1.rc {
        0 | 4 | 9 | 10 => {}
        32 => return Ok(Found::None),
        _ => {
            return Err(Fault::Unavailable(format!(
                "user search failed: {}",
                describe(&res.1)
            )));
        }
    }
    let mut converted = Vec::new();
    for re in entries {
        converted.push(convert(re)?);
    }
    match converted.len() {
        0 => Ok(Found::None),
        1 => {
            let Some((mut e, more)) = converted.pop() else {
                return Ok(Found::None);
            };
            if !more.is_empty() {
                complete_ranges(ldap, &mut e, more, budget, stats).await?;
            }
            Ok(Found::Single(e))
        }
        _ => Ok(Found::Many(
            converted.into_iter().map(|(e, _)| e.dn).collect(),
        )),
    }
}

/// Reads one entry by DN. `Ok(None)` if it does not exist.
pub(crate) async fn read(
    ldap: &mut Ldap,
    dn: &str,
    attrs: &[&str],
    budget: &Budget,
    stats: &Stats,
    count: bool,
) -> Result<Option<Entry>, Fault> {
    if count {
        stats.add(1, 1);
    }
    let res = budget
        .run(
            "entry read",
            ldap.search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec()),
        )
        .await?;
    match res.1.rc {
        0 => {}
        32 => return Ok(None),
        _ => {
            return Err(Fault::Unavailable(format!(
                "reading {dn}: {}",
                describe(&res.1)
            )));
        }
    }
    for re in res.0 {
        if re.is_ref() || re.is_intermediate() {
            continue;
        }
        let (mut e, more) = convert(re)?;
        if !more.is_empty() {
            complete_ranges(ldap, &mut e, more, budget, stats).await?;
        }
        return Ok(Some(e));
    }
    Ok(None)
}

/// Searches for every matching entry, page by page (paged-results control). A size or time
/// limit is an error: the answer would be incomplete, and "fewer groups" must never pass for
/// "all groups".
#[allow(clippy::too_many_arguments)]
pub(crate) async fn search_all(
    ldap: &mut Ldap,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
    page_size: u32,
    budget: &Budget,
    stats: &Stats,
) -> Result<Vec<Entry>, Fault> {
    let size = i32::try_from(page_size).unwrap_or(i32::MAX);
    let mut out = Vec::new();
    let mut ranged = Vec::new();
    let mut cookie: Vec<u8> = Vec::new();
    // Bounded like everything else: a server that keeps sending cookies cannot hold the login
    // past its deadline, and 100 000 pages is far beyond any directory.
    for _page in 0..100_000u32 {
        stats.add(1, 1);
        let res = budget
            .run(
                "group search",
                ldap.with_controls(PagedResults { size, cookie }).search(
                    base,
                    scope,
                    filter,
                    attrs.to_vec(),
                ),
            )
            .await?;
        let (entries, result) = (res.0, res.1);
        match result.rc {
            // 9 and 10: partial results and referrals, i.e. parts of the tree held elsewhere.
            0 | 9 | 10 => {}
            32 => return Ok(Vec::new()),
            4 | 3 | 11 => {
                let msg = format!(
                    "incomplete group search under {base:?} ({}) after {} entries: roles would \
                     be missing, so the login cannot be decided",
                    describe(&result),
                    out.len() + entries.len()
                );
                tracing::warn!("{msg}");
                return Err(Fault::Unavailable(msg));
            }
            _ => {
                return Err(Fault::Unavailable(format!(
                    "group search under {base:?} failed: {}",
                    describe(&result)
                )));
            }
        }
        for re in entries {
            if re.is_ref() || re.is_intermediate() {
                continue;
            }
            let (e, more) = convert(re)?;
            if !more.is_empty() {
                ranged.push((out.len(), more));
            }
            out.push(e);
        }
        cookie = result
            .ctrls
            .iter()
            .find_map(|c| match c {
                Control(Some(ControlType::PagedResults), raw) => {
                    Some(raw.parse::<PagedResults>().cookie)
                }
                _ => None,
            })
            .unwrap_or_default();
        if cookie.is_empty() {
            for (i, more) in ranged {
                if let Some(e) = out.get_mut(i) {
                    complete_ranges(ldap, e, more, budget, stats).await?;
                }
            }
            return Ok(out);
        }
    }
    Err(Fault::Unavailable(format!(
        "group search under {base:?} never ended (100000 pages)"
    )))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn range_options_are_parsed() {
        assert_eq!(
            parse_range("member;range=0-1499"),
            Some(("member".into(), Some(1499)))
        );
        assert_eq!(
            parse_range("Member;Range=1500-*"),
            Some(("member".into(), None))
        );
        assert_eq!(parse_range("member"), None);
        assert_eq!(parse_range("member;binary"), None);
        assert_eq!(parse_range("member;range=0-x"), None);
    }
}
