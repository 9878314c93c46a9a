//! `client`: sends one login request to the example `server` and prints the response line.
//!
//! ```sh
//! printf '%s' wonderland | cargo run -q -p realm-examples --bin client -- --username alice --password-stdin
//! ```
//!
//! With `--identity CONFIG`, the credentials are those the identity of a realm of that
//! configuration makes for the server (e.g. a Kerberos service ticket for `hz/<server IP>`):
//!
//! ```sh
//! cargo run -q -p realm-examples --bin client -- --identity examples/kerberos/client.yaml
//! ```
//!
//! Exit codes: 0 accepted, 1 denied, 2 usage error or a request the server could not read,
//! 3 unavailable (the server said so, or could not be reached, or the identity's backend, such
//! as the KDC, could not be).

use clap::Parser;
use realm_core::LoginFailure;
use realm_examples::{Client, IdentityError, Request, Response, authenticate, identity_request};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Logs in to the example server and prints its JSON response.
#[derive(Parser)]
#[command(name = "client", version)]
#[command(group(clap::ArgGroup::new("evidence").required(true).args(["password_stdin", "token_file", "identity", "certificate"])))]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    connect: String,
    /// The login name (with --password-stdin).
    #[arg(long, requires = "password_stdin")]
    username: Option<String>,
    /// Read the password from standard input (the first line, without its newline). Passwords
    /// are never taken from the command line, where `ps` and shell history would show them.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Present this file's exact bytes as a token instead of a password.
    #[arg(long, conflicts_with = "username")]
    token_file: Option<PathBuf>,
    /// Present the credentials a realm's identity of this configuration makes for the server
    /// (a Kerberos ticket, a keychain password, ...).
    #[arg(long, conflicts_with_all = ["username", "token_file"])]
    identity: Option<PathBuf>,
    /// The realm whose identity to present (default: the only realm with an identity).
    #[arg(long, requires = "identity")]
    identity_realm: Option<String>,
    /// Present this certificate chain (PEM) over TLS; needs --tls-key and --tls-ca.
    #[arg(long, requires_all = ["tls_key", "tls_ca"])]
    tls_cert: Option<PathBuf>,
    /// The client's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Connect over TLS, trusting servers whose certificate chains to this CA (PEM).
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// The name the server's certificate must be for (default: the host of --connect).
    #[arg(long, requires = "tls_ca")]
    server_name: Option<String>,
    /// Log in with the TLS client certificate itself (needs --tls-cert).
    #[arg(long, requires = "tls_cert")]
    certificate: bool,
}

fn read_password() -> std::io::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let line = input.split('\n').next().unwrap_or("");
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let request = match (&args.token_file, &args.username) {
        _ if args.certificate => Request::Certificate,
        _ if args.identity.is_some() => {
            let config = args.identity.clone().unwrap_or_default();
            let server = match tokio::net::lookup_host(args.connect.as_str())
                .await
                .ok()
                .and_then(|mut a| a.next())
            {
                Some(a) => a,
                None => {
                    eprintln!("client: {}: not an address", args.connect);
                    return ExitCode::from(2);
                }
            };
            match identity_request(&config, args.identity_realm.as_deref(), server).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("client: {}: {e}", config.display());
                    return match e {
                        IdentityError::Credentials(LoginFailure::Unavailable(_)) => {
                            ExitCode::from(3)
                        }
                        _ => ExitCode::from(2),
                    };
                }
            }
        }
        (Some(file), _) => match std::fs::read(file) {
            Ok(bytes) => Request::token(bytes),
            Err(e) => {
                eprintln!("client: {}: cannot read the token: {e}", file.display());
                return ExitCode::from(2);
            }
        },
        (None, username) => match read_password() {
            Ok(password) => Request::password(username.clone().unwrap_or_default(), password),
            Err(e) => {
                eprintln!("client: cannot read the password from stdin: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let sent = match &args.tls_ca {
        Some(ca) => {
            let config = match &args.tls_cert {
                Some(cert) => realm_tls::client_config(&realm_tls::TlsFiles {
                    certificate: cert.clone(),
                    key: args.tls_key.clone().unwrap_or_default(),
                    ca: ca.clone(),
                    crl: None,
                }),
                None => realm_tls::client_config_without_certificate(ca),
            };
            let config = match config {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("client: TLS setup: {e}");
                    return ExitCode::from(2);
                }
            };
            let host = args
                .connect
                .rsplit_once(':')
                .map_or(args.connect.as_str(), |(h, _)| h);
            let name = args.server_name.clone().unwrap_or_else(|| host.to_string());
            match Client::connect_tls(args.connect.as_str(), config, &name).await {
                Ok(mut c) => c.send(&request).await,
                Err(e) => Err(e),
            }
        }
        None => authenticate(args.connect.as_str(), &request).await,
    };
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            eprintln!("client: {}: {e}", args.connect);
            return ExitCode::from(3);
        }
    };
    println!("{}", response.to_json());
    match response {
        Response::Accepted { .. } => ExitCode::SUCCESS,
        Response::Denied => ExitCode::from(1),
        Response::BadRequest => ExitCode::from(2),
        Response::Unavailable => ExitCode::from(3),
    }
}
