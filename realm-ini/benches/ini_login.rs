//! The `ini` realm with 100,000 users: logins per second through the whole pipeline (Security →
//! Realm → LoginChain → IniLoginModule) for a user near the end of the file, with argon2id and
//! with Shiro's default `$shiro1$SHA-256$500000$…`; an unknown user next to a wrong password (they
//! must cost the same); the time to load the file at start-up and to reload it after a change.
//!
//! Baselines measured in the same run, interleaved with the measurements: the bare verification
//! of the same stored hash (`StoredPassword::verify`, on tokio's blocking pool as in the realm),
//! and the bare read of the file (`std::fs::read_to_string`).
//! `cargo bench -p realm-ini --bench ini_login`
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // a benchmark may stop on a broken setup

use realm_core::config::{IniConfig, SkipFlags, load_file};
use realm_core::password::hash_argon2id;
use realm_core::{Credentials, Endpoint, Registry, Secret, Security};
use realm_ini::password::{ShiroAlgorithm, StoredPassword, shiro1_hash};
use realm_ini::{IniLoginModule, Reload};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const USERS: usize = 100_000;
const NEAR_END: &str = "user99990";

/// Medians of several measurements taken in turn (round-robin), so that a change in the machine's
/// load or clock during the run affects each of them alike. Each closure times one sample itself
/// (so that set-up and tear-down can stay out of the measurement).
fn interleaved<const N: usize>(
    mut cases: [&mut dyn FnMut() -> Duration; N],
    budget: Duration,
    min_rounds: usize,
) -> [Duration; N] {
    for case in cases.iter_mut() {
        case(); // warm-up
    }
    let mut samples: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget || samples[0].len() < min_rounds {
        for (case, s) in cases.iter_mut().zip(samples.iter_mut()) {
            s.push(case());
        }
    }
    samples.map(|mut s| {
        s.sort();
        s[s.len() / 2]
    })
}

/// Times one call.
fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn write_users(path: &Path, hash: &str, bump: u64) {
    let mut text = String::with_capacity(USERS * (hash.len() + 32));
    text.push_str("# benchmark users\n[users]\n");
    for i in 0..USERS {
        text.push_str(&format!("user{i} = {hash}, role{}\n", i % 10));
    }
    text.push_str("[roles]\nrole0 = *\n");
    std::fs::write(path, text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(bump))
        .unwrap();
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("realm-ini-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // Precomputed once: one hash per kind, shared by every user (per-user salts change nothing
    // about the cost of finding the user or of verifying the password).
    let argon = hash_argon2id(&Secret::from("bench-pw"), b"bench-salt-16byt").unwrap();
    let shiro = shiro1_hash(
        &Secret::from("bench-pw"),
        ShiroAlgorithm::Sha256,
        500_000,
        b"bench-salt-16byt",
    );
    println!(
        "ini file of {USERS} users; to keep generation fast they share one precomputed hash per run \
         (argon2id: {}, then shiro1: $shiro1$SHA-256$500000$…): per-user salts change nothing about \
         the lookup or the verification cost.",
        argon.split('$').take(4).collect::<Vec<_>>().join("$")
    );
    println!();
    println!(
        "{:<36} {:>14} {:>10} {:>14} {:>7}",
        "login (user near the end)", "per login", "logins/s", "bare verify", "ratio"
    );

    let mut load_rows = Vec::new();
    for (kind, hash) in [("argon2id", &argon), ("shiro1 SHA-256 500000", &shiro)] {
        let ini = dir.join("users.ini");
        write_users(&ini, hash, 0);
        let size = std::fs::metadata(&ini).unwrap().len();
        let yaml = dir.join("security.yaml");
        std::fs::write(
            &yaml,
            "security:\n  realms:\n    - name: file\n      authentication:\n        ini: {path: users.ini}\n",
        )
        .unwrap();
        let loaded = load_file(&yaml).unwrap();
        let mut registry = Registry::new();
        realm_jaas_chain::register(&mut registry);
        realm_ini::register(&mut registry);
        let security = Security::from_config(&loaded.config, &registry).unwrap();
        let realm = security.realm("file").unwrap();
        let login = |user: &str, pw: &str| {
            rt.block_on(realm.login(Credentials::password(user, pw), Endpoint::default()))
                .is_ok()
        };
        assert!(login(NEAR_END, "bench-pw"));
        assert!(!login(NEAR_END, "wrong-pw") && !login("nobody", "bench-pw"));

        let stored =
            std::sync::Arc::new(StoredPassword::parse(&Secret::from(hash.as_str())).unwrap());
        let [bare, right, wrong, unknown] = interleaved(
            [
                // On the blocking pool, where the realm verifies too (same kind of thread).
                &mut || {
                    let stored = stored.clone();
                    timed(|| {
                        assert!(
                            !rt.block_on(rt.spawn_blocking(move || {
                                stored.verify(&Secret::from("wrong-pw"))
                            }))
                            .unwrap()
                        )
                    })
                },
                &mut || timed(|| assert!(login(NEAR_END, "bench-pw"))),
                &mut || timed(|| assert!(!login(NEAR_END, "wrong-pw"))),
                &mut || timed(|| assert!(!login("nobody", "wrong-pw"))),
            ],
            Duration::from_secs(8),
            5,
        );
        for (case, t) in [
            ("right password", right),
            ("wrong password", wrong),
            ("unknown user", unknown),
        ] {
            println!(
                "{:<36} {:>14} {:>10.1} {:>14} {:>6.2}x",
                format!("{kind}, {case}"),
                ms(t),
                1.0 / t.as_secs_f64(),
                ms(bare),
                t.as_secs_f64() / bare.as_secs_f64()
            );
        }
        println!(
            "{:<36} unknown user / wrong password time: {:.3}x (1.000 = indistinguishable)",
            "",
            unknown.as_secs_f64() / wrong.as_secs_f64()
        );

        // Loading and reloading, with the module itself (hot reload off: checks only on demand).
        let config = IniConfig {
            skip: SkipFlags::default(),
            path: ini.clone(),
            allow_plaintext_passwords: false,
        };
        let module =
            IniLoginModule::with_check_interval(&config, Duration::MAX, &mut Vec::new()).unwrap();
        let mut bump = 0;
        let [read, load, reload, unchanged] = interleaved(
            [
                &mut || {
                    timed(|| drop(std::hint::black_box(std::fs::read_to_string(&ini).unwrap())))
                },
                &mut || {
                    let t = Instant::now();
                    let m = IniLoginModule::with_check_interval(
                        &config,
                        Duration::MAX,
                        &mut Vec::new(),
                    )
                    .unwrap();
                    let elapsed = t.elapsed();
                    drop(m); // not part of loading
                    elapsed
                },
                &mut || {
                    bump += 1;
                    write_users(&ini, hash, bump); // a new version (not timed)
                    let t = Instant::now();
                    let outcome = module.check_now();
                    let elapsed = t.elapsed();
                    assert_eq!(
                        outcome,
                        Reload::Reloaded {
                            users: USERS,
                            previous: USERS
                        }
                    );
                    elapsed
                },
                &mut || timed(|| assert_eq!(module.check_now(), Reload::Unchanged)),
            ],
            Duration::from_secs(4),
            5,
        );
        load_rows.push((kind, size, read, load, reload, unchanged));
    }

    println!();
    println!(
        "{:<24} {:>9} {:>13} {:>13} {:>7} {:>13} {:>7} {:>14}",
        "file of 100,000 users",
        "size",
        "bare read",
        "load",
        "ratio",
        "reload",
        "ratio",
        "check, same"
    );
    for (kind, size, read, load, reload, unchanged) in load_rows {
        println!(
            "{:<24} {:>6.1} MB {:>13} {:>13} {:>6.1}x {:>13} {:>6.1}x {:>14}",
            kind,
            size as f64 / 1e6,
            ms(read),
            ms(load),
            load.as_secs_f64() / read.as_secs_f64(),
            ms(reload),
            reload.as_secs_f64() / read.as_secs_f64(),
            ms(unchanged)
        );
    }
    println!(
        "(load: read + parse + check every hash + build the lookup table and the dummy; reload: the \
         same after a change, swapped in atomically; check, same: the metadata look a login does \
         at most once per second when nothing changed)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
