//! The behaviour table of the enlightened BusyBox ash (docs/busybox.md):
//! `busybox sh` and `busybox ash` × every way code reaches the shell
//! (`#!`, file, stdin, pipe, `-c`, `.`, `ENV`) × every enforcement (no
//! policy, `mayexec run -f`/`-i`/`-fi`, policy levels 1–3, audit mode) ×
//! where the code lives, on real tmpfs mounts, as root, with the kernel's
//! check and with the emulated one.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_busybox::{
    require_root_and_busybox, require_stock_busybox, Applet, Enforced, Exit, Invocation, Outcome,
    Shell,
};
use mayexec_testkit::interp::{Backend, Place, Places};
use mayexec_testkit::on_both_backends;
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};

/// What enforces in a column: one of the shared enforcements, or the
/// policy file in audit mode (level 3 and deny-interactive, logged only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Enforced(Enforced),
    Audit,
}

impl Column {
    const ALL: [Column; 8] = [
        Column::Enforced(Enforced::Nothing),
        Column::Enforced(Enforced::RunF),
        Column::Enforced(Enforced::RunI),
        Column::Enforced(Enforced::RunFI),
        Column::Enforced(Enforced::Level(1)),
        Column::Enforced(Enforced::Level(2)),
        Column::Enforced(Enforced::Level(3)),
        Column::Audit,
    ];

    fn sandbox(self) -> Sandbox {
        match self {
            Column::Enforced(e) => e.sandbox(),
            Column::Audit => Sandbox::new()
                .capture_syslog()
                .policy("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n"),
        }
    }

    fn script_denial(self, place: Place) -> Option<&'static str> {
        match self {
            Column::Enforced(e) => e.script_denial(place),
            Column::Audit => None,
        }
    }

    fn denies_interactive(self) -> bool {
        match self {
            Column::Enforced(e) => e.denies_interactive(),
            Column::Audit => false,
        }
    }

    /// The command for `program` in `sandbox`, through `make`.
    fn command(self, program: &OsStr, make: &dyn Fn(&OsStr) -> Command) -> Command {
        match self {
            Column::Enforced(e) => e.command_with(program, make),
            Column::Audit => make(program),
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Enforced(e) => e.fmt(f),
            Column::Audit => f.write_str("policy level 3 + deny_interactive, audit mode"),
        }
    }
}

/// The rows: the shell invocations, then `.` and `ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Run(Invocation),
    /// A script on an exec mount, 0755, that runs `. FILE`.
    Dot,
    /// `busybox sh -i` with `ENV=FILE`, commands from a 0755 file on stdin.
    Env,
}

impl Row {
    const ALL: [Row; 7] = [
        Row::Run(Invocation::Direct),
        Row::Run(Invocation::Script),
        Row::Run(Invocation::Stdin),
        Row::Run(Invocation::Pipe),
        Row::Run(Invocation::DashC),
        Row::Dot,
        Row::Env,
    ];
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Row::Run(invocation) => invocation.fmt(f),
            Row::Dot => f.write_str(". file"),
            Row::Env => f.write_str("ENV=file sh -i"),
        }
    }
}

const OUTPUT: &str = "ran with 0 arguments\n";
const LIB_OUTPUT: &str = "lib ran\n";

/// The code under test in every place, and the scripts that load it.
struct Fixture {
    _places: Places,
    _exec: Tmpfs,
    /// Per place: the script (with the shell's `#!`), the file for `.`
    /// and `ENV`, and the script that runs `.` of it.
    files: Vec<(Place, PathBuf, PathBuf, PathBuf)>,
    /// Standard input of the `ENV` rows.
    input: PathBuf,
}

impl Fixture {
    fn new(shell: &Shell) -> Fixture {
        let places = Places::new();
        let exec = Tmpfs::exec();
        let text = format!("{}echo \"ran with $# arguments\"\n", shell.shebang());
        let files = Place::ALL
            .into_iter()
            .map(|place| {
                let script = places.write(place, &format!("{place:?}.sh"), &text);
                let lib = places.write(place, &format!("{place:?}-lib.sh"), "echo lib ran\n");
                let dot = exec.write(
                    format!("dot-{place:?}.sh"),
                    format!("echo before\n. {}\necho after\n", lib.display()),
                    0o755,
                );
                (place, script, lib, dot)
            })
            .collect();
        let input = exec.write("input.sh", "echo main\n", 0o755);
        Fixture {
            _places: places,
            _exec: exec,
            files,
            input,
        }
    }

    fn files(&self, place: Place) -> &(Place, PathBuf, PathBuf, PathBuf) {
        self.files
            .iter()
            .find(|(p, ..)| *p == place)
            .expect("files for every place")
    }
}

/// What a denied `.` does: ash's own error for a file it cannot open
/// (checked against stock ash in tests/sourcing.rs).
fn dot_unreadable(dot: &Path, lib: &Path) -> Outcome {
    Outcome {
        exit: Exit::Code(2),
        stdout: "before\n".to_owned(),
        stderr: format!(
            "{}: .: line 2: can't open '{}': Permission denied\n",
            dot.display(),
            lib.display()
        ),
    }
}

/// Runs one row; the `ENV` row keeps its stderr out of the comparison (the
/// prompts of `-i`), except when the shell refuses.
fn run(
    row: Row,
    shell: &Shell,
    fixture: &Fixture,
    place: Place,
    launch: &dyn Fn(&OsStr) -> Command,
) -> Outcome {
    let (_, script, lib, dot) = fixture.files(place);
    match row {
        Row::Run(invocation) => invocation.run(shell, script, launch),
        Row::Dot => Outcome::of(shell.command(launch).arg(dot)),
        Row::Env => {
            let mut got = Outcome::of(
                shell
                    .command(launch)
                    .arg("-i")
                    .env("ENV", lib)
                    .env("PS1", "")
                    .stdin(File::open(&fixture.input).expect("open the input")),
            );
            if got.exit == Exit::Code(0) {
                got.stderr = String::new();
                got.stdout = without_banner(&got.stdout);
            }
            got
        }
    }
}

/// An interactive ash greets with a banner on stdout (blank lines, the
/// version, a hint); what is left is the code's output.
fn without_banner(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|line| {
            !(line.is_empty() || line.starts_with("BusyBox v") || line.starts_with("Enter 'help'"))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

fn expected(row: Row, shell: &Shell, fixture: &Fixture, place: Place, column: Column) -> Outcome {
    let (_, script, lib, dot) = fixture.files(place);
    let interactive = column.denies_interactive();
    match row {
        Row::Run(Invocation::Direct) => {
            if place == Place::Exec755 {
                return Outcome::ran(OUTPUT);
            }
            let eacces = std::io::Error::from_raw_os_error(libc::EACCES);
            match column {
                Column::Enforced(Enforced::Nothing) => Outcome {
                    exit: Exit::NotStarted(libc::EACCES),
                    stdout: String::new(),
                    stderr: eacces.to_string(),
                },
                // `mayexec run` reports the failed execve as a shell does.
                _ => Outcome {
                    exit: Exit::Code(126),
                    stdout: String::new(),
                    stderr: format!("mayexec: {}: {eacces}\n", script.display()),
                },
            }
        }
        Row::Run(invocation @ Invocation::Script) => match column.script_denial(place) {
            Some(reason) => Outcome::refused(shell.denial(invocation.label(script), reason)),
            None => Outcome::ran(OUTPUT),
        },
        Row::Run(invocation @ Invocation::Stdin) => match place.full_check() {
            Some(reason) if interactive => {
                Outcome::refused(shell.denial(invocation.label(script), reason))
            }
            _ => Outcome::ran(OUTPUT),
        },
        Row::Run(invocation @ Invocation::Pipe) if interactive => {
            Outcome::refused(shell.denial(invocation.label(script), "not-regular-file"))
        }
        Row::Run(invocation @ Invocation::DashC) if interactive => {
            Outcome::refused(shell.denial(invocation.label(script), "interactive"))
        }
        Row::Run(_) => Outcome::ran(OUTPUT),
        Row::Dot => match column.script_denial(place) {
            Some(_) => dot_unreadable(dot, lib),
            None => Outcome::ran(format!("before\n{LIB_OUTPUT}after\n")),
        },
        Row::Env if interactive => Outcome::refused(shell.denial("<stdin>", "interactive")),
        Row::Env => match column.script_denial(place) {
            Some(_) => Outcome::ran("main\n"),
            None => Outcome::ran(format!("{LIB_OUTPUT}main\n")),
        },
    }
}

on_both_backends! {
    /// Every row and column, for `busybox sh` and `busybox ash`, with the
    /// kernel's check and with the emulated one (the kernel check hidden
    /// by a seccomp filter). A direct execution is the kernel's `execve`
    /// alone: it runs once, under the securebit columns.
    fn every_row_of_the_behaviour_table_holds(backend) {
        let Some(busybox) = require_root_and_busybox("every_row_of_the_behaviour_table_holds") else {
            return;
        };
        let mut failures = Vec::new();
        let mut rows = 0;
        for applet in Applet::ALL {
            let shell = Shell::new(&busybox, applet);
            let fixture = Fixture::new(&shell);
            for column in Column::ALL {
                let sandbox = column.sandbox();
                let in_sandbox = |p: &OsStr| sandbox.command(p);
                let plain = |p: &OsStr| Command::new(p);
                let securebits = matches!(
                    column,
                    Column::Enforced(Enforced::Nothing | Enforced::RunF | Enforced::RunI | Enforced::RunFI)
                );
                let make: &dyn Fn(&OsStr) -> Command = if securebits { &plain } else { &in_sandbox };
                let make = backend.launcher(make);
                let launch = |program: &OsStr| column.command(program, &make);
                for row in Row::ALL {
                    if row == Row::Run(Invocation::Direct) && (backend == Backend::Emulated || !securebits) {
                        continue;
                    }
                    for place in Place::ALL {
                        let got = run(row, &shell, &fixture, place, &launch);
                        let want = expected(row, &shell, &fixture, place, column);
                        rows += 1;
                        if got != want {
                            failures.push(format!(
                                "{shell} | {row} | {place:?} | {column} | {backend:?}:\n    want {want}\n    got  {got}"
                            ));
                        }
                    }
                }
            }
        }
        // 2 applets × 8 columns × 6 rows × 3 places, and `./script` under
        // the 4 securebit columns with the kernel.
        let direct = if backend == Backend::Kernel { 2 * 4 * 3 } else { 0 };
        assert_eq!(rows, 2 * 8 * 6 * 3 + direct);
        assert!(
            failures.is_empty(),
            "{} of {rows} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Without a policy the enlightened ash does what stock ash of the same
/// source does, in every row, including code on noexec mounts and without
/// x bits.
#[root_test]
fn without_a_policy_every_row_matches_the_stock_build() {
    let Some(busybox) =
        require_root_and_busybox("without_a_policy_every_row_matches_the_stock_build")
    else {
        return;
    };
    let Some(stock) = require_stock_busybox("without_a_policy_every_row_matches_the_stock_build")
    else {
        return;
    };
    let plain = |p: &OsStr| Command::new(p);
    for applet in Applet::ALL {
        let ours = Shell::new(&busybox, applet);
        let theirs = Shell::new(&stock, applet);
        // One fixture, the enlightened shell's `#!`: `./script` is the
        // kernel's, not compared.
        let fixture = Fixture::new(&ours);
        for row in Row::ALL.into_iter().skip(1) {
            for place in Place::ALL {
                let got = run(row, &ours, &fixture, place, &plain);
                let want = run(row, &theirs, &fixture, place, &plain);
                assert_eq!(got, want, "{ours} | {row} | {place:?}");
                assert_eq!(got.exit, Exit::Code(0), "{ours} | {row} | {place:?}: {got}");
            }
        }
    }
}

/// The headline: the securebit makes the enlightened ash refuse a
/// script on a noexec mount, which the stock build still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_script_that_stock_busybox_runs() {
    let test = "mayexec_run_f_refuses_a_noexec_script_that_stock_busybox_runs";
    let Some(busybox) = require_root_and_busybox(test) else {
        return;
    };
    let Some(stock) = require_stock_busybox(test) else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let noexec = Tmpfs::noexec();
    let script = noexec.write("x.sh", "echo hello from x.sh\n", 0o755);
    for applet in Applet::ALL {
        let ours = Outcome::of(
            Command::new(&mayexec)
                .args(["run", "-f", "--"])
                .arg(&busybox)
                .arg(applet.name())
                .arg(&script),
        );
        let shell = Shell::new(&busybox, applet);
        assert_eq!(
            ours,
            Outcome::refused(shell.denial(&script, "noexec-mount"))
        );

        let theirs = Outcome::of(
            Command::new(&mayexec)
                .args(["run", "-f", "--"])
                .arg(&stock)
                .arg(applet.name())
                .arg(&script),
        );
        assert_eq!(
            theirs,
            Outcome::ran("hello from x.sh\n"),
            "stock {applet:?}"
        );
    }
}
