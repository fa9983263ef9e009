//! The `mayexec` command's contract: output, JSON, exit statuses.

mod common;

use common::*;

use mayexec_testkit::{
    as_nobody, give_to, outputs_with_unwritable_stderr, root_test, Sandbox, SpecialFiles, TempDir,
    Tmpfs, NOBODY,
};
use serde_json::Value;

#[root_test]
fn check_on_a_noexec_mount_denies_and_level_2_allows() {
    let noexec = Tmpfs::noexec();
    let script = noexec.write("x.sh", "#!/bin/sh\necho hi\n", 0o755);
    let out = run(mayexec().arg("check").arg(&script));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        format!("{}: denied (noexec-mount)\n", script.display())
    );
    let out = run(mayexec()
        .args(["check", "--backend", "emulated", "--level", "2"])
        .arg(&script));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}: allowed\n", script.display()));
}

#[root_test]
fn check_json_has_one_object_per_path_and_the_worst_status_wins() {
    let exec = Tmpfs::exec();
    let good = exec.write("good.sh", "x\n", 0o755);
    let bad = exec.write("bad.sh", "x\n", 0o644);
    let out = run(mayexec().args(["check", "--json"]).arg(&good).arg(&bad));
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["path"], good.to_str().unwrap());
    assert_eq!(v[0]["allowed"], true);
    assert_eq!(v[0]["reason"], Value::Null);
    assert_eq!(v[0]["backend"], "kernel");
    assert_eq!(v[0]["errno"], Value::Null);
    assert_eq!(v[1]["allowed"], false);
    assert_eq!(v[1]["reason"], "not-executable");
    assert_eq!(v[1]["errno"], libc::EACCES);

    let out = run(mayexec()
        .args(["check", "--json"])
        .arg(&good)
        .arg("/nonexistent"));
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v[1]["path"], "/nonexistent");
    assert_eq!(v[1]["errno"], libc::ENOENT);
    assert!(v[1]["error"].as_str().unwrap().contains("No such file"));

    let out = run(mayexec()
        .arg("check")
        .arg(&bad)
        .arg("/nonexistent")
        .arg(&good));
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unopenable path outranks a denial"
    );
    assert_eq!(
        stdout(&out),
        format!(
            "{}: denied (not-executable)\n{}: allowed\n",
            bad.display(),
            good.display()
        )
    );
    assert_eq!(
        stderr(&out),
        "mayexec: /nonexistent: No such file or directory (os error 2)\n"
    );
}

#[test]
fn check_rejects_bad_usage_with_status_2() {
    for args in [
        &["check"][..],
        &["check", "--level", "4", "/bin/sh"],
        &["check", "--backend", "magic", "/bin/sh"],
        &["frobnicate"],
    ] {
        let out = run(mayexec().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?} explains itself");
    }
    let out = run(mayexec().args(["check", "--backend", "kernel", "--level", "1", "/bin/sh"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("levels 0, 1 and 2 exist only in the emulated backend"),
        "{}",
        stderr(&out)
    );
}

#[root_test]
fn check_levels_as_an_unprivileged_user() {
    for noexec in [false, true] {
        let mount = Tmpfs::mount(noexec).unwrap();
        for mode in [0o755, 0o644, 0o500, 0o400] {
            let path = mount.write(format!("s{mode:o}"), "x\n", mode);
            give_to(&path, NOBODY, NOBODY);
            for level in 0..=3u8 {
                let out = run(as_nobody(&mut mayexec())
                    .args([
                        "check",
                        "--json",
                        "--backend",
                        "emulated",
                        "--level",
                        &level.to_string(),
                    ])
                    .arg(&path));
                let want = if level & 1 != 0 && noexec {
                    Some("noexec-mount")
                } else if level & 2 != 0 && mode & 0o100 == 0 {
                    Some("not-executable")
                } else {
                    None
                };
                let v = json(&out);
                assert_eq!(
                    v[0]["reason"].as_str(),
                    want,
                    "noexec={noexec} mode={mode:o} level={level}"
                );
                assert_eq!(out.status.code(), Some(if want.is_some() { 1 } else { 0 }));
            }
        }
    }
}

#[test]
fn status_reports_kernel_support_bits_policy_and_enforcement() {
    let out = run(mayexec().args(["status", "--json"]));
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["kernel"]["execve_check"], true);
    assert_eq!(v["kernel"]["exec_securebits"], true);
    assert!(v["kernel"]["release"]
        .as_str()
        .unwrap()
        .starts_with(char::is_numeric));
    assert_eq!(v["backend"], "kernel");
    assert_eq!(v["securebits"]["exec_restrict_file"], false);
    assert_eq!(v["policy"]["path"], "/etc/mayexec.conf");
    assert_eq!(v["policy"]["present"], false);
    assert_eq!(v["enforcement"]["scripts"]["level"], 3);
    assert_eq!(v["enforcement"]["scripts"]["action"], "ignore");
    assert!(v["hints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h.as_str().unwrap().contains("mayexec run")));

    let out = run(mayexec().arg("status"));
    let text = stdout(&out);
    for needle in [
        "AT_EXECVE_CHECK",
        "available",
        "SECBIT_EXEC_RESTRICT_FILE:      off, unlocked",
        "no system policy",
        "Hint:",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn run_sets_the_bits_and_passes_the_exit_status_through() {
    let out = run(mayexec()
        .args(["run", "-fi", "--"])
        .arg(env!("CARGO_BIN_EXE_mayexec"))
        .args(["status", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["securebits"]["exec_restrict_file_locked"], true);
    assert_eq!(v["securebits"]["exec_deny_interactive_locked"], true);
    assert_eq!(v["enforcement"]["scripts"]["action"], "enforce");

    let out = run(mayexec()
        .args(["run", "-f", "--no-lock", "--"])
        .arg(env!("CARGO_BIN_EXE_mayexec"))
        .args(["status", "--json"]));
    let v = json(&out);
    assert_eq!(v["securebits"]["exec_restrict_file"], true);
    assert_eq!(v["securebits"]["exec_restrict_file_locked"], false);
    assert_eq!(v["securebits"]["exec_deny_interactive"], false);

    let out = run(mayexec().args(["run", "--deny-interactive", "--", "sh", "-c", "exit 7"]));
    assert_eq!(
        out.status.code(),
        Some(7),
        "found on PATH, status passed through"
    );
}

#[test]
fn run_fails_like_a_shell() {
    let out = run(mayexec().args(["run", "--", "true"]));
    assert_eq!(out.status.code(), Some(2), "no bit chosen");
    assert!(stderr(&out).contains("--restrict-file"));
    let out = run(mayexec().args(["run", "-f"]));
    assert_eq!(out.status.code(), Some(2), "no command");
    let out = run(mayexec().args(["run", "-f", "--", "no-such-command-mayexec"]));
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        "mayexec: no-such-command-mayexec: command not found\n"
    );
    let dir = TempDir::new();
    let not_exec = dir.write("plain", "x\n", 0o644);
    let out = run(mayexec().args(["run", "-f", "--"]).arg(&not_exec));
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
}

#[root_test]
fn policy_show_and_check_read_the_system_policy_as_the_library_does() {
    let sandbox = Sandbox::new().policy("interpreted_access = 1\nmode = \"audit\"\n");
    let out = run(sandbox
        .command(env!("CARGO_BIN_EXE_mayexec"))
        .args(["policy", "show", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["present"], true);
    assert_eq!(v["trusted"], true);
    assert_eq!(v["interpreted_access"], 1);
    assert_eq!(v["mode"], "audit");
    let out = run(sandbox
        .command(env!("CARGO_BIN_EXE_mayexec"))
        .args(["policy", "check"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "/etc/mayexec.conf: valid: interpreted_access = 1, deny_interactive = false, mode = \"audit\"\n"
    );
    let out = run(sandbox
        .command(env!("CARGO_BIN_EXE_mayexec"))
        .args(["status", "--json"]));
    assert_eq!(json(&out)["enforcement"]["scripts"]["action"], "audit");

    let broken = Sandbox::new().policy("interpreted_access = 9\n");
    let out = run(broken
        .command(env!("CARGO_BIN_EXE_mayexec"))
        .args(["policy", "show"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("UNUSABLE"), "{}", stdout(&out));
    let out = run(broken
        .command(env!("CARGO_BIN_EXE_mayexec"))
        .args(["policy", "check"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(
        "/etc/mayexec.conf: invalid policy file: interpreted_access = 9 is out of range"
    ));

    let out = run(mayexec().args(["policy", "check"]));
    assert_eq!(out.status.code(), Some(0), "no policy file on this machine");
    assert!(stdout(&out).contains("no system policy is in force"));
}

#[root_test]
fn policy_check_validates_any_file() {
    let dir = TempDir::new();
    let good = dir.write(
        "good.conf",
        "interpreted_access = 3\ndeny_interactive = true\n",
        0o644,
    );
    let out = run(mayexec().args(["policy", "check"]).arg(&good));
    assert_eq!(out.status.code(), Some(0));
    let loose = dir.write("loose.conf", "interpreted_access = 3\n", 0o666);
    let out = run(mayexec().args(["policy", "check"]).arg(&loose));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("untrusted policy file"),
        "{}",
        stderr(&out)
    );
    let out = run(mayexec()
        .args(["policy", "check"])
        .arg(dir.path().join("absent.conf")));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no such file"));
    // Relative paths are taken from the current directory.
    let out = run(mayexec()
        .current_dir(dir.path())
        .args(["policy", "check", "good.conf"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn help_teaches_the_exit_statuses() {
    let out = run(mayexec().args(["check", "--help"]));
    assert!(stdout(&out).contains("Exit status: 0 all allowed, 1 any denied, 2 usage error"));
    let out = run(mayexec().args(["run", "--help"]));
    assert!(stdout(&out).contains("127 CMD not found"));
    let out = run(mayexec().arg("--version"));
    assert!(stdout(&out).starts_with("mayexec "));
}

/// Runs `mayexec ARGS` with each unwritable stderr and checks the status:
/// a message that cannot be written is lost, never a panic (which aborts:
/// SIGABRT, 134).
fn assert_status_with_unwritable_stderr(args: &[&str], expected: i32) {
    for (how, out) in outputs_with_unwritable_stderr(|| {
        let mut cmd = mayexec();
        cmd.args(args);
        cmd
    }) {
        assert_eq!(
            out.status.code(),
            Some(expected),
            "mayexec {args:?} with stderr {how}: {:?}",
            out.status
        );
    }
}

#[test]
fn an_unwritable_stderr_never_changes_the_exit_status() {
    let dir = TempDir::new();
    let plain = dir.write("plain", "x\n", 0o644);
    let plain = plain.to_str().unwrap();
    let absent = dir.path().join("absent");
    let absent = absent.to_str().unwrap();
    assert_status_with_unwritable_stderr(&["check", absent], 2);
    assert_status_with_unwritable_stderr(&["check", "--level", "2", plain], 1);
    assert_status_with_unwritable_stderr(&["run", "-f", "--", plain], 126);
    assert_status_with_unwritable_stderr(&["run", "-f", "--", "no-such-command-mayexec"], 127);
    assert_status_with_unwritable_stderr(&["run", "--", "true"], 2);
    assert_status_with_unwritable_stderr(&["scan", absent], 2);
    assert_status_with_unwritable_stderr(&["mark", "--undo", absent], 2);
    assert_status_with_unwritable_stderr(&["policy", "check", absent], 1);
    assert_status_with_unwritable_stderr(&["check", "--no-such-option"], 2);
}

#[test]
fn an_unwritable_stdout_is_reported_not_a_crash() {
    let dir = TempDir::new();
    let conf = dir.write("good.conf", "interpreted_access = 1\n", 0o644);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = run(mayexec().args(["policy", "check"]).arg(&conf).stdout(full));
    assert_eq!(out.status.code(), Some(2), "{:?}", out.status);
    assert!(
        stderr(&out).contains("cannot write output"),
        "{}",
        stderr(&out)
    );
}

/// How many times `paths` were opened (`IN_OPEN`) while `f` ran. An
/// `O_PATH` descriptor is not an open: it reads nothing and runs no
/// driver, and inotify does not report it.
fn opens_during(paths: &[&std::path::Path], f: impl FnOnce()) -> usize {
    use rustix::fs::inotify;
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
        .expect("inotify_init1");
    for path in paths {
        inotify::add_watch(&fd, *path, inotify::WatchFlags::OPEN).expect("inotify_add_watch");
    }
    f();
    let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
    let mut reader = inotify::Reader::new(&fd, &mut buf);
    let mut opens = 0;
    loop {
        match reader.next() {
            Ok(event) => opens += usize::from(event.events().contains(inotify::ReadFlags::OPEN)),
            Err(rustix::io::Errno::AGAIN) => return opens,
            Err(e) => panic!("read inotify: {e}"),
        }
    }
}

#[root_test]
fn check_judges_sockets_fifos_and_devices_without_opening_them() {
    let special = SpecialFiles::new();
    let socket = special.path("socket");
    let out = run(mayexec().arg("check").arg(&socket));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{}: denied (not-regular-file)\n", socket.display())
    );
    let out = run(mayexec()
        .args(["check", "--json", "--backend", "emulated"])
        .arg(&socket));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)[0]["reason"], "not-regular-file");

    let (fifo, null, block) = (
        special.path("fifo"),
        special.path("null"),
        special.path("loop"),
    );
    let watched = [fifo.as_path(), null.as_path(), block.as_path()];
    // The watch itself works: a plain open of the device is seen.
    assert_eq!(
        opens_during(&watched, || drop(std::fs::File::open(&null).unwrap())),
        1
    );
    for backend in ["kernel", "emulated"] {
        let opens = opens_during(&watched, || {
            let out = run(mayexec()
                .args(["check", "--backend", backend])
                .args(watched));
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert_eq!(
                stdout(&out),
                format!(
                    "{}: denied (not-regular-file)\n{}: denied (not-regular-file)\n\
                     {}: denied (not-regular-file)\n",
                    fifo.display(),
                    null.display(),
                    block.display()
                ),
                "{backend}"
            );
        });
        assert_eq!(opens, 0, "{backend}: a FIFO or device was opened");
    }
    // A regular file is opened for reading, once, and checked (the
    // emulated backend: the kernel's check opens it once more).
    let script = special.path("target.sh");
    let opens = opens_during(&[script.as_path()], || {
        let out = run(mayexec()
            .args(["check", "--backend", "emulated"])
            .arg(&script));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    });
    assert_eq!(opens, 1);
}

#[root_test]
fn check_of_an_unreadable_file_keeps_its_errno() {
    let dir = TempDir::new();
    let secret = dir.write("secret.sh", "echo\n", 0o711);
    let out = run(as_nobody(&mut mayexec())
        .args(["check", "--json"])
        .arg(&secret));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json(&out)[0]["errno"], libc::EACCES);
    let out = run(as_nobody(&mut mayexec()).arg("check").arg(&secret));
    assert_eq!(
        stderr(&out),
        format!(
            "mayexec: {}: Permission denied (os error 13)\n",
            secret.display()
        )
    );
}
