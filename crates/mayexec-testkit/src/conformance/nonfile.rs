//! Code that does not come from a regular file: a FIFO, a device or a pipe
//! named as the program (`sh FIFO`, `sh /dev/null`, `sh <(…)`), a pipe
//! behind `/dev/stdin`, and code on the command line. Under a policy they
//! are refused at once — never a hang waiting for a writer; without one
//! they run as with the stock interpreter.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{mayexec_run, Interpreter, Way};
use crate::interp::{outcome_within, Outcome};
use crate::nofile::{CodeFromNoFile, Refusal};
use crate::{SpecialFiles, Tmpfs};

/// Far more than a refusal takes; a run still going then waits for a
/// FIFO's writer that never comes.
const LIMIT: Duration = Duration::from_secs(20);

/// A writer that opens `fifo` (blocking until a reader comes) and writes
/// `code` into it.
fn fifo_writer(fifo: &Path, code: &str) -> Child {
    Command::new("/bin/sh")
        .args(["-c", "printf '%s' \"$1\" > \"$2\"", "sh", code])
        .arg(fifo)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the FIFO's writer")
}

/// The interpreter (`program`) under `mayexec run FLAG`, or plain.
fn launch(interp: &Interpreter, program: &Path, flag: Option<&str>) -> Command {
    match flag {
        Some(flag) => interp.under(flag, program),
        None => interp.plain(program),
    }
}

/// `… FIFO` with no writer is refused at once under every securebit;
/// without a policy the FIFO is read once a writer comes, by the
/// enlightened interpreter as by the stock one.
pub fn a_fifo_named_as_the_program_is_refused_at_once_under_a_policy(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    for flag in ["-f", "-i", "-fi"] {
        let got = outcome_within(launch(interp, &ours, Some(flag)).arg(&fifo), LIMIT)
            .unwrap_or_else(|| panic!("FIFO under mayexec run {flag} hangs"));
        assert_eq!(
            got,
            Outcome::refused(interp.denial(&fifo, "not-regular-file")),
            "{flag}"
        );
    }
    let code = (interp.print)("from the fifo");
    for program in [&ours, &stock] {
        let mut writer = fifo_writer(&fifo, &code);
        let got = outcome_within(launch(interp, program, None).arg(&fifo), LIMIT);
        let status = writer.wait().expect("wait for the writer");
        assert!(status.success(), "the writer wrote: {status}");
        assert_eq!(
            got,
            Some(Outcome::ran("from the fifo\n")),
            "{} FIFO, no policy",
            program.display()
        );
    }
}

/// A FIFO loaded as code (the first loader that is not an interactive
/// interpreter's: `. FIFO`, `require FIFO`), with no writer, in an allowed
/// program under `mayexec run -f`: refused at once, as a file that cannot
/// be opened, the program's own output as far as it got.
pub fn a_fifo_loaded_as_code_is_refused_at_once_under_restrict_file(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let Some(loader) = interp.loaders.iter().find(|l| !l.interactive) else {
        crate::skip(
            test,
            &format!("{} loads no file from a program", interp.name),
        );
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    let exec = Tmpfs::exec();
    let main = exec.write("main", (loader.main)(&fifo), 0o755);
    let got = outcome_within(
        &mut Way::Load(loader).command(interp, &ours, &fifo, &main, &|p| mayexec_run("-f", p)),
        LIMIT,
    )
    .unwrap_or_else(|| panic!("{} of a FIFO under mayexec run -f hangs", loader.name));
    assert!(!got.stdout.contains("ran"), "{got}");
    assert!(got.stderr.contains("Permission denied"), "{got}");
}

/// `… /dev/null` is not a program under restrict-file; without a policy
/// it is what it is for the stock interpreter. `… <(…)`: the program is
/// a pipe, `/dev/fd/63` of the shell that made it.
pub fn devices_and_dev_fd_pipes_are_not_programs_under_restrict_file(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let got = outcome_within(launch(interp, &ours, Some("-f")).arg("/dev/null"), LIMIT);
    assert_eq!(
        got,
        Some(Outcome::refused(
            interp.denial("/dev/null", "not-regular-file")
        ))
    );
    assert_eq!(
        Outcome::of(launch(interp, &ours, None).arg("/dev/null")),
        Outcome::of(launch(interp, &stock, None).arg("/dev/null"))
    );

    let mut words = vec![format!("'{}'", ours.display())];
    words.extend(interp.applet.iter().map(|a| format!("'{a}'")));
    let code = (interp.print)("from a pipe").replace('\'', "'\\''");
    let line = format!("{} <(printf '%s' '{code}')", words.join(" "));
    let bash = Path::new("/bin/bash");
    let got = outcome_within(mayexec_run("-f", bash).arg("-c").arg(&line), LIMIT);
    assert_eq!(
        got,
        Some(Outcome::refused(
            interp.denial("/dev/fd/63", "not-regular-file")
        ))
    );
    let got = Outcome::of(Command::new(bash).arg("-c").arg(&line));
    assert_eq!(got, Outcome::ran("from a pipe\n"));
}

/// `… ARG` with the code piped to its standard input.
fn with_piped_code(cmd: &mut Command, arg: &str, code: &str) -> Outcome {
    cmd.arg(arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the interpreter");
    let mut stdin = child.stdin.take().expect("stdin");
    // A refused interpreter may have exited already: EPIPE is expected.
    let _ = stdin.write_all(code.as_bytes());
    drop(stdin);
    Outcome::from_output(child.wait_with_output().expect("wait"))
}

/// `… /dev/stdin` and `… /proc/self/fd/0` on a pipe carry piped code:
/// interactive input, refused under `mayexec run -i` (without `-f`); with
/// no policy they run as with the stock interpreter.
pub fn dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let code = (interp.print)("ran");
    for arg in ["/dev/stdin", "/proc/self/fd/0"] {
        assert_eq!(
            with_piped_code(&mut launch(interp, &ours, Some("-i")), arg, &code),
            Outcome::refused(interp.denial(arg, "not-regular-file")),
            "mayexec run -i -- {} {arg}",
            interp.name
        );
        for program in [&ours, &stock] {
            assert_eq!(
                with_piped_code(&mut launch(interp, program, None), arg, &code),
                Outcome::ran("ran\n"),
                "{} {arg}, no policy",
                program.display()
            );
        }
    }
}

/// `… /dev/stdin` on a regular file that passes the check runs under
/// deny-interactive: the file is what is checked.
pub fn a_regular_file_named_through_dev_stdin_runs_under_deny_interactive(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let file = exec.write("file", (interp.print)("ran"), 0o755);
    let got = Outcome::of(
        interp
            .under("-i", &ours)
            .arg("/dev/stdin")
            .stdin(std::fs::File::open(&file).expect("open the file")),
    );
    assert_eq!(got, Outcome::ran("ran\n"), "/dev/stdin < a 0755 file");
}

/// `-c CODE`, `-e CODE`: code from no file, through the whole matrix of
/// [`CodeFromNoFile`].
pub fn code_on_the_command_line_is_code_from_no_file(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    // A refusal that quoted the code would show the marker: the cell
    // fails as "the code ran", never passes.
    let code = (interp.print)("INJECTED");
    CodeFromNoFile::new(format!("{} {}", interp.name, interp.text_flag), &ours)
        .args(interp.applet)
        .args([interp.text_flag, code.as_str()])
        .marker("INJECTED")
        .label(interp.text_flag)
        .refusal(Refusal::Whole(
            interp.denial(interp.text_flag, "interactive"),
        ))
        .assert_contract();
}

impl Way {
    /// The command that runs `file` this way (`main`: the loader's
    /// program), to start as the caller likes.
    pub fn command(
        self,
        interp: &Interpreter,
        program: &Path,
        file: &Path,
        main: &Path,
        launch: &dyn Fn(&std::ffi::OsStr) -> Command,
    ) -> Command {
        let mut cmd = interp.command(program, launch);
        match self {
            Way::Load(loader) => (loader.command)(&mut cmd, file, main),
            _ => panic!("only a loader's way has a command of its own"),
        }
        cmd
    }
}
