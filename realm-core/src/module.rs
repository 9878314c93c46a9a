//! The contracts backends implement: [`LoginModule`] and [`CredentialsFactory`].
//!
//! # The login protocol
//!
//! A login module is built **once** from its configuration (by a factory registered in the
//! [`crate::Registry`]) and shared by every login through an `Arc`, so it may hold connection pools
//! and caches. Everything that belongs to one attempt lives in the [`Attempt`] the chain passes in,
//! seen by each module through its [`ModuleContext`]: the credentials, the endpoint, a shared-state
//! map that modules use to pass data along the chain, the principals each module proposed, the
//! subject being built, and the trace.
//!
//! The phases are JAAS's:
//!
//! 1. **`login`** checks the evidence and *proposes* principals ([`ModuleContext::propose`]). It
//!    returns [`Verdict::Succeeded`], [`Verdict::Ignored`] (this module does not apply), or an error:
//!    [`LoginError::Denied`] when the evidence is bad, [`LoginError::Unavailable`] when the backend
//!    could not be asked. `login` must not touch the subject.
//! 2. If the chain as a whole succeeds, **`commit`** is called and makes the proposals part of the
//!    subject. The default does exactly that.
//! 3. If it fails, **`abort`** is called instead and discards them. The default does exactly that.
//!
//! Which modules get which call, and the overall verdict, are decided by the chain
//! (`realm-jaas-chain`), exactly as Java's `LoginContext` decides them. A module may be asked to
//! `commit` or `abort` without its `login` having run in this attempt (after an early stop): the
//! defaults handle that by returning `false` ("ignore me").
//!
//! # What an implementor must never do
//!
//! * Put a secret (password, token, key) in a [`LoginError`], a trace note or a log line. The
//!   [`Secret`](crate::Secret) type redacts itself; do not unwrap it for messages.
//! * Report a backend fault (timeout, refused connection, protocol error, admin bind refused) as
//!   `Denied`: that tells operators "wrong password" when the directory is down. Use `Unavailable`.
//! * Say in a `Denied` reason anything the *caller* may not learn: the reason is for the trace and
//!   the logs; the caller only ever sees "authentication failed".

use crate::config::{SkipFlags, Usage};
use crate::credentials::{Credentials, Endpoint, Principal, Subject};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The shared-state key under which a module that authenticated someone leaves the name, for the
/// next module of the chain (e.g. Kerberos → LDAP role lookup); Hazelcast's `hazelcast.last.identity`.
pub const LAST_IDENTITY: &str = "realm.last.identity";

/// Why a module could not establish an identity.
///
/// Deliberately two kinds only (not `#[non_exhaustive]`): the chain and every caller must be able
/// to tell "the evidence is bad" from "we could not check it", and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The evidence was checked and is not good enough. The reason goes to the trace and logs; the
    /// caller sees one generic message that never says whether the user exists.
    #[error("authentication failed")]
    Denied(String),
    /// The backend could not be asked (down, timed out, misbehaving). Never a wrong password.
    #[error("authentication backend unavailable: {0}")]
    Unavailable(String),
}

impl LoginError {
    /// The detail for traces and logs (never shown to the peer).
    pub fn detail(&self) -> &str {
        match self {
            LoginError::Denied(d) | LoginError::Unavailable(d) => d,
        }
    }
}

/// What `login` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The evidence is good; principals were proposed.
    Succeeded,
    /// This module does not apply to these credentials and asks to be left out of the verdict.
    Ignored,
}

/// A login phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Checking evidence.
    Login,
    /// Making proposals part of the subject.
    Commit,
    /// Discarding proposals.
    Abort,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Login => "login",
            Phase::Commit => "commit",
            Phase::Abort => "abort",
        })
    }
}

/// One step of a login, as the trace records it.
#[derive(Clone, Debug)]
pub struct TraceStep {
    /// Module position in the chain (from 0).
    pub index: usize,
    /// The module's name (class name or authentication type).
    pub module: String,
    /// Its control flag.
    pub flag: Usage,
    /// Which phase.
    pub phase: Phase,
    /// `succeeded`, `ignored`, `denied: …`, `unavailable: …`, `true`/`false` for commit and abort.
    pub outcome: String,
    /// How long the call took.
    pub elapsed: Duration,
    /// What the module did (queries issued, roles found, …), in its own words. Never secrets.
    pub notes: Vec<String>,
}

/// What happened during one login: per module its flag, verdict, time and notes.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The steps, in call order.
    pub steps: Vec<TraceStep>,
    /// The chain's own conclusions (early stop, verdict, the reported error).
    pub summary: Vec<String>,
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            writeln!(
                f,
                "  [{}] {:<10} {:<7} {:<40} {} ({:.3} ms)",
                s.index,
                s.flag.as_str(),
                s.phase.to_string(),
                s.module,
                s.outcome,
                s.elapsed.as_secs_f64() * 1000.0
            )?;
            for n in &s.notes {
                writeln!(f, "        {n}")?;
            }
        }
        for line in &self.summary {
            writeln!(f, "  => {line}")?;
        }
        Ok(())
    }
}

/// Per-module state of one attempt.
#[derive(Debug, Default)]
struct ModuleState {
    login_succeeded: bool,
    proposed: Vec<Principal>,
    committed: Vec<Principal>,
}

/// Everything that belongs to one login attempt (the JAAS `LoginContext`'s per-attempt part).
#[derive(Debug)]
pub struct Attempt {
    credentials: Credentials,
    endpoint: Endpoint,
    shared: BTreeMap<String, String>,
    modules: Vec<ModuleState>,
    committed: Vec<Principal>,
    /// The trace being recorded.
    pub trace: Trace,
}

impl Attempt {
    /// A new attempt for a chain of `modules` modules.
    pub fn new(credentials: Credentials, endpoint: Endpoint, modules: usize) -> Self {
        Attempt {
            credentials,
            endpoint,
            shared: BTreeMap::new(),
            modules: (0..modules).map(|_| ModuleState::default()).collect(),
            committed: Vec::new(),
            trace: Trace::default(),
        }
    }

    /// The view module `index` gets.
    pub fn module(&mut self, index: usize) -> ModuleContext<'_> {
        if self.modules.len() <= index {
            self.modules.resize_with(index + 1, ModuleState::default);
        }
        ModuleContext {
            attempt: self,
            index,
            notes: Vec::new(),
        }
    }

    /// Records the outcome of module `index`'s login (the chain calls this).
    pub fn set_login_succeeded(&mut self, index: usize, ok: bool) {
        if let Some(m) = self.modules.get_mut(index) {
            m.login_succeeded = ok;
        }
    }

    /// The subject made of every committed principal, in commit order (identity and endpoint:
    /// the last one committed wins; roles accumulate).
    pub fn subject(&self) -> Subject {
        let mut s = Subject::new();
        for p in &self.committed {
            s.add(p.clone());
        }
        s
    }

    /// The credentials (for the chain's own checks).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
}

/// What module `index` sees of the attempt.
pub struct ModuleContext<'a> {
    attempt: &'a mut Attempt,
    index: usize,
    notes: Vec<String>,
}

impl ModuleContext<'_> {
    /// The credentials the peer presented.
    pub fn credentials(&self) -> &Credentials {
        &self.attempt.credentials
    }

    /// Where the peer connects from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.attempt.endpoint
    }

    /// Shared state between the modules of this attempt.
    pub fn shared(&self) -> &BTreeMap<String, String> {
        &self.attempt.shared
    }

    /// Shared state, writable.
    pub fn shared_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.attempt.shared
    }

    /// Proposes a principal (login phase). It becomes part of the subject only on commit.
    pub fn propose(&mut self, principal: Principal) {
        if let Principal::Identity(name) = &principal {
            self.attempt
                .shared
                .insert(LAST_IDENTITY.to_string(), name.clone());
        }
        if let Some(m) = self.attempt.modules.get_mut(self.index) {
            m.proposed.push(principal);
        }
    }

    /// What this module proposed in this attempt.
    pub fn proposed(&self) -> &[Principal] {
        self.attempt
            .modules
            .get(self.index)
            .map_or(&[], |m| m.proposed.as_slice())
    }

    /// Whether this module's `login` succeeded in this attempt (false if it was not called).
    pub fn login_succeeded(&self) -> bool {
        self.attempt
            .modules
            .get(self.index)
            .is_some_and(|m| m.login_succeeded)
    }

    /// Moves this module's proposals into the subject (what the default `commit` does).
    pub fn commit_proposed(&mut self) {
        if let Some(m) = self.attempt.modules.get_mut(self.index) {
            let proposed = std::mem::take(&mut m.proposed);
            m.committed.extend(proposed.iter().cloned());
            self.attempt.committed.extend(proposed);
        }
    }

    /// Drops this module's proposals and takes back what it committed (what the default `abort` does).
    pub fn discard(&mut self) {
        if let Some(m) = self.attempt.modules.get_mut(self.index) {
            m.proposed.clear();
            for p in std::mem::take(&mut m.committed) {
                if let Some(i) = self.attempt.committed.iter().position(|c| *c == p) {
                    self.attempt.committed.remove(i);
                }
            }
        }
    }

    /// Adds a line to this step of the trace. Never pass a secret.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The notes taken during this call (the chain moves them into the trace).
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

/// A pluggable authentication step. See the [module documentation](self) for the protocol.
#[async_trait::async_trait]
pub trait LoginModule: Send + Sync {
    /// Checks the evidence and proposes principals. Must not touch the subject.
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError>;

    /// Makes this module's proposals part of the subject. Returns `false` ("ignore me") when its
    /// login did not succeed in this attempt. An error makes the whole login fail.
    async fn commit(&self, cx: &mut ModuleContext<'_>) -> Result<bool, LoginError> {
        if !cx.login_succeeded() {
            return Ok(false);
        }
        cx.commit_proposed();
        Ok(true)
    }

    /// Discards this module's proposals after the chain failed. Errors are recorded, never reported.
    async fn abort(&self, cx: &mut ModuleContext<'_>) -> Result<bool, LoginError> {
        let had = cx.login_succeeded();
        cx.discard();
        Ok(had)
    }

    /// Ends a session the module took part in (release tickets, notify a backend). Default: nothing.
    async fn logout(&self, _subject: &Subject) -> Result<bool, LoginError> {
        Ok(true)
    }
}

/// What this node presents to a peer (the `identity` side of a realm).
#[async_trait::async_trait]
pub trait CredentialsFactory: Send + Sync {
    /// Produces credentials for talking to `peer`.
    async fn new_credentials(&self, peer: &Endpoint) -> Result<Credentials, LoginError>;
}

/// Runs a realm's modules for one attempt and decides the verdict (implemented by
/// `realm-jaas-chain`'s `LoginChain`).
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// Runs the attempt. On `Ok`, the attempt's committed principals are the subject.
    async fn authenticate(&self, attempt: &mut Attempt) -> Result<(), LoginError>;

    /// How many modules the attempt needs state for.
    fn len(&self) -> usize;

    /// True when the chain has no modules.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs blocking work (password hashing, file reads) on tokio's blocking pool when called inside a
/// runtime, so it never stalls the other connections of an async server; inline otherwise. `None`
/// if the work panicked.
pub async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Some(work());
    }
    tokio::task::spawn_blocking(work).await.ok()
}

/// Like [`off_executor`], for short CPU-bound work that never waits on the network (a Kerberos
/// token check: tens of microseconds). On a multi-thread runtime it runs in place with
/// [`tokio::task::block_in_place`], which first hands this worker's other tasks to another
/// thread, so nothing stalls and no thread switch is paid; on a current-thread runtime it goes
/// to the blocking pool; outside a runtime it runs inline. `None` if the work panicked.
///
/// Not for work that may block for long (a KDC or directory that does not answer): a timeout
/// around a future cannot fire while its task runs in place. Use [`off_executor`] there.
pub async fn off_executor_brief<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    match tokio::runtime::Handle::try_current() {
        Err(_) => Some(work()),
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).ok()
            })
        }
        Ok(_) => tokio::task::spawn_blocking(work).await.ok(),
    }
}

/// The verdict of a user/password module after the password check: on success it proposes the
/// identity, the roles and the endpoint (each unless skipped) and notes the roles in the trace;
/// otherwise the denial says "wrong password" or "unknown user" (for the trace and logs only; the
/// caller sees one generic message). `roles` is `None` for an unknown user.
pub fn password_verdict(
    cx: &mut ModuleContext<'_>,
    name: String,
    roles: Option<&[String]>,
    verified: bool,
    skip: SkipFlags,
) -> Result<Verdict, LoginError> {
    match (verified, roles) {
        (true, Some(roles)) => {
            cx.note(format!(
                "user {name:?} verified; roles: [{}]",
                roles.join(", ")
            ));
            if !skip.skip_identity {
                cx.propose(Principal::Identity(name));
            }
            if !skip.skip_role {
                for r in roles {
                    cx.propose(Principal::Role(r.clone()));
                }
            }
            if !skip.skip_endpoint
                && let Some(host) = cx.endpoint().host()
            {
                cx.propose(Principal::Endpoint(host));
            }
            Ok(Verdict::Succeeded)
        }
        (_, Some(_)) => Err(LoginError::Denied(format!(
            "wrong password for user {name:?}"
        ))),
        (_, None) => Err(LoginError::Denied(format!("unknown user {name:?}"))),
    }
}
