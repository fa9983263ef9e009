//! Code that reaches dash through an option or an environment variable,
//! not through a checked file (`docs/dash.md`, "Options and variables"):
//! each way in goes through the shared matrix of
//! [`mayexec_testkit::nofile`] — no policy and `mayexec run -f` run the
//! code, `run -i`, `run -fi` and `deny_interactive = true` refuse it with an
//! audit line, audit mode runs and logs it — as root and as `nobody`.
//!
//! The inventory itself is pinned too: every variable dash's manual page
//! names and every option `set -o` lists must have a row in the table of
//! `docs/dash.md`, and every variable set to code runs none under
//! deny-interactive.

use std::collections::BTreeSet;
use std::process::Command;

use mayexec_dash::{denial, Built, DASH};
use mayexec_testkit::conformance::inventory::{
    assert_every_name_has_a_row, first_words, names, read_built, shell_substitutions,
    variables_that_run_code, SHELL_EXERCISE,
};
use mayexec_testkit::conformance::mayexec_run;
use mayexec_testkit::interp::Outcome;
use mayexec_testkit::{root_test, Sandbox, Tmpfs, NOBODY};

/// Code that prints `INJECTED` on stderr without the word appearing in
/// the code itself.
const RUN: &str = r#"$(printf '%s%s\n' INJ ECTED >&2)"#;

/// `ENV` is expanded (command substitution included) before it names the
/// file an interactive shell reads, and only an interactive shell reads
/// it: deny-interactive refuses the shell first. In audit mode the value
/// is logged (`path=ENV`) and expanded; a plain value is not logged.
#[root_test]
fn env_whose_expansion_runs_code_is_logged_in_audit_mode() {
    let Some(dash) = DASH.require("env_whose_expansion_runs_code_is_logged_in_audit_mode") else {
        return;
    };
    let exec = Tmpfs::exec();
    let input = exec.write("input", "echo main\n", 0o755);
    let env_file = exec.write("env.sh", "echo sourced\n", 0o755);
    let dir = exec.path().to_str().expect("a UTF-8 mount point");
    let run = |sandbox: &Sandbox, value: &str| {
        Outcome::of(
            sandbox
                .command(&dash)
                .arg("-i")
                .env("ENV", value)
                .env("DIR", dir)
                .stdin(std::fs::File::open(&input).expect("open the input")),
        )
    };
    let audit = || {
        Sandbox::new()
            .policy("deny_interactive = true\nmode = \"audit\"\n")
            .capture_syslog()
    };
    let sandbox = audit();
    let got = run(&sandbox, RUN);
    assert!(got.stderr.contains("INJECTED"), "kept in audit mode: {got}");
    let lines = sandbox.syslog_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" path=ENV reason=interactive ") && l.ends_with(" action=audit")),
        "{lines:#?}"
    );

    // A value that only names a file is read (and checked), not logged.
    for value in [
        env_file.to_str().expect("a UTF-8 path").to_owned(),
        "$DIR/env.sh".to_owned(),
        "${DIR}/env.sh".to_owned(),
    ] {
        let sandbox = audit();
        let got = run(&sandbox, &value);
        assert!(got.stdout.contains("sourced\n"), "ENV={value}: {got}");
        let lines = sandbox.syslog_lines();
        assert!(
            !lines.iter().any(|l| l.contains(" path=ENV ")),
            "ENV={value}: {lines:#?}"
        );
    }

    let enforced = Sandbox::new()
        .policy("deny_interactive = true\n")
        .capture_syslog();
    let got = run(&enforced, RUN);
    assert_eq!(got, Outcome::refused(denial("<stdin>", "interactive")));
}

/// The manual page of the dash being built (in the Debian source tree
/// `build.sh` unpacks).
const MANUAL: Built = Built {
    what: "dash's manual page from the Debian source",
    env: None,
    installed: "target/dash-build/debian-src/src/dash.1",
    build_script: "integrations/dash/build.sh",
};

/// Every variable the manual names (`.Ev NAME`, `.Va NAME` in capitals).
fn manual_variables(manual: &str) -> BTreeSet<String> {
    manual
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix(".It ").unwrap_or(l);
            let l = l.strip_prefix('.').unwrap_or(l);
            l.strip_prefix("Ev ").or_else(|| l.strip_prefix("Va "))
        })
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|name| {
            name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_variable_of_the_manual_has_a_row() {
    let Some(manual) = read_built(&MANUAL, "every_variable_of_the_manual_has_a_row") else {
        return;
    };
    let variables = manual_variables(&manual);
    assert!(
        variables.len() >= 20,
        "too few variables read: {variables:?}"
    );
    assert_every_name_has_a_row(&variables, "docs/dash.md", "dash.1");
}

#[test]
fn every_option_of_the_shell_has_a_row() {
    let Some(dash) = DASH.require("every_option_of_the_shell_has_a_row") else {
        return;
    };
    // "Current option settings", then one option a line.
    let options: Vec<String> = first_words(&dash, &["-c", "set -o"], 1)
        .into_iter()
        .map(|name| format!("-o {name}"))
        .collect();
    assert!(options.len() > 10, "too few options: {options:?}");
    assert_every_name_has_a_row(&options, "docs/dash.md", "set -o");
}

/// Every variable the manual names, and what else dash could be thought
/// to read, set to code one at a time, for a script that exercises the
/// shell (also as a login shell, which reads `$HOME/.profile`): without a
/// policy the code runs through `PS4` only, and under `mayexec run -i`
/// through none, as root and as `nobody`.
#[root_test]
fn no_variable_runs_code_under_deny_interactive() {
    let Some(dash) = DASH.require("no_variable_runs_code_under_deny_interactive") else {
        return;
    };
    let Some(manual) = read_built(&MANUAL, "no_variable_runs_code_under_deny_interactive") else {
        return;
    };
    let mut variables = manual_variables(&manual);
    variables.extend(
        [
            "LINENO", "SHELL", "TMPDIR", "VISUAL", "LANG", "LC_ALL", "SHLVL",
        ]
        .iter()
        .map(|v| (*v).to_owned()),
    );
    let exec = Tmpfs::exec();
    let script = exec.write("exercise.sh", format!("{SHELL_EXERCISE}echo end\n"), 0o755);
    let home = exec.path().join("home");
    std::fs::create_dir(&home).expect("mkdir home");

    let variables: Vec<String> = variables.into_iter().collect();
    let ran = |enforced: bool, uid: u32, login: bool| {
        variables_that_run_code(&variables, &shell_substitutions, &|| {
            let mut cmd = if enforced {
                mayexec_run("-i", &dash)
            } else {
                Command::new(&dash)
            };
            if login {
                cmd.arg("-l");
            }
            cmd.arg(&script).env("HOME", &home);
            if uid != 0 {
                mayexec_testkit::as_nobody(&mut cmd);
            }
            cmd
        })
    };
    let ps4 = names(&["PS4"]);
    for uid in [0, NOBODY] {
        for login in [false, true] {
            let how = format!("uid {uid}, login {login}");
            assert_eq!(ran(false, uid, login), ps4, "no policy, {how}");
            assert_eq!(ran(true, uid, login), names(&[]), "mayexec run -i, {how}");
        }
    }
}
