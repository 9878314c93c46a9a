//! `realm`: check, dump and convert Realm security configurations.
//!
//! Exit codes: 0 success, 2 configuration error (and 1 for a usage error reported by clap is
//! avoided: clap's own usage errors also exit with 2).

use clap::{Parser, Subcommand, ValueEnum};
use realm_core::config::{self, ClassKind, Diagnostic, Loaded, Syntax};
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

/// Class names this binary registers. A server program registers its own modules, so an unknown
/// name is a warning here, never an error.
fn known_class(_kind: ClassKind, _name: &str) -> bool {
    false
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
    let mut all = loaded.warnings.clone();
    for r in &loaded.class_refs {
        if !known_class(r.kind, &r.name) {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
