//! LDAP realm logins per second against a real OpenLDAP `slapd` (a private one, with the test
//! directory of `testkit/fixtures/DIRECTORY.md`): search mode with the service account
//! (`user-context: ou=Users,…`), then a bind as the user, then reverse role mapping of `member`
//! (`role-context: ou=Groups,…`, `role-name-attribute: cn`) with `role-recursion-max-depth` 1 and
//! 5, for `carol` (depth 1 → {L1}; depth 5 → {L1, L2a, L2b, L3, L4, L5}).
//!
//! Baseline measured in the same run, interleaved with the realm in short slices (so a change in
//! the machine's load affects both alike): the same LDAP requests sent with raw ldap3 calls, on
//! one reused connection bound as the service account (the searches) and one reused connection
//! for the user binds: the user search `(uid=carol)` (size limit 2, attribute `uid`), the bind as
//! carol's DN, then per level one search whose filter ORs the frontier's DNs (with the
//! paged-results control and the attributes `cn member`, as the realm asks), breadth-first with a
//! visited set, until the depth or an empty frontier. Before timing, the bench checks that the
//! baseline finds the same roles as the realm and that slapd's log shows the same operations
//! (`BIND`/`SRCH` lines: DNs, bases, filters, attributes) for one login of each.
//!
//! Sequential: one login at a time on a current-thread runtime, pools warm; besides wall time, the
//! client's CPU time per login (the thread's run time from `/proc/thread-self/schedstat`: on that
//! runtime the login and ldap3's connection drivers all run on it), which shows what the realm
//! adds on the client without slapd's share of the latency. The realm's `requests` and
//! `round_trips` come from `LdapOutcome`. Concurrent: 16 logins in flight on a multi-thread
//! runtime with 2 workers (baseline: 16 tasks sharing the admin connection handle, which ldap3
//! multiplexes, each with its own bind connection); the realm as configured (default
//! `pool-size`, 4) and with `pool-size: 16`, with the connections each opened while measured.
//! `cargo bench -p realm-ldap --bench ldap_login`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a benchmark may stop on a broken setup

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry, SearchOptions, ldap_escape};
use realm_core::Secret;
use realm_core::config::{AuthenticationConfig, LdapConfig, LoadOptions, Syntax, load_str};
use realm_ldap::LdapLoginModule;
use realm_testkit::slapd::Slapd;

const USERS: &str = "ou=Users,dc=realm,dc=test";
const GROUPS: &str = "ou=Groups,dc=realm,dc=test";
const LOGIN: &str = "carol";
const PASSWORD: &str = "carol-pw";
/// The realm's default `page-size`.
const PAGE_SIZE: i32 = 500;
/// The realm's bound on the DNs in one OR filter.
const FILTER_BATCH: usize = 50;
const DEPTHS: [u32; 2] = [1, 5];
/// Sequential: rounds of one realm slice and one baseline slice each (2 s per side and depth),
/// which side goes first alternating.
const SEQ_ROUNDS: usize = 40;
const SEQ_SLICE: Duration = Duration::from_millis(50);
/// Concurrent: rounds of one slice per side (1.2 s per side and depth), the order rotating.
const CONC_ROUNDS: usize = 12;
const CONC_SLICE: Duration = Duration::from_millis(100);
const IN_FLIGHT: usize = 16;
const WORKERS: usize = 2;

fn expected(depth: u32) -> Vec<String> {
    let all = ["L1", "L2a", "L2b", "L3", "L4", "L5"];
    let n = if depth == 1 { 1 } else { all.len() };
    sorted(all[..n].iter().map(|s| s.to_string()).collect())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The realm's configuration; `extra` is more `ldap:` options (one `key: value` a line).
fn config(s: &Slapd, depth: u32, extra: &str) -> LdapConfig {
    let text = format!(
        "security:\n  realms:\n    - name: corp\n      authentication:\n        ldap:\n\
         \x20         url: {}\n\
         \x20         system-user-dn: {}\n\
         \x20         system-user-password: {}\n\
         \x20         user-context: {USERS}\n\
         \x20         role-mapping-mode: reverse\n\
         \x20         role-mapping-attribute: member\n\
         \x20         role-name-attribute: cn\n\
         \x20         role-context: {GROUPS}\n\
         \x20         role-recursion-max-depth: {depth}\n{}",
        s.url(),
        s.service_dn(),
        s.service_password(),
        extra
            .lines()
            .map(|l| format!("          {l}\n"))
            .collect::<String>()
    );
    let loaded = load_str(
        &text,
        Syntax::Yaml,
        "bench.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    match &loaded.config.realm("corp").unwrap().authentication {
        Some(AuthenticationConfig::Ldap(c)) => c.clone(),
        other => panic!("not ldap: {other:?}"),
    }
}

fn realm_module(s: &Slapd, depth: u32, extra: &str) -> LdapLoginModule {
    LdapLoginModule::new("corp", &config(s, depth, extra), &mut Vec::new()).unwrap()
}

/// What one realm login reports: roles, requests, round trips.
struct RealmLogin {
    roles: Vec<String>,
    requests: u32,
    round_trips: u32,
}

async fn realm_login(m: &LdapLoginModule, pw: &Secret) -> RealmLogin {
    let out = m
        .authenticate(LOGIN, Some(pw))
        .await
        .unwrap_or_else(|e| panic!("realm login failed: {e:?}"));
    RealmLogin {
        roles: out.roles,
        requests: out.requests,
        round_trips: out.round_trips,
    }
}

// ---------------------------------------------------------------------------------------------
// The baseline: the same requests, raw ldap3.

async fn open(url: &str) -> Ldap {
    let (conn, ldap) = LdapConnAsync::new(url).await.unwrap();
    ldap3::drive!(conn);
    ldap
}

async fn open_admin(s: &Slapd) -> Ldap {
    let mut admin = open(&s.url()).await;
    admin
        .simple_bind(s.service_dn(), s.service_password())
        .await
        .unwrap()
        .success()
        .unwrap();
    admin
}

struct BaseLogin {
    roles: Vec<String>,
    requests: u32,
}

/// `(member=DN)`, or `(|(member=DN1)(member=DN2)…)`, DNs escaped for a filter.
fn member_filter(dns: &[String]) -> String {
    match dns {
        [one] => format!("(member={})", ldap_escape(one.as_str())),
        many => {
            let mut f = String::from("(|");
            for d in many {
                f.push_str("(member=");
                f.push_str(&ldap_escape(d.as_str()));
                f.push(')');
            }
            f.push(')');
            f
        }
    }
}

async fn baseline_login(admin: &Ldap, binder: &mut Ldap, depth: u32) -> BaseLogin {
    let mut requests = 0;
    let filter = format!("(uid={})", ldap_escape(LOGIN));
    let mut a = admin.clone();
    requests += 1;
    let (mut entries, _) = a
        .with_search_options(SearchOptions::new().sizelimit(2))
        .search(USERS, Scope::Subtree, &filter, vec!["uid"])
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(entries.len(), 1, "the user search must find one entry");
    let user = SearchEntry::construct(entries.pop().unwrap());
    requests += 1;
    binder
        .simple_bind(&user.dn, PASSWORD)
        .await
        .unwrap()
        .success()
        .unwrap();
    let mut visited: HashSet<String> = HashSet::from([user.dn.to_ascii_lowercase()]);
    let mut frontier = vec![user.dn];
    let mut roles = Vec::new();
    for level in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for chunk in frontier.chunks(FILTER_BATCH) {
            let filter = member_filter(chunk);
            let mut cookie = Vec::new();
            loop {
                requests += 1;
                let mut a = admin.clone();
                let (entries, res) = a
                    .with_controls(PagedResults {
                        size: PAGE_SIZE,
                        cookie,
                    })
                    .search(GROUPS, Scope::Subtree, &filter, vec!["cn", "member"])
                    .await
                    .unwrap()
                    .success()
                    .unwrap();
                for e in entries {
                    let e = SearchEntry::construct(e);
                    if !visited.insert(e.dn.to_ascii_lowercase()) {
                        continue;
                    }
                    if let Some(cn) = e.attrs.get("cn") {
                        roles.extend(cn.iter().cloned());
                    }
                    if level < depth {
                        next.push(e.dn);
                    }
                }
                cookie = res
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
                    break;
                }
            }
        }
        frontier = next;
    }
    BaseLogin { roles, requests }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// The `BIND`/`SRCH` lines slapd logged after byte `from`, without timestamps and connection or
/// operation numbers (the two sides use different connections).
fn operations(s: &Slapd, from: usize) -> Vec<String> {
    let log = s.log();
    log.get(from..)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let rest = l.split_once(" op=")?.1;
            let rest = rest.split_once(' ')?.1;
            (rest.starts_with("BIND ") || rest.starts_with("SRCH ")).then(|| rest.to_string())
        })
        .collect()
}

/// Sends one login of each side and compares what slapd saw. Returns the operations.
fn same_requests(s: &Slapd, mut realm: impl FnMut(), mut baseline: impl FnMut()) -> Vec<String> {
    let settle = Duration::from_millis(50);
    std::thread::sleep(settle);
    let at = s.log().len();
    realm();
    std::thread::sleep(settle);
    let realm_ops = operations(s, at);
    let at = s.log().len();
    baseline();
    std::thread::sleep(settle);
    let base_ops = operations(s, at);
    assert_eq!(
        realm_ops, base_ops,
        "the baseline must send the requests the realm sends"
    );
    realm_ops
}

// ---------------------------------------------------------------------------------------------
// Measurements

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds); zero
/// where that file does not exist. On the current-thread runtime every task of the client (the
/// login and ldap3's connection drivers) runs on this thread.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Logins done, wall and client CPU time spent, summed over slices; and each slice's rate.
#[derive(Default)]
struct Tally {
    logins: u64,
    time: Duration,
    cpu: Duration,
    rates: Vec<f64>,
}

impl Tally {
    fn add(&mut self, logins: u64, time: Duration, cpu: Duration) {
        self.logins += logins;
        self.time += time;
        self.cpu += cpu;
        self.rates.push(logins as f64 / time.as_secs_f64());
    }
    fn rate(&self) -> f64 {
        self.logins as f64 / self.time.as_secs_f64()
    }
    fn mean_us(&self) -> f64 {
        self.time.as_secs_f64() * 1e6 / self.logins as f64
    }
    fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.logins as f64
    }
}

/// The median of the per-round ratios a/b (each round times both sides back to back, so a
/// change of the machine's load between rounds cancels out), and their min and max.
fn round_ratios(a: &Tally, b: &Tally) -> (f64, f64, f64) {
    let mut r: Vec<f64> = a.rates.iter().zip(&b.rates).map(|(x, y)| x / y).collect();
    r.sort_by(f64::total_cmp);
    (r[r.len() / 2], r[0], r[r.len() - 1])
}

struct SeqRow {
    depth: u32,
    realm: Tally,
    base: Tally,
    realm_requests: u32,
    realm_round_trips: u32,
    base_requests: u32,
    roles: usize,
}

fn sequential(s: &Slapd) -> Vec<SeqRow> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pw = Secret::from(PASSWORD);
    let (admin, mut binder) = rt.block_on(async { (open_admin(s).await, open(&s.url()).await) });
    let mut rows = Vec::new();
    let modules: Vec<(u32, LdapLoginModule)> = DEPTHS
        .iter()
        .map(|&d| (d, realm_module(s, d, "")))
        .collect();
    // Warm up and check both depths before any timing (the log is still small).
    for (depth, m) in &modules {
        let depth = *depth;
        let mut realm_out = None;
        let mut base_out = None;
        rt.block_on(async {
            for _ in 0..20 {
                realm_out = Some(realm_login(m, &pw).await);
                base_out = Some(baseline_login(&admin, &mut binder, depth).await);
            }
        });
        let (r, b) = (realm_out.unwrap(), base_out.unwrap());
        assert_eq!(sorted(r.roles.clone()), expected(depth), "realm roles");
        assert_eq!(
            sorted(b.roles.clone()),
            sorted(r.roles.clone()),
            "the baseline must find the realm's roles"
        );
        let ops = same_requests(
            s,
            || {
                rt.block_on(realm_login(m, &pw));
            },
            || {
                rt.block_on(baseline_login(&admin, &mut binder, depth));
            },
        );
        println!("depth {depth}: one login, as slapd logs it (identical for realm and baseline):");
        for op in &ops {
            println!("    {op}");
        }
        rows.push(SeqRow {
            depth,
            realm: Tally::default(),
            base: Tally::default(),
            realm_requests: r.requests,
            realm_round_trips: r.round_trips,
            base_requests: b.requests,
            roles: r.roles.len(),
        });
    }
    println!();
    for ((depth, m), row) in modules.iter().zip(rows.iter_mut()) {
        let depth = *depth;
        rt.block_on(async {
            for round in 0..SEQ_ROUNDS {
                // Alternate which side goes first.
                for side in [round % 2, 1 - round % 2] {
                    let (mut n, t, c) = (0u64, Instant::now(), thread_cpu());
                    if side == 0 {
                        while t.elapsed() < SEQ_SLICE {
                            realm_login(m, &pw).await;
                            n += 1;
                        }
                        row.realm.add(n, t.elapsed(), thread_cpu() - c);
                    } else {
                        while t.elapsed() < SEQ_SLICE {
                            baseline_login(&admin, &mut binder, depth).await;
                            n += 1;
                        }
                        row.base.add(n, t.elapsed(), thread_cpu() - c);
                    }
                }
            }
        });
        let (admin_conns, bind_conns) = m.connections_opened();
        assert_eq!(
            (admin_conns, bind_conns),
            (1, 1),
            "sequential logins must reuse one admin and one bind connection"
        );
    }
    rows
}

struct ConcRow {
    depth: u32,
    /// The realm as configured (default `pool-size`), the realm with `pool-size: 16`, the
    /// baseline.
    sides: [Tally; 3],
    /// Connections each realm opened while measured: (admin, bind).
    realm_conns: [(u32, u32); 2],
}

/// `IN_FLIGHT` tasks logging in through `m` until `slice` has passed; (logins, time).
async fn realm_slice(m: &Arc<LdapLoginModule>, depth: u32, slice: Duration) -> (u64, Duration) {
    let t = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move {
                let pw = Secret::from(PASSWORD);
                let (mut n, t) = (0u64, Instant::now());
                loop {
                    let out = realm_login(&m, &pw).await;
                    assert_eq!(out.roles.len(), expected(depth).len());
                    n += 1;
                    if t.elapsed() >= slice {
                        break n;
                    }
                }
            })
        })
        .collect();
    let mut n = 0;
    for task in tasks {
        n += task.await.unwrap();
    }
    (n, t.elapsed())
}

/// One baseline task per bind connection, all sharing `admin`, until `slice` has passed;
/// (logins, time, the bind connections back).
async fn base_slice(
    admin: &Ldap,
    binders: Vec<Ldap>,
    depth: u32,
    slice: Duration,
) -> (u64, Duration, Vec<Ldap>) {
    let t = Instant::now();
    let tasks: Vec<_> = binders
        .into_iter()
        .map(|mut binder| {
            let admin = admin.clone();
            tokio::spawn(async move {
                let (mut n, t) = (0u64, Instant::now());
                loop {
                    let out = baseline_login(&admin, &mut binder, depth).await;
                    assert_eq!(out.roles.len(), expected(depth).len());
                    n += 1;
                    if t.elapsed() >= slice {
                        break (n, binder);
                    }
                }
            })
        })
        .collect();
    let mut n = 0;
    let mut back = Vec::new();
    for task in tasks {
        let (k, b) = task.await.unwrap();
        n += k;
        back.push(b);
    }
    (n, t.elapsed(), back)
}

fn concurrent(s: &Slapd) -> Vec<ConcRow> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    let url = s.url();
    let (admin, mut binders) = rt.block_on(async {
        let admin = open_admin(s).await;
        let mut binders = Vec::new();
        for _ in 0..IN_FLIGHT {
            binders.push(open(&url).await);
        }
        (admin, binders)
    });
    let mut rows = Vec::new();
    for depth in DEPTHS {
        let realms = [
            Arc::new(realm_module(s, depth, "")),
            Arc::new(realm_module(s, depth, &format!("pool-size: {IN_FLIGHT}"))),
        ];
        let mut row = ConcRow {
            depth,
            sides: Default::default(),
            realm_conns: [(0, 0); 2],
        };
        rt.block_on(async {
            // Warm-up: one concurrent burst each (roles checked in every login).
            for m in &realms {
                realm_slice(m, depth, Duration::ZERO).await;
            }
            binders = base_slice(&admin, std::mem::take(&mut binders), depth, Duration::ZERO)
                .await
                .2;
            let before = realms.each_ref().map(|m| m.connections_opened());
            for round in 0..CONC_ROUNDS {
                for k in 0..3 {
                    // Rotate which side goes first.
                    let side = (round + k) % 3;
                    if let Some(m) = realms.get(side) {
                        let (n, t) = realm_slice(m, depth, CONC_SLICE).await;
                        row.sides[side].add(n, t, Duration::ZERO);
                    } else {
                        let (n, t, back) =
                            base_slice(&admin, std::mem::take(&mut binders), depth, CONC_SLICE)
                                .await;
                        row.sides[side].add(n, t, Duration::ZERO);
                        binders = back;
                    }
                }
            }
            for (i, m) in realms.iter().enumerate() {
                let after = m.connections_opened();
                row.realm_conns[i] = (after.0 - before[i].0, after.1 - before[i].1);
            }
        });
        rows.push(row);
    }
    rows
}

fn main() {
    let started = Instant::now();
    let s = Slapd::start();
    println!(
        "slapd {} (private, started in {:.1} s); user {LOGIN}, reverse mapping of member under \
         {GROUPS}",
        s.url(),
        started.elapsed().as_secs_f64()
    );
    println!();
    let seq = sequential(&s);
    let conc = concurrent(&s);

    println!(
        "sequential: one login at a time, current-thread runtime, pools warm; {SEQ_ROUNDS} rounds \
         of {} ms per side, alternating",
        SEQ_SLICE.as_millis()
    );
    println!(
        "{:>5} {:>5} {:>9} {:>10} {:>7} {:>20} {:>11} {:>11} {:>10} {:>10} {:>6} {:>4} {:>5}",
        "depth",
        "roles",
        "realm/s",
        "baseline/s",
        "ratio",
        "round ratios",
        "realm mean",
        "base mean",
        "realm CPU",
        "base CPU",
        "realm",
        "RTs",
        "base"
    );
    println!(
        "{:>5} {:>5} {:>9} {:>10} {:>7} {:>20} {:>11} {:>11} {:>10} {:>10} {:>6} {:>4} {:>5}",
        "",
        "",
        "",
        "",
        "",
        "median (min–max)",
        "latency",
        "latency",
        "per login",
        "per login",
        "reqs",
        "",
        "reqs"
    );
    for r in &seq {
        let (med, lo, hi) = round_ratios(&r.realm, &r.base);
        println!(
            "{:>5} {:>5} {:>9.0} {:>10.0} {:>6.3}x {:>6.3} ({:.2}–{:.2}) {:>8.1} µs {:>8.1} µs \
             {:>7.1} µs {:>7.1} µs {:>6} {:>4} {:>5}",
            r.depth,
            r.roles,
            r.realm.rate(),
            r.base.rate(),
            r.realm.rate() / r.base.rate(),
            med,
            lo,
            hi,
            r.realm.mean_us(),
            r.base.mean_us(),
            r.realm.cpu_us(),
            r.base.cpu_us(),
            r.realm_requests,
            r.realm_round_trips,
            r.base_requests
        );
    }
    for r in &seq {
        let ratio = r.realm.rate() / r.base.rate();
        let rt_ok = r.realm_round_trips <= r.depth + 2;
        println!(
            "depth {}: realm/baseline {:.3} (target ≥ 0.9: {}); round trips {} ≤ depth + 2 = {}: \
             {}; the realm spends {:+.1} µs more client CPU per login",
            r.depth,
            ratio,
            if ratio >= 0.9 { "met" } else { "NOT met" },
            r.realm_round_trips,
            r.depth + 2,
            if rt_ok { "met" } else { "NOT met" },
            r.realm.cpu_us() - r.base.cpu_us()
        );
    }
    println!();
    println!(
        "concurrent: {IN_FLIGHT} logins in flight, multi-thread runtime with {WORKERS} workers; \
         {CONC_ROUNDS} rounds of {} ms per side, rotating; baseline: 1 shared admin connection, \
         {IN_FLIGHT} bind connections; realm: default pool-size (4), and pool-size {IN_FLIGHT} \
         (realm16); conns opened: by the realm while measured",
        CONC_SLICE.as_millis()
    );
    println!(
        "{:>5} {:>10} {:>10} {:>7} {:>17} {:>14} {:>10} {:>7} {:>14}",
        "depth",
        "baseline/s",
        "realm/s",
        "ratio",
        "median (min–max)",
        "conns opened",
        "realm16/s",
        "ratio",
        "conns opened"
    );
    for r in &conc {
        let [realm, realm16, base] = &r.sides;
        let (med, lo, hi) = round_ratios(realm, base);
        let conns = |(a, b): (u32, u32)| format!("{a} adm/{b} bind");
        println!(
            "{:>5} {:>10.0} {:>10.0} {:>6.3}x {:>5.3} ({:.2}–{:.2}) {:>14} {:>10.0} {:>6.3}x {:>14}",
            r.depth,
            base.rate(),
            realm.rate(),
            realm.rate() / base.rate(),
            med,
            lo,
            hi,
            conns(r.realm_conns[0]),
            realm16.rate(),
            realm16.rate() / base.rate(),
            conns(r.realm_conns[1])
        );
    }
    println!();
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}
