//! `realm users` (being written).

use std::process::ExitCode;

/// `realm users` subcommands.
#[derive(clap::Subcommand)]
pub enum UsersCommand {
    /// Placeholder.
    List,
}

/// Runs a `realm users` subcommand.
pub fn run(_cmd: UsersCommand) -> ExitCode {
    ExitCode::from(2)
}
