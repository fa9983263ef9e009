//! Files dash loads as code besides the script: `.` and the ENV file are
//! checked and enforced like the script; a denial is dash's usual error
//! for a file it cannot read.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use mayexec_dash::{require_root_and_dash, Exit, Outcome, STOCK_DASH};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, TempDir, Tmpfs, NOBODY};

/// `mayexec run -f -- PROGRAM`.
fn restrict_file(mayexec: &Path, program: &Path) -> Command {
    let mut cmd = Command::new(mayexec);
    cmd.args(["run", "-f", "--"]).arg(program);
    cmd
}

fn main_script(fs: &Tmpfs, lib: &Path) -> std::path::PathBuf {
    fs.write(
        "main.sh",
        format!("echo before\n. {}\necho after\n", lib.display()),
        0o755,
    )
}

#[root_test]
fn dot_of_a_denied_file_fails_as_dot_of_an_unreadable_file() {
    let Some(dash) =
        require_root_and_dash("dot_of_a_denied_file_fails_as_dot_of_an_unreadable_file")
    else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let lib_text = "echo lib ran\n";
    let allowed = exec.write("allowed.sh", lib_text, 0o755);
    let not_executable = exec.write("not-executable.sh", lib_text, 0o644);
    let on_noexec = noexec.write("on-noexec.sh", lib_text, 0o755);

    // What stock dash says when `.` cannot read its file (nobody, mode 0600).
    let unreadable = exec.write("unreadable.sh", lib_text, 0o600);
    let dir = TempDir::new();
    let stock_main = dir.write(
        "main.sh",
        format!("echo before\n. {}\necho after\n", unreadable.display()),
        0o755,
    );
    let stock = Outcome::of(
        Sandbox::new()
            .as_user(NOBODY, NOBODY)
            .command(STOCK_DASH)
            .arg(&stock_main),
    );
    assert_eq!(stock.exit, Exit::Code(2), "{stock}");
    assert_eq!(stock.stdout, "before\n");
    let unreadable_message = |main: &Path, lib: &Path| {
        stock
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
        let got = Outcome::of(restrict_file(&mayexec, &dash).arg(&main));
        assert_eq!(
            got,
            Outcome {
                exit: Exit::Code(2),
                stdout: "before\n".to_owned(),
                stderr: unreadable_message(&main, lib),
            },
            "{}",
            lib.display()
        );
        // Without a policy the same file is sourced.
        let plain = Outcome::of(Command::new(&dash).arg(&main));
        assert_eq!(plain.exit, Exit::Code(0), "{plain}");
        assert_eq!(plain.stdout, "before\nlib ran\nafter\n");
    }

    let dir = Tmpfs::exec();
    let main = main_script(&dir, &allowed);
    let got = Outcome::of(restrict_file(&mayexec, &dash).arg(&main));
    assert_eq!(got.exit, Exit::Code(0), "{got}");
    assert_eq!(got.stdout, "before\nlib ran\nafter\n");
}

#[root_test]
fn a_denied_dot_file_is_logged() {
    let Some(dash) = require_root_and_dash("a_denied_dot_file_is_logged") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let lib = noexec.write("lib.sh", "echo lib ran\n", 0o755);
    let main = main_script(&exec, &lib);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\n")
        .capture_syslog();
    let got = Outcome::of(sandbox.command(&dash).arg(&main));
    assert_eq!(got.exit, Exit::Code(2), "{got}");
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let want = format!(
        " path={} reason=noexec-mount backend=emulated action=denied",
        lib.display()
    );
    assert!(lines[0].ends_with(&want), "{want:?} in {}", lines[0]);
}

/// `dash -i` with ENV set, commands from a regular file on stdin; returns
/// the outcome. Under `mayexec run -f` only: deny-interactive would refuse
/// the interactive shell itself.
fn interactive_with_env(launch: &mut Command, env: &Path, input: &Path) -> Outcome {
    Outcome::of(
        launch
            .arg("-i")
            .env("ENV", env)
            .stdin(File::open(input).expect("open input")),
    )
}

#[root_test]
fn a_denied_env_file_is_skipped_as_an_unreadable_one() {
    let Some(dash) = require_root_and_dash("a_denied_env_file_is_skipped_as_an_unreadable_one")
    else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let input = exec.write("input", "echo main\n", 0o644);
    let env_text = "echo env ran\n";
    let on_noexec = noexec.write("env.sh", env_text, 0o755);
    let allowed = exec.write("env.sh", env_text, 0o755);

    let plain = interactive_with_env(&mut Command::new(&dash), &on_noexec, &input);
    assert_eq!(plain.exit, Exit::Code(0), "{plain}");
    assert_eq!(plain.stdout, "env ran\nmain\n");

    let denied = interactive_with_env(&mut restrict_file(&mayexec, &dash), &on_noexec, &input);
    assert_eq!(denied.exit, Exit::Code(0), "{denied}");
    assert_eq!(denied.stdout, "main\n", "the ENV file did not run");
    // Silently, as dash skips an ENV file it cannot open: only the prompts
    // and job-control notice of `-i` without a terminal, as without policy.
    assert_eq!(
        denied
            .stderr
            .replace(&format!("{}:", dash.display()), "dash:"),
        plain
            .stderr
            .replace(&format!("{}:", dash.display()), "dash:")
    );

    // Stock dash with an ENV file it cannot read behaves the same.
    let unreadable = exec.write("unreadable-env.sh", env_text, 0o600);
    let mut stock_cmd = Command::new(STOCK_DASH);
    mayexec_testkit::as_nobody(&mut stock_cmd);
    let stock = interactive_with_env(&mut stock_cmd, &unreadable, &input);
    assert_eq!(stock.exit, Exit::Code(0), "{stock}");
    assert_eq!(stock.stdout, "main\n");

    let ok = interactive_with_env(&mut restrict_file(&mayexec, &dash), &allowed, &input);
    assert_eq!(ok.stdout, "env ran\nmain\n", "{ok}");

    // The denial is in the audit log.
    let sandbox = Sandbox::new().capture_syslog();
    let mut cmd = sandbox.command(&mayexec);
    cmd.args(["run", "-f", "--"]).arg(&dash);
    let logged = interactive_with_env(&mut cmd, &on_noexec, &input);
    assert_eq!(logged.stdout, "main\n", "{logged}");
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
