//! Code carried by a switch or an environment variable (issue #21): perl
//! pastes the text of `-M`/`-m`, `-d:` and `-F` into the program it
//! compiles before the script, takes the same switches from `PERL5OPT`,
//! and `perl -d` without a module starts the debugger, whose prompt runs
//! Perl code read from the terminal or standard input. Under
//! deny-interactive only the data forms run (a module name, `-NAME`; a
//! split pattern perl quotes itself); everything else is
//! refused with the audit line, labelled with the switch or the variable.
//! Switches on the `#!` line of a checked program are that program's own.
//!
//! Each way in goes through the shared contract
//! (`mayexec_testkit::nofile`): it runs with no policy and under
//! `mayexec run -f` (the vector is real), is refused under `run -i`,
//! `run -fi` and `deny_interactive`, runs and is logged in audit mode, as
//! root and as nobody. Under `run -f` every file perl compiles must pass
//! the full check, and Debian's modules are 0644: the modules a vector
//! loads (`Mark.pm`, `Devel/Mark.pm`, and `re.pm` or `perl5db.pl` with all
//! they load, XS libraries included) are 0755 copies on an exec tmpfs put
//! first in @INC with `-I`.
//!
//! The inventory of every switch and variable is the table in
//! `docs/perl.md`; the last test fails when perlrun lists one it lacks.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_perl::{denial, BUILT};
use mayexec_testkit::interp::{workspace_root, Enforced, Outcome};
use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
use mayexec_testkit::{root_test, Sandbox, Tmpfs};

/// Code that prints the marker without holding it: perl's errors quote the
/// text they choke on, and must never look like a run.
const PRINT: &str = "print(\"INJ\".\"ECTED\\n\")";
const MARKER: &str = "INJECTED";

/// One line of Perl that lists on stderr the files perl has compiled or
/// loaded: `STAGE<TAB>path in @INC<TAB>file`.
const DUMP: &str = "print STDERR \"STAGE\\t$_\\t$INC{$_}\\n\" for sort keys %INC; \
                    m{/(auto/.*)} and print STDERR \"STAGE\\t$1\\t$_\\n\" \
                    for @DynaLoader::dl_shared_objects";

/// An exec tmpfs with the program and the modules the vectors name, all
/// 0755: `prog.pl`, `Mark.pm`, `Devel/Mark.pm` (a debugger module: it
/// defines `DB::DB`). Both modules print the arguments of their `import`.
struct Tree {
    fs: Tmpfs,
}

impl Tree {
    fn new() -> Tree {
        let fs = Tmpfs::exec();
        fs.write("prog.pl", "print \"prog\\n\";\n", 0o755);
        fs.write(
            "Mark.pm",
            "package Mark;\nsub import { shift; print \"Mark(@_)\\n\" if @_ }\n1;\n",
            0o755,
        );
        std::fs::create_dir(fs.path().join("Devel")).expect("mkdir Devel");
        fs.write(
            "Devel/Mark.pm",
            "package Devel::Mark;\nsub import { shift; print \"Devel::Mark(@_)\\n\" if @_ }\n\
             package DB;\nsub DB {}\n1;\n",
            0o755,
        );
        Tree { fs }
    }

    fn dir(&self) -> &Path {
        self.fs.path()
    }

    /// `-IDIR`.
    fn inc(&self) -> String {
        format!("-I{}", self.dir().display())
    }

    fn prog(&self) -> PathBuf {
        self.dir().join("prog.pl")
    }

    /// Copies into the tree, 0755, every file perl compiles or loads when
    /// it runs `perl -IDIR ARGS stage.pl` with `env` and `stdin` (without
    /// a policy): modules, `.pl` files, XS libraries, each at its path
    /// relative to its @INC directory, so that `-IDIR` finds the copies
    /// first and `mayexec run -f` passes them.
    fn stage(&self, perl: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) {
        let stage = self
            .fs
            .write("stage.pl", format!("END {{ {DUMP} }}\n"), 0o755);
        let mut child = Command::new(perl)
            .arg(self.inc())
            .args(args)
            .arg(&stage)
            .envs(env.iter().copied())
            .env_remove("PERL5DB")
            .env_remove("PERL5OPT")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start perl to stage its files");
        child
            .stdin
            .take()
            .expect("a piped stdin")
            .write_all(stdin.as_bytes())
            .expect("feed perl");
        let out = child.wait_with_output().expect("wait for perl");
        let text = String::from_utf8_lossy(&out.stderr);
        let mut staged = 0;
        // The debugger's prompt may come first on a line.
        for line in text
            .lines()
            .filter_map(|l| l.find("STAGE\t").map(|at| &l[at..]))
        {
            let mut fields = line.split('\t');
            let (Some("STAGE"), Some(rel), Some(from)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let from = Path::new(from);
            if from.starts_with(self.dir()) {
                continue;
            }
            let to = self.dir().join(rel);
            std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir -p");
            std::fs::copy(from, &to)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755))
                .expect("chmod 0755");
            staged += 1;
        }
        assert!(staged > 0, "staged nothing for {args:?}:\n{text}");
    }
}

/// The contract for one way in, refused with `perl: LABEL: … (interactive)`.
fn vector(what: &str, perl: &Path, label: &str) -> CodeFromNoFile {
    with_env(what, perl, label, &[])
}

/// The same with environment variables. `CodeFromNoFile::env` puts them
/// before `env`'s `--`, where `env` takes `--` for the command: they are
/// set here by a second `env`, the command `--` runs.
fn with_env(what: &str, perl: &Path, label: &str, env: &[(&str, &str)]) -> CodeFromNoFile {
    let vector = if env.is_empty() {
        CodeFromNoFile::new(what, perl)
    } else {
        CodeFromNoFile::new(what, "/usr/bin/env")
            .args(env.iter().map(|(name, value)| format!("{name}={value}")))
            .args([perl])
    };
    vector
        .marker(MARKER)
        .label(label)
        .refusal(Refusal::Whole(denial(label, "interactive")))
}

#[root_test]
fn dash_m_with_code_after_the_module_name() {
    let Some(perl) = BUILT.require("dash_m_with_code_after_the_module_name") else {
        return;
    };
    let tree = Tree::new();
    // "use Mark;print(…);", "use Mark ();print(…);", " no Mark;print(…);"
    for text in [
        format!("-MMark;{PRINT}"),
        format!("-MMark ();{PRINT}"),
        format!("-M-Mark;{PRINT}"),
    ] {
        vector(&format!("perl '{text}'"), &perl, "-M")
            .args([tree.inc(), text.clone()])
            .args([tree.prog()])
            .assert_contract();
    }
}

#[root_test]
fn perl5opt_carries_the_switches_of_the_command_line() {
    let Some(perl) = BUILT.require("perl5opt_carries_the_switches_of_the_command_line") else {
        return;
    };
    let tree = Tree::new();
    // PERL5OPT splits at white space: code without any.
    for value in [
        format!("-MMark;{PRINT}"),
        format!("-d:Mark;BEGIN{{{PRINT}}}"),
    ] {
        with_env(
            &format!("PERL5OPT='{value}'"),
            &perl,
            "PERL5OPT",
            &[("PERL5OPT", &value)],
        )
        .args([tree.inc()])
        .args([tree.prog()])
        .assert_contract();
    }
}

#[root_test]
fn dash_d_colon_with_more_than_a_module_name() {
    let Some(perl) = BUILT.require("dash_d_colon_with_more_than_a_module_name") else {
        return;
    };
    let tree = Tree::new();
    for text in [
        // PERL5DB = "use Devel::Mark;BEGIN{…}"
        format!("-d:Mark;BEGIN{{{PRINT}}}"),
        format!("-dt:Mark;BEGIN{{{PRINT}}}"),
        // PERL5DB = "use Devel::Mark split(/,/,q{}),print(…),(q{});": the
        // arguments close perl's q{}.
        format!("-d:Mark=}}),{PRINT},(q{{"),
    ] {
        vector(&format!("perl '{text}'"), &perl, "-d")
            .args([tree.inc(), text.clone()])
            .args([tree.prog()])
            .assert_contract();
    }
}

/// perl5db.pl and everything it loads, staged in `tree`: the debugger's
/// prompt reads commands from `PERLDB_OPTS`'s `TTY` (standard input here,
/// also when the test has a terminal): the test's command, then `c`, then
/// the list of what it loaded, then `q`.
fn stage_the_debugger(tree: &Tree, perl: &Path) {
    tree.stage(
        perl,
        &["-d"],
        &[("PERLDB_OPTS", "TTY=/dev/stdin,/dev/stderr")],
        &format!("{PRINT}\nc\n{DUMP}\nq\n"),
    );
}

#[root_test]
fn the_debuggers_prompt_is_a_prompt() {
    let Some(perl) = BUILT.require("the_debuggers_prompt_is_a_prompt") else {
        return;
    };
    let tree = Tree::new();
    stage_the_debugger(&tree, &perl);
    let commands = format!("{PRINT}\nq\n");
    let tty = ("PERLDB_OPTS", "TTY=/dev/stdin,/dev/stderr");
    with_env("perl -d, commands on stdin", &perl, "-d", &[tty])
        .args([tree.inc(), "-d".into()])
        .args([tree.prog()])
        .stdin(commands.clone())
        .assert_contract();
    with_env(
        "PERL5OPT=-d, commands on stdin",
        &perl,
        "PERL5OPT",
        &[tty, ("PERL5OPT", "-d")],
    )
    .args([tree.inc()])
    .args([tree.prog()])
    .stdin(commands.clone())
    .assert_contract();
    // A checked program that asks for the debugger on its #! line still
    // gets a prompt reading code from no file.
    let hashbang = tree.fs.write(
        "debugged.pl",
        format!("#!{} -d\nprint \"prog\\n\";\n", perl.display()),
        0o755,
    );
    with_env("#!perl -d, commands on stdin", &perl, "-d", &[tty])
        .args([tree.inc()])
        .args([hashbang])
        .stdin(commands)
        .assert_contract();
}

#[root_test]
fn dash_f_patterns_that_perl_pastes_as_code() {
    let Some(perl) = BUILT.require("dash_f_patterns_that_perl_pastes_as_code") else {
        return;
    };
    let tree = Tree::new();
    // -F implies -an: "our @F=split(PATTERN);" runs for each line read.
    for pattern in [
        format!("/(?{{{PRINT}}})/"),
        // No double quote inside the double-quoted string.
        "\"@{[print(q(INJ).q(ECTED).qq(\\n))]}\"".into(),
        format!("'x');{PRINT};#'"),
    ] {
        vector(&format!("perl -F'{pattern}'"), &perl, "-F")
            .args([format!("-F{pattern}")])
            .args([tree.prog()])
            .stdin("a:b\n")
            .assert_contract();
    }
}

/// `-MNAME=ARGS`: perl quotes ARGS, but hands them to the module's
/// import, and some evaluate them: autouse makes a sub from a prototype it
/// `eval`s.
#[root_test]
fn arguments_of_a_module_reach_an_import_that_may_evaluate_them() {
    let Some(perl) = BUILT.require("arguments_of_a_module_reach_an_import_that_may_evaluate_them")
    else {
        return;
    };
    let tree = Tree::new();
    tree.stage(&perl, &["-Mautouse=Carp,carp"], &[], "");
    for (text, label) in [
        (
            format!("-Mautouse=Carp,carp($){{}} and {PRINT}; sub ($)"),
            "-M",
        ),
        (
            format!("-mautouse=Carp,carp($){{}} and {PRINT}; sub ($)"),
            "-m",
        ),
    ] {
        vector(&format!("perl '{text}'"), &perl, label)
            .args([tree.inc(), text.clone()])
            .args([tree.prog()])
            .assert_contract();
    }
    // The same from PERL5OPT, which splits at white space.
    let value = format!("-Mautouse=Carp,carp($){{}};{PRINT};sub($)");
    with_env(
        "PERL5OPT=-Mautouse=…",
        &perl,
        "PERL5OPT",
        &[("PERL5OPT", &value)],
    )
    .args([tree.inc()])
    .args([tree.prog()])
    .assert_contract();
}

#[root_test]
fn dash_f_code_blocks_under_re_eval() {
    let Some(perl) = BUILT.require("dash_f_code_blocks_under_re_eval") else {
        return;
    };
    let tree = Tree::new();
    tree.stage(&perl, &["-Mre=eval"], &[], "");
    // perl quotes this pattern, q\0…\0, and split compiles it at run time:
    // its code block runs only under `use re 'eval'`, which -Mre=eval puts
    // in the same scope.
    // Under deny-interactive -Mre=eval is refused first: its arguments
    // reach re's import.
    let pattern = format!("(?{{{PRINT}}})");
    vector("perl -Mre=eval -F'(?{…})'", &perl, "-M")
        .args([tree.inc(), "-Mre=eval".into(), format!("-F{pattern}")])
        .args([tree.prog()])
        .stdin("a:b\n")
        .assert_contract();
}

/// `perl ARGS` with `env` under `enforced` (a sandbox, no policy file) and
/// under `deny_interactive = true`.
fn everywhere(
    perl: &Path,
    args: &[String],
    env: &[(&str, &str)],
    stdin: &str,
) -> Vec<(String, Outcome)> {
    let run = |what: String, sandbox: Sandbox, enforced: Enforced| {
        let mut cmd = enforced.command(&sandbox, perl);
        cmd.args(args)
            .envs(env.iter().copied())
            .env_remove("PERL5DB");
        if !env.iter().any(|(name, _)| *name == "PERL5OPT") {
            cmd.env_remove("PERL5OPT");
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start perl");
        let _ = child
            .stdin
            .take()
            .expect("a piped stdin")
            .write_all(stdin.as_bytes());
        let out = child.wait_with_output().expect("wait for perl");
        (what, Outcome::from_output(out))
    };
    let mut got = Vec::new();
    for enforced in Enforced::BITS {
        got.push(run(enforced.to_string(), Sandbox::new(), enforced));
    }
    got.push(run(
        "deny_interactive = true".into(),
        Sandbox::new().policy("deny_interactive = true\n"),
        Enforced::Nothing,
    ));
    got
}

/// A run of `perl -IDIR SWITCHES prog.pl` with `env` and `stdin` that
/// prints `want` under every policy.
struct DataForm {
    switches: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    stdin: &'static str,
    want: &'static str,
}

const fn form(switches: &'static [&'static str], want: &'static str) -> DataForm {
    DataForm {
        switches,
        env: &[],
        stdin: "",
        want,
    }
}

/// The forms of the code-carrying switches that are data.
const DATA_FORMS: [DataForm; 9] = [
    form(&["-MMark"], "prog\n"),
    form(&["-M-Mark"], "prog\n"),
    form(&["-mMark"], "prog\n"),
    form(&["-d:Mark"], "prog\n"),
    form(&["-dt:Mark"], "prog\n"),
    DataForm {
        switches: &[],
        env: &[("PERL5OPT", "-MMark -d:Mark -w")],
        stdin: "",
        want: "prog\n",
    },
    DataForm {
        stdin: "a:b\n",
        ..form(&["-F:"], "prog\n")
    },
    DataForm {
        stdin: "a/b\n",
        ..form(&["-F/"], "prog\n")
    },
    DataForm {
        stdin: "a b\n",
        ..form(&["-F\\s+"], "prog\n")
    },
];

#[root_test]
fn the_data_forms_run_under_deny_interactive() {
    let Some(perl) = BUILT.require("the_data_forms_run_under_deny_interactive") else {
        return;
    };
    let tree = Tree::new();
    let prog = tree.prog().display().to_string();
    let mut report = String::new();
    for case in DATA_FORMS {
        let mut args = vec![tree.inc()];
        args.extend(case.switches.iter().map(|s| s.to_string()));
        args.push(prog.clone());
        for (what, got) in everywhere(&perl, &args, case.env, case.stdin) {
            if got != Outcome::ran(case.want) {
                report.push_str(&format!(
                    "  perl {args:?} {:?} under {what}: {got}\n",
                    case.env
                ));
            }
        }
    }
    assert!(report.is_empty(), "want the data forms to run:\n{report}");
}

#[root_test]
fn switches_on_the_hashbang_line_are_the_programs_own() {
    let Some(perl) = BUILT.require("switches_on_the_hashbang_line_are_the_programs_own") else {
        return;
    };
    let tree = Tree::new();
    // A pasted -F pattern and a -d: with code, written in a checked file.
    let prog = tree.fs.write(
        "own.pl",
        format!(
            "#!{} -F/(?{{print(qq(own\\n))}})/ -d:Mark;BEGIN{{print(qq(begin\\n))}}\n\
             print \"prog\\n\";\n",
            perl.display()
        ),
        0o755,
    );
    let args = vec![tree.inc(), prog.display().to_string()];
    let mut report = String::new();
    for (what, got) in everywhere(&perl, &args, &[], "a:b\n") {
        // The code block runs at each place split tries.
        let ran = got.exit == mayexec_testkit::interp::Exit::Code(0)
            && got.stderr.is_empty()
            && got.stdout.starts_with("begin\nown\n")
            && got.stdout.ends_with("own\nprog\n");
        if !ran {
            report.push_str(&format!("  under {what}: {got}\n"));
        }
    }
    assert!(
        report.is_empty(),
        "want the #! line's switches to run:\n{report}"
    );
}

#[root_test]
fn code_after_dash_m_name_is_refused_by_perl_itself() {
    let Some(perl) = BUILT.require("code_after_dash_m_name_is_refused_by_perl_itself") else {
        return;
    };
    let tree = Tree::new();
    let args = vec![
        tree.inc(),
        format!("-mMark;{PRINT}"),
        tree.prog().display().to_string(),
    ];
    for (what, got) in everywhere(&perl, &args, &[], "") {
        assert!(!got.stdout.contains(MARKER), "under {what}: {got}");
        if what.ends_with(" -i") || what.ends_with(" -fi") || what.starts_with("deny") {
            assert_eq!(
                got,
                Outcome::refused(denial("-m", "interactive")),
                "under {what}"
            );
        } else {
            assert_ne!(
                got.exit,
                mayexec_testkit::interp::Exit::Code(0),
                "under {what}: {got}"
            );
            assert_eq!(got.stderr, "Can't use ';' after -mname.\n", "under {what}");
        }
    }
}

/// The switches and the environment variables perlrun lists: the first
/// `B<…>` of each `=item` under "Command Switches" (`-[mM]` is `-m` and
/// `-M`), and each `=item NAME` under ENVIRONMENT.
fn perlrun_lists(pod: &str) -> BTreeSet<String> {
    let mut listed = BTreeSet::new();
    let mut section = "";
    for line in pod.lines() {
        if line.starts_with("=head2 Command Switches") {
            section = "switches";
        } else if line.starts_with("=head1 ENVIRONMENT") {
            section = "environment";
        } else if line.starts_with("=head1") {
            section = "";
        }
        let Some(item) = line.strip_prefix("=item ") else {
            continue;
        };
        match section {
            "switches" => {
                let Some(bold) = item.strip_prefix("B<") else {
                    continue;
                };
                let end = bold.find(['>', ' ', '[']).unwrap_or(bold.len());
                let end = if bold.starts_with("-[") {
                    bold.find(']').map_or(end, |i| i + 1)
                } else {
                    end
                };
                let switch = &bold[..end];
                match switch.strip_prefix("-[").and_then(|s| s.strip_suffix(']')) {
                    Some(letters) => listed.extend(letters.chars().map(|c| format!("-{c}"))),
                    None => {
                        listed.insert(switch.to_owned());
                    }
                }
            }
            "environment" => {
                let name = item.split_whitespace().next().unwrap_or("");
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    listed.insert(name.to_owned());
                }
            }
            _ => {}
        }
    }
    listed
}

/// The code spans in the first column of the inventory's table in
/// `docs/perl.md` (the section "Switches and environment variables").
fn inventory(doc: &str) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    let mut inside = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            inside = line.starts_with("## Switches and environment variables");
            continue;
        }
        let Some(row) = line.strip_prefix('|').filter(|_| inside) else {
            continue;
        };
        let first = row.split('|').next().unwrap_or("");
        rows.extend(first.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    rows
}

#[test]
fn every_switch_and_variable_perlrun_lists_is_in_the_inventory() {
    if BUILT
        .require("every_switch_and_variable_perlrun_lists_is_in_the_inventory")
        .is_none()
    {
        return;
    }
    let root = workspace_root();
    let pod = root.join("target/perl-build/debian-src/pod/perlrun.pod");
    let pod = std::fs::read_to_string(&pod).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: integrations/perl/build.sh unpacks perl's source there",
            pod.display()
        )
    });
    let listed = perlrun_lists(&pod);
    // The parser itself.
    for known in [
        "-M",
        "-m",
        "-d:",
        "-F",
        "-x",
        "-?",
        "PERL5OPT",
        "PERL5DB",
        "SYS$LOGIN",
    ] {
        assert!(
            listed.contains(known),
            "perlrun's {known} not found: {listed:?}"
        );
    }
    let doc = std::fs::read_to_string(root.join("docs/perl.md")).expect("read docs/perl.md");
    let table = inventory(&doc);
    let missing: Vec<_> = listed.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "perlrun lists switches or variables that docs/perl.md's inventory does not \
         decide (file, code or harmless): {missing:?}"
    );
}
