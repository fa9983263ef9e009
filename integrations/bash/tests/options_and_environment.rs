//! Code that reaches bash through an option or an environment variable,
//! not through a checked file (`docs/bash.md`, "Options and variables"):
//! each way in goes through the shared matrix of
//! [`mayexec_testkit::nofile`] — no policy and `mayexec run -f` run the
//! code, `run -i`, `run -fi` and `deny_interactive = true` refuse it with an
//! audit line, audit mode runs and logs it — as root and as `nobody`.
//!
//! The inventory itself is pinned too: every variable bash's manual page
//! lists, and every `set -o` and `shopt` option the shell has, must have a
//! row in the table of `docs/bash.md`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_bash::{denial, Built, BUILT};
use mayexec_testkit::conformance::inventory::{
    assert_every_name_has_a_row, first_words, names, read_built, shell_substitutions,
    variables_that_run_code, SHELL_EXERCISE,
};
use mayexec_testkit::conformance::mayexec_run;
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
use mayexec_testkit::{root_test, Sandbox, Tmpfs, NOBODY};

/// [`CodeFromNoFile`] for `program` with the variables `env` set.
fn way_in<S: AsRef<OsStr>>(
    what: impl Into<String>,
    program: impl AsRef<OsStr>,
    env: &[(&str, S)],
) -> CodeFromNoFile {
    CodeFromNoFile::new(what, program.as_ref()).envs(env.iter().map(|(n, v)| (n, v)))
}

/// A script that passes every check (0755 on an exec tmpfs) and says so.
fn ran_script(exec: &Tmpfs) -> PathBuf {
    exec.write("ran.sh", "echo ran\n", 0o755)
}

/// Code that prints `INJECTED` on stderr without the word appearing in
/// the code itself (so that no message quoting the code can pass for it).
const RUN: &str = r#"$(printf '%s%s\n' INJ ECTED >&2)"#;

/// `BASH_ENV` (read by every non-interactive bash before its script) is
/// expanded before it is used as a file name: parameter expansion, command
/// substitution and arithmetic all run code. Each way of writing code into
/// the value is refused under deny-interactive: bash stops with status 126
/// before the script, as the environment asked for code to run first.
#[root_test]
fn bash_env_whose_expansion_runs_code() {
    let Some(bash) = BUILT.require("bash_env_whose_expansion_runs_code") else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = ran_script(&exec);
    let vectors = [
        ("a command substitution", RUN.to_owned(), None),
        (
            "backquotes",
            "`printf '%s%s\\n' INJ ECTED >&2`".to_owned(),
            None,
        ),
        ("a default value ${x:-…}", format!("${{x:-{RUN}}}"), None),
        // The offset is evaluated only when x is set.
        (
            "an offset ${x:…}",
            format!("${{x:{RUN}}}"),
            Some(("x", "abc")),
        ),
        (
            "an array subscript in arithmetic",
            format!("$((a[{RUN}]))"),
            None,
        ),
        // The value names no code itself: ${x@P} expands x as a prompt.
        (
            "a prompt expansion ${x@P}",
            "${x@P}".to_owned(),
            Some(("x", RUN)),
        ),
    ];
    for (what, value, extra) in vectors {
        let mut env = vec![("BASH_ENV", value.as_str())];
        env.extend(extra);
        way_in(format!("BASH_ENV with {what}"), &bash, &env)
            .args([&script])
            .marker("INJECTED")
            .label("BASH_ENV")
            .refusal(Refusal::Whole(denial("BASH_ENV", "interactive")))
            .assert_contract();
    }
}

/// A `BASH_ENV` that only names a file — a literal path, `~/…`, `$HOME/…`,
/// `${DIR}/…` — is sourced (and checked, as `source` is) under
/// deny-interactive, and nothing is logged for its value.
#[root_test]
fn bash_env_that_names_a_file_is_sourced_under_deny_interactive() {
    let Some(bash) = BUILT.require("bash_env_that_names_a_file_is_sourced_under_deny_interactive")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = ran_script(&exec);
    let env_file = exec.write("env.sh", "echo sourced\n", 0o755);
    let dir = exec.path().to_str().expect("a UTF-8 mount point");
    let literal = env_file.to_str().expect("a UTF-8 path").to_owned();
    for value in [
        literal,
        "~/env.sh".to_owned(),
        "$HOME/env.sh".to_owned(),
        "${DIR}/env.sh".to_owned(),
        "$DIR/${NOTHING}env.sh".to_owned(),
    ] {
        for policy in [
            "deny_interactive = true\n",
            "deny_interactive = true\ninterpreted_access = 3\n",
        ] {
            let sandbox = Sandbox::new().policy(policy).capture_syslog();
            let got = Outcome::of(
                sandbox
                    .command(&bash)
                    .arg(&script)
                    .env("BASH_ENV", &value)
                    .env("HOME", dir)
                    .env("DIR", dir),
            );
            assert_eq!(
                got,
                Outcome::ran("sourced\nran\n"),
                "BASH_ENV={value} ({policy})"
            );
            assert_eq!(
                sandbox.syslog_lines(),
                Vec::<String>::new(),
                "BASH_ENV={value}"
            );
        }
    }
}

/// `ENV` is expanded like `BASH_ENV`, by an interactive shell in posix
/// mode, which deny-interactive refuses before it reads `ENV`; in audit
/// mode the value is logged (`path=ENV`) and expanded.
#[root_test]
fn env_whose_expansion_runs_code_is_logged_in_audit_mode() {
    let Some(bash) = BUILT.require("env_whose_expansion_runs_code_is_logged_in_audit_mode") else {
        return;
    };
    let exec = Tmpfs::exec();
    let input = exec.write("input", "echo main\n", 0o755);
    let run = |sandbox: &Sandbox| {
        Outcome::of(
            sandbox
                .command(&bash)
                .args(["--posix", "-i"])
                .env("ENV", RUN)
                .stdin(std::fs::File::open(&input).expect("open the input")),
        )
    };
    let audit = Sandbox::new()
        .policy("deny_interactive = true\nmode = \"audit\"\n")
        .capture_syslog();
    let got = run(&audit);
    assert!(got.stderr.contains("INJECTED"), "kept in audit mode: {got}");
    let lines = audit.syslog_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" path=ENV reason=interactive ") && l.ends_with(" action=audit")),
        "{lines:#?}"
    );

    let enforced = Sandbox::new()
        .policy("deny_interactive = true\n")
        .capture_syslog();
    let got = run(&enforced);
    assert_eq!(got, Outcome::refused(denial("<stdin>", "interactive")));
}

/// A message catalog (`.mo`) in GNU gettext's format, without a hash
/// table: `entries` as (msgid, msgstr), sorted by msgid for the binary
/// search gettext then does.
fn message_catalog(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut entries = entries.to_vec();
    entries.sort();
    let n = u32::try_from(entries.len()).expect("a few entries");
    let header = 28u32;
    let originals = header;
    let translations = originals + 8 * n;
    let mut strings = translations + 8 * n;
    let mut tables = Vec::new();
    let mut text = Vec::new();
    for column in [0, 1] {
        for entry in &entries {
            let s = if column == 0 { entry.0 } else { entry.1 };
            let len = u32::try_from(s.len()).expect("a short string");
            tables.extend_from_slice(&len.to_le_bytes());
            tables.extend_from_slice(&strings.to_le_bytes());
            text.extend_from_slice(s.as_bytes());
            text.push(0);
            strings += len + 1;
        }
    }
    let mut mo = Vec::new();
    for word in [0x9504_12de_u32, 0, n, originals, translations, 0, strings] {
        mo.extend_from_slice(&word.to_le_bytes());
    }
    mo.extend_from_slice(&tables);
    mo.extend_from_slice(&text);
    mo
}

/// `$"hello"` is translated from a catalog that the environment chooses
/// (`TEXTDOMAINDIR`, `LANGUAGE`, `LC_ALL`): a file nobody checked, whose
/// translation bash 5.2 expands like a double-quoted string. Under
/// deny-interactive a translation that could run code is data, as with
/// `shopt -s noexpand_translation`: printed as it is, logged once.
#[root_test]
fn translated_string_from_a_catalog_that_runs_code() {
    let Some(bash) = BUILT.require("translated_string_from_a_catalog_that_runs_code") else {
        return;
    };
    let exec = Tmpfs::exec();
    let translation = format!("{RUN}bonjour {RUN}");
    let catalog = message_catalog(&[
        ("", "Content-Type: text/plain; charset=UTF-8\n"),
        ("hello", &translation),
        ("plain", "simple $USER ${USER}"),
    ]);
    let dir = exec.path().join("locale/fr/LC_MESSAGES");
    std::fs::create_dir_all(&dir).expect("mkdir the catalog's directory");
    // Plain data files (0644): gettext reads them, nothing checks them.
    exec.write("locale/fr/LC_MESSAGES/greet.mo", &catalog, 0o644);
    for d in ["locale", "locale/fr", "locale/fr/LC_MESSAGES"] {
        std::fs::set_permissions(
            exec.path().join(d),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
    }
    let script = exec.write("greet.sh", "TEXTDOMAIN=greet\necho $\"hello\"\n", 0o755);
    let locale = exec.path().join("locale");
    let catalog_env = [
        ("TEXTDOMAINDIR", locale.as_os_str()),
        ("LANGUAGE", "fr".as_ref()),
        ("LC_ALL", "C.UTF-8".as_ref()),
    ];
    way_in(
        "a $\"…\" translation with a command substitution",
        &bash,
        &catalog_env,
    )
    .args([&script])
    .marker("INJECTED")
    .label("$\"...\"")
    .refusal(Refusal::Without(Outcome::ran(format!("{translation}\n"))))
    .assert_contract();

    // A translation that only names parameters is expanded as before, and
    // nothing is logged; one that runs code is logged once per shell.
    let both = exec.write(
        "both.sh",
        "TEXTDOMAIN=greet\nUSER=me\necho $\"plain\"\necho $\"hello\"\necho $\"hello\"\n",
        0o755,
    );
    let sandbox = Sandbox::new()
        .policy("deny_interactive = true\n")
        .capture_syslog();
    let got = Outcome::of(
        sandbox
            .command(&bash)
            .arg(&both)
            .env("TEXTDOMAINDIR", exec.path().join("locale"))
            .env("LANGUAGE", "fr")
            .env("LC_ALL", "C.UTF-8"),
    );
    assert_eq!(
        got,
        Outcome::ran(format!("simple me me\n{translation}\n{translation}\n"))
    );
    let lines = sandbox.syslog_lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains(" path=$\"...\" reason=interactive "),
        "{lines:#?}"
    );
}

/// `TEXTDOMAIN=bash` with a `TEXTDOMAINDIR` binds bash's own messages to
/// a catalog nobody checked: their translations are printf formats, so a
/// catalog can make printf read (`%s` too many: a crash) and write (`%n`)
/// memory. Under deny-interactive bash's own domain stays where bash was
/// built to find it; the script's messages are bash's own.
#[root_test]
fn message_formats_from_a_catalog_the_environment_chooses() {
    let Some(bash) = BUILT.require("message_formats_from_a_catalog_the_environment_chooses") else {
        return;
    };
    let exec = Tmpfs::exec();
    // A language no system catalog exists for: bash's messages stay as
    // written when its own domain is not rebound.
    let dir = exec.path().join("locale/xx/LC_MESSAGES");
    std::fs::create_dir_all(&dir).expect("mkdir the catalog's directory");
    for d in ["locale", "locale/xx", "locale/xx/LC_MESSAGES"] {
        std::fs::set_permissions(
            exec.path().join(d),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
    }
    exec.write(
        "locale/xx/LC_MESSAGES/bash.mo",
        message_catalog(&[
            ("", "Content-Type: text/plain; charset=UTF-8\n"),
            ("%s: command not found", "CATALOG %s"),
        ]),
        0o644,
    );
    let script = exec.write("missing.sh", "no_such_command\necho \"status $?\"\n", 0o755);
    let locale = exec.path().join("locale");
    way_in(
        "bash's own messages from a catalog in TEXTDOMAINDIR",
        &bash,
        &[
            ("TEXTDOMAIN", "bash".as_ref()),
            ("TEXTDOMAINDIR", locale.as_os_str()),
            ("LANGUAGE", "xx".as_ref()),
            ("LC_ALL", "C.UTF-8".as_ref()),
        ],
    )
    .args([&script])
    .marker("CATALOG no_such_command")
    .label("TEXTDOMAINDIR")
    .refusal(Refusal::Without(Outcome {
        exit: Exit::Code(0),
        stdout: "status 127\n".to_owned(),
        stderr: format!(
            "{}: line 1: no_such_command: command not found\n",
            script.display()
        ),
    }))
    .assert_contract();
}

/// `BASH_FUNC_f%%`: a function imported from the environment.
#[root_test]
fn function_from_the_environment() {
    let Some(bash) = BUILT.require("function_from_the_environment") else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("calls-f.sh", "f\necho \"status $?\"\n", 0o755);
    way_in(
        "an exported function",
        &bash,
        &[("BASH_FUNC_f%%", "() { printf '%s%s\\n' INJ ECTED; }")],
    )
    .args([&script])
    .marker("INJECTED")
    .label("BASH_FUNC_f%%")
    .refusal(Refusal::Without(Outcome {
        exit: Exit::Code(0),
        stdout: "status 127\n".to_owned(),
        stderr: format!("{}: line 1: f: command not found\n", script.display()),
    }))
    .assert_contract();
}

/// `PS4`, expanded before each command `-x` traces; also turned on through
/// `SHELLOPTS=xtrace`. As `nobody` only: bash itself ignores `PS4` from the
/// environment for root.
#[root_test]
fn trace_prompt_from_the_environment() {
    let Some(bash) = BUILT.require("trace_prompt_from_the_environment") else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = ran_script(&exec);
    let traced = Outcome {
        exit: Exit::Code(0),
        stdout: "ran\n".to_owned(),
        stderr: "+ echo ran\n".to_owned(),
    };
    // (`bash -x` is the conformance suite's.)
    way_in(
        "PS4 with SHELLOPTS=xtrace",
        &bash,
        &[
            ("PS4", format!("{RUN}+ ").as_str()),
            ("SHELLOPTS", "xtrace"),
        ],
    )
    .args([&script])
    .marker("INJECTED")
    .label("PS4")
    .users(&[NOBODY])
    .refusal(Refusal::Without(traced))
    .assert_contract();
}

/// `read -e` in a script edits the line with readline when standard input
/// is a terminal, and bash's `shell-expand-line` (M-C-e, bound by default)
/// expands the line typed so far, command substitution included: code
/// typed at the keyboard, which an `INPUTRC` macro can type too. Under
/// deny-interactive the line is left as typed.
#[root_test]
fn read_e_with_shell_expand_line() {
    let Some(bash) = BUILT.require("read_e_with_shell_expand_line") else {
        return;
    };
    // script(1) is util-linux's, in bsdutils, which Debian marks essential.
    let script_cmd = Path::new("/usr/bin/script");
    assert!(script_cmd.is_file(), "no {}", script_cmd.display());
    let exec = Tmpfs::exec();
    let reader = exec.write(
        "reader.sh",
        "IFS= read -r -e line\nprintf 'got <%s>\\n' \"$line\"\n",
        0o755,
    );
    let typed = "$(printf '%s%s' INJ ECTED)";
    // script(1) gives bash a terminal; everything bash writes to it comes
    // out on script's standard output, moved to stderr here.
    way_in(
        "read -e and shell-expand-line",
        "/bin/sh",
        &[("TERM", "dumb")],
    )
    .args([
        "-c".as_ref(),
        "exec \"$0\" -qec \"$1 $2\" /dev/null >&2".as_ref(),
        script_cmd.as_os_str(),
        bash.as_os_str(),
        reader.as_os_str(),
    ])
    .stdin(format!("{typed}\x1b\x05\n"))
    .marker("got <INJECTED>")
    .label("shell-expand-line")
    .refusal(Refusal::Fails(0, format!("got <{typed}>")))
    .assert_contract();

    // edit-and-execute-command (C-x C-e) has `fc` run the editor on the
    // line and then runs what the editor left: refused as `fc`'s edits are.
    let editor = exec.write(
        "editor.sh",
        "#!/bin/sh\nprintf 'printf \"%%s%%s\\\\n\" INJ ECTED\\n' > \"$1\"\n",
        0o755,
    );
    way_in(
        "read -e and edit-and-execute-command",
        "/bin/sh",
        &[("TERM", "dumb".as_ref()), ("VISUAL", editor.as_os_str())],
    )
    .args([
        "-c".as_ref(),
        "exec \"$0\" -qec \"$1 $2\" /dev/null >&2".as_ref(),
        script_cmd.as_os_str(),
        bash.as_os_str(),
        reader.as_os_str(),
    ])
    .stdin("abc\x18\x05\n")
    .marker("INJECTED")
    .label("fc")
    .refusal(Refusal::Fails(0, "Permission denied".to_owned()))
    .assert_contract();
}

/// The manual page of the bash being built (`doc/bash.1` in the Debian
/// source tree `build.sh` unpacks).
const MANUAL: Built = Built {
    what: "bash's manual page from the Debian source",
    env: None,
    installed: "target/bash-build/debian-src/doc/bash.1",
    build_script: "integrations/bash/build.sh",
};

/// The variables the manual's "Shell Variables" lists (`.TP` then
/// `.B NAME`), as names.
fn manual_variables(manual: &str) -> Vec<String> {
    let section = manual
        .split("\n.SS Shell Variables\n")
        .nth(1)
        .expect("bash.1 has a section \"Shell Variables\"");
    let section = section.split("\n.SS ").next().unwrap_or(section);
    let lines: Vec<&str> = section.lines().collect();
    let mut names = Vec::new();
    for pair in lines.windows(2) {
        if pair[0] == ".TP" {
            if let Some(name) = pair[1].strip_prefix(".B ") {
                let name = name.trim();
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}

#[test]
fn every_variable_of_the_manual_has_a_row() {
    let Some(manual) = read_built(&MANUAL, "every_variable_of_the_manual_has_a_row") else {
        return;
    };
    let variables = manual_variables(&manual);
    assert!(
        variables.len() > 100,
        "too few variables read: {variables:?}"
    );
    assert_every_name_has_a_row(&variables, "docs/bash.md", "bash.1");
}

#[test]
fn every_option_of_the_shell_has_a_row() {
    let Some(bash) = BUILT.require("every_option_of_the_shell_has_a_row") else {
        return;
    };
    for (builtin, flag) in [("set -o", "-o"), ("shopt", "-O")] {
        let names = first_words(&bash, &["-c", builtin], 0);
        assert!(
            names.len() > 20,
            "too few options from {builtin}: {names:?}"
        );
        let rows = names.iter().map(|name| format!("{flag} {name}"));
        assert_every_name_has_a_row(rows, "docs/bash.md", builtin);
    }
}

/// Variables bash (or what it links: gettext, the locale, ncurses, sshd's
/// check) reads that its manual's "Shell Variables" does not list.
const READ_BESIDES: [&str; 8] = [
    "TEXTDOMAIN",
    "TEXTDOMAINDIR",
    "LANGUAGE",
    "TERM",
    "TERMINFO",
    "TERMCAP",
    "SSH_CLIENT",
    "SSH2_CLIENT",
];

/// What bash adds to the shared exercise: its dynamic variables,
/// `select`, `time` and a here-string.
const BASH_EXERCISE: &str = r#"echo $SECONDS $RANDOM $LINENO $HISTCMD
select a in one; do break; done <<< 1
time :
read -r l <<< "line"
echo end
"#;

/// Every variable of the manual (and [`READ_BESIDES`]) set to code, one at
/// a time, for a script that exercises the shell: without a policy the
/// code runs through `BASH_ENV` and `PS4` only (for `nobody`; bash ignores
/// `PS4` from the environment for root), and under `mayexec run -i`
/// through none, as root and as `nobody`. A new bash that expands another
/// variable fails here.
#[root_test]
fn no_variable_runs_code_under_deny_interactive() {
    let Some(bash) = BUILT.require("no_variable_runs_code_under_deny_interactive") else {
        return;
    };
    let Some(manual) = read_built(&MANUAL, "no_variable_runs_code_under_deny_interactive") else {
        return;
    };
    let mut variables = manual_variables(&manual);
    variables.extend(READ_BESIDES.iter().map(|v| (*v).to_owned()));
    let exec = Tmpfs::exec();
    let script = exec.write(
        "exercise.sh",
        format!("{SHELL_EXERCISE}{BASH_EXERCISE}"),
        0o755,
    );
    // $(…), `…`, and an array subscript in arithmetic.
    let code = |marker: &str| {
        let mut values = shell_substitutions(marker);
        values.push(format!("a[{}]", values[0]));
        values
    };
    let ran = |enforced: bool, uid: u32| {
        variables_that_run_code(&variables, &code, &|| {
            let mut cmd = if enforced {
                mayexec_run("-i", &bash)
            } else {
                Command::new(&bash)
            };
            cmd.arg(&script);
            if uid != 0 {
                mayexec_testkit::as_nobody(&mut cmd);
            }
            cmd
        })
    };
    assert_eq!(
        ran(false, NOBODY),
        names(&["BASH_ENV", "PS4"]),
        "no policy, nobody"
    );
    assert_eq!(ran(false, 0), names(&["BASH_ENV"]), "no policy, root");
    assert_eq!(ran(true, NOBODY), names(&[]), "mayexec run -i, nobody");
    assert_eq!(ran(true, 0), names(&[]), "mayexec run -i, root");
}
