//! # realm-jaas-chain
//!
//! [`LoginChain`]: stacked login modules with the control flags REQUIRED, REQUISITE, SUFFICIENT
//! and OPTIONAL, deciding exactly as Java 17's `javax.security.auth.login.LoginContext` decides.
//! This is proven, not argued: `jaas-vectors/` holds a Java program that drives the real
//! `LoginContext` over every chain of one to four scripted modules (and chains with failing
//! commits), and `tests/jaas_vectors.rs` replays all of its vectors against this crate.
//!
//! ## How the chain decides
//!
//! A login runs up to three phases: **login**, then **commit** if login succeeded, then **abort**
//! if either failed. Each phase walks the modules in order and keeps three facts: the first error
//! of a REQUIRED or REQUISITE module, the first error of any other module, and whether any module
//! succeeded.
//!
//! * A module that **succeeds** counts as a success; if it is SUFFICIENT and no REQUIRED (or
//!   REQUISITE) module has failed before it, the phase ends at once, successfully: later modules
//!   are not asked. This early stop applies to the commit phase too, so modules after a
//!   successful SUFFICIENT one get neither `login` nor `commit`.
//! * A module that **ignores** the attempt (`Verdict::Ignored`, `commit`/`abort` returning false)
//!   changes nothing.
//! * A module that **fails**: if REQUISITE, the phase ends at once with the first REQUIRED error
//!   seen so far, or else this one (in the abort phase it only records the error); if REQUIRED,
//!   its error is kept if it is the first of its kind and the phase goes on; if SUFFICIENT or
//!   OPTIONAL, its error is kept if it is the first optional-kind error and the phase goes on.
//! * At the end of a phase: a kept REQUIRED/REQUISITE error fails it; otherwise, if nothing
//!   succeeded, the first optional-kind error fails it, or, when every module ignored the
//!   attempt, the phase fails with "all modules ignored"; otherwise it succeeds.
//! * When login or commit fails, abort runs over **every** module (no early stop), and the error
//!   reported is the one that failed the login or commit phase; abort's own errors are recorded in
//!   the trace only.
//!
//! Every phase starts again at the first module, so a module that was never asked to log in (after
//! an early stop) may still be asked to commit or abort; modules answer `false` (ignore) then.
//!
//! A typed realm (`simple`, `ini`, `ldap`, `tls`, `kerberos`) is a chain of one REQUIRED module,
//! Kerberos with LDAP roles a chain of two, as Hazelcast builds them.

use realm_core::Registry;
use realm_core::config::Usage;
use realm_core::module::{Attempt, Authenticator, LoginError, Phase, TraceStep, Verdict};
use realm_core::registry::ChainLink;
use std::sync::Arc;
use std::time::Instant;

/// The error reported when every module ignored the attempt.
pub const ALL_IGNORED: &str = "all modules ignored";

/// Login modules with control flags, deciding as Java's `LoginContext` does.
pub struct LoginChain {
    links: Vec<ChainLink>,
}

impl std::fmt::Debug for LoginChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mods: Vec<String> = self
            .links
            .iter()
            .map(|l| format!("{} {}", l.usage, l.name))
            .collect();
        f.debug_struct("LoginChain")
            .field("modules", &mods)
            .finish()
    }
}

impl LoginChain {
    /// A chain of these modules, in order.
    pub fn new(links: Vec<ChainLink>) -> Self {
        LoginChain { links }
    }

    /// One phase over every module, as `LoginContext.invoke` does it.
    async fn invoke(&self, attempt: &mut Attempt, phase: Phase) -> Result<(), LoginError> {
        let mut first_required: Option<(usize, LoginError)> = None;
        let mut first_error: Option<(usize, LoginError)> = None;
        let mut success = false;
        for (i, link) in self.links.iter().enumerate() {
            let start = Instant::now();
            let mut cx = attempt.module(i);
            let result = match phase {
                Phase::Login => link
                    .module
                    .login(&mut cx)
                    .await
                    .map(|v| v == Verdict::Succeeded),
                Phase::Commit => link.module.commit(&mut cx).await,
                Phase::Abort => link.module.abort(&mut cx).await,
            };
            let notes = cx.take_notes();
            if phase == Phase::Login {
                attempt.set_login_succeeded(i, matches!(result, Ok(true)));
            }
            let outcome = match (&result, phase) {
                (Ok(true), Phase::Login) => "succeeded".to_string(),
                (Ok(false), Phase::Login) => "ignored".to_string(),
                (Ok(b), _) => b.to_string(),
                (Err(LoginError::Denied(d)), _) => format!("denied: {d}"),
                (Err(LoginError::Unavailable(d)), _) => format!("unavailable: {d}"),
            };
            tracing::debug!(module = %link.name, flag = %link.usage, %phase, %outcome, "login step");
            attempt.trace.steps.push(TraceStep {
                index: i,
                module: link.name.clone(),
                flag: link.usage,
                phase,
                outcome,
                elapsed: start.elapsed(),
                notes,
            });
            match result {
                Ok(true) => {
                    if phase != Phase::Abort
                        && link.usage == Usage::Sufficient
                        && first_required.is_none()
                    {
                        attempt
                            .trace
                            .summary
                            .push(format!("{phase}: SUFFICIENT module [{i}] succeeded with no earlier required failure; the phase stops here"));
                        return Ok(());
                    }
                    success = true;
                }
                Ok(false) => {}
                Err(e) => match link.usage {
                    Usage::Requisite if phase != Phase::Abort => {
                        let (at, err) = first_required.unwrap_or((i, e));
                        attempt.trace.summary.push(format!("{phase}: REQUISITE module [{i}] failed; the phase stops, reporting module [{at}]'s error"));
                        return Err(err);
                    }
                    Usage::Requisite | Usage::Required => {
                        if first_required.is_none() {
                            first_required = Some((i, e));
                        }
                    }
                    Usage::Sufficient | Usage::Optional => {
                        if first_error.is_none() {
                            first_error = Some((i, e));
                        }
                    }
                },
            }
        }
        if let Some((at, e)) = first_required {
            attempt.trace.summary.push(format!(
                "{phase}: failed; reporting the first required failure, module [{at}]"
            ));
            Err(e)
        } else if !success {
            match first_error {
                Some((at, e)) => {
                    attempt.trace.summary.push(format!(
                        "{phase}: no module succeeded; reporting the first failure, module [{at}]"
                    ));
                    Err(e)
                }
                None => {
                    attempt
                        .trace
                        .summary
                        .push(format!("{phase}: every module ignored the attempt"));
                    Err(LoginError::Denied(ALL_IGNORED.into()))
                }
            }
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for LoginChain {
    async fn authenticate(&self, attempt: &mut Attempt) -> Result<(), LoginError> {
        let verdict = match self.invoke(attempt, Phase::Login).await {
            Ok(()) => self.invoke(attempt, Phase::Commit).await,
            Err(e) => Err(e),
        };
        match verdict {
            Ok(()) => {
                attempt.trace.summary.push("login succeeded".into());
                Ok(())
            }
            Err(e) => {
                // Abort's own failures are recorded in the trace, never reported.
                let _ = self.invoke(attempt, Phase::Abort).await;
                attempt
                    .trace
                    .summary
                    .push(format!("login failed: {}", e.detail()));
                Err(e)
            }
        }
    }

    fn len(&self) -> usize {
        self.links.len()
    }
}

/// Installs the chain engine in a registry.
pub fn register(registry: &mut Registry) {
    registry.set_chain_factory(|links| Arc::new(LoginChain::new(links)) as Arc<dyn Authenticator>);
}

/// The control flag of a module in a chain (re-exported from the configuration model).
pub use realm_core::config::Usage as Flag;
