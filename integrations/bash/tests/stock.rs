//! "Everything else behaves exactly like stock bash": the `#!/bin/bash`
//! programs Debian ships that run harmlessly with `--help` and `--version`
//! give the same output, messages and status under the enlightened bash as
//! under /bin/bash, without a policy and under `mayexec run -fi`. (The
//! parity scripts are the conformance suite's.)

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use mayexec_bash::{BUILT, STOCK_BASH};
use mayexec_testkit::interp::Outcome;
use mayexec_testkit::{root_test, workspace_bin};

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
    let Some(bash) = BUILT.require("debians_bash_programs_print_the_same_help_and_version") else {
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
