//! The interpreter harness: what the tests of every enlightened interpreter
//! share. Where the code lives ([`Place`], on real [`Places`]), what
//! enforces ([`Enforced`]), what a run produced ([`Outcome`]), and what the
//! contract says a refusal looks like ([`denial`]).
//!
//! ```no_run
//! use mayexec_testkit::interp::{denial, Enforced, Outcome, Place, Places};
//!
//! let places = Places::new();
//! let script = places.write(Place::Noexec, "x.sh", "echo hi\n");
//! let sandbox = Enforced::RunF.sandbox();
//! let got = Outcome::of(Enforced::RunF.command(&sandbox, "/usr/bin/dash").arg(&script));
//! assert_eq!(got, Outcome::refused(denial("dash", &script, "noexec-mount")));
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{workspace_bin, write_file, Sandbox, Tmpfs};

/// The repository's root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/mayexec-testkit lives two levels below the root")
        .to_owned()
}

/// An interpreter one of the repository's build scripts builds
/// (`integrations/NAME/build.sh`), as its tests find it.
#[derive(Debug, Clone, Copy)]
pub struct Built {
    /// What it is, for messages: "the enlightened dash".
    pub what: &'static str,
    /// The variable that points the tests at another build, if any
    /// (`MAYEXEC_DASH`).
    pub env: Option<&'static str>,
    /// Where the build script installs it, from the repository's root.
    pub installed: &'static str,
    /// The build script, from the repository's root.
    pub build_script: &'static str,
}

impl Built {
    /// Its path: the variable's value, or where the build installs it.
    pub fn path(&self) -> PathBuf {
        self.chosen()
            .unwrap_or_else(|| workspace_root().join(self.installed))
    }

    fn chosen(&self) -> Option<PathBuf> {
        self.env.and_then(std::env::var_os).map(PathBuf::from)
    }

    /// Its path, if it is built. Prints why not and returns `None` where it
    /// is not. Under `CI=true` a missing build at the default path is made
    /// with the build script (once per process), and one that still is not
    /// there fails the test instead of skipping it.
    pub fn require(&self, test: &str) -> Option<PathBuf> {
        let path = self.path();
        if path.is_file() {
            return Some(path);
        }
        if crate::in_ci() && self.chosen().is_none() {
            self.build_once();
            if path.is_file() {
                return Some(path);
            }
        }
        let mut why = format!(
            "{} is not built at {}; run `{}` (as root: it installs build tools and \
             fetches Debian's source)",
            self.what,
            path.display(),
            self.build_script
        );
        if let Some(env) = self.env {
            why.push_str(&format!(", or set {env}"));
        }
        crate::skip(test, &why);
        None
    }

    /// For a test that mounts and changes credentials: root
    /// ([`crate::require_root`]) and this build ([`Built::require`]).
    pub fn require_with_root(&self, test: &str) -> Option<PathBuf> {
        if !crate::require_root(test) {
            return None;
        }
        self.require(test)
    }

    /// Runs the build script once per process (per script); its messages
    /// go to the test's stderr.
    fn build_once(&self) {
        static BUILT: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
        let mut built = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if built.contains(&self.build_script) {
            return;
        }
        built.push(self.build_script);
        let script = workspace_root().join(self.build_script);
        eprintln!(
            "CI=true and {} is missing: running {}",
            self.what,
            script.display()
        );
        match Command::new(&script)
            .stdin(std::process::Stdio::null())
            .status()
        {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!("{} failed: {status}", script.display()),
            Err(e) => eprintln!("cannot run {}: {e}", script.display()),
        }
    }
}

/// Where a test puts code: the three places the behaviour tables cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An exec tmpfs, mode 0755: passes every check.
    Exec755,
    /// An exec tmpfs, mode 0644: `not-executable` where permission counts.
    Exec644,
    /// A `noexec` tmpfs, mode 0755: `noexec-mount` where the mount counts.
    Noexec,
}

impl Place {
    /// Every place, in the tables' order.
    pub const ALL: [Place; 3] = [Place::Exec755, Place::Exec644, Place::Noexec];

    /// The file mode code is written with here.
    pub const fn mode(self) -> u32 {
        match self {
            Place::Exec644 => 0o644,
            Place::Exec755 | Place::Noexec => 0o755,
        }
    }

    /// The reason the full check (kernel, or emulated level 3) refuses code
    /// here, if it does.
    pub const fn full_check(self) -> Option<&'static str> {
        match self {
            Place::Exec755 => None,
            Place::Exec644 => Some("not-executable"),
            Place::Noexec => Some("noexec-mount"),
        }
    }
}

/// One exec and one `noexec` tmpfs, unmounted on drop.
#[derive(Debug)]
pub struct Places {
    /// The exec mount.
    pub exec: Tmpfs,
    /// The `noexec` mount.
    pub noexec: Tmpfs,
}

impl Places {
    /// Mounts both.
    pub fn new() -> Places {
        Places {
            exec: Tmpfs::exec(),
            noexec: Tmpfs::noexec(),
        }
    }

    /// The mount behind `place`.
    pub fn mount(&self, place: Place) -> &Path {
        match place {
            Place::Noexec => self.noexec.path(),
            Place::Exec755 | Place::Exec644 => self.exec.path(),
        }
    }

    /// A fresh directory (mode 0755) in `place`, named after `name` and
    /// the place.
    pub fn dir(&self, place: Place, name: &str) -> PathBuf {
        let dir = self.mount(place).join(format!("{name}-{place:?}"));
        fs::create_dir(&dir).expect("mkdir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        dir
    }

    /// Writes `contents` as `name` in `place`, with the place's mode.
    pub fn write(&self, place: Place, name: &str, contents: &str) -> PathBuf {
        write_file(
            &self.mount(place).join(name),
            contents.as_bytes(),
            place.mode(),
        )
    }
}

impl Default for Places {
    fn default() -> Self {
        Places::new()
    }
}

/// What enforces: nothing, `mayexec run` with exec securebits, or a system
/// policy level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforced {
    /// No policy at all.
    Nothing,
    /// `mayexec run -f`: restrict-file.
    RunF,
    /// `mayexec run -i`: deny-interactive.
    RunI,
    /// `mayexec run -fi`: both.
    RunFI,
    /// `/etc/mayexec.conf` with `interpreted_access = N` (1–3).
    Level(u8),
}

impl Enforced {
    /// No policy and the three securebit settings.
    pub const BITS: [Enforced; 4] = [
        Enforced::Nothing,
        Enforced::RunF,
        Enforced::RunI,
        Enforced::RunFI,
    ];

    /// Everything the tables cover: [`Enforced::BITS`] and levels 1 to 3.
    pub const ALL: [Enforced; 7] = [
        Enforced::Nothing,
        Enforced::RunF,
        Enforced::RunI,
        Enforced::RunFI,
        Enforced::Level(1),
        Enforced::Level(2),
        Enforced::Level(3),
    ];

    /// The `mayexec run` flag, if any.
    pub const fn flag(self) -> Option<&'static str> {
        match self {
            Enforced::RunF => Some("-f"),
            Enforced::RunI => Some("-i"),
            Enforced::RunFI => Some("-fi"),
            Enforced::Nothing | Enforced::Level(_) => None,
        }
    }

    /// Must script files pass the full check (`mayexec run -f`)?
    pub const fn restricts_files(self) -> bool {
        matches!(self, Enforced::RunF | Enforced::RunFI)
    }

    /// Is interactive input (`-c`, pipes, terminals) refused?
    pub const fn denies_interactive(self) -> bool {
        matches!(self, Enforced::RunI | Enforced::RunFI)
    }

    /// The reason a script file in `place` is refused for, if it is.
    pub const fn script_denial(self, place: Place) -> Option<&'static str> {
        match self {
            Enforced::Nothing | Enforced::RunI => None,
            Enforced::RunF | Enforced::RunFI | Enforced::Level(3) => place.full_check(),
            Enforced::Level(1) => match place {
                Place::Noexec => Some("noexec-mount"),
                Place::Exec755 | Place::Exec644 => None,
            },
            Enforced::Level(2) => match place {
                Place::Exec644 => Some("not-executable"),
                Place::Exec755 | Place::Noexec => None,
            },
            Enforced::Level(_) => panic!("the policy levels are 1 to 3"),
        }
    }

    /// A sandbox (private `/etc/mayexec.conf`, syslog listener) with this
    /// enforcement's policy file, if it has one.
    pub fn sandbox(self) -> Sandbox {
        let sandbox = Sandbox::new().capture_syslog();
        match self {
            Enforced::Level(n) => sandbox.policy(&format!("interpreted_access = {n}\n")),
            _ => sandbox,
        }
    }

    /// `program` under this enforcement, started in `sandbox`: wrapped in
    /// `mayexec run FLAG --` for the securebits. Add the program's
    /// arguments to it.
    pub fn command(self, sandbox: &Sandbox, program: impl AsRef<OsStr>) -> Command {
        self.command_with(program.as_ref(), &|p| sandbox.command(p))
    }

    /// The same, with `make` making the outer command (`Command::new`, a
    /// sandbox's …).
    pub fn command_with(self, program: &OsStr, make: &dyn Fn(&OsStr) -> Command) -> Command {
        match self.flag() {
            None => make(program),
            Some(flag) => {
                let mut cmd = make(workspace_bin("mayexec").as_os_str());
                cmd.args(["run", flag, "--"]).arg(program);
                cmd
            }
        }
    }
}

impl fmt::Display for Enforced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.flag()) {
            (Enforced::Level(n), _) => write!(f, "policy level {n}"),
            (_, Some(flag)) => write!(f, "mayexec run {flag}"),
            (_, None) => f.write_str("no policy"),
        }
    }
}

/// A table's column for [`Backend::columns`]: the enforcement and its
/// launcher in, the cells that differ out.
pub type Column<'a> = dyn Fn(Enforced, &dyn Fn(&OsStr) -> Command) -> Vec<String> + Sync + 'a;

/// The check's backend an interpreter table runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The kernel's `AT_EXECVE_CHECK` (this machine's kernel has it).
    Kernel,
    /// The emulated rules: the command runs under `without-execve-check`,
    /// a seccomp filter that makes the kernel check look absent.
    Emulated,
}

impl Backend {
    /// Both, kernel first.
    pub const ALL: [Backend; 2] = [Backend::Kernel, Backend::Emulated];

    /// A table's columns with this backend, one thread each: for every
    /// enforcement of `columns`, `column` gets the enforcement and a
    /// launcher (its sandbox, this backend, its `mayexec run` flag) and
    /// returns the cells that differ, as messages. All of them, once every
    /// column has run.
    pub fn columns(self, columns: &[Enforced], column: &Column<'_>) -> Vec<String> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = columns
                .iter()
                .map(|&enforced| {
                    scope.spawn(move || {
                        let sandbox = enforced.sandbox();
                        let outer = |p: &OsStr| sandbox.command(p);
                        let make = self.launcher(&outer);
                        let launch = |p: &OsStr| enforced.command_with(p, &make);
                        column(enforced, &launch)
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a column's thread"))
                .collect()
        })
    }

    /// `make` (see [`Enforced::command_with`]) with this backend in force
    /// for everything the command starts.
    pub fn launcher<'a>(
        self,
        make: &'a dyn Fn(&OsStr) -> Command,
    ) -> impl Fn(&OsStr) -> Command + 'a {
        move |program| match self {
            Backend::Kernel => make(program),
            Backend::Emulated => {
                let mut cmd = make(workspace_bin("without-execve-check").as_os_str());
                cmd.arg(program);
                cmd
            }
        }
    }
}

/// A table test run once per [`Backend`]: `fn name(backend) { … }` becomes
/// the root tests `name::kernel` and `name::emulated`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn on_one_backend($backend: $crate::interp::Backend) $body

            #[$crate::root_test]
            fn kernel() {
                on_one_backend($crate::interp::Backend::Kernel)
            }

            #[$crate::root_test]
            fn emulated() {
                on_one_backend($crate::interp::Backend::Emulated)
            }
        }
    };
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
    /// It never started: `execve` failed with this errno.
    NotStarted(i32),
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Outcome {
    /// The outcome of a finished process.
    pub fn from_output(output: Output) -> Outcome {
        let exit = match (output.status.code(), output.status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => unreachable!("a process ends with a status or a signal"),
        };
        Outcome {
            exit,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The outcome of `cmd`, run to completion with stdin from `/dev/null`
    /// unless the caller set it. A program that cannot be executed is
    /// [`Exit::NotStarted`].
    pub fn of(cmd: &mut Command) -> Outcome {
        match cmd.output() {
            Ok(output) => Outcome::from_output(output),
            Err(e) => Outcome {
                exit: Exit::NotStarted(e.raw_os_error().unwrap_or(-1)),
                stdout: String::new(),
                stderr: e.to_string(),
            },
        }
    }

    /// Status 0 with this output and nothing on stderr.
    pub fn ran(stdout: impl Into<String>) -> Outcome {
        Outcome {
            exit: Exit::Code(0),
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// The contract's refusal of the main script or interactive input:
    /// status 126, nothing on stdout, `message` (see [`denial`]) on stderr.
    pub fn refused(message: String) -> Outcome {
        Outcome {
            exit: Exit::Code(126),
            stdout: String::new(),
            stderr: message,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}, stdout {:?}, stderr {:?}",
            self.exit, self.stdout, self.stderr
        )
    }
}

/// How a file's code is given to an interpreter whose command is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed<'a> {
    /// As an argument: `sh script`.
    Arg,
    /// As standard input, the file itself: `sh < script`.
    Stdin,
    /// As standard input, a pipe: `cat script | sh`.
    Pipe,
    /// Its text as the argument after a flag: `sh -c "$(cat script)"`,
    /// `perl -e …`.
    Text(&'a str),
}

impl Feed<'_> {
    /// Runs `cmd` (the interpreter with its leading arguments) with
    /// `script`'s code given this way, to completion.
    pub fn run(self, mut cmd: Command, script: &Path) -> Outcome {
        match self {
            Feed::Arg => {
                cmd.arg(script);
            }
            Feed::Stdin => {
                cmd.stdin(fs::File::open(script).expect("open the script"));
            }
            Feed::Pipe => {
                let mut cat = Command::new("cat")
                    .arg(script)
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("start cat");
                cmd.stdin(cat.stdout.take().expect("cat's stdout"));
                let outcome = Outcome::of(&mut cmd);
                // Whatever the interpreter did, cat ends (at worst on
                // SIGPIPE).
                let _ = cat.wait();
                return outcome;
            }
            Feed::Text(flag) => {
                let code = fs::read_to_string(script).expect("read the script");
                cmd.arg(flag).arg(code);
            }
        }
        Outcome::of(&mut cmd)
    }
}

/// The outcome of `cmd` (stdin from `/dev/null` unless set), or, if it
/// has not ended within `limit`, `None` after killing it: for the runs
/// that must not wait (for a FIFO's writer, say), so that an interpreter
/// that hangs fails the test instead of hanging it.
pub fn outcome_within(cmd: &mut Command, limit: Duration) -> Option<Outcome> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let started = Instant::now();
    loop {
        match child.try_wait().expect("wait for the command") {
            Some(_) => {
                let output = child.wait_with_output().expect("collect the output");
                return Some(Outcome::from_output(output));
            }
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// The contract's message when `program` refuses `label` (a path, `-c`,
/// `<stdin>`) for `reason`: `PROG: LABEL: script execution denied (REASON)`.
pub fn denial(program: &str, label: impl AsRef<OsStr>, reason: &str) -> String {
    format!(
        "{program}: {}: script execution denied ({reason})\n",
        Path::new(label.as_ref()).display()
    )
}
