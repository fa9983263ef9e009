//! Code from no file, the ways CPython and its standard library take it:
//! each way in through the contract's whole matrix
//! ([`mayexec_testkit::nofile`]), and the guards of the inventory in
//! `docs/deployment.md` (every option, environment variable and standard
//! library entry point of the Python under test is in its tables, and every
//! entry point the tables call refused is refused).
//!
//! The interpreter runs with `PYTHONHOME` on a copy of the standard library
//! marked executable, so that it starts under `mayexec run -f` too (the
//! machine's is mode 0644), and with the embedded libpython copied there
//! for `nobody`, who cannot read pyenv's.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use mayexec_testkit::interp::{denial, Exit, Outcome};
use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
use mayexec_testkit::{root_test, Tmpfs};

/// The marker the code writes, spelt apart in the code itself so that
/// only running it prints it whole.
const MARKER: &str = "INJECTED";
const PRINT_MARKER: &str = "print('INJ' + 'ECTED')";

/// What the vectors need: the executable standard library, and a
/// directory on an exec tmpfs readable by everyone for their files and
/// as the working directory.
struct Fixture {
    home: ExecutableHome,
    files: Tmpfs,
}

impl Fixture {
    fn new() -> Fixture {
        let files = Tmpfs::exec();
        fs::set_permissions(files.path(), fs::Permissions::from_mode(0o755)).unwrap();
        Fixture {
            home: ExecutableHome::new(),
            files,
        }
    }

    /// A file among the vectors' files.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        self.files.write(name, contents, mode)
    }

    /// The standard library the interpreter runs with.
    fn stdlib(&self) -> PathBuf {
        self.home.path().join(stdlib_subdir())
    }

    /// A way in, run by mayexec-python with this fixture's environment.
    fn vector(&self, what: &str) -> CodeFromNoFile {
        CodeFromNoFile::new(what, mayexec_python())
            .env("PYTHONHOME", self.home.path())
            .env("LD_LIBRARY_PATH", self.home.library_path())
            .current_dir(self.files.path())
            .marker(MARKER)
    }
}

/// `-m NAME` as the audit line writes it (the space escaped).
fn module_label(name: &str) -> String {
    format!("-m\\x20{name}")
}

/// The refusal of a whole run: `mayexec-python: LABEL: script execution
/// denied (interactive)`, 126.
fn refused(label: &str) -> Refusal {
    Refusal::Whole(denial("mayexec-python", label, "interactive"))
}

/// The minor version under test (11 for 3.11).
fn minor() -> u32 {
    PYTHON_VERSION
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .expect("a 3.X version")
}

#[root_test]
fn timeit_runs_no_statement_from_its_arguments() {
    let f = Fixture::new();
    f.vector("-m timeit STMT")
        .args(["-m", "timeit", "-n1", "-r1", PRINT_MARKER])
        .label(module_label("timeit"))
        .refusal(refused("-m timeit"))
        .assert_contract();
    f.vector("-m timeit -s SETUP")
        .args(["-m", "timeit", "-n1", "-r1", "-s", PRINT_MARKER, "pass"])
        .label(module_label("timeit"))
        .refusal(refused("-m timeit"))
        .assert_contract();
}

#[root_test]
fn pdb_runs_no_command_from_its_arguments_nor_its_prompt() {
    let f = Fixture::new();
    let script = f.write("quiet.py", "x = 1\n", 0o755);
    f.vector("-m pdb -c COMMANDS")
        .args(["-m", "pdb", "-c", &format!("!{PRINT_MARKER}"), "-c", "q"])
        .args([&script])
        .label(module_label("pdb"))
        .refusal(refused("-m pdb"))
        .assert_contract();
    f.vector("-m pdb's prompt")
        .args(["-m", "pdb"])
        .args([&script])
        .stdin(format!("!{PRINT_MARKER}\nq\n"))
        .label(module_label("pdb"))
        .refusal(refused("-m pdb"))
        .assert_contract();
}

#[root_test]
fn the_prompts_of_the_standard_library_are_refused() {
    let f = Fixture::new();
    let mut prompts = vec!["code", "asyncio"];
    if minor() >= 13 {
        prompts.push("_pyrepl");
    }
    for module in prompts {
        f.vector(&format!("-m {module}"))
            .args(["-m", module])
            .stdin(format!("{PRINT_MARKER}\n"))
            .label(module_label(module))
            .refusal(refused(&format!("-m {module}")))
            .assert_contract();
    }
}

#[root_test]
fn sqlite3_runs_no_sql_from_its_arguments() {
    if minor() < 12 {
        eprintln!("skipped: sqlite3 has a command line from 3.12 on");
        return;
    }
    let f = Fixture::new();
    f.vector("-m sqlite3 DB SQL")
        .args(["-m", "sqlite3", ":memory:", "select 'INJ' || 'ECTED'"])
        .label(module_label("sqlite3"))
        .refusal(refused("-m sqlite3"))
        .assert_contract();
}

#[root_test]
fn files_run_without_the_open_code_hook_are_refused() {
    let f = Fixture::new();
    // doctest reads a text file with open() and runs its examples (the
    // marker goes to stderr: doctest captures stdout).
    let text = f.write(
        "examples.txt",
        ">>> import sys; n = sys.stderr.write('INJ' + 'ECTED\\n')\n",
        0o644,
    );
    f.vector("-m doctest FILE")
        .args(["-m", "doctest"])
        .args([&text])
        .label(module_label("doctest"))
        .refusal(refused("-m doctest"))
        .assert_contract();
    // A pickle calls what it names: print('INJECTED').
    let pickle = f.write("data.pickle", "cbuiltins\nprint\n(VINJECTED\ntR.", 0o644);
    f.vector("-m pickle FILE")
        .args(["-m", "pickle"])
        .args([&pickle])
        .label(module_label("pickle"))
        .refusal(refused("-m pickle"))
        .assert_contract();
    // trace unpickles its counts file.
    f.vector("-m trace --report --file FILE")
        .args(["-m", "trace", "--report", "--file"])
        .args([&pickle])
        .label(module_label("trace"))
        .refusal(refused("-m trace"))
        .assert_contract();
}

#[root_test]
fn unittest_calls_no_callable_its_arguments_name() {
    let f = Fixture::new();
    f.vector("-m unittest code.interact")
        .args(["-m", "unittest", "code.interact"])
        .stdin(format!("{PRINT_MARKER}\n"))
        .label(module_label("unittest"))
        .refusal(refused("-m unittest"))
        .assert_contract();
}

/// Runners that run a module or a file as the main program: the refusal
/// holds through them (it is made where the code is run).
#[root_test]
fn the_refusal_holds_through_every_runner() {
    let f = Fixture::new();
    // runpy's own command line: the refused module is the main program.
    f.vector("-m runpy timeit STMT")
        .args(["-m", "runpy", "timeit", "-n1", "-r1", PRINT_MARKER])
        .label(module_label("timeit"))
        .refusal(refused("-m timeit"))
        .assert_contract();
    // Profilers run it inside their own main: the PermissionError goes
    // through them.
    let error = "PermissionError: [Errno 13] script execution denied (interactive): '-m timeit'";
    f.vector("-m cProfile -m timeit STMT")
        .args(["-m", "cProfile", "-m", "timeit", "-n1", "-r1", PRINT_MARKER])
        .label(module_label("timeit"))
        .refusal(Refusal::Fails(1, error.into()))
        .assert_contract();
    let timeit = f.stdlib().join("timeit.py");
    f.vector("-m cProfile STDLIB/timeit.py STMT")
        .args(["-m", "cProfile"])
        .args([&timeit])
        .args(["-n1", "-r1", PRINT_MARKER])
        .label(module_label("timeit"))
        .refusal(Refusal::Fails(1, error.into()))
        .assert_contract();
    // The pure-Python profiler of 3.12 fails its own assertion ("Bad
    // call") under a script policy, where a C method of mayexec-python's
    // calls back into the import system: not this vector's business.
    if minor() != 12 {
        f.vector("-m profile -m code")
            .args(["-m", "profile", "-m", "code"])
            .stdin(format!("{PRINT_MARKER}\n"))
            .label(module_label("code"))
            .refusal(Refusal::Fails(
                1,
                "PermissionError: [Errno 13] script execution denied (interactive): '-m code'"
                    .into(),
            ))
            .assert_contract();
    }
    // trace and pdb are refused themselves.
    f.vector("-m trace --trace --module timeit STMT")
        .args([
            "-m",
            "trace",
            "--trace",
            "--module",
            "timeit",
            "-n1",
            "-r1",
            PRINT_MARKER,
        ])
        .label(module_label("trace"))
        .refusal(refused("-m trace"))
        .assert_contract();
    f.vector("-m pdb -m code")
        .args(["-m", "pdb", "-c", "c", "-m", "code"])
        .stdin(format!("{PRINT_MARKER}\n"))
        .label(module_label("pdb"))
        .refusal(refused("-m pdb"))
        .assert_contract();
}

/// The entry point's file run as a script, by any name: its path, a
/// symbolic link to it, its cached bytecode.
#[root_test]
fn an_entry_point_is_known_by_its_file_not_its_name() {
    let f = Fixture::new();
    let timeit = f.stdlib().join("timeit.py");
    let link = f.files.path().join("harmless.py");
    std::os::unix::fs::symlink(&timeit, &link).unwrap();
    let cached = f
        .stdlib()
        .join("__pycache__")
        .join(format!("timeit.{}.pyc", cache_tag()));
    assert!(cached.exists(), "{} is not there", cached.display());
    for (what, script) in [
        ("STDLIB/timeit.py STMT", &timeit),
        ("a link to timeit.py", &link),
        ("timeit's .pyc", &cached),
    ] {
        f.vector(what)
            .args([script])
            .args(["-n1", "-r1", PRINT_MARKER])
            .label(module_label("timeit"))
            .refusal(refused("-m timeit"))
            .assert_contract();
    }
    // Its module under another name on the path.
    let dir = f.files.path().join("other");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(&timeit, dir.join("mytimer.py")).unwrap();
    // (No cache written: one CPython writes without execute bits, in the
    // cell with no policy, would be refused once, and logged, under -f.)
    f.vector("-m mytimer, a link to timeit.py")
        .env("PYTHONPATH", &dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-m", "mytimer", "-n1", "-r1", PRINT_MARKER])
        .label(module_label("timeit"))
        .refusal(refused("-m timeit"))
        .assert_contract();
}

#[root_test]
fn breakpoint_opens_no_prompt() {
    let f = Fixture::new();
    let script = f.write("debugged.py", "breakpoint()\nprint('done')\n", 0o755);
    let went_on = |label: &str| {
        Refusal::Without(Outcome {
            exit: Exit::Code(0),
            stdout: "done\n".into(),
            stderr: denial("mayexec-python", label, "interactive"),
        })
    };
    f.vector("PYTHONBREAKPOINT=code.interact")
        .env("PYTHONBREAKPOINT", "code.interact")
        .args([&script])
        .stdin(format!("{PRINT_MARKER}\n"))
        .label("PYTHONBREAKPOINT")
        .refusal(went_on("PYTHONBREAKPOINT"))
        .assert_contract();
    f.vector("breakpoint() and pdb's prompt")
        .args([&script])
        .stdin(format!("!{PRINT_MARKER}\nc\n"))
        .label("breakpoint()")
        .refusal(went_on("breakpoint()"))
        .assert_contract();
}

/// What was refused before this issue, through the same matrix.
#[root_test]
fn command_line_code_and_the_prompt_after_a_script_stay_refused() {
    let f = Fixture::new();
    f.vector("-c CODE")
        .args(["-c", PRINT_MARKER])
        .label("-c")
        .refusal(refused("-c"))
        .assert_contract();
    let script = f.write("quiet.py", "x = 1\n", 0o755);
    f.vector("-i SCRIPT, then the prompt")
        .args(["-i"])
        .args([&script])
        .stdin(format!("{PRINT_MARKER}\n"))
        .label("-i")
        .refusal(refused("-i"))
        .assert_contract();
    // A program piped on standard input, with no script or with `-`: not
    // a regular file (docs/semantics.md §3).
    for (what, args) in [("the program on stdin", &[][..]), ("-", &["-"][..])] {
        f.vector(what)
            .args(args)
            .stdin(format!("{PRINT_MARKER}\n"))
            .label("<stdin>")
            .reason("not-regular-file")
            .refusal(Refusal::Whole(denial(
                "mayexec-python",
                "<stdin>",
                "not-regular-file",
            )))
            .assert_contract();
    }
}

// --- The inventory's guards -------------------------------------------------

/// The rows of the table under `heading` in docs/deployment.md: the
/// first cell's backquoted names, and the whole row.
fn table_rows(heading: &str) -> Vec<(Vec<String>, String)> {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deployment.md"))
            .expect("read docs/deployment.md");
    let start = doc
        .lines()
        .position(|l| l.trim_start_matches('#').trim() == heading)
        .unwrap_or_else(|| panic!("no heading {heading:?} in docs/deployment.md"));
    let rows: Vec<(Vec<String>, String)> = doc
        .lines()
        .skip(start + 1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| {
            let first = row.split('|').nth(1).unwrap_or_default();
            let names = first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            (names, row.to_owned())
        })
        .collect();
    assert!(!rows.is_empty(), "no table under {heading:?}");
    rows
}

/// The standard library's entry points: modules with a top-level `if
/// __name__ == "__main__":` and packages' `__main__` modules, by dotted
/// name (`asyncio.__main__`).
fn entry_points(stdlib: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, prefix: &str, found: &mut BTreeSet<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                if name == "__pycache__" || name == "site-packages" || name.starts_with("config-") {
                    continue;
                }
                walk(&entry.path(), &format!("{prefix}{name}."), found);
            } else if let Some(stem) = name.strip_suffix(".py") {
                let guarded = stem == "__main__"
                    || fs::read(entry.path()).is_ok_and(|source| {
                        String::from_utf8_lossy(&source).lines().any(is_main_guard)
                    });
                if guarded {
                    found.insert(format!("{prefix}{stem}"));
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(stdlib, "", &mut found);
    found
}

/// `if __name__ == "__main__":` (either quote, either order), unindented.
fn is_main_guard(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("if") else {
        return false;
    };
    let condition: String = rest
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
        .collect::<String>()
        .replace('\'', "\"");
    let condition = condition.split(':').next().unwrap_or_default();
    condition == "__name__==\"__main__\"" || condition == "\"__main__\"==__name__"
}

/// The row that classifies `module`: its own, or a group's (`test.*`).
fn classification<'a>(
    rows: &'a [(Vec<String>, String)],
    module: &str,
) -> Option<&'a (Vec<String>, String)> {
    rows.iter().find(|(names, _)| {
        names.iter().any(|name| match name.strip_suffix(".*") {
            Some(group) => module == group || module.starts_with(&format!("{group}.")),
            None => name == module,
        })
    })
}

const ENTRY_POINTS: &str = "Standard library entry points";

fn is_refused_row(row: &str) -> bool {
    row.split('|')
        .nth(3)
        .is_some_and(|d| d.contains("**refused**"))
}

#[test]
fn every_entry_point_of_the_standard_library_is_classified() {
    let rows = table_rows(ENTRY_POINTS);
    let found = entry_points(&stdlib_dir());
    assert!(
        found.contains("timeit"),
        "the scan found no timeit: {found:?}"
    );
    let missing: Vec<&String> = found
        .iter()
        .filter(|m| classification(&rows, m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "entry points of CPython {PYTHON_VERSION} not in docs/deployment.md's table \
         ({ENTRY_POINTS:?}): decide each (file checked, code refused, or harmless and why), \
         and for a refused one add its place to src/entrypoints.rs's REFUSED: {missing:?}"
    );
}

#[test]
fn the_refused_entry_points_are_the_ones_the_code_refuses() {
    let rows = table_rows(ENTRY_POINTS);
    let documented: BTreeSet<String> = rows
        .iter()
        .filter(|(_, row)| is_refused_row(row))
        .flat_map(|(names, _)| names.clone())
        .collect();
    // REFUSED's entries, from the source: "timeit.py" is timeit,
    // "asyncio/__main__.py" asyncio.__main__, "idlelib/" idlelib.*.
    let source = include_str!("../src/entrypoints.rs");
    let list = source
        .split("pub const REFUSED: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("REFUSED in src/entrypoints.rs");
    let coded: BTreeSet<String> = list
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('"'))
        .map(|l| {
            let place = l.trim_end_matches(',').trim_matches('"');
            match place.strip_suffix('/') {
                Some(tree) => format!("{}.*", tree.replace('/', ".")),
                None => place.trim_end_matches(".py").replace('/', "."),
            }
        })
        .collect();
    assert_eq!(
        documented, coded,
        "docs/deployment.md's refused rows and REFUSED differ"
    );
}

/// Each refused entry point of this version, run under `mayexec run -i`:
/// 126 and the denial. A single entry point with `-m`; a group by one of
/// its members, run as a script (a module of it may not be importable by
/// that name: pyenv's setuptools puts its own `distutils` first). The
/// machine's own standard library: deny-interactive checks no file.
#[root_test]
fn every_refused_entry_point_is_refused() {
    let rows = table_rows(ENTRY_POINTS);
    let stdlib = stdlib_dir();
    let found = entry_points(&stdlib);
    let mut report = String::new();
    let mut tried = 0;
    for (names, row) in rows.iter().filter(|(_, row)| is_refused_row(row)) {
        for name in names {
            let (module, how): (String, Vec<String>) = match name.strip_suffix(".*") {
                Some(group) => {
                    let Some(member) = found.iter().find(|m| m.starts_with(&format!("{group}.")))
                    else {
                        continue; // not in this version
                    };
                    let path = stdlib.join(format!("{}.py", member.replace('.', "/")));
                    (member.clone(), vec![path.display().to_string()])
                }
                None if found.contains(name) => (name.clone(), vec!["-m".into(), name.clone()]),
                None => continue,
            };
            tried += 1;
            let label = format!("-m {}", module.trim_end_matches(".__main__"));
            let out = Command::new(mayexec())
                .args(["run", "-i", "--"])
                .arg(mayexec_python())
                .args(&how)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let want = denial("mayexec-python", &label, "interactive");
            if out.status.code() != Some(126) || stderr(&out) != want {
                report.push_str(&format!("  {how:?} ({row}): {}\n", describe(&out)));
            }
        }
    }
    assert!(tried >= 10, "only {tried} refused entry points found");
    assert!(report.is_empty(), "not refused:\n{report}");
}

/// The names `--help`, `--help-env` and `--help-xoptions` of the Python
/// under test list.
fn help_names() -> BTreeSet<String> {
    let help = |flag: &str| {
        let out = Command::new(mayexec_python()).arg(flag).output().unwrap();
        assert!(out.status.success(), "{flag}: {}", describe(&out));
        stdout(&out)
    };
    let mut names = BTreeSet::new();
    for line in help("--help").lines() {
        let word = line.split([' ', ':']).next().unwrap_or_default();
        if word.starts_with('-') {
            names.insert(word.to_owned());
        }
    }
    for line in help("--help-env").lines() {
        let word = line.split([' ', ':']).next().unwrap_or_default();
        if !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            names.insert(word.to_owned());
        }
    }
    for line in help("--help-xoptions").lines() {
        if let Some(option) = line.strip_prefix("-X ") {
            let name = option
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .next()
                .unwrap_or_default();
            names.insert(format!("-X {name}"));
        }
    }
    names
}

#[test]
fn every_option_and_variable_cpython_lists_is_classified() {
    let names = help_names();
    assert!(names.contains("PYTHONSTARTUP") && names.contains("-X dev") && names.contains("-c"));
    let mut rows = table_rows("Options");
    rows.extend(table_rows("Environment variables"));
    let classified: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(names, _)| names.iter().map(String::as_str))
        .collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !classified.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "CPython {PYTHON_VERSION} lists options or variables docs/deployment.md's tables do not \
         classify: {missing:?}"
    );
}
