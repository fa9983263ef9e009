//! Files ash loads as code besides the script: `.`, the ENV file and the
//! login profiles are checked and enforced like the script; a denial is
//! ash's usual error for a file it cannot read (`.`) or the silence of a
//! profile or ENV file it cannot open.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_busybox::{
    require_root_and_busybox, require_stock_busybox, Applet, Exit, Outcome, Shell,
};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, TempDir, Tmpfs, NOBODY};

/// `mayexec run -f -- busybox APPLET`.
fn restrict_file(shell: &Shell) -> Command {
    shell.command(&|program: &OsStr| {
        let mut cmd = Command::new(workspace_bin("mayexec"));
        cmd.args(["run", "-f", "--"]).arg(program);
        cmd
    })
}

fn plain(shell: &Shell) -> Command {
    shell.command(&|program: &OsStr| Command::new(program))
}

fn main_script(fs: &Tmpfs, lib: &Path) -> PathBuf {
    fs.write(
        "main.sh",
        format!("echo before\n. {}\necho after\n", lib.display()),
        0o755,
    )
}

#[root_test]
fn dot_of_a_denied_file_fails_as_dot_of_an_unreadable_file() {
    let test = "dot_of_a_denied_file_fails_as_dot_of_an_unreadable_file";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let lib_text = "echo lib ran\n";
    let allowed = exec.write("allowed.sh", lib_text, 0o755);
    let not_executable = exec.write("not-executable.sh", lib_text, 0o644);
    let on_noexec = noexec.write("on-noexec.sh", lib_text, 0o755);
    let unreadable = exec.write("unreadable.sh", lib_text, 0o600);

    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        // What stock ash says when `.` cannot read its file (nobody, 0600).
        let dir = TempDir::new();
        let stock_main = dir.write(
            "main.sh",
            format!("echo before\n. {}\necho after\n", unreadable.display()),
            0o755,
        );
        let stock_out = Outcome::of(
            Sandbox::new()
                .as_user(NOBODY, NOBODY)
                .command(&stock)
                .arg(applet.name())
                .arg(&stock_main),
        );
        assert_eq!(stock_out.exit, Exit::Code(2), "{stock_out}");
        assert_eq!(stock_out.stdout, "before\n");
        let unreadable_message = |main: &Path, lib: &Path| {
            stock_out
                .stderr
                .replace(
                    &stock_main.display().to_string(),
                    &main.display().to_string(),
                )
                .replace(
                    &unreadable.display().to_string(),
                    &lib.display().to_string(),
                )
        };

        for lib in [&not_executable, &on_noexec] {
            let dir = Tmpfs::exec();
            let main = main_script(&dir, lib);
            let got = Outcome::of(restrict_file(&shell).arg(&main));
            assert_eq!(
                got,
                Outcome {
                    exit: Exit::Code(2),
                    stdout: "before\n".to_owned(),
                    stderr: unreadable_message(&main, lib),
                },
                "{shell} {}",
                lib.display()
            );
            // Without a policy the same file is sourced.
            let got = Outcome::of(plain(&shell).arg(&main));
            assert_eq!(got, Outcome::ran("before\nlib ran\nafter\n"), "{shell}");
        }

        let dir = Tmpfs::exec();
        let main = main_script(&dir, &allowed);
        let got = Outcome::of(restrict_file(&shell).arg(&main));
        assert_eq!(got, Outcome::ran("before\nlib ran\nafter\n"), "{shell}");
    }
}

#[root_test]
fn a_denied_dot_file_is_logged() {
    let Some(busybox) = require_root_and_busybox("a_denied_dot_file_is_logged") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let lib = noexec.write("lib.sh", "echo lib ran\n", 0o755);
    let main = main_script(&exec, &lib);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\n")
        .capture_syslog();
    let got = Outcome::of(sandbox.command(&busybox).arg("sh").arg(&main));
    assert_eq!(got.exit, Exit::Code(2), "{got}");
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let want = format!(
        " path={} reason=noexec-mount backend=emulated action=denied",
        lib.display()
    );
    assert!(lines[0].ends_with(&want), "{want:?} in {}", lines[0]);
}

/// `busybox APPLET -i` with ENV set, commands from a regular file on
/// stdin. Under `mayexec run -f` only: deny-interactive would refuse the
/// interactive shell itself.
fn interactive_with_env(cmd: &mut Command, env: &Path, input: &Path) -> Outcome {
    Outcome::of(
        cmd.arg("-i")
            .env("ENV", env)
            // ash prints its prompt on stdout: an empty one.
            .env("PS1", "")
            .stdin(File::open(input).expect("open input")),
    )
}

/// The output of the commands, without the banner of an interactive ash.
fn code_output(out: &Outcome) -> String {
    out.stdout
        .lines()
        .filter(|line| {
            !(line.is_empty() || line.starts_with("BusyBox v") || line.starts_with("Enter 'help'"))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

#[root_test]
fn a_denied_env_file_is_skipped_as_an_unreadable_one() {
    let test = "a_denied_env_file_is_skipped_as_an_unreadable_one";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let input = exec.write("input", "echo main\n", 0o644);
    let env_text = "echo env ran\n";
    let on_noexec = noexec.write("env.sh", env_text, 0o755);
    let allowed = exec.write("env.sh", env_text, 0o755);
    let unreadable = exec.write("unreadable-env.sh", env_text, 0o600);

    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let ran = interactive_with_env(&mut plain(&shell), &on_noexec, &input);
        assert_eq!(ran.exit, Exit::Code(0), "{ran}");
        assert_eq!(code_output(&ran), "env ran\nmain\n");

        let denied = interactive_with_env(&mut restrict_file(&shell), &on_noexec, &input);
        assert_eq!(denied.exit, Exit::Code(0), "{denied}");
        assert_eq!(code_output(&denied), "main\n", "the ENV file did not run");
        // Silently, as ash skips an ENV file it cannot open: only the
        // prompts of `-i`, as without a policy.
        assert_eq!(denied.stderr, ran.stderr, "{shell}");

        // Stock ash with an ENV file it cannot read behaves the same.
        let mut stock_cmd = plain(&Shell::new(&stock, applet));
        mayexec_testkit::as_nobody(&mut stock_cmd);
        let theirs = interactive_with_env(&mut stock_cmd, &unreadable, &input);
        assert_eq!(theirs.exit, Exit::Code(0), "{theirs}");
        assert_eq!(code_output(&theirs), "main\n");

        let ok = interactive_with_env(&mut restrict_file(&shell), &allowed, &input);
        assert_eq!(code_output(&ok), "env ran\nmain\n", "{ok}");
    }

    // The denial is in the audit log.
    let sandbox = Sandbox::new().capture_syslog();
    let mut cmd = sandbox.command(workspace_bin("mayexec"));
    cmd.args(["run", "-f", "--"]).arg(&busybox).arg("sh");
    let logged = interactive_with_env(&mut cmd, &on_noexec, &input);
    assert_eq!(code_output(&logged), "main\n", "{logged}");
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains(&format!(
            " path={} reason=noexec-mount ",
            on_noexec.display()
        )),
        "{}",
        lines[0]
    );
}

/// A login shell (`-l`) reads `/etc/profile` and `$HOME/.profile` first:
/// both are checked like the script, and a denied one is skipped as a
/// profile that cannot be opened, and logged.
#[root_test]
fn denied_login_profiles_are_skipped_and_logged() {
    let Some(busybox) = require_root_and_busybox("denied_login_profiles_are_skipped_and_logged")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let script = exec.write("script.sh", "echo ran\n", 0o755);
    let profile_text = "echo profile ran\n";
    let allowed_home = exec.path().join("allowed-home");
    std::fs::create_dir(&allowed_home).expect("mkdir");
    exec.write("allowed-home/.profile", profile_text, 0o755);
    let denied_home = noexec.path().join("denied-home");
    std::fs::create_dir(&denied_home).expect("mkdir");
    let denied_profile = noexec.write("denied-home/.profile", profile_text, 0o755);

    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        // /etc/profile (0644) is denied under -f too, silently.
        let sandbox = Sandbox::new().capture_syslog();
        let mut cmd = shell.command(&|program: &OsStr| {
            let mut cmd = sandbox.command(workspace_bin("mayexec"));
            cmd.args(["run", "-f", "--"]).arg(program);
            cmd
        });
        let got = Outcome::of(cmd.arg("-l").arg(&script).env("HOME", &denied_home));
        assert_eq!(got, Outcome::ran("ran\n"), "{shell} -l, denied profile");
        let lines = sandbox.syslog_lines();
        assert!(
            lines.iter().any(|l| l.contains(&format!(
                " path={} reason=noexec-mount ",
                denied_profile.display()
            ))),
            "{lines:#?}"
        );

        let got = Outcome::of(
            restrict_file(&shell)
                .arg("-l")
                .arg(&script)
                .env("HOME", &allowed_home),
        );
        assert_eq!(
            got,
            Outcome::ran("profile ran\nran\n"),
            "{shell} -l, allowed profile"
        );

        // Without a policy both profiles run.
        let got = Outcome::of(
            plain(&shell)
                .arg("-l")
                .arg(&script)
                .env("HOME", &denied_home),
        );
        assert_eq!(
            got.stdout, "profile ran\nran\n",
            "{shell} -l, no policy: {got}"
        );
    }
}
