//! The enlightened BusyBox ash, as its conformance tests see it: the two
//! applets that are the shell, `busybox sh` and `busybox ash`, each of
//! which names itself in its messages.
//!
//! `integrations/busybox/build.sh` builds Debian's busybox source twice in
//! one tree: stock at `target/busybox-stock/bin/busybox`, and with
//! `mayexec.patch` and libmayexec at `target/busybox-mayexec/bin/busybox`.
//! `MAYEXEC_BUSYBOX=PATH` points the tests at another enlightened build.
//! The suite every interpreter owes is generated from [`SH`] and [`ASH`]
//! (`tests/conformance.rs`); the other tests are BusyBox's own (its
//! applets, awk's program files, the login profiles, ash's test suite).

use mayexec_testkit::conformance::{shell, Interpreter, Loader, Shell, Stock};
use mayexec_testkit::interp::{Built, Outcome};

/// The enlightened busybox as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened busybox",
    env: Some("MAYEXEC_BUSYBOX"),
    installed: "target/busybox-mayexec/bin/busybox",
    build_script: "integrations/busybox/build.sh",
};

/// The stock busybox `build.sh` builds from the same source.
pub const STOCK: Built = Built {
    what: "the stock busybox",
    env: None,
    installed: "target/busybox-stock/bin/busybox",
    build_script: "integrations/busybox/build.sh",
};

/// `busybox sh`.
pub const SH: Interpreter = applet("sh", &["sh"]);

/// `busybox ash`.
pub const ASH: Interpreter = applet("ash", &["ash"]);

/// An interactive ash greets with a banner on stdout (blank lines, the
/// version, a hint): off, what is left is the code's output.
pub fn without_banner(mut got: Outcome) -> Outcome {
    got.stdout = got
        .stdout
        .lines()
        .filter(|line| {
            !(line.is_empty() || line.starts_with("BusyBox v") || line.starts_with("Enter 'help'"))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    got
}

const fn applet(name: &'static str, args: &'static [&'static str]) -> Interpreter {
    Interpreter {
        stock: Stock::Built(STOCK),
        applet: args,
        loaders: &[
            shell::DOT,
            Loader {
                filter: Some(without_banner),
                ..shell::ENV
            },
        ],
        shell: Some(Shell {
            arg0: None,
            interactive: &["-i"],
            interactive_code: &[("ENV", &["-i"])],
            ps4_for_root: true,
            logged_prompts: &["PS1", "PS2", "PS4"],
            dot_missing: (
                2,
                "can't open './lib/no-such-file.sh': No such file or directory",
            ),
        }),
        ..Interpreter::new(name, BUILT)
    }
}
