//! Code from the environment: functions imported from `BASH_FUNC_name%%`
//! variables, and the prompt strings and hooks of an interactive shell
//! (`PROMPT_COMMAND`, `PS0`–`PS2`; `PS4`, which traces `-x`, is the
//! conformance suite's). Under deny-interactive they are not imported or get
//! bash's defaults back; in audit mode they are logged and kept; without a
//! policy, and when a script sets them itself, they run as with stock bash.

use std::fs::File;
use std::process::Command;

use mayexec_bash::{denial, BUILT};
use mayexec_testkit::conformance::{assert_one_line, mayexec_run};
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::{root_test, Sandbox, Tmpfs};

const FUNCTION: (&str, &str) = ("BASH_FUNC_f%%", "() { echo imported; }");

#[root_test]
fn functions_from_the_environment_are_not_imported_under_deny_interactive() {
    let Some(bash) =
        BUILT.require("functions_from_the_environment_are_not_imported_under_deny_interactive")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("calls-f.sh", "f\necho \"status $?\"\n", 0o755);
    let imported = Outcome::ran("imported\nstatus 0\n");
    let not_imported = Outcome {
        exit: Exit::Code(0),
        stdout: "status 127\n".to_owned(),
        stderr: format!("{}: line 1: f: command not found\n", script.display()),
    };

    let run = |cmd: &mut Command| Outcome::of(cmd.arg(&script).env(FUNCTION.0, FUNCTION.1));
    assert_eq!(run(&mut Command::new(&bash)), imported);
    assert_eq!(run(&mut mayexec_run("-f", &bash)), imported);
    assert_eq!(run(&mut mayexec_run("-i", &bash)), not_imported);
    assert_eq!(run(&mut mayexec_run("-fi", &bash)), not_imported);

    // The policy's deny_interactive: refused and logged; audit: logged, kept.
    for (policy, want, action) in [
        ("deny_interactive = true\n", &not_imported, "denied"),
        (
            "deny_interactive = true\nmode = \"audit\"\n",
            &imported,
            "audit",
        ),
    ] {
        let sandbox = Sandbox::new().policy(policy).capture_syslog();
        // The sandbox starts its command from a POSIX shell, which drops
        // variables whose names are not identifiers: `env` sets it after.
        let mut cmd = sandbox.command("env");
        cmd.arg(format!("{}={}", FUNCTION.0, FUNCTION.1)).arg(&bash);
        assert_eq!(&run(&mut cmd), want, "{policy}");
        assert_one_line(
            &sandbox.syslog_lines(),
            "BASH_FUNC_f%%",
            "interactive",
            action,
        );
    }
}

#[root_test]
fn prompt_hooks_of_an_interactive_shell_are_logged_in_audit_mode() {
    let Some(bash) = BUILT.require("prompt_hooks_of_an_interactive_shell_are_logged_in_audit_mode")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let input = exec.write("input", "echo main\n", 0o755);
    let sandbox = Sandbox::new()
        .policy("deny_interactive = true\nmode = \"audit\"\n")
        .capture_syslog();
    let got = Outcome::of(
        sandbox
            .command(&bash)
            .args(["--norc", "-i"])
            .env("PROMPT_COMMAND", "echo hook")
            .env("PS0", "zero")
            .stdin(File::open(&input).expect("open the input")),
    );
    assert_eq!(got.exit, Exit::Code(0), "{got}");
    assert!(got.stdout.contains("hook\n"), "kept in audit mode: {got}");
    let lines = sandbox.syslog_lines();
    for label in ["<stdin>", "PS0", "PROMPT_COMMAND"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!(" path={label} ")) && l.ends_with(" action=audit")),
            "{label} in {lines:#?}"
        );
    }

    // Under deny-interactive the interactive shell itself is refused.
    let refused = Outcome::of(
        mayexec_run("-i", &bash)
            .args(["--norc", "-i"])
            .env("PROMPT_COMMAND", "echo hook")
            .stdin(File::open(&input).expect("open the input")),
    );
    assert_eq!(refused, Outcome::refused(denial("<stdin>", "interactive")));
}
