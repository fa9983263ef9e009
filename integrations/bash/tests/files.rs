//! Files bash loads as code besides the script: `source`/`.` (with and
//! without the PATH search), the startup files (`--rcfile`,
//! `--init-file`, the login profiles, `ENV` in posix mode) and loadable
//! builtins (`enable -f`). Each is checked and enforced like the script; a
//! denial is bash's own error for a file it cannot read.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_bash::{cannot_open, loadables_dir, strerror, BUILT};
use mayexec_testkit::conformance::{assert_one_line, mayexec_run};
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::{root_test, Sandbox, Tmpfs};

/// `mayexec run -f -- PROGRAM`.
fn restrict_file(program: &Path) -> Command {
    mayexec_run("-f", program)
}

const LIB: &str = "echo lib ran\n";

#[root_test]
fn source_of_a_denied_file_fails_as_source_of_an_unreadable_file() {
    let Some(bash) = BUILT.require("source_of_a_denied_file_fails_as_source_of_an_unreadable_file")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let allowed = exec.write("allowed.sh", LIB, 0o755);
    let not_executable = exec.write("not-executable.sh", LIB, 0o644);
    let on_noexec = noexec.write("on-noexec.sh", LIB, 0o755);

    for (i, lib) in [&not_executable, &on_noexec].into_iter().enumerate() {
        for builtin in [".", "source"] {
            let main = exec.write(
                format!("main-{i}-{builtin}.sh"),
                format!(
                    "echo before\n{builtin} {}\necho \"after $?\"\n",
                    lib.display()
                ),
                0o755,
            );
            let got = Outcome::of(restrict_file(&bash).arg(&main));
            let want = Outcome {
                exit: Exit::Code(0),
                stdout: "before\nafter 1\n".to_owned(),
                stderr: cannot_open(&main, Some(2), lib, libc::EACCES),
            };
            assert_eq!(got, want, "{builtin} {}", lib.display());
            // Without a policy the same file is sourced.
            let plain = Outcome::of(Command::new(&bash).arg(&main));
            assert_eq!(plain, Outcome::ran("before\nlib ran\nafter 0\n"));
        }
    }

    let main = exec.write("main.sh", format!(". {}\n", allowed.display()), 0o755);
    let got = Outcome::of(restrict_file(&bash).arg(&main));
    assert_eq!(got, Outcome::ran("lib ran\n"));
}

#[root_test]
fn source_checks_the_file_found_in_path_and_in_the_current_directory() {
    let Some(bash) =
        BUILT.require("source_checks_the_file_found_in_path_and_in_the_current_directory")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    noexec.write("lib.sh", LIB, 0o755);
    let allowed_dir = exec.path().join("bin");
    std::fs::create_dir(&allowed_dir).expect("mkdir");
    let allowed = mayexec_testkit::write_file(&allowed_dir.join("lib.sh"), LIB.as_bytes(), 0o755);
    let path = |dir: &Path| format!("{}:/usr/bin:/bin", dir.display());

    // sourcepath on (the default): `source lib.sh` searches PATH.
    let code = "source lib.sh; echo \"status $?\"";
    let denied = Outcome::of(
        restrict_file(&bash)
            .args(["-c", code])
            .env("PATH", path(noexec.path())),
    );
    let found = noexec.path().join("lib.sh");
    assert_eq!(denied.stdout, "status 1\n", "{denied}");
    assert_eq!(
        denied.stderr,
        cannot_open(&bash, Some(1), &found, libc::EACCES)
    );
    let ran = Outcome::of(
        restrict_file(&bash)
            .args(["-c", code])
            .env("PATH", path(&allowed_dir)),
    );
    assert_eq!(ran, Outcome::ran("lib ran\nstatus 0\n"));

    // sourcepath off: the name is a file in the current directory.
    let code = "shopt -u sourcepath; source lib.sh; echo \"status $?\"";
    let denied = Outcome::of(
        restrict_file(&bash)
            .args(["-c", code])
            .current_dir(noexec.path())
            .env("PATH", path(&allowed_dir)),
    );
    assert_eq!(denied.stdout, "status 1\n", "{denied}");
    assert_eq!(
        denied.stderr,
        cannot_open(&bash, Some(1), Path::new("lib.sh"), libc::EACCES)
    );
    let ran = Outcome::of(
        restrict_file(&bash)
            .args(["-c", code])
            .current_dir(allowed.parent().expect("a directory")),
    );
    assert_eq!(ran, Outcome::ran("lib ran\nstatus 0\n"));
}

/// An interactive bash reading `input` (a regular file) with `args` (long
/// options come first).
fn interactive(mut cmd: Command, args: &[&str], input: &Path) -> Outcome {
    Outcome::of(
        cmd.args(args)
            .arg("-i")
            .stdin(File::open(input).expect("open the input")),
    )
}

#[root_test]
fn denied_startup_files_are_reported_as_unreadable_ones_and_not_run() {
    let Some(bash) =
        BUILT.require("denied_startup_files_are_reported_as_unreadable_ones_and_not_run")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let input = exec.write("input", "echo main\n", 0o644);
    let rc = noexec.write("rc.sh", "echo rc ran\n", 0o755);
    let allowed_rc = exec.write("rc.sh", "echo rc ran\n", 0o755);

    for option in ["--rcfile", "--init-file"] {
        let rc_arg = rc.to_str().expect("UTF-8");
        let plain = interactive(Command::new(&bash), &[option, rc_arg], &input);
        assert!(plain.stdout.starts_with("rc ran\n"), "{plain}");
        let denied = interactive(restrict_file(&bash), &[option, rc_arg], &input);
        assert!(!denied.stdout.contains("rc ran"), "{option}: {denied}");
        assert!(denied.stdout.contains("main\n"), "{option}: {denied}");
        let message = cannot_open("bash", None, &rc, libc::EACCES);
        assert!(denied.stderr.contains(&message), "{message:?} in {denied}");
        let allowed = interactive(
            restrict_file(&bash),
            &[option, allowed_rc.to_str().expect("UTF-8")],
            &input,
        );
        assert!(allowed.stdout.starts_with("rc ran\n"), "{allowed}");
    }

    // ENV of an interactive shell in posix mode.
    let plain = interactive(
        {
            let mut cmd = Command::new(&bash);
            cmd.env("ENV", &rc);
            cmd
        },
        &["--posix"],
        &input,
    );
    assert!(plain.stdout.starts_with("rc ran\n"), "{plain}");
    let mut cmd = restrict_file(&bash);
    cmd.env("ENV", &rc);
    let denied = interactive(cmd, &["--posix"], &input);
    assert!(!denied.stdout.contains("rc ran"), "{denied}");
    assert!(
        denied
            .stderr
            .contains(&cannot_open("bash", None, &rc, libc::EACCES)),
        "{denied}"
    );
}

#[root_test]
fn the_login_profiles_and_bash_logout_are_checked() {
    let Some(bash) = BUILT.require("the_login_profiles_and_bash_logout_are_checked") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let main = exec.write("main.sh", "echo main\n", 0o755);
    for name in [".bash_profile", ".bash_login", ".profile"] {
        let profile = noexec.write(name, "echo profile ran\n", 0o755);
        let plain = Outcome::of(
            Command::new(&bash)
                .arg("-l")
                .arg(&main)
                .env("HOME", noexec.path()),
        );
        assert!(
            plain.stdout.contains("profile ran\nmain\n"),
            "{name}: {plain}"
        );
        let denied = Outcome::of(
            restrict_file(&bash)
                .arg("-l")
                .arg(&main)
                .env("HOME", noexec.path()),
        );
        assert_eq!(denied.exit, Exit::Code(0), "{name}: {denied}");
        assert_eq!(denied.stdout, "main\n", "{name}");
        let message = cannot_open(&main, None, &profile, libc::EACCES);
        assert!(denied.stderr.contains(&message), "{message:?} in {denied}");
        std::fs::remove_file(&profile).expect("remove the profile");
    }

    // ~/.bash_logout, read when a login shell runs `exit`.
    let main = exec.write("exits.sh", "echo main\nexit 0\n", 0o755);
    let logout = noexec.write(".bash_logout", "echo logout ran\n", 0o755);
    let plain = Outcome::of(
        Command::new(&bash)
            .arg("-l")
            .arg(&main)
            .env("HOME", noexec.path()),
    );
    assert!(plain.stdout.ends_with("main\nlogout ran\n"), "{plain}");
    let denied = Outcome::of(
        restrict_file(&bash)
            .arg("-l")
            .arg(&main)
            .env("HOME", noexec.path()),
    );
    assert_eq!(denied.exit, Exit::Code(0), "{denied}");
    assert_eq!(denied.stdout, "main\n");
    let message = cannot_open(&main, Some(2), &logout, libc::EACCES);
    assert!(denied.stderr.contains(&message), "{message:?} in {denied}");
}

/// A copy of the example loadable builtin `basename`, in `fs` as `name`.
fn loadable(bash: &Path, fs: &Tmpfs, name: &str, mode: u32) -> PathBuf {
    let built = loadables_dir(bash).join("basename");
    let bytes = std::fs::read(&built).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (integrations/bash/build.sh installs it)",
            built.display()
        )
    });
    fs.write(name, bytes, mode)
}

fn enable_f(cmd: &mut Command, file: &Path) -> Outcome {
    Outcome::of(cmd.arg("-c").arg(format!(
        "enable -f {} basename; echo \"enable $?\"; type -t basename; basename /a/b",
        file.display()
    )))
}

#[root_test]
fn enable_f_loads_only_a_checked_file_and_from_the_checked_descriptor() {
    let Some(bash) =
        BUILT.require("enable_f_loads_only_a_checked_file_and_from_the_checked_descriptor")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let allowed = loadable(&bash, &exec, "allowed", 0o755);
    let not_executable = loadable(&bash, &exec, "not-executable", 0o644);
    let loaded = "enable 0\nbuiltin\nb\n";

    // Without a policy a 0644 builtin loads, as with stock bash.
    assert_eq!(
        enable_f(&mut Command::new(&bash), &not_executable),
        Outcome::ran(loaded)
    );
    // Under restrict-file it fails as a file that cannot be opened, and
    // basename stays the external command.
    let denied = enable_f(&mut restrict_file(&bash), &not_executable);
    assert_eq!(
        denied,
        Outcome {
            exit: Exit::Code(0),
            stdout: "enable 1\nfile\nb\n".to_owned(),
            stderr: format!(
                "{}: line 1: enable: cannot open shared object {}: {}\n",
                bash.display(),
                not_executable.display(),
                strerror(libc::EACCES)
            ),
        }
    );
    assert_eq!(
        enable_f(&mut restrict_file(&bash), &allowed),
        Outcome::ran(loaded)
    );

    // Audit mode loads it and logs the would-be denial.
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\nmode = \"audit\"\n")
        .capture_syslog();
    let audited = enable_f(&mut sandbox.command(&bash), &not_executable);
    assert_eq!(audited, Outcome::ran(loaded));
    let lines = sandbox.syslog_lines();
    assert_one_line(&lines, not_executable.display(), "not-executable", "audit");
}

/// A loadable builtin `builtin` (`basename`, `dirname`) copied into `fs`.
fn loadable_builtin(bash: &Path, fs: &Tmpfs, builtin: &str) -> PathBuf {
    let built = loadables_dir(bash).join(builtin);
    let bytes = std::fs::read(&built).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
    fs.write(builtin, bytes, 0o755)
}

/// Each `enable -f` loads its own file: the library is loaded from
/// `/proc/self/fd/N`, descriptor numbers come back once closed, and the
/// dynamic linker hands back what it loaded under a name before, so a
/// second builtin once got the first one's library ("cannot find
/// dirname_struct"). The same file twice is still one library.
#[root_test]
fn enable_f_loads_each_builtin_from_its_own_file() {
    let Some(bash) = BUILT.require("enable_f_loads_each_builtin_from_its_own_file") else {
        return;
    };
    let exec = Tmpfs::exec();
    let basename = loadable_builtin(&bash, &exec, "basename");
    let dirname = loadable_builtin(&bash, &exec, "dirname");
    let script = format!(
        "enable -f {b} basename && enable -f {d} dirname && enable -d basename && \
         enable -f {b} basename && enable -f {b} basename && type -t basename dirname && \
         basename /a/b && dirname /a/b",
        b = basename.display(),
        d = dirname.display()
    );
    let expected = Outcome::ran("builtin\nbuiltin\nb\n/a\n");
    assert_eq!(
        Outcome::of(Command::new(&bash).arg("-c").arg(&script)),
        expected
    );
    assert_eq!(
        Outcome::of(restrict_file(&bash).arg("-c").arg(&script)),
        expected
    );
}
