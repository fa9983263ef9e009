//! The inventory of an interpreter's options and variables: the table in
//! its doc (`docs/NAME.md`, the section "Options and variables"), every
//! name of which the tests pin against what the interpreter itself lists;
//! and the probe that sets each variable to code, one at a time.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::interp::{workspace_root, Built, Outcome};

/// A POSIX shell script that uses what a variable could reach:
/// arithmetic, `getopts`, `cd`, globbing, a trace, `read`, a function,
/// subshells, a command substitution, `~`. A shell's own probe may add
/// lines before `echo end`.
pub const SHELL_EXERCISE: &str = r#"echo start
x=1; echo $((x+1)) "${x}" $OPTIND
getopts ab o -a
cd / && cd - >/dev/null
printf '%s\n' * >/dev/null
set -x; : traced; set +x
read -r l <<EOF
line
EOF
f() { :; }; f
(:); : $(:)
echo "$HOME" ~ >/dev/null
"#;

/// The text of `manual` (a file a build script leaves, such as the
/// interpreter's manual page in its Debian source), or `None` after
/// saying why the test is skipped ([`Built::require`]).
pub fn read_built(manual: &Built, test: &str) -> Option<String> {
    let path = manual.require(test)?;
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// The names in backquotes in the first column of the table in the
/// section `section` of `doc` (from the repository's root).
pub fn names_in_table(doc: &str, section: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace_root().join(doc))
        .unwrap_or_else(|e| panic!("read {doc}: {e}"));
    let heading = format!("\n## {section}\n");
    let part = text
        .split(&heading)
        .nth(1)
        .unwrap_or_else(|| panic!("{doc} has a section {section:?}"));
    let part = part.split("\n## ").next().unwrap_or(part);
    let mut names = BTreeSet::new();
    for line in part.lines().filter(|l| l.starts_with("| ")) {
        let first = line[2..].split(" | ").next().unwrap_or("");
        for (i, name) in first.split('`').enumerate() {
            if i % 2 == 1 {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// Panics with every one of `names` (what `source` lists) that has no row
/// in the inventory of `doc`.
pub fn assert_every_name_has_a_row<I, S>(names: I, doc: &str, source: &str)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let table = names_in_table(doc, "Options and variables");
    let missing: Vec<String> = names
        .into_iter()
        .filter(|name| !table.contains(name.as_ref()))
        .map(|name| name.as_ref().to_owned())
        .collect();
    assert!(
        missing.is_empty(),
        "{source} lists without a row in the inventory of {doc}: {missing:?}"
    );
}

/// Which of `variables`, each set alone to each value `code(marker)`
/// makes (code that prints `marker`), make `cmd()` print its marker: the
/// variables whose value runs as code. The command gets standard input
/// from `/dev/null`.
pub fn variables_that_run_code(
    variables: &[String],
    code: &dyn Fn(&str) -> Vec<String>,
    cmd: &dyn Fn() -> Command,
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for variable in variables {
        let marker = format!("MARK_{variable}");
        for value in code(&marker) {
            let got = Outcome::of(cmd().env(variable, &value).stdin(Stdio::null()));
            if got.stdout.contains(&marker) || got.stderr.contains(&marker) {
                found.insert(variable.clone());
            }
        }
    }
    found
}

/// Shell code that prints `marker` on stderr without holding it (`MARK_X`
/// is printed as `MARK` and `_X`), as `$(…)` and as backquotes.
pub fn shell_substitutions(marker: &str) -> Vec<String> {
    let rest = marker.strip_prefix("MARK").unwrap_or(marker);
    let code = format!("printf '%s%s\\n' MARK {rest} >&2");
    vec![format!("$({code})"), format!("`{code}`")]
}

/// The names, sorted, of `list`.
pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|v| (*v).to_owned()).collect()
}

/// `program ARGS` (a shell's `set -o`, `shopt`) output's first words, the
/// first `skip` lines off.
pub fn first_words(program: &Path, args: &[&str], skip: usize) -> Vec<String> {
    let out = Command::new(program)
        .args(args.iter().map(OsStr::new))
        .env_clear()
        .output()
        .expect("run the interpreter");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(skip)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}
