//! The system policy (`/etc/mayexec.conf` in a private mount namespace)
//! beyond the table: the audit lines in syslog, an untrusted or malformed
//! file, and the user the check is made for.

use std::path::PathBuf;

use mayexec_busybox::{
    require_root_and_busybox, require_stock_busybox, Applet, Exit, Invocation, Outcome, Shell,
};
use mayexec_testkit::{root_test, Sandbox, Tmpfs, NOBODY};

/// Scripts on an exec mount (0755, 0744) and on a noexec mount (0755).
struct Scripts {
    exec: Tmpfs,
    _noexec: Tmpfs,
    exec_755: PathBuf,
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
            exec_744: exec.write("exec-0744.sh", text, 0o744),
            noexec_755: noexec.write("noexec-0755.sh", text, 0o755),
            exec,
            _noexec: noexec,
        }
    }
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
fn enforced_denials_are_logged_to_syslog_one_line_each() {
    let Some(busybox) =
        require_root_and_busybox("enforced_denials_are_logged_to_syslog_one_line_each")
    else {
        return;
    };
    let s = Scripts::new();
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let sandbox = Sandbox::new()
            .policy("interpreted_access = 3\ndeny_interactive = true\n")
            .capture_syslog();
        let launch = |p: &std::ffi::OsStr| sandbox.command(p);
        let noexec = s.noexec_755.to_str().expect("a UTF-8 path");
        assert_eq!(
            Invocation::Script.run(&shell, &s.noexec_755, &launch),
            Outcome::refused(shell.denial(noexec, "noexec-mount"))
        );
        assert_eq!(
            Invocation::Pipe.run(&shell, &s.exec_755, &launch),
            Outcome::refused(shell.denial("<stdin>", "not-regular-file"))
        );
        assert_eq!(
            Invocation::Script.run(&shell, &s.exec_755, &launch),
            Outcome::ran("ran\n"),
            "an allowed script is not logged"
        );
        let lines = sandbox.syslog_lines();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        let line = line_about(&lines, noexec);
        assert!(line.starts_with("<84>mayexec["), "authpriv.warning: {line}");
        // The log names the executable (its comm), here busybox itself.
        for field in [
            "program=busybox ",
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
}

#[root_test]
fn audit_mode_runs_everything_and_logs_what_would_be_denied() {
    let Some(busybox) =
        require_root_and_busybox("audit_mode_runs_everything_and_logs_what_would_be_denied")
    else {
        return;
    };
    let s = Scripts::new();
    let shell = Shell::new(&busybox, Applet::Sh);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n")
        .capture_syslog();
    let launch = |p: &std::ffi::OsStr| sandbox.command(p);
    for (invocation, script) in [
        (Invocation::Script, &s.noexec_755),
        (Invocation::Pipe, &s.exec_755),
        (Invocation::DashC, &s.exec_755),
    ] {
        assert_eq!(
            invocation.run(&shell, script, &launch),
            Outcome::ran("ran\n"),
            "{invocation}"
        );
    }
    let lines = sandbox.syslog_lines();
    for (path, reason) in [
        (s.noexec_755.to_str().expect("a UTF-8 path"), "noexec-mount"),
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
fn an_untrusted_or_malformed_policy_file_makes_ash_refuse_everything() {
    let Some(busybox) = require_root_and_busybox(
        "an_untrusted_or_malformed_policy_file_makes_ash_refuse_everything",
    ) else {
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
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        for (sandbox, fault) in &cases {
            for invocation in Invocation::ALL.into_iter().skip(1) {
                let got = invocation.run(&shell, &s.exec_755, &|p| sandbox.command(p));
                assert_eq!(
                    got.exit,
                    Exit::Code(126),
                    "{shell} {invocation}, {fault}: {got}"
                );
                assert_eq!(got.stdout, "", "{shell} {invocation}, {fault}");
                let prefix = format!("{}: /etc/mayexec.conf: {fault}", applet.name());
                assert!(
                    got.stderr.starts_with(&prefix),
                    "{shell} {invocation}: want {prefix:?}…, got {:?}",
                    got.stderr
                );
            }
        }
    }
}

#[root_test]
fn the_check_is_made_for_the_user_running_ash() {
    let test = "the_check_is_made_for_the_user_running_ash";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let s = Scripts::new();
    let policy = "interpreted_access = 3\n";
    let shell = Shell::new(&busybox, Applet::Sh);
    // Mode 0744: root may execute it, nobody may only read it.
    let as_root = Sandbox::new().policy(policy);
    let run = |sandbox: &Sandbox, script: &std::path::Path| {
        Invocation::Script.run(&shell, script, &|p| sandbox.command(p))
    };
    assert_eq!(run(&as_root, &s.exec_744), Outcome::ran("ran\n"));
    let as_nobody = Sandbox::new().policy(policy).as_user(NOBODY, NOBODY);
    assert_eq!(
        run(&as_nobody, &s.exec_744),
        Outcome::refused(shell.denial(&s.exec_744, "not-executable"))
    );
    assert_eq!(run(&as_nobody, &s.exec_755), Outcome::ran("ran\n"));
    // A file nobody cannot read is an open error, reported as stock ash does.
    let unreadable = s.exec.write("unreadable.sh", "echo ran\n", 0o700);
    let got = run(&as_nobody, &unreadable);
    let theirs = Invocation::Script.run(&Shell::new(&stock, Applet::Sh), &unreadable, &|p| {
        Sandbox::new().as_user(NOBODY, NOBODY).command(p)
    });
    assert_eq!(got.exit, Exit::Code(2), "{got}");
    assert_eq!(got, theirs);
}
