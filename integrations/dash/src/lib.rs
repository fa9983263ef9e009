//! The enlightened dash, as its conformance tests see it.
//!
//! The shell is built by `integrations/dash/build.sh` (Debian's dash with
//! `mayexec.patch`, libmayexec linked statically) and installed at
//! `target/dash-mayexec/bin/dash`; `MAYEXEC_DASH=PATH` points the tests at
//! another build. The tests compare it with the stock shell, `/bin/dash`.
//! The suite every interpreter owes is generated from [`DASH`]
//! (`tests/conformance.rs`); the other tests are dash's own.

use mayexec_testkit::conformance::{shell, Interpreter, Shell, Stock};
pub use mayexec_testkit::interp::Built;

/// The enlightened dash as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened dash",
    env: Some("MAYEXEC_DASH"),
    installed: "target/dash-mayexec/bin/dash",
    build_script: "integrations/dash/build.sh",
};

/// dash, for the conformance suite.
pub const DASH: Interpreter = Interpreter {
    stock: Stock::System("/bin/dash"),
    loaders: &[shell::DOT, shell::ENV],
    shell: Some(Shell {
        arg0: Some("dash"),
        interactive: &["-i"],
        interactive_code: &[("ENV", &["-i"])],
        ps4_for_root: true,
        logged_prompts: &["PS1", "PS2", "PS4"],
        dot_missing: (
            2,
            "dot_missing.sh: 3: .: cannot open ./lib/no-such-file.sh: No such file\n",
        ),
    }),
    ..Interpreter::new("dash", BUILT)
};

/// The message the enlightened dash prints when it refuses `label`.
pub fn denial(label: impl AsRef<std::ffi::OsStr>, reason: &str) -> String {
    DASH.denial(label, reason)
}
