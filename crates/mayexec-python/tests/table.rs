//! The table: each way of giving mayexec-python code × each enforcement ×
//! each place the code lives, with the outcome each cell must have, and
//! the audit line of every denial.
//!
//! Places: an exec tmpfs with the code mode 0755, the same with mode 0644,
//! and a noexec tmpfs. Enforcements: none, `mayexec run -f`, `-i`, `-fi`,
//! and `/etc/mayexec.conf` levels 1 to 3. The interpreter runs with
//! `PYTHONHOME` on a copy of the standard library marked executable, so
//! that it can start under the full check (the machine's is mode 0644).

mod common;

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;
use mayexec_testkit::interp::Backend;
use mayexec_testkit::on_both_backends;

/// How the code is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// `mayexec-python DIR/script.py`
    Script,
    /// `mayexec-python < DIR/script.py`
    StdinFile,
    /// `cat DIR/script.py | mayexec-python`
    Pipe,
    /// `mayexec-python -c 'import sys; sys.path.insert(0, DIR); import mod'`
    Command,
    /// `cd DIR && mayexec-python -m mod`
    Module,
    /// `mayexec-python /allowed/driver.py`, which does `import mod` from DIR
    Import,
}

/// What must happen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The code ran: status 0, the marker is there.
    Ran,
    /// Refused before running: status 126 and `mayexec-python: LABEL:
    /// script execution denied (REASON)`.
    Refused { label: String, reason: &'static str },
    /// The import raised `PermissionError` (status 1, a traceback).
    ImportDenied { path: String, reason: &'static str },
}

fn expected(input: Input, enforced: Enforced, place: Place, dir: &Path) -> Outcome {
    let deny_interactive = matches!(enforced, Enforced::RunI | Enforced::RunFI);
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let refused = |label: String, reason| Outcome::Refused { label, reason };
    let import_denied = |reason| Outcome::ImportDenied {
        path: file("mod.py"),
        reason,
    };
    match input {
        Input::Script => enforced
            .script_denial(place)
            .map_or(Outcome::Ran, |r| refused(file("script.py"), r)),
        Input::Module => enforced
            .script_denial(place)
            .map_or(Outcome::Ran, |r| refused(file("mod.py"), r)),
        Input::Import => enforced
            .script_denial(place)
            .map_or(Outcome::Ran, import_denied),
        Input::Command if deny_interactive => refused("-c".into(), "interactive"),
        Input::Command => enforced
            .script_denial(place)
            .map_or(Outcome::Ran, import_denied),
        Input::StdinFile if deny_interactive => place
            .full_check()
            .map_or(Outcome::Ran, |r| refused("<stdin>".into(), r)),
        Input::Pipe if deny_interactive => refused("<stdin>".into(), "not-regular-file"),
        Input::StdinFile | Input::Pipe => Outcome::Ran,
    }
}

/// Runs one cell and returns what happened, checking the audit log.
fn run_cell(
    input: Input,
    enforced: Enforced,
    backend: Backend,
    place: Place,
    mounts: &Places,
    home: &ExecutableHome,
) -> (Outcome, Outcome, String) {
    let name = format!("{input:?}-{enforced:?}");
    let dir = mounts.dir(place, &name);
    let marker_dir = mounts.dir(Place::Exec755, &format!("{name}-markers-{place:?}"));
    let marker = marker_dir.join("marker");
    let code = marking(&marker);
    let mode = place.mode();
    write(&dir.join("script.py"), &code, mode);
    write(&dir.join("mod.py"), &code, mode);
    let driver = write(
        &marker_dir.join("driver.py"),
        &format!(
            "import sys\nsys.path.insert(0, {:?})\nimport mod\n",
            dir.to_str().unwrap()
        ),
        0o755,
    );

    let sandbox = enforced.sandbox();
    let in_sandbox = |program: &OsStr| sandbox.command(program);
    let launch = backend.launcher(&in_sandbox);
    let mut cmd = enforced.command_with(mayexec_python().as_os_str(), &launch);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("PYTHONHOME", home.path())
        .current_dir(&marker_dir)
        .stdin(Stdio::null());
    match input {
        Input::Script => {
            cmd.arg(dir.join("script.py"));
        }
        Input::StdinFile => {
            cmd.stdin(File::open(dir.join("script.py")).unwrap());
        }
        Input::Pipe => {
            cmd.stdin(Stdio::piped());
        }
        Input::Command => {
            cmd.args([
                "-c",
                &format!(
                    "import sys; sys.path.insert(0, {:?}); import mod",
                    dir.to_str().unwrap()
                ),
            ]);
        }
        Input::Module => {
            cmd.args(["-m", "mod"]).current_dir(&dir);
        }
        Input::Import => {
            cmd.arg(&driver);
        }
    }
    let out = run(&mut cmd, (input == Input::Pipe).then_some(code.as_str()));
    let outcome = observe(&out, &marker);
    let expected = expected(input, enforced, place, &dir);
    let lines = sandbox.syslog_lines();
    check_audit(&expected, &lines, &out);
    (outcome, expected, describe(&out))
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The interpreter may refuse without reading: EPIPE is fine.
        let _ = pipe.write_all(text.as_bytes());
    }
    child.wait_with_output().expect("wait")
}

/// What the run shows.
fn observe(out: &Output, marker: &Path) -> Outcome {
    let ran = marker.exists();
    let err = stderr(out);
    if ran && out.status.code() == Some(0) {
        return Outcome::Ran;
    }
    if !ran && out.status.code() == Some(126) {
        // mayexec-python: LABEL: script execution denied (REASON)
        if let Some(rest) = err
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("mayexec-python: "))
        {
            if let Some((label, reason)) = rest.rsplit_once(": script execution denied (") {
                return Outcome::Refused {
                    label: label.to_owned(),
                    reason: leak(reason.trim_end_matches(')')),
                };
            }
        }
    }
    if !ran && out.status.code() == Some(1) {
        // PermissionError: [Errno 13] script execution denied (REASON): 'PATH'
        if let Some(rest) = err
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("PermissionError: [Errno 13] script execution denied ("))
        {
            if let Some((reason, path)) = rest.split_once("): ") {
                return Outcome::ImportDenied {
                    path: path.trim_matches('\'').to_owned(),
                    reason: leak(reason),
                };
            }
        }
    }
    Outcome::Refused {
        label: format!("unexpected: marker {ran}"),
        reason: "unexpected",
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Every denial is one syslog line naming the file and the reason, marked
/// enforced; nothing is logged for code that ran under no policy.
fn check_audit(expected: &Outcome, lines: &[String], out: &Output) {
    let wanted = match expected {
        Outcome::Ran => None,
        Outcome::Refused { label, reason } => Some((label.as_str(), *reason)),
        Outcome::ImportDenied { path, reason } => Some((path.as_str(), *reason)),
    };
    match wanted {
        None => assert!(
            !lines.iter().any(|l| l.contains("action=denied")),
            "no enforced denial expected: {lines:?}\n{}",
            describe(out)
        ),
        Some((path, reason)) => {
            assert!(
                lines.iter().any(|l| l.contains(&format!(" path={path} "))
                    && l.contains(&format!(" reason={reason} "))
                    && l.ends_with("action=denied")
                    && l.contains("program=mayexec-python")),
                "an audit line for {path} ({reason}) expected: {lines:?}\n{}",
                describe(out)
            );
        }
    }
}

/// Every enforcement × place for `input`, with the kernel's check and with
/// the emulated one.
fn table_row(input: Input, backend: Backend) {
    let mounts = Places::new();
    let home = ExecutableHome::new();
    let mut failures = Vec::new();
    let mut cells = 0;
    for enforced in Enforced::ALL {
        for place in Place::ALL {
            let (outcome, expected, details) =
                run_cell(input, enforced, backend, place, &mounts, &home);
            cells += 1;
            if outcome != expected {
                failures.push(format!(
                    "{input:?} × {enforced:?} × {place:?} × {backend:?}: expected {expected:?}, got {outcome:?}\n{details}"
                ));
            }
        }
    }
    assert_eq!(cells, 21);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

on_both_backends! {
    fn table_script_file(backend) {
        table_row(Input::Script, backend);
    }
}

on_both_backends! {
    fn table_stdin_redirected_from_the_file(backend) {
        table_row(Input::StdinFile, backend);
    }
}

on_both_backends! {
    fn table_stdin_from_a_pipe(backend) {
        table_row(Input::Pipe, backend);
    }
}

on_both_backends! {
    fn table_command_line_code_importing_the_module(backend) {
        table_row(Input::Command, backend);
    }
}

on_both_backends! {
    fn table_dash_m_module(backend) {
        table_row(Input::Module, backend);
    }
}

on_both_backends! {
    fn table_import_from_an_allowed_script(backend) {
        table_row(Input::Import, backend);
    }
}
