//! Effective enforcement: the stricter of the securebits and the system
//! policy; audit mode never relaxes the securebits; denials are logged once
//! each, with what was decided.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};

use mayexec::audit::{self, AuditRecord};
use mayexec::policy::Mode;
use mayexec::securebits::SecureBits;
use mayexec::{Action, Backend, Enforcement, Level, Reason, ScriptError, SystemPolicy};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};
use rusty_fork::rusty_fork_test;

const RESTRICT: SecureBits = SecureBits::EXEC_RESTRICT_FILE;
const DENY: SecureBits = SecureBits::EXEC_DENY_INTERACTIVE;

fn policy(level: Level, deny_interactive: bool, mode: Mode) -> Option<SystemPolicy> {
    let mut policy = SystemPolicy::default();
    policy.interpreted_access = level;
    policy.deny_interactive = deny_interactive;
    policy.mode = mode;
    Some(policy)
}

fn effective(bits: SecureBits, policy: Option<SystemPolicy>) -> (Level, Action, Action) {
    let e = Enforcement::from_parts(bits, policy);
    (e.checker.level(), e.scripts, e.interactive)
}

#[test]
fn the_stricter_of_securebits_and_policy_wins() {
    use Action::{Audit, Enforce, Ignore};
    use Level::{Full as L3, Mount as L1, Off as L0, Permission as L2};
    let none = SecureBits::empty();
    let cases = [
        (none, None, (L3, Ignore, Ignore)),
        (RESTRICT, None, (L3, Enforce, Ignore)),
        (DENY, None, (L3, Ignore, Enforce)),
        (RESTRICT | DENY, None, (L3, Enforce, Enforce)),
        (none, policy(L0, false, Mode::Enforce), (L3, Ignore, Ignore)),
        (
            none,
            policy(L1, false, Mode::Enforce),
            (L1, Enforce, Ignore),
        ),
        (
            none,
            policy(L2, false, Mode::Enforce),
            (L2, Enforce, Ignore),
        ),
        (
            none,
            policy(L3, true, Mode::Enforce),
            (L3, Enforce, Enforce),
        ),
        (none, policy(L2, true, Mode::Audit), (L2, Audit, Audit)),
        (none, policy(L0, true, Mode::Enforce), (L3, Ignore, Enforce)),
        // The securebits are never relaxed by the policy.
        (
            RESTRICT,
            policy(L1, false, Mode::Enforce),
            (L3, Enforce, Ignore),
        ),
        (
            RESTRICT,
            policy(L1, true, Mode::Audit),
            (L3, Enforce, Audit),
        ),
        (
            RESTRICT | DENY,
            policy(L3, true, Mode::Audit),
            (L3, Enforce, Enforce),
        ),
        (DENY, policy(L2, false, Mode::Audit), (L2, Audit, Enforce)),
    ];
    for (bits, policy, want) in cases {
        assert_eq!(
            effective(bits, policy.clone()),
            want,
            "bits {bits:?}, policy {policy:?}"
        );
    }
}

/// Collects audit records for the rest of this (forked) test process.
fn capture() -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    audit::set_hook(Some(Box::new(move |record: &AuditRecord<'_>| {
        sink.lock().unwrap().push(record.to_string());
    })));
    lines
}

rusty_fork_test! {
    #[root_test]
    fn an_enforced_denial_refuses_the_script_and_logs_it() {
        let lines = capture();
        let noexec = Tmpfs::noexec();
        let path = noexec.write("evil.sh", "echo evil\n", 0o755);
        let e = Enforcement::from_parts(RESTRICT, None);
        match e.open_script(&path) {
            Err(ScriptError::Denied(denial)) => {
                assert_eq!(denial.reason, Reason::NoexecMount);
                assert_eq!(denial.to_string(), format!("{}: script execution denied (noexec-mount)", path.display()));
            }
            other => panic!("expected a denial, got {other:?}"),
        }
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let uid = rustix::process::getuid().as_raw();
        let exe = std::env::current_exe().unwrap();
        let program = exe.file_name().unwrap().to_string_lossy();
        assert_eq!(
            lines[0],
            format!(
                "program={program} pid={} uid={uid} path={} reason=noexec-mount backend=kernel action=denied",
                std::process::id(),
                path.display()
            )
        );
    }

    #[root_test]
    fn an_audit_only_denial_interprets_the_script_and_logs_it() {
        let lines = capture();
        let noexec = Tmpfs::noexec();
        let path = noexec.write("evil.sh", "echo evil\n", 0o755);
        let e = Enforcement::from_parts(SecureBits::empty(), policy(Level::Mount, false, Mode::Audit));
        let mut script = e.open_script(&path).expect("audit mode never refuses");
        assert_eq!(script.verdict.reason(), Some(Reason::NoexecMount));
        assert_eq!(script.verdict.backend(), Backend::Emulated);
        let mut text = String::new();
        script.file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "echo evil\n", "the checked file is the one read");
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].ends_with("reason=noexec-mount backend=emulated action=audit"), "{}", lines[0]);
    }

    #[root_test]
    fn without_a_policy_nothing_is_refused_or_logged() {
        let lines = capture();
        let noexec = Tmpfs::noexec();
        let path = noexec.write("evil.sh", "echo evil\n", 0o755);
        let e = Enforcement::from_parts(SecureBits::empty(), None);
        let script = e.open_script(&path).unwrap();
        // Not checked: no answer would be used.
        assert!(script.verdict.is_allowed());
        // `check` answers whoever asks all the same.
        assert_eq!(e.check(&script.file).reason(), Some(Reason::NoexecMount));
        assert!(e.check_interactive(None, OsStr::new("-c")).is_ok());
        assert!(lines.lock().unwrap().is_empty());
    }

    #[root_test]
    fn deny_interactive_refuses_command_line_code_pipes_and_terminals_but_not_checked_files() {
        let lines = capture();
        let e = Enforcement::from_parts(DENY, None);
        let denial = e.check_interactive(None, OsStr::new("-c")).unwrap_err();
        assert_eq!(denial.reason, Reason::Interactive);
        assert_eq!(denial.to_string(), "-c: script execution denied (interactive)");

        let (pipe, _writer) = rustix::pipe::pipe().unwrap();
        let denial = e.check_interactive(Some(pipe.as_fd()), OsStr::new("<stdin>")).unwrap_err();
        assert_eq!(denial.reason, Reason::NotRegularFile);

        let tty = File::open("/dev/ptmx").unwrap();
        assert!(e.check_interactive(Some(tty.as_fd()), OsStr::new("<stdin>")).is_err());

        let exec = Tmpfs::exec();
        let noexec = Tmpfs::noexec();
        let good = File::open(exec.write("in.sh", "echo\n", 0o755)).unwrap();
        let mode = File::open(exec.write("in644.sh", "echo\n", 0o644)).unwrap();
        let bad = File::open(noexec.write("in.sh", "echo\n", 0o755)).unwrap();
        assert!(e.check_interactive(Some(good.as_fd()), OsStr::new("<stdin>")).is_ok());
        // The full check, whatever the script level.
        assert_eq!(
            e.check_interactive(Some(mode.as_fd()), OsStr::new("<stdin>")).unwrap_err().reason,
            Reason::NotExecutable
        );
        assert_eq!(
            e.check_interactive(Some(bad.as_fd()), OsStr::new("<stdin>")).unwrap_err().reason,
            Reason::NoexecMount
        );
        assert_eq!(lines.lock().unwrap().len(), 5, "one line per denial");
        // Scripts are not restricted by -i alone.
        assert!(e.open_script(noexec.path().join("in.sh")).is_ok());
    }

    #[root_test]
    fn system_policy_levels_pick_the_emulated_rules() {
        let _lines = capture();
        let exec = Tmpfs::exec();
        let noexec = Tmpfs::noexec();
        let on_noexec = noexec.write("a.sh", "x\n", 0o755);
        let not_exec = exec.write("b.sh", "x\n", 0o644);
        let fine = exec.write("c.sh", "x\n", 0o755);
        let level = |l| Enforcement::from_parts(SecureBits::empty(), policy(l, false, Mode::Enforce));
        let reason = |e: &Enforcement, p| match e.open_script(p) {
            Ok(_) => None,
            Err(ScriptError::Denied(d)) => Some(d.reason),
            Err(other) => panic!("{other}"),
        };
        let l1 = level(Level::Mount);
        assert_eq!(l1.checker.backend(), Backend::Emulated);
        assert_eq!(reason(&l1, &on_noexec), Some(Reason::NoexecMount));
        assert_eq!(reason(&l1, &not_exec), None, "level 1: no chmod needed");
        let l2 = level(Level::Permission);
        assert_eq!(reason(&l2, &on_noexec), None, "level 2: mounts do not matter");
        assert_eq!(reason(&l2, &not_exec), Some(Reason::NotExecutable));
        let l3 = level(Level::Full);
        assert_eq!(l3.checker.backend(), Backend::Kernel, "level 3 uses the kernel where it exists");
        assert_eq!(reason(&l3, &on_noexec), Some(Reason::NoexecMount));
        assert_eq!(reason(&l3, &not_exec), Some(Reason::NotExecutable));
        assert_eq!(reason(&l3, &fine), None);
    }

    #[root_test]
    fn enforcement_current_refuses_an_untrusted_policy() {
        // In a private mount namespace with a world-writable /etc/mayexec.conf,
        // the command reports the fault and exits 1.
        let sandbox = Sandbox::new().policy_file("interpreted_access = 3\n", 0o666, 0);
        let out = sandbox.command(workspace_bin("mayexec")).args(["status", "--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["policy"]["trusted"], false);
        assert!(report["policy"]["error"].as_str().unwrap().contains("/etc/mayexec.conf"));
        assert!(report["enforcement"].is_null());
    }
}

/// Runs in the sandbox started by `denials_reach_syslog_as_one_line_each`
/// (ignored otherwise): enforces, so that the denials go to `/dev/log`.
#[test]
#[ignore = "run by denials_reach_syslog_as_one_line_each inside a sandbox"]
fn child_logs_denials_to_dev_log() {
    let dir = std::env::var_os("MAYEXEC_TEST_DIR").expect("MAYEXEC_TEST_DIR");
    let path = std::path::Path::new(&dir).join("evil sh\u{e9}.sh");
    let e = Enforcement::current().expect("policy");
    assert!(matches!(e.open_script(&path), Err(ScriptError::Denied(_))));
    assert!(e.check_interactive(None, OsStr::new("-c")).is_err());
}

#[root_test]
fn denials_reach_syslog_as_one_line_each() {
    let noexec = Tmpfs::noexec();
    noexec.write("evil sh\u{e9}.sh", "echo evil\n", 0o755);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\ndeny_interactive = true\n")
        .capture_syslog();
    let out = sandbox
        .command(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_logs_denials_to_dev_log",
            "--nocapture",
        ])
        .env("MAYEXEC_TEST_DIR", noexec.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // <authpriv.warning>mayexec[PID]: program=… — spaces and non-ASCII escaped.
    let path = format!("{}/evil\\x20sh\\xc3\\xa9.sh", noexec.path().display());
    assert!(lines[0].starts_with("<84>mayexec["), "{}", lines[0]);
    assert!(
        lines[0].ends_with(&format!(
            "path={path} reason=noexec-mount backend=emulated action=denied"
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("path=-c reason=interactive backend=emulated action=denied"),
        "{}",
        lines[1]
    );
}

#[root_test]
fn without_a_policy_a_fifo_script_waits_for_its_writer_as_a_plain_open_does() {
    let files = mayexec_testkit::SpecialFiles::new();
    let fifo = files.path("fifo");
    let reader = {
        let fifo = fifo.clone();
        mayexec_testkit::spawn_retrying(move || {
            let mut script = Enforcement::from_parts(SecureBits::empty(), None)
                .open_script(&fifo)
                .expect("no policy: a FIFO may be interpreted");
            assert!(script.verdict.is_allowed(), "not checked");
            let mut text = String::new();
            script.file.read_to_string(&mut text).unwrap();
            text
        })
    };
    // Let the reader get to its open first: it must wait there, not read
    // an early end of file and go. The writer never blocks: a non-blocking
    // open for writing fails (ENXIO) while no reader is there.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let writer = (0..100)
        .find_map(|_| {
            let open = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
            if open.is_err() {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            open.ok()
        })
        .expect("the reader is still there, waiting for a writer");
    (&writer).write_all(b"echo hi\n").unwrap();
    drop(writer);
    assert_eq!(reader.join().unwrap(), "echo hi\n");

    // Under any policy it is refused at once, writer or not.
    let e = Enforcement::from_parts(RESTRICT, None);
    match e.open_script(&fifo) {
        Err(ScriptError::Denied(d)) => assert_eq!(d.reason, Reason::NotRegularFile),
        other => panic!("{other:?}"),
    }
}

/// Runs in the sandbox started by
/// `a_syslog_daemon_that_does_not_read_never_hangs_the_interpreter`.
#[test]
#[ignore = "run by a_syslog_daemon_that_does_not_read_never_hangs_the_interpreter in a sandbox"]
fn child_logs_more_denials_than_a_socket_queue_holds() {
    let e = Enforcement::current().expect("policy");
    for _ in 0..16 {
        assert!(e.check_interactive(None, OsStr::new("-c")).is_err());
    }
}

#[root_test]
fn a_syslog_daemon_that_does_not_read_never_hangs_the_interpreter() {
    // The test reads nothing until the child is done: past the socket's
    // queue (net.unix.max_dgram_qlen, 10 by default) each line waits a
    // moment and is dropped.
    let sandbox = Sandbox::new()
        .policy("deny_interactive = true\n")
        .capture_syslog();
    let mut child = sandbox
        .command(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_logs_more_denials_than_a_socket_queue_holds",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the interpreter hung on its audit log");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
    let lines = sandbox.syslog_lines();
    let queue: usize = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The kernel lets one datagram past the limit; the rest were dropped.
    assert!(
        (queue..=queue + 1).contains(&lines.len()) && lines.len() < 16,
        "{} lines for a queue of {queue}",
        lines.len()
    );
    assert!(lines
        .iter()
        .all(|l| l.ends_with("reason=interactive backend=kernel action=denied")));
}
