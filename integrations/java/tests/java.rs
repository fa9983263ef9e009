//! The enlightened Java: every class file, jar, source program and native
//! library is read through the check, under every enforcement, on the
//! kernel's check and the emulated one; without a policy it is Debian's
//! Java.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_java::{denial, Programs, BUILT, DEBIAN, HELLO, STOCK};
use mayexec_testkit::interp::{Enforced, Exit, Outcome, Place, Places};
use mayexec_testkit::{on_both_backends, root_test, write_file, Sandbox, Tmpfs};

/// The ways code reaches Java that the table covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// `java -cp DIR Hello`: a class file of a class-path directory.
    ClassDir,
    /// `java -cp FILE.jar Hello`: a class-path jar.
    ClassPathJar,
    /// `java -jar FILE.jar`.
    Jar,
    /// `java FILE.java`: a single-file source program.
    Source,
    /// `java -p DIR -m m/m.Hello`: a class file of an exploded module.
    ModuleDir,
    /// `java -p FILE.jar -m m/m.Hello`: a modular jar.
    ModuleJar,
    /// An allowed program's `System.load(FILE)`.
    SystemLoad,
    /// An allowed program's own `URLClassLoader` over a directory.
    UrlClassLoader,
    /// `cat FILE.java | java --source 17 /dev/stdin`: a program from a pipe
    /// (which Debian's source launcher cannot read: a seek fails).
    SourcePipe,
}

const WAYS: [Way; 9] = [
    Way::ClassDir,
    Way::ClassPathJar,
    Way::Jar,
    Way::Source,
    Way::ModuleDir,
    Way::ModuleJar,
    Way::SystemLoad,
    Way::UrlClassLoader,
    Way::SourcePipe,
];

/// A directory of its own in every place, and an allowed one (exec,
/// 0755) for the programs a table trusts.
struct PlaceDirs {
    _places: Places,
    dirs: [PathBuf; 3],
    trusted: PathBuf,
}

impl PlaceDirs {
    /// `NAME-PLACE` in each place, filled by `fill` (the directory, the
    /// place's mode for files), and `NAME-trusted`.
    fn new(name: &str, fill: impl Fn(&Path, u32)) -> PlaceDirs {
        let places = Places::new();
        let dirs: Vec<PathBuf> = Place::ALL
            .into_iter()
            .map(|place| {
                let dir = places.dir(place, name);
                fill(&dir, place.mode());
                dir
            })
            .collect();
        let trusted = places.dir(Place::Exec755, &format!("{name}-trusted"));
        PlaceDirs {
            _places: places,
            dirs: dirs.try_into().expect("three places"),
            trusted,
        }
    }

    fn dir(&self, place: Place) -> &Path {
        let i = Place::ALL
            .iter()
            .position(|p| *p == place)
            .expect("a place");
        &self.dirs[i]
    }
}

/// The files of one table, in every place, and the allowed `Loader`.
struct Files {
    at: PlaceDirs,
}

impl Files {
    fn new() -> Files {
        let programs = Programs::get();
        let at = PlaceDirs::new("java", |dir, mode| {
            for sub in ["classes", "modules/m/m"] {
                fs::create_dir_all(dir.join(sub)).expect("mkdir");
            }
            write_file(
                &dir.join("classes/Hello.class"),
                &programs.hello_class,
                mode,
            );
            write_file(&dir.join("hello.jar"), &programs.hello_jar, mode);
            write_file(&dir.join("Hello.java"), &programs.hello_source, mode);
            write_file(
                &dir.join("modules/m/module-info.class"),
                &programs.module_info,
                mode,
            );
            write_file(
                &dir.join("modules/m/m/Hello.class"),
                &programs.module_hello,
                mode,
            );
            write_file(&dir.join("m.jar"), &programs.module_jar, mode);
            write_file(&dir.join("libanswer.so"), &programs.library, mode);
        });
        write_file(
            &at.trusted.join("Loader.class"),
            &programs.loader_class,
            0o755,
        );
        Files { at }
    }

    fn dir(&self, place: Place) -> &Path {
        self.at.dir(place)
    }

    /// The file `way` reads as code in `place`.
    fn code(&self, way: Way, place: Place) -> PathBuf {
        let dir = self.dir(place);
        dir.join(match way {
            Way::ClassDir | Way::UrlClassLoader => "classes/Hello.class",
            Way::ClassPathJar | Way::Jar => "hello.jar",
            Way::Source | Way::SourcePipe => "Hello.java",
            Way::ModuleDir => "modules/m/m/Hello.class",
            Way::ModuleJar => "m.jar",
            Way::SystemLoad => "libanswer.so",
        })
    }

    /// What `way` of the file in `place` gives with `java` started by
    /// `make`.
    fn run(
        &self,
        way: Way,
        place: Place,
        java: &Path,
        make: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let dir = self.dir(place);
        let mut cmd = make(java.as_os_str());
        cmd.stdin(Stdio::null());
        match way {
            Way::ClassDir => cmd.arg("-cp").arg(dir.join("classes")).arg("Hello"),
            Way::ClassPathJar => cmd.arg("-cp").arg(self.code(way, place)).arg("Hello"),
            Way::Jar => cmd.arg("-jar").arg(self.code(way, place)),
            Way::Source => cmd.arg(self.code(way, place)),
            Way::ModuleDir => cmd
                .arg("-p")
                .arg(dir.join("modules"))
                .args(["-m", "m/m.Hello"]),
            Way::ModuleJar => cmd
                .arg("-p")
                .arg(self.code(way, place))
                .args(["-m", "m/m.Hello"]),
            Way::SystemLoad => cmd
                .arg("-cp")
                .arg(&self.at.trusted)
                .args(["Loader", "load"])
                .arg(self.code(way, place)),
            Way::UrlClassLoader => cmd
                .arg("-cp")
                .arg(&self.at.trusted)
                .args(["Loader", "ucl"])
                .arg(dir.join("classes"))
                .arg("Hello"),
            Way::SourcePipe => {
                let mut cat = Command::new("cat")
                    .arg(self.code(way, place))
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("start cat");
                let pipe = cat.stdout.take().expect("cat's stdout");
                cmd.args(["--source", "17", "/dev/stdin"]).stdin(pipe);
                let got = Outcome::from_output(cmd.output().expect("run java"));
                // Whatever Java did, cat ends (at worst on SIGPIPE).
                let _ = cat.wait();
                return got;
            }
        };
        Outcome::from_output(cmd.output().expect("run java"))
    }
}

/// A program that fails as `Loader` reports a failure: status 1, the
/// message on standard output.
fn loader_failed(message: String) -> Outcome {
    Outcome {
        exit: Exit::Code(1),
        stdout: message,
        stderr: String::new(),
    }
}

/// What `way` gives under `enforced` in `place`: `None` when it is what
/// Debian's Java gives.
fn expected(way: Way, enforced: Enforced, place: Place, files: &Files) -> Option<Outcome> {
    let code = files.code(way, place);
    let refusal = |reason: &str| {
        let message = denial(&code, reason);
        message.trim_end().to_owned()
    };
    match way {
        Way::SourcePipe => (enforced != Enforced::Nothing)
            .then(|| Outcome::refused(denial("/dev/stdin", "not-regular-file"))),
        Way::SystemLoad => enforced.script_denial(place).map(|reason| {
            let message = refusal(reason);
            let message = message.trim_start_matches("java: ");
            loader_failed(format!(
                "UnsatisfiedLinkError: Can't load library: {message}\n"
            ))
        }),
        Way::UrlClassLoader => enforced.script_denial(place).map(|reason| {
            let message = refusal(reason);
            let message = message.trim_start_matches("java: ");
            loader_failed(format!("ClassNotFoundException: Hello: {message}\n"))
        }),
        _ => enforced
            .script_denial(place)
            .map(|reason| Outcome::refused(denial(&code, reason))),
    }
}

/// What Debian's Java gives for `way` in `place`, with no policy: it runs
/// everything, but a library the kernel may not map (`noexec`), and a
/// program from a pipe, which its source launcher cannot read.
fn debians(files: &Files, way: Way, place: Place) -> Outcome {
    let got = files.run(way, place, Path::new(DEBIAN), &|p| Command::new(p));
    match (way, place) {
        (Way::SystemLoad, Place::Noexec) => {
            assert_eq!(
                got.exit,
                Exit::Code(1),
                "Debian's java {way:?} {place:?}: {got}"
            );
            assert!(got.stdout.contains("failed to map segment"), "{got}");
        }
        (Way::SystemLoad, _) => {
            assert_eq!(got, Outcome::ran("loaded\n"), "Debian's java {place:?}")
        }
        (Way::SourcePipe, _) => {
            assert_eq!(
                got.exit,
                Exit::Code(1),
                "Debian's java {way:?} {place:?}: {got}"
            );
            assert!(got.stderr.contains("Illegal seek"), "{got}");
        }
        _ => assert_eq!(
            got,
            Outcome::ran("hello from x\n"),
            "Debian's java {way:?} {place:?}"
        ),
    }
    got
}

on_both_backends! {
    /// The table: every way in × every enforcement × every place. A
    /// refused program (class, jar, source, module) exits 126 with the
    /// contract's message; a refused library or class of a program's own
    /// loader fails as an unreadable one would, the refusal in the
    /// exception's message; everything allowed does what Debian's Java
    /// does.
    fn every_row_of_the_behaviour_table_holds(backend) {
        let test = "every_row_of_the_behaviour_table_holds";
        let Some(ours) = BUILT.require_with_root(test) else { return };
        let files = Files::new();
        // Debian's Java, with no policy: what an allowed cell gives.
        let mut theirs = Vec::new();
        for way in WAYS {
            for place in Place::ALL {
                let got = debians(&files, way, place);
                theirs.push(((way, place), got));
            }
        }
        let failures = backend.columns(&Enforced::ALL, &|enforced, launch| {
            let mut failures = Vec::new();
            for way in WAYS {
                for place in Place::ALL {
                    let got = files.run(way, place, &ours, launch);
                    let want = expected(way, enforced, place, &files).unwrap_or_else(|| {
                        theirs
                            .iter()
                            .find(|(cell, _)| *cell == (way, place))
                            .expect("computed above")
                            .1
                            .clone()
                    });
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
        eprintln!("java: {cells} cells with the {backend:?} backend");
    }
}

/// The acceptance line: `mayexec run -f` makes the enlightened Java refuse
/// a class on a `noexec` mount, which Debian's Java still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_class_that_debians_java_runs() {
    let test = "mayexec_run_f_refuses_a_noexec_class_that_debians_java_runs";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let noexec = Tmpfs::noexec();
    let hello = noexec.write("Hello.class", &Programs::get().hello_class, 0o755);
    let run_f = |java: &Path| {
        Outcome::of(
            mayexec_testkit::conformance::mayexec_run("-f", java.as_os_str())
                .arg("-cp")
                .arg(noexec.path())
                .arg("Hello"),
        )
    };
    assert_eq!(
        run_f(&ours),
        Outcome::refused(denial(&hello, "noexec-mount"))
    );
    assert_eq!(run_f(Path::new(DEBIAN)), Outcome::ran("hello from x\n"));
}

/// Without a policy the enlightened Java, the stock relink and Debian's
/// Java give the same output and status: every way in every place,
/// `java -version`, a missing class, a missing file.
#[root_test]
fn without_a_policy_it_is_debians_java() {
    let test = "without_a_policy_it_is_debians_java";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let files = Files::new();
    let plain = |p: &OsStr| Command::new(p);
    let debian = PathBuf::from(DEBIAN);
    let mut compared = 0;
    for way in WAYS {
        for place in Place::ALL {
            let theirs = files.run(way, place, &debian, &plain);
            for java in [&ours, &stock] {
                let got = files.run(way, place, java, &plain);
                assert_eq!(got, theirs, "{} {way:?} {place:?}", java.display());
                compared += 1;
            }
        }
    }
    let argv: [&[&str]; 4] = [
        &["-version"],
        &["-cp", "/nonexistent", "Hello"],
        &["/nonexistent/Hello.java"],
        &["-jar", "/nonexistent.jar"],
    ];
    for args in argv {
        let theirs = Outcome::of(Command::new(&debian).args(args));
        for java in [&ours, &stock] {
            let got = Outcome::of(Command::new(java).args(args));
            assert_eq!(got, theirs, "{} {args:?}", java.display());
            compared += 1;
        }
    }
    eprintln!("java: {compared} runs compared with Debian's");
}

/// An untrusted policy file refuses everything, naming the file.
#[root_test]
fn an_untrusted_policy_file_refuses_everything() {
    let test = "an_untrusted_policy_file_refuses_everything";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let files = Files::new();
    let sandbox = Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0);
    let make = |p: &OsStr| sandbox.command(p);
    for way in [Way::ClassDir, Way::Jar, Way::Source] {
        let got = files.run(way, Place::Exec755, &ours, &make);
        assert_eq!(got.exit, Exit::Code(126), "{way:?}: {got}");
        assert_eq!(got.stdout, "", "{way:?}: {got}");
        assert!(
            got.stderr.starts_with("java: ") && got.stderr.contains("/etc/mayexec.conf"),
            "{way:?}: {got}"
        );
    }
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

/// In audit mode nothing is refused and every denial is logged, with the
/// file's path and reason; refusals are logged too.
#[root_test]
fn audit_mode_runs_everything_and_logs_the_denials() {
    let test = "audit_mode_runs_everything_and_logs_the_denials";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let files = Files::new();
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\nmode = \"audit\"\n")
        .capture_syslog();
    let make = |p: &OsStr| sandbox.command(p);
    let ways = [
        Way::ClassDir,
        Way::Jar,
        Way::Source,
        Way::ModuleJar,
        Way::SystemLoad,
    ];
    for way in ways {
        // (the library on a noexec mount fails to map, as with Debian's)
        let got = files.run(way, Place::Noexec, &ours, &make);
        assert_eq!(got, debians(&files, way, Place::Noexec), "{way:?}");
    }
    let lines = sandbox.syslog_lines();
    for way in ways {
        let file = files.code(way, Place::Noexec);
        assert!(
            logged(&lines, &file, "noexec-mount", "audit"),
            "no audit line for {}: {lines:#?}",
            file.display()
        );
    }
    // Enforced, the refusal is logged as such.
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 1\n")
        .capture_syslog();
    let make = |p: &OsStr| sandbox.command(p);
    let got = files.run(Way::ClassDir, Place::Noexec, &ours, &make);
    assert_eq!(got.exit, Exit::Code(126), "{got}");
    let file = files.code(Way::ClassDir, Place::Noexec);
    let lines = sandbox.syslog_lines();
    assert!(
        logged(&lines, &file, "noexec-mount", "denied"),
        "no denial line for {}: {lines:#?}",
        file.display()
    );
}

/// `program`, under `mayexec run FLAGS` when given.
fn launch(flags: Option<&str>, program: &Path) -> Command {
    match flags {
        Some(flags) => mayexec_testkit::conformance::mayexec_run(flags, program.as_os_str()),
        None => Command::new(program),
    }
}

/// `program ARGS` (under `mayexec run FLAGS` when given), `input` on its
/// standard input.
fn run_with_input<S: AsRef<OsStr>>(
    flags: Option<&str>,
    program: &Path,
    args: &[S],
    input: &str,
) -> Outcome {
    let mut cmd = launch(flags, program);
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("the program's stdin")
        .write_all(input.as_bytes())
        .expect("write to the program");
    Outcome::from_output(child.wait_with_output().expect("wait for the program"))
}

/// `jshell -q ARGS` (under `mayexec run FLAGS` when given), `input` on its
/// standard input.
fn run_jshell(flags: Option<&str>, jshell: &Path, args: &[&OsStr], input: &str) -> Outcome {
    let args = [&[OsStr::new("-q")], args].concat();
    run_with_input(flags, jshell, &args, input)
}

/// The JDK's shells run code typed at their prompt or given on their
/// command line: jshell and jrunscript. Under deny-interactive they do not
/// start, however they are launched — their own launcher, `java -m
/// MODULE/CLASS`, or the class named alone, which the application class
/// loader finds in its module all the same; with nothing enforced, or only
/// files, they run as Debian's.
#[root_test]
fn the_jdks_shells_do_not_start_under_deny_interactive() {
    let test = "the_jdks_shells_do_not_start_under_deny_interactive";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let jshell_class = "jdk.internal.jshell.tool.JShellToolProvider";
    let jshell_main = format!("jdk.jshell/{jshell_class}");
    let jrunscript_class = "com.sun.tools.script.shell.Main";
    let jrunscript_main = format!("java.scripting/{jrunscript_class}");
    let snippet = "System.out.println(6 * 7)\n/exit\n";
    // (label, program, its arguments, standard input)
    let launches: [(&str, &str, Vec<&str>, &str); 7] = [
        ("jshell", "jshell", vec!["-q"], snippet),
        ("jshell", "java", vec!["-m", &jshell_main, "-q"], snippet),
        ("jshell", "java", vec![jshell_class, "-q"], snippet),
        // snippets run in this JVM, not in an agent the debugger drives
        (
            "jshell",
            "java",
            vec![jshell_class, "-q", "--execution", "local"],
            snippet,
        ),
        // -q lists the script engines: the JDK has none since 15
        ("jrunscript", "jrunscript", vec!["-q"], ""),
        ("jrunscript", "java", vec!["-m", &jrunscript_main, "-q"], ""),
        ("jrunscript", "java", vec![jrunscript_class, "-q"], ""),
    ];
    for (label, program, args, input) in &launches {
        let ours = ours.with_file_name(program);
        for flags in ["-i", "-fi"] {
            assert_eq!(
                run_with_input(Some(flags), &ours, args, input),
                Outcome::refused(denial(*label, "interactive")),
                "{program} {args:?} {flags}"
            );
        }
        let theirs = run_with_input(
            None,
            &Path::new(DEBIAN).with_file_name(program),
            args,
            input,
        );
        assert_eq!(
            theirs.exit,
            Exit::Code(0),
            "Debian's {program} {args:?}: {theirs}"
        );
        if *label == "jshell" {
            assert!(
                theirs.stdout.contains("42"),
                "Debian's {program} {args:?}: {theirs}"
            );
        }
        for flags in [None, Some("-f")] {
            let got = run_with_input(flags, &ours, args, input);
            assert_eq!(
                (&got.exit, &got.stdout),
                (&theirs.exit, &theirs.stdout),
                "{program} {args:?} {flags:?}: {got}"
            );
        }
    }
}

/// The snippet files jshell runs — `jshell FILE`, `/open FILE`, a
/// `--startup` file — are code: under restrict-file they are read from a
/// descriptor the check allowed. A refused FILE of the command line ends
/// jshell with 126, as a refused script; a refused `/open` fails as an
/// unreadable file, and the session goes on.
#[root_test]
fn jshell_reads_the_snippet_files_it_runs_through_the_check() {
    let test = "jshell_reads_the_snippet_files_it_runs_through_the_check";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let jshell = ours.with_file_name("jshell");
    let snippets = PlaceDirs::new("jshell", |dir, mode| {
        write_file(
            &dir.join("answer.jsh"),
            b"System.out.println(6 * 7)\n/exit\n",
            mode,
        );
        write_file(&dir.join("startup.jsh"), b"int answer = 42;\n", mode);
    });
    let debian = Path::new(DEBIAN).with_file_name("jshell");
    for place in Place::ALL {
        let dir = snippets.dir(place);
        let answer = dir.join("answer.jsh");
        let startup = dir.join("startup.jsh");
        let file_args = [answer.as_os_str()];
        let startup_args = [OsStr::new("--startup"), startup.as_os_str()];
        let open = format!(
            "/open {}\nSystem.out.println(1 + 1)\n/exit\n",
            answer.display()
        );
        let print_answer = "System.out.println(answer)\n/exit\n";
        // Without a policy, as Debian's jshell (in one place: with
        // nothing enforced, they are all alike).
        let cases: [(&[&OsStr], &str); 3] = [
            (&file_args, ""),
            (&startup_args, print_answer),
            (&[], &open),
        ];
        let parity = if place == Place::Noexec {
            &cases[..]
        } else {
            &[]
        };
        for &(args, input) in parity {
            let theirs = run_jshell(None, &debian, args, input);
            assert_eq!(
                theirs.exit,
                Exit::Code(0),
                "Debian's jshell {args:?}: {theirs}"
            );
            assert!(theirs.stdout.contains("42"), "{args:?}: {theirs}");
            assert_eq!(
                run_jshell(None, &jshell, args, input),
                theirs,
                "{args:?} {place:?}"
            );
        }
        let refused = Enforced::RunF.script_denial(place);
        let message = |file: &Path, reason: &str| {
            format!("{}: script execution denied ({reason})", file.display())
        };
        // jshell FILE
        let got = run_jshell(Some("-f"), &jshell, &file_args, "");
        match refused {
            None => {
                assert_eq!(got.exit, Exit::Code(0), "{place:?}: {got}");
                assert!(got.stdout.contains("42"), "{place:?}: {got}");
            }
            Some(reason) => {
                assert_eq!(got.exit, Exit::Code(126), "{place:?}: {got}");
                assert!(!got.stdout.contains("42"), "{place:?}: {got}");
                assert!(
                    got.stderr
                        .contains(&format!("jshell: {}", message(&answer, reason))),
                    "{place:?}: {got}"
                );
            }
        }
        // --startup FILE: fails as an unreadable startup file.
        let got = run_jshell(Some("-f"), &jshell, &startup_args, print_answer);
        match refused {
            None => assert!(got.stdout.contains("42"), "{place:?}: {got}"),
            Some(reason) => {
                assert!(!got.stdout.contains("42"), "{place:?}: {got}");
                assert!(
                    got.stderr.contains(&message(&startup, reason)),
                    "{place:?}: {got}"
                );
            }
        }
        // /open FILE: the session goes on.
        let got = run_jshell(Some("-f"), &jshell, &[], &open);
        assert_eq!(got.exit, Exit::Code(0), "{place:?}: {got}");
        assert!(got.stdout.contains('2'), "{place:?}: {got}");
        match refused {
            None => assert!(got.stdout.contains("42"), "{place:?}: {got}"),
            Some(reason) => {
                assert!(!got.stdout.contains("42"), "{place:?}: {got}");
                let output = format!("{}{}", got.stdout, got.stderr);
                assert!(
                    output.contains(&message(&answer, reason)),
                    "{place:?}: {got}"
                );
            }
        }
    }
}

/// `mayexec interpreters` calls the enlightened home's launchers
/// enlightened, and neither the stock relink's nor Debian's.
#[root_test]
fn mayexec_interpreters_reports_it_as_enlightened() {
    let test = "mayexec_interpreters_reports_it_as_enlightened";
    let Some(ours) = BUILT.require(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let interpreters = |java: &Path| {
        Outcome::of(
            Command::new(mayexec_testkit::workspace_bin("mayexec"))
                .arg("interpreters")
                .arg(java),
        )
    };
    for launcher in ["java", "jshell"] {
        let got = interpreters(&ours.with_file_name(launcher));
        assert_eq!(got.exit, Exit::Code(0), "{launcher}: {got}");
        assert!(got.stdout.contains("[mayexec "), "{launcher}: {got}");
    }
    for java in [stock, PathBuf::from(DEBIAN)] {
        let got = interpreters(&java);
        assert_eq!(got.exit, Exit::Code(1), "{}: {got}", java.display());
        assert!(got.stdout.contains("integrations/java/build.sh"), "{got}");
    }
}

/// The options and variables that make the JVM load code natively, before
/// any Java code runs: what the launcher does with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Native {
    /// `-agentpath:FILE`.
    AgentPath,
    /// `JAVA_TOOL_OPTIONS=-agentpath:FILE`.
    ToolOptionsAgent,
    /// `JDK_JAVA_OPTIONS=-agentpath:FILE`.
    JdkOptionsAgent,
    /// `@ARGFILE` holding `-agentpath:FILE`.
    ArgFileAgent,
    /// `-javaagent:FILE.jar`.
    JavaAgent,
    /// `-Xbootclasspath/a:FILE.jar`, the program's class in it.
    BootClassPath,
}

const NATIVES: [Native; 6] = [
    Native::AgentPath,
    Native::ToolOptionsAgent,
    Native::JdkOptionsAgent,
    Native::ArgFileAgent,
    Native::JavaAgent,
    Native::BootClassPath,
];

/// The files the launcher's table loads, in every place, and `Hello` in
/// an allowed directory.
struct Natives {
    at: PlaceDirs,
}

impl Natives {
    fn new() -> Natives {
        let programs = Programs::get();
        let at = PlaceDirs::new("natives", |dir, mode| {
            write_file(&dir.join("libagent.so"), &programs.native_agent, mode);
            write_file(&dir.join("agent.jar"), &programs.java_agent, mode);
            write_file(&dir.join("hello.jar"), &programs.hello_jar, mode);
            let argfile = format!("-agentpath:{}\n", dir.join("libagent.so").display());
            // (an option file is not code: it is always readable)
            write_file(&dir.join("argfile"), argfile.as_bytes(), 0o644);
        });
        write_file(
            &at.trusted.join("Hello.class"),
            &programs.hello_class,
            0o755,
        );
        Natives { at }
    }

    fn dir(&self, place: Place) -> &Path {
        self.at.dir(place)
    }

    /// The file `option` makes the JVM load in `place`.
    fn code(&self, option: Native, place: Place) -> PathBuf {
        self.dir(place).join(match option {
            Native::JavaAgent => "agent.jar",
            Native::BootClassPath => "hello.jar",
            _ => "libagent.so",
        })
    }

    fn run(
        &self,
        option: Native,
        place: Place,
        java: &Path,
        make: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let code = self.code(option, place);
        let agentpath = format!("-agentpath:{}", code.display());
        let mut cmd = make(java.as_os_str());
        cmd.stdin(Stdio::null()).current_dir("/");
        match option {
            Native::AgentPath => cmd.arg(&agentpath),
            Native::ToolOptionsAgent => cmd.env("JAVA_TOOL_OPTIONS", &agentpath),
            Native::JdkOptionsAgent => cmd.env("JDK_JAVA_OPTIONS", &agentpath),
            Native::ArgFileAgent => {
                cmd.arg(format!("@{}", self.dir(place).join("argfile").display()))
            }
            Native::JavaAgent => cmd.arg(format!("-javaagent:{}", code.display())),
            Native::BootClassPath => cmd.arg(format!("-Xbootclasspath/a:{}", code.display())),
        };
        if option != Native::BootClassPath {
            cmd.arg("-cp").arg(&self.at.trusted);
        }
        cmd.arg("Hello");
        Outcome::from_output(cmd.output().expect("run java"))
    }
}

/// Without the launcher's messages about the environment (`Picked up
/// JAVA_TOOL_OPTIONS: …`, `NOTE: Picked up JDK_JAVA_OPTIONS: …`), which
/// show the options as the launcher passed them on.
fn without_picked_up(outcome: Outcome) -> Outcome {
    let stderr = outcome
        .stderr
        .lines()
        .filter(|l| !l.contains("Picked up "))
        .map(|l| format!("{l}\n"))
        .collect();
    Outcome { stderr, ..outcome }
}

on_both_backends! {
    /// The launcher's table: every option that makes the JVM load code
    /// natively × the securebit enforcements × every place. A refused
    /// file ends the launch with 126 and the contract's message before
    /// the JVM exists; an allowed one gives what Debian's Java gives
    /// (the JVM loads the file that was checked, through /proc/self/fd).
    fn every_option_that_loads_native_code_is_checked(backend) {
        let test = "every_option_that_loads_native_code_is_checked";
        let Some(ours) = BUILT.require_with_root(test) else { return };
        let natives = Natives::new();
        let plain = |p: &OsStr| Command::new(p);
        let mut failures = Vec::new();
        let mut cells = 0;
        for enforced in Enforced::BITS {
            let sandbox = enforced.sandbox();
            let outer = |p: &OsStr| sandbox.command(p);
            let make = backend.launcher(&outer);
            let launch = |p: &OsStr| enforced.command_with(p, &make);
            for option in NATIVES {
                for place in Place::ALL {
                    cells += 1;
                    let got = without_picked_up(natives.run(option, place, &ours, &launch));
                    let want = match enforced.script_denial(place) {
                        Some(reason) => Outcome::refused(denial(natives.code(option, place), reason)),
                        None => without_picked_up(natives.run(option, place, Path::new(DEBIAN), &plain)),
                    };
                    if got != want {
                        failures.push(format!(
                            "{option:?} | {place:?} | {enforced} | {backend:?}:\n    want {want}\n    got  {got}"
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {cells} cells differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
        // Debian's Java loads an allowed agent: the table compared something.
        let theirs = natives.run(Native::AgentPath, Place::Exec755, Path::new(DEBIAN), &plain);
        assert_eq!(theirs.stderr, "agent loaded\n", "{theirs}");
        eprintln!("java's launcher: {cells} cells with the {backend:?} backend");
    }
}

/// What the launcher refuses whatever the file: code from no file under
/// deny-interactive (a debugger, shell commands run on an error, the prompt
/// that starts gdb on a fatal error), a Java
/// agent whose classes the JVM would read natively (`Boot-Class-Path`), an
/// alternate JVM, turning dynamic attach back on.
#[root_test]
fn the_launcher_refuses_what_it_cannot_check() {
    let test = "the_launcher_refuses_what_it_cannot_check";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let natives = Natives::new();
    let boot = natives
        .dir(Place::Exec755)
        .join("boot-class-path-agent.jar");
    write_file(&boot, &Programs::get().boot_class_path_agent, 0o755);
    let jdwp = "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:0";
    let javaagent = format!("-javaagent:{}", boot.display());
    let cases: [(&str, &str, &str, &[&str]); 7] = [
        (
            "-XX:OnError=true",
            "-XX:OnError",
            "interactive",
            &["-i", "-fi"],
        ),
        (
            "-XX:+ShowMessageBoxOnError",
            "-XX:+ShowMessageBoxOnError",
            "interactive",
            &["-i", "-fi"],
        ),
        (
            "-XX:OnOutOfMemoryError=true",
            "-XX:OnOutOfMemoryError",
            "interactive",
            &["-i", "-fi"],
        ),
        (jdwp, "-agentlib:jdwp", "interactive", &["-i", "-fi"]),
        (
            &javaagent,
            boot.to_str().expect("a UTF-8 path"),
            "boot-class-path",
            &["-f", "-fi"],
        ),
        (
            "-XXaltjvm=/nonexistent",
            "-XXaltjvm=/nonexistent",
            "alternate-jvm",
            &["-f", "-i", "-fi"],
        ),
        (
            "-XX:-DisableAttachMechanism",
            "-XX:-DisableAttachMechanism",
            "attach-mechanism",
            &["-f", "-i", "-fi"],
        ),
    ];
    for (option, label, reason, refused_under) in cases {
        for flags in ["-f", "-i", "-fi"] {
            let got = Outcome::of(
                mayexec_testkit::conformance::mayexec_run(flags, ours.as_os_str())
                    .arg(option)
                    .arg("-cp")
                    .arg(&natives.at.trusted)
                    .arg("Hello"),
            );
            if refused_under.contains(&flags) {
                assert_eq!(
                    got,
                    Outcome::refused(denial(label, reason)),
                    "{option} {flags}"
                );
            } else {
                assert_eq!(got.exit, Exit::Code(0), "{option} {flags}: {got}");
                assert!(
                    got.stdout.ends_with("hello from x\n"),
                    "{option} {flags}: {got}"
                );
            }
        }
        // Without a policy, Debian's behaviour.
        let got = Outcome::of(
            Command::new(&ours)
                .arg(option)
                .arg("-cp")
                .arg(&natives.at.trusted)
                .arg("Hello"),
        );
        let theirs = Outcome::of(
            Command::new(DEBIAN)
                .arg(option)
                .arg("-cp")
                .arg(&natives.at.trusted)
                .arg("Hello"),
        );
        // (the debugger listens on a port of its choosing)
        let listening = |text: &str| -> String {
            text.lines()
                .filter(|l| !l.starts_with("Listening for transport"))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        assert_eq!(got.exit, theirs.exit, "{option}: {got} / {theirs}");
        assert_eq!(
            listening(&got.stdout),
            listening(&theirs.stdout),
            "{option}"
        );
    }
}

/// `-XX:+ShowMessageBoxOnError`: on a fatal error the JVM asks on standard
/// input whether to start gdb on itself, and starts it on a "yes"
/// (`os::start_debugging`): a debugger, whose commands are code from no
/// file. Under deny-interactive the launch is refused, the option given in
/// `JAVA_TOOL_OPTIONS` as well; elsewhere, and in Debian's Java, the
/// debugger starts (here a stand-in for gdb on `PATH`).
#[root_test]
fn the_debugger_prompt_of_a_fatal_error_is_refused_under_deny_interactive() {
    let test = "the_debugger_prompt_of_a_fatal_error_is_refused_under_deny_interactive";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let natives = Natives::new();
    let dir = natives.dir(Place::Exec755);
    // A program that ends in a fatal error: -XX:+CrashOnOutOfMemoryError.
    let program = write_file(
        &dir.join("Exhaust.java"),
        b"public class Exhaust {\n    public static void main(String[] args) {\n        \
          java.util.List<long[]> all = new java.util.ArrayList<>();\n        \
          for (;;) all.add(new long[1 << 20]);\n    }\n}\n",
        0o755,
    );
    let work = mayexec_testkit::TempDir::new();
    let bin = work.path().join("bin");
    fs::create_dir(&bin).expect("mkdir bin");
    let started = work.path().join("gdb-started");
    write_file(
        &bin.join("gdb"),
        format!("#!/bin/sh\necho \"$@\" > {}\n", started.display()).as_bytes(),
        0o755,
    );
    let answer = write_file(&work.path().join("yes"), b"yes\n", 0o644);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |flags: Option<&str>, java: &Path| {
        let _ = fs::remove_file(&started);
        let mut cmd = launch(flags, java);
        cmd.env("PATH", &path)
            .env(
                "JAVA_TOOL_OPTIONS",
                "-XX:+ShowMessageBoxOnError -XX:+CrashOnOutOfMemoryError \
                 -XX:-CreateCoredumpOnCrash -Xmx32m",
            )
            .current_dir(work.path())
            .arg(&program)
            .stdin(fs::File::open(&answer).expect("open the answer"));
        let got = without_picked_up(Outcome::of(&mut cmd));
        (got, started.is_file())
    };
    for flags in ["-i", "-fi"] {
        let (got, debugger) = run(Some(flags), &ours);
        assert_eq!(
            got,
            Outcome::refused(denial("-XX:+ShowMessageBoxOnError", "interactive")),
            "{flags}"
        );
        assert!(!debugger, "{flags}: the debugger started");
        // Debian's Java starts it: the way in is real.
        let (theirs, debugger) = run(Some(flags), Path::new(DEBIAN));
        assert!(
            debugger,
            "{flags}: Debian's Java did not start gdb: {theirs}"
        );
    }
    for (flags, java) in [(Some("-f"), &ours), (None, &ours)] {
        let (got, debugger) = run(flags, java);
        assert!(debugger, "{flags:?}: no debugger started: {got}");
        assert!(
            got.stderr.contains("Do you want to debug the problem?"),
            "{flags:?}: {got}"
        );
    }
}

/// The `DiagnosticCommand` MBean's `jvmtiAgentLoad` (`JVMTI.agent_load`)
/// loads an agent into the running JVM, as dynamic attach does, with
/// neither attach nor `System.load`'s check: a program (or a JMX client,
/// when the options turn remote management on) loaded a library that
/// `System.load` refuses. Where the launcher turns attach off
/// (restrict-file, deny-interactive) the command is refused; Debian's Java
/// loads the agent, and so does ours with nothing enforced.
#[root_test]
fn the_diagnostic_command_mbean_loads_no_agent_when_enforcing() {
    let test = "the_diagnostic_command_mbean_loads_no_agent_when_enforcing";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let natives = Natives::new();
    let program = write_file(
        &natives.dir(Place::Exec755).join("LoadAgent.java"),
        br#"import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

public class LoadAgent {
    public static void main(String[] args) throws Exception {
        try {
            Object result = ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "jvmtiAgentLoad", new Object[] { new String[] { args[0] } },
                new String[] { String[].class.getName() });
            System.out.println("result: " + String.valueOf(result).trim());
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null)
                cause = cause.getCause();
            System.out.println("refused: " + cause);
        }
    }
}
"#,
        0o755,
    );
    // A file restrict-file refuses: System.load would not load it.
    let agent = natives.code(Native::AgentPath, Place::Exec644);
    let run = |flags: Option<&str>, java: &Path| {
        Outcome::of(launch(flags, java).arg(&program).arg(&agent))
    };
    let refused = Outcome {
        exit: Exit::Code(0),
        stdout: "refused: java.lang.SecurityException: JVMTI.agent_load: script execution \
                 denied (attach-mechanism)\n"
            .into(),
        stderr: String::new(),
    };
    let attached = Outcome {
        exit: Exit::Code(0),
        stdout: "result: return code: 0\n".into(),
        stderr: "agent attached\n".into(),
    };
    for flags in ["-f", "-i", "-fi"] {
        assert_eq!(run(Some(flags), &ours), refused, "{flags}");
        // The way in is real: Debian's Java loads the agent.
        assert_eq!(
            run(Some(flags), Path::new(DEBIAN)),
            attached,
            "Debian's {flags}"
        );
    }
    assert_eq!(run(None, &ours), attached, "no policy");
}

/// `-XrunNAME` has no path form: HotSpot loads `libNAME.so` by name, and
/// the dynamic linker could find another file than the one checked (one
/// renamed into a directory of `LD_LIBRARY_PATH` in between). A library
/// outside the JDK is refused under restrict-file, even a marked one;
/// where no rule judges files it loads as Debian's Java loads it.
#[root_test]
fn an_xrun_library_outside_the_jdk_is_refused_under_restrict_file() {
    let test = "an_xrun_library_outside_the_jdk_is_refused_under_restrict_file";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let natives = Natives::new();
    // The marked agent of an exec mount: a file the check allows.
    let dir = natives.dir(Place::Exec755);
    let run = |flags: Option<&str>, java: &Path| {
        let mut cmd = launch(flags, java);
        cmd.env("LD_LIBRARY_PATH", dir)
            .arg("-Xrunagent")
            .arg("-cp")
            .arg(&natives.at.trusted)
            .arg("Hello");
        Outcome::of(&mut cmd)
    };
    for flags in ["-f", "-fi"] {
        assert_eq!(
            run(Some(flags), &ours),
            Outcome::refused(denial("-Xrunagent", "xrun-library")),
            "{flags}"
        );
    }
    let theirs = run(None, Path::new(DEBIAN));
    assert_eq!(theirs.exit, Exit::Code(0), "Debian's java: {theirs}");
    assert!(theirs.stderr.contains("agent loaded"), "{theirs}");
    for flags in [Some("-i"), None] {
        let got = run(flags, &ours);
        assert_eq!(got.exit, theirs.exit, "{flags:?}: {got}");
        assert_eq!(got.stdout, theirs.stdout, "{flags:?}");
        assert!(got.stderr.contains("agent loaded"), "{flags:?}: {got}");
    }
}

/// Every string-valued flag of Debian's JVM (those that can name a file
/// or a command) is decided in `docs/java.md`: a new one fails this test
/// until someone has looked at it.
#[test]
fn every_string_flag_of_the_jvm_is_decided_in_the_docs() {
    let docs = mayexec_testkit::interp::workspace_root().join("docs/java.md");
    let docs = fs::read_to_string(&docs).expect("read docs/java.md");
    let flags = Command::new(DEBIAN)
        .args([
            "-XX:+UnlockDiagnosticVMOptions",
            "-XX:+UnlockExperimentalVMOptions",
            "-XX:+PrintFlagsFinal",
            "-version",
        ])
        .output()
        .expect("run Debian's java");
    assert!(flags.status.success(), "{flags:?}");
    let flags = String::from_utf8_lossy(&flags.stdout);
    let strings: Vec<&str> = flags
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let kind = words.next()?;
            let name = words.next()?;
            kind.starts_with("ccstr").then_some(name)
        })
        .collect();
    assert!(strings.len() > 20, "PrintFlagsFinal listed {strings:?}");
    let missing: Vec<&&str> = strings
        .iter()
        .filter(|name| !docs.contains(&format!("`-XX:{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/java.md does not decide these flags: {missing:?}"
    );
}

/// `DIR`'s copy of Debian's jars at `files` (`/usr/share/java/junit4.jar`
/// …), symbolic links followed, marked executable: what an administrator
/// does before enforcing (`mayexec mark`).
fn marked_copy(dir: &Path, files: &[&str]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|file| {
            let bytes = fs::read(file).unwrap_or_else(|e| panic!("read {file}: {e}"));
            let name = Path::new(file).file_name().expect("a file name");
            write_file(&dir.join(name), &bytes, 0o755)
        })
        .collect()
}

/// Without the lines that carry a duration (`Total time: 1 second`,
/// JUnit's `Time: 0.012`).
fn timeless(outcome: Outcome) -> Outcome {
    let strip = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with("Total time:") && !l.starts_with("Time:"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    Outcome {
        stdout: strip(&outcome.stdout),
        stderr: strip(&outcome.stderr),
        ..outcome
    }
}

const BUILD_XML: &str = r#"<project name="p" default="jar">
  <target name="jar">
    <mkdir dir="classes"/>
    <javac srcdir="src" destdir="classes" includeantruntime="false"/>
    <jar destfile="p.jar" basedir="classes">
      <manifest><attribute name="Main-Class" value="P"/></manifest>
    </jar>
  </target>
</project>
"#;

const CALC_TEST: &str = r#"import static org.junit.Assert.assertEquals;
import org.junit.Test;

public class CalcTest {
    @Test public void adds() { assertEquals(4, 2 + 2); }
    @Test public void fails() { assertEquals("x", "y"); }
}
"#;

/// Debian's own Java programs run alike through the enlightened home, the
/// stock relink and Debian's Java: `ant -version`, an ant build (javac
/// and jar inside ant's JVM) whose jar then runs, and JUnit 4 running a
/// test class (one test passes, one fails). Under `mayexec run -f` the
/// enlightened home runs them from marked copies of their jars as
/// Debian's Java does without a policy.
#[root_test]
fn debians_own_java_programs_run_alike() {
    let test = "debians_own_java_programs_run_alike";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    // (integrations/java/build.sh installs them, as the other tools it needs)
    for tool in ["/usr/bin/ant", "/usr/share/java/junit4.jar"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is not installed: run integrations/java/build.sh"
        );
    }
    let exec = Tmpfs::exec();
    let debian = PathBuf::from(DEBIAN);
    // ant, with JAVACMD naming the JVM, in a fresh copy of a project.
    let ant = |java: &Path, name: &str, make: &dyn Fn(&OsStr) -> Command| {
        let project = exec.path().join(name);
        fs::create_dir_all(project.join("src")).expect("mkdir the project");
        fs::write(project.join("build.xml"), BUILD_XML).expect("write build.xml");
        fs::write(project.join("src/P.java"), HELLO.replace("Hello", "P")).expect("write P.java");
        let version = Outcome::of(
            make(OsStr::new("/usr/bin/ant"))
                .arg("-version")
                .env("JAVACMD", java),
        );
        let build = timeless(Outcome::of(
            make(OsStr::new("/usr/bin/ant"))
                .args(["-q", "-f"])
                .arg(project.join("build.xml"))
                .env("JAVACMD", java),
        ));
        let run = Outcome::of(
            make(java.as_os_str())
                .arg("-jar")
                .arg(project.join("p.jar")),
        );
        (version, build, run)
    };
    let plain = |p: &OsStr| Command::new(p);
    let theirs = ant(&debian, "debian", &plain);
    assert_eq!(
        theirs.2,
        Outcome::ran("hello from x\n"),
        "Debian's java: {theirs:?}"
    );
    assert!(theirs.0.stdout.starts_with("Apache Ant"), "{theirs:?}");
    assert!(theirs.1.stdout.contains("BUILD SUCCESSFUL"), "{theirs:?}");
    for (java, name) in [(&ours, "ours"), (&stock, "stock")] {
        assert_eq!(ant(java, name, &plain), theirs, "{}", java.display());
    }
    // JUnit 4 on a test class compiled by Debian's javac.
    let junit = [
        "/usr/share/java/junit4.jar",
        "/usr/share/java/hamcrest-core.jar",
    ];
    let tests = exec.path().join("tests");
    fs::create_dir_all(&tests).expect("mkdir tests");
    fs::write(tests.join("CalcTest.java"), CALC_TEST).expect("write CalcTest.java");
    let status = Command::new(mayexec_java::jdk_tool("javac"))
        .arg("-cp")
        .arg(junit.join(":"))
        .arg("-d")
        .arg(&tests)
        .arg(tests.join("CalcTest.java"))
        .status()
        .expect("run javac");
    assert!(status.success());
    fs::set_permissions(
        tests.join("CalcTest.class"),
        fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let junit_run = |java: &Path, jars: &[PathBuf], make: &dyn Fn(&OsStr) -> Command| {
        let mut path: Vec<String> = jars.iter().map(|j| j.display().to_string()).collect();
        path.push(tests.display().to_string());
        timeless(Outcome::of(
            make(java.as_os_str())
                .arg("-cp")
                .arg(path.join(":"))
                .args(["org.junit.runner.JUnitCore", "CalcTest"]),
        ))
    };
    let debians_jars: Vec<PathBuf> = junit.iter().map(PathBuf::from).collect();
    let theirs = junit_run(&debian, &debians_jars, &plain);
    assert_eq!(theirs.exit, Exit::Code(1), "{theirs}");
    assert!(theirs.stdout.contains("There was 1 failure:"), "{theirs}");
    assert!(
        theirs.stdout.contains("Tests run: 2,  Failures: 1"),
        "{theirs}"
    );
    for java in [&ours, &stock] {
        assert_eq!(
            junit_run(java, &debians_jars, &plain),
            theirs,
            "{}",
            java.display()
        );
    }
    // Enforced: the same programs from marked copies.
    let marked = exec.path().join("marked");
    fs::create_dir_all(&marked).expect("mkdir marked");
    let jars = marked_copy(&marked, &junit);
    let run_f = |p: &OsStr| mayexec_testkit::conformance::mayexec_run("-f", p);
    assert_eq!(
        junit_run(&debian, &jars, &plain),
        theirs,
        "Debian's, marked copies"
    );
    assert_eq!(
        junit_run(&ours, &jars, &run_f),
        theirs,
        "enlightened, run -f"
    );
    // ... and refuses Debian's unmarked jars (0644) under -f.
    let got = junit_run(&ours, &debians_jars, &run_f);
    assert_eq!(got.exit, Exit::Code(126), "{got}");
    assert!(
        got.stderr
            .contains("script execution denied (not-executable)"),
        "{got}"
    );
}

/// An option the launcher handed over (`-agentpath:/proc/self/fd/N` in
/// `JAVA_TOOL_OPTIONS`) is given back its value once the JVM has read it:
/// the program sees the variable as it was given, and a JVM it starts
/// checks and loads the agent again, instead of failing on a descriptor
/// of its parent.
#[root_test]
fn a_child_jvm_inherits_the_options_as_given() {
    let test = "a_child_jvm_inherits_the_options_as_given";
    let Some(ours) = BUILT.require_with_root(test) else {
        return;
    };
    let natives = Natives::new();
    write_file(
        &natives.at.trusted.join("Spawn.class"),
        &Programs::get().spawn_class,
        0o755,
    );
    let agent = natives.code(Native::AgentPath, Place::Exec755);
    let options = format!("-agentpath:{}", agent.display());
    let got = Outcome::of(
        mayexec_testkit::conformance::mayexec_run("-f", ours.as_os_str())
            .env("JAVA_TOOL_OPTIONS", &options)
            .arg("-cp")
            .arg(&natives.at.trusted)
            .arg("Spawn")
            .arg(&ours)
            .arg("-cp")
            .arg(&natives.at.trusted)
            .arg("Hello"),
    );
    assert_eq!(got.exit, Exit::Code(0), "{got}");
    assert_eq!(
        got.stdout,
        format!("JAVA_TOOL_OPTIONS={options}\nhello from x\n"),
        "{got}"
    );
    assert_eq!(got.stderr.matches("agent loaded").count(), 2, "{got}");
}
