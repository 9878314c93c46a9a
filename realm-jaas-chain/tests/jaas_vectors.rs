//! Replays every vector recorded from Java 17's `LoginContext` (`jaas-vectors/vectors.jsonl`, made
//! by `jaas-vectors/JaasVectors.java`) against `LoginChain`: same verdict, same reported error, same
//! sequence of login/commit/abort calls, same subject. All must match.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use realm_core::config::Usage;
use realm_core::module::{Attempt, Authenticator, LoginError, LoginModule, ModuleContext, Verdict};
use realm_core::registry::ChainLink;
use realm_core::{Credentials, Endpoint, Principal};
use realm_jaas_chain::{ALL_IGNORED, LoginChain};
use std::sync::{Arc, Mutex};

/// The Rust twin of the Java generator's scripted module (see jaas-vectors/README.md).
struct Scripted {
    id: usize,
    login: u8,
    commit: u8,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn log(&self, what: &str) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{what}{}", self.id));
    }
}

#[async_trait::async_trait]
impl LoginModule for Scripted {
    async fn login(&self, cx: &mut ModuleContext<'_>) -> Result<Verdict, LoginError> {
        self.log("L");
        match self.login {
            b'S' => {
                cx.propose(Principal::Role(format!("m{}", self.id)));
                Ok(Verdict::Succeeded)
            }
            b'I' => Ok(Verdict::Ignored),
            _ => Err(LoginError::Denied(format!("login:{}", self.id))),
        }
    }

    async fn commit(&self, cx: &mut ModuleContext<'_>) -> Result<bool, LoginError> {
        self.log("C");
        if self.commit == b'F' {
            return Err(LoginError::Denied(format!("commit:{}", self.id)));
        }
        if !cx.login_succeeded() {
            return Ok(false);
        }
        cx.commit_proposed();
        Ok(true)
    }

    async fn abort(&self, cx: &mut ModuleContext<'_>) -> Result<bool, LoginError> {
        self.log("A");
        let had = cx.login_succeeded();
        cx.discard();
        Ok(had)
    }
}

fn flag(s: &str) -> Usage {
    match s {
        "REQUIRED" => Usage::Required,
        "REQUISITE" => Usage::Requisite,
        "SUFFICIENT" => Usage::Sufficient,
        "OPTIONAL" => Usage::Optional,
        other => panic!("unknown flag {other}"),
    }
}

#[test]
fn login_chain_matches_java_login_context_on_every_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/jaas-vectors/vectors.jsonl");
    let text = std::fs::read_to_string(path).expect("vectors.jsonl (run jaas-vectors/generate.sh)");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut checked = 0usize;
    let mut mismatches = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let flags: Vec<Usage> = v["flags"].as_str().unwrap().split(',').map(flag).collect();
        let login = v["login"].as_str().unwrap().as_bytes();
        let commit = v["commit"].as_str().unwrap().as_bytes();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let links: Vec<ChainLink> = flags
            .iter()
            .enumerate()
            .map(|(i, f)| ChainLink {
                name: format!("m{i}"),
                usage: *f,
                module: Arc::new(Scripted {
                    id: i,
                    login: login[i],
                    commit: commit[i],
                    calls: calls.clone(),
                }),
            })
            .collect();
        let chain = LoginChain::new(links);
        let mut attempt = Attempt::new(
            Credentials::password("u", "p"),
            Endpoint::default(),
            flags.len(),
        );
        let result = rt.block_on(chain.authenticate(&mut attempt));

        let got_result = if result.is_ok() { "success" } else { "failure" };
        let got_error = match &result {
            Ok(()) => None,
            Err(LoginError::Denied(d)) if d == ALL_IGNORED => {
                Some("Login Failure: all modules ignored".to_string())
            }
            Err(e) => Some(e.detail().to_string()),
        };
        let got_calls = calls.lock().unwrap().join(" ");
        let mut subject: Vec<String> = attempt.subject().roles().map(str::to_string).collect();
        subject.sort();
        let got_subject = subject.join(",");

        let want_error = v["error"].as_str().map(str::to_string);
        if got_result != v["result"].as_str().unwrap()
            || got_error != want_error
            || got_calls != v["calls"].as_str().unwrap()
            || (result.is_ok() && got_subject != v["subject"].as_str().unwrap())
        {
            mismatches.push(format!(
                "line {}: {line}\n   got: result={got_result} error={got_error:?} calls={got_calls} subject={got_subject}",
                n + 1
            ));
        }
        checked += 1;
    }
    assert_eq!(
        checked, 37_044,
        "the vector file changed size; regenerate and update this count deliberately"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {checked} vectors differ:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
