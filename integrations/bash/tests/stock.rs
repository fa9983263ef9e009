//! "Everything else behaves exactly like stock bash": real scripts give the
//! same output, messages and status under the enlightened bash as under
//! /bin/bash — the `#!/bin/bash` programs Debian ships that run harmlessly
//! with `--help` and `--version`, and the shell scripts of the dash's
//! parity tests (functions, loops, traps, here-documents, `set -e`,
//! subshells, `.`, signals, redirections …) — without a policy, and under
//! `mayexec run -fi` where the scripts pass the check.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_bash::{require_root_and_bash, workspace_root, Outcome, STOCK_BASH};
use mayexec_testkit::{root_test, workspace_bin, Tmpfs};

/// Programs of Debian's essential and common packages written for bash
/// whose `--help` and `--version` only print (ldd and tzselect come with
/// libc-bin, on every Debian machine). Not e2scrub: it sources
/// /etc/e2scrub.conf (0644), which restrict-file rightly refuses.
const SHIPPED: [&str; 5] = [
    "/usr/bin/ldd",
    "/usr/bin/tzselect",
    "/usr/bin/memusage",
    "/usr/bin/sotruss",
    "/usr/bin/gcore",
];

/// `SHELL ARGS…` called `bash` in `argv[0]`, with a clean environment;
/// `wrap` puts `mayexec run FLAG --` in front.
fn run(shell: &Path, args: &[&str], dir: &Path, wrap: Option<&str>) -> Outcome {
    let mut cmd = match wrap {
        None => {
            let mut cmd = Command::new(shell);
            cmd.arg0("bash");
            cmd
        }
        Some(flag) => {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", flag, "--"]).arg(shell);
            cmd
        }
    };
    Outcome::of(
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .env("TMPDIR", "/tmp")
            .env("LC_ALL", "C"),
    )
}

#[root_test]
fn debians_bash_programs_print_the_same_help_and_version() {
    let Some(bash) = require_root_and_bash("debians_bash_programs_print_the_same_help_and_version")
    else {
        return;
    };
    let mut compared = Vec::new();
    for program in SHIPPED.into_iter().filter(|p| Path::new(p).is_file()) {
        for option in ["--help", "--version"] {
            let args = [program, option];
            let stock = run(Path::new(STOCK_BASH), &args, Path::new("/"), None);
            let ours = run(&bash, &args, Path::new("/"), None);
            assert_eq!(ours, stock, "{program} {option}");
            // Shipped 0755 on an exec mount: they pass every check.
            let checked = run(&bash, &args, Path::new("/"), Some("-fi"));
            assert_eq!(checked, stock, "mayexec run -fi: {program} {option}");
        }
        compared.push(program);
    }
    assert!(
        compared.contains(&"/usr/bin/ldd"),
        "libc-bin's ldd is on every Debian machine: {compared:?}"
    );
}

/// The dash's parity scripts (POSIX shell, which bash runs too).
fn parity_scripts() -> (PathBuf, Vec<String>) {
    let dir = workspace_root().join("integrations/dash/tests/scripts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the dash's tests/scripts")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sh"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "a dozen scripts at least: {names:?}");
    (dir, names)
}

/// A copy of `from` (files and one level of directories) on an exec tmpfs,
/// mode 0755: there every script passes the full check.
fn copy_to(from: &Path, to: &Tmpfs) {
    for entry in std::fs::read_dir(from).expect("read the scripts") {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        if path.is_dir() {
            let sub = to.path().join(entry.file_name());
            std::fs::create_dir(&sub).expect("mkdir");
            for file in std::fs::read_dir(&path).expect("read a subdirectory") {
                let file = file.expect("a directory entry").path();
                let bytes = std::fs::read(&file).expect("read a script");
                mayexec_testkit::write_file(
                    &sub.join(file.file_name().expect("a name")),
                    &bytes,
                    0o755,
                );
            }
        } else {
            to.write(
                entry.file_name(),
                std::fs::read(&path).expect("read"),
                0o755,
            );
        }
    }
}

#[root_test]
fn real_scripts_behave_as_with_stock_bash() {
    let Some(bash) = require_root_and_bash("real_scripts_behave_as_with_stock_bash") else {
        return;
    };
    let (dir, names) = parity_scripts();
    let exec = Tmpfs::exec();
    copy_to(&dir, &exec);
    for name in &names {
        let args = [name.as_str(), "a", "b c", "d"];
        let stock = run(Path::new(STOCK_BASH), &args, exec.path(), None);
        let ours = run(&bash, &args, exec.path(), None);
        assert_eq!(ours, stock, "{name}");
        let checked = run(&bash, &args, exec.path(), Some("-fi"));
        // Under mayexec run the shell's argv[0] is its path.
        let normalize = |o: &Outcome, shell: &str| Outcome {
            exit: o.exit,
            stdout: o.stdout.replace(shell, "bash"),
            stderr: o.stderr.replace(shell, "bash"),
        };
        assert_eq!(
            normalize(&checked, &bash.display().to_string()),
            stock,
            "mayexec run -fi: {name}"
        );
    }
}
