//! The system policy (`/etc/mayexec.conf` in a private mount namespace)
//! beyond the table: an untrusted or malformed file, the user the check is
//! made for, the audit lines, audit mode, and the race of a path swapped
//! after the check.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{line_about, unreadable, Fixture, Interpreter, Way, RAN};
use crate::interp::{Exit, Outcome, Place};
use crate::{write_file, Sandbox, Tmpfs, NOBODY};

/// Every way in but `./file`.
fn interpreter_ways(interp: &Interpreter) -> Vec<Way> {
    interp
        .ways()
        .into_iter()
        .filter(|way| !matches!(way, Way::Direct))
        .collect()
}

/// The faults of a policy file that make every enlightened program refuse
/// everything, with the message's start.
fn faulty_policies() -> [(Sandbox, &'static str); 4] {
    [
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
    ]
}

/// Fail closed: an untrusted or malformed policy file makes every way in
/// refuse, with the file's fault.
pub fn an_untrusted_or_malformed_policy_file_refuses_everything(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let mut cells = 0;
    for (sandbox, fault) in faulty_policies() {
        for way in interpreter_ways(interp) {
            let got = fixture.run(interp, &ours, way, Place::Exec755, &|p| sandbox.command(p));
            let name = way.name(interp);
            assert_eq!(got.exit, Exit::Code(126), "{name}, {fault}: {got}");
            assert_eq!(got.stdout, "", "{name}, {fault}");
            let prefix = format!("{}: /etc/mayexec.conf: {fault}", interp.name);
            assert!(
                got.stderr.starts_with(&prefix),
                "{name}: want {prefix:?}…, got {:?}",
                got.stderr
            );
            cells += 1;
        }
    }
    eprintln!("{}: {cells} cells", interp.name);
}

/// The check is made for the user running the interpreter: a 0744 file
/// is root's to execute, not nobody's; a file nobody cannot read is an
/// open error, reported as the stock interpreter reports it.
pub fn the_check_is_made_for_the_user_running_the_interpreter(interp: &Interpreter, test: &str) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let exec = Tmpfs::exec();
    let text = (interp.print)("ran");
    let ext = interp.extension;
    let root_only = exec.write(format!("root-only.{ext}"), &text, 0o744);
    let everyones = exec.write(format!("everyones.{ext}"), &text, 0o755);
    let unreadable = exec.write(format!("unreadable.{ext}"), &text, 0o700);
    let policy = "interpreted_access = 3\n";
    let run = |sandbox: &Sandbox, program: &Path, file: &Path| {
        Outcome::of(interp.command(program, &|p| sandbox.command(p)).arg(file))
    };
    let as_root = Sandbox::new().policy(policy);
    assert_eq!(run(&as_root, &ours, &root_only), Outcome::ran(RAN));
    let as_nobody = Sandbox::new().policy(policy).as_user(NOBODY, NOBODY);
    assert_eq!(
        run(&as_nobody, &ours, &root_only),
        Outcome::refused(interp.denial(&root_only, "not-executable"))
    );
    assert_eq!(run(&as_nobody, &ours, &everyones), Outcome::ran(RAN));
    let got = super::as_if(&run(&as_nobody, &ours, &unreadable), &ours, &stock);
    let as_nobody = Sandbox::new().as_user(NOBODY, NOBODY);
    let theirs = run(&as_nobody, &stock, &unreadable);
    assert_ne!(got.exit, Exit::Code(0), "{got}");
    let without = super::as_if(&run(&as_nobody, &ours, &unreadable), &ours, &stock);
    assert_eq!(without, theirs, "no policy");
    // perl exits with a stale errno when the policy is in force.
    const STALE: &str = "the status of an unreadable program under a policy";
    if interp.deviates(STALE) {
        assert_ne!(got.exit, theirs.exit, "{STALE} is no longer a deviation");
        eprintln!(
            "known deviation: {STALE}: {:?}, not {:?}",
            got.exit, theirs.exit
        );
        assert_eq!((&got.stdout, &got.stderr), (&theirs.stdout, &theirs.stderr));
    } else {
        assert_eq!(got, theirs, "interpreted_access = 3");
    }
}

/// Each enforced denial is one syslog line (authpriv.warning) with the
/// program, the user, the reason, the backend; an allowed file is not
/// logged.
pub fn enforced_denials_are_logged_to_syslog_one_line_each(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\ndeny_interactive = true\n")
        .capture_syslog();
    let launch = |p: &OsStr| sandbox.command(p);
    let script = Way::File(&super::SCRIPT);
    let noexec = fixture.file(Place::Noexec);
    assert_eq!(
        fixture.run(interp, &ours, script, Place::Noexec, &launch),
        Outcome::refused(interp.denial(noexec, "noexec-mount"))
    );
    assert_eq!(
        fixture.run(interp, &ours, Way::Pipe, Place::Exec755, &launch),
        Outcome::refused(interp.denial("<stdin>", "not-regular-file"))
    );
    assert_eq!(
        fixture.run(interp, &ours, script, Place::Exec755, &launch),
        Outcome::ran(RAN),
        "an allowed file is not logged"
    );
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let line = line_about(&lines, &noexec.display().to_string());
    assert!(line.starts_with("<84>mayexec["), "authpriv.warning: {line}");
    // The log names the executable (its comm): busybox for its applets.
    let program = format!("program={} ", Interpreter::comm(&ours));
    for field in [
        program.as_str(),
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

/// Audit mode runs what it would refuse, and logs it (authpriv.notice).
pub fn audit_mode_runs_everything_and_logs_what_would_be_denied(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n")
        .capture_syslog();
    let launch = |p: &OsStr| sandbox.command(p);
    for (way, place) in [
        (Way::File(&super::SCRIPT), Place::Noexec),
        (Way::Pipe, Place::Exec755),
        (Way::Text, Place::Exec755),
    ] {
        assert_eq!(
            fixture.run(interp, &ours, way, place, &launch),
            Outcome::ran(RAN),
            "{}",
            way.name(interp)
        );
    }
    let lines = sandbox.syslog_lines();
    let noexec = fixture.file(Place::Noexec).display().to_string();
    for (path, reason) in [
        (noexec.as_str(), "noexec-mount"),
        ("<stdin>", "not-regular-file"),
        (interp.text_flag, "interactive"),
    ] {
        let line = line_about(&lines, path);
        assert!(line.starts_with("<85>"), "authpriv.notice: {line}");
        assert!(line.contains(&format!(" reason={reason} ")), "{line}");
        assert!(line.ends_with(" action=audit"), "{line}");
    }
}

/// Without a policy every way in runs code on a noexec mount, and nothing
/// is logged.
pub fn without_a_policy_nothing_is_logged(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let sandbox = Sandbox::new().capture_syslog();
    for way in interpreter_ways(interp) {
        let got = fixture.run(interp, &ours, way, Place::Noexec, &|p| sandbox.command(p));
        let name = way.name(interp);
        match way.loader() {
            // An interactive interpreter may say it has no terminal.
            Some(loader) => {
                assert_eq!(got.stdout, loader.ran, "{name}: {got}");
                assert_eq!(got.exit, Exit::Code(0), "{name}: {got}");
            }
            None => assert_eq!(got, Outcome::ran(RAN), "{name}"),
        }
    }
    assert_eq!(sandbox.syslog_lines(), Vec::<String>::new());
}

/// Without a policy an enlightened interpreter checks nothing: the program,
/// and each file a program loads, run with no `execveat(…,
/// AT_EXECVE_CHECK)` and no `memfd_create` (the proof of the flag) at all,
/// as `strace` sees them. The same runs under a level-3 policy make the
/// kernel's checks, one per file at least, which shows that the count sees
/// them.
pub fn without_a_policy_no_file_is_checked(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let logs = crate::TempDir::new();
    let ways = interp
        .ways()
        .into_iter()
        .filter(|way| matches!(way, Way::File(_)) || way.loader().is_some_and(|l| !l.interactive));
    for (i, way) in ways.enumerate() {
        let name = way.name(interp);
        for (policy, files) in [(None, 0), (Some("interpreted_access = 3\n"), 1)] {
            let sandbox = match policy {
                Some(text) => Sandbox::new().policy(text),
                None => Sandbox::new(),
            };
            let log = logs.path().join(format!("{i}-{}.strace", policy.is_some()));
            let launch = |program: &OsStr| {
                let mut cmd = sandbox.command("strace");
                cmd.args(["-f", "-qq", "-e", "trace=execveat,memfd_create", "-o"])
                    .arg(&log)
                    .arg("--")
                    .arg(program);
                cmd
            };
            let got = fixture.run(interp, &ours, way, Place::Exec755, &launch);
            let ran = way.loader().map_or(RAN, |l| l.ran);
            assert_eq!(got.stdout, ran, "{name}, policy {policy:?}: {got}");
            let trace = std::fs::read_to_string(&log).expect("strace's log");
            let checks = trace
                .lines()
                .filter(|l| {
                    l.contains("execveat(")
                        && (l.contains("AT_EXECVE_CHECK") || l.contains("0x10000"))
                })
                .count();
            let memfds = trace
                .lines()
                .filter(|l| l.contains("memfd_create("))
                .count();
            if files == 0 {
                assert_eq!((checks, memfds), (0, 0), "{name}, no policy:\n{trace}");
            } else {
                // The proof of the flag, then each file's check.
                assert!(
                    checks > files,
                    "{name}, level 3: {checks} checks (counting them needs the kernel's \
                     check, Linux 6.14)\n{trace}"
                );
            }
        }
    }
}

/// A file a loader refuses (policy level 1, a noexec mount) is one line
/// in the log, checked by the emulated rule of the level.
pub fn a_denied_loaded_file_is_logged(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    for way in interp.ways().into_iter().filter(|w| w.loader().is_some()) {
        let sandbox = Sandbox::new()
            .policy("interpreted_access = 1\n")
            .capture_syslog();
        let got = fixture.run(interp, &ours, way, Place::Noexec, &|p| sandbox.command(p));
        assert_ne!(got.stdout, way.loader().map_or(RAN, |l| l.ran), "{got}");
        let lines = sandbox.syslog_lines();
        let want = format!(
            " path={} reason=noexec-mount backend=emulated action=denied",
            fixture.file(Place::Noexec).display()
        );
        assert_eq!(lines.len(), 1, "{}: {lines:#?}", way.name(interp));
        assert!(lines[0].ends_with(&want), "{want:?} in {}", lines[0]);
    }
}

/// Swaps `a` and `b` (atomically, `RENAME_EXCHANGE`) on a thread until
/// the flag is set; the thread returns how many swaps it made. For any
/// race test of a checked path (mayexec-python's too).
pub fn swapper(a: &Path, b: &Path) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    let stop = Arc::new(AtomicBool::new(false));
    let (a, b, flag) = (a.to_owned(), b.to_owned(), stop.clone());
    let handle = std::thread::spawn(move || {
        let mut swaps = 0;
        while !flag.load(Ordering::Relaxed) {
            renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).expect("RENAME_EXCHANGE");
            swaps += 1;
        }
        swaps
    });
    (stop, handle)
}

/// How many runs of a race.
const RUNS: usize = 300;

/// An allowed file (0755, prints `allowed`) and a denied one (0644,
/// leaves a marker) in one directory of an exec mount, swapped while the
/// interpreter runs under `mayexec run -f` with the arguments `setup`
/// adds for the allowed file's path (the program, or a program that loads
/// it) — and returns with what an allowed and a refused run give: every
/// run is one of the two, and the denied file's code never runs.
fn race(
    interp: &Interpreter,
    ours: &Path,
    setup: impl Fn(&mut Command, &Path) -> (Outcome, Outcome),
) {
    let exec = Tmpfs::exec();
    let marker = exec.path().join("marker");
    let ext = interp.extension;
    let allowed = exec.write(format!("Race.{ext}"), (interp.print)("allowed"), 0o755);
    let denied_code = format!(
        "{}{}",
        (interp.print)("denied ran"),
        (interp.print)(&format!("touched {}", marker.display()))
    );
    let denied = exec.write(format!("Other.{ext}"), denied_code, 0o644);
    let (stop, swaps) = swapper(&allowed, &denied);
    let (mut ran, mut refusals) = (0, 0);
    for run in 0..RUNS {
        let mut cmd = interp.under("-f", ours);
        let (ok, refused) = setup(&mut cmd, &allowed);
        let got = Outcome::of(cmd.current_dir(exec.path()).stdin(Stdio::null()));
        assert!(
            !got.stdout.contains("denied ran") && !marker.exists(),
            "run {run}: the denied file's code ran: {got}"
        );
        if got == ok {
            ran += 1;
        } else if got == refused {
            refusals += 1;
        } else {
            panic!("run {run}: {got}, neither {ok} nor {refused}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().expect("the swapper");
    eprintln!(
        "{}: {swaps} swaps: {ran} runs allowed, {refusals} refused",
        interp.name
    );
    // Both files were met at the path: the race was really run.
    assert!(ran > 0 && refusals > 0, "{ran} allowed, {refusals} refused");
}

/// The file checked is the file run: a path swapped between an allowed
/// and a denied file never runs the denied one as the program.
pub fn swapping_the_program_path_never_runs_the_denied_file(interp: &Interpreter, test: &str) {
    let Some(ours) = interp.require(test) else {
        return;
    };
    race(interp, &ours, |cmd, allowed| {
        cmd.arg(allowed);
        (
            Outcome::ran("allowed\n"),
            Outcome::refused(interp.denial(allowed, "not-executable")),
        )
    });
}

/// … nor as a file a program loads (the first loader that is not an
/// interactive interpreter's: `.`, `require`).
pub fn swapping_a_loaded_file_path_never_runs_the_denied_file(interp: &Interpreter, test: &str) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let Some(loader) = interp.loaders.iter().find(|l| !l.interactive) else {
        crate::skip(
            test,
            &format!("{} loads no file from a program", interp.name),
        );
        return;
    };
    let way = Way::Load(loader);
    // The refusal: as the stock interpreter fails on a file it cannot
    // read, with the fixture's paths made the race's.
    let fixture = Fixture::new(interp, &ours);
    let denied = unreadable(interp, &stock, &ours, &fixture, way, Place::Exec644);
    let main = fixture.main(interp, way, Place::Exec644).expect("a main");
    let racing = Tmpfs::exec();
    let racing_main = racing.path().join("main");
    race(interp, &ours, |cmd, allowed| {
        write_file(&racing_main, (loader.main)(allowed).as_bytes(), 0o755);
        (loader.command)(cmd, allowed, &racing_main);
        let fix = |text: &str| {
            text.replace(
                &main.display().to_string(),
                &racing_main.display().to_string(),
            )
            .replace(
                &fixture.file(Place::Exec644).display().to_string(),
                &allowed.display().to_string(),
            )
        };
        let refused = Outcome {
            exit: denied.exit,
            stdout: fix(&denied.stdout),
            stderr: fix(&denied.stderr),
        };
        (
            Outcome::ran(loader.ran.replacen(RAN, "allowed\n", 1)),
            refused,
        )
    });
}
