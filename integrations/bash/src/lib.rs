//! The enlightened bash, as its conformance tests see it, and what its own
//! tests share: the loadable builtins and bash's message for a file it
//! cannot open.
//!
//! The shell is built by `integrations/bash/build.sh` (Debian's bash with
//! `mayexec.patch`, libmayexec linked statically) and installed at
//! `target/bash-mayexec/bin/bash`; `MAYEXEC_BASH=PATH` points the tests at
//! another build. The tests compare it with the stock shell, `/bin/bash`.
//! The suite every interpreter owes is generated from [`BASH`]
//! (`tests/conformance.rs`); the other tests are bash's own.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use mayexec_testkit::conformance::{shell, Interpreter, Loader, Shell, Stock};
pub use mayexec_testkit::interp::Built;

/// The enlightened bash as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened bash",
    env: Some("MAYEXEC_BASH"),
    installed: "target/bash-mayexec/bin/bash",
    build_script: "integrations/bash/build.sh",
};

/// The stock shell the enlightened one must behave like.
pub const STOCK_BASH: &str = "/bin/bash";

/// `BASH_ENV=FILE bash main.sh`, `main.sh` allowed and empty: every
/// non-interactive bash sources `BASH_ENV` before its script.
pub const BASH_ENV: Loader = Loader {
    name: "BASH_ENV=file",
    main: |_| String::new(),
    command: |cmd, file, main| {
        cmd.arg(main).env("BASH_ENV", file);
    },
    ran: "ran\n",
    interactive: false,
    filter: None,
};

/// bash, for the conformance suite.
pub const BASH: Interpreter = Interpreter {
    stock: Stock::System(STOCK_BASH),
    loaders: &[shell::DOT, BASH_ENV],
    shell: Some(Shell {
        arg0: Some("bash"),
        interactive: &["--norc", "-i"],
        // PS0 after a command is read, PROMPT_COMMAND before each prompt,
        // ENV in posix mode.
        interactive_code: &[
            ("PS0", &["--norc", "-i"]),
            ("PROMPT_COMMAND", &["--norc", "-i"]),
            ("ENV", &["--posix", "-i"]),
        ],
        // bash ignores PS4 from the environment for root.
        ps4_for_root: false,
        logged_prompts: &["PS4"],
        // `.` of a missing file is no error that ends bash.
        dot_missing: (
            0,
            "dot_missing.sh: line 3: ./lib/no-such-file.sh: No such file or directory\n",
        ),
    }),
    ..Interpreter::new("bash", BUILT)
};

/// The message the enlightened bash prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    BASH.denial(label, reason)
}

/// Where `build.sh` installs the example loadable builtins built with the
/// enlightened bash (`enable -f DIR/NAME NAME`).
pub fn loadables_dir(bash: &Path) -> PathBuf {
    bash.parent()
        .and_then(Path::parent)
        .expect("the shell is PREFIX/bin/bash")
        .join("lib/bash")
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
