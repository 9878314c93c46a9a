//! `realm keychain` (being written).

use std::process::ExitCode;

/// `realm keychain` subcommands.
#[derive(clap::Subcommand)]
pub enum KeychainCommand {
    /// Placeholder.
    List,
}

/// Runs a `realm keychain` subcommand.
pub fn run(_cmd: KeychainCommand) -> ExitCode {
    ExitCode::from(2)
}
