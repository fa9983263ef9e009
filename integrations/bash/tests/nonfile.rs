//! Code that does not come from a regular file: a FIFO, a device or a pipe
//! named as the script (`bash FIFO`, `bash /dev/null`, `bash <(…)`), and a
//! pipe on stdin. Under a policy they are refused at once — never a hang
//! waiting for a writer; without one bash reads them as stock bash does.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use mayexec_bash::{denial, require_root_and_bash, Exit, Outcome, STOCK_BASH};
use mayexec_testkit::{root_test, workspace_bin, SpecialFiles};

/// `timeout 20 mayexec run FLAG -- PROGRAM` (no flag: no policy): a hang
/// is status 124, never a stuck test.
fn bounded(flag: Option<&str>, program: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("20");
    if let Some(flag) = flag {
        cmd.arg(workspace_bin("mayexec")).args(["run", flag, "--"]);
    }
    cmd.arg(program);
    cmd
}

/// A writer that opens `fifo` (blocking until a reader comes) and writes
/// a command into it.
fn fifo_writer(fifo: &Path) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg("echo 'echo from the fifo' > \"$1\"")
        .arg("sh")
        .arg(fifo)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the FIFO's writer")
}

#[root_test]
fn a_fifo_named_as_the_script_is_refused_at_once_under_a_policy() {
    let Some(bash) =
        require_root_and_bash("a_fifo_named_as_the_script_is_refused_at_once_under_a_policy")
    else {
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    for flag in ["-f", "-i", "-fi"] {
        // No writer: a shell that waited for one would time out.
        let got = Outcome::of(bounded(Some(flag), &bash).arg(&fifo));
        assert_eq!(
            got,
            Outcome::refused(denial(&fifo, "not-regular-file")),
            "{flag}"
        );
    }
    // Without a policy the FIFO is read once a writer comes, as stock bash.
    let mut writer = fifo_writer(&fifo);
    let got = Outcome::of(bounded(None, &bash).arg(&fifo));
    let _ = writer.wait();
    assert_eq!(got, Outcome::ran("from the fifo\n"));
}

#[root_test]
fn devices_and_process_substitution_are_not_scripts_under_restrict_file() {
    let Some(bash) = require_root_and_bash(
        "devices_and_process_substitution_are_not_scripts_under_restrict_file",
    ) else {
        return;
    };
    let got = Outcome::of(bounded(Some("-f"), &bash).arg("/dev/null"));
    assert_eq!(
        got,
        Outcome::refused(denial("/dev/null", "not-regular-file"))
    );
    assert_eq!(
        Outcome::of(bounded(None, &bash).arg("/dev/null")),
        Outcome::of(bounded(None, Path::new(STOCK_BASH)).arg("/dev/null"))
    );

    // `bash <(…)`: the script is a pipe, /dev/fd/63 of the outer shell.
    let code = format!("'{}' <(echo 'echo from a pipe')", bash.display());
    let got = Outcome::of(
        bounded(Some("-f"), Path::new(STOCK_BASH))
            .arg("-c")
            .arg(&code),
    );
    assert_eq!(
        got,
        Outcome::refused(denial("/dev/fd/63", "not-regular-file"))
    );
    let got = Outcome::of(bounded(None, Path::new(STOCK_BASH)).arg("-c").arg(&code));
    assert_eq!(got, Outcome::ran("from a pipe\n"));
}

#[root_test]
fn dev_stdin_on_a_pipe_is_refused_under_deny_interactive() {
    let Some(bash) = require_root_and_bash("dev_stdin_on_a_pipe_is_refused_under_deny_interactive")
    else {
        return;
    };
    for name in ["/dev/stdin", "/proc/self/fd/0"] {
        let run = |flag: Option<&str>| {
            let mut echo = Command::new("echo")
                .arg("echo piped")
                .stdout(Stdio::piped())
                .spawn()
                .expect("start echo");
            let mut cmd = bounded(flag, &bash);
            cmd.arg(name)
                .stdin(echo.stdout.take().expect("echo's stdout"));
            let got = Outcome::of(&mut cmd);
            let _ = echo.wait();
            got
        };
        assert_eq!(
            run(Some("-i")),
            Outcome::refused(denial(name, "not-regular-file")),
            "{name}"
        );
        assert_eq!(run(None), Outcome::ran("piped\n"), "{name}");
        assert_eq!(run(Some("-i")).exit, Exit::Code(126));
    }
}
