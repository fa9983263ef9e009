//! Test support for the enlightened bash: where the shell is, the ways a
//! shell is given code, and what came out.
//!
//! The shell is built by `integrations/bash/build.sh` (Debian's bash with
//! `mayexec.patch`, libmayexec linked statically) and installed at
//! `target/bash-mayexec/bin/bash`; `MAYEXEC_BASH=PATH` points the tests at
//! another build. The tests compare it with the stock shell, [`STOCK_BASH`].
//!
//! ```no_run
//! use mayexec_bash::{require_bash, Invocation, Outcome};
//! use std::path::Path;
//! use std::process::Command;
//!
//! let Some(bash) = require_bash("example") else { return };
//! let script = Path::new("/srv/x.sh");
//! let out: Outcome =
//!     Invocation::Script.run(&bash, script, Path::new("/srv"), &|program| Command::new(program));
//! println!("{out}");
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub use mayexec_testkit::in_ci;
pub use mayexec_testkit::interp::{self, Enforced, Exit, Outcome};

/// The stock shell the enlightened one must behave like.
pub const STOCK_BASH: &str = "/bin/bash";

/// The repository's root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("integrations/bash lives two levels below the root")
        .to_owned()
}

/// Where `build.sh` installs the enlightened bash.
pub fn default_bash_path() -> PathBuf {
    workspace_root().join("target/bash-mayexec/bin/bash")
}

/// Where `build.sh` installs the example loadable builtins built with the
/// enlightened bash (`enable -f DIR/NAME NAME`).
pub fn loadables_dir(bash: &Path) -> PathBuf {
    bash.parent()
        .and_then(Path::parent)
        .expect("the shell is PREFIX/bin/bash")
        .join("lib/bash")
}

/// The enlightened bash, if it is built. Prints why not and returns `None`
/// where it is not. Under `CI=true` a missing shell at the default path is
/// built with `integrations/bash/build.sh` (once), and a shell that still
/// is not there fails the test instead of skipping it.
pub fn require_bash(test: &str) -> Option<PathBuf> {
    let chosen = std::env::var_os("MAYEXEC_BASH").map(PathBuf::from);
    let path = chosen.clone().unwrap_or_else(default_bash_path);
    if path.is_file() {
        return Some(path);
    }
    if in_ci() && chosen.is_none() {
        build_once();
        if path.is_file() {
            return Some(path);
        }
    }
    let why = format!(
        "{test}: skipped: the enlightened bash is not built at {}; \
         run `integrations/bash/build.sh` (as root: it installs build tools and \
         fetches Debian's bash source), or set MAYEXEC_BASH",
        path.display()
    );
    assert!(
        !in_ci(),
        "{why}; under CI=true a missing shell is a failure"
    );
    eprintln!("{why}");
    None
}

/// For a test that mounts and changes credentials: root
/// ([`mayexec_testkit::require_root`]) and the enlightened bash
/// ([`require_bash`]), or `None` after saying why (a failure under `CI=true`).
pub fn require_root_and_bash(test: &str) -> Option<PathBuf> {
    if !mayexec_testkit::require_root(test) {
        return None;
    }
    require_bash(test)
}

/// Runs `integrations/bash/build.sh` once per test process; its messages go
/// to the test's stderr.
fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = workspace_root().join("integrations/bash/build.sh");
        eprintln!(
            "CI=true and no enlightened bash: running {}",
            script.display()
        );
        match Command::new(&script).stdin(Stdio::null()).status() {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!("{} failed: {status}", script.display()),
            Err(e) => eprintln!("cannot run {}: {e}", script.display()),
        }
    });
}

/// The ways code reaches the shell: the behaviour table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `./script`: the kernel runs the `#!` line's shell with the script.
    Direct,
    /// `bash script`.
    Script,
    /// `bash < script`.
    Stdin,
    /// `cat script | bash`.
    Pipe,
    /// `bash -c "$(cat script)"`: the same code on the command line.
    BashC,
    /// `bash main.sh` where the allowed `main.sh` runs `. script`.
    Source,
    /// `BASH_ENV=script bash main.sh` with an allowed, empty `main.sh`.
    BashEnv,
}

impl Invocation {
    /// Every invocation, in the order of the behaviour table.
    pub const ALL: [Invocation; 7] = [
        Invocation::Direct,
        Invocation::Script,
        Invocation::Stdin,
        Invocation::Pipe,
        Invocation::BashC,
        Invocation::Source,
        Invocation::BashEnv,
    ];

    /// How the table writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Invocation::Direct => "./script",
            Invocation::Script => "bash script",
            Invocation::Stdin => "bash < script",
            Invocation::Pipe => "cat script | bash",
            Invocation::BashC => "bash -c",
            Invocation::Source => ". script",
            Invocation::BashEnv => "BASH_ENV=script",
        }
    }

    /// The allowed script that [`Invocation::Source`] and
    /// [`Invocation::BashEnv`] run `script` from, written (0755) in
    /// `exec_dir`, a directory on an exec mount.
    pub fn main_script(self, script: &Path, exec_dir: &Path) -> Option<PathBuf> {
        let (name, text) = match self {
            Invocation::Source => ("main-source.sh", format!(". {}\n", script.display())),
            Invocation::BashEnv => ("main-bash-env.sh", String::new()),
            _ => return None,
        };
        let stem = script.file_stem().unwrap_or_default().to_string_lossy();
        let main = exec_dir.join(format!("{stem}-{name}"));
        std::fs::write(&main, text).expect("write the main script");
        std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the main script");
        Some(main)
    }

    /// Runs `script` this way with `shell`. `launch` makes the command
    /// for a program (plain, under `mayexec run`, in a sandbox …); the
    /// invocation adds the arguments and standard input. `exec_dir` is
    /// where [`Invocation::main_script`] goes.
    pub fn run(
        self,
        shell: &Path,
        script: &Path,
        exec_dir: &Path,
        launch: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let mut cmd = match self {
            Invocation::Direct => launch(script.as_os_str()),
            Invocation::Script => {
                let mut cmd = launch(shell.as_os_str());
                cmd.arg(script);
                cmd
            }
            Invocation::Stdin => {
                let mut cmd = launch(shell.as_os_str());
                cmd.stdin(File::open(script).expect("open the script"));
                cmd
            }
            Invocation::Pipe => {
                let mut cat = Command::new("cat")
                    .arg(script)
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("start cat");
                let mut cmd = launch(shell.as_os_str());
                cmd.stdin(cat.stdout.take().expect("cat's stdout"));
                let outcome = Outcome::of(&mut cmd);
                // Whatever the shell did, cat ends (at worst on SIGPIPE).
                let _ = cat.wait();
                return outcome;
            }
            Invocation::BashC => {
                let code = std::fs::read_to_string(script).expect("read the script");
                let mut cmd = launch(shell.as_os_str());
                cmd.arg("-c").arg(code);
                cmd
            }
            Invocation::Source => {
                let main = self.main_script(script, exec_dir).expect("a main script");
                let mut cmd = launch(shell.as_os_str());
                cmd.arg(main);
                cmd
            }
            Invocation::BashEnv => {
                let main = self.main_script(script, exec_dir).expect("a main script");
                let mut cmd = launch(shell.as_os_str());
                cmd.arg(main).env("BASH_ENV", script);
                cmd
            }
        };
        Outcome::of(&mut cmd)
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The message the enlightened bash prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    interp::denial("bash", label, reason)
}

/// bash's message when a file it reads as code cannot be opened, as
/// `who` (the script, or `bash`) reports it: `WHO: [line N: ]FILE: ERROR`.
pub fn cannot_open(who: impl AsRef<OsStr>, line: Option<u32>, file: &Path, errno: i32) -> String {
    let line = line.map(|n| format!("line {n}: ")).unwrap_or_default();
    format!(
        "{}: {line}{}: {}\n",
        Path::new(who.as_ref()).display(),
        file.display(),
        strerror(errno)
    )
}

/// C's `strerror`, as bash prints it (Rust's io::Error adds "(os error N)").
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}
