//! The conformance suite of every enlightened interpreter, written once.
//!
//! The interpreter contract (`docs/semantics.md` §3.1) is one table; so are
//! its tests. An integration describes its interpreter once, as an
//! [`Interpreter`] — its builds, its name in messages, how to write a
//! program that prints, the ways code reaches it — and invokes
//! [`conformance_suite!`](crate::conformance_suite), which generates the
//! tests every interpreter owes:
//!
//! - [`table`]: the behaviour table, every way in × every enforcement ×
//!   every place, with the kernel's check and the emulated one; without a
//!   policy every row matches the stock interpreter; `mayexec run -f`
//!   refuses what the stock interpreter runs;
//! - [`policy`]: an untrusted or malformed policy file refuses everything,
//!   the audit lines, audit mode, the user the check is made for, and the
//!   rename race;
//! - [`nonfile`]: code that is not a regular file named as the program (a
//!   FIFO, a device, a pipe, `/dev/stdin`) and code on the command line;
//! - [`shell`] (for shells): prompt strings from the environment, the
//!   parity scripts against the stock shell, `exec <` in a checked stdin;
//! - [`inventory`]: helpers for the options-and-variables inventories.
//!
//! ```no_run
//! use mayexec_testkit::conformance::{Interpreter, Stock};
//! use mayexec_testkit::interp::Built;
//!
//! pub const LUA: Interpreter = Interpreter {
//!     stock: Stock::System("/usr/bin/lua5.4"),
//!     text_flag: "-e",
//!     print: |text| format!("print(\"{text}\")\n"),
//!     ..Interpreter::new("lua", Built {
//!         what: "the enlightened lua",
//!         env: Some("MAYEXEC_LUA"),
//!         installed: "target/lua-mayexec/bin/lua",
//!         build_script: "integrations/lua/build.sh",
//!     })
//! };
//! // tests/conformance.rs:
//! // mayexec_testkit::conformance_suite!(lua: LUA);
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::interp::{workspace_root, Built, Enforced, Exit, Feed, Outcome, Place, Places};
use crate::{Sandbox, TempDir, NOBODY};

pub mod inventory;
pub mod nonfile;
pub mod policy;
pub mod shell;
pub mod table;

/// An enlightened interpreter, as its conformance tests see it.
#[derive(Debug, Clone, Copy)]
pub struct Interpreter {
    /// Its name in its messages: `dash`, `perl`, `sh` for `busybox sh`.
    pub name: &'static str,
    /// The enlightened build.
    pub built: Built,
    /// The stock interpreter it must behave like.
    pub stock: Stock,
    /// Arguments before the interpreter's own (`sh` for `busybox sh`).
    pub applet: &'static [&'static str],
    /// The extension of its code files (`sh`, `pm`: perl loads the same
    /// file as a program and as a module, named after its stem).
    pub extension: &'static str,
    /// Code that prints `text` and a newline (a Perl module also returns
    /// true).
    pub print: fn(&str) -> String,
    /// The switch that takes code as text: `-c`, `-e`.
    pub text_flag: &'static str,
    /// Ways besides `INTERPRETER FILE` that name the file as the program
    /// (`perl -x FILE`, `perl -S NAME`).
    pub file_ways: &'static [FileWay],
    /// Ways an allowed program (or the interpreter's start-up) loads the
    /// file as code: `. FILE`, `BASH_ENV`, `require`, `-MNAME`, `ENV` of
    /// an interactive shell.
    pub loaders: &'static [Loader],
    /// What only a shell has.
    pub shell: Option<Shell>,
    /// Known deviations from the contract, by the names the generated
    /// tests give them: each such test checks what still holds, says
    /// what it let pass, and fails once the deviation is gone.
    pub deviations: &'static [&'static str],
}

impl Interpreter {
    /// A descriptor with the defaults: no applet, `.sh` files, `echo`,
    /// `-c`, no other ways in; complete it with `..Interpreter::new(…)`.
    pub const fn new(name: &'static str, built: Built) -> Interpreter {
        Interpreter {
            name,
            built,
            stock: Stock::System("/bin/sh"),
            applet: &[],
            extension: "sh",
            print: echo,
            text_flag: "-c",
            file_ways: &[],
            loaders: &[],
            shell: None,
            deviations: &[],
        }
    }

    /// The enlightened build, or `None` after saying why the test is
    /// skipped ([`Built::require`]: a failure under `CI=true`).
    pub fn require(&self, test: &str) -> Option<PathBuf> {
        self.built.require(test)
    }

    /// The stock interpreter, or `None` after saying why the test is
    /// skipped (a failure under `CI=true`).
    pub fn require_stock(&self, test: &str) -> Option<PathBuf> {
        match self.stock {
            Stock::Built(built) => built.require(test),
            Stock::System(path) if Path::new(path).is_file() => Some(path.into()),
            Stock::System(path) => {
                crate::skip(
                    test,
                    &format!("the stock interpreter {path} is not installed"),
                );
                None
            }
        }
    }

    /// Both, for a comparison.
    pub fn require_both(&self, test: &str) -> Option<(PathBuf, PathBuf)> {
        Some((self.require(test)?, self.require_stock(test)?))
    }

    /// `launch`'s command for `program` (this interpreter's build or the
    /// stock one) with the applet; add the interpreter's arguments.
    pub fn command(&self, program: &Path, launch: &dyn Fn(&OsStr) -> Command) -> Command {
        let mut cmd = launch(program.as_os_str());
        cmd.args(self.applet);
        cmd
    }

    /// `program` and the applet, plain.
    pub fn plain(&self, program: &Path) -> Command {
        self.command(program, &|p| Command::new(p))
    }

    /// `mayexec run FLAG -- program` and the applet.
    pub fn under(&self, flag: &str, program: &Path) -> Command {
        self.command(program, &|p| mayexec_run(flag, p))
    }

    /// The message it prints when it refuses `label` for `reason`.
    pub fn denial(&self, label: impl AsRef<OsStr>, reason: &str) -> String {
        crate::interp::denial(self.name, label, reason)
    }

    /// A program that prints `text`, with a `#!` line that runs `program`.
    pub fn program(&self, program: &Path, text: &str) -> String {
        let mut line = format!("#!{}", program.display());
        for arg in self.applet {
            line.push(' ');
            line.push_str(arg);
        }
        format!("{line}\n{}", (self.print)(text))
    }

    /// Every way in, in the table's order.
    pub fn ways(&self) -> Vec<Way> {
        let mut ways = vec![Way::Direct, Way::File(&SCRIPT)];
        ways.extend(self.file_ways.iter().map(Way::File));
        ways.extend([Way::Stdin, Way::Pipe, Way::Text]);
        ways.extend(self.loaders.iter().map(Way::Load));
        ways
    }

    /// Is `deviation` a known one? (See [`Interpreter::deviations`].)
    pub fn deviates(&self, deviation: &str) -> bool {
        self.deviations.contains(&deviation)
    }

    /// The syslog's `program=`: the command name of the executable.
    pub fn comm(program: &Path) -> String {
        let name = program.file_name().unwrap_or_default().to_string_lossy();
        name.chars().take(15).collect()
    }
}

fn echo(text: &str) -> String {
    format!("echo {text}\n")
}

/// `mayexec run FLAG -- PROGRAM`.
pub fn mayexec_run(flag: &str, program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(crate::workspace_bin("mayexec"));
    cmd.args(["run", flag, "--"]).arg(program);
    cmd
}

/// The stock interpreter the enlightened one is compared with.
#[derive(Debug, Clone, Copy)]
pub enum Stock {
    /// The system's own (`/bin/dash`).
    System(&'static str),
    /// Built by the integration's build script from the same source.
    Built(Built),
}

/// A way that names the file as the program.
#[derive(Debug, Clone, Copy)]
pub struct FileWay {
    /// How the table writes it (`-x FILE`).
    pub name: &'static str,
    /// Adds the arguments (and environment) that name `file`.
    pub command: fn(&mut Command, &Path),
    /// The interpreter's own search takes only executable files (`perl
    /// -S`): a 0644 file fails as with the stock interpreter whatever the
    /// policy, with this message on stderr.
    pub not_executable: Option<fn(&Path) -> String>,
}

/// `INTERPRETER FILE`.
pub const SCRIPT: FileWay = FileWay {
    name: "FILE",
    command: |cmd, file| {
        cmd.arg(file);
    },
    not_executable: None,
};

/// A way the file is loaded as code besides the program: from an allowed
/// program (`. FILE`, `require`), or by the interpreter's start-up
/// (`BASH_ENV`, `-MNAME`, `ENV` of an interactive shell). A denied file
/// fails as one the interpreter cannot read: the table expects what the
/// stock interpreter does, as `nobody`, with a copy it cannot read.
#[derive(Debug, Clone, Copy)]
pub struct Loader {
    /// How the table writes it.
    pub name: &'static str,
    /// The allowed program (0755, on an exec mount) that loads `file`, or
    /// the standard input of an interactive interpreter.
    pub main: fn(&Path) -> String,
    /// Adds the arguments, environment and standard input that load
    /// `file` with `main`.
    pub command: fn(&mut Command, &Path, &Path),
    /// Standard output when the file's code runs (it prints `ran`).
    pub ran: &'static str,
    /// The interpreter is interactive: deny-interactive refuses it first.
    pub interactive: bool,
    /// What is left of the output to compare (an interactive banner off).
    pub filter: Option<fn(Outcome) -> Outcome>,
}

/// What only a shell has.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    /// `argv[0]` in the parity runs, so that messages match the stock
    /// shell's (`None`: as started, for busybox's applets).
    pub arg0: Option<&'static str>,
    /// The arguments of an interactive shell that reads no start-up file.
    pub interactive: &'static [&'static str],
    /// Does the shell take `PS4` from the environment for root? (bash
    /// does not.) The prompt tests run as `nobody` where it does not.
    pub ps4_for_root: bool,
    /// The prompt strings whose imported code the policy file logs.
    pub logged_prompts: &'static [&'static str],
    /// Variables besides `PS1` and `PS2` that carry code into an
    /// interactive shell, with the arguments of one that reads them
    /// (`ENV`; bash's `PS0`, `PROMPT_COMMAND`).
    pub interactive_code: &'static [(&'static str, &'static [&'static str])],
    /// The status of the parity script `dot_missing.sh` and what the
    /// shell says when its `.` cannot find the file.
    pub dot_missing: (i32, &'static str),
}

/// One way code reaches the interpreter: a row of the table.
#[derive(Debug, Clone, Copy)]
pub enum Way {
    /// `./file`: the kernel runs the `#!` line's interpreter.
    Direct,
    /// The file named as the program.
    File(&'static FileWay),
    /// `INTERPRETER < file`.
    Stdin,
    /// `cat file | INTERPRETER`.
    Pipe,
    /// `INTERPRETER -c "$(cat file)"`.
    Text,
    /// Loaded by an allowed program or at start-up.
    Load(&'static Loader),
}

impl Way {
    /// The allowed program this way needs, if any.
    pub fn loader(self) -> Option<&'static Loader> {
        match self {
            Way::Load(loader) => Some(loader),
            _ => None,
        }
    }

    /// Runs `file` this way with `program` (`main`: the loader's program).
    pub fn run(
        self,
        interp: &Interpreter,
        program: &Path,
        file: &Path,
        main: Option<&Path>,
        launch: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let cmd = || interp.command(program, launch);
        match self {
            Way::Direct => Outcome::of(&mut launch(file.as_os_str())),
            Way::File(way) => {
                let mut cmd = cmd();
                (way.command)(&mut cmd, file);
                Outcome::of(&mut cmd)
            }
            Way::Stdin => Feed::Stdin.run(cmd(), file),
            Way::Pipe => Feed::Pipe.run(cmd(), file),
            Way::Text => Feed::Text(interp.text_flag).run(cmd(), file),
            Way::Load(loader) => {
                let mut cmd = cmd();
                (loader.command)(&mut cmd, file, main.expect("the loading program"));
                let got = Outcome::of(&mut cmd);
                loader.filter.map_or(got.clone(), |filter| filter(got))
            }
        }
    }

    /// How the table writes it.
    pub fn name(self, interp: &Interpreter) -> String {
        let name = interp.name;
        match self {
            Way::Direct => "./file".to_owned(),
            Way::File(way) => format!("{name} {}", way.name),
            Way::Stdin => format!("{name} < file"),
            Way::Pipe => format!("cat file | {name}"),
            Way::Text => format!("{name} {}", interp.text_flag),
            Way::Load(loader) => loader.name.to_owned(),
        }
    }
}

/// A column of the table: what enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// No policy, the securebits, or a policy level.
    Enforced(Enforced),
    /// The policy file with `deny_interactive = true`.
    DenyInteractive,
    /// The policy file in audit mode (level 3 and deny-interactive,
    /// logged and not enforced).
    Audit,
}

impl Column {
    /// Every column.
    pub const ALL: [Column; 9] = [
        Column::Enforced(Enforced::Nothing),
        Column::Enforced(Enforced::RunF),
        Column::Enforced(Enforced::RunI),
        Column::Enforced(Enforced::RunFI),
        Column::Enforced(Enforced::Level(1)),
        Column::Enforced(Enforced::Level(2)),
        Column::Enforced(Enforced::Level(3)),
        Column::DenyInteractive,
        Column::Audit,
    ];

    /// Its policy file, if it has one.
    pub fn policy(self) -> Option<String> {
        match self {
            Column::Enforced(Enforced::Level(n)) => Some(format!("interpreted_access = {n}\n")),
            Column::DenyInteractive => Some("deny_interactive = true\n".into()),
            Column::Audit => {
                Some("interpreted_access = 3\ndeny_interactive = true\nmode = \"audit\"\n".into())
            }
            Column::Enforced(_) => None,
        }
    }

    /// The reason a file in `place` is refused for, if it is.
    pub fn file_denial(self, place: Place) -> Option<&'static str> {
        match self {
            Column::Enforced(e) => e.script_denial(place),
            Column::DenyInteractive | Column::Audit => None,
        }
    }

    /// Is interactive input refused?
    pub fn denies_interactive(self) -> bool {
        match self {
            Column::Enforced(e) => e.denies_interactive(),
            Column::DenyInteractive => true,
            Column::Audit => false,
        }
    }

    /// The `mayexec run` flag, if any.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Column::Enforced(e) => e.flag(),
            Column::DenyInteractive | Column::Audit => None,
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Enforced(e) => e.fmt(f),
            Column::DenyInteractive => f.write_str("deny_interactive = true"),
            Column::Audit => f.write_str("audit mode"),
        }
    }
}

/// The file under test in every place, and the programs that load it.
#[derive(Debug)]
pub struct Fixture {
    places: Places,
    files: Vec<(Place, PathBuf)>,
    /// Per loader and place: the loading program.
    mains: Vec<(usize, Place, PathBuf)>,
}

/// What the file under test prints.
pub const RAN: &str = "ran\n";

impl Fixture {
    /// The file (with `program`'s `#!`) in every place, and its loaders'
    /// programs on the exec mount.
    pub fn new(interp: &Interpreter, program: &Path) -> Fixture {
        let places = Places::new();
        let text = interp.program(program, "ran");
        let ext = interp.extension;
        let files: Vec<(Place, PathBuf)> = Place::ALL
            .into_iter()
            .map(|place| {
                (
                    place,
                    places.write(place, &format!("{place:?}.{ext}"), &text),
                )
            })
            .collect();
        let mut mains = Vec::new();
        for (i, loader) in interp.loaders.iter().enumerate() {
            for (place, file) in &files {
                let main = crate::write_file(
                    &places.exec.path().join(format!("{place:?}-main{i}")),
                    (loader.main)(file).as_bytes(),
                    0o755,
                );
                mains.push((i, *place, main));
            }
        }
        Fixture {
            places,
            files,
            mains,
        }
    }

    /// The file in `place`.
    pub fn file(&self, place: Place) -> &Path {
        &self
            .files
            .iter()
            .find(|(p, _)| *p == place)
            .expect("every place")
            .1
    }

    /// The program that loads the file in `place` `way`'s way, if it is a
    /// loader's.
    pub fn main(&self, interp: &Interpreter, way: Way, place: Place) -> Option<&Path> {
        let loader = way.loader()?;
        let i = interp
            .loaders
            .iter()
            .position(|l| l.name == loader.name)
            .expect("one of the interpreter's loaders");
        self.mains
            .iter()
            .find(|(j, p, _)| *j == i && *p == place)
            .map(|(_, _, main)| main.as_path())
    }

    /// Runs `way` on the file in `place`.
    pub fn run(
        &self,
        interp: &Interpreter,
        program: &Path,
        way: Way,
        place: Place,
        launch: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let main = self.main(interp, way, place);
        way.run(interp, program, self.file(place), main, launch)
    }

    /// The exec mount.
    pub fn exec(&self) -> &crate::Tmpfs {
        &self.places.exec
    }
}

/// What the stock interpreter does, as `nobody`, when `way` loads a copy
/// of the file in `place` that it cannot read (root's, mode 0600) — with
/// the copy's paths and the stock program's replaced by the real ones.
/// The contract's refusal of a loaded file is this failure.
pub fn unreadable(
    interp: &Interpreter,
    stock: &Path,
    ours: &Path,
    fixture: &Fixture,
    way: Way,
    place: Place,
) -> Outcome {
    let loader = way.loader().expect("a loader's way");
    let file = fixture.file(place);
    let main = fixture.main(interp, way, place).expect("a loading program");
    let (file_dir, main_dir) = (TempDir::new(), TempDir::new());
    let twin = file_dir.write(file.file_name().expect("a name"), "unreadable\n", 0o600);
    let twin_main = main_dir.write(
        main.file_name().expect("a name"),
        (loader.main)(&twin),
        0o755,
    );
    let sandbox = Sandbox::new().as_user(NOBODY, NOBODY);
    let got = way.run(interp, stock, &twin, Some(&twin_main), &|p| {
        sandbox.command(p)
    });
    let real = |p: &Path| p.parent().expect("a directory").display().to_string();
    let fix = |text: &str| {
        text.replace(&main_dir.path().display().to_string(), &real(main))
            .replace(&file_dir.path().display().to_string(), &real(file))
            .replace(&stock.display().to_string(), &ours.display().to_string())
    };
    Outcome {
        exit: got.exit,
        stdout: fix(&got.stdout),
        stderr: fix(&got.stderr),
    }
}

/// `got` with `program`'s path written as `stock`'s: for comparing
/// messages that name the interpreter as it was started.
pub fn as_if(got: &Outcome, program: &Path, stock: &Path) -> Outcome {
    let fix =
        |text: &str| text.replace(&program.display().to_string(), &stock.display().to_string());
    Outcome {
        exit: got.exit,
        stdout: fix(&got.stdout),
        stderr: fix(&got.stderr),
    }
}

/// The syslog line about `path`, if there is exactly one.
pub fn line_about(lines: &[String], path: &str) -> String {
    let about: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(&format!(" path={path} ")))
        .collect();
    assert_eq!(about.len(), 1, "one line about {path} in {lines:#?}");
    about[0].clone()
}

/// Panics unless `lines` is one audit line about `path` (as the line
/// writes it) for `reason`, with `action=ACTION`.
pub fn assert_one_line(lines: &[String], path: impl fmt::Display, reason: &str, action: &str) {
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert!(
        line.contains(&format!(" path={path} reason={reason} "))
            && line.ends_with(&format!(" action={action}")),
        "path={path} reason={reason} … action={action} in {line}"
    );
}

/// The failed `execve` of a file the kernel refuses: `mayexec run`
/// reports it as a shell does; a sandbox's shell reports it itself
/// (`sandbox: LINE: exec: FILE: Permission denied`, status 126).
pub fn execve_refused(got: &Outcome, column: Column, file: &Path) -> Option<String> {
    let eacces = std::io::Error::from_raw_os_error(libc::EACCES);
    let want = match column.flag() {
        Some(_) => Outcome {
            exit: Exit::Code(126),
            stdout: String::new(),
            stderr: format!("mayexec: {}: {eacces}\n", file.display()),
        },
        None if column.policy().is_none() => Outcome {
            exit: Exit::NotStarted(libc::EACCES),
            stdout: String::new(),
            stderr: eacces.to_string(),
        },
        None => {
            let ok = got.exit == Exit::Code(126)
                && got.stdout.is_empty()
                && got.stderr.starts_with("sandbox: ")
                && got
                    .stderr
                    .ends_with(&format!(": exec: {}: Permission denied\n", file.display()));
            return (!ok).then(|| "the sandbox's report of a refused execve".to_owned());
        }
    };
    (*got != want).then(|| format!("{want}"))
}

/// The parity scripts (POSIX shell: functions, loops, traps,
/// here-documents, `set -e`, subshells, `.`, statuses, signals,
/// positional parameters, `$0`, syntax errors, redirections).
pub fn parity_scripts() -> (PathBuf, Vec<String>) {
    let dir = workspace_root().join("integrations/dash/tests/scripts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the parity scripts")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sh"))
        .collect();
    names.sort();
    assert!(names.len() >= 12, "a dozen scripts at least: {names:?}");
    (dir, names)
}

/// Arguments as `OsString`s.
pub fn os_args<I, S>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter().map(|a| a.as_ref().to_owned()).collect()
}

/// The conformance suite of an [`Interpreter`]: `conformance_suite!(NAME:
/// DESCRIPTOR)` generates the module `NAME` of tests every interpreter
/// owes; `conformance_suite!(NAME: DESCRIPTOR, shell)` adds a shell's.
/// Each is a `#[root_test]` (or a `#[test]` for the comparisons that need
/// no root) that skips, saying how to build the interpreter, where it is
/// not built — and fails under `CI=true`.
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident : $interp:expr) => {
        $crate::conformance_suite!(@suite $name, $interp, {});
    };
    ($name:ident : $interp:expr, shell) => {
        $crate::conformance_suite!(@suite $name, $interp, {
            /// Prompt strings from the environment.
            mod prompts {
                $crate::conformance_suite!(@root shell,
                    super::INTERP,
                    prompt_strings_from_the_environment_run_no_code_under_deny_interactive,
                    without_a_policy_prompt_strings_from_the_environment_run_as_with_the_stock_shell,
                    a_prompt_string_the_script_sets_itself_is_the_scripts_own,
                    the_policy_file_logs_imported_prompt_strings_and_audit_mode_keeps_them,
                    a_trace_prompt_from_the_environment_is_code_from_no_file,
                    the_prompts_of_an_interactive_shell_are_code_from_no_file);
            }
            /// The parity scripts against the stock shell.
            mod stock_scripts {
                $crate::conformance_suite!(@plain shell,
                    super::INTERP,
                    real_scripts_behave_as_under_the_stock_shell_without_a_policy,
                    the_scripts_exercise_statuses_signals_and_messages);
                $crate::conformance_suite!(@root shell,
                    super::INTERP,
                    real_scripts_that_pass_the_check_behave_as_under_the_stock_shell_under_mayexec_run_fi,
                    exec_redirecting_stdin_in_a_checked_stdin_script_is_the_scripts_decision,
                    an_interactive_shell_is_refused_under_deny_interactive_even_on_a_checked_stdin);
            }
        });
    };
    (@suite $name:ident, $interp:expr, { $($extra:tt)* }) => {
        #[allow(unused_imports)]
        mod $name {
            use super::*;

            const INTERP: $crate::conformance::Interpreter = $interp;

            /// The behaviour table.
            mod table {
                $crate::on_both_backends! {
                    /// Every row, with the kernel's check and with the
                    /// emulated one.
                    fn every_row_of_the_behaviour_table_holds(backend) {
                        $crate::conformance::table::every_row(&super::super::INTERP, backend);
                    }
                }
                $crate::conformance_suite!(@root table,
                    super::INTERP,
                    without_a_policy_every_row_matches_the_stock_interpreter,
                    mayexec_run_f_refuses_a_noexec_file_that_the_stock_interpreter_runs);
            }
            /// The system policy and the audit lines.
            mod policy {
                $crate::conformance_suite!(@root policy,
                    super::INTERP,
                    an_untrusted_or_malformed_policy_file_refuses_everything,
                    the_check_is_made_for_the_user_running_the_interpreter,
                    enforced_denials_are_logged_to_syslog_one_line_each,
                    audit_mode_runs_everything_and_logs_what_would_be_denied,
                    without_a_policy_nothing_is_logged,
                    without_a_policy_no_file_is_checked,
                    a_denied_loaded_file_is_logged,
                    swapping_the_program_path_never_runs_the_denied_file,
                    swapping_a_loaded_file_path_never_runs_the_denied_file);
            }
            /// Code that is not a regular file.
            mod nonfile {
                $crate::conformance_suite!(@root nonfile,
                    super::INTERP,
                    a_fifo_named_as_the_program_is_refused_at_once_under_a_policy,
                    a_fifo_loaded_as_code_is_refused_at_once_under_restrict_file,
                    devices_and_dev_fd_pipes_are_not_programs_under_restrict_file,
                    dev_stdin_and_proc_self_fd_0_on_a_pipe_are_refused_under_deny_interactive,
                    a_regular_file_named_through_dev_stdin_runs_under_deny_interactive,
                    code_on_the_command_line_is_code_from_no_file);
            }
            $($extra)*
        }
    };
    (@root $module:ident, $interp:path, $($test:ident),+ $(,)?) => {
        $(
            #[$crate::root_test]
            fn $test() {
                $crate::conformance::$module::$test(&$interp, stringify!($test))
            }
        )+
    };
    (@plain $module:ident, $interp:path, $($test:ident),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::conformance::$module::$test(&$interp, stringify!($test))
            }
        )+
    };
}
