//! Deny-interactive and "scripts" that are not files: `sh /dev/stdin`,
//! `sh /proc/self/fd/0` and `sh FIFO` carry piped code, so they are
//! interactive input, refused under `mayexec run -i` (without `-f`); with
//! no policy they run as with the stock build. A FIFO never makes the
//! shell hang: it is refused before anything waits for its writer. And
//! what `exec < other` inside a checked standard input does.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mayexec_busybox::{
    outcome_within, require_root_and_busybox, require_stock_busybox, Applet, Outcome, Shell,
};
use mayexec_testkit::{root_test, workspace_bin, SpecialFiles, Tmpfs};

const CODE: &str = "echo ran\n";

/// Far more than a refusal takes; a shell still running then waits for a
/// FIFO's writer that never comes.
const LIMIT: Duration = Duration::from_secs(10);

/// `SHELL ARG` with `CODE` piped to its standard input, under
/// `mayexec run -i` when `deny` is set.
fn with_piped_code(shell: &Shell, arg: &str, deny: bool) -> Outcome {
    let mut cmd = launch(shell, deny);
    cmd.arg(arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start busybox");
    let mut stdin = child.stdin.take().expect("stdin");
    // A refused shell may have exited already: a broken pipe is expected.
    let _ = stdin.write_all(CODE.as_bytes());
    drop(stdin);
    Outcome::from_output(child.wait_with_output().expect("wait for busybox"))
}

/// `busybox APPLET`, under `mayexec run -i` when `deny` is set.
fn launch(shell: &Shell, deny: bool) -> Command {
    shell.command(&|program: &std::ffi::OsStr| {
        if deny {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", "-i", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    })
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

#[root_test]
fn dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive() {
    let test = "dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        for arg in ["/dev/stdin", "/proc/self/fd/0"] {
            assert_eq!(
                with_piped_code(&shell, arg, true),
                Outcome::refused(shell.denial(arg, "not-regular-file")),
                "mayexec run -i -- {shell} {arg}"
            );
            assert_eq!(
                with_piped_code(&shell, arg, false),
                Outcome::ran("ran\n"),
                "{shell} {arg}, no policy"
            );
            assert_eq!(
                with_piped_code(&Shell::new(&stock, applet), arg, false),
                Outcome::ran("ran\n"),
                "stock {shell} {arg}"
            );
        }
    }
}

#[root_test]
fn a_regular_file_named_through_dev_stdin_runs_under_deny_interactive() {
    let Some(busybox) = require_root_and_busybox(
        "a_regular_file_named_through_dev_stdin_runs_under_deny_interactive",
    ) else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("script.sh", CODE, 0o755);
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let got = Outcome::of(
            launch(&shell, true)
                .arg("/dev/stdin")
                .stdin(std::fs::File::open(&script).expect("open the script")),
        );
        assert_eq!(
            got,
            Outcome::ran("ran\n"),
            "mayexec run -i -- {shell} /dev/stdin < 0755 file"
        );
    }
}

#[root_test]
fn a_fifo_named_as_the_script_is_refused_at_once_under_deny_interactive_and_runs_without() {
    let test =
        "a_fifo_named_as_the_script_is_refused_at_once_under_deny_interactive_and_runs_without";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        // Refused at once, without a writer: nothing waits for one.
        let got = outcome_within(launch(&shell, true).arg(&fifo), LIMIT)
            .unwrap_or_else(|| panic!("{shell} FIFO under mayexec run -i hangs"));
        assert_eq!(
            got,
            Outcome::refused(shell.denial(&fifo, "not-regular-file")),
            "mayexec run -i"
        );

        // `.` of a FIFO, with no writer, in an allowed script under
        // `mayexec run -f`: refused as a file that cannot be opened.
        let exec = Tmpfs::exec();
        let main = exec.write(
            "main.sh",
            format!(". {}\necho after\n", fifo.display()),
            0o755,
        );
        let mut cmd = shell.command(&|program: &std::ffi::OsStr| {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", "-f", "--"]).arg(program);
            cmd
        });
        let got = outcome_within(cmd.arg(&main), LIMIT)
            .unwrap_or_else(|| panic!("{shell}: `. FIFO` under mayexec run -f hangs"));
        assert_eq!(got.exit, mayexec_busybox::Exit::Code(2), ". FIFO: {got}");
        assert_eq!(got.stdout, "", ". FIFO: {got}");

        // No policy: the shell waits for the writer and runs what it wrote.
        for busybox in [&busybox, &stock] {
            let shell = Shell::new(busybox, applet);
            let mut writer = fifo_writer(&fifo);
            let got = Outcome::of(shell.command(&|p| Command::new(p)).arg(&fifo));
            let status = writer.wait().expect("wait for the writer");
            assert!(status.success(), "the writer wrote: {status}");
            assert_eq!(
                got,
                Outcome::ran("ran\n"),
                "{} {shell} FIFO, no policy",
                busybox.display()
            );
        }
    }
}

/// `exec < other` in a checked standard input: ash goes on reading
/// commands from its new standard input, unchecked. Not re-checked: like
/// `eval "$(cat other)"`, that is the allowed script's own decision.
#[root_test]
fn exec_redirecting_stdin_in_a_checked_stdin_script_is_the_scripts_decision() {
    let Some(busybox) = require_root_and_busybox(
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
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        for deny in [true, false] {
            let got = Outcome::of(
                launch(&shell, deny).stdin(std::fs::File::open(&main).expect("open main.sh")),
            );
            assert_eq!(
                got,
                Outcome::ran("main ran\nother ran\n"),
                "{shell} < main.sh, deny-interactive {deny}"
            );
        }
    }
}
