//! `inc`, the minimal enlightened interpreter: command-line compatible with
//! the kernel's sample (`samples/check-exec/inc.c`, Linux 6.14).
//!
//! ```text
//! inc SCRIPT     interpret a file        inc -i     interpret stdin
//! inc -c CMD     interpret CMD
//! ```
//!
//! One command per line: `+` adds one to a counter (from 0) and prints it,
//! `?` reads a number from stdin into the counter, a line starting with `#`
//! is a comment (so `#!/usr/bin/env inc` works); anything else is an error.
//!
//! Enlightening it takes three calls: [`Enforcement::current`] once, then
//! [`Enforcement::open_script`] for a file (interpret the fd it checked,
//! never the path again) or [`Enforcement::check_interactive`] for stdin
//! and `-c`. The check always runs, so audit logs show what *would* be
//! denied. The kernel sample obeys the exec securebits only; `inc` obeys
//! the effective enforcement, the stricter of the securebits and
//! `/etc/mayexec.conf`: with no policy file it behaves exactly as the
//! sample, a policy level or `deny_interactive` adds to the securebits, an
//! audit-mode policy only logs, and a broken policy file refuses everything.
//! Every error and denial exits with status 1, as the sample does.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

use mayexec::{Enforcement, ScriptError};

enum Input {
    Script(OsString),
    Stdin,
    Command(OsString),
}

/// `inc SCRIPT`, `inc -i`, `inc -c CMD` (or `-cCMD`), as the sample's getopt.
fn parse_args(args: &[OsString]) -> Option<Input> {
    let text: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    match text.as_slice() {
        ["-i"] => Some(Input::Stdin),
        ["-c", _] => Some(Input::Command(args[1].clone())),
        [flag] if flag.starts_with("-c") && flag.len() > 2 => {
            Some(Input::Command(OsString::from(&flag[2..])))
        }
        [script] if *script == "-" || !args[0].as_encoded_bytes().starts_with(b"-") => {
            Some(Input::Script(args[0].clone()))
        }
        _ => None,
    }
}

/// The program's text, once the enforcement lets it be interpreted.
fn load(enforcement: &Enforcement, input: Input) -> Result<Vec<u8>, String> {
    let mut program = Vec::new();
    match input {
        Input::Script(path) => match enforcement.open_script(&path) {
            Ok(mut script) => script.file.read_to_end(&mut program).map(drop),
            Err(ScriptError::Denied(denial)) => return Err(denial.to_string()),
            Err(ScriptError::Open(error)) => return Err(error.to_string()),
        },
        Input::Stdin => {
            let stdin = io::stdin();
            enforcement
                .check_interactive(Some(stdin.as_fd()), OsStr::new("<stdin>"))
                .map_err(|denial| denial.to_string())?;
            stdin.lock().read_to_end(&mut program).map(drop)
        }
        Input::Command(command) => {
            enforcement
                .check_interactive(None, OsStr::new("-c"))
                .map_err(|denial| denial.to_string())?;
            program = command.into_encoded_bytes();
            Ok(())
        }
    }
    .map_err(|error| format!("cannot read the program: {error}"))?;
    Ok(program)
}

fn interpret(program: &[u8]) -> Result<(), String> {
    let mut counter: i64 = 0;
    let mut out = io::stdout().lock();
    for (number, line) in program.split(|&b| b == b'\n').enumerate() {
        match line {
            [] | [b'#', ..] => {}
            b"+" => {
                counter = counter.wrapping_add(1);
                writeln!(out, "{counter}").map_err(|e| e.to_string())?;
            }
            b"?" => {
                out.flush().map_err(|e| e.to_string())?;
                note(format_args!("> Enter new number: "));
                let mut answer = String::new();
                match io::stdin()
                    .read_line(&mut answer)
                    .map(|_| answer.trim().parse())
                {
                    Ok(Ok(value)) => counter = value,
                    _ => note(format_args!(
                        "inc: warning: failed to read a number from stdin"
                    )),
                }
            }
            _ => {
                let line = String::from_utf8_lossy(line);
                return Err(format!("line {}: unknown command {line:?}", number + 1));
            }
        }
    }
    out.flush().map_err(|e| e.to_string())
}

/// One line on stderr. A stderr that cannot be written (`2>/dev/full`, a
/// pipe nobody reads) loses the line but never changes the exit status:
/// `eprintln!` would panic there, and a panic aborts (134) where a denial
/// must exit 1.
fn note(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{line}");
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(input) = parse_args(&args) else {
        note(format_args!("usage: inc SCRIPT | -i | -c COMMAND"));
        return ExitCode::from(1);
    };
    let result = Enforcement::current()
        .map_err(|error| error.to_string())
        .and_then(|enforcement| load(&enforcement, input))
        .and_then(|program| interpret(&program));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            note(format_args!("inc: {message}"));
            ExitCode::from(1)
        }
    }
}
