//! Test support for the enlightened dash: where the shell is, the ways a
//! shell is given code, and what came out.
//!
//! The shell is built by `integrations/dash/build.sh` (Debian's dash with
//! `mayexec.patch`, libmayexec linked statically) and installed at
//! `target/dash-mayexec/bin/dash`; `MAYEXEC_DASH=PATH` points the tests at
//! another build. The tests compare it with the stock shell, [`STOCK_DASH`].
//!
//! ```no_run
//! use mayexec_dash::{require_dash, Invocation, Outcome};
//! use std::process::Command;
//!
//! let Some(dash) = require_dash("example") else { return };
//! let script = std::path::Path::new("/srv/x.sh");
//! let out: Outcome = Invocation::Script.run(&dash, script, &|program| Command::new(program));
//! println!("{out}");
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use mayexec_testkit::in_ci;
pub use mayexec_testkit::interp::{self, workspace_root, Built, Enforced, Exit, Feed, Outcome};

/// The stock shell the enlightened one must behave like.
pub const STOCK_DASH: &str = "/bin/dash";

/// The enlightened dash as its tests find it (`MAYEXEC_DASH` points them at
/// another build).
pub const DASH: Built = Built {
    what: "the enlightened dash",
    env: Some("MAYEXEC_DASH"),
    installed: "target/dash-mayexec/bin/dash",
    build_script: "integrations/dash/build.sh",
};

/// Where `build.sh` installs the enlightened dash (or `MAYEXEC_DASH`).
pub fn default_dash_path() -> PathBuf {
    DASH.path()
}

/// The enlightened dash, if it is built ([`Built::require`]).
pub fn require_dash(test: &str) -> Option<PathBuf> {
    DASH.require(test)
}

/// Root and the enlightened dash ([`Built::require_with_root`]).
pub fn require_root_and_dash(test: &str) -> Option<PathBuf> {
    DASH.require_with_root(test)
}

/// The ways a shell script reaches the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `./script`: the kernel runs the `#!` line's shell with the script.
    Direct,
    /// `dash script`.
    Script,
    /// `dash < script`.
    Stdin,
    /// `cat script | dash`.
    Pipe,
    /// `dash -c "$(cat script)"`: the same code on the command line.
    DashC,
}

impl Invocation {
    /// Every invocation, in the order of the behaviour table.
    pub const ALL: [Invocation; 5] = [
        Invocation::Direct,
        Invocation::Script,
        Invocation::Stdin,
        Invocation::Pipe,
        Invocation::DashC,
    ];

    /// How the table writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Invocation::Direct => "./script",
            Invocation::Script => "dash script",
            Invocation::Stdin => "dash < script",
            Invocation::Pipe => "cat script | dash",
            Invocation::DashC => "dash -c",
        }
    }

    /// Runs `script` this way with `shell`. `launch` makes the command
    /// for a program (plain, under `mayexec run`, in a sandbox …); the
    /// invocation adds the arguments and standard input.
    pub fn run(self, shell: &Path, script: &Path, launch: &dyn Fn(&OsStr) -> Command) -> Outcome {
        let feed = match self {
            Invocation::Direct => return Outcome::of(&mut launch(script.as_os_str())),
            Invocation::Script => Feed::Arg,
            Invocation::Stdin => Feed::Stdin,
            Invocation::Pipe => Feed::Pipe,
            Invocation::DashC => Feed::Text("-c"),
        };
        feed.run(launch(shell.as_os_str()), script)
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The message the enlightened dash prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    interp::denial("dash", label, reason)
}
