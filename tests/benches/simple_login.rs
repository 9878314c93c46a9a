//! `simple` realm logins per second through the whole pipeline (Security → Realm → LoginChain →
//! module), with an argon2id hash and with a plain password; and the cost of an unknown user
//! next to a wrong password (they must match: no user enumeration by timing).
//!
//! Baselines measured in the same run: the bare password check (`StoredPassword::verify`) of the
//! same stored value, so the ratio is what the pipeline adds around it.
//! `cargo bench -p realm-tests --bench simple_login`
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // a benchmark may stop on a broken setup

use realm_core::config::{LoadOptions, Syntax, load_str};
use realm_core::password::{StoredPassword, hash_argon2id};
use realm_core::{Credentials, Endpoint, Registry, Secret, Security};
use std::time::{Duration, Instant};

fn median(mut f: impl FnMut(), budget: Duration) -> Duration {
    f();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 5 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let hash = hash_argon2id(&Secret::from("hashed-pw"), b"bench-salt-16byt").unwrap();
    let yaml = format!(
        "security:\n  realms:\n    - name: r\n      authentication:\n        simple:\n          users:\n            - {{username: hashed, password: \"{hash}\"}}\n            - {{username: plain, password: plain-pw}}\n"
    );
    let loaded = load_str(
        &yaml,
        Syntax::Yaml,
        "b.yaml".as_ref(),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    let security = Security::from_config(&loaded.config, &registry).unwrap();
    let realm = security.realm("r").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let login = |user: &str, pw: &str| {
        let _ = rt.block_on(realm.login(Credentials::password(user, pw), Endpoint::default()));
    };

    let stored_hash = StoredPassword::parse(&Secret::from(hash.as_str())).unwrap();
    let stored_plain = StoredPassword::parse(&Secret::from("plain-pw")).unwrap();
    let (slow, fast) = (Duration::from_secs(3), Duration::from_secs(1));
    let cases: [(&str, Duration, Duration); 5] = [
        (
            "argon2id, right password",
            median(|| login("hashed", "hashed-pw"), slow),
            median(
                || {
                    stored_hash.verify(&Secret::from("hashed-pw"));
                },
                slow,
            ),
        ),
        (
            "argon2id, wrong password",
            median(|| login("hashed", "nope"), slow),
            median(
                || {
                    stored_hash.verify(&Secret::from("nope"));
                },
                slow,
            ),
        ),
        (
            "argon2id realm, unknown user",
            median(|| login("nobody", "nope"), slow),
            median(
                || {
                    stored_hash.verify(&Secret::from("nope"));
                },
                slow,
            ),
        ),
        (
            "plain, right password",
            median(|| login("plain", "plain-pw"), fast),
            median(
                || {
                    stored_plain.verify(&Secret::from("plain-pw"));
                },
                fast,
            ),
        ),
        (
            "plain, wrong password",
            median(|| login("plain", "nope"), fast),
            median(
                || {
                    stored_plain.verify(&Secret::from("nope"));
                },
                fast,
            ),
        ),
    ];
    println!(
        "{:<30} {:>14} {:>10} {:>14} {:>7}",
        "case", "per login", "logins/s", "bare verify", "ratio"
    );
    for (name, t, base) in cases {
        println!(
            "{:<30} {:>11.1} µs {:>10.0} {:>11.1} µs {:>6.2}x",
            name,
            t.as_secs_f64() * 1e6,
            1.0 / t.as_secs_f64(),
            base.as_secs_f64() * 1e6,
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
    let wrong = cases[1].1.as_secs_f64();
    let unknown = cases[2].1.as_secs_f64();
    println!(
        "unknown user / wrong password time: {:.3}x (1.000 = indistinguishable)",
        unknown / wrong
    );
}
