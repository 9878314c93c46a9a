//! `realm users`: manage the users of a Shiro-style ini file, as Terracotta's `usermanagement`
//! script does (`-c` creates the file with the first user).
//!
//! Passwords never come from the command line: they are typed twice at a prompt, or read as one
//! line from stdin with `--password-stdin`. A new password is checked against the password policy
//! ([`realm_ini::policy`]; every broken rule is printed) and stored as an argon2id PHC string.
//! `--no-policy` skips the check (to import legacy users) and says so on stderr.
//!
//! The file is edited in place by [`realm_ini::edit`]: comments, blank lines and other sections
//! stay as they are, writes are atomic and concurrent runs are serialised by a lock file.
//!
//! Exit codes: 0 done, 2 any error (usage, a refused password, a missing user or file, I/O).

use clap::{Args, Subcommand};
use realm_core::Secret;
use realm_ini::edit::{EditError, EditErrorKind, RoleChange, UsersFile};
use realm_ini::policy::{DEFAULT_MIN_LENGTH, Dictionary, PasswordPolicy};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where a new password comes from and which rules it must follow.
#[derive(Args)]
pub struct PasswordArgs {
    /// Read the password from standard input (one line) instead of prompting twice.
    #[arg(long)]
    password_stdin: bool,
    /// Also refuse passwords equal to a word of this file (one word per line, any letter case).
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    dictionary: Option<PathBuf>,
    /// The minimum password length, in characters.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MIN_LENGTH, conflicts_with = "no_policy")]
    min_length: usize,
    /// Do not check the password policy (meant for importing legacy users; prints a warning).
    #[arg(long)]
    no_policy: bool,
}

/// Exactly one change of roles (each a comma-separated list).
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct RoleArgs {
    /// Replace all roles with these (`--set ""` removes every role).
    #[arg(long, value_name = "ROLES")]
    set: Option<String>,
    /// Add these roles.
    #[arg(long, value_name = "ROLES")]
    add: Option<String>,
    /// Remove these roles.
    #[arg(long, value_name = "ROLES")]
    remove: Option<String>,
}

/// `realm users` subcommands.
#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user: the password is prompted twice (or read from stdin with --password-stdin),
    /// checked against the password policy and stored as an argon2id hash.
    Add {
        /// The ini file.
        file: PathBuf,
        /// The user name (case-sensitive).
        user: String,
        /// The user's roles, comma-separated (e.g. admin,operator).
        #[arg(long, value_name = "ROLES")]
        roles: Option<String>,
        /// Create FILE if it does not exist (an existing file is edited, never truncated).
        #[arg(short = 'c', long)]
        create: bool,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Change a user's password (prompted twice, or read from stdin with --password-stdin).
    Passwd {
        /// The ini file.
        file: PathBuf,
        /// The user name.
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set, add or remove a user's roles.
    Roles {
        /// The ini file.
        file: PathBuf,
        /// The user name.
        user: String,
        #[command(flatten)]
        change: RoleArgs,
    },
    /// Remove a user.
    Remove {
        /// The ini file.
        file: PathBuf,
        /// The user name.
        user: String,
    },
    /// List the users and their roles (never passwords).
    List {
        /// The ini file.
        file: PathBuf,
    },
}

/// Runs a `realm users` subcommand.
pub fn run(cmd: UsersCommand) -> ExitCode {
    let result = match cmd {
        UsersCommand::Add {
            file,
            user,
            roles,
            create,
            password,
        } => add(
            &UsersFile::new(file),
            &user,
            &split(roles.as_deref()),
            create,
            &password,
        ),
        UsersCommand::Passwd {
            file,
            user,
            password,
        } => passwd(&UsersFile::new(file), &user, &password),
        UsersCommand::Roles { file, user, change } => roles(&UsersFile::new(file), &user, change),
        UsersCommand::Remove { file, user } => remove(&UsersFile::new(file), &user),
        UsersCommand::List { file } => list(&UsersFile::new(file)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn add(
    file: &UsersFile,
    user: &str,
    roles: &[String],
    create: bool,
    args: &PasswordArgs,
) -> Result<(), String> {
    // Refuse what would fail anyway (missing file, existing user, bad name) before asking for a
    // password; the edit itself checks again under the lock.
    file.check_add(user, roles, create)
        .map_err(|e| with_hint(&e))?;
    let stored = new_password(user, args)?;
    file.add(user, &stored, roles, create)
        .map_err(|e| with_hint(&e))?;
    println!("added user {user:?} to {}", file.path().display());
    Ok(())
}

fn passwd(file: &UsersFile, user: &str, args: &PasswordArgs) -> Result<(), String> {
    file.check_user(user).map_err(|e| e.to_string())?;
    let stored = new_password(user, args)?;
    file.set_password(user, &stored)
        .map_err(|e| e.to_string())?;
    println!(
        "changed the password of {user:?} in {}",
        file.path().display()
    );
    Ok(())
}

fn roles(file: &UsersFile, user: &str, change: RoleArgs) -> Result<(), String> {
    let change = match (change.set, change.add, change.remove) {
        (Some(set), _, _) => RoleChange::Set(split(Some(&set))),
        (_, Some(add), _) => RoleChange::Add(split(Some(&add))),
        (_, _, Some(remove)) => RoleChange::Remove(split(Some(&remove))),
        (None, None, None) => return Err("give one of --set, --add or --remove".into()),
    };
    let roles = file
        .change_roles(user, &change)
        .map_err(|e| e.to_string())?;
    println!("{user}: {}", show_roles(&roles));
    Ok(())
}

fn remove(file: &UsersFile, user: &str) -> Result<(), String> {
    file.remove(user).map_err(|e| e.to_string())?;
    println!("removed user {user:?} from {}", file.path().display());
    Ok(())
}

fn list(file: &UsersFile) -> Result<(), String> {
    for u in file.list().map_err(|e| e.to_string())? {
        println!("{}: {}", u.name, show_roles(&u.roles));
    }
    Ok(())
}

fn show_roles(roles: &[String]) -> String {
    if roles.is_empty() {
        "(no roles)".into()
    } else {
        roles.join(", ")
    }
}

/// A comma-separated list, trimmed, without empty items.
fn split(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The error, with the way out for a missing file.
fn with_hint(e: &EditError) -> String {
    match e.kind {
        EditErrorKind::NotFound => format!("{e} (use --create to start a new file)"),
        _ => e.to_string(),
    }
}

/// Reads the new password, checks it against the policy and hashes it.
fn new_password(user: &str, args: &PasswordArgs) -> Result<Secret, String> {
    let policy = if args.no_policy {
        eprintln!(
            "warning: --no-policy: the password is NOT checked against the password policy (meant for importing legacy users)"
        );
        None
    } else {
        let policy = PasswordPolicy::default().with_min_length(args.min_length);
        Some(match &args.dictionary {
            Some(path) => {
                policy.with_dictionary(Dictionary::from_file(path).map_err(|e| e.to_string())?)
            }
            None => policy,
        })
    };
    let password = if args.password_stdin {
        crate::input::read_line()
            .map_err(|e| format!("cannot read the password from stdin: {e}"))?
    } else {
        crate::input::prompt_twice(
            &format!("New password for {user:?}: "),
            "Retype the password: ",
            "use --password-stdin",
        )?
    };
    if password.is_empty() {
        return Err("refusing an empty password: it never authenticates".into());
    }
    if let Some(policy) = policy
        && let Err(violations) = policy.check(user, &password)
    {
        let mut message = format!("the password for {user:?} was refused:");
        for v in violations {
            message.push_str(&format!("\n  - {v}"));
        }
        return Err(message);
    }
    crate::input::hash_new_password(&password).map(Secret::from)
}
