//! "Everything else behaves exactly like stock dash": real shell scripts
//! (tests/scripts: functions, loops, traps, here-documents, `set -e`,
//! subshells, `.`, exit statuses, signals, positional parameters, `$0`,
//! syntax errors, redirections) give the same output, messages and status
//! under the enlightened dash as under /bin/dash — without a policy, and
//! under `mayexec run -fi` when the scripts pass the check.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_dash::{require_dash, require_root_and_dash, Exit, Outcome, STOCK_DASH};
use mayexec_testkit::{root_test, workspace_bin, Tmpfs};

const ARGS: [&str; 3] = ["a", "b c", "d"];

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

fn scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scripts_dir())
        .expect("read tests/scripts")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sh"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "a dozen scripts at least: {names:?}");
    names
}

/// How a script is handed to the shell in this comparison.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `dash script a "b c" d`
    File,
    /// `dash -s a "b c" d < script`
    Stdin,
    /// `cat script | dash -s a "b c" d`
    Pipe,
    /// `dash -c "$(cat script)" name a "b c" d`
    CommandLine,
}

/// Runs `name` (relative to `dir`, which is also the working directory)
/// with `shell`, called `dash` in `argv[0]` so that messages match;
/// `wrap` may put `mayexec run` in front.
fn run(shell: &Path, dir: &Path, name: &str, mode: Mode, wrap: Option<&[&str]>) -> Outcome {
    let mut cmd = match wrap {
        None => {
            let mut cmd = Command::new(shell);
            cmd.arg0("dash");
            cmd
        }
        Some(prefix) => {
            let mut cmd = Command::new(prefix[0]);
            cmd.args(&prefix[1..]).arg(shell);
            cmd
        }
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
                .stdin(File::open(&script).expect("open script"));
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
            let code = std::fs::read_to_string(&script).expect("read script");
            cmd.arg("-c").arg(code).arg(name);
        }
    }
    cmd.args(ARGS);
    let outcome = Outcome::of(&mut cmd);
    if let Some(mut cat) = cat {
        let _ = cat.wait();
    }
    outcome
}

#[test]
fn real_scripts_behave_as_under_stock_dash_without_a_policy() {
    let Some(dash) = require_dash("real_scripts_behave_as_under_stock_dash_without_a_policy")
    else {
        return;
    };
    let dir = scripts_dir();
    let mut compared = 0;
    for name in scripts() {
        for mode in [Mode::File, Mode::Stdin, Mode::Pipe, Mode::CommandLine] {
            let stock = run(Path::new(STOCK_DASH), &dir, &name, mode, None);
            let ours = run(&dash, &dir, &name, mode, None);
            assert_eq!(ours, stock, "{name}, {mode:?}");
            assert!(
                !matches!(stock.exit, Exit::NotStarted(_)),
                "{name}: {stock}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 48);
}

/// The scripts say what they test: spot-check that the comparison above
/// compares real behaviour (statuses, signals, messages), not empty runs.
#[test]
fn the_scripts_exercise_statuses_signals_and_messages() {
    let Some(dash) = require_dash("the_scripts_exercise_statuses_signals_and_messages") else {
        return;
    };
    let dir = scripts_dir();
    let exit = |name: &str| run(&dash, &dir, name, Mode::File, None).exit;
    assert_eq!(exit("exit_status.sh"), Exit::Code(42));
    assert_eq!(exit("set_e.sh"), Exit::Code(4));
    assert_eq!(exit("traps.sh"), Exit::Code(3));
    assert_eq!(exit("signals.sh"), Exit::Signal(libc::SIGTERM));
    let missing = run(&dash, &dir, "dot_missing.sh", Mode::File, None);
    assert_eq!(missing.exit, Exit::Code(2));
    assert_eq!(
        missing.stderr,
        "dot_missing.sh: 3: .: cannot open ./lib/no-such-file.sh: No such file\n"
    );
    let positional = run(&dash, &dir, "positional.sh", Mode::File, None);
    assert!(
        positional
            .stdout
            .starts_with("count: 3\narg: [a]\narg: [b c]\narg: [d]\n"),
        "{positional}"
    );
}

/// A policy changes nothing for code that passes the check: the same
/// scripts, copied to an exec mount with mode 0755, run under `mayexec
/// run -fi` exactly as stock dash runs them.
#[root_test]
fn real_scripts_that_pass_the_check_behave_as_under_stock_dash_under_mayexec_run_fi() {
    let Some(dash) = require_root_and_dash(
        "real_scripts_that_pass_the_check_behave_as_under_stock_dash_under_mayexec_run_fi",
    ) else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let mayexec = mayexec.to_str().expect("a UTF-8 path");
    let fs = Tmpfs::exec();
    std::fs::create_dir(fs.path().join("lib")).expect("mkdir lib");
    let source = scripts_dir();
    for name in scripts()
        .into_iter()
        .chain(["lib/helpers.sh".into(), "lib/returns.sh".into()])
    {
        let text = std::fs::read(source.join(&name)).expect("read script");
        fs.write(&name, text, 0o755);
    }
    for name in scripts() {
        for mode in [Mode::File, Mode::Stdin] {
            let stock = run(Path::new(STOCK_DASH), fs.path(), &name, mode, None);
            let ours = run(
                &dash,
                fs.path(),
                &name,
                mode,
                Some(&[mayexec, "run", "-fi", "--"]),
            );
            // argv[0] is the shell's path here, not `dash`: messages that
            // name $0 outside a script file differ only in that word.
            let ours_stderr = ours
                .stderr
                .replace(&format!("{}:", dash.display()), "dash:");
            assert_eq!(ours.exit, stock.exit, "{name}, {mode:?}: {ours}");
            assert_eq!(ours.stdout, stock.stdout, "{name}, {mode:?}");
            assert_eq!(ours_stderr, stock.stderr, "{name}, {mode:?}");
        }
    }
}
