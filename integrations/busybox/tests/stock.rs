//! "Everything else behaves exactly like the stock build", under a policy
//! too: the dash's real shell scripts (`integrations/dash/tests/scripts`:
//! functions, loops, traps, here-documents, `set -e`, subshells, `.`, exit
//! statuses, signals, positional parameters, `$0`, syntax errors,
//! redirections), copied to an exec mount with mode 0755 so that they pass
//! the check, give the same output, messages and status under `mayexec run
//! -fi` with the enlightened ash as with the stock build and no policy.
//! (Without a policy, BusyBox's own ash test suite compares the two
//! builds: tests/ash_suite.rs.)

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_busybox::{
    require_root_and_busybox, require_stock_busybox, workspace_root, Applet, Exit, Outcome,
};
use mayexec_testkit::{root_test, workspace_bin, Tmpfs};

const ARGS: [&str; 3] = ["a", "b c", "d"];

fn scripts_dir() -> PathBuf {
    workspace_root().join("integrations/dash/tests/scripts")
}

fn scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scripts_dir())
        .expect("read the dash's tests/scripts")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sh"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "a dozen scripts at least: {names:?}");
    names
}

/// `busybox APPLET NAME a "b c" d` (or `-s` with the script on stdin) in
/// `dir`, with a clean environment; `wrap` may put `mayexec run` in front.
fn run(
    busybox: &Path,
    applet: Applet,
    dir: &Path,
    name: &str,
    stdin: bool,
    wrap: &[&str],
) -> Outcome {
    let mut cmd = match wrap.split_first() {
        None => Command::new(busybox),
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(busybox);
            cmd
        }
    };
    cmd.arg(applet.name())
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TMPDIR", "/tmp");
    if stdin {
        cmd.arg("-s")
            .stdin(File::open(dir.join(name)).expect("open the script"));
    } else {
        cmd.arg(name);
    }
    Outcome::of(cmd.args(ARGS))
}

#[root_test]
fn real_scripts_that_pass_the_check_behave_as_under_the_stock_build_under_mayexec_run_fi() {
    let test =
        "real_scripts_that_pass_the_check_behave_as_under_the_stock_build_under_mayexec_run_fi";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
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
    let mut compared = 0;
    for applet in Applet::ALL {
        for name in scripts() {
            for stdin in [false, true] {
                let theirs = run(&stock, applet, fs.path(), &name, stdin, &[]);
                let ours = run(
                    &busybox,
                    applet,
                    fs.path(),
                    &name,
                    stdin,
                    &[mayexec, "run", "-fi", "--"],
                );
                assert_eq!(ours, theirs, "{applet:?} {name}, stdin {stdin}");
                assert!(
                    !matches!(theirs.exit, Exit::NotStarted(_)),
                    "{name}: {theirs}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 48);
}

/// The comparison above compares real behaviour, not empty runs: the
/// scripts' statuses, a signal and a message, under the enlightened ash.
#[root_test]
fn the_scripts_exercise_statuses_signals_and_messages() {
    let Some(busybox) =
        require_root_and_busybox("the_scripts_exercise_statuses_signals_and_messages")
    else {
        return;
    };
    let dir = scripts_dir();
    let exit = |name: &str| run(&busybox, Applet::Sh, &dir, name, false, &[]).exit;
    assert_eq!(exit("exit_status.sh"), Exit::Code(42));
    assert_eq!(exit("set_e.sh"), Exit::Code(4));
    assert_eq!(exit("traps.sh"), Exit::Code(3));
    assert_eq!(exit("signals.sh"), Exit::Signal(libc::SIGTERM));
    let missing = run(&busybox, Applet::Sh, &dir, "dot_missing.sh", false, &[]);
    assert_eq!(missing.exit, Exit::Code(2), "{missing}");
    assert!(
        missing
            .stderr
            .contains("can't open './lib/no-such-file.sh': No such file or directory"),
        "{missing}"
    );
    let positional = run(&busybox, Applet::Sh, &dir, "positional.sh", false, &[]);
    assert!(
        positional
            .stdout
            .starts_with("count: 3\narg: [a]\narg: [b c]\narg: [d]\n"),
        "{positional}"
    );
}
