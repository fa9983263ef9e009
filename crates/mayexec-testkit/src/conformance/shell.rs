//! What only a shell owes: prompt strings from the environment (`PS4`,
//! expanded with command substitution before each command `-x` traces, is
//! code from no file), "everything else behaves exactly like the stock
//! shell" on real scripts, and what `exec <` does in a checked stdin.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{mayexec_run, parity_scripts, Interpreter, Loader, Shell};
use crate::interp::{Exit, Outcome};
use crate::nofile::{CodeFromNoFile, Refusal};
use crate::{as_nobody, give_to, Sandbox, TempDir, Tmpfs, NOBODY};

fn shell(interp: &Interpreter) -> Shell {
    interp
        .shell
        .unwrap_or_else(|| panic!("{} is not a shell", interp.name))
}

/// The prompt strings a shell may expand.
const PROMPTS: [&str; 3] = ["PS1", "PS2", "PS4"];

/// Where the prompt strings' commands leave their traces (a directory the
/// user the tests run as may write to).
struct Traces {
    dir: TempDir,
}

impl Traces {
    fn new(uid: u32) -> Traces {
        let dir = TempDir::new();
        give_to(dir.path(), uid, uid);
        Traces { dir }
    }

    /// `$(touch DIR/NAME)+ `: a prompt string that runs a command.
    fn prompt(&self, name: &str) -> String {
        format!("$(touch {})+ ", self.path(name).display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Which of the prompt strings ran their command (and forgets them).
    fn ran(&self) -> Vec<&'static str> {
        PROMPTS
            .into_iter()
            .filter(|name| std::fs::remove_file(self.path(name)).is_ok())
            .collect()
    }

    /// Every prompt string in `cmd`'s environment, each running a command.
    fn export<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for name in PROMPTS {
            cmd.env(name, self.prompt(name));
        }
        cmd
    }
}

/// The user the prompt tests run as: root, unless the shell ignores `PS4`
/// from the environment for root.
fn prompt_user(interp: &Interpreter) -> u32 {
    if shell(interp).ps4_for_root {
        0
    } else {
        NOBODY
    }
}

/// `cmd` as the prompt tests' user.
fn as_user(cmd: &mut Command, uid: u32) -> &mut Command {
    if uid != 0 {
        as_nobody(cmd);
    }
    cmd
}

/// Scripts on an exec mount: `set -x` then `echo ran`, `echo ran`, and
/// one that lists the prompt strings it exports.
struct Scripts {
    _exec: Tmpfs,
    traced: PathBuf,
    plain: PathBuf,
    exports: PathBuf,
}

impl Scripts {
    fn new() -> Scripts {
        let exec = Tmpfs::exec();
        Scripts {
            traced: exec.write("traced.sh", "set -x\necho ran\n", 0o755),
            plain: exec.write("plain.sh", "echo ran\n", 0o755),
            exports: exec.write("env.sh", "env | grep '^PS' || echo none\n", 0o755),
            _exec: exec,
        }
    }
}

fn traced_ran(trace: &str) -> Outcome {
    Outcome {
        exit: Exit::Code(0),
        stdout: "ran\n".to_owned(),
        stderr: format!("{trace}echo ran\n"),
    }
}

/// Under deny-interactive imported prompt strings run no code: `set -x`
/// in an allowed script and `-x` trace with the default `PS4`, and the
/// shell does not export what it did not take.
pub fn prompt_strings_from_the_environment_run_no_code_under_deny_interactive(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let uid = prompt_user(interp);
    let s = Scripts::new();
    let traces = Traces::new(uid);
    let run = |args: &[&OsStr]| {
        let mut cmd = interp.under("-i", &ours);
        Outcome::of(traces.export(as_user(cmd.args(args), uid)))
    };
    assert_eq!(run(&[s.traced.as_os_str()]), traced_ran("+ "), "set -x");
    assert_eq!(traces.ran(), Vec::<&str>::new(), "set -x");
    assert_eq!(
        run(&["-x".as_ref(), s.plain.as_os_str()]),
        traced_ran("+ "),
        "-x"
    );
    assert_eq!(traces.ran(), Vec::<&str>::new(), "-x");
    assert_eq!(
        run(&[s.exports.as_os_str()]).stdout,
        "none\n",
        "not exported"
    );
}

/// Without a policy an imported `PS4` runs, as with the stock shell; and
/// under `mayexec run -f`, which leaves interactive input alone.
pub fn without_a_policy_prompt_strings_from_the_environment_run_as_with_the_stock_shell(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let uid = prompt_user(interp);
    let s = Scripts::new();
    let traces = Traces::new(uid);
    for (mut cmd, how) in [
        (interp.plain(&ours), "no policy"),
        (interp.plain(&stock), "the stock shell"),
        (interp.under("-f", &ours), "mayexec run -f"),
    ] {
        let got = Outcome::of(traces.export(as_user(cmd.arg(&s.traced), uid)));
        assert_eq!(got, traced_ran("+ "), "{how}");
        assert_eq!(traces.ran(), ["PS4"], "{how}");
    }
}

/// A prompt string the script sets itself is the script's own.
pub fn a_prompt_string_the_script_sets_itself_is_the_scripts_own(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let uid = prompt_user(interp);
    let traces = Traces::new(uid);
    let exec = Tmpfs::exec();
    let script = exec.write(
        "own.sh",
        format!("PS4='{}'\nset -x\necho ran\n", traces.prompt("PS4")),
        0o755,
    );
    let mut cmd = interp.under("-i", &ours);
    let got = Outcome::of(as_user(cmd.arg(&script), uid));
    assert_eq!(got, traced_ran("+ "), "mayexec run -i");
    assert_eq!(traces.ran(), ["PS4"], "the script's own PS4 ran");
}

/// The policy file's `deny_interactive` refuses imported prompt strings
/// and logs each; audit mode logs them and keeps them; default values are
/// no code, and without `deny_interactive` nothing is asked.
pub fn the_policy_file_logs_imported_prompt_strings_and_audit_mode_keeps_them(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let uid = prompt_user(interp);
    let logged = shell(interp).logged_prompts;
    let s = Scripts::new();
    let traces = Traces::new(uid);
    let in_sandbox = |policy: &str| {
        let sandbox = Sandbox::new().policy(policy).capture_syslog();
        if uid == 0 {
            sandbox
        } else {
            sandbox.as_user(uid, uid)
        }
    };
    for (policy, ran, action) in [
        ("deny_interactive = true\n", vec![], "denied"),
        (
            "deny_interactive = true\nmode = \"audit\"\n",
            vec!["PS4"],
            "audit",
        ),
    ] {
        let sandbox = in_sandbox(policy);
        let mut cmd = interp.command(&ours, &|p| sandbox.command(p));
        let got = Outcome::of(traces.export(cmd.arg(&s.traced)));
        assert_eq!(got, traced_ran("+ "), "{policy}");
        assert_eq!(traces.ran(), ran, "{policy}");
        let lines = sandbox.syslog_lines();
        assert_eq!(lines.len(), logged.len(), "{policy}: {lines:#?}");
        for name in logged {
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
    // The default values are no code: nothing to log.
    let sandbox = in_sandbox("deny_interactive = true\n");
    let mut cmd = interp.command(&ours, &|p| sandbox.command(p));
    let got = Outcome::of(cmd.arg(&s.plain).env("PS2", "> ").env("PS4", "+ "));
    assert_eq!(got, Outcome::ran("ran\n"));
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
    // No deny_interactive: nothing is asked, nothing logged.
    let sandbox = in_sandbox("interpreted_access = 3\n");
    let mut cmd = interp.command(&ours, &|p| sandbox.command(p));
    let got = Outcome::of(cmd.arg(&s.traced).env("PS4", traces.prompt("PS4")));
    assert_eq!(got, traced_ran("+ "));
    assert_eq!(traces.ran(), ["PS4"]);
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
}

/// Code that prints `INJECTED` on stderr without the word appearing in
/// the code itself.
const RUN: &str = r#"$(printf '%s%s\n' INJ ECTED >&2)"#;

/// `PS4` from the environment, expanded before each command `-x` (or `-o
/// xtrace`) traces, through the whole matrix of [`CodeFromNoFile`]: under
/// deny-interactive the shell traces with its default.
pub fn a_trace_prompt_from_the_environment_is_code_from_no_file(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("ran.sh", "echo ran\n", 0o755);
    let users: &[u32] = if shell(interp).ps4_for_root {
        &[0, NOBODY]
    } else {
        &[NOBODY]
    };
    for option in [&["-x"][..], &["-o", "xtrace"]] {
        CodeFromNoFile::new(format!("PS4 with {}", option.join(" ")), &ours)
            .env("PS4", format!("{RUN}+ "))
            .args(interp.applet)
            .args(option)
            .args([&script])
            .marker("INJECTED")
            .label("PS4")
            .users(users)
            .refusal(Refusal::Without(traced_ran("+ ")))
            .assert_contract();
    }
}

/// `PS1`, `PS2` (on a continuation line) and the shell's other variables
/// that carry code into an interactive shell: deny-interactive refuses the
/// interactive shell itself, whose piped input is `not-regular-file`;
/// audit mode logs it and runs them.
pub fn the_prompts_of_an_interactive_shell_are_code_from_no_file(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let shell = shell(interp);
    let ps1 = format!("{RUN}$ ");
    let ps2 = format!("{RUN}> ");
    let mut ways = vec![
        ("PS1", ps1.as_str(), shell.interactive),
        ("PS2", ps2.as_str(), shell.interactive),
    ];
    ways.extend(
        shell
            .interactive_code
            .iter()
            .map(|(v, args)| (*v, RUN, *args)),
    );
    for (variable, value, args) in ways {
        CodeFromNoFile::new(format!("{variable} of an interactive shell"), &ours)
            .env(variable, value)
            .args(interp.applet)
            .args(args)
            .stdin("if true\nthen echo ran\nfi\n")
            .marker("INJECTED")
            .label("<stdin>")
            .reason("not-regular-file")
            .refusal(Refusal::Whole(interp.denial("<stdin>", "not-regular-file")))
            .assert_contract();
    }
}

const ARGS: [&str; 3] = ["a", "b c", "d"];

/// How a parity script is handed to the shell.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `sh script a "b c" d`
    File,
    /// `sh -s a "b c" d < script`
    Stdin,
    /// `cat script | sh -s a "b c" d`
    Pipe,
    /// `sh -c "$(cat script)" name a "b c" d`
    CommandLine,
}

/// Runs parity script `name` in `dir` (also the working directory) with
/// `program`, called as the shell calls itself (`argv[0]`), with a clean
/// environment; under `mayexec run -fi` when `checked`.
fn parity_run(
    interp: &Interpreter,
    program: &Path,
    dir: &Path,
    name: &str,
    mode: Mode,
    checked: bool,
) -> Outcome {
    let mut cmd = if checked {
        interp.under("-fi", program)
    } else {
        let mut cmd = Command::new(program);
        if let Some(arg0) = shell(interp).arg0 {
            cmd.arg0(arg0);
        }
        cmd.args(interp.applet);
        cmd
    };
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TMPDIR", "/tmp");
    let script = dir.join(name);
    let mut cat = None;
    match mode {
        Mode::File => {
            cmd.arg(name);
        }
        Mode::Stdin => {
            cmd.arg("-s")
                .stdin(File::open(&script).expect("open the script"));
        }
        Mode::Pipe => {
            let mut child = Command::new("cat")
                .arg(&script)
                .stdout(Stdio::piped())
                .spawn()
                .expect("start cat");
            cmd.arg("-s")
                .stdin(child.stdout.take().expect("cat's stdout"));
            cat = Some(child);
        }
        Mode::CommandLine => {
            let code = std::fs::read_to_string(&script).expect("read the script");
            cmd.arg("-c").arg(code).arg(name);
        }
    }
    let got = Outcome::of(cmd.args(ARGS));
    if let Some(mut cat) = cat {
        let _ = cat.wait();
    }
    if !checked {
        return got;
    }
    // Under mayexec run, argv[0] is the shell's path: messages that name
    // $0 outside a script file differ only in that word.
    let arg0 = shell(interp).arg0.unwrap_or(interp.name);
    let fix = |text: &str| text.replace(&format!("{}:", program.display()), &format!("{arg0}:"));
    Outcome {
        exit: got.exit,
        stdout: fix(&got.stdout),
        stderr: fix(&got.stderr),
    }
}

/// The parity scripts give the same output, messages and status under the
/// enlightened shell as under the stock one, each handed over four ways,
/// without a policy.
pub fn real_scripts_behave_as_under_the_stock_shell_without_a_policy(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let (dir, names) = parity_scripts();
    let mut compared = 0;
    for name in &names {
        for mode in [Mode::File, Mode::Stdin, Mode::Pipe, Mode::CommandLine] {
            let theirs = parity_run(interp, &stock, &dir, name, mode, false);
            let got = parity_run(interp, &ours, &dir, name, mode, false);
            assert_eq!(got, theirs, "{name}, {mode:?}");
            assert!(
                !matches!(theirs.exit, Exit::NotStarted(_)),
                "{name}: {theirs}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 48);
}

/// The comparisons compare real behaviour, not empty runs: the scripts'
/// statuses, a signal and messages, under the enlightened shell.
pub fn the_scripts_exercise_statuses_signals_and_messages(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let (dir, _) = parity_scripts();
    let run = |name: &str| parity_run(interp, &ours, &dir, name, Mode::File, false);
    assert_eq!(run("exit_status.sh").exit, Exit::Code(42));
    assert_eq!(run("set_e.sh").exit, Exit::Code(4));
    assert_eq!(run("traps.sh").exit, Exit::Code(3));
    assert_eq!(run("signals.sh").exit, Exit::Signal(libc::SIGTERM));
    let missing = run("dot_missing.sh");
    let (status, message) = shell(interp).dot_missing;
    assert_eq!(missing.exit, Exit::Code(status), "{missing}");
    assert!(missing.stderr.contains(message), "{message:?} in {missing}");
    let positional = run("positional.sh");
    assert!(
        positional
            .stdout
            .starts_with("count: 3\narg: [a]\narg: [b c]\narg: [d]\n"),
        "{positional}"
    );
}

/// A policy changes nothing for code that passes the check: the parity
/// scripts, copied to an exec mount with mode 0755, under `mayexec run
/// -fi` exactly as under the stock shell without a policy.
pub fn real_scripts_that_pass_the_check_behave_as_under_the_stock_shell_under_mayexec_run_fi(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let (source, names) = parity_scripts();
    let fs = Tmpfs::exec();
    std::fs::create_dir(fs.path().join("lib")).expect("mkdir lib");
    for name in names
        .iter()
        .cloned()
        .chain(["lib/helpers.sh".into(), "lib/returns.sh".into()])
    {
        let text = std::fs::read(source.join(&name)).expect("read a script");
        fs.write(&name, text, 0o755);
    }
    let mut compared = 0;
    for name in &names {
        for mode in [Mode::File, Mode::Stdin] {
            let theirs = parity_run(interp, &stock, fs.path(), name, mode, false);
            let got = parity_run(interp, &ours, fs.path(), name, mode, true);
            assert_eq!(got, theirs, "{name}, {mode:?}");
            compared += 1;
        }
    }
    assert!(compared >= 24);
}

/// `exec < other` in a checked standard input: the shell goes on reading
/// commands from its new standard input, unchecked, as the stock shell
/// does (dash and ash after the rest of the first file, bash at once). Not re-checked: like
/// `eval "$(cat other)"`, that is the allowed script's own decision (a
/// re-check would also refuse the common `exec < data; while read …`).
pub fn exec_redirecting_stdin_in_a_checked_stdin_script_is_the_scripts_decision(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
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
    let Some(stock) = interp.require_stock(test) else {
        return;
    };
    let run = |mut cmd: Command| Outcome::of(cmd.stdin(File::open(&main).expect("open main.sh")));
    let theirs = run(interp.plain(&stock));
    assert!(theirs.stdout.ends_with("other ran\n"), "{theirs}");
    assert_eq!(run(interp.plain(&ours)), theirs, "no policy");
    assert_eq!(run(interp.under("-i", &ours)), theirs, "mayexec run -i");
}

/// An interactive shell is refused under deny-interactive, by the policy
/// file too, even when its standard input would pass the check.
pub fn an_interactive_shell_is_refused_under_deny_interactive_even_on_a_checked_stdin(
    interp: &Interpreter,
    test: &str,
) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let input = exec.write("input.sh", "echo ran\n", 0o755);
    let sandbox = Sandbox::new().policy("deny_interactive = true\n");
    let refused = Outcome::refused(interp.denial("<stdin>", "interactive"));
    for mut cmd in [
        interp.command(&ours, &|p| sandbox.command(p)),
        interp.command(&ours, &|p| mayexec_run("-i", p)),
    ] {
        let got = Outcome::of(
            cmd.args(shell(interp).interactive)
                .stdin(File::open(&input).expect("open the input")),
        );
        assert_eq!(got, refused);
    }
}

/// `. FILE` from an allowed script, between two lines of its own.
pub const DOT: Loader = Loader {
    name: ". file",
    main: |file| format!("echo before\n. {}\necho after\n", file.display()),
    command: |cmd, _, main| {
        cmd.arg(main);
    },
    ran: "before\nran\nafter\n",
    interactive: false,
    filter: None,
};

/// `ENV=FILE sh -i`: an interactive shell (an empty `PS1`) sources `ENV`
/// before it reads its commands from a regular file.
pub const ENV: Loader = Loader {
    name: "ENV=file sh -i",
    main: |_| "echo main\n".to_owned(),
    command: |cmd, file, main| {
        cmd.arg("-i")
            .env("ENV", file)
            .env("PS1", "")
            .stdin(File::open(main).expect("open the input"));
    },
    ran: "ran\nmain\n",
    interactive: true,
    filter: None,
};
