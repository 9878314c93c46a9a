//! `realm`: check, dump and convert Realm security configurations, and log in with them.
//!
//! Exit codes: 0 success, 1 login denied, 2 configuration error (clap's own usage errors also
//! exit with 2), 3 authentication backend unavailable.

mod input;
mod keychain_cmd;
mod users_cmd;

use clap::{Args, Parser, Subcommand, ValueEnum};
use realm_core::config::{self, ClassKind, Diagnostic, Loaded, Syntax};
use realm_core::{Credentials, Endpoint, LoginFailure, Registry, Security};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "realm",
    version,
    about = "Pluggable authentication realms: configuration tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check configuration files statically (no server is contacted). Prints `FILE: ok` per good
    /// file; errors go to stderr as FILE:LINE:COL: key.path: message, and the exit code is 2.
    Check {
        /// XML or YAML files (standalone security documents or full Hazelcast configurations).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Work with one configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Log in through a realm, as a server would: prints identity, roles and endpoint.
    /// Exit codes: 0 success, 1 denied, 2 configuration error, 3 backend unavailable.
    Login(LoginArgs),
    /// Hash a password (read from stdin) as an argon2id PHC string for a `simple` or `ini` realm.
    HashPassword {
        /// Read the password from standard input (one line); the only way to give it.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Manage the users of an ini file (Shiro format): add, passwd, roles, remove, list.
    Users {
        #[command(subcommand)]
        command: users_cmd::UsersCommand,
    },
    /// Manage a keychain of secrets keyed by URI (obfuscated or encrypted).
    Keychain {
        #[command(subcommand)]
        command: keychain_cmd::KeychainCommand,
    },
    /// Write the security section of FILE in the other syntax (to stdout, or --output).
    Convert {
        /// The file to convert.
        file: PathBuf,
        /// The syntax to write.
        #[arg(long, value_enum)]
        to: Format,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["realm", "member", "client"])))]
#[command(group(clap::ArgGroup::new("evidence").required(true).args(["password_stdin", "token_file"])))]
struct LoginArgs {
    /// The configuration file.
    #[arg(long)]
    config: PathBuf,
    /// The realm to log in to, by name.
    #[arg(long)]
    realm: Option<String>,
    /// The realm named by `member-authentication`.
    #[arg(long)]
    member: bool,
    /// The realm named by `client-authentication`.
    #[arg(long)]
    client: bool,
    /// The login name (with --password-stdin).
    #[arg(long, default_value = "")]
    username: String,
    /// Read the password from standard input (one line). Passwords are never taken from argv.
    #[arg(long)]
    password_stdin: bool,
    /// Present the contents of this file as a token instead of a password.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The peer address the realm sees (for address-based modules), e.g. 127.0.0.1:5701.
    #[arg(long)]
    endpoint: Option<SocketAddr>,
    /// Print the result as JSON: {"identity":…,"roles":[…],"endpoint":…}.
    #[arg(long)]
    json: bool,
    /// Print what each module did (to stderr).
    #[arg(long)]
    trace: bool,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the typed model as canonical JSON: sorted keys, defaults filled in, secrets redacted.
    Dump {
        /// The file to dump.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Xml,
    Yaml,
}

/// Everything this binary can build: the chain engine and the backends linked into it.
fn registry() -> Registry {
    let mut r = Registry::new();
    realm_jaas_chain::register(&mut r);
    realm_ini::register(&mut r);
    realm_kerberos::register(&mut r); // with realm_ldap's modules
    realm_tls::register(&mut r);
    realm_membership::register(&mut r);
    r
}

/// Class names this binary registers. A server program registers its own modules, so an unknown
/// name is a warning here, never an error.
fn known_class(registry: &Registry, kind: ClassKind, name: &str) -> bool {
    match kind {
        ClassKind::LoginModule => registry.login_module_names().any(|n| n == name),
        ClassKind::CredentialsFactory => registry.credentials_factory_names().any(|n| n == name),
    }
}

fn load(file: &Path) -> Result<Loaded, ExitCode> {
    match config::load_file(file) {
        Ok(loaded) => Ok(loaded),
        Err(err) => {
            for d in &err.diagnostics {
                eprintln!("{d}");
            }
            Err(ExitCode::from(2))
        }
    }
}

fn warnings(loaded: &Loaded) -> Vec<Diagnostic> {
    let registry = registry();
    let mut all = loaded.warnings.clone();
    for r in &loaded.class_refs {
        if !known_class(&registry, r.kind, &r.name) {
            let what = match r.kind {
                ClassKind::LoginModule => "login-module",
                ClassKind::CredentialsFactory => "credentials-factory",
            };
            all.push(loaded.class_warning(
                r,
                format!("{what} class `{}` is not registered in this `realm` binary (a server that registers it can use this configuration)", r.name),
            ));
        }
    }
    all.sort_by_key(|d| d.pos);
    all
}

fn login(args: LoginArgs) -> ExitCode {
    let loaded = match load(&args.config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    let security = match Security::from_config(&loaded.config, &registry()) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{}: {e}", args.config.display());
            }
            return ExitCode::from(2);
        }
    };
    let realm = match (&args.realm, args.member, args.client) {
        (Some(name), _, _) => security.realm(name).ok_or_else(|| {
            let names: Vec<&str> = security.realms().map(|r| r.name()).collect();
            format!(
                "no realm named `{name}` (defined realms: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            )
        }),
        (None, true, _) => security
            .member_authentication()
            .ok_or_else(|| "the configuration has no member-authentication section".to_string()),
        (None, _, _) => security
            .client_authentication()
            .ok_or_else(|| "the configuration has no client-authentication section".to_string()),
    };
    let realm = match realm {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{}: {msg}", args.config.display());
            return ExitCode::from(2);
        }
    };
    let credentials = match &args.token_file {
        Some(f) => match std::fs::read(f) {
            Ok(bytes) => Credentials::token(bytes),
            Err(e) => {
                eprintln!("{}: cannot read the token: {e}", f.display());
                return ExitCode::from(2);
            }
        },
        None => match input::read_line() {
            Ok(pw) => Credentials::password(args.username.clone(), pw),
            Err(e) => {
                eprintln!("cannot read the password from stdin: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let endpoint = args.endpoint.map(Endpoint::from_addr).unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let (result, trace) = runtime.block_on(realm.login_traced(credentials, endpoint));
    if args.trace {
        eprintln!("trace of realm `{}`:\n{trace}", realm.name());
    }
    let code = exit_code(&result);
    match result {
        Ok(subject) => {
            let roles: Vec<&str> = subject.roles().collect();
            if args.json {
                let json =
                    |v: Option<&str>| serde_json::to_string(&v).unwrap_or_else(|_| "null".into());
                let roles_json = serde_json::to_string(&roles).unwrap_or_else(|_| "[]".into());
                println!(
                    "{{\"identity\":{},\"roles\":{roles_json},\"endpoint\":{}}}",
                    json(subject.identity()),
                    json(subject.endpoint())
                );
            } else {
                println!("identity: {}", subject.identity().unwrap_or("-"));
                println!(
                    "roles:    {}",
                    if roles.is_empty() {
                        "-".to_string()
                    } else {
                        roles.join(", ")
                    }
                );
                println!("endpoint: {}", subject.endpoint().unwrap_or("-"));
            }
        }
        Err(LoginFailure::Denied) => eprintln!("denied: authentication failed"),
        Err(LoginFailure::Unavailable(cause)) => eprintln!("unavailable: {cause}"),
        Err(e) => eprintln!("{e}"),
    }
    ExitCode::from(code)
}

/// The documented exit codes: 0 success, 1 denied, 2 configuration, 3 unavailable.
fn exit_code(result: &Result<realm_core::Subject, LoginFailure>) -> u8 {
    match result {
        Ok(_) => 0,
        Err(LoginFailure::Denied) => 1,
        Err(LoginFailure::Unavailable(_)) => 3,
        Err(_) => 2,
    }
}

fn hash_password() -> ExitCode {
    let password = match input::read_line() {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            eprintln!("refusing to hash an empty password: it never authenticates");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("cannot read the password from stdin: {e}");
            return ExitCode::from(2);
        }
    };
    match input::hash_new_password(&password) {
        Ok(phc) => {
            println!("{phc}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Library logs (build warnings, backend trouble) go to stderr; never secrets.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .with_target(false)
        .without_time()
        .try_init();
    match cli.command {
        Command::Login(args) => login(args),
        Command::HashPassword { .. } => hash_password(),
        Command::Users { command } => users_cmd::run(command),
        Command::Keychain { command } => keychain_cmd::run(command),
        Command::Check { files } => {
            let mut failed = false;
            for f in &files {
                match load(f) {
                    Ok(loaded) => {
                        for w in warnings(&loaded) {
                            eprintln!("{w}");
                        }
                        println!("{}: ok", f.display());
                    }
                    Err(_) => failed = true,
                }
            }
            if failed {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Config {
            command: ConfigCommand::Dump { file },
        } => match load(&file) {
            Ok(loaded) => {
                print!("{}", loaded.dump());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Convert { file, to, output } => match load(&file) {
            Ok(loaded) => {
                let syntax = match to {
                    Format::Xml => Syntax::Xml,
                    Format::Yaml => Syntax::Yaml,
                };
                let text = loaded.convert(syntax);
                match output {
                    Some(out) => match std::fs::write(&out, text) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("{}: cannot write: {e}", out.display());
                            ExitCode::from(2)
                        }
                    },
                    None => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                }
            }
            Err(code) => code,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_login_outcome_has_its_exit_code() {
        assert_eq!(exit_code(&Ok(realm_core::Subject::new())), 0);
        assert_eq!(exit_code(&Err(LoginFailure::Denied)), 1);
        assert_eq!(exit_code(&Err(LoginFailure::Config("x".into()))), 2);
        assert_eq!(
            exit_code(&Err(LoginFailure::Unavailable("ldap down".into()))),
            3
        );
    }
}
