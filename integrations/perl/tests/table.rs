//! The behaviour table of the enlightened perl (docs/perl.md): every way
//! code reaches perl × every enforcement (no policy, the exec securebits,
//! system policy levels 1–3, audit mode) × where the code lives, on real
//! tmpfs mounts, as root, with the kernel's check and the emulated one.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_perl::{
    cannot_locate, denial, module_name, require_root_and_perl, strerror, Enforced, Exit,
    Invocation, Outcome, STOCK_PERL,
};
use mayexec_testkit::interp::{Backend, Place, Places};
use mayexec_testkit::on_both_backends;
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};

use Invocation::{
    DashE, DashM, DashS, DashX, Direct, Do, Perl5Opt, Pipe, Require, Script, Stdin, Use,
};

/// A column of the table: an enforcement, or the system policy in audit
/// mode (level 3 and deny-interactive, logged and not enforced).
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

    fn sandbox(self) -> Option<Sandbox> {
        match self {
            Column::Enforced(Enforced::Level(n)) => {
                Some(Sandbox::new().policy(&format!("interpreted_access = {n}\n")))
            }
            Column::Audit => Some(
                Sandbox::new()
                    .policy("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n"),
            ),
            Column::Enforced(_) => None,
        }
    }

    fn script_denial(self, place: Place) -> Option<&'static str> {
        match self {
            Column::Enforced(e) => e.script_denial(place),
            Column::Audit => None,
        }
    }

    fn denies_interactive(self) -> bool {
        matches!(self, Column::Enforced(e) if e.denies_interactive())
    }

    fn flag(self) -> Option<&'static str> {
        match self {
            Column::Enforced(e) => e.flag(),
            Column::Audit => None,
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Enforced(e) => e.fmt(f),
            Column::Audit => f.write_str("audit mode"),
        }
    }
}

const OUTPUT: &str = "ran with 0 arguments\n";

/// A program and a module at once: `#!PERL`, a line of output, a true value.
fn file_text(perl: &Path) -> String {
    format!(
        "#!{}\nprint \"ran with \", scalar(@ARGV), \" arguments\\n\";\n1;\n",
        perl.display()
    )
}

/// How perl fails to load `file` as a module in `main` (its line `line`)
/// when it cannot read it: `require` and `use` die with perl's message,
/// whose status is `$!`, EACCES; `do` returns undef with `$!` set.
fn unreadable(invocation: Invocation, file: &Path, main: &Path) -> Outcome {
    let eacces = libc::EACCES;
    let module = format!("{}.pm", module_name(file));
    let (stdout, stderr) = match invocation {
        Require => (
            String::new(),
            format!(
                "{} at {} line 1.\n",
                cannot_locate(&file.display().to_string(), file, eacces),
                main.display()
            ),
        ),
        Use => (
            String::new(),
            format!(
                "{} at {main} line 2.\nBEGIN failed--compilation aborted at {main} line 2.\n",
                cannot_locate(&module, file, eacces),
                main = main.display()
            ),
        ),
        Do => (format!("do: {}\n", strerror(eacces)), String::new()),
        DashM | Perl5Opt => (
            String::new(),
            format!(
                "{}.\nBEGIN failed--compilation aborted.\n",
                cannot_locate(&module, file, eacces)
            ),
        ),
        _ => unreachable!("{invocation} loads no module"),
    };
    Outcome {
        exit: Exit::Code(if invocation == Do { 0 } else { eacces }),
        stdout,
        stderr,
    }
}

/// What `invocation` of `file` in `place` gives under `column`.
fn expected(
    invocation: Invocation,
    column: Column,
    place: Place,
    file: &Path,
    main: Option<&Path>,
) -> Outcome {
    let eacces = libc::EACCES;
    match invocation {
        Direct if place == Place::Exec755 => Outcome::ran(OUTPUT),
        // The kernel refuses `execve` of the file itself: no perl starts.
        Direct => match column.flag() {
            // `mayexec run` reports the failed execve as a shell does.
            Some(_) => Outcome {
                exit: Exit::Code(126),
                stdout: String::new(),
                stderr: format!(
                    "mayexec: {}: {}\n",
                    file.display(),
                    std::io::Error::from_raw_os_error(eacces)
                ),
            },
            None => Outcome {
                exit: Exit::NotStarted(eacces),
                stdout: String::new(),
                stderr: std::io::Error::from_raw_os_error(eacces).to_string(),
            },
        },
        Script | DashX => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(reason) => Outcome::refused(denial(file, reason)),
        },
        // perl's own PATH search for -S takes only executable files: a
        // 0644 one is "Can't execute" whatever the policy, as with the
        // system's perl (its status is a stale errno).
        DashS if place == Place::Exec644 => {
            let stock = DashS.run(Path::new(STOCK_PERL), file, file, &plain);
            assert_eq!(
                (stock.stdout.as_str(), stock.stderr.clone()),
                ("", format!("Can't execute {}.\n", file.display())),
                "{STOCK_PERL} -S"
            );
            assert_ne!(stock.exit, Exit::Code(0));
            stock
        }
        // -S finds the file in PATH; the message names what it found.
        DashS => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(reason) => Outcome::refused(denial(file, reason)),
        },
        Stdin => match place.full_check() {
            Some(reason) if column.denies_interactive() => {
                Outcome::refused(denial("<stdin>", reason))
            }
            _ => Outcome::ran(OUTPUT),
        },
        Pipe if column.denies_interactive() => {
            Outcome::refused(denial("<stdin>", "not-regular-file"))
        }
        DashE if column.denies_interactive() => Outcome::refused(denial("-e", "interactive")),
        Pipe | DashE => Outcome::ran(OUTPUT),
        Require | Use | Do | DashM | Perl5Opt => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(_) => unreadable(invocation, file, main.expect("a main program")),
        },
    }
}

/// In a sandbox the program is started by the sandbox's shell, which
/// reports the failed `execve` itself: `sandbox: LINE: exec: FILE:
/// Permission denied`, status 126.
fn sandbox_refused_execve(got: &Outcome, want: &Outcome, file: &Path) -> bool {
    want.exit == Exit::NotStarted(libc::EACCES)
        && got.exit == Exit::Code(126)
        && got.stdout.is_empty()
        && got.stderr.starts_with("sandbox: ")
        && got
            .stderr
            .ends_with(&format!(": exec: {}: Permission denied\n", file.display()))
}

struct Fixture {
    places: Places,
    files: Vec<(Place, PathBuf)>,
}

fn fixture(perl: &Path) -> Fixture {
    let places = Places::new();
    let text = file_text(perl);
    let files = Place::ALL
        .into_iter()
        .map(|place| (place, places.write(place, &format!("{place:?}.pm"), &text)))
        .collect();
    Fixture { places, files }
}

impl Fixture {
    fn exec_dir(&self) -> &Path {
        self.places.mount(Place::Exec755)
    }
}

fn plain(program: &OsStr) -> Command {
    Command::new(program)
}

on_both_backends! {
    /// Every row, with the kernel's check and with the emulated one (the
    /// kernel check hidden by a seccomp filter). A direct execution is the
    /// kernel's `execve` alone, whatever the backend: those rows run once.
    fn every_row_of_the_behaviour_table_holds(backend) {
        let Some(perl) = require_root_and_perl("every_row_of_the_behaviour_table_holds") else {
            return;
        };
        let fixture = fixture(&perl);
        let mut failures = Vec::new();
        let mut rows = 0;
        for column in Column::ALL {
            let sandbox = column.sandbox();
            let outer = |program: &OsStr| match &sandbox {
                Some(sandbox) => sandbox.command(program),
                None => Command::new(program),
            };
            let make = backend.launcher(&outer);
            let launch = |program: &OsStr| match column {
                Column::Enforced(e) => e.command_with(program, &make),
                Column::Audit => make(program),
            };
            for invocation in Invocation::ALL {
                if invocation == Direct && backend == Backend::Emulated {
                    continue;
                }
                for (place, file) in &fixture.files {
                    let got = invocation.run(&perl, file, fixture.exec_dir(), &launch);
                    let main = invocation.main_program(file, fixture.exec_dir());
                    let want = expected(invocation, column, *place, file, main.as_deref());
                    rows += 1;
                    if got != want && !sandbox_refused_execve(&got, &want, file) {
                        failures.push(format!(
                            "{invocation} | {place:?} | {column} | {backend:?}:\n    want {want}\n    got  {got}"
                        ));
                    }
                }
            }
        }
        assert_eq!(rows, if backend == Backend::Kernel { 288 } else { 264 });
        assert!(
            failures.is_empty(),
            "{} of {rows} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Without a policy the enlightened perl does what the system's perl does,
/// in every row — including code on noexec mounts and without x bits.
#[root_test]
fn without_a_policy_every_row_matches_the_systems_perl() {
    let Some(perl) = require_root_and_perl("without_a_policy_every_row_matches_the_systems_perl")
    else {
        return;
    };
    let fixture = fixture(&perl);
    for invocation in Invocation::ALL {
        if invocation == Direct {
            // The kernel, not perl, decides `./file`.
            continue;
        }
        for (place, file) in &fixture.files {
            let ours = invocation.run(&perl, file, fixture.exec_dir(), &plain);
            let stock = invocation.run(Path::new(STOCK_PERL), file, fixture.exec_dir(), &plain);
            assert_eq!(ours, stock, "{invocation} | {place:?}");
            if !(invocation == DashS && *place == Place::Exec644) {
                assert_eq!(ours.stdout, OUTPUT, "{invocation} | {place:?}");
            }
        }
    }
}

/// The headline: the securebit makes the enlightened perl refuse a
/// program on a noexec mount, which the system's perl still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_program_that_the_systems_perl_runs() {
    let Some(perl) =
        require_root_and_perl("mayexec_run_f_refuses_a_noexec_program_that_the_systems_perl_runs")
    else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let noexec = Tmpfs::noexec();
    let program = noexec.write("x.pl", "print \"hello from x.pl\\n\";\n", 0o755);

    let ours = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--"])
            .arg(&perl)
            .arg(&program),
    );
    assert_eq!(ours.exit, Exit::Code(126), "{ours}");
    assert_eq!(ours.stdout, "");
    assert_eq!(ours.stderr, denial(&program, "noexec-mount"));

    let stock = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--", STOCK_PERL])
            .arg(&program),
    );
    assert_eq!(stock, Outcome::ran("hello from x.pl\n"));
}
