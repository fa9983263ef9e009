//! Deny-interactive and "scripts" that are not files: `dash /dev/stdin`,
//! `dash /proc/self/fd/0` and `dash FIFO` carry piped code, so they are
//! interactive input, refused under `mayexec run -i` (without `-f`); with
//! no policy they run as with stock dash. And what `exec < other` inside a
//! checked standard input does.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use mayexec_dash::{denial, require_root_and_dash, Exit, Outcome, STOCK_DASH};
use mayexec_testkit::{root_test, workspace_bin, SpecialFiles, Tmpfs};

const CODE: &str = "echo ran\n";

/// `dash ARG` with `CODE` piped to its standard input, under
/// `mayexec run -i` when `deny` is set.
fn with_piped_code(dash: &Path, arg: &str, deny: bool) -> Outcome {
    let mut cmd = launch(dash, deny);
    cmd.arg(arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start dash");
    let mut stdin = child.stdin.take().expect("stdin");
    // A refused shell may have exited already: a broken pipe is expected.
    let _ = stdin.write_all(CODE.as_bytes());
    drop(stdin);
    Outcome::from_output(child.wait_with_output().expect("wait for dash"))
}

fn launch(program: &Path, deny: bool) -> Command {
    if !deny {
        return Command::new(program);
    }
    let mut cmd = Command::new(workspace_bin("mayexec"));
    cmd.args(["run", "-i", "--"]).arg(program);
    cmd
}

/// A writer that opens `fifo` (blocking until a reader comes) and writes
/// `CODE`.
fn fifo_writer(fifo: &Path) -> Child {
    Command::new("/bin/sh")
        .args(["-c", "printf 'echo ran\\n' > \"$0\""])
        .arg(fifo)
        .spawn()
        .expect("start the FIFO's writer")
}

fn ran() -> Outcome {
    Outcome {
        exit: Exit::Code(0),
        stdout: "ran\n".to_owned(),
        stderr: String::new(),
    }
}

fn denied(label: &str, reason: &str) -> Outcome {
    Outcome {
        exit: Exit::Code(126),
        stdout: String::new(),
        stderr: denial(label, reason),
    }
}

#[root_test]
fn dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive() {
    let Some(dash) = require_root_and_dash(
        "dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive",
    ) else {
        return;
    };
    for arg in ["/dev/stdin", "/proc/self/fd/0"] {
        assert_eq!(
            with_piped_code(&dash, arg, true),
            denied(arg, "not-regular-file"),
            "mayexec run -i -- dash {arg}"
        );
        assert_eq!(
            with_piped_code(&dash, arg, false),
            ran(),
            "dash {arg}, no policy"
        );
        assert_eq!(
            with_piped_code(Path::new(STOCK_DASH), arg, false),
            ran(),
            "{STOCK_DASH} {arg}"
        );
    }
}

#[root_test]
fn a_regular_file_named_through_dev_stdin_runs_under_deny_interactive() {
    let Some(dash) =
        require_root_and_dash("a_regular_file_named_through_dev_stdin_runs_under_deny_interactive")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("script.sh", CODE, 0o755);
    let got = Outcome::of(
        launch(&dash, true)
            .arg("/dev/stdin")
            .stdin(std::fs::File::open(&script).expect("open the script")),
    );
    assert_eq!(got, ran(), "mayexec run -i -- dash /dev/stdin < 0755 file");
}

#[root_test]
fn a_fifo_named_as_the_script_is_refused_under_deny_interactive_and_runs_without() {
    let Some(dash) = require_root_and_dash(
        "a_fifo_named_as_the_script_is_refused_under_deny_interactive_and_runs_without",
    ) else {
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    let label = fifo.to_str().expect("a UTF-8 path");

    // Refused at once, without waiting for the writer (which then still
    // waits for a reader and is ended here).
    let mut writer = fifo_writer(&fifo);
    let got = Outcome::of(launch(&dash, true).arg(&fifo));
    let _ = writer.kill();
    let _ = writer.wait();
    assert_eq!(got, denied(label, "not-regular-file"), "mayexec run -i");

    // No policy: the shell waits for the writer and runs what it wrote.
    for shell in [dash.as_path(), Path::new(STOCK_DASH)] {
        let mut writer = fifo_writer(&fifo);
        let got = Outcome::of(Command::new(shell).arg(&fifo));
        let status = writer.wait().expect("wait for the writer");
        assert!(status.success(), "the writer wrote: {status}");
        assert_eq!(got, ran(), "{} FIFO, no policy", shell.display());
    }
}

/// `exec < other` in a checked standard input: dash goes on reading
/// commands from its new standard input, unchecked. Not re-checked: like
/// `eval "$(cat other)"`, that is the allowed script's own decision (a
/// re-check would also refuse the common `exec < data; while read …`,
/// whose end of file dash reads from the data file).
#[root_test]
fn exec_redirecting_stdin_in_a_checked_stdin_script_is_the_scripts_decision() {
    let Some(dash) = require_root_and_dash(
        "exec_redirecting_stdin_in_a_checked_stdin_script_is_the_scripts_decision",
    ) else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let other = noexec.write("other.sh", "echo other ran\n", 0o644);
    let main = exec.write(
        "main.sh",
        format!("exec < {}\necho main ran\n", other.display()),
        0o755,
    );
    for deny in [true, false] {
        let got = Outcome::of(
            launch(&dash, deny).stdin(std::fs::File::open(&main).expect("open main.sh")),
        );
        assert_eq!(
            got,
            Outcome {
                exit: Exit::Code(0),
                stdout: "main ran\nother ran\n".to_owned(),
                stderr: String::new(),
            },
            "dash < main.sh, deny-interactive {deny}"
        );
    }
}
