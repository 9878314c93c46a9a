//! `realm keychain`: create and edit keychain files (secrets keyed by URI), as Terracotta's
//! `keychain` script does: `-O` for an obfuscated file, `-c` to create the file with the first
//! entry, URIs such as `tc://user@host:port`, `jks:alias@/path/to/store`, `jmx://user@host:port`.
//!
//! Passwords never come from the command line: an entry's password is typed twice at a prompt or
//! read from stdin (`--password-stdin`); the master password of an encrypted keychain comes from
//! `--master-password-env VAR`, `--master-password-file F`, else the environment variable
//! `REALM_KEYCHAIN_PASSWORD`, else a prompt (twice when a keychain is created).
//!
//! Exit codes: 0 done, 1 no entry for the URI (`get`, `remove`), 2 any error (wrong master
//! password, tampered file, wrong mode, I/O, usage).

use clap::{Args, Subcommand};
use realm_core::Secret;
use realm_core::keychain::{Keychain, KeychainError, KeychainMode, MasterPasswordSource};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The environment variable read for the master password when no flag names a source.
const MASTER_ENV: &str = "REALM_KEYCHAIN_PASSWORD";

/// Printed whenever an obfuscated keychain is created or written.
const OBFUSCATION_WARNING: &str = "warning: this keychain is OBFUSCATED, NOT ENCRYPTED: anyone who can read the file can recover every password in it. Obfuscation only keeps passwords from being read over a shoulder; protect the file (it is written with mode 0600) or use an encrypted keychain (without -O).";

/// Where the master password of an encrypted keychain comes from (at most one of these; without
/// either, `REALM_KEYCHAIN_PASSWORD` if set, else a prompt).
#[derive(Args)]
#[group(multiple = false)]
pub struct MasterArgs {
    /// Read the master password from this environment variable.
    #[arg(long, value_name = "VAR")]
    master_password_env: Option<String>,
    /// Read the master password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    master_password_file: Option<PathBuf>,
}

/// `realm keychain` subcommands.
#[derive(Subcommand)]
pub enum KeychainCommand {
    /// Create an empty keychain: encrypted with a master password, or obfuscated with -O.
    Create {
        /// The keychain file to create.
        file: PathBuf,
        /// Obfuscated, not encrypted: NO protection against anyone who can read the file.
        #[arg(short = 'O', long, conflicts_with_all = ["master_password_env", "master_password_file"])]
        obfuscated: bool,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        master: MasterArgs,
    },
    /// Store a password for URI (prompted twice, or one line from stdin with --password-stdin).
    Add {
        /// The keychain file.
        file: PathBuf,
        /// The URI the password is for, e.g. tc://user@host:9510 or jks:alias@/path/store.jks.
        uri: String,
        /// Create FILE if it does not exist.
        #[arg(short = 'c', long)]
        create: bool,
        /// The keychain is (or, with -c, is created) obfuscated: no master password.
        #[arg(short = 'O', long, conflicts_with_all = ["master_password_env", "master_password_file"])]
        obfuscated: bool,
        /// Read the password from standard input (one line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        master: MasterArgs,
    },
    /// Print the password stored for URI to standard output.
    Get {
        /// The keychain file.
        file: PathBuf,
        /// The URI, exactly as stored.
        uri: String,
        #[command(flatten)]
        master: MasterArgs,
    },
    /// List the URIs of the keychain (never the passwords), sorted.
    List {
        /// The keychain file.
        file: PathBuf,
        #[command(flatten)]
        master: MasterArgs,
    },
    /// Remove the password stored for URI.
    Remove {
        /// The keychain file.
        file: PathBuf,
        /// The URI, exactly as stored.
        uri: String,
        #[command(flatten)]
        master: MasterArgs,
    },
}

/// Why a subcommand did not succeed.
enum Failure {
    /// No entry for the URI: exit code 1.
    NotFound(String),
    /// Anything else: exit code 2.
    Error(String),
}

impl From<KeychainError> for Failure {
    fn from(e: KeychainError) -> Self {
        Failure::Error(e.to_string())
    }
}

/// Runs a `realm keychain` subcommand.
pub fn run(cmd: KeychainCommand) -> ExitCode {
    let result = match cmd {
        KeychainCommand::Create {
            file,
            obfuscated,
            force,
            master,
        } => create(&file, obfuscated, force, &master),
        KeychainCommand::Add {
            file,
            uri,
            create,
            obfuscated,
            password_stdin,
            master,
        } => add(&file, &uri, create, obfuscated, password_stdin, &master),
        KeychainCommand::Get { file, uri, master } => get(&file, &uri, &master),
        KeychainCommand::List { file, master } => list(&file, &master),
        KeychainCommand::Remove { file, uri, master } => remove(&file, &uri, &master),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::NotFound(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
        Err(Failure::Error(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn create(file: &Path, obfuscated: bool, force: bool, master: &MasterArgs) -> Result<(), Failure> {
    if exists(file)? && !force {
        return Err(Failure::Error(format!(
            "{}: already exists (use --force to overwrite it)",
            file.display()
        )));
    }
    let keychain = new_keychain(file, obfuscated, master)?;
    keychain.save(file)?;
    println!(
        "Keychain file successfully created in {} ({})",
        file.display(),
        describe(keychain.mode())
    );
    if obfuscated {
        eprintln!("{OBFUSCATION_WARNING}");
    }
    Ok(())
}

fn add(
    file: &Path,
    uri: &str,
    create: bool,
    obfuscated: bool,
    password_stdin: bool,
    master: &MasterArgs,
) -> Result<(), Failure> {
    check_uri(uri)?;
    let created = !exists(file)?;
    let mut keychain = if created {
        if !create {
            return Err(Failure::Error(format!(
                "{}: no such keychain (use -c to create it)",
                file.display()
            )));
        }
        new_keychain(file, obfuscated, master)?
    } else {
        open(file, master, obfuscated)?
    };
    // The keychain is open (the master password is right) before the entry's password is asked.
    let password = if password_stdin {
        read_stdin_line()?
    } else {
        prompt_twice(
            &format!("Enter the password you wish to associate with {uri}: "),
            &format!("Confirm the password to associate with {uri}: "),
        )?
    };
    if password.is_empty() {
        return Err(Failure::Error(format!(
            "refusing to store an empty password for {uri}"
        )));
    }
    keychain.insert(uri, password);
    keychain.save(file)?;
    if created {
        println!(
            "Keychain file successfully created in {} ({})",
            file.display(),
            describe(keychain.mode())
        );
    }
    println!(
        "Password for {uri} successfully stored in {}",
        file.display()
    );
    if keychain.mode() == KeychainMode::Obfuscated {
        eprintln!("{OBFUSCATION_WARNING}");
    }
    Ok(())
}

fn get(file: &Path, uri: &str, master: &MasterArgs) -> Result<(), Failure> {
    let keychain = open(file, master, false)?;
    let Some(secret) = keychain.get(uri) else {
        return Err(not_found(file, uri));
    };
    eprintln!("warning: printing the password for {uri} to standard output");
    let mut out = std::io::stdout().lock();
    out.write_all(secret.expose())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Error(format!("cannot write to standard output: {e}")))
}

fn list(file: &Path, master: &MasterArgs) -> Result<(), Failure> {
    let keychain = open(file, master, false)?;
    let mut out = std::io::stdout().lock();
    for uri in keychain.uris() {
        writeln!(out, "{uri}")
            .map_err(|e| Failure::Error(format!("cannot write to standard output: {e}")))?;
    }
    Ok(())
}

fn remove(file: &Path, uri: &str, master: &MasterArgs) -> Result<(), Failure> {
    let mut keychain = open(file, master, false)?;
    if !keychain.remove(uri) {
        return Err(not_found(file, uri));
    }
    keychain.save(file)?;
    println!("Password for {uri} removed from {}", file.display());
    Ok(())
}

fn not_found(file: &Path, uri: &str) -> Failure {
    Failure::NotFound(format!(
        "{}: No password available in keychain for {uri}",
        file.display()
    ))
}

fn describe(mode: KeychainMode) -> &'static str {
    match mode {
        KeychainMode::Encrypted => "encrypted with a master password",
        KeychainMode::Obfuscated => "obfuscated, NOT encrypted",
    }
}

fn exists(file: &Path) -> Result<bool, Failure> {
    file.try_exists()
        .map_err(|e| Failure::Error(format!("{}: {e}", file.display())))
}

/// A URI is printed by `list`, one per line: no empty ones, no control characters.
fn check_uri(uri: &str) -> Result<(), Failure> {
    if uri.is_empty() || uri.chars().any(char::is_control) {
        return Err(Failure::Error(format!(
            "invalid URI {uri:?}: it must be non-empty and contain no control characters"
        )));
    }
    Ok(())
}

impl MasterArgs {
    /// The source named by a flag, if any.
    fn explicit(&self) -> Option<MasterPasswordSource> {
        match (&self.master_password_env, &self.master_password_file) {
            (Some(var), _) => Some(MasterPasswordSource::Env(var.clone())),
            (None, Some(f)) => Some(MasterPasswordSource::File(f.clone())),
            (None, None) => None,
        }
    }
}

/// A new keychain; for an encrypted one, the master password from a flag, the environment or a
/// prompt (typed twice).
fn new_keychain(file: &Path, obfuscated: bool, master: &MasterArgs) -> Result<Keychain, Failure> {
    if obfuscated {
        return Ok(Keychain::create(KeychainMode::Obfuscated, None)?);
    }
    let password = match master.explicit() {
        Some(source) => source.read()?,
        None => default_master(file, true)?,
    };
    Ok(Keychain::create(KeychainMode::Encrypted, Some(&password))?)
}

/// Opens an existing keychain. A master password named by a flag is always used (so an
/// obfuscated file reports the wrong mode); otherwise the file's mode decides whether one is
/// needed (`REALM_KEYCHAIN_PASSWORD` or a prompt), and `-O` insists on an obfuscated file.
fn open(file: &Path, master: &MasterArgs, obfuscated: bool) -> Result<Keychain, Failure> {
    if let Some(source) = master.explicit() {
        let password = source.read()?;
        return Ok(Keychain::open(file, Some(&password))?);
    }
    if obfuscated {
        return Ok(Keychain::open(file, None)?);
    }
    match Keychain::file_mode(file)? {
        KeychainMode::Obfuscated => Ok(Keychain::open(file, None)?),
        KeychainMode::Encrypted => {
            let password = default_master(file, false)?;
            Ok(Keychain::open(file, Some(&password))?)
        }
    }
}

/// `REALM_KEYCHAIN_PASSWORD` if set, else a prompt (twice for a new keychain).
fn default_master(file: &Path, new: bool) -> Result<Secret, Failure> {
    if std::env::var_os(MASTER_ENV).is_some() {
        return Ok(MasterPasswordSource::Env(MASTER_ENV.into()).read()?);
    }
    let password = if new {
        prompt_twice(
            &format!("New master password for {}: ", file.display()),
            "Confirm the master password: ",
        )?
    } else {
        prompt(&format!("Master password for {}: ", file.display()))?
    };
    if password.is_empty() {
        return Err(KeychainError::EmptyMasterPassword {
            origin: format!("typed for {}", file.display()),
        }
        .into());
    }
    Ok(password)
}

const PROMPT_HINT: &str = "use --password-stdin for an entry, and --master-password-env, --master-password-file or REALM_KEYCHAIN_PASSWORD for the master password";

fn prompt(text: &str) -> Result<Secret, Failure> {
    crate::input::prompt(text, PROMPT_HINT).map_err(Failure::Error)
}

fn prompt_twice(first: &str, second: &str) -> Result<Secret, Failure> {
    crate::input::prompt_twice(first, second, PROMPT_HINT).map_err(Failure::Error)
}

/// One line from stdin, without its line ending.
fn read_stdin_line() -> Result<Secret, Failure> {
    crate::input::read_line()
        .map_err(|e| Failure::Error(format!("cannot read the password from stdin: {e}")))
}
