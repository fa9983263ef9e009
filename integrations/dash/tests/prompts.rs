//! Prompt strings from the environment: dash expands `PS1`, `PS2` and
//! `PS4` (the trace of `-x`) with command substitution, so an imported
//! `PS4='$(cmd)'` is code from no file. Under deny-interactive it gets
//! dash's default back; in audit mode it is logged and kept; without a
//! policy, and when a script sets it itself, it runs as with stock dash.

use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_dash::{require_root_and_dash, Exit, Outcome, STOCK_DASH};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, TempDir, Tmpfs};

/// Where the prompt strings' commands leave their traces, and the
/// environment that carries them.
struct Traces {
    dir: TempDir,
}

impl Traces {
    fn new() -> Traces {
        Traces {
            dir: TempDir::new(),
        }
    }

    /// `$(touch DIR/NAME)+ `: a prompt string that runs a command.
    fn prompt(&self, name: &str) -> String {
        format!("$(touch {})+ ", self.path(name).display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Which of PS1, PS2, PS4 ran their command (and forgets them).
    fn ran(&self) -> Vec<&'static str> {
        ["PS1", "PS2", "PS4"]
            .into_iter()
            .filter(|name| std::fs::remove_file(self.path(name)).is_ok())
            .collect()
    }

    /// PS1, PS2 and PS4 in `cmd`'s environment, each running a command.
    fn export(&self, cmd: &mut Command) {
        for name in ["PS1", "PS2", "PS4"] {
            cmd.env(name, self.prompt(name));
        }
    }
}

/// Scripts on an exec mount: `set -x` then `echo ran`; and one that
/// turns itself interactive (`set -i`) and reads a two-line command, so
/// that dash prints PS1 and PS2 while it reads the rest of the file.
struct Scripts {
    _exec: Tmpfs,
    traced: PathBuf,
    plain: PathBuf,
    prompted: PathBuf,
}

impl Scripts {
    fn new() -> Scripts {
        let exec = Tmpfs::exec();
        Scripts {
            traced: exec.write("traced.sh", "set -x\necho ran\n", 0o755),
            plain: exec.write("plain.sh", "echo ran\n", 0o755),
            prompted: exec.write("prompted.sh", "set -i\necho \"a\nb\"\n", 0o755),
            _exec: exec,
        }
    }
}

fn deny_interactive(program: &Path) -> Command {
    let mut cmd = Command::new(workspace_bin("mayexec"));
    cmd.args(["run", "-i", "--"]).arg(program);
    cmd
}

fn traced_ran(trace: &str) -> Outcome {
    Outcome {
        exit: Exit::Code(0),
        stdout: "ran\n".to_owned(),
        stderr: format!("{trace}echo ran\n"),
    }
}

#[root_test]
fn prompt_strings_from_the_environment_run_no_code_under_deny_interactive() {
    let Some(dash) = require_root_and_dash(
        "prompt_strings_from_the_environment_run_no_code_under_deny_interactive",
    ) else {
        return;
    };
    let s = Scripts::new();
    let traces = Traces::new();

    // set -x in an allowed script, and dash -x: the default PS4 traces.
    let mut cmd = deny_interactive(&dash);
    cmd.arg(&s.traced);
    traces.export(&mut cmd);
    assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "set -x");
    assert_eq!(traces.ran(), Vec::<&str>::new(), "set -x");

    let mut cmd = deny_interactive(&dash);
    cmd.arg("-x").arg(&s.plain);
    traces.export(&mut cmd);
    assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "dash -x");
    assert_eq!(traces.ran(), Vec::<&str>::new(), "dash -x");

    // PS1 and PS2 of a script that makes itself interactive.
    let mut cmd = deny_interactive(&dash);
    cmd.arg(&s.prompted);
    traces.export(&mut cmd);
    let got = Outcome::of(&mut cmd);
    assert_eq!(got.exit, Exit::Code(0), "set -i: {got}");
    assert_eq!(got.stdout, "a\nb\n", "set -i");
    assert_eq!(
        got.stderr, "# > # \n",
        "set -i: the default prompts of root"
    );
    assert_eq!(traces.ran(), Vec::<&str>::new(), "set -i");

    // Unexported: a child does not get the environment's value either.
    let child = s
        ._exec
        .write("env.sh", "env | grep '^PS' || echo none\n", 0o755);
    let mut cmd = deny_interactive(&dash);
    cmd.arg(&child);
    traces.export(&mut cmd);
    assert_eq!(Outcome::of(&mut cmd).stdout, "none\n", "not exported");
}

#[root_test]
fn without_a_policy_prompt_strings_from_the_environment_run_as_with_stock_dash() {
    let Some(dash) = require_root_and_dash(
        "without_a_policy_prompt_strings_from_the_environment_run_as_with_stock_dash",
    ) else {
        return;
    };
    let s = Scripts::new();
    let traces = Traces::new();
    for shell in [dash.as_path(), Path::new(STOCK_DASH)] {
        let mut cmd = Command::new(shell);
        cmd.arg(&s.traced);
        traces.export(&mut cmd);
        assert_eq!(
            Outcome::of(&mut cmd),
            traced_ran("+ "),
            "{}",
            shell.display()
        );
        assert_eq!(traces.ran(), ["PS4"], "{}", shell.display());

        let mut cmd = Command::new(shell);
        cmd.arg(&s.prompted);
        traces.export(&mut cmd);
        let got = Outcome::of(&mut cmd);
        assert_eq!(got.stdout, "a\nb\n", "{}: {got}", shell.display());
        assert_eq!(traces.ran(), ["PS1", "PS2"], "{}", shell.display());
    }
}

#[root_test]
fn a_prompt_string_the_script_sets_itself_is_the_scripts_own() {
    let Some(dash) =
        require_root_and_dash("a_prompt_string_the_script_sets_itself_is_the_scripts_own")
    else {
        return;
    };
    let traces = Traces::new();
    let exec = Tmpfs::exec();
    let script = exec.write(
        "own.sh",
        format!("PS4='{}'\nset -x\necho ran\n", traces.prompt("PS4")),
        0o755,
    );
    let got = Outcome::of(deny_interactive(&dash).arg(&script));
    assert_eq!(got, traced_ran("+ "), "mayexec run -i");
    assert_eq!(traces.ran(), ["PS4"], "the script's own PS4 ran");
}

#[root_test]
fn the_policy_file_logs_imported_prompt_strings_and_audit_mode_keeps_them() {
    let Some(dash) = require_root_and_dash(
        "the_policy_file_logs_imported_prompt_strings_and_audit_mode_keeps_them",
    ) else {
        return;
    };
    let s = Scripts::new();
    let traces = Traces::new();
    for (policy, ran, action) in [
        ("deny_interactive = true\n", vec![], "denied"),
        (
            "deny_interactive = true\nmode = \"audit\"\n",
            vec!["PS4"],
            "audit",
        ),
    ] {
        let sandbox = Sandbox::new().policy(policy).capture_syslog();
        let mut cmd = sandbox.command(&dash);
        cmd.arg(&s.traced)
            .env("PS4", traces.prompt("PS4"))
            // The default value is no code: nothing to log.
            .env("PS2", "> ");
        assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "{policy}");
        assert_eq!(traces.ran(), ran, "{policy}");
        let lines = sandbox.syslog_lines();
        assert_eq!(lines.len(), 1, "{policy}: {lines:#?}");
        let line = &lines[0];
        assert!(line.contains(" path=PS4 "), "{policy}: {line}");
        assert!(line.contains(" reason=interactive "), "{policy}: {line}");
        assert!(
            line.ends_with(&format!(" action={action}")),
            "{policy}: {line}"
        );
    }
    // No deny_interactive: nothing is asked, nothing logged.
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\n")
        .capture_syslog();
    let mut cmd = sandbox.command(&dash);
    cmd.arg(&s.traced).env("PS4", traces.prompt("PS4"));
    assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "));
    assert_eq!(traces.ran(), ["PS4"]);
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
}
