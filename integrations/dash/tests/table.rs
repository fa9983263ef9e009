//! The behaviour table of the enlightened dash (docs/dash.md): every way a
//! script reaches the shell × every exec securebit setting × where the
//! script lives, on real tmpfs mounts, as root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_dash::{
    denial, require_root_and_dash, Enforced, Exit, Invocation, Outcome, STOCK_DASH,
};
use mayexec_testkit::interp::{Backend, Place, Places};
use mayexec_testkit::on_both_backends;
use mayexec_testkit::{root_test, workspace_bin, Tmpfs};

/// What should happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The script runs: status 0, its output, nothing on stderr.
    Ran,
    /// The shell refuses it: status 126, `dash: LABEL: script execution
    /// denied (REASON)`.
    Denied(&'static str),
    /// The kernel refuses `execve` of the script itself (EACCES): no shell
    /// starts.
    ExecveFails,
}

use Expect::{Denied, ExecveFails, Ran};
use Invocation::{DashC, Direct, Pipe, Script, Stdin};
use Place::{Exec644, Exec755, Noexec as Noexec755};

/// Columns: no policy, `mayexec run -f`, `-i`, `-fi`.
const TABLE: [(Invocation, Place, [Expect; 4]); 15] = [
    (Direct, Exec755, [Ran, Ran, Ran, Ran]),
    (Direct, Exec644, [ExecveFails; 4]),
    (Direct, Noexec755, [ExecveFails; 4]),
    (Script, Exec755, [Ran, Ran, Ran, Ran]),
    (
        Script,
        Exec644,
        [Ran, Denied("not-executable"), Ran, Denied("not-executable")],
    ),
    (
        Script,
        Noexec755,
        [Ran, Denied("noexec-mount"), Ran, Denied("noexec-mount")],
    ),
    (Stdin, Exec755, [Ran, Ran, Ran, Ran]),
    (
        Stdin,
        Exec644,
        [Ran, Ran, Denied("not-executable"), Denied("not-executable")],
    ),
    (
        Stdin,
        Noexec755,
        [Ran, Ran, Denied("noexec-mount"), Denied("noexec-mount")],
    ),
    (
        Pipe,
        Exec755,
        [
            Ran,
            Ran,
            Denied("not-regular-file"),
            Denied("not-regular-file"),
        ],
    ),
    (
        Pipe,
        Exec644,
        [
            Ran,
            Ran,
            Denied("not-regular-file"),
            Denied("not-regular-file"),
        ],
    ),
    (
        Pipe,
        Noexec755,
        [
            Ran,
            Ran,
            Denied("not-regular-file"),
            Denied("not-regular-file"),
        ],
    ),
    (
        DashC,
        Exec755,
        [Ran, Ran, Denied("interactive"), Denied("interactive")],
    ),
    (
        DashC,
        Exec644,
        [Ran, Ran, Denied("interactive"), Denied("interactive")],
    ),
    (
        DashC,
        Noexec755,
        [Ran, Ran, Denied("interactive"), Denied("interactive")],
    ),
];

const OUTPUT: &str = "ran with 0 arguments\n";

fn script_text(dash: &Path) -> String {
    format!("#!{}\necho \"ran with $# arguments\"\n", dash.display())
}

fn expected(expect: Expect, invocation: Invocation, bits: Enforced, script: &Path) -> Outcome {
    match expect {
        Ran => Outcome::ran(OUTPUT),
        Denied(reason) => {
            let label: &OsStr = match invocation {
                Direct | Script => script.as_os_str(),
                Stdin | Pipe => OsStr::new("<stdin>"),
                DashC => OsStr::new("-c"),
            };
            Outcome::refused(denial(label, reason))
        }
        ExecveFails => match bits {
            Enforced::Nothing => Outcome {
                exit: Exit::NotStarted(libc::EACCES),
                stdout: String::new(),
                stderr: std::io::Error::from_raw_os_error(libc::EACCES).to_string(),
            },
            // `mayexec run` reports the failed execve as a shell does.
            _ => Outcome {
                exit: Exit::Code(126),
                stdout: String::new(),
                stderr: format!(
                    "mayexec: {}: {}\n",
                    script.display(),
                    std::io::Error::from_raw_os_error(libc::EACCES)
                ),
            },
        },
    }
}

struct Fixture {
    _places: Places,
    scripts: Vec<(Place, PathBuf)>,
}

fn fixture(dash: &Path) -> Fixture {
    let places = Places::new();
    let text = script_text(dash);
    let scripts = Place::ALL
        .into_iter()
        .map(|place| (place, places.write(place, &format!("{place:?}.sh"), &text)))
        .collect();
    Fixture {
        _places: places,
        scripts,
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
        let Some(dash) = require_root_and_dash("every_row_of_the_behaviour_table_holds") else {
            return;
        };
        let fixture = fixture(&dash);
        let mut failures = Vec::new();
        let mut rows = 0;
        for (invocation, place, expects) in TABLE {
            if invocation == Direct && backend == Backend::Emulated {
                continue;
            }
            let script = &fixture
                .scripts
                .iter()
                .find(|(p, _)| *p == place)
                .expect("a script for every place")
                .1;
            for (bits, expect) in Enforced::BITS.into_iter().zip(expects) {
                let make = backend.launcher(&plain);
                let launch = |program: &OsStr| bits.command_with(program, &make);
                let got = invocation.run(&dash, script, &launch);
                let want = expected(expect, invocation, bits, script);
                rows += 1;
                if got != want {
                    failures.push(format!(
                        "{invocation} | {place:?} | {bits} | {backend:?}:\n    want {want}\n    got  {got}"
                    ));
                }
            }
        }
        assert_eq!(rows, if backend == Backend::Kernel { 60 } else { 48 });
        assert!(
            failures.is_empty(),
            "{} of {rows} rows differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Without a policy the enlightened dash does what stock dash does, in
/// every row — including scripts on noexec mounts and without x bits.
#[root_test]
fn without_a_policy_every_row_matches_stock_dash() {
    let Some(dash) = require_root_and_dash("without_a_policy_every_row_matches_stock_dash") else {
        return;
    };
    let fixture = fixture(&dash);
    for invocation in Invocation::ALL {
        if invocation == Direct {
            // The kernel, not the shell, decides `./script`.
            continue;
        }
        for (place, script) in &fixture.scripts {
            let ours = invocation.run(&dash, script, &plain);
            let stock = invocation.run(Path::new(STOCK_DASH), script, &plain);
            assert_eq!(ours, stock, "{invocation} | {place:?}");
            assert_eq!(ours.stdout, OUTPUT, "{invocation} | {place:?}");
        }
    }
}

/// The headline: the securebit makes the enlightened dash refuse a
/// script on a noexec mount, which stock dash still runs.
#[root_test]
fn mayexec_run_f_refuses_a_noexec_script_that_stock_dash_runs() {
    let Some(dash) =
        require_root_and_dash("mayexec_run_f_refuses_a_noexec_script_that_stock_dash_runs")
    else {
        return;
    };
    let mayexec = workspace_bin("mayexec");
    let noexec = Tmpfs::noexec();
    let script = noexec.write("x.sh", "echo hello from x.sh\n", 0o755);

    let ours = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--"])
            .arg(&dash)
            .arg(&script),
    );
    assert_eq!(ours.exit, Exit::Code(126), "{ours}");
    assert_eq!(ours.stdout, "");
    assert_eq!(ours.stderr, denial(&script, "noexec-mount"));

    let stock = Outcome::of(
        Command::new(&mayexec)
            .args(["run", "-f", "--", STOCK_DASH])
            .arg(&script),
    );
    assert_eq!(stock.exit, Exit::Code(0), "{stock}");
    assert_eq!(stock.stdout, "hello from x.sh\n");
}
