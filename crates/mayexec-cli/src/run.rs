//! `mayexec run`: run a command under the exec securebits.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use mayexec::securebits::{self, SecureBits, SecureBitsError};

use crate::output;

/// Run a command with script-execution control on for it and everything it
/// starts (Linux 6.14 exec securebits).
///
/// Sets the chosen securebits, with their lock bits unless --no-lock, then
/// executes CMD (found on PATH). Enlightened interpreters started below it
/// then refuse scripts that fail the check (-f) and code that does not come
/// from a checked file (-i). Needs no privilege.
///
/// Exit status: CMD's; 1 when the kernel has no exec securebits; 2 usage
/// error; 126 CMD not executable; 127 CMD not found.
#[derive(Debug, clap::Args)]
#[command(
    group = clap::ArgGroup::new("bits").required(true).multiple(true),
    after_help = "Examples:\n  \
        mayexec run -f -- python3 /srv/app/main.py\n  \
        mayexec run -fi -- /usr/local/bin/backup.sh"
)]
pub struct Args {
    /// SECBIT_EXEC_RESTRICT_FILE: scripts must pass the full check.
    #[arg(short = 'f', long, group = "bits")]
    restrict_file: bool,
    /// SECBIT_EXEC_DENY_INTERACTIVE: refuse -c, prompts, and stdin that is
    /// not a regular file passing the full check.
    #[arg(short = 'i', long, group = "bits")]
    deny_interactive: bool,
    /// Leave the bits unlocked, so that CMD may clear them again.
    #[arg(long)]
    no_lock: bool,
    /// The command to run, and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<OsString>,
}

pub fn main(args: Args) -> ExitCode {
    let mut bits = SecureBits::empty();
    if args.restrict_file {
        bits |= SecureBits::EXEC_RESTRICT_FILE;
    }
    if args.deny_interactive {
        bits |= SecureBits::EXEC_DENY_INTERACTIVE;
    }
    if let Err(e) = securebits::enable(bits, !args.no_lock) {
        output::error(&e);
        if matches!(e, SecureBitsError::Unsupported) {
            eprintln!(
                "Hint: on an older kernel, set `interpreted_access = 3` in {} to enforce \
                 the same for every enlightened interpreter",
                mayexec::policy::SYSTEM_POLICY_PATH
            );
        }
        return ExitCode::from(1);
    }
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one word");
    let error = std::process::Command::new(program).args(rest).exec();
    output::error(format_args!(
        "{}: {}",
        program.to_string_lossy(),
        describe(&error)
    ));
    ExitCode::from(if error.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    })
}

fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "command not found".to_owned(),
        _ => error.to_string(),
    }
}
