//! `mayexec interpreters`: which interpreters this host has, and which obey.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mayexec_rollout::inventory::{self, Enlightened, Interpreter, Kind};
use serde::Serialize;

use crate::{output, Status};

/// List the interpreters on PATH (or beneath the given directories) and
/// whether each obeys the check.
///
/// An interpreter that is not enlightened runs any file it is given
/// (`perl x.pl`, `awk -f x.awk`, `vim -S x.vim`), whatever `mayexec run -f
/// -i` set: the securebits bind only programs that ask. An executable is
/// an interpreter when:
///
/// - its name is of a known family (shells, Python, Perl, Ruby, Node, Lua,
///   Tcl, PHP, awk, debuggers and editors with a script option, other
///   language runtimes), also through symlinks and alternatives;
///
/// - else, for an ELF program, its content says so, whatever its name: it
///   links a language runtime (libpython, libperl, liblua, libtcl, libjli
///   …), defines or imports an interpreter's entry point (Py_BytesMain,
///   perl_parse, lua_pcallk …), or carries a language's own names as
///   strings in its read-only data (the POSIX `set -o` option names of a
///   shell, the POSIX variables of awk, …; at most 1 MiB is read). A
///   program that embeds an interpreter counts too;
///
/// - else the Debian package that installed it is built from an
///   interpreter's source package (dpkg's database is read, not run);
///
/// - else a `#!` line of a script found names it.
///
/// An executable that cannot be read, or an ELF file that cannot be parsed,
/// is listed as "unclassified": it may be an interpreter, and `run
/// --lockdown` does not grant it. --json says how each was recognised
/// (recognised_by, evidence).
///
/// Enlightened is read from the file, never from its name: it carries the
/// ELF note every mayexec-built interpreter embeds (owner "mayexec" in
/// section .note.mayexec; `readelf -n` shows it), or it links
/// libmayexec.so. A file that cannot be read counts as not enlightened.
///
/// Exit status: 0 when every interpreter found obeys the check; 1 when one
/// does not; 2 when a PATH cannot be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
        mayexec interpreters\n  \
        mayexec interpreters --json /usr/bin /usr/local/bin\n  \
        mayexec run --lockdown -f -i -- CMD   # only the enlightened ones can run")]
pub struct Args {
    /// Print a JSON object instead.
    #[arg(long)]
    json: bool,
    /// Directories to search beneath (recursively), or files to examine;
    /// default: the directories of $PATH (not recursively).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Serialize)]
pub struct Report {
    /// The one-line verdict.
    verdict: String,
    /// Where it looked.
    searched: Vec<String>,
    interpreters: Vec<Entry>,
    errors: Vec<PathError>,
}

#[derive(Serialize)]
struct PathError {
    path: String,
    error: String,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    path: String,
    /// Symlinks followed, in order (alternatives chains).
    links: Vec<String>,
    real: String,
    kind: &'static str,
    /// How it was recognised: `name`, `shebang`, `library`, `symbol`,
    /// `strings`, `package`, or `unreadable` (kind `unclassified`).
    recognised_by: Option<&'static str>,
    /// What was found: `links libperl.so.5.36`, `symbol Py_BytesMain` …
    evidence: Option<String>,
    enlightened: bool,
    /// `note` (mayexec's ELF note), `libmayexec` (linked dynamically), or
    /// null.
    marker: Option<&'static str>,
    /// The note's library version, or the DT_NEEDED name.
    marker_detail: Option<String>,
    /// How many `#!` lines found name it.
    shebang_uses: usize,
    /// Why the file could not be read, if it could not.
    error: Option<String>,
    hint: Option<String>,
}

/// The directories of `$PATH`, in order, without repeats.
pub fn path_dirs() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    let mut seen = BTreeSet::new();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute() && seen.insert(d.clone()))
        .collect()
}

pub fn main(args: &Args) -> ExitCode {
    let (roots, recursive) = if args.paths.is_empty() {
        (path_dirs(), false)
    } else {
        (args.paths.clone(), true)
    };
    let report = gather(&roots, recursive);
    let status = if !report.errors.is_empty() {
        Status::Error
    } else if report.interpreters.iter().any(|e| !e.enlightened) {
        Status::Denied
    } else {
        Status::Ok
    };
    output::report(&report, args.json, print, status)
}

/// The inventory beneath `roots`, as the report prints it.
pub fn gather(roots: &[PathBuf], recursive: bool) -> Report {
    let walk = inventory::walk(roots, recursive);
    let mut interpreters: Vec<Entry> = walk.interpreters().iter().map(entry).collect();
    interpreters.sort_by(|a, b| {
        (a.enlightened, a.kind, &a.name, &a.path).cmp(&(b.enlightened, b.kind, &b.name, &b.path))
    });
    Report {
        verdict: verdict(&interpreters),
        searched: roots.iter().map(|r| display(r)).collect(),
        errors: walk
            .errors
            .iter()
            .map(|(path, e)| PathError {
                path: display(path),
                error: e.to_string(),
            })
            .collect(),
        interpreters,
    }
}

impl Report {
    pub fn verdict(&self) -> &str {
        &self.verdict
    }
}

fn display(path: &Path) -> String {
    output::json_path(path.as_os_str())
}

fn entry(i: &Interpreter) -> Entry {
    let e = &i.executable;
    let name = e
        .path
        .file_name()
        .map_or_else(|| display(&e.path), |n| n.to_string_lossy().into_owned());
    let (marker, marker_detail, error) = match &i.enlightened {
        Ok(Some(Enlightened::Note { version })) => (Some("note"), Some(version.clone()), None),
        Ok(Some(Enlightened::LinksLibmayexec { needed })) => {
            (Some("libmayexec"), Some(needed.clone()), None)
        }
        Ok(None) => (None, None, None),
        Err(error) => (None, None, Some(error.clone())),
    };
    Entry {
        hint: (!i.obeys()).then(|| hint(i.kind, &name)),
        recognised_by: e.evidence.as_ref().map(|w| w.as_str()),
        evidence: e.evidence.as_ref().and_then(|w| w.detail()),
        name,
        path: display(&e.path),
        links: e.links.iter().map(|l| display(l)).collect(),
        real: display(&e.real),
        kind: i.kind.as_str(),
        enlightened: i.obeys(),
        marker,
        marker_detail,
        shebang_uses: e.shebang_uses,
        error,
    }
}

/// What replaces it: the enlightened build where mayexec has one,
/// `--lockdown` always.
fn hint(kind: Kind, name: &str) -> String {
    let lockdown = "keep it out of a tree with `mayexec run --lockdown`";
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    match kind {
        Kind::Shell if stem == "dash" || stem == "sh" => {
            format!("use mayexec's enlightened dash (integrations/dash/build.sh), or {lockdown}")
        }
        Kind::Shell if stem == "bash" || stem == "busybox" => {
            format!(
                "use mayexec's enlightened {stem} (integrations/{stem}/build.sh), or {lockdown}"
            )
        }
        Kind::Perl => {
            format!("use mayexec's enlightened perl (integrations/perl/build.sh), or {lockdown}")
        }
        Kind::Wine => {
            format!("use mayexec's enlightened Wine (integrations/wine/build.sh), or {lockdown}")
        }
        Kind::Java => {
            format!("use mayexec's enlightened Java (integrations/java/build.sh), or {lockdown}")
        }
        Kind::Python => format!("run Python code with mayexec-python, or {lockdown}"),
        Kind::Unclassified => format!(
            "mayexec cannot tell what it is: make it readable, or trust it with \
             `run --lockdown --exec-allow-file`; {lockdown} excludes it"
        ),
        _ => format!("mayexec has no enlightened build of it: {lockdown}"),
    }
}

/// `3 interpreters do not obey the check: dash, perl, python3` or
/// `all 2 interpreters obey the check`.
fn verdict(entries: &[Entry]) -> String {
    let mut names = Vec::new();
    for e in entries.iter().filter(|e| !e.enlightened) {
        if !names.contains(&e.name) {
            names.push(e.name.clone());
        }
    }
    match names.len() {
        0 if entries.is_empty() => "no interpreters found".to_owned(),
        0 => format!("all {} interpreters found obey the check", entries.len()),
        n => {
            const SHOWN: usize = 12;
            let mut list = names[..n.min(SHOWN)].join(", ");
            if n > SHOWN {
                list.push_str(&format!(" and {} more", n - SHOWN));
            }
            format!(
                "{n} interpreter{} do{} not obey the check: {list}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "es" } else { "" },
            )
        }
    }
}

fn print(r: &Report) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", r.verdict)?;
    let groups = [
        (false, "do not obey the check (they run any file):"),
        (true, "obey the check (enlightened):"),
    ];
    for (enlightened, title) in groups {
        let group: Vec<&Entry> = r
            .interpreters
            .iter()
            .filter(|e| e.enlightened == enlightened)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "{title}")?;
        for e in group {
            write!(out, "  {:<14} {:<16} {}", e.kind, e.name, e.path)?;
            if !e.links.is_empty() {
                write!(out, " -> {}", e.real)?;
            }
            if let Some(evidence) = &e.evidence {
                if e.recognised_by != Some("unreadable") {
                    write!(out, " ({evidence})")?;
                }
            }
            if e.shebang_uses > 0 {
                let s = if e.shebang_uses == 1 { "" } else { "s" };
                write!(out, " ({} #! script{s})", e.shebang_uses)?;
            }
            match (e.marker, &e.marker_detail) {
                (Some("note"), Some(version)) => write!(out, " [mayexec {version} note]")?,
                (Some(_), Some(needed)) => write!(out, " [links {needed}]")?,
                _ => {}
            }
            writeln!(out)?;
            if e.recognised_by == Some("unreadable") {
                let why = e.evidence.as_deref().unwrap_or_default();
                writeln!(
                    out,
                    "      {why}: counted as an interpreter that does not obey"
                )?;
            } else if let Some(error) = &e.error {
                writeln!(
                    out,
                    "      cannot read it ({error}): counted as not enlightened"
                )?;
            }
            if let Some(hint) = &e.hint {
                writeln!(out, "      hint: {hint}")?;
            }
        }
    }
    for e in &r.errors {
        output::error(format_args!("{}: {}", e.path, e.error));
    }
    Ok(())
}
