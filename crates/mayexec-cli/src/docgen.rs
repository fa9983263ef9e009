//! `mayexec completions SHELL` and `mayexec manpages DIR`: shell completions
//! and manual pages generated from the same clap definitions that parse the
//! command line, so that neither can drift from what the command accepts.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::{output, Cli, Status};

/// Print a completion script for SHELL on stdout.
///
/// bash: save it as /usr/share/bash-completion/completions/mayexec (the
/// Debian package does); zsh: as _mayexec in a directory of $fpath; fish:
/// as ~/.config/fish/completions/mayexec.fish.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  mayexec completions bash > ~/.local/share/bash-completion/completions/mayexec"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "mayexec", &mut out);
    let mut stdout = io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Ok(()) => Status::Ok.into(),
        Err(e) => {
            output::error(format_args!("cannot write the completion script: {e}"));
            Status::Error.into()
        }
    }
}

/// Write the manual pages, mayexec.1 and mayexec-SUBCOMMAND.1, into DIR.
#[derive(Debug, clap::Args)]
pub struct ManpagesArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

pub fn manpages(args: &ManpagesArgs) -> ExitCode {
    let written = std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("{}: {e}", args.dir.display()))
        .and_then(|()| write_pages(&args.dir, Cli::command(), "mayexec"));
    match written {
        Ok(()) => Status::Ok.into(),
        Err(e) => {
            output::error(format_args!("cannot write the manual pages: {e}"));
            Status::Error.into()
        }
    }
}

/// The page of `command` as NAME.1, then one page per visible subcommand
/// (NAME-SUB.1), recursively: `man mayexec-policy-show`.
fn write_pages(dir: &Path, command: clap::Command, name: &str) -> Result<(), String> {
    let mut command = command
        .name(name.to_owned())
        .bin_name(name.replace('-', " "));
    command.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .map_err(|e| format!("{name}: {e}"))?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let sub_name = format!("{name}-{}", sub.get_name());
        write_pages(dir, sub.clone(), &sub_name)?;
    }
    Ok(())
}
