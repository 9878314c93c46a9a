//! `demo`: the example server and client in one process, over real TCP, with a transcript.
//!
//! ```sh
//! cargo run -q -p realm-examples --bin demo [CONFIG]
//! ```
//!
//! Without an argument it serves `examples/configs/embedded.yaml` (found next to this crate's
//! manifest). Exit code 0 when every exchange went as expected, 1 otherwise, 2 if the
//! configuration cannot be used.

use realm_examples::{Client, Request, Response, setup};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What an exchange should produce.
enum Expect {
    /// Accepted with this identity and exactly these roles.
    Accepted(&'static str, &'static [&'static str]),
    /// `denied`.
    Denied,
    /// `denied`, with a response line byte-for-byte equal to that of exchange `n` (1-based).
    DeniedSameAs(usize),
}

/// One login the demo client tries.
struct Exchange {
    title: &'static str,
    request: Request,
    expect: Expect,
}

fn exchanges() -> Vec<Exchange> {
    vec![
        Exchange {
            title: "alice, with her password",
            request: Request::password("alice", "wonderland"),
            expect: Expect::Accepted("alice", &["admin", "monitor"]),
        },
        Exchange {
            title: "bob, with his password",
            request: Request::password("bob", "builder"),
            expect: Expect::Accepted("bob", &["monitor"]),
        },
        Exchange {
            title: "alice, with a wrong password",
            request: Request::password("alice", "looking-glass"),
            expect: Expect::Denied,
        },
        Exchange {
            title: "mallory, a user who does not exist",
            request: Request::password("mallory", "looking-glass"),
            expect: Expect::DeniedSameAs(3),
        },
        Exchange {
            title: "alice, with an empty password",
            request: Request::password("alice", ""),
            expect: Expect::Denied,
        },
    ]
}

/// The server's log, collected so the transcript can show it under each exchange.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    fn drain(&self) -> String {
        let mut buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        text
    }
}

impl Write for LogBuffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn default_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join("embedded.yaml")
}

/// `path` relative to the working directory when it is below it (shorter, and what a reader
/// would type).
fn shown(path: &Path) -> String {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| canonical.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(canonical)
        .display()
        .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let started = Instant::now();
    let config = std::env::args_os()
        .nth(1)
        .map_or_else(default_config, PathBuf::from);

    let log = LogBuffer::default();
    // The server's log goes to a buffer, shown under each exchange. Only realm-core's own line
    // per login is shown (it carries the reason); the server's access log says the same again.
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        use tracing_subscriber::{Layer as _, filter};
        let writer = log.clone();
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || writer.clone())
                    .with_ansi(false)
                    .without_time()
                    .with_target(false)
                    .with_level(false)
                    .with_filter(filter::filter_fn(|m| m.target().starts_with("realm_core"))),
            )
            .init();
    }

    let setup = match setup(&config, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("demo: cannot use {}", config.display());
            return ExitCode::from(2);
        }
    };
    let _ = log.drain(); // build-time warnings are printed below, once
    for w in &setup.warnings {
        eprintln!("warning: {w}");
    }
    let realm = setup.service.realm_name().to_string();

    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: cannot listen on 127.0.0.1: {e}");
            return ExitCode::from(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(1);
        }
    };
    let server = tokio::spawn(realm_examples::serve(listener, setup.service));

    println!("Realm demo: a TCP server authenticates clients with the `{realm}` realm");
    println!(
        "of {}; the client sends one JSON line per login.",
        shown(&config)
    );
    println!("Server listening on {addr}.");

    let mut client = match Client::connect(addr).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("demo: cannot connect to {addr}: {e}");
            return ExitCode::from(1);
        }
    };

    let mut replies: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for (i, ex) in exchanges().into_iter().enumerate() {
        let n = i + 1;
        println!();
        println!("{n}. {}", ex.title);
        println!("   client sent      {}", ex.request.to_masked_json());
        let reply = match client.send_line(&ex.request.to_json()).await {
            Ok(r) => r,
            Err(e) => {
                println!("   client received  nothing: {e}");
                failures.push(format!("exchange {n}: {e}"));
                break;
            }
        };
        println!("   client received  {reply}");
        for line in log.drain().lines() {
            println!("   server log       {}", line.trim());
        }
        let verdict = check(&ex.expect, &reply, &replies);
        match &verdict {
            Ok(good) => println!("   as expected: {good}"),
            Err(bad) => {
                println!("   UNEXPECTED: {bad}");
                failures.push(format!("exchange {n} ({}): {bad}", ex.title));
            }
        }
        replies.push(reply);
    }
    server.abort();

    println!();
    if failures.is_empty() {
        println!(
            "All {} exchanges went as expected ({:.1} s). The client only ever learns \"denied\";",
            replies.len(),
            started.elapsed().as_secs_f64()
        );
        println!("why is in the server's log. Next, run the server and client yourself:");
        println!(
            "  cargo run -q -p realm-examples --bin server -- --config examples/configs/embedded.yaml"
        );
        println!(
            "  printf '%s' wonderland | cargo run -q -p realm-examples --bin client -- --username alice --password-stdin"
        );
        println!("(examples/README.md explains the protocol and the programs.)");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "demo: {} exchange(s) did not go as expected:",
            failures.len()
        );
        for f in &failures {
            eprintln!("  {f}");
        }
        ExitCode::from(1)
    }
}

/// Checks a reply against the expectation: `Ok(what happened)` or `Err(what went wrong)`.
fn check(expect: &Expect, reply: &str, earlier: &[String]) -> Result<String, String> {
    let response = Response::from_json(reply).map_err(|e| format!("unreadable response: {e}"))?;
    match (expect, &response) {
        (
            Expect::Accepted(who, want_roles),
            Response::Accepted {
                identity, roles, ..
            },
        ) => {
            if identity.as_deref() != Some(*who)
                || roles
                    .iter()
                    .map(String::as_str)
                    .ne(want_roles.iter().copied())
            {
                return Err(format!(
                    "expected {who} with roles {}, got {response}",
                    want_roles.join(", ")
                ));
            }
            Ok(format!("accepted as {who}, roles {}", roles.join(", ")))
        }
        (Expect::Denied, Response::Denied) => Ok("denied".into()),
        (Expect::DeniedSameAs(n), Response::Denied) => match earlier.get(n.saturating_sub(1)) {
            Some(other) if other == reply => Ok(format!(
                "denied, byte for byte the reply to {n}: an unknown user looks like a wrong password"
            )),
            Some(other) => Err(format!(
                "denied, but the reply differs from {n}'s ({other})"
            )),
            None => Err(format!("exchange {n} has no reply to compare with")),
        },
        (Expect::Accepted(who, _), _) => {
            Err(format!("expected {who} to be accepted, got {response}"))
        }
        (Expect::Denied | Expect::DeniedSameAs(_), _) => {
            Err(format!("expected denied, got {response}"))
        }
    }
}
