//! The system policy (`/etc/mayexec.conf` in a private mount namespace):
//! levels 1–3, deny-interactive, audit mode, an untrusted or malformed
//! file, and the audit lines in syslog.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};

use mayexec_dash::{denial, require_root_and_dash, Exit, Invocation, Outcome};
use mayexec_testkit::{root_test, Sandbox, Tmpfs, NOBODY};

const OUTPUT: &str = "ran\n";

/// Scripts on an exec mount (0755, 0644, 0744) and on a noexec mount (0755).
struct Scripts {
    _exec: Tmpfs,
    _noexec: Tmpfs,
    exec_755: PathBuf,
    exec_644: PathBuf,
    exec_744: PathBuf,
    noexec_755: PathBuf,
}

impl Scripts {
    fn new() -> Scripts {
        let exec = Tmpfs::exec();
        let noexec = Tmpfs::noexec();
        let text = "echo ran\n";
        Scripts {
            exec_755: exec.write("exec-0755.sh", text, 0o755),
            exec_644: exec.write("exec-0644.sh", text, 0o644),
            exec_744: exec.write("exec-0744.sh", text, 0o744),
            noexec_755: noexec.write("noexec-0755.sh", text, 0o755),
            _exec: exec,
            _noexec: noexec,
        }
    }
}

fn ran() -> Outcome {
    Outcome {
        exit: Exit::Code(0),
        stdout: OUTPUT.to_owned(),
        stderr: String::new(),
    }
}

fn denied(label: impl AsRef<OsStr>, reason: &str) -> Outcome {
    Outcome {
        exit: Exit::Code(126),
        stdout: String::new(),
        stderr: denial(label, reason),
    }
}

/// `dash ARGS…` in `sandbox`.
fn dash_in(sandbox: &Sandbox, dash: &Path, args: &[&OsStr]) -> Outcome {
    Outcome::of(sandbox.command(dash).args(args))
}

/// The syslog line about `path`, if there is exactly one.
fn line_about(lines: &[String], path: &str) -> String {
    let about: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(&format!(" path={path} ")))
        .collect();
    assert_eq!(about.len(), 1, "one line about {path} in {lines:#?}");
    about[0].clone()
}

#[root_test]
fn system_policy_levels_1_to_3_decide_which_scripts_dash_runs() {
    let Some(dash) =
        require_root_and_dash("system_policy_levels_1_to_3_decide_which_scripts_dash_runs")
    else {
        return;
    };
    let s = Scripts::new();
    // (level, exec 0755, exec 0644, noexec 0755); level 2 judges only the
    // file's execute permission, so a 0755 file on a noexec mount passes.
    let table = [
        (1, None, None, Some("noexec-mount")),
        (2, None, Some("not-executable"), None),
        (3, None, Some("not-executable"), Some("noexec-mount")),
    ];
    for (level, exec_755, exec_644, noexec_755) in table {
        let sandbox = Sandbox::new().policy(&format!("interpreted_access = {level}\n"));
        for (script, reason) in [
            (&s.exec_755, exec_755),
            (&s.exec_644, exec_644),
            (&s.noexec_755, noexec_755),
        ] {
            let got = dash_in(&sandbox, &dash, &[script.as_os_str()]);
            let want = match reason {
                None => ran(),
                Some(reason) => denied(script, reason),
            };
            assert_eq!(got, want, "level {level}, {}", script.display());
        }
        // Without deny_interactive, -c and pipes are not the policy's concern.
        for invocation in [Invocation::Pipe, Invocation::DashC] {
            let got = invocation.run(&dash, &s.noexec_755, &|p| sandbox.command(p));
            assert_eq!(got, ran(), "level {level}, {invocation}");
        }
    }
}

#[root_test]
fn deny_interactive_in_the_policy_refuses_c_pipes_and_unchecked_stdin() {
    let Some(dash) =
        require_root_and_dash("deny_interactive_in_the_policy_refuses_c_pipes_and_unchecked_stdin")
    else {
        return;
    };
    let s = Scripts::new();
    let sandbox = Sandbox::new().policy("deny_interactive = true\n");
    let run = |invocation: Invocation, script: &Path| {
        invocation.run(&dash, script, &|p| sandbox.command(p))
    };
    assert_eq!(
        run(Invocation::DashC, &s.exec_755),
        denied("-c", "interactive")
    );
    assert_eq!(
        run(Invocation::Pipe, &s.exec_755),
        denied("<stdin>", "not-regular-file")
    );
    assert_eq!(run(Invocation::Stdin, &s.exec_755), ran());
    assert_eq!(
        run(Invocation::Stdin, &s.exec_644),
        denied("<stdin>", "not-executable")
    );
    assert_eq!(
        run(Invocation::Stdin, &s.noexec_755),
        denied("<stdin>", "noexec-mount")
    );
    // Script files are not this setting's business.
    assert_eq!(run(Invocation::Script, &s.exec_644), ran());
    // An interactive shell is refused even when its stdin would pass.
    let interactive = Outcome::of(
        sandbox
            .command(&dash)
            .arg("-i")
            .stdin(File::open(&s.exec_755).unwrap()),
    );
    assert_eq!(interactive, denied("<stdin>", "interactive"));
}

#[root_test]
fn enforced_denials_are_logged_to_syslog_one_line_each() {
    let Some(dash) = require_root_and_dash("enforced_denials_are_logged_to_syslog_one_line_each")
    else {
        return;
    };
    let s = Scripts::new();
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\ndeny_interactive = true\n")
        .capture_syslog();
    let noexec = s.noexec_755.to_str().unwrap();
    assert_eq!(
        dash_in(&sandbox, &dash, &[s.noexec_755.as_os_str()]),
        denied(noexec, "noexec-mount")
    );
    assert_eq!(
        Invocation::Pipe.run(&dash, &s.exec_755, &|p| sandbox.command(p)),
        denied("<stdin>", "not-regular-file")
    );
    assert_eq!(
        dash_in(&sandbox, &dash, &[s.exec_755.as_os_str()]),
        ran(),
        "an allowed script is not logged"
    );
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let line = line_about(&lines, noexec);
    assert!(line.starts_with("<84>mayexec["), "authpriv.warning: {line}");
    for field in [
        "program=dash ",
        " uid=0 ",
        " reason=noexec-mount ",
        " backend=kernel ",
        " action=denied",
    ] {
        assert!(line.contains(field), "{field:?} in {line}");
    }
    let line = line_about(&lines, "<stdin>");
    assert!(line.contains(" reason=not-regular-file "), "{line}");
    assert!(line.ends_with(" action=denied"), "{line}");
}

#[root_test]
fn audit_mode_runs_everything_and_logs_what_would_be_denied() {
    let Some(dash) =
        require_root_and_dash("audit_mode_runs_everything_and_logs_what_would_be_denied")
    else {
        return;
    };
    let s = Scripts::new();
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n")
        .capture_syslog();
    assert_eq!(dash_in(&sandbox, &dash, &[s.noexec_755.as_os_str()]), ran());
    assert_eq!(
        Invocation::Pipe.run(&dash, &s.exec_755, &|p| sandbox.command(p)),
        ran()
    );
    assert_eq!(
        Invocation::DashC.run(&dash, &s.exec_755, &|p| sandbox.command(p)),
        ran()
    );
    let lines = sandbox.syslog_lines();
    for (path, reason) in [
        (s.noexec_755.to_str().unwrap(), "noexec-mount"),
        ("<stdin>", "not-regular-file"),
        ("-c", "interactive"),
    ] {
        let line = line_about(&lines, path);
        assert!(line.starts_with("<85>"), "authpriv.notice: {line}");
        assert!(line.contains(&format!(" reason={reason} ")), "{line}");
        assert!(line.ends_with(" action=audit"), "{line}");
    }
}

#[root_test]
fn without_a_policy_nothing_is_logged() {
    let Some(dash) = require_root_and_dash("without_a_policy_nothing_is_logged") else {
        return;
    };
    let s = Scripts::new();
    let sandbox = Sandbox::new().capture_syslog();
    for invocation in Invocation::ALL.into_iter().skip(1) {
        let got = invocation.run(&dash, &s.noexec_755, &|p| sandbox.command(p));
        assert_eq!(got, ran(), "{invocation}");
    }
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
}

#[root_test]
fn an_untrusted_or_malformed_policy_file_makes_dash_refuse_everything() {
    let Some(dash) =
        require_root_and_dash("an_untrusted_or_malformed_policy_file_makes_dash_refuse_everything")
    else {
        return;
    };
    let s = Scripts::new();
    let cases = [
        (
            Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0),
            "untrusted policy file: /etc/mayexec.conf is writable by group or others (mode 0666)",
        ),
        (
            Sandbox::new().policy_file("interpreted_access = 1\n", 0o644, NOBODY),
            "untrusted policy file: /etc/mayexec.conf is owned by uid 65534, not root",
        ),
        (
            Sandbox::new().policy("interpreted_access = 7\n"),
            "invalid policy file",
        ),
        (
            Sandbox::new().policy("no_such_key = 1\n"),
            "invalid policy file",
        ),
    ];
    for (sandbox, fault) in cases {
        for invocation in Invocation::ALL.into_iter().skip(1) {
            let got = invocation.run(&dash, &s.exec_755, &|p| sandbox.command(p));
            assert_eq!(got.exit, Exit::Code(126), "{invocation}, {fault}: {got}");
            assert_eq!(got.stdout, "", "{invocation}, {fault}");
            let prefix = format!("dash: /etc/mayexec.conf: {fault}");
            assert!(
                got.stderr.starts_with(&prefix),
                "{invocation}: want {prefix:?}…, got {:?}",
                got.stderr
            );
        }
    }
}

#[root_test]
fn the_check_is_made_for_the_user_running_dash() {
    let Some(dash) = require_root_and_dash("the_check_is_made_for_the_user_running_dash") else {
        return;
    };
    let s = Scripts::new();
    let policy = "interpreted_access = 3\n";
    // Mode 0744: root may execute it, nobody may only read it.
    let as_root = Sandbox::new().policy(policy);
    assert_eq!(dash_in(&as_root, &dash, &[s.exec_744.as_os_str()]), ran());
    let as_nobody = Sandbox::new().policy(policy).as_user(NOBODY, NOBODY);
    assert_eq!(
        dash_in(&as_nobody, &dash, &[s.exec_744.as_os_str()]),
        denied(&s.exec_744, "not-executable")
    );
    assert_eq!(dash_in(&as_nobody, &dash, &[s.exec_755.as_os_str()]), ran());
    // A file nobody cannot read is an open error, reported as stock dash does.
    let unreadable = s._exec.write("unreadable.sh", "echo ran\n", 0o700);
    let got = dash_in(&as_nobody, &dash, &[unreadable.as_os_str()]);
    let stock = Outcome::of(
        Sandbox::new()
            .as_user(NOBODY, NOBODY)
            .command(mayexec_dash::STOCK_DASH)
            .arg(&unreadable),
    );
    assert_eq!(got.exit, Exit::Code(2), "{got}");
    assert_eq!(
        got.stderr.replace(&dash.display().to_string(), "DASH"),
        stock.stderr.replace(mayexec_dash::STOCK_DASH, "DASH")
    );
}
