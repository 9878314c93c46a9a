//! Per-module overhead of the chain, with in-memory modules that do no work.
//!
//! Baseline, measured in the same run: calling the same modules' `login` and `commit` directly,
//! without the chain (no flags, no trace, no verdict). The difference per module is what the chain
//! itself costs. `cargo bench -p realm-jaas-chain --bench chain`
#![allow(clippy::expect_used, clippy::indexing_slicing)] // a benchmark may stop on a broken setup

use realm_core::config::Usage;
use realm_core::module::{Attempt, Authenticator, LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::registry::ChainLink;
use realm_core::{Credentials, Endpoint, Principal};
use realm_jaas_chain::LoginChain;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Noop;

#[async_trait::async_trait]
impl LoginModule for Noop {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        cx.propose(Principal::Role("r".into()));
        Ok(Verdict::Succeeded)
    }
}

fn per_iter(rt: &tokio::runtime::Runtime, mut f: impl FnMut(&tokio::runtime::Runtime)) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..15 {
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            f(rt);
        }
        samples.push(t.elapsed() / n);
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let creds = Credentials::password("u", "p");
    println!(
        "{:>7} {:>12} {:>12} {:>14} {:>8}",
        "modules", "chain", "direct", "chain/module", "ratio"
    );
    for n in [1usize, 2, 4, 8, 16] {
        let links: Vec<ChainLink> = (0..n)
            .map(|_| ChainLink {
                name: "noop".into(),
                usage: Usage::Required,
                module: Arc::new(Noop),
            })
            .collect();
        let modules: Vec<Arc<dyn LoginModule>> = links.iter().map(|l| l.module.clone()).collect();
        let chain = LoginChain::new(links);
        let chained = per_iter(&rt, |rt| {
            let mut a = Attempt::new(creds.clone(), Endpoint::default(), n);
            rt.block_on(chain.authenticate(&mut a)).expect("succeeds");
            black_box(a.subject());
        });
        let direct = per_iter(&rt, |rt| {
            let mut a = Attempt::new(creds.clone(), Endpoint::default(), n);
            rt.block_on(async {
                for (i, m) in modules.iter().enumerate() {
                    let mut cx = a.module(i);
                    let _ = m.login(&mut cx).await;
                    a.set_login_succeeded(i, true);
                    let mut cx = a.module(i);
                    let _ = m.commit(&mut cx).await;
                }
            });
            black_box(a.subject());
        });
        println!(
            "{:>7} {:>9.2} µs {:>9.2} µs {:>11.0} ns {:>7.2}x",
            n,
            chained.as_secs_f64() * 1e6,
            direct.as_secs_f64() * 1e6,
            (chained.as_secs_f64() - direct.as_secs_f64()) * 1e9 / n as f64,
            chained.as_secs_f64() / direct.as_secs_f64()
        );
    }
}
