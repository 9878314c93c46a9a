//! `cluster`: members joining a cluster over loopback, checked by a membership realm.
//!
//! ```sh
//! cluster coordinator --config examples/cluster/join.yaml --name m1 --listen 127.0.0.1:7800
//! cluster join --connect 127.0.0.1:7800 --name m2 --cert m2.pem --key m2.key
//! ```
//!
//! The coordinator serves the realm its configuration's `member-authentication` names (e.g.
//! REQUIRED fixed membership + REQUIRED X.509 challenge). The exchange, one JSON object per
//! line: the joiner sends `{"join":"<name>"}`; the coordinator answers
//! `{"challenge":"<base64>"}` (a fresh challenge for this connection); the joiner sends
//! `{"response":"<base64>"}` (the challenge signed with its certificate's key); the coordinator
//! answers `{"ok":true,"identity":…}` or `{"ok":false,"error":"denied"}` and logs why.
//!
//! For demonstrations and tests the joiner can `--save-response FILE` (what an eavesdropper
//! captures) and `--replay FILE` (send a captured response instead of answering), and
//! `--bind IP` (connect from another local address).
//!
//! Exit codes (join): 0 joined, 1 refused, 2 usage or setup error, 3 coordinator unreachable.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Parser, Subcommand};
use realm_core::{Credentials, Endpoint, LoginFailure};
use realm_membership::{Challenger, Prover};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket};

type Reader = BufReader<Box<dyn AsyncRead + Unpin + Send>>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

fn split<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(s: S) -> (Reader, Writer) {
    let (r, w) = tokio::io::split(s);
    (BufReader::new(Box::new(r)), Box::new(w))
}

#[derive(Parser)]
#[command(name = "cluster", version)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Accept joining members.
    Coordinator {
        /// The configuration (its member-authentication realm checks joiners).
        #[arg(long)]
        config: PathBuf,
        /// This member's name (challenges carry it).
        #[arg(long)]
        name: String,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:7800")]
        listen: SocketAddr,
        /// Serve the exchange over TLS with this certificate (PEM), so that joiners know they
        /// talk to the coordinator; needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The coordinator's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Join a coordinator.
    Join {
        /// The coordinator's address.
        #[arg(long)]
        connect: SocketAddr,
        /// This member's name.
        #[arg(long)]
        name: String,
        /// The coordinator's name (a challenge from anyone else is not answered).
        #[arg(long, default_value = "m1")]
        coordinator: String,
        /// This member's certificate (PEM, issued by the cluster CA).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Its private key (PEM).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Connect from this local address.
        #[arg(long)]
        bind: Option<std::net::IpAddr>,
        /// Write the response sent to this file (what an eavesdropper would capture).
        #[arg(long)]
        save_response: Option<PathBuf>,
        /// Send this captured response instead of answering the challenge.
        #[arg(long, conflicts_with_all = ["cert", "key"])]
        replay: Option<PathBuf>,
        /// Connect over TLS, trusting a coordinator whose certificate chains to this CA (PEM)
        /// and is for the host of --connect.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match Args::parse().command {
        Cmd::Coordinator {
            config,
            name,
            listen,
            tls_cert,
            tls_key,
        } => coordinator(config, name, listen, tls_cert.zip(tls_key)).await,
        Cmd::Join {
            connect,
            name,
            coordinator,
            cert,
            key,
            bind,
            save_response,
            replay,
            tls_ca,
        } => {
            join(JoinArgs {
                tls_ca,
                connect,
                name,
                coordinator,
                cert,
                key,
                bind,
                save_response,
                replay,
            })
            .await
        }
    }
}

async fn coordinator(
    config: PathBuf,
    name: String,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
) -> ExitCode {
    let tls = match tls {
        Some((cert, key)) => {
            match realm_tls::server_config_without_client_certificates(&cert, &key) {
                Ok(c) => Some(tokio_rustls::TlsAcceptor::from(c)),
                Err(e) => {
                    eprintln!("cluster: TLS setup: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        None => {
            eprintln!(
                "warning: the join exchange runs over plain TCP: a joiner cannot tell the \
                 coordinator from an impostor relaying its challenges (use --tls-cert/--tls-key)"
            );
            None
        }
    };
    let challenger = match Challenger::new(name.clone(), Duration::from_secs(30)) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("cluster: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = match realm_core::config::load_file(&config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut registry = realm_examples::registry();
    realm_membership::register(&mut registry);
    realm_membership::register_x509_challenge(&mut registry, challenger.clone());
    let security = match realm_core::Security::from_config(&loaded.config, &registry) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    for w in security.warnings() {
        eprintln!("warning: {w}");
    }
    if security.member_authentication().is_none() {
        eprintln!(
            "cluster: {}: no member-authentication realm",
            config.display()
        );
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cluster: cannot listen on {listen}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "cluster: {name} coordinates on {}",
        listener.local_addr().unwrap_or(listen)
    );
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let security = security.clone();
        let challenger = challenger.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let io = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => split(s),
                        _ => {
                            tracing::info!(%peer, "TLS handshake failed");
                            return;
                        }
                    }
                }
                None => split(stream),
            };
            if let Err(e) = admit(io, peer, &security, &challenger).await {
                tracing::info!(%peer, error = %e, "join exchange failed");
            }
        });
    }
}

async fn read_json(reader: &mut Reader) -> Result<Value, String> {
    let mut line = String::new();
    let n = tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    if n == 0 || n > 64 * 1024 {
        return Err("closed or over-long line".into());
    }
    serde_json::from_str(&line).map_err(|_| "not JSON".to_string())
}

async fn write_json(w: &mut Writer, v: &Value) -> Result<(), String> {
    let mut line = v.to_string();
    line.push('\n');
    w.write_all(line.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    w.flush().await.map_err(|e| e.to_string())
}

/// One join: challenge, response, verdict.
async fn admit(
    (mut r, mut w): (Reader, Writer),
    peer: SocketAddr,
    security: &realm_core::Security,
    challenger: &Challenger,
) -> Result<(), String> {
    let hello = read_json(&mut r).await?;
    let name = hello
        .get("join")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= 255 && !n.chars().any(char::is_control))
        .ok_or("expected {\"join\":\"<name>\"}")?
        .to_string();
    let endpoint = Endpoint {
        address: Some(peer),
        logical_name: Some(name.clone()),
        peer_certificates: Vec::new(),
    };
    let challenge = challenger.challenge(&endpoint)?;
    write_json(
        &mut w,
        &json!({ "challenge": B64.encode(challenge.to_bytes()) }),
    )
    .await?;
    let answer = read_json(&mut r).await?;
    let response = answer
        .get("response")
        .and_then(Value::as_str)
        .and_then(|s| B64.decode(s).ok())
        .ok_or("expected {\"response\":\"<base64>\"}")?;
    let Some(realm) = security.member_authentication() else {
        return Err("no member-authentication realm".into());
    };
    let (result, trace) = realm
        .login_traced(Credentials::token(response), endpoint)
        .await;
    let reply = match &result {
        Ok(s) => {
            eprintln!(
                "cluster: {name:?} from {peer} joined as {}",
                s.identity().unwrap_or("?")
            );
            json!({"ok": true, "identity": s.identity()})
        }
        Err(e) => {
            let why: Vec<String> = trace
                .steps
                .iter()
                .filter(|s| s.outcome.starts_with("denied") || s.outcome.starts_with("unavailable"))
                .map(|s| s.outcome.clone())
                .collect();
            eprintln!("cluster: {name:?} from {peer} refused: {}", why.join("; "));
            match e {
                LoginFailure::Denied => json!({"ok": false, "error": "denied"}),
                _ => json!({"ok": false, "error": "unavailable"}),
            }
        }
    };
    write_json(&mut w, &reply).await
}

struct JoinArgs {
    connect: SocketAddr,
    name: String,
    coordinator: String,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    bind: Option<std::net::IpAddr>,
    save_response: Option<PathBuf>,
    replay: Option<PathBuf>,
    tls_ca: Option<PathBuf>,
}

async fn join(a: JoinArgs) -> ExitCode {
    let prover = match (&a.cert, &a.key, &a.replay) {
        (Some(c), Some(k), None) => match Prover::from_pem_files(c, k) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("cluster: {e}");
                return ExitCode::from(2);
            }
        },
        (None, None, Some(_)) => None,
        _ => {
            eprintln!("cluster: give --cert and --key, or --replay");
            return ExitCode::from(2);
        }
    };
    let stream = async {
        let socket = if a.connect.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }?;
        if let Some(ip) = a.bind {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        socket.connect(a.connect).await
    };
    let stream = match tokio::time::timeout(Duration::from_secs(10), stream).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            eprintln!("cluster: {}: {e}", a.connect);
            return ExitCode::from(3);
        }
        Err(_) => {
            eprintln!("cluster: {}: timed out", a.connect);
            return ExitCode::from(3);
        }
    };
    let (mut r, mut w) = match &a.tls_ca {
        Some(ca) => {
            let config = match realm_tls::client_config_without_certificate(ca) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("cluster: TLS setup: {e}");
                    return ExitCode::from(2);
                }
            };
            let name = match rustls::pki_types::ServerName::try_from(a.connect.ip().to_string()) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("cluster: {e}");
                    return ExitCode::from(2);
                }
            };
            let connector = tokio_rustls::TlsConnector::from(config);
            match tokio::time::timeout(Duration::from_secs(10), connector.connect(name, stream))
                .await
            {
                Ok(Ok(s)) => split(s),
                Ok(Err(e)) => {
                    eprintln!("cluster: {}: TLS: {e} (not the coordinator?)", a.connect);
                    return ExitCode::from(1);
                }
                Err(_) => {
                    eprintln!("cluster: {}: TLS handshake timed out", a.connect);
                    return ExitCode::from(3);
                }
            }
        }
        None => split(stream),
    };
    let exchange = async {
        write_json(&mut w, &json!({ "join": a.name })).await?;
        let challenge = read_json(&mut r)
            .await?
            .get("challenge")
            .and_then(Value::as_str)
            .and_then(|s| B64.decode(s).ok())
            .ok_or("the coordinator sent no challenge")?;
        let response = match (&prover, &a.replay) {
            (Some(p), _) => p.respond(&challenge, &a.coordinator)?,
            (None, Some(file)) => {
                std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?
            }
            _ => return Err("nothing to answer with".to_string()),
        };
        if let Some(file) = &a.save_response {
            std::fs::write(file, &response).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        write_json(&mut w, &json!({ "response": B64.encode(&response) })).await?;
        read_json(&mut r).await
    };
    match exchange.await {
        Ok(v) => {
            println!("{v}");
            if v.get("ok") == Some(&Value::Bool(true)) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("cluster: {e}");
            ExitCode::from(1)
        }
    }
}
