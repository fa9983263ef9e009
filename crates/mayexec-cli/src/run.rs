//! `mayexec run`: run a command under the exec securebits.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use mayexec::securebits::{self, SecureBits, SecureBitsError};

use crate::filter::{self, Rules};
use crate::{landlock, output, Status};

/// Run a command with script-execution control on for it and everything it
/// starts (Linux 6.14 exec securebits; Landlock for --exec-allow).
///
/// Sets the chosen securebits, with their lock bits unless --no-lock, then
/// executes CMD (found on PATH). Enlightened interpreters started below it
/// then refuse scripts that fail the check (-f) and code that does not come
/// from a checked file (-i). Needs no privilege.
///
/// With --exec-allow DIR (repeatable), a Landlock domain is created first:
/// it handles the execute right and grants it only beneath the DIRs, and
/// no_new_privs is set. Nothing outside them can then be executed, and the
/// kernel check denies scripts outside them (reason kernel-policy), so with
/// -f enlightened interpreters interpret only scripts beneath the DIRs, on
/// any file system and without root. CMD itself, its ELF interpreter
/// (ld.so) and any program it starts must lie beneath a DIR too: add e.g.
/// `--exec-allow /usr`. --exec-allow alone (without -f/-i) is valid: an
/// exec allow-list for binaries, which interpreters do not enforce on
/// scripts. By default a kernel without Landlock only gets a warning;
/// --landlock=required makes it an error.
///
/// With --lockdown, the Landlock domain grants execute file by file to
/// every executable beneath the --exec-allow roots (default: the
/// directories of PATH and of the ELF interpreter ld.so), except the
/// interpreters that do not obey the check, recognised by name, by content
/// under any name, and by Debian package (`mayexec interpreters` lists
/// them), the executables it cannot read or parse, and those the tree's
/// user owns or may write (a rewritten file keeps its grant); plus each
/// --exec-allow-file. With -f -i, every interpreter the tree can start
/// then obeys the check; the others fail with EACCES, also through a `#!`
/// line. -v or --json (one JSON object on stderr) show what was left out.
/// --lockdown always requires the kernel to enforce all of it: on a kernel
/// without Landlock it fails with status 1. It does not see interpreters
/// inside a runtime CMD already is, code loaded with `ld.so PROGRAM` or
/// LD_PRELOAD (the loader maps files it reads), nor an interpreter that
/// hides what it is (`mayexec interpreters --help` says what it reads).
///
/// The kernel resets securebits (lock bits too) in a process that creates
/// or joins a user namespace, so by default a seccomp filter keeps the tree
/// out of them: unshare/clone with CLONE_NEWUSER and setns into a user
/// namespace (or with nstype 0) fail with EPERM (`unshare -U` says
/// "Operation not permitted"), clone3 with ENOSYS (glibc falls back to
/// clone), for 32-bit programs too, and x32 system calls with ENOSYS.
/// --allow-userns leaves these rules out, with a warning.
///
/// Nor may the tree lift a mount's noexec: the filter refuses the new mount
/// API (open_tree with OPEN_TREE_CLONE, mount_setattr, move_mount, fsopen,
/// fsconfig, fsmount, fspick: EPERM), and the tree's Landlock domain
/// refuses mount, umount and pivot_root. With --exec-allow or --lockdown no
/// memory file can be executed: memfd_create fails with EACCES for MFD_EXEC
/// and with ENOSYS without MFD_NOEXEC_SEAL (programs then use a file, which
/// the domain governs).
///
/// Nor may the tree make a process outside it run code. The same filter
/// refuses ioctl TIOCSTI and TIOCLINUX (EPERM), which would type commands
/// into the terminal for the shell that started the tree. And the tree is
/// a Landlock domain (the --exec-allow one, or one of its own that
/// restricts nothing on the file system): its processes, root included,
/// cannot ptrace, open /proc/PID/mem of, or use process_vm_writev or
/// pidfd_getfd on processes outside it. A kernel without Landlock gets a
/// warning; --landlock=required makes it an error. Both set
/// no_new_privs: set-user-ID programs (sudo) do not gain privileges in the
/// tree.
///
/// Exit status: CMD's; 1 when the kernel has no exec securebits, the
/// seccomp filter cannot be installed, or Landlock is not fully enforced
/// under --landlock=required or --lockdown; 2 usage error (also a root or
/// --exec-allow-file that does not exist); 126 CMD not executable; 127
/// CMD not found.
#[derive(Debug, clap::Args)]
#[command(
    group = clap::ArgGroup::new("bits").required(true).multiple(true),
    after_help = "Examples:\n  \
        mayexec run -f -- python3 /srv/app/main.py\n  \
        mayexec run -fi -- /usr/local/bin/backup.sh\n  \
        mayexec run -f --exec-allow /usr --exec-allow /srv/app -- python3 /srv/app/main.py\n  \
        mayexec run -f -i --lockdown -v -- /srv/app/run.sh"
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
    /// Allow executing files only beneath DIR (Landlock); repeatable.
    #[arg(long, value_name = "DIR", group = "bits")]
    exec_allow: Vec<PathBuf>,
    /// Grant execute only to the executables beneath the --exec-allow roots
    /// that are not interpreters ignoring the check (Landlock, file by file).
    #[arg(long, group = "bits")]
    lockdown: bool,
    /// With --lockdown: also allow executing FILE; repeatable.
    #[arg(long, value_name = "FILE", requires = "lockdown")]
    exec_allow_file: Vec<PathBuf>,
    /// With --lockdown: print what the domain grants and excludes as one
    /// JSON object on stderr.
    #[arg(long, requires = "lockdown")]
    json: bool,
    /// What to do when the kernel cannot enforce all of the Landlock domain
    /// (--exec-allow's, or the tree's own that keeps it from tracing
    /// processes outside it): warn and go on, or fail with status 1 before
    /// running CMD.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = LandlockMode::BestEffort)]
    landlock: LandlockMode,
    /// Let CMD create and join user namespaces (no seccomp rules for
    /// them): CMD can then clear the securebits set here, even when locked.
    #[arg(long)]
    allow_userns: bool,
    /// Say on stderr how much of the Landlock domain the kernel enforced,
    /// even when it enforced all of it, and what the seccomp filter
    /// refuses; with --lockdown, each interpreter left out and the rule
    /// count.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// The command to run, and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LandlockMode {
    BestEffort,
    Required,
}

pub fn main(args: Args) -> ExitCode {
    if args.lockdown {
        let roots = if args.exec_allow.is_empty() {
            crate::lockdown::default_roots()
        } else {
            args.exec_allow.clone()
        };
        if let Err(status) =
            crate::lockdown::enter(&roots, &args.exec_allow_file, args.verbose, args.json)
        {
            return status.into();
        }
    } else if !args.exec_allow.is_empty() {
        if let Err(code) = restrict_exec(&args) {
            return code;
        }
    } else if let Err(code) = scope_tree(&args) {
        return code;
    }
    let mut bits = SecureBits::empty();
    if args.restrict_file {
        bits |= SecureBits::EXEC_RESTRICT_FILE;
    }
    if args.deny_interactive {
        bits |= SecureBits::EXEC_DENY_INTERACTIVE;
    }
    if bits.is_empty() {
        // --exec-allow alone: nothing to set.
    } else if let Err(e) = securebits::enable(bits, !args.no_lock) {
        output::error(&e);
        if matches!(e, SecureBitsError::Unsupported) {
            output::note(format_args!(
                "Hint: on an older kernel, set `interpreted_access = 3` in {} to enforce \
                 the same for every enlightened interpreter",
                mayexec::policy::SYSTEM_POLICY_PATH
            ));
        }
        return Status::Denied.into();
    }
    if let Err(code) = install_filter(&args) {
        return code;
    }
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one word");
    let error = std::process::Command::new(program).args(rest).exec();
    // `exec` set SIGPIPE back to its default for CMD: ignore it again, so
    // that a stderr nobody reads loses the message below instead of
    // killing this process before it can exit 126/127.
    let _ = crate::uapi::ignore_sigpipe();
    output::error(format_args!(
        "{}: {}",
        program.to_string_lossy(),
        describe(&error)
    ));
    if args.lockdown && error.kind() == io::ErrorKind::PermissionDenied {
        output::note(
            "Hint: under --lockdown only executables beneath the --exec-allow roots that are \
             not interpreters ignoring the check can be executed (-v lists what was left out)",
        );
    } else if !args.exec_allow.is_empty() && error.kind() == io::ErrorKind::PermissionDenied {
        output::note(
            "Hint: under --exec-allow, CMD and its ELF interpreter (ld.so) must lie beneath \
             an allowed directory: add e.g. --exec-allow /usr",
        );
    }
    if error.kind() == io::ErrorKind::NotFound {
        Status::NotFound.into()
    } else {
        Status::CannotExecute.into()
    }
}

/// The seccomp filter, last before exec (see `filter`).
fn install_filter(args: &Args) -> Result<(), ExitCode> {
    if args.allow_userns {
        output::note(
            "mayexec: warning: --allow-userns: the command may create or join a user \
             namespace, and so clear the securebits set here, locked or not",
        );
    }
    let rules = Rules {
        user_namespaces: !args.allow_userns,
        // An exec allow-list is the promise memory files would break.
        memfds: args.lockdown || !args.exec_allow.is_empty(),
    };
    match filter::install(rules) {
        Ok(()) => {
            if args.verbose {
                if rules.user_namespaces {
                    output::note(format_args!(
                        "mayexec: user namespaces denied by a seccomp filter: {}",
                        filter::USERNS_SUMMARY
                    ));
                }
                if rules.memfds {
                    output::note(format_args!(
                        "mayexec: memory files kept non-executable by a seccomp filter: {}",
                        filter::MEMFD_SUMMARY
                    ));
                }
                output::note(format_args!(
                    "mayexec: the terminal and the mounts guarded by a seccomp filter: {}; \
                     no_new_privs is set",
                    filter::TREE_SUMMARY
                ));
            }
            Ok(())
        }
        Err(e) => {
            output::error(format_args!(
                "{e}; not running the command (the filter keeps it from clearing the \
                 securebits, changing mounts and typing into its terminal)"
            ));
            Err(Status::Denied.into())
        }
    }
}

/// The tree's own Landlock domain when no --exec-allow or --lockdown made
/// one (see `landlock::scope_tree`), before the securebits.
fn scope_tree(args: &Args) -> Result<(), ExitCode> {
    let status = match landlock::scope_tree() {
        Ok(status) => status,
        Err(e) => {
            output::error(format_args!("{e}; not running the command"));
            return Err(Status::Denied.into());
        }
    };
    let description = landlock::describe(&status);
    const WHAT: &str = "the tree's own Landlock domain (it cannot trace processes outside it)";
    if landlock::fully_enforced(&status) {
        if args.verbose {
            output::note(format_args!("mayexec: {WHAT}: {description}"));
        }
        return Ok(());
    }
    if args.landlock == LandlockMode::Required {
        output::error(format_args!(
            "{WHAT}: {description}; --landlock=required: not running the command"
        ));
        return Err(Status::Denied.into());
    }
    output::note(format_args!(
        "mayexec: warning: {WHAT}: {description}; its processes can trace processes their \
         users own outside it; running the command anyway (--landlock=required makes this an \
         error)"
    ));
    Ok(())
}

/// The Landlock domain, before the securebits: a failure here leaves the
/// process as it was (except no_new_privs), and CMD is never run.
fn restrict_exec(args: &Args) -> Result<(), ExitCode> {
    let status = match landlock::restrict_exec(&args.exec_allow) {
        Ok(status) => status,
        Err(e @ landlock::ExecAllowError::Dir { .. }) => {
            output::error(e);
            return Err(Status::Error.into());
        }
        Err(e) => {
            output::error(e);
            return Err(Status::Denied.into());
        }
    };
    let description = landlock::describe(&status);
    let dirs = landlock::list(&args.exec_allow);
    if landlock::fully_enforced(&status) {
        if args.verbose {
            output::note(format_args!(
                "mayexec: exec allowed only beneath {dirs}: {description}"
            ));
        }
        return Ok(());
    }
    if args.landlock == LandlockMode::Required {
        output::error(format_args!(
            "--exec-allow {dirs}: {description}; --landlock=required: not running the command"
        ));
        return Err(Status::Denied.into());
    }
    output::note(format_args!(
        "mayexec: warning: --exec-allow {dirs}: {description}; running the command anyway \
         (--landlock=required makes this an error)"
    ));
    Ok(())
}

fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "command not found".to_owned(),
        _ => error.to_string(),
    }
}
