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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use mayexec_testkit::in_ci;
pub use mayexec_testkit::interp::{self, workspace_root, Built, Enforced, Exit, Feed, Outcome};

/// The stock shell the enlightened one must behave like.
pub const STOCK_BASH: &str = "/bin/bash";

/// The enlightened bash as its tests find it (`MAYEXEC_BASH` points them at
/// another build).
pub const BASH: Built = Built {
    what: "the enlightened bash",
    env: Some("MAYEXEC_BASH"),
    installed: "target/bash-mayexec/bin/bash",
    build_script: "integrations/bash/build.sh",
};

/// Where `build.sh` installs the enlightened bash (or `MAYEXEC_BASH`).
pub fn default_bash_path() -> PathBuf {
    BASH.path()
}

/// Where `build.sh` installs the example loadable builtins built with the
/// enlightened bash (`enable -f DIR/NAME NAME`).
pub fn loadables_dir(bash: &Path) -> PathBuf {
    bash.parent()
        .and_then(Path::parent)
        .expect("the shell is PREFIX/bin/bash")
        .join("lib/bash")
}

/// The enlightened bash, if it is built ([`Built::require`]).
pub fn require_bash(test: &str) -> Option<PathBuf> {
    BASH.require(test)
}

/// Root and the enlightened bash ([`Built::require_with_root`]).
pub fn require_root_and_bash(test: &str) -> Option<PathBuf> {
    BASH.require_with_root(test)
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
        let shell_cmd = || launch(shell.as_os_str());
        let feed = match self {
            Invocation::Direct => return Outcome::of(&mut launch(script.as_os_str())),
            Invocation::Script => Feed::Arg,
            Invocation::Stdin => Feed::Stdin,
            Invocation::Pipe => Feed::Pipe,
            Invocation::BashC => Feed::Text("-c"),
            Invocation::Source | Invocation::BashEnv => {
                let main = self.main_script(script, exec_dir).expect("a main script");
                let mut cmd = shell_cmd();
                if self == Invocation::BashEnv {
                    cmd.env("BASH_ENV", script);
                }
                return Feed::Arg.run(cmd, &main);
            }
        };
        feed.run(shell_cmd(), script)
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
