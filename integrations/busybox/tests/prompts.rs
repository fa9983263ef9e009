//! Prompt strings from the environment: ash expands `PS1`, `PS2` and `PS4`
//! (the trace of `-x`) with command substitution, so an imported
//! `PS4='$(cmd)'` is code from no file. Under deny-interactive it gets
//! ash's default back, unexported (`PS1` and `PS2` too, though an
//! interactive shell is refused there anyway); in audit mode it is logged
//! and kept; without a policy, and when a script sets it itself, it runs
//! as with the stock build.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use mayexec_busybox::{
    require_root_and_busybox, require_stock_busybox, Applet, Exit, Outcome, Shell,
};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, TempDir, Tmpfs};

/// Where the prompt strings' commands leave their traces.
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

/// Scripts on an exec mount: `set -x` then `echo ran`, and `echo ran`.
struct Scripts {
    exec: Tmpfs,
    traced: PathBuf,
    plain: PathBuf,
}

impl Scripts {
    fn new() -> Scripts {
        let exec = Tmpfs::exec();
        Scripts {
            traced: exec.write("traced.sh", "set -x\necho ran\n", 0o755),
            plain: exec.write("plain.sh", "echo ran\n", 0o755),
            exec,
        }
    }
}

fn deny_interactive(shell: &Shell) -> Command {
    shell.command(&|program: &OsStr| {
        let mut cmd = Command::new(workspace_bin("mayexec"));
        cmd.args(["run", "-i", "--"]).arg(program);
        cmd
    })
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
    let Some(busybox) = require_root_and_busybox(
        "prompt_strings_from_the_environment_run_no_code_under_deny_interactive",
    ) else {
        return;
    };
    let s = Scripts::new();
    let traces = Traces::new();
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        // set -x in an allowed script, and sh -x: the default PS4 traces.
        let mut cmd = deny_interactive(&shell);
        cmd.arg(&s.traced);
        traces.export(&mut cmd);
        assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "{shell}: set -x");
        assert_eq!(traces.ran(), Vec::<&str>::new(), "{shell}: set -x");

        let mut cmd = deny_interactive(&shell);
        cmd.arg("-x").arg(&s.plain);
        traces.export(&mut cmd);
        assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "{shell} -x");
        assert_eq!(traces.ran(), Vec::<&str>::new(), "{shell} -x");

        // Unexported: a child does not get the environment's value either.
        let child = s
            .exec
            .write("env.sh", "env | grep '^PS' || echo none\n", 0o755);
        let mut cmd = deny_interactive(&shell);
        cmd.arg(&child);
        traces.export(&mut cmd);
        assert_eq!(
            Outcome::of(&mut cmd).stdout,
            "none\n",
            "{shell}: not exported"
        );
    }
}

#[root_test]
fn without_a_policy_prompt_strings_from_the_environment_run_as_with_the_stock_build() {
    let test = "without_a_policy_prompt_strings_from_the_environment_run_as_with_the_stock_build";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let s = Scripts::new();
    let traces = Traces::new();
    for applet in Applet::ALL {
        for busybox in [&busybox, &stock] {
            let shell = Shell::new(busybox, applet);
            let mut cmd = shell.command(&|p| Command::new(p));
            cmd.arg(&s.traced);
            traces.export(&mut cmd);
            let got = Outcome::of(&mut cmd);
            assert_eq!(got, traced_ran("+ "), "{}", busybox.display());
            assert_eq!(traces.ran(), ["PS4"], "{}", busybox.display());
        }
    }
}

#[root_test]
fn a_prompt_string_the_script_sets_itself_is_the_scripts_own() {
    let Some(busybox) =
        require_root_and_busybox("a_prompt_string_the_script_sets_itself_is_the_scripts_own")
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
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let got = Outcome::of(deny_interactive(&shell).arg(&script));
        assert_eq!(got, traced_ran("+ "), "{shell}: mayexec run -i");
        assert_eq!(traces.ran(), ["PS4"], "{shell}: the script's own PS4 ran");
    }
}

#[root_test]
fn the_policy_file_logs_imported_prompt_strings_and_audit_mode_keeps_them() {
    let Some(busybox) = require_root_and_busybox(
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
        let mut cmd = sandbox.command(&busybox);
        cmd.arg("sh").arg(&s.traced);
        traces.export(&mut cmd);
        assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "), "{policy}");
        assert_eq!(traces.ran(), ran, "{policy}");
        let lines = sandbox.syslog_lines();
        assert_eq!(lines.len(), 3, "{policy}: {lines:#?}");
        for name in ["PS1", "PS2", "PS4"] {
            let line = lines
                .iter()
                .find(|line| line.contains(&format!(" path={name} ")))
                .unwrap_or_else(|| panic!("{policy}: no line about {name} in {lines:#?}"));
            assert!(line.contains(" reason=interactive "), "{policy}: {line}");
            assert!(
                line.ends_with(&format!(" action={action}")),
                "{policy}: {line}"
            );
        }
    }
    // The default value is no code: nothing to log.
    let sandbox = Sandbox::new()
        .policy("deny_interactive = true\n")
        .capture_syslog();
    let got = Outcome::of(
        sandbox
            .command(&busybox)
            .arg("sh")
            .arg(&s.plain)
            .env("PS2", "> ")
            .env("PS4", "+ "),
    );
    assert_eq!(got, Outcome::ran("ran\n"));
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
    // No deny_interactive: nothing is asked, nothing logged.
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\n")
        .capture_syslog();
    let mut cmd = sandbox.command(&busybox);
    cmd.arg("sh")
        .arg(&s.traced)
        .env("PS4", traces.prompt("PS4"));
    assert_eq!(Outcome::of(&mut cmd), traced_ran("+ "));
    assert_eq!(traces.ran(), ["PS4"]);
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
}
