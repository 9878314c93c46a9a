//! `server`: authenticates clients with a named realm over the JSON-lines protocol of
//! [`realm_examples`].
//!
//! ```sh
//! cargo run -p realm-examples --bin server -- --config examples/configs/embedded.yaml
//! ```
//!
//! Exit codes: 2 for a configuration that cannot be loaded or built, or that names no realm to
//! serve; 1 if the address cannot be bound.

use clap::Parser;
use realm_examples::{Setup, serve, setup};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Authenticates clients with a realm, one JSON request per line over TCP.
#[derive(Parser)]
#[command(name = "server", version)]
struct Args {
    /// The configuration file (XML or YAML; a standalone security document or a full Hazelcast
    /// configuration).
    #[arg(long)]
    config: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Serve this realm instead of the one `client-authentication` names.
    #[arg(long)]
    realm: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let Setup { service, warnings } = match setup(&args.config, args.realm.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("server: cannot serve {}", args.config.display());
            return ExitCode::from(2);
        }
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    // Installed after the build, whose warnings were just printed (and would be logged twice).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();

    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("server: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let addr = listener.local_addr().unwrap_or(args.listen);
    eprintln!(
        "server: realm `{}` from {}, listening on {addr} (one JSON request per line; Ctrl-C stops)",
        service.realm_name(),
        args.config.display()
    );
    serve(listener, service).await;
    ExitCode::SUCCESS
}
