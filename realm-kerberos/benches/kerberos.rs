//! Kerberos figures against a real MIT KDC (`krb5kdc`, started here by `realm-testkit`).
//!
//! 1. **Tokens accepted per second**, side by side in one run: Realm's [`Acceptor::accept`]
//!    (token inspection with picky-krb, `gss_accept_sec_context`, the flags check, the client
//!    name) and, as the baseline, raw libgssapi: `ServerCtx::new(cred).step(token)` and the
//!    source name, with the same acceptor credential (same keytab) and tokens of the same kind.
//!    MIT's replay cache is on for both, so every token is used once: each side gets its own
//!    pre-made tokens (all for `hz/127.0.0.1`, from one client). The two sides run interleaved in
//!    slices, the order alternating, so that a change in the machine's load affects both alike.
//!    Also: the same through a whole realm (`Realm::login` with a token: the chain, the module,
//!    `block_in_place` on the multi-thread runtime).
//! 2. **Full logins per second through the KDC**: a client's `kerberos` identity makes the
//!    token (`credentials_for`) and the server's realm accepts it (`login`). *Cold*: a new
//!    client each time, so each login asks the KDC for a TGT and a service ticket; *warm*: one
//!    client whose tickets are cached (what a long-running member does).
//!
//! `cargo bench -p realm-kerberos --bench kerberos`
//!
//! MIT krb5 reads `KRB5_CONFIG` from the environment, which a running program must not change:
//! the process Cargo starts makes the realm and runs itself again with the realm's environment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // a benchmark may stop on a broken setup

use libgssapi::context::{CtxFlags, SecurityContext, ServerCtx};
use realm_core::config::{KerberosKeys, LoadOptions, Syntax, load_str};
use realm_core::{Credentials, Endpoint, Registry, Security};
use realm_kerberos::acceptor::Acceptor;
use realm_kerberos::initiator::Initiator;
use realm_kerberos_sys::{Usage, acquire_cred_from};
use realm_testkit::bench::interleaved;
use realm_testkit::kdc::{Kdc, REALM};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const DIR_VAR: &str = "REALM_BENCH_KDC_DIR";
const SERVICE: &str = "hz/127.0.0.1";
const CLIENT: &str = "member";
/// Tokens per side and slice, and slices per side.
const SLICE: usize = 250;
const ROUNDS: usize = 8;
const COLD_LOGINS: usize = 200;
const WARM_LOGINS: usize = 2000;

fn main() -> ExitCode {
    if let Some(dir) = std::env::var_os(DIR_VAR) {
        run(Path::new(&dir));
        return ExitCode::SUCCESS;
    }
    let kdc = Kdc::start();
    kdc.add_random_key_principal(SERVICE);
    kdc.add_random_key_principal(CLIENT);
    kdc.export_keytab("service.keytab", &[SERVICE]);
    kdc.export_keytab("member.keytab", &[CLIENT]);
    let status = Command::new(std::env::current_exe().unwrap())
        .envs(kdc.env())
        .env(DIR_VAR, kdc.dir())
        .status()
        .unwrap();
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn keys(principal: &str, keytab: PathBuf) -> KerberosKeys {
    KerberosKeys {
        principal: Some(format!("{principal}@{REALM}")),
        keytab: Some(keytab),
        ticket_cache: None,
    }
}

fn per_sec(n: usize, d: Duration) -> f64 {
    realm_testkit::bench::rate(n, d)
}

fn run(dir: &Path) {
    let service_kt = dir.join("service.keytab");
    let client_kt = dir.join("member.keytab");
    let initiator = Initiator::new(keys(CLIENT, client_kt.clone()), &mut Vec::new()).unwrap();
    let make = |n: usize| -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| initiator.token_for(SERVICE, CtxFlags::empty()).unwrap())
            .collect()
    };
    let acceptor =
        Acceptor::new(&keys(SERVICE, service_kt.clone()), false, &mut Vec::new()).unwrap();
    let raw_cred = acquire_cred_from(
        Some(&format!("{SERVICE}@{REALM}")),
        Usage::Accept,
        &[("keytab", &service_kt.display().to_string())],
    )
    .unwrap();
    // Both sides really accept (and agree on the client).
    let t = make(2);
    let ours = acceptor.accept(&t[0]).unwrap().principal;
    let mut ctx = ServerCtx::new(Some(raw_cred.clone()));
    ctx.step(&t[1]).unwrap();
    assert_eq!(ctx.source_name().unwrap().to_string(), ours);

    println!("Kerberos acceptor: tokens for {SERVICE}@{REALM}, replay cache on, one thread");
    // Each side gets its own fresh tokens: the replay cache admits each token once.
    let (ours, raw) = interleaved(
        ROUNDS,
        SLICE,
        || (make(SLICE), make(SLICE)),
        |(tokens, _)| {
            for t in tokens {
                acceptor.accept(t).unwrap();
            }
        },
        |(_, tokens)| {
            for t in tokens {
                let mut ctx = ServerCtx::new(Some(raw_cred.clone()));
                ctx.step(t).unwrap();
                assert!(ctx.is_complete());
                std::hint::black_box(ctx.source_name().unwrap().to_string());
            }
        },
    );
    let sample = make(SLICE);
    let s = Instant::now();
    for _ in 0..20 {
        for t in &sample {
            std::hint::black_box(realm_kerberos::token::inspect(t).unwrap());
        }
    }
    let inspect_us = s.elapsed().as_secs_f64() * 1e6 / (20 * SLICE) as f64;
    println!(
        "  Realm Acceptor::accept       {ours:>9.0} tokens/s  ({:.1} µs each)",
        1e6 / ours
    );
    println!(
        "  raw libgssapi accept         {raw:>9.0} tokens/s  ({:.1} µs each)",
        1e6 / raw
    );
    println!(
        "  ratio Realm / raw            {:>9.2}x  (target ≥ 0.90x)",
        ours / raw
    );
    println!(
        "  token inspection             {inspect_us:>9.1} µs (picky-krb decode; paid only by refusals)"
    );
    println!(
        "  (medians of {ROUNDS} interleaved slices of {SLICE} tokens per side; token making excluded)"
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut registry = Registry::new();
    realm_jaas_chain::register(&mut registry);
    realm_kerberos::register(&mut registry);
    let yaml = format!(
        "security:
  realms:
    - name: server
      authentication:
        kerberos:
          principal: {SERVICE}@{REALM}
          keytab-file: {}
    - name: client
      identity:
        kerberos:
          realm: {REALM}
          principal: {CLIENT}@{REALM}
          keytab-file: {}
",
        service_kt.display(),
        client_kt.display()
    );
    let build = || {
        let loaded = load_str(
            &yaml,
            Syntax::Yaml,
            "b.yaml".as_ref(),
            &LoadOptions::default(),
        )
        .unwrap();
        Security::from_config(&loaded.config, &registry).unwrap()
    };
    let sec = build();
    let peer = Endpoint::from_addr("127.0.0.1:5701".parse().unwrap());
    rt.block_on(async {
        let server = sec.realm("server").unwrap();
        let tokens = make(WARM_LOGINS);
        let s = Instant::now();
        for t in tokens {
            server.login(Credentials::token(t), peer.clone()).await.unwrap();
        }
        let realm_rate = per_sec(WARM_LOGINS, s.elapsed());
        println!(
            "  Realm::login with a token    {realm_rate:>9.0} logins/s  ({:.1} µs each; chain, module, block_in_place)",
            1e6 / realm_rate
        );

        println!("Full logins through the KDC (identity makes the token, the realm accepts it), sequential");
        let client = sec.realm("client").unwrap();
        let s = Instant::now();
        for _ in 0..WARM_LOGINS {
            let c = client.credentials_for(&peer).await.unwrap();
            server.login(c, peer.clone()).await.unwrap();
        }
        let warm = per_sec(WARM_LOGINS, s.elapsed());
        println!(
            "  warm (tickets cached)        {warm:>9.0} logins/s  ({:.2} ms each)",
            1e3 / warm
        );
        let s = Instant::now();
        for _ in 0..COLD_LOGINS {
            // A new Security: a new client identity with an empty ticket cache (TGT + service
            // ticket from the KDC), and a new acceptor.
            let fresh = build();
            let c = fresh.realm("client").unwrap().credentials_for(&peer).await.unwrap();
            server.login(c, peer.clone()).await.unwrap();
        }
        let cold = per_sec(COLD_LOGINS, s.elapsed());
        println!(
            "  cold (AS + TGS per login)    {cold:>9.0} logins/s  ({:.2} ms each)",
            1e3 / cold
        );
    });
}
