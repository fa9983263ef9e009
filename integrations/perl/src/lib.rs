//! The enlightened perl, as its conformance tests see it: a file is a
//! program and a module at once (`NAME.pm`), found as the program by
//! `perl FILE`, `-x` and `-S`, and loaded by `require`, `use`, `do`, `-M`
//! and `PERL5OPT`.
//!
//! perl is built by `integrations/perl/build.sh` (Debian's perl with
//! `mayexec.patch`, configured as Debian's `/usr/bin/perl`, libmayexec
//! linked statically) and installed at `target/perl-mayexec/bin/perl`;
//! `MAYEXEC_PERL=PATH` points the tests at another build. The tests compare
//! it with the system's perl, [`STOCK_PERL`]. The suite every interpreter
//! owes is generated from [`PERL`] (`tests/conformance.rs`); the other
//! tests are perl's own (its switches and variables, XS, the debugger…).

use std::ffi::OsStr;
use std::path::Path;

use mayexec_testkit::conformance::{FileWay, Interpreter, Loader, Stock};
pub use mayexec_testkit::interp::Built;

/// The system's perl, which the enlightened one replaces.
pub const STOCK_PERL: &str = "/usr/bin/perl";

/// The enlightened perl as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened perl",
    env: Some("MAYEXEC_PERL"),
    installed: "target/perl-mayexec/bin/perl",
    build_script: "integrations/perl/build.sh",
};

/// The directory of `file` and the module it is (`DIR/NAME.pm`: `NAME`).
fn dir_and_module(file: &Path) -> (String, String) {
    let dir = file.parent().expect("a file in a directory").display();
    let module = file.file_stem().expect("a file name").to_string_lossy();
    (dir.to_string(), module.into_owned())
}

/// Where the module rows' allowed program is the whole program.
fn run_main(cmd: &mut std::process::Command, _: &Path, main: &Path) {
    cmd.arg(main);
}

/// A module loaded by a switch or `PERL5OPT`: the program is empty.
fn empty(_: &Path) -> String {
    String::new()
}

/// perl, for the conformance suite.
pub const PERL: Interpreter = Interpreter {
    stock: Stock::System(STOCK_PERL),
    extension: "pm",
    print: |text| format!("print \"{text}\\n\";\n1;\n"),
    text_flag: "-e",
    file_ways: &[
        // The program starts at the `#!…perl` line.
        FileWay {
            name: "-x FILE",
            command: |cmd, file| {
                cmd.arg("-x").arg(file);
            },
            not_executable: None,
        },
        // perl's own PATH search takes only executable files: a 0644 one
        // is "Can't execute" whatever the policy (its status a stale errno).
        FileWay {
            name: "-S NAME",
            command: |cmd, file| {
                let (dir, _) = dir_and_module(file);
                cmd.arg("-S")
                    .arg(file.file_name().expect("a file name"))
                    .env("PATH", format!("{dir}:/usr/bin:/bin"));
            },
            not_executable: Some(|file| format!("Can't execute {}.\n", file.display())),
        },
    ],
    loaders: &[
        Loader {
            name: "require FILE",
            main: |file| format!("require \"{}\";\n", file.display()),
            command: run_main,
            ran: "ran\n",
            interactive: false,
            filter: None,
        },
        Loader {
            name: "use NAME",
            main: |file| {
                let (dir, module) = dir_and_module(file);
                format!("BEGIN {{ unshift @INC, \"{dir}\" }}\nuse {module};\n")
            },
            command: run_main,
            ran: "ran\n",
            interactive: false,
            filter: None,
        },
        Loader {
            name: "do FILE",
            main: |file| {
                let path = file.display();
                format!("do \"{path}\" or print \"do: \", ($@ || \"$!\"), \"\\n\";\n")
            },
            command: run_main,
            ran: "ran\n",
            interactive: false,
            filter: None,
        },
        Loader {
            name: "perl -MNAME",
            main: empty,
            command: |cmd, file, main| {
                let (dir, module) = dir_and_module(file);
                cmd.arg(format!("-I{dir}"))
                    .arg(format!("-M{module}"))
                    .arg(main);
            },
            ran: "ran\n",
            interactive: false,
            filter: None,
        },
        Loader {
            name: "PERL5OPT=-MNAME",
            main: empty,
            command: |cmd, file, main| {
                let (dir, module) = dir_and_module(file);
                cmd.arg(main).env("PERL5OPT", format!("-I{dir} -M{module}"));
            },
            ran: "ran\n",
            interactive: false,
            filter: None,
        },
    ],
    ..Interpreter::new("perl", BUILT)
};

/// The message the enlightened perl prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    PERL.denial(label, reason)
}

/// C's `strerror`, as perl prints `$!` (Rust's io::Error adds "(os error N)").
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}
