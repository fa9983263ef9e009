//! Code from no file: what an option, an environment variable or a prompt
//! hands an interpreter without a checked file behind it (`BASH_ENV='$(…)'`,
//! `perl -M'strict;…'`, `python3 -m timeit CODE`, `awk 'PROGRAM'`).
//!
//! The contract (`docs/semantics.md` §3.1) is the same for every
//! interpreter and every such way in, so it is written once, here:
//!
//! | enforcement | the code |
//! |---|---|
//! | none, `mayexec run -f` | runs, as with the stock build; nothing is logged |
//! | `mayexec run -i`, `mayexec run -fi`, `deny_interactive = true` | refused, and logged (`reason=interactive`, `action=denied`) |
//! | `deny_interactive = true` with `mode = "audit"` | runs, and is logged (`action=audit`) |
//!
//! each as root and as `nobody`. [`CodeFromNoFile::assert_contract`] runs
//! one way in through all twelve and reports every cell that differs. The
//! code must write a marker (to stdout or stderr) when it runs: its
//! presence proves that the way in is real (the test fails on a build that
//! does not refuse it), its absence that it was refused.
//!
//! ```no_run
//! use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
//!
//! CodeFromNoFile::new("BASH_ENV with a command substitution", "/usr/bin/bash")
//!     .env("BASH_ENV", "$(echo INJECTED >&2)")
//!     .args(["-c", ":"])
//!     .marker("INJECTED")
//!     .label("BASH_ENV")
//!     .refusal(Refusal::Whole("bash: BASH_ENV: script execution denied (interactive)\n".into()))
//!     .assert_contract();
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::interp::{Enforced, Exit, Outcome};
use crate::{Sandbox, NOBODY};

/// How a refusal shows, beyond the marker's absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The interpreter refuses to run at all: status 126, nothing on
    /// stdout, exactly this on stderr (see [`crate::interp::denial`]).
    Whole(String),
    /// The interpreter runs without the code (the variable is ignored, the
    /// translation is not expanded): exactly this outcome.
    Without(Outcome),
    /// The interpreter fails the way it fails for this input when it cannot
    /// have it (its own error): this status, and stderr containing this.
    Fails(i32, String),
}

/// Where a run happens: an enforcement, for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Nothing,
    RunF,
    RunI,
    RunFI,
    Policy,
    PolicyAudit,
}

impl Cell {
    const ALL: [Cell; 6] = [
        Cell::Nothing,
        Cell::RunF,
        Cell::RunI,
        Cell::RunFI,
        Cell::Policy,
        Cell::PolicyAudit,
    ];

    /// The `mayexec run` flags, if any.
    fn enforced(self) -> Enforced {
        match self {
            Cell::RunF => Enforced::RunF,
            Cell::RunI => Enforced::RunI,
            Cell::RunFI => Enforced::RunFI,
            Cell::Nothing | Cell::Policy | Cell::PolicyAudit => Enforced::Nothing,
        }
    }

    fn policy(self) -> Option<&'static str> {
        match self {
            Cell::Policy => Some("deny_interactive = true\n"),
            Cell::PolicyAudit => Some("deny_interactive = true\nmode = \"audit\"\n"),
            _ => None,
        }
    }

    fn refuses(self) -> bool {
        matches!(self, Cell::RunI | Cell::RunFI | Cell::Policy)
    }

    /// The audit line's `action=`, where one is due.
    fn logs(self) -> Option<&'static str> {
        match self {
            Cell::RunI | Cell::RunFI | Cell::Policy => Some("denied"),
            Cell::PolicyAudit => Some("audit"),
            Cell::Nothing | Cell::RunF => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cell::Nothing => "no policy",
            Cell::RunF => "mayexec run -f",
            Cell::RunI => "mayexec run -i",
            Cell::RunFI => "mayexec run -fi",
            Cell::Policy => "deny_interactive = true",
            Cell::PolicyAudit => "deny_interactive = true, mode = \"audit\"",
        }
    }
}

/// One way of handing an interpreter code that is not a checked file.
#[derive(Debug, Clone)]
pub struct CodeFromNoFile {
    what: String,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    marker: String,
    label: String,
    reason: String,
    refusal: Option<Refusal>,
    users: Vec<u32>,
    limit: Duration,
}

impl CodeFromNoFile {
    /// `what` names the way in for the report; `program` is the interpreter.
    pub fn new(what: impl Into<String>, program: impl AsRef<Path>) -> CodeFromNoFile {
        CodeFromNoFile {
            what: what.into(),
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            dir: None,
            marker: String::new(),
            label: String::new(),
            reason: "interactive".to_owned(),
            refusal: None,
            users: vec![0, NOBODY],
            limit: Duration::from_secs(30),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable (any name: `BASH_FUNC_f%%` too).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets environment variables, in order.
    pub fn envs<I, K, V>(self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter()
            .fold(self, |way, (name, value)| way.env(name, value))
    }

    /// Feeds `text` on standard input through a pipe (default: `/dev/null`).
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(text.into());
        self
    }

    /// Runs the interpreter in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// The text the code writes when it runs, and only then.
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = marker.into();
        self
    }

    /// The audit line's `path=` for the refusal (`PS4`, `-M`, `-m timeit`),
    /// as the line writes it (see `docs/semantics.md` §5).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// The audit line's `reason=` (default `interactive`; a pipe named as a
    /// program file is `not-regular-file`).
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    /// What a refusal looks like besides the marker's absence.
    pub fn refusal(mut self, refusal: Refusal) -> Self {
        self.refusal = Some(refusal);
        self
    }

    /// Runs only as these users (default: root and `nobody`). For a way in
    /// that one of them does not have (bash ignores `PS4` from the
    /// environment for root, say), with the reason in the caller.
    pub fn users(mut self, users: &[u32]) -> Self {
        self.users = users.to_vec();
        self
    }

    /// Checks the contract in every cell, as every user; panics with a
    /// report of every cell that differs.
    pub fn assert_contract(&self) {
        assert!(!self.marker.is_empty(), "{}: no marker", self.what);
        assert!(!self.label.is_empty(), "{}: no label", self.what);
        let refusal = self
            .refusal
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no refusal", self.what));
        let mut report = String::new();
        for &uid in &self.users {
            for cell in Cell::ALL {
                let (got, lines) = self.run(cell, uid);
                if let Some(fault) = self.judge(cell, refusal, &got, &lines) {
                    let user = if uid == 0 { "root" } else { "nobody" };
                    let _ = writeln!(
                        report,
                        "  {} as {user}: {fault}\n    got: {got}\n    syslog: {lines:?}",
                        cell.name()
                    );
                }
            }
        }
        assert!(
            report.is_empty(),
            "{} ({}):\n{report}",
            self.what,
            self.program.display()
        );
    }

    fn judge(
        &self,
        cell: Cell,
        refusal: &Refusal,
        got: &Outcome,
        lines: &[String],
    ) -> Option<String> {
        let ran = got.stdout.contains(&self.marker) || got.stderr.contains(&self.marker);
        if cell.refuses() {
            if ran {
                return Some("the code ran".into());
            }
            match refusal {
                Refusal::Whole(message) => {
                    let want = Outcome::refused(message.clone());
                    if *got != want {
                        return Some(format!("want {want}"));
                    }
                }
                Refusal::Without(want) => {
                    if got != want {
                        return Some(format!("want {want}"));
                    }
                }
                Refusal::Fails(status, text) => {
                    if got.exit != Exit::Code(*status) || !got.stderr.contains(text.as_str()) {
                        return Some(format!("want status {status} and {text:?} on stderr"));
                    }
                }
            }
        } else if !ran {
            return Some(format!("the code did not run (no {:?})", self.marker));
        }
        let ours = |action: &str| {
            lines.iter().any(|l| {
                l.contains(&format!(" path={} reason={} ", self.label, self.reason))
                    && l.ends_with(&format!(" action={action}"))
            })
        };
        match cell.logs() {
            Some(action) if !ours(action) => Some(format!(
                "no audit line with path={} reason={} … action={action}",
                self.label, self.reason
            )),
            None if !lines.is_empty() => Some("logged without a policy".into()),
            _ => None,
        }
    }

    /// One run: in a sandbox (its policy, its syslog) as `uid`, wrapped in
    /// `mayexec run` for the securebits cells. Variables are set by `env`
    /// so that names a POSIX shell drops survive the sandbox.
    fn run(&self, cell: Cell, uid: u32) -> (Outcome, Vec<String>) {
        let mut sandbox = Sandbox::new().capture_syslog();
        if let Some(policy) = cell.policy() {
            sandbox = sandbox.policy(policy);
        }
        if uid != 0 {
            sandbox = sandbox.as_user(uid, uid);
        }
        // `env -- NAME=VALUE… PROGRAM`: after the assignments, `--` would
        // be the command.
        let mut cmd = cell.enforced().command(&sandbox, "/usr/bin/env");
        cmd.arg("--");
        for (name, value) in &self.env {
            let mut pair = name.clone();
            pair.push("=");
            pair.push(value);
            cmd.arg(pair);
        }
        cmd.arg(&self.program).args(&self.args);
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        let got = bounded(&mut cmd, self.stdin.as_deref(), self.limit);
        (got, sandbox.syslog_lines())
    }
}

/// Runs `cmd` with `stdin` piped in (or `/dev/null`), killed after
/// `limit`: an interpreter that waits for input fails the cell instead of
/// hanging the test.
fn bounded(cmd: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Outcome {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Outcome {
                exit: Exit::NotStarted(e.raw_os_error().unwrap_or(-1)),
                stdout: String::new(),
                stderr: e.to_string(),
            }
        }
    };
    // Both pipes are drained while the program runs, so that one that
    // writes much never blocks on a full pipe and times out.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let writer = stdin.map(|text| {
        let mut pipe = child.stdin.take().expect("a piped stdin");
        let text = text.to_vec();
        // A program that never reads its input gets EPIPE: not a failure.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&text);
        })
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break child.wait().expect("wait for the killed command");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Outcome::from_output(Output {
        status,
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    })
}
