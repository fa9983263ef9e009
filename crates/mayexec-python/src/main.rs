//! `mayexec-python`: CPython (3.11 to 3.14) that checks every file it loads as code.
//!
//! The machine's CPython, embedded (linked as its own `python3.X` is:
//! `docs/python.md`), with two PEP 578 hooks installed before the
//! interpreter initialises: an open-code hook through which CPython opens
//! modules, `.pyc` files, zip archives and `.pth` files, and an audit hook
//! for what does not go through it. The
//! main script and `PYTHONSTARTUP` are opened once, checked, and read from
//! the checked descriptor ([`runmain`] replicates CPython's
//! `Modules/main.c` for that). What is enforced comes from the mayexec
//! library ([`mayexec::Enforcement`]): the exec securebits and
//! `/etc/mayexec.conf`, nothing a user controls.
//!
//! ```text
//! $ mayexec run -f -- mayexec-python /mnt/noexec/x.py
//! mayexec-python: /mnt/noexec/x.py: script execution denied (noexec-mount)
//! $ echo $?
//! 126
//! ```
//!
//! With no enforcement in force it behaves as `python3`: same options,
//! `sys.argv`, `__file__`, `sys.path[0]` and exit statuses.

// The C `main` is in `cpython`: Rust's own start-up code would open
// /dev/null on closed standard descriptors and change SIGPIPE, where
// `python3` starts with the process exactly as it was executed.
#![cfg_attr(not(test), no_main)]

/// `eprintln!` that never panics: a message that cannot be written (stderr
/// closed, `2>/dev/full`) is lost, and the exit status stays what it must be
/// (126 for a denial, not an abort).
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cpython;
mod dl;
mod entrypoints;
mod hooks;
mod runmain;
mod syspath0;

use std::ffi::{CString, OsStr};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use mayexec::{Denial, Enforcement};

use crate::cpython::Config;
use crate::runmain::DENIED;

/// The name in messages.
pub const PROGRAM: &str = "mayexec-python";

/// Test builds have the test harness's `main`; this one only keeps the
/// program's functions in the build (the real entry point is in `cpython`).
#[cfg(test)]
fn main() {
    std::process::exit(py_main());
}

/// `Py_BytesMain`, with the enforcement read and the hooks installed first.
fn py_main() -> i32 {
    // Only the securebits and the root-owned policy file: nothing from the
    // environment or the command line goes into it.
    let enforcement = match Enforcement::current() {
        Ok(enforcement) => no_idle_check(enforcement),
        Err(error) => {
            warn!("{PROGRAM}: {error}: refusing to run anything");
            return DENIED;
        }
    };
    let args: Vec<CString> = std::env::args_os()
        .map(|arg| CString::new(arg.into_vec()).expect("argv strings have no NUL"))
        .collect();
    if let Err(status) = cpython::preinitialize(&args) {
        match status.exit_code() {
            Some(code) => return code,
            None => status.exit_process(),
        }
    }
    if let Err(error) = hooks::install(enforcement.clone()) {
        warn!("{PROGRAM}: cannot install the CPython hooks ({error:?}): refusing to run");
        return DENIED;
    }
    let config = match Config::from_args(&args) {
        Ok(config) => config,
        // --version, --help, a usage error: CPython has printed it.
        Err(status) => match status.exit_code() {
            Some(code) => return code,
            None => status.exit_process(),
        },
    };

    // Refuse interactive input before any code runs.
    if let Err(denial) = check_interactive_input(&config, &enforcement) {
        warn!("{PROGRAM}: {denial}");
        return DENIED;
    }

    let script = config.filename();
    let interpreter = match cpython::initialize(config) {
        Ok(interpreter) => interpreter,
        Err(status) => {
            if status.exit_code().is_none() {
                if let Some(denial) = hooks::last_denial() {
                    // The policy refused a file Python needs to start. The
                    // script's own verdict is what the caller asked about.
                    if let Some(script_denial) =
                        script.and_then(|s| denied_script(&enforcement, &s))
                    {
                        warn!("{PROGRAM}: {script_denial}");
                    }
                    warn!(
                        "{PROGRAM}: Python could not start: {denial}; the standard library must \
                         pass the check too (see mayexec's docs/deployment.md)"
                    );
                    return DENIED;
                }
            }
            match status.exit_code() {
                Some(code) => return code,
                None => status.exit_process(),
            }
        }
    };
    let exitcode = interpreter.run(|py| {
        match hooks::ensure_import_system_adjusted(py) {
            Ok(true) => {}
            adjusted => {
                if let Err(err) = adjusted {
                    err.print_and_set_sys_last_vars(py);
                }
                warn!(
                    "{PROGRAM}: the import system cannot be made to check every file: refusing \
                     to run"
                );
                return None;
            }
        }
        if let Err(err) = hooks::guard_breakpoint(py) {
            err.print_and_set_sys_last_vars(py);
            warn!("{PROGRAM}: breakpoint() cannot be kept from opening a prompt: refusing to run");
            return None;
        }
        Some(runmain::pymain_run_python(py, &enforcement))
    });
    let Some(mut exitcode) = exitcode else {
        let _ = interpreter.finalize();
        return DENIED;
    };
    if interpreter.finalize() < 0 && exitcode != DENIED {
        // Flushing buffered data failed: a status unlikely to be confused
        // with the program's own. A denial keeps its 126, even when its
        // message could not be written (`2>/dev/full`).
        exitcode = 120;
    }
    if cpython::unhandled_keyboard_interrupt() {
        exitcode = exit_sigint();
    }
    exitcode
}

/// With content trust but no script policy (`trust = "required"` and no
/// `interpreted_access`), the level's verdict on a file is neither logged
/// nor enforced, only the trust database's is: the checker then checks
/// nothing (level 0), where it would make the full check (the kernel's,
/// some 20 µs) of every file for nobody. Code from no file (deny-
/// interactive) has checks of its own, not this checker.
fn no_idle_check(mut enforcement: Enforcement) -> Enforcement {
    if enforcement.scripts == mayexec::Action::Ignore && enforcement.trust.is_some() {
        enforcement.checker =
            mayexec::Checker::new(mayexec::Level::Off, mayexec::BackendChoice::Emulated)
                .expect("level 0 needs no kernel feature");
    }
    enforcement
}

/// The main script's denial, when the enforcement refuses it as a file (a
/// directory or zip application is run as a package instead, and checked
/// file by file).
fn denied_script(enforcement: &Enforcement, script: &[u8]) -> Option<Denial> {
    match enforcement.open_script(std::ffi::OsStr::from_bytes(script)) {
        Err(mayexec::ScriptError::Denied(denial))
            if denial.reason != mayexec::Reason::NotRegularFile =>
        {
            Some(denial)
        }
        _ => None,
    }
}

/// Code from the command line, the prompt, and standard input are refused
/// under deny-interactive; a standard input that is a regular file passing
/// the full check is allowed.
fn check_interactive_input(config: &Config, enforcement: &Enforcement) -> Result<(), Denial> {
    if config.has_command() {
        enforcement.check_interactive(None, OsStr::new("-c"))?;
    }
    if config.interactive() {
        enforcement.check_interactive(None, OsStr::new("-i"))?;
    }
    if !config.has_command() && !config.has_module() && !config.has_filename() {
        let stdin = std::io::stdin();
        let input = (!stdin.is_terminal()).then(|| stdin.as_fd());
        enforcement.check_interactive(input, OsStr::new("<stdin>"))?;
    }
    Ok(())
}

/// `exit_sigint`: die of SIGINT after an unhandled `KeyboardInterrupt`, so
/// that the parent (a shell) sees the ^C.
fn exit_sigint() -> i32 {
    if cpython::restore_default_sigint() {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::INT);
    } else {
        warn!("signal: {}", std::io::Error::last_os_error());
    }
    128 + libc::SIGINT
}
