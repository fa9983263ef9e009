//! Test support for the enlightened perl: where it is, the ways perl is
//! given code, and what came out.
//!
//! perl is built by `integrations/perl/build.sh` (Debian's perl with
//! `mayexec.patch`, configured as Debian's `/usr/bin/perl`, libmayexec
//! linked statically) and installed at `target/perl-mayexec/bin/perl`;
//! `MAYEXEC_PERL=PATH` points the tests at another build. The tests compare
//! it with the system's perl, [`STOCK_PERL`], and with perl built from the
//! same source without the patch, [`STOCK_BUILD`].
//!
//! ```no_run
//! use mayexec_perl::{require_perl, Invocation, Outcome};
//! use std::path::Path;
//! use std::process::Command;
//!
//! let Some(perl) = require_perl("example") else { return };
//! let script = Path::new("/srv/Exec755.pm");
//! let out: Outcome =
//!     Invocation::Script.run(&perl, script, Path::new("/srv"), &|program| Command::new(program));
//! println!("{out}");
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use mayexec_testkit::in_ci;
pub use mayexec_testkit::interp::{self, workspace_root, Built, Enforced, Exit, Feed, Outcome};

/// The system's perl, which the enlightened one replaces.
pub const STOCK_PERL: &str = "/usr/bin/perl";

/// The enlightened perl as its tests find it (`MAYEXEC_PERL` points them at
/// another build).
pub const PERL: Built = Built {
    what: "the enlightened perl",
    env: Some("MAYEXEC_PERL"),
    installed: "target/perl-mayexec/bin/perl",
    build_script: "integrations/perl/build.sh",
};

/// perl from the same source without the patch, built alongside.
pub const STOCK_BUILD: Built = Built {
    what: "the stock perl build",
    env: None,
    installed: "target/perl-stock/bin/perl",
    build_script: "integrations/perl/build.sh",
};

/// The enlightened perl, if it is built ([`Built::require`]).
pub fn require_perl(test: &str) -> Option<PathBuf> {
    PERL.require(test)
}

/// Root and the enlightened perl ([`Built::require_with_root`]).
pub fn require_root_and_perl(test: &str) -> Option<PathBuf> {
    PERL.require_with_root(test)
}

/// The ways code reaches perl: the behaviour table's rows. The code is a
/// file `NAME.pm` (a valid program and a valid module); the rows that load
/// it from another program run an allowed `main` program on the exec mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `./file`: the kernel runs the `#!` line's perl with the file.
    Direct,
    /// `perl file`.
    Script,
    /// `perl -x file`: the program starts at the `#!…perl` line.
    DashX,
    /// `perl -S NAME.pm` with the file's directory in `PATH`.
    DashS,
    /// `perl < file`.
    Stdin,
    /// `cat file | perl`.
    Pipe,
    /// `perl -e "$(cat file)"`: the same code on the command line.
    DashE,
    /// `perl main` where `main` runs `require "FILE"` (the path).
    Require,
    /// `perl main` where `main` runs `use NAME;` with the directory in @INC.
    Use,
    /// `perl main` where `main` runs `do "FILE"`.
    Do,
    /// `perl -IDIR -MNAME main`.
    DashM,
    /// `PERL5OPT="-IDIR -MNAME" perl main`.
    Perl5Opt,
}

impl Invocation {
    /// Every invocation, in the order of the behaviour table.
    pub const ALL: [Invocation; 12] = [
        Invocation::Direct,
        Invocation::Script,
        Invocation::DashX,
        Invocation::DashS,
        Invocation::Stdin,
        Invocation::Pipe,
        Invocation::DashE,
        Invocation::Require,
        Invocation::Use,
        Invocation::Do,
        Invocation::DashM,
        Invocation::Perl5Opt,
    ];

    /// How the table writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Invocation::Direct => "./file",
            Invocation::Script => "perl file",
            Invocation::DashX => "perl -x file",
            Invocation::DashS => "perl -S file",
            Invocation::Stdin => "perl < file",
            Invocation::Pipe => "cat file | perl",
            Invocation::DashE => "perl -e",
            Invocation::Require => "require FILE",
            Invocation::Use => "use NAME",
            Invocation::Do => "do FILE",
            Invocation::DashM => "perl -MNAME",
            Invocation::Perl5Opt => "PERL5OPT=-MNAME",
        }
    }

    /// Does perl compile the file as a module (from an allowed program)
    /// rather than as the program?
    pub const fn loads_a_module(self) -> bool {
        matches!(
            self,
            Invocation::Require
                | Invocation::Use
                | Invocation::Do
                | Invocation::DashM
                | Invocation::Perl5Opt
        )
    }

    /// The allowed program (0755, in `exec_dir`, a directory on an exec
    /// mount) that loads `file` for the module rows.
    pub fn main_program(self, file: &Path, exec_dir: &Path) -> Option<PathBuf> {
        let dir = file.parent().expect("a file in a directory").display();
        let module = module_name(file);
        let path = file.display();
        let text = match self {
            Invocation::Require => format!("require \"{path}\";\n"),
            Invocation::Use => format!("BEGIN {{ unshift @INC, \"{dir}\" }}\nuse {module};\n"),
            Invocation::Do => {
                format!("do \"{path}\" or print \"do: \", ($@ || \"$!\"), \"\\n\";\n")
            }
            Invocation::DashM | Invocation::Perl5Opt => String::new(),
            _ => return None,
        };
        let main = exec_dir.join(format!("{module}-main-{}.pl", self.slug()));
        std::fs::write(&main, text).expect("write the main program");
        std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the main program");
        Some(main)
    }

    fn slug(self) -> &'static str {
        match self {
            Invocation::Require => "require",
            Invocation::Use => "use",
            Invocation::Do => "do",
            Invocation::DashM => "dash-m",
            Invocation::Perl5Opt => "perl5opt",
            _ => "none",
        }
    }

    /// Runs `file` this way with `perl`. `launch` makes the command for a
    /// program (plain, under `mayexec run`, in a sandbox …); the invocation
    /// adds the arguments, environment and standard input. `exec_dir` is
    /// where [`Invocation::main_program`] goes.
    pub fn run(
        self,
        perl: &Path,
        file: &Path,
        exec_dir: &Path,
        launch: &dyn Fn(&OsStr) -> Command,
    ) -> Outcome {
        let dir = file.parent().expect("a file in a directory");
        let module = module_name(file);
        let mut cmd = match self {
            Invocation::Direct => launch(file.as_os_str()),
            Invocation::Script => return Feed::Arg.run(launch(perl.as_os_str()), file),
            Invocation::DashX => {
                let mut cmd = launch(perl.as_os_str());
                cmd.arg("-x").arg(file);
                cmd
            }
            Invocation::DashS => {
                let mut cmd = launch(perl.as_os_str());
                cmd.arg("-S")
                    .arg(file.file_name().expect("a file name"))
                    .env("PATH", format!("{}:/usr/bin:/bin", dir.display()));
                cmd
            }
            Invocation::Stdin => return Feed::Stdin.run(launch(perl.as_os_str()), file),
            Invocation::Pipe => return Feed::Pipe.run(launch(perl.as_os_str()), file),
            Invocation::DashE => return Feed::Text("-e").run(launch(perl.as_os_str()), file),
            Invocation::Require | Invocation::Use | Invocation::Do => {
                let main = self.main_program(file, exec_dir).expect("a main program");
                let mut cmd = launch(perl.as_os_str());
                cmd.arg(main);
                cmd
            }
            Invocation::DashM => {
                let main = self.main_program(file, exec_dir).expect("a main program");
                let mut cmd = launch(perl.as_os_str());
                cmd.arg(format!("-I{}", dir.display()))
                    .arg(format!("-M{module}"))
                    .arg(main);
                cmd
            }
            Invocation::Perl5Opt => {
                let main = self.main_program(file, exec_dir).expect("a main program");
                let mut cmd = launch(perl.as_os_str());
                cmd.arg(main)
                    .env("PERL5OPT", format!("-I{} -M{module}", dir.display()));
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

/// The module a file `DIR/NAME.pm` is: `NAME`.
pub fn module_name(file: &Path) -> String {
    file.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// The message the enlightened perl prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    interp::denial("perl", label, reason)
}

/// C's `strerror`, as perl prints `$!` (Rust's io::Error adds "(os error N)").
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// perl's message when `require` (or `use`) finds `file` for `name` but
/// cannot read it: `Can't locate NAME:   FILE: ERROR at …`, without the
/// location that follows.
pub fn cannot_locate(name: &str, file: &Path, errno: i32) -> String {
    format!(
        "Can't locate {name}:   {}: {}",
        file.display(),
        strerror(errno)
    )
}
