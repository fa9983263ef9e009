//! The behaviour table of the enlightened bash (docs/bash.md): every way
//! code reaches the shell × every enforcement (no policy, the exec
//! securebits, system policy levels 1–3, audit mode) × where the code
//! lives, on real tmpfs mounts, as root, with the kernel's check and the
//! emulated one.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_bash::{
    cannot_open, denial, require_root_and_bash, Enforced, Exit, Invocation, Outcome, STOCK_BASH,
};
use mayexec_testkit::interp::{Backend, Place, Places};
use mayexec_testkit::on_both_backends;
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};

use Invocation::{BashC, BashEnv, Direct, Pipe, Script, Source, Stdin};

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

fn script_text(bash: &Path) -> String {
    format!("#!{}\necho \"ran with $# arguments\"\n", bash.display())
}

/// What `invocation` of `script` in `place` gives under `column`.
fn expected(
    invocation: Invocation,
    column: Column,
    place: Place,
    script: &Path,
    main: Option<&Path>,
) -> Outcome {
    let eacces = libc::EACCES;
    match invocation {
        Direct if place == Place::Exec755 => Outcome::ran(OUTPUT),
        // The kernel refuses `execve` of the script itself: no shell starts.
        Direct => match column.flag() {
            // `mayexec run` reports the failed execve as a shell does.
            Some(_) => Outcome {
                exit: Exit::Code(126),
                stdout: String::new(),
                stderr: format!(
                    "mayexec: {}: {}\n",
                    script.display(),
                    std::io::Error::from_raw_os_error(eacces)
                ),
            },
            None => Outcome {
                exit: Exit::NotStarted(eacces),
                stdout: String::new(),
                stderr: std::io::Error::from_raw_os_error(eacces).to_string(),
            },
        },
        Script => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(reason) => Outcome::refused(denial(script, reason)),
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
        BashC if column.denies_interactive() => Outcome::refused(denial("-c", "interactive")),
        Pipe | BashC => Outcome::ran(OUTPUT),
        // A denied sourced file fails as one bash cannot read: `.` returns
        // 1, the script goes on (bash is not in posix mode).
        Source => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(_) => Outcome {
                exit: Exit::Code(1),
                stdout: String::new(),
                stderr: cannot_open(main.expect("a main script"), Some(1), script, eacces),
            },
        },
        // A denied BASH_ENV file is reported as an unreadable one; the
        // script runs.
        BashEnv => match column.script_denial(place) {
            None => Outcome::ran(OUTPUT),
            Some(_) => Outcome {
                exit: Exit::Code(0),
                stdout: String::new(),
                stderr: cannot_open(main.expect("a main script"), None, script, eacces),
            },
        },
    }
}

/// In a sandbox the program is started by the sandbox's shell, which
/// reports the failed `execve` itself: `sandbox: LINE: exec: SCRIPT:
/// Permission denied`, status 126.
fn sandbox_refused_execve(got: &Outcome, want: &Outcome, script: &Path) -> bool {
    want.exit == Exit::NotStarted(libc::EACCES)
        && got.exit == Exit::Code(126)
        && got.stdout.is_empty()
        && got.stderr.starts_with("sandbox: ")
        && got.stderr.ends_with(&format!(
            ": exec: {}: Permission denied\n",
            script.display()
        ))
}

struct Fixture {
    places: Places,
    scripts: Vec<(Place, PathBuf)>,
}

fn fixture(bash: &Path) -> Fixture {
    let places = Places::new();
    let text = script_text(bash);
    let scripts = Place::ALL
        .into_iter()
        .map(|place| (place, places.write(place, &format!("{place:?}.sh"), &text)))
        .collect();
    Fixture { places, scripts }
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
        let Some(bash) = require_root_and_bash("every_row_of_the_behaviour_table_holds") else {
            return;
        };
        let fixture = fixture(&bash);
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
                for (place, script) in &fixture.scripts {
                    let got = invocation.run(&bash, script, fixture.exec_dir(), &launch);
                    let main = invocation.main_script(script, fixture.exec_dir());
                    let want = expected(invocation, column, *place, script, main.as_deref());
                    rows += 1;
                    if got != want && !sandbox_refused_execve(&got, &want, script) {
                        failures.push(format!(
                            "{invocation} | {place:?} | {column} | {backend:?}:\n    want {want}\n    got  {got}"
                        ));
                    }
                }
            }
        }
        assert_eq!(rows, if backend == Backend::Kernel { 168 } else { 144 });
        assert!(
            failures.is_empty(),
            "{} of {rows} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Without a policy the enlightened bash does what stock bash does, in
/// every row — including code on noexec mounts and without x bits.
#[root_test]
fn without_a_policy_every_row_matches_stock_bash() {
    let Some(bash) = require_root_and_bash("without_a_policy_every_row_matches_stock_bash") else {
        return;
    };
    let fixture = fixture(&bash);
    for invocation in Invocation::ALL {
        if invocation == Direct {
            // The kernel, not the shell, decides `./script`.
            continue;
        }
        for (place, script) in &fixture.scripts {
            let ours = invocation.run(&bash, script, fixture.exec_dir(), &plain);
            let stock = invocation.run(Path::new(STOCK_BASH), script, fixture.exec_dir(), &plain);
            assert_eq!(ours, stock, "{invocation} | {place:?}");
            assert_eq!(ours.stdout, OUTPUT, "{invocation} | {place:?}");
        }
    }
}

/// The headline: the securebit makes the enlightened bash refuse a
/// script on a noexec mount, which stock bash still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_script_that_stock_bash_runs() {
    let Some(bash) =
        require_root_and_bash("mayexec_run_f_refuses_a_noexec_script_that_stock_bash_runs")
    else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let noexec = Tmpfs::noexec();
    let script = noexec.write("x.sh", "echo hello from x.sh\n", 0o755);

    let ours = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--"])
            .arg(&bash)
            .arg(&script),
    );
    assert_eq!(ours.exit, Exit::Code(126), "{ours}");
    assert_eq!(ours.stdout, "");
    assert_eq!(ours.stderr, denial(&script, "noexec-mount"));

    let stock = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--", STOCK_BASH])
            .arg(&script),
    );
    assert_eq!(stock.exit, Exit::Code(0), "{stock}");
    assert_eq!(stock.stdout, "hello from x.sh\n");
}
