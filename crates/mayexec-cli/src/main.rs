//! `mayexec`: script-execution control for administrators.

mod check;
mod docgen;
mod filter;
mod interpreters;
mod landlock;
mod lockdown;
mod mark;
mod output;
mod policy;
mod run;
mod scan;
mod status;
mod trust;
mod uapi;
mod userns;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Script-execution control for Linux: would executing this file be allowed?
///
/// noexec mounts and the execute bit stop `./evil.sh` but not `sh evil.sh`.
/// Enlightened interpreters ask the kernel (execveat with AT_EXECVE_CHECK,
/// Linux 6.14) or mayexec's emulation of the RFC's rules before they
/// interpret a file, and obey the exec securebits and /etc/mayexec.conf.
/// This command shows and tests that machinery.
#[derive(Debug, Parser)]
#[command(
    name = "mayexec",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Status(status::Args),
    Check(check::Args),
    Run(run::Args),
    #[command(subcommand)]
    Policy(policy::Command),
    Scan(scan::Args),
    Mark(mark::Args),
    Interpreters(interpreters::Args),
    #[command(subcommand)]
    Trust(trust::Command),
    Completions(docgen::CompletionsArgs),
    #[command(hide = true)]
    Manpages(docgen::ManpagesArgs),
}

/// Exit statuses shared by the subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Everything allowed / fine.
    Ok = 0,
    /// Something denied or invalid.
    Denied = 1,
    /// Usage error, or an input that cannot be examined.
    Error = 2,
    /// `run`: CMD was found but could not be executed (the shell's 126).
    CannotExecute = 126,
    /// `run`: CMD was not found (the shell's 127).
    NotFound = 127,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Status(args) => status::main(&args),
        Command::Check(args) => check::main(&args),
        Command::Run(args) => run::main(args),
        Command::Policy(command) => policy::main(&command),
        Command::Scan(args) => scan::main(&args),
        Command::Mark(args) => mark::main(&args),
        Command::Interpreters(args) => interpreters::main(&args),
        Command::Trust(command) => trust::main(&command),
        Command::Completions(args) => docgen::completions(&args),
        Command::Manpages(args) => docgen::manpages(&args),
    }
}
