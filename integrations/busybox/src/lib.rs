//! Test support for the enlightened BusyBox ash: where the two builds are,
//! the applets that are the shell (`sh`, `ash`), the ways a shell is given
//! code, and what came out.
//!
//! `integrations/busybox/build.sh` builds Debian's busybox source twice in
//! one tree: stock at `target/busybox-stock/bin/busybox`, and with
//! `mayexec.patch` and libmayexec at `target/busybox-mayexec/bin/busybox`.
//! `MAYEXEC_BUSYBOX=PATH` points the tests at another enlightened build.
//!
//! ```no_run
//! use mayexec_busybox::{require_busybox, Applet, Invocation, Outcome, Shell};
//! use std::process::Command;
//!
//! let Some(busybox) = require_busybox("example") else { return };
//! let sh = Shell::new(&busybox, Applet::Sh);
//! let script = std::path::Path::new("/srv/x.sh");
//! let out: Outcome = Invocation::Script.run(&sh, script, &|program| Command::new(program));
//! println!("{out}");
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use mayexec_testkit::in_ci;
pub use mayexec_testkit::interp::{
    self, outcome_within, workspace_root, Built, Enforced, Exit, Feed, Outcome,
};

/// The enlightened busybox as its tests find it (`MAYEXEC_BUSYBOX` points
/// them at another build).
pub const BUSYBOX: Built = Built {
    what: "the enlightened busybox",
    env: Some("MAYEXEC_BUSYBOX"),
    installed: "target/busybox-mayexec/bin/busybox",
    build_script: "integrations/busybox/build.sh",
};

/// The stock busybox `build.sh` builds from the same source.
pub const STOCK_BUSYBOX: Built = Built {
    what: "the stock busybox",
    env: None,
    installed: "target/busybox-stock/bin/busybox",
    build_script: "integrations/busybox/build.sh",
};

/// Where `build.sh` installs the enlightened busybox (or `MAYEXEC_BUSYBOX`).
pub fn default_busybox_path() -> PathBuf {
    BUSYBOX.path()
}

/// Where `build.sh` installs the stock busybox built from the same source.
pub fn stock_busybox_path() -> PathBuf {
    STOCK_BUSYBOX.path()
}

/// The enlightened busybox, if it is built ([`Built::require`]).
pub fn require_busybox(test: &str) -> Option<PathBuf> {
    BUSYBOX.require(test)
}

/// The stock busybox of the same source, if it is built.
pub fn require_stock_busybox(test: &str) -> Option<PathBuf> {
    STOCK_BUSYBOX.require(test)
}

/// Root and the enlightened busybox ([`Built::require_with_root`]).
pub fn require_root_and_busybox(test: &str) -> Option<PathBuf> {
    BUSYBOX.require_with_root(test)
}

/// The applets that run ash; each names itself in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applet {
    /// `busybox sh`.
    Sh,
    /// `busybox ash`.
    Ash,
}

impl Applet {
    /// Both.
    pub const ALL: [Applet; 2] = [Applet::Sh, Applet::Ash];

    /// The applet's name, the first argument to busybox.
    pub const fn name(self) -> &'static str {
        match self {
            Applet::Sh => "sh",
            Applet::Ash => "ash",
        }
    }
}

/// A shell: a busybox binary and the applet it runs.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The busybox binary.
    pub busybox: PathBuf,
    /// The applet.
    pub applet: Applet,
}

impl Shell {
    /// `busybox APPLET`.
    pub fn new(busybox: &Path, applet: Applet) -> Shell {
        Shell {
            busybox: busybox.to_owned(),
            applet,
        }
    }

    /// `launch`'s command for busybox with the applet as first argument;
    /// add the shell's arguments.
    pub fn command(&self, launch: &dyn Fn(&OsStr) -> Command) -> Command {
        let mut cmd = launch(self.busybox.as_os_str());
        cmd.arg(self.applet.name());
        cmd
    }

    /// The `#!` line that runs a script with this shell.
    pub fn shebang(&self) -> String {
        format!("#!{} {}\n", self.busybox.display(), self.applet.name())
    }

    /// The message this shell prints when it refuses `label`.
    pub fn denial(&self, label: impl AsRef<OsStr>, reason: &str) -> String {
        interp::denial(self.applet.name(), label, reason)
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "busybox {}", self.applet.name())
    }
}

/// The ways shell code reaches the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `./script`: the kernel runs the `#!` line's shell with the script.
    Direct,
    /// `busybox sh script`.
    Script,
    /// `busybox sh < script`.
    Stdin,
    /// `cat script | busybox sh`.
    Pipe,
    /// `busybox sh -c "$(cat script)"`: the same code on the command line.
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
            Invocation::Script => "sh script",
            Invocation::Stdin => "sh < script",
            Invocation::Pipe => "cat script | sh",
            Invocation::DashC => "sh -c",
        }
    }

    /// The label of a refusal of this invocation of `script`.
    pub fn label(self, script: &Path) -> &OsStr {
        match self {
            Invocation::Direct | Invocation::Script => script.as_os_str(),
            Invocation::Stdin | Invocation::Pipe => OsStr::new("<stdin>"),
            Invocation::DashC => OsStr::new("-c"),
        }
    }

    /// Runs `script` this way with `shell`. `launch` makes the command
    /// for a program (plain, under `mayexec run`, in a sandbox …); the
    /// invocation adds the arguments and standard input.
    pub fn run(self, shell: &Shell, script: &Path, launch: &dyn Fn(&OsStr) -> Command) -> Outcome {
        let feed = match self {
            Invocation::Direct => return Outcome::of(&mut launch(script.as_os_str())),
            Invocation::Script => Feed::Arg,
            Invocation::Stdin => Feed::Stdin,
            Invocation::Pipe => Feed::Pipe,
            Invocation::DashC => Feed::Text("-c"),
        };
        feed.run(shell.command(launch), script)
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
