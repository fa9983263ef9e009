//! Code from no file, through the whole matrix of the shared test body
//! (`mayexec_testkit::nofile`): no policy and `mayexec run -f` run it,
//! `mayexec run -i`, `-fi` and `deny_interactive = true` refuse it with an
//! audit line, audit mode runs and logs it; as root and as nobody.
//!
//! - awk: the program operand (as `busybox awk` and through a link named
//!   `awk`), `-e`;
//! - vi: `:!` from `-c` and from `EXINIT`;
//! - ash: `PS1` and `PS2` of an interactive shell, logged by name,
//!   and an `ENV` that expands a command substitution (`-c`, `PS4`
//!   and the interactive shell's `<stdin>` are the conformance suite's).

use std::os::unix::fs::symlink;
use std::path::Path;

use mayexec_busybox::BUILT;
use mayexec_testkit::interp::denial;
use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
use mayexec_testkit::{root_test, Tmpfs};

/// `CodeFromNoFile` for `busybox` with environment variables.
fn with_env(what: &str, busybox: &Path, vars: &[(&str, &str)]) -> CodeFromNoFile {
    CodeFromNoFile::new(what, busybox).envs(vars.iter().copied())
}

const AWK_PROGRAM: &str = "BEGIN { print \"INJECTED\" }";

#[root_test]
fn awk_refuses_a_program_operand_under_deny_interactive() {
    let Some(busybox) = BUILT.require("awk_program_operand") else {
        return;
    };
    CodeFromNoFile::new("busybox awk PROGRAM", &busybox)
        .args(["awk", AWK_PROGRAM])
        .marker("INJECTED")
        .label("<program>")
        .refusal(Refusal::Whole(denial("awk", "<program>", "interactive")))
        .assert_contract();
}

#[root_test]
fn awk_through_a_link_named_awk_refuses_a_program_operand_under_deny_interactive() {
    let Some(busybox) = BUILT.require("awk_link_program_operand") else {
        return;
    };
    // A link on a tmpfs (mode 0755): nobody reaches it too.
    let links = Tmpfs::exec();
    let awk = links.path().join("awk");
    symlink(&busybox, &awk).expect("symlink awk -> busybox");
    CodeFromNoFile::new("awk PROGRAM, awk a link to busybox", &awk)
        .args([AWK_PROGRAM])
        .marker("INJECTED")
        .label("<program>")
        .refusal(Refusal::Whole(denial("awk", "<program>", "interactive")))
        .assert_contract();
}

#[root_test]
fn awk_refuses_a_program_given_with_dash_e_under_deny_interactive() {
    let Some(busybox) = BUILT.require("awk_dash_e") else {
        return;
    };
    CodeFromNoFile::new("busybox awk -e PROGRAM", &busybox)
        .args(["awk", "-e", AWK_PROGRAM])
        .marker("INJECTED")
        .label("-e")
        .refusal(Refusal::Whole(denial("awk", "-e", "interactive")))
        .assert_contract();
}

/// vi reports a refused `:!` on its status line (stdout, the terminal) and
/// goes on: `:q!` then ends it with status 0.
fn vi_goes_on() -> Refusal {
    Refusal::Fails(0, String::new())
}

#[root_test]
fn vi_refuses_a_shell_command_from_dash_c_under_deny_interactive() {
    let Some(busybox) = BUILT.require("vi_dash_c") else {
        return;
    };
    with_env("busybox vi -c ':!CMD'", &busybox, &[("TERM", "dumb")])
        .args(["vi", "-c", ":!echo INJECTED >&2", "-c", ":q!", "/dev/null"])
        .marker("INJECTED")
        .label(":!")
        .refusal(vi_goes_on())
        .assert_contract();
}

#[root_test]
fn vi_refuses_a_shell_command_from_exinit_under_deny_interactive() {
    let Some(busybox) = BUILT.require("vi_exinit") else {
        return;
    };
    with_env(
        "EXINIT=':!CMD' busybox vi",
        &busybox,
        &[("TERM", "dumb"), ("EXINIT", ":!echo INJECTED >&2")],
    )
    .args(["vi", "-c", ":q!", "/dev/null"])
    .marker("INJECTED")
    .label(":!")
    .refusal(vi_goes_on())
    .assert_contract();
}

/// An interactive shell, standard input `/dev/null`: refused under
/// deny-interactive before it reads anything.
fn interactive_refused() -> Refusal {
    Refusal::Whole(denial("sh", "<stdin>", "not-regular-file"))
}

#[root_test]
fn ash_ignores_ps1_and_ps2_from_the_environment_under_deny_interactive() {
    let Some(busybox) = BUILT.require("ash_ps1_ps2") else {
        return;
    };
    // PS1 is expanded for the first prompt; PS2 for the continuation of
    // an unfinished `if` (standard input is a pipe then).
    with_env(
        "PS1='$(cmd)' busybox sh -i",
        &busybox,
        &[("PS1", "$(echo INJECTED >&2)$ ")],
    )
    .args(["sh", "-i"])
    .marker("INJECTED")
    .label("PS1")
    .refusal(interactive_refused())
    .assert_contract();
    with_env(
        "PS2='$(cmd)' busybox sh -i",
        &busybox,
        &[("PS2", "$(echo INJECTED >&2)> ")],
    )
    .args(["sh", "-i"])
    .stdin("if true\nthen :\nfi\n")
    .marker("INJECTED")
    .label("PS2")
    .refusal(Refusal::Whole(denial("sh", "<stdin>", "not-regular-file")))
    .assert_contract();
}

#[root_test]
fn ash_does_not_expand_an_env_with_a_command_substitution_under_deny_interactive() {
    let Some(busybox) = BUILT.require("ash_env") else {
        return;
    };
    with_env(
        "ENV='$(cmd)' busybox sh -i",
        &busybox,
        &[("ENV", "$(echo INJECTED >&2)")],
    )
    .args(["sh", "-i"])
    .marker("INJECTED")
    .label("ENV")
    .refusal(interactive_refused())
    .assert_contract();
}
