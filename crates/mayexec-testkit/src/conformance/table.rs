//! The behaviour table: every way in × every enforcement × every place,
//! on real tmpfs mounts, as root, with the kernel's check and with the
//! emulated one; the stock interpreter's rows; and the headline.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use super::{execve_refused, unreadable, Column, Fixture, Interpreter, Way, RAN};
use crate::interp::{Backend, Exit, Outcome, Place};
use crate::{Sandbox, Tmpfs};

/// What `way` of the file in `place` gives under `column`; `None` for
/// `./file` refused by the kernel, which [`execve_refused`] judges.
/// `loaded(denied)` is what a loader gives: as the stock interpreter,
/// which reads the file, or fails on a copy it cannot read ([`unreadable`]).
fn expected(
    interp: &Interpreter,
    way: Way,
    column: Column,
    place: Place,
    file: &Path,
    loaded: &dyn Fn(bool) -> Outcome,
    stock_not_executable: &dyn Fn() -> Outcome,
) -> Option<Outcome> {
    let ran = Outcome::ran(RAN);
    let refused = |label: &OsStr, reason: &str| Outcome::refused(interp.denial(label, reason));
    Some(match way {
        Way::Direct if place == Place::Exec755 => ran,
        Way::Direct => return None,
        Way::File(file_way) if file_way.not_executable.is_some() && place == Place::Exec644 => {
            stock_not_executable()
        }
        Way::File(_) => match column.file_denial(place) {
            None => ran,
            Some(reason) => refused(file.as_os_str(), reason),
        },
        Way::Stdin => match place.full_check() {
            Some(reason) if column.denies_interactive() => refused("<stdin>".as_ref(), reason),
            _ => ran,
        },
        Way::Pipe if column.denies_interactive() => refused("<stdin>".as_ref(), "not-regular-file"),
        Way::Text if column.denies_interactive() => {
            refused(interp.text_flag.as_ref(), "interactive")
        }
        Way::Pipe | Way::Text => ran,
        Way::Load(loader) if loader.interactive && column.denies_interactive() => {
            refused("<stdin>".as_ref(), "interactive")
        }
        Way::Load(_) => loaded(column.file_denial(place).is_some()),
    })
}

/// The table for `interp` with `backend`: panics with every cell that
/// differs; returns the number of cells.
pub fn every_row(interp: &Interpreter, backend: Backend) -> usize {
    let test = "every_row_of_the_behaviour_table_holds";
    let Some((ours, stock)) = interp.require_both(test) else {
        return 0;
    };
    let fixture = Fixture::new(interp, &ours);
    let ways = interp.ways();
    // What a loader gives, allowed and refused, and the stock
    // interpreter's refusal of a 0644 file its own search wants
    // executable: from the stock interpreter, once per cell kind.
    let mut loads = Vec::new();
    let mut not_executable = Vec::new();
    for (w, way) in ways.iter().enumerate() {
        match way {
            Way::Load(loader) => {
                for place in Place::ALL {
                    let got = fixture.run(interp, &stock, *way, place, &|p| Command::new(p));
                    let got = super::as_if(&got, &stock, &ours);
                    assert_eq!(got.stdout, loader.ran, "the stock {}", loader.name);
                    loads.push((w, place, false, got));
                }
                for place in [Place::Exec644, Place::Noexec] {
                    let got = unreadable(interp, &stock, &ours, &fixture, *way, place);
                    assert_ne!(got.stdout, loader.ran, "{got}");
                    loads.push((w, place, true, got));
                }
            }
            Way::File(file_way) => {
                if let Some(message) = file_way.not_executable {
                    let file = fixture.file(Place::Exec644);
                    let got =
                        fixture.run(interp, &stock, *way, Place::Exec644, &|p| Command::new(p));
                    assert_eq!(
                        (got.stdout.as_str(), got.stderr.clone()),
                        ("", message(file)),
                        "the stock {} {}",
                        interp.name,
                        way.name(interp)
                    );
                    assert_ne!(got.exit, Exit::Code(0));
                    not_executable.push((w, got));
                }
            }
            _ => {}
        }
    }
    let mut failures = Vec::new();
    let mut cells = 0;
    for column in Column::ALL {
        let sandbox = column.policy().map(|policy| Sandbox::new().policy(&policy));
        let outer = |program: &OsStr| match &sandbox {
            Some(sandbox) => sandbox.command(program),
            None => Command::new(program),
        };
        let make = backend.launcher(&outer);
        let launch = |program: &OsStr| match column {
            Column::Enforced(e) => e.command_with(program, &make),
            Column::DenyInteractive | Column::Audit => make(program),
        };
        for (w, way) in ways.iter().enumerate() {
            if matches!(way, Way::Direct) && backend == Backend::Emulated {
                // `./file` is the kernel's execve alone, whatever the backend.
                continue;
            }
            for place in Place::ALL {
                let file = fixture.file(place);
                let got = fixture.run(interp, &ours, *way, place, &launch);
                let loaded = |denied: bool| {
                    loads
                        .iter()
                        .find(|(v, p, d, _)| *v == w && *p == place && *d == denied)
                        .expect("computed above")
                        .3
                        .clone()
                };
                let stock_not_executable = || {
                    not_executable
                        .iter()
                        .find(|(v, _)| *v == w)
                        .expect("computed above")
                        .1
                        .clone()
                };
                let fault = match expected(
                    interp,
                    *way,
                    column,
                    place,
                    file,
                    &loaded,
                    &stock_not_executable,
                ) {
                    Some(want) => (got != want).then(|| format!("{want}")),
                    None => execve_refused(&got, column, file),
                };
                cells += 1;
                if let Some(want) = fault {
                    failures.push(format!(
                        "{} | {place:?} | {column} | {backend:?}:\n    want {want}\n    got  {got}",
                        way.name(interp)
                    ));
                }
            }
        }
    }
    let direct = if backend == Backend::Kernel { 1 } else { 0 };
    assert_eq!(
        cells,
        (ways.len() - 1 + direct) * Column::ALL.len() * Place::ALL.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{}: {cells} cells with the {backend:?} backend",
        interp.name
    );
    cells
}

/// Without a policy the enlightened interpreter does what the stock one
/// does, in every row — code on noexec mounts and without x bits too.
pub fn without_a_policy_every_row_matches_the_stock_interpreter(interp: &Interpreter, test: &str) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let fixture = Fixture::new(interp, &ours);
    let plain = |p: &OsStr| Command::new(p);
    let mut cells = 0;
    for way in interp.ways() {
        if matches!(way, Way::Direct) {
            // The kernel, not the interpreter, decides `./file`.
            continue;
        }
        for place in Place::ALL {
            let got = fixture.run(interp, &ours, way, place, &plain);
            let theirs = fixture.run(interp, &stock, way, place, &plain);
            let name = way.name(interp);
            assert_eq!(
                super::as_if(&got, &ours, &stock),
                theirs,
                "{name} | {place:?}"
            );
            let needs_x = matches!(way, Way::File(f) if f.not_executable.is_some());
            if !(needs_x && place == Place::Exec644) {
                let ran = way.loader().map_or(RAN, |l| l.ran);
                assert_eq!(got.stdout, ran, "{name} | {place:?}: {got}");
                assert_eq!(got.exit, Exit::Code(0), "{name} | {place:?}: {got}");
            }
            cells += 1;
        }
    }
    eprintln!(
        "{}: {cells} rows compared with the stock interpreter",
        interp.name
    );
}

/// The headline: `mayexec run -f` makes the enlightened interpreter refuse
/// a file on a noexec mount, which the stock one still runs.
pub fn mayexec_run_f_refuses_a_noexec_file_that_the_stock_interpreter_runs(
    interp: &Interpreter,
    test: &str,
) {
    let Some((ours, stock)) = interp.require_both(test) else {
        return;
    };
    let noexec = Tmpfs::noexec();
    let file = noexec.write(
        format!("x.{}", interp.extension),
        (interp.print)("hello from x"),
        0o755,
    );
    let got = Outcome::of(interp.under("-f", &ours).arg(&file));
    assert_eq!(got, Outcome::refused(interp.denial(&file, "noexec-mount")));
    let theirs = Outcome::of(interp.under("-f", &stock).arg(&file));
    assert_eq!(
        theirs,
        Outcome::ran("hello from x\n"),
        "{}",
        stock.display()
    );
}
