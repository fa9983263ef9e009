//! The enlightened Wine: every PE image and every module's Unix library is
//! checked before it is mapped, under every enforcement, on the kernel's
//! check and the emulated one; without a policy it is Debian's Wine.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_testkit::interp::{Enforced, Exit, Outcome, Place, Places};
use mayexec_testkit::{on_both_backends, root_test, Sandbox, Tmpfs};
use mayexec_wine::{
    denial, windows_path, Fixture, Programs, BUILT, DEBIAN, DEBIAN_WINDOWS_DIR, STOCK,
};

/// The ways code reaches Wine that the table covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// `wine FILE.exe`: the main program.
    Program,
    /// An allowed program's `LoadLibrary("FILE.dll")`.
    LoadLibrary,
    /// `wine cmd < FILE`: commands from a file on standard input.
    CmdStdin,
    /// `cat FILE | wine cmd`: commands from a pipe.
    CmdPipe,
    /// `wine cmd /c COMMAND`: a command on the command line.
    CmdText,
}

const WAYS: [Way; 5] = [
    Way::Program,
    Way::LoadLibrary,
    Way::CmdStdin,
    Way::CmdPipe,
    Way::CmdText,
];

/// The files of one table: `hello.exe`, `answer.dll` and a batch of
/// commands in every place.
struct Files {
    _places: Places,
    hello: [PathBuf; 3],
    answer: [PathBuf; 3],
    batch: [PathBuf; 3],
}

const BATCH: &str = "echo hello from x\r\nexit\r\n";

impl Files {
    fn new() -> Files {
        let places = Places::new();
        let programs = Programs::get();
        let mut hello = Vec::new();
        let mut answer = Vec::new();
        let mut batch = Vec::new();
        for place in Place::ALL {
            let dir = places.dir(place, "wine");
            hello.push(mayexec_testkit::write_file(
                &dir.join("hello.exe"),
                &programs.hello,
                place.mode(),
            ));
            answer.push(mayexec_testkit::write_file(
                &dir.join("answer.dll"),
                &programs.answer,
                place.mode(),
            ));
            batch.push(mayexec_testkit::write_file(
                &dir.join("commands.bat"),
                BATCH.as_bytes(),
                place.mode(),
            ));
        }
        Files {
            _places: places,
            hello: hello.try_into().expect("three places"),
            answer: answer.try_into().expect("three places"),
            batch: batch.try_into().expect("three places"),
        }
    }

    fn index(place: Place) -> usize {
        Place::ALL
            .iter()
            .position(|p| *p == place)
            .expect("a place")
    }

    /// What `way` of the file in `place` gives with `wine` started by
    /// `make`.
    fn run(
        &self,
        way: Way,
        place: Place,
        wine: &Path,
        make: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let fixture = Fixture::get();
        let i = Files::index(place);
        let mut cmd = fixture.command(wine.as_os_str(), make);
        cmd.stdin(Stdio::null());
        match way {
            Way::Program => Fixture::outcome(cmd.arg(&self.hello[i])),
            Way::LoadLibrary => Fixture::outcome(
                cmd.arg(fixture.loadlib())
                    .arg(windows_path(&self.answer[i])),
            ),
            Way::CmdStdin => {
                let batch = fs::File::open(&self.batch[i]).expect("open the batch");
                Fixture::outcome(cmd.arg("cmd").stdin(batch))
            }
            Way::CmdPipe => {
                let mut cat = Command::new("cat")
                    .arg(&self.batch[i])
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("start cat");
                let pipe = cat.stdout.take().expect("cat's stdout");
                let got = Fixture::outcome(cmd.arg("cmd").stdin(pipe));
                // Whatever Wine did, cat ends (at worst on SIGPIPE).
                let _ = cat.wait();
                got
            }
            Way::CmdText => Fixture::outcome(cmd.args(["cmd", "/c", "echo", "hello", "from", "x"])),
        }
    }
}

/// `first`, the outcomes of the same run through several Wines, or, when
/// they differ, the outcomes of `again`: Wine itself fails now and then,
/// Debian's as well as ours (cmd's `ShellExecuteEx failed: Internal error`,
/// or a `cmd` that ends with status 1 and not a word), once in a few
/// thousand runs; only a difference that comes twice is one. For runs
/// that are allowed only: a refusal is never given a second chance.
fn settle(what: &str, first: Vec<Outcome>, again: &dyn Fn() -> Vec<Outcome>) -> Vec<Outcome> {
    if first.iter().all(|got| *got == first[0]) {
        return first;
    }
    let second = again();
    let agreed = second.iter().all(|got| *got == second[0]);
    let first: Vec<String> = first.iter().map(|got| got.to_string()).collect();
    eprintln!(
        "wine: {what} differed once, {} the second time: {}",
        if agreed { "agreed" } else { "differed" },
        first.join(" / ")
    );
    second
}

/// What Debian's Wine gives on `run`, which should be `want`: run once
/// more if it is not (`settle`).
fn debians(what: &str, want: Outcome, run: &dyn Fn() -> Outcome) -> Outcome {
    let again = || vec![want.clone(), run()];
    let got = settle(&format!("Debian's wine: {what}"), again(), &again).remove(1);
    assert_eq!(got, want, "Debian's wine: {what}");
    got
}

/// Is there an audit line for `file` with `reason` and `action`?
fn logged(lines: &[String], file: &Path, reason: &str, action: &str) -> bool {
    let path = format!("path={}", file.display());
    let reason = format!("reason={reason}");
    let action = format!("action={action}");
    lines
        .iter()
        .any(|l| l.contains(&path) && l.contains(&reason) && l.contains(&action))
}

/// What `way` gives under `enforced` in `place`: `None` when it is what
/// Debian's Wine gives (`theirs`).
fn expected(way: Way, enforced: Enforced, place: Place, files: &Files) -> Option<Outcome> {
    let i = Files::index(place);
    match way {
        Way::Program => enforced
            .script_denial(place)
            .map(|reason| Outcome::refused(denial(&files.hello[i], reason))),
        Way::LoadLibrary => enforced.script_denial(place).map(|_| Outcome {
            exit: Exit::Code(1),
            stdout: "LoadLibrary failed: 5\r\n".into(),
            stderr: String::new(),
        }),
        Way::CmdStdin => place
            .full_check()
            .filter(|_| enforced.denies_interactive())
            .map(|reason| Outcome::refused(denial("<stdin>", reason))),
        Way::CmdPipe => enforced
            .denies_interactive()
            .then(|| Outcome::refused(denial("<stdin>", "not-regular-file"))),
        Way::CmdText => enforced
            .denies_interactive()
            .then(|| Outcome::refused(denial("/c", "interactive"))),
    }
}

on_both_backends! {
    /// The table: every way in × every enforcement × every place. A
    /// refused program exits 126 with the contract's message; a refused
    /// DLL fails to load as a file Windows may not access
    /// (`ERROR_ACCESS_DENIED`, 5); everything allowed does what Debian's
    /// Wine does.
    fn every_row_of_the_behaviour_table_holds(backend) {
        let test = "every_row_of_the_behaviour_table_holds";
        let Some(ours) = BUILT.require_with_root(test) else { return };
        let files = Files::new();
        let debian = Path::new(DEBIAN);
        let plain = |p: &OsStr| Command::new(p);
        // Debian's Wine, with no policy: what an allowed cell gives.
        let mut theirs = Vec::new();
        for way in WAYS {
            for place in Place::ALL {
                let run = || files.run(way, place, debian, &plain);
                let known = match way {
                    Way::Program => Some("hello from x\r\n"),
                    Way::LoadLibrary => Some("loaded 42\r\n"),
                    _ => None,
                };
                let got = match known {
                    Some(stdout) => debians(&format!("{way:?} {place:?}"), Outcome::ran(stdout), &run),
                    None => run(),
                };
                theirs.push(((way, place), got));
            }
        }
        let failures = backend.columns(&Enforced::ALL, &|enforced, launch| {
            let mut failures = Vec::new();
            for way in WAYS {
                for place in Place::ALL {
                    let mut got = files.run(way, place, &ours, launch);
                    let refused = expected(way, enforced, place, &files);
                    let allowed = refused.is_none();
                    let mut want = refused.unwrap_or_else(|| {
                        theirs
                            .iter()
                            .find(|(cell, _)| *cell == (way, place))
                            .expect("computed above")
                            .1
                            .clone()
                    });
                    // A cell that must be refused is never run again: a
                    // refusal that holds only sometimes is a way in.
                    if allowed {
                        let cell = format!("{way:?} | {place:?} | {enforced} | {backend:?}");
                        let again = || {
                            vec![
                                files.run(way, place, debian, &plain),
                                files.run(way, place, &ours, launch),
                            ]
                        };
                        let settled = settle(&cell, vec![want, got], &again);
                        [want, got] = settled.try_into().expect("two outcomes");
                    }
                    if got != want {
                        failures.push(format!(
                            "{way:?} | {place:?} | {enforced} | {backend:?}:\n    want {want}\n    got  {got}"
                        ));
                    }
                }
            }
            failures
        });
        let cells = WAYS.len() * Enforced::ALL.len() * Place::ALL.len();
        assert!(
            failures.is_empty(),
            "{} of {cells} cells differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
        eprintln!("wine: {cells} cells with the {backend:?} backend");
    }
}

/// The acceptance line: `mayexec run -f` makes the enlightened Wine refuse
/// a program on a `noexec` mount, which Debian's Wine still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_program_that_debians_wine_runs() {
    let test = "mayexec_run_f_refuses_a_noexec_program_that_debians_wine_runs";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let noexec = Tmpfs::noexec();
    let hello = noexec.write("hello.exe", &Programs::get().hello, 0o755);
    let run_f = |p: &OsStr| mayexec_testkit::conformance::mayexec_run("-f", p);
    let got = Fixture::outcome(fixture.command(ours.as_os_str(), &run_f).arg(&hello));
    assert_eq!(got, Outcome::refused(denial(&hello, "noexec-mount")));
    debians(
        "run -f hello.exe",
        Outcome::ran("hello from x\r\n"),
        &|| Fixture::outcome(fixture.command(OsStr::new(DEBIAN), &run_f).arg(&hello)),
    );
    // Started by another program (start.exe's CreateProcess): the child
    // says why and ends before its first instruction; start.exe fails.
    let start = |wine: &OsStr| {
        Fixture::outcome(
            fixture
                .command(wine, &run_f)
                .args(["start", "/wait", "/unix"])
                .arg(&hello),
        )
    };
    let got = start(ours.as_os_str());
    assert!(
        got.stdout.starts_with("Application could not be started"),
        "{got}"
    );
    assert_ne!(got.exit, Exit::Code(0), "{got}");
    assert!(
        got.stderr.contains(&denial(&hello, "noexec-mount")),
        "{got}"
    );
    // (start.exe gives the program a console of its own: its output does
    // not come here.)
    debians("start /wait /unix hello.exe", Outcome::ran(""), &|| {
        start(OsStr::new(DEBIAN))
    });
}

/// Without a policy the enlightened Wine, the stock rebuild and Debian's
/// Wine give the same output and status: on the test programs in every
/// place, and on Wine's own programs that run headless.
#[root_test]
fn without_a_policy_it_is_debians_wine() {
    let test = "without_a_policy_it_is_debians_wine";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let fixture = Fixture::get();
    let files = Files::new();
    let plain = |p: &OsStr| Command::new(p);
    let debian = PathBuf::from(DEBIAN);
    let mut compared = 0;
    // Debian's Wine first, then ours and the stock rebuild.
    let wines = [&debian, &ours, &stock];
    let same = |what: &str, run: &dyn Fn(&Path) -> Outcome| {
        let all = || wines.iter().map(|wine| run(wine)).collect::<Vec<_>>();
        let outcomes = settle(what, all(), &all);
        for (wine, got) in wines.iter().zip(&outcomes).skip(1) {
            assert_eq!(*got, outcomes[0], "{what}: {}", wine.display());
        }
    };
    for way in WAYS {
        for place in Place::ALL {
            same(&format!("{way:?} {place:?}"), &|wine| {
                files.run(way, place, wine, &plain)
            });
            compared += 1;
        }
    }
    let programs: &[&[&str]] = &[
        &["cmd", "/c", "echo", "parity"],
        &["cmd", "/c", "exit", "7"],
        &["hostname"],
        &[
            "reg",
            "query",
            r"HKLM\Software\Microsoft\Windows NT\CurrentVersion",
            "/v",
            "CurrentVersion",
        ],
        &["reg", "query", r"HKCU\Software\NoSuchKey"],
        &["cmd", "/c", "dir", "/b", r"C:\windows\system32\drivers\etc"],
        &["no-such-program.exe"],
    ];
    for args in programs {
        same(&format!("wine {args:?}"), &|wine| {
            Fixture::outcome(
                fixture
                    .command(wine.as_os_str(), &plain)
                    .args(*args)
                    .stdin(Stdio::null()),
            )
        });
        compared += 1;
    }
    let exit7 = Fixture::outcome(
        fixture
            .command(ours.as_os_str(), &plain)
            .args(["cmd", "/c", "exit", "7"]),
    );
    assert_eq!(exit7.exit, Exit::Code(7), "{exit7}");
    eprintln!("wine: {compared} runs compared with Debian's Wine");
}

/// A policy file that cannot be trusted refuses everything, naming it.
#[root_test]
fn an_untrusted_policy_file_refuses_everything() {
    let test = "an_untrusted_policy_file_refuses_everything";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let sandbox = Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0);
    let make = |p: &OsStr| sandbox.command(p);
    let got = Fixture::outcome(
        fixture
            .command(ours.as_os_str(), &make)
            .arg(fixture.bin.join("hello.exe")),
    );
    assert_eq!(got.exit, Exit::Code(126), "{got}");
    assert_eq!(got.stdout, "", "{got}");
    assert!(
        got.stderr.starts_with("wine: ") && got.stderr.contains("/etc/mayexec.conf"),
        "{got}"
    );
}

/// In audit mode nothing is refused and every denial is logged: the
/// program and the DLL, with the files' paths and reasons.
#[root_test]
fn audit_mode_runs_everything_and_logs_the_denials() {
    let test = "audit_mode_runs_everything_and_logs_the_denials";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let noexec = Tmpfs::noexec();
    let programs = Programs::get();
    let hello = noexec.write("hello.exe", &programs.hello, 0o755);
    let answer = noexec.write("answer.dll", &programs.answer, 0o755);
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\nmode = \"audit\"\n")
        .capture_syslog();
    let make = |p: &OsStr| sandbox.command(p);
    let got = Fixture::outcome(fixture.command(ours.as_os_str(), &make).arg(&hello));
    assert_eq!(got, Outcome::ran("hello from x\r\n"));
    let got = Fixture::outcome(
        fixture
            .command(ours.as_os_str(), &make)
            .arg(fixture.loadlib())
            .arg(windows_path(&answer)),
    );
    assert_eq!(got, Outcome::ran("loaded 42\r\n"));
    let lines = sandbox.syslog_lines();
    for file in [&hello, &answer] {
        assert!(
            logged(&lines, file, "noexec-mount", "audit"),
            "no audit line for {}: {lines:#?}",
            file.display()
        );
    }
}

/// A refused DLL is logged with its path and reason, and the program that
/// asked for it goes on.
#[root_test]
fn a_refused_dll_is_logged_and_the_program_goes_on() {
    let test = "a_refused_dll_is_logged_and_the_program_goes_on";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let noexec = Tmpfs::noexec();
    let answer = noexec.write("answer.dll", &Programs::get().answer, 0o755);
    let sandbox = Sandbox::new().capture_syslog();
    let make = |p: &OsStr| Enforced::RunF.command(&sandbox, p);
    let got = Fixture::outcome(
        fixture
            .command(ours.as_os_str(), &make)
            .arg(fixture.loadlib())
            .arg(windows_path(&answer)),
    );
    assert_eq!(got.stdout, "LoadLibrary failed: 5\r\n", "{got}");
    let lines = sandbox.syslog_lines();
    assert!(
        logged(&lines, &answer, "noexec-mount", "denied"),
        "{lines:#?}"
    );
}

/// A module's Unix library (the `.so` a builtin DLL calls into) is code
/// too: in a copy of the enlightened tree where `ws2_32.so` is not
/// executable, `LoadLibrary("ws2_32.dll")` fails under `mayexec run -f`
/// (its initialisation cannot load its Unix side: `ERROR_DLL_INIT_FAILED`)
/// and the refusal is logged; with nothing enforced it loads.
#[root_test]
fn a_modules_unix_library_is_checked() {
    let test = "a_modules_unix_library_is_checked";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let tree = mayexec_testkit::TempDir::new();
    let prefix = ours
        .parent()
        .and_then(Path::parent)
        .expect("PREFIX/bin/wine");
    let status = Command::new("cp")
        .arg("-a")
        .arg(prefix)
        .arg(tree.path().join("wine"))
        .status()
        .expect("run cp");
    assert!(status.success(), "cp -a {}", prefix.display());
    let so = tree
        .path()
        .join("wine/lib/x86_64-linux-gnu/wine/x86_64-unix/ws2_32.so");
    fs::set_permissions(&so, fs::Permissions::from_mode(0o644)).expect("chmod 0644");
    let wine = tree.path().join("wine/bin/wine");
    let sandbox = Sandbox::new().capture_syslog();
    let load = |enforced: Enforced| {
        let make = |p: &OsStr| enforced.command(&sandbox, p);
        Fixture::outcome(
            fixture
                .command(wine.as_os_str(), &make)
                .arg(fixture.loadlib())
                .arg("ws2_32.dll"),
        )
    };
    assert_eq!(load(Enforced::Nothing), Outcome::ran("loaded -1\r\n"));
    let got = load(Enforced::RunF);
    assert_eq!(got.stdout, "LoadLibrary failed: 1114\r\n", "{got}");
    let lines = sandbox.syslog_lines();
    assert!(
        logged(&lines, &so, "not-executable", "denied"),
        "{lines:#?}"
    );
}

/// `mayexec interpreters` reads from the files that the enlightened Wine
/// obeys (its loader loads an ntdll.so with mayexec's note), and that
/// Debian's and the stock rebuild do not.
#[root_test]
fn mayexec_interpreters_reports_it_as_enlightened() {
    let test = "mayexec_interpreters_reports_it_as_enlightened";
    let Some(ours) = BUILT.require(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let interpreters = |wine: &Path| {
        let real = fs::canonicalize(wine).expect("the loader's real file");
        let got = Fixture::outcome(
            Command::new(mayexec_testkit::workspace_bin("mayexec"))
                .arg("interpreters")
                .arg(&real),
        );
        (real, got)
    };
    let (real, got) = interpreters(&ours);
    assert_eq!(got.exit, Exit::Code(0), "{}: {got}", real.display());
    assert!(got.stdout.contains("[mayexec "), "{got}");
    for wine in [stock, PathBuf::from(DEBIAN)] {
        let (real, got) = interpreters(&wine);
        assert_eq!(got.exit, Exit::Code(1), "{}: {got}", real.display());
        assert!(got.stdout.contains("integrations/wine/build.sh"), "{got}");
    }
}

/// A program is known by the file it is as well as by the name it was
/// started under: a link to Wine's `cmd.exe` or to a script host, named
/// otherwise, is no new code but the system's own program, and is refused
/// as they are under deny-interactive. Debian's Wine runs what it is given.
#[root_test]
fn a_link_to_cmd_or_a_script_host_is_known_by_the_file_it_names() {
    let test = "a_link_to_cmd_or_a_script_host_is_known_by_the_file_it_names";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let dir = mayexec_testkit::TempDir::new();
    let link = |name: &str, to: &str| {
        let path = dir.path().join(name);
        std::os::unix::fs::symlink(Path::new(DEBIAN_WINDOWS_DIR).join(to), &path)
            .expect("make a link");
        path
    };
    let shell = link("shell.exe", "cmd.exe");
    let host = link("host", "cscript.exe");
    let plain = |p: &OsStr| Command::new(p);
    let run_i = |p: &OsStr| mayexec_testkit::conformance::mayexec_run("-i", p);
    let run = |wine: &OsStr, make: &dyn Fn(&OsStr) -> Command, program: &Path, args: &[&str]| {
        Fixture::outcome(
            fixture
                .command(wine, make)
                .arg(program)
                .args(args)
                .stdin(Stdio::null()),
        )
    };
    let echo = ["/c", "echo", "linked"];
    assert_eq!(
        run(ours.as_os_str(), &run_i, &shell, &echo),
        Outcome::refused(denial("/c", "interactive")),
        "{}",
        shell.display()
    );
    assert_eq!(
        run(ours.as_os_str(), &run_i, &host, &["/?"]),
        Outcome::refused(denial("cscript.exe", "interactive")),
        "{}",
        host.display()
    );
    // The link runs the commands in Debian's Wine; ours, with nothing
    // enforced, does what Debian's does.
    debians("a link to cmd.exe", Outcome::ran("linked\r\n"), &|| {
        run(OsStr::new(DEBIAN), &run_i, &shell, &echo)
    });
    for (program, args) in [(&shell, &echo[..]), (&host, &["/?"][..])] {
        let all = || {
            vec![
                run(OsStr::new(DEBIAN), &plain, program, args),
                run(ours.as_os_str(), &plain, program, args),
            ]
        };
        let what = format!("{} {args:?}", program.display());
        let outcomes = settle(&what, all(), &all);
        assert_eq!(outcomes[1], outcomes[0], "{what}");
    }
}

/// The script hosts and the debugger run code Wine never checks (their
/// scripts, a debugger's commands): under deny-interactive they do not
/// start, and with nothing enforced they start as with Debian's Wine.
#[root_test]
fn script_hosts_and_the_debugger_do_not_start_under_deny_interactive() {
    let test = "script_hosts_and_the_debugger_do_not_start_under_deny_interactive";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let plain = |p: &OsStr| Command::new(p);
    let run_i = |p: &OsStr| mayexec_testkit::conformance::mayexec_run("-i", p);
    let run_f = |p: &OsStr| mayexec_testkit::conformance::mayexec_run("-f", p);
    for host in ["cscript", "wscript", "mshta", "powershell", "winedbg"] {
        let got = Fixture::outcome(
            fixture
                .command(ours.as_os_str(), &run_i)
                .args([host, "/?"])
                .stdin(Stdio::null()),
        );
        assert_eq!(
            got,
            Outcome::refused(denial(format!("{host}.exe"), "interactive")),
            "wine {host}"
        );
        // Without deny-interactive: what Debian's Wine does.
        let run = |wine: &OsStr, make: &dyn Fn(&OsStr) -> Command| {
            Fixture::outcome(
                fixture
                    .command(wine, make)
                    .args([host, "/?"])
                    .stdin(Stdio::null()),
            )
        };
        let all = || {
            vec![
                run(OsStr::new(DEBIAN), &plain),
                run(ours.as_os_str(), &plain),
                run(ours.as_os_str(), &run_f),
            ]
        };
        let outcomes = settle(&format!("wine {host} /?"), all(), &all);
        for got in &outcomes[1..] {
            assert_eq!(*got, outcomes[0], "wine {host} /?");
        }
    }
}

/// `wine cmd` on a terminal (util-linux `script` gives it one) reads typed
/// commands: refused under deny-interactive before it reads any.
#[root_test]
fn cmd_on_a_terminal_is_refused_under_deny_interactive() {
    let test = "cmd_on_a_terminal_is_refused_under_deny_interactive";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let fixture = Fixture::get();
    let inner = format!(
        "{} run -i -- {} cmd",
        mayexec_testkit::workspace_bin("mayexec").display(),
        ours.display()
    );
    let plain = |p: &OsStr| Command::new(p);
    let mut cmd = fixture.command(OsStr::new("script"), &plain);
    cmd.args(["-qec", &inner, "/dev/null"]).stdin(Stdio::null());
    let got = Fixture::outcome(&mut cmd);
    assert_eq!(got.exit, Exit::Code(126), "{got}");
    assert!(
        got.stdout
            .contains("wine: <stdin>: script execution denied (not-regular-file)"),
        "{got}"
    );
}

/// Every environment variable Wine's manual names (the ENVIRONMENT
/// section of `loader/wine.man.in` in Debian's source) is decided in
/// `docs/wine.md`'s table.
#[test]
fn every_variable_wines_manual_names_is_decided_in_the_docs() {
    let test = "every_variable_wines_manual_names_is_decided_in_the_docs";
    // The build keeps Debian's source.
    if BUILT.require(test).is_none() {
        return;
    }
    let root = mayexec_testkit::interp::workspace_root();
    let manual = root.join("target/wine-build/debian-src/loader/wine.man.in");
    let manual =
        fs::read_to_string(&manual).unwrap_or_else(|e| panic!("{}: {e}", manual.display()));
    let docs = fs::read_to_string(root.join("docs/wine.md")).expect("read docs/wine.md");
    let environment = manual
        .split("\n.SH ENVIRONMENT")
        .nth(1)
        .and_then(|rest| rest.split("\n.SH ").next())
        .expect("the manual has an ENVIRONMENT section");
    // Each variable is the bold or italic word after a `.TP`.
    let mut names = Vec::new();
    let mut lines = environment.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(".TP") {
            continue;
        }
        let Some(name) = lines.next().and_then(|l| l.split_whitespace().nth(1)) else {
            continue;
        };
        if name.len() > 1
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            names.push(name.to_owned());
        }
    }
    assert!(names.len() >= 10, "the manual parses: {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/wine.md does not decide {missing:?} (the manual names {names:?})"
    );
}
