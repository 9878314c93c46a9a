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
use realm_core::config::AuthenticationConfig;
use realm_examples::{Limits, Setup, serve, serve_tls, setup};
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
    /// Serve over mutual TLS: clients must present a certificate chaining to the CA. The files
    /// are the served `tls` realm's `certificate-file`, `key-file`, `ca-file` (and `crl-file`),
    /// unless given below.
    #[arg(long)]
    tls: bool,
    /// This server's certificate chain (PEM), with --tls.
    #[arg(long, requires = "tls")]
    tls_cert: Option<PathBuf>,
    /// This server's private key (PEM), with --tls.
    #[arg(long, requires = "tls")]
    tls_key: Option<PathBuf>,
    /// The CA client certificates must chain to (PEM), with --tls.
    #[arg(long, requires = "tls")]
    tls_ca: Option<PathBuf>,
    /// Revoked certificates (PEM CRLs), with --tls.
    #[arg(long, requires = "tls")]
    tls_crl: Option<PathBuf>,
    /// With --tls: ask clients for no certificate (they log in with a password or token over a
    /// server-authenticated connection).
    #[arg(long, requires = "tls")]
    tls_no_client_cert: bool,
    /// Refuse accepted peers that hold none of these roles (comma-separated).
    #[arg(long, value_delimiter = ',')]
    require_role: Vec<String>,
}

/// The TLS files: the flags, else the served realm's `tls` options.
fn tls_files(args: &Args, setup: &Setup) -> Result<realm_tls::TlsFiles, String> {
    let realm_tls = setup
        .config
        .realm(setup.service.realm_name())
        .and_then(|r| match &r.authentication {
            Some(AuthenticationConfig::Tls(t)) => Some(t.clone()),
            _ => None,
        });
    let pick = |flag: &Option<PathBuf>, from: Option<PathBuf>, what: &str| {
        flag.clone().or(from).ok_or_else(|| {
            format!(
                "--tls needs {what}: give --tls-{} or set it in the served tls realm",
                what.split('-').next().unwrap_or(what)
            )
        })
    };
    let t = realm_tls.as_ref();
    Ok(realm_tls::TlsFiles {
        certificate: pick(
            &args.tls_cert,
            t.and_then(|t| t.certificate_file.clone()),
            "cert-file (certificate-file)",
        )?,
        key: pick(
            &args.tls_key,
            t.and_then(|t| t.key_file.clone()),
            "key-file",
        )?,
        ca: if args.tls_no_client_cert {
            args.tls_ca.clone().unwrap_or_default()
        } else {
            pick(&args.tls_ca, t.and_then(|t| t.ca_file.clone()), "ca-file")?
        },
        crl: args.tls_crl.clone().or(t.and_then(|t| t.crl_file.clone())),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let setup = match setup(&args.config, args.realm.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("server: cannot serve {}", args.config.display());
            return ExitCode::from(2);
        }
    };
    for w in &setup.warnings {
        eprintln!("warning: {w}");
    }
    let tls = if args.tls {
        match tls_files(&args, &setup).and_then(|f| {
            if args.tls_no_client_cert {
                realm_tls::server_config_without_client_certificates(&f.certificate, &f.key)
            } else {
                realm_tls::server_config(&f)
            }
            .map_err(|e| format!("TLS setup: {e}"))
        }) {
            Ok(c) => Some(tokio_rustls::TlsAcceptor::from(c)),
            Err(e) => {
                eprintln!("server: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let service = setup.service.require_any_role(args.require_role.clone());
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
        "server: realm `{}` from {}, listening on {addr}{} (one JSON request per line; Ctrl-C stops)",
        service.realm_name(),
        args.config.display(),
        if tls.is_some() {
            " with mutual TLS"
        } else {
            ""
        }
    );
    match tls {
        Some(acceptor) => serve_tls(listener, acceptor, service, Limits::default()).await,
        None => serve(listener, service).await,
    }
    ExitCode::SUCCESS
}
