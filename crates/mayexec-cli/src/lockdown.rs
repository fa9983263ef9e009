//! `mayexec run --lockdown`: a Landlock domain in which execute is granted
//! file by file to every executable beneath the roots, except the
//! interpreters that do not obey the check — recognised by name, by
//! content and by package (`mayexec_rollout::inventory`) — and the
//! executables the inventory cannot read or parse (fail closed).
//!
//! With `-f -i` on top, every interpreter the tree can start obeys the
//! check: the others cannot be executed at all (`EACCES`), not even
//! through a `#!` line, since the kernel checks Landlock's execute right on
//! a script's interpreter too.
//!
//! Landlock grants by inode, and a file keeps its grant when its content
//! is replaced in place. So an executable the tree could rewrite — one its
//! user owns (the owner may always `chmod u+w`) or may write — is left out
//! too: otherwise the tree could copy an excluded interpreter, or any
//! script, into it and run that. Only `--exec-allow-file` grants such a
//! file. Root, and a user with `CAP_DAC_OVERRIDE`, can write every file:
//! for them this rule cannot hold, and the tree needs its capabilities
//! taken away (`docs/semantics.md` §4.1).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mayexec_rollout::inventory;
use serde::Serialize;

use crate::{interpreters, landlock, output, Status};

/// What the domain grants and leaves out, for `-v` and `--json`.
#[derive(Serialize)]
pub struct Plan {
    roots: Vec<String>,
    /// Files granted execute (one Landlock rule each).
    granted: usize,
    /// Interpreters left out: they do not obey the check.
    excluded: Vec<Excluded>,
    /// `--exec-allow-file` additions.
    exec_allow_files: Vec<String>,
    /// Executables the tree could rewrite in place (its user owns or may
    /// write them): left out.
    writable: Vec<String>,
    /// Files that could not be opened for a rule (they stay unexecutable).
    skipped: Vec<String>,
    /// How the kernel enforced it.
    landlock: String,
    /// Walking, classifying and building the domain, in milliseconds.
    milliseconds: u128,
}

#[derive(Serialize)]
struct Excluded {
    path: String,
    real: String,
    kind: &'static str,
    /// How it was recognised (`name`, `strings`, `unreadable` …).
    recognised_by: Option<&'static str>,
    /// What was found, or why it could not be read.
    evidence: Option<String>,
}

/// The default roots: the directories of `PATH`, and the program
/// interpreter's (`ld.so`, which every dynamically linked program needs
/// executable), by its name and by its real file.
pub fn default_roots() -> Vec<PathBuf> {
    // A PATH entry that names no directory holds nothing to allow (PATH
    // often lists directories that do not exist); an explicit
    // --exec-allow that does not exist is still a usage error.
    let mut roots = interpreters::path_dirs();
    roots.retain(|dir| dir.is_dir());
    let interp = std::fs::File::open("/proc/self/exe")
        .ok()
        .and_then(|f| mayexec_rollout::elf::read(&f).ok().flatten())
        .and_then(|info| info.interpreter);
    if let Some(interp) = interp {
        let interp = PathBuf::from(interp);
        let real = std::fs::canonicalize(&interp).unwrap_or_else(|_| interp.clone());
        for dir in [interp.parent(), real.parent()].into_iter().flatten() {
            if !roots.iter().any(|r| r == dir) {
                roots.push(dir.to_path_buf());
            }
        }
    }
    roots
}

/// Builds and enters the domain. Any failure, and a domain the kernel
/// cannot fully enforce, is an error: CMD is not run.
pub fn enter(
    roots: &[PathBuf],
    extra_files: &[PathBuf],
    verbose: bool,
    json: bool,
) -> Result<(), Status> {
    let started = Instant::now();
    for file in extra_files {
        match std::fs::metadata(file) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                output::error(format_args!(
                    "--exec-allow-file {}: not a regular file",
                    file.display()
                ));
                return Err(Status::Error);
            }
            Err(e) => {
                output::error(format_args!("--exec-allow-file {}: {e}", file.display()));
                return Err(Status::Error);
            }
        }
    }
    for root in roots {
        if let Err(e) = std::fs::metadata(root) {
            output::error(format_args!("--exec-allow {}: {e}", root.display()));
            return Err(Status::Error);
        }
    }
    let walk = inventory::walk(roots, true);
    for (path, e) in &walk.errors {
        // Safe, but worth saying: nothing beneath it gets a rule.
        output::note(format_args!(
            "mayexec: lockdown: cannot read {}: {e}; nothing beneath it is executable",
            path.display()
        ));
    }
    let mut excluded_inodes = HashSet::new();
    let mut excluded = Vec::new();
    for i in walk.interpreters().into_iter().filter(|i| !i.obeys()) {
        excluded_inodes.insert(i.executable.inode);
        let evidence = i.executable.evidence.as_ref();
        excluded.push(Excluded {
            path: json_path(&i.executable.path),
            real: json_path(&i.executable.real),
            kind: i.kind.as_str(),
            recognised_by: evidence.map(|e| e.as_str()),
            evidence: evidence.and_then(|e| e.detail()),
        });
    }
    let mut granted_inodes = HashSet::new();
    let (mut files, writable): (Vec<PathBuf>, Vec<PathBuf>) = walk
        .executables
        .iter()
        .filter(|e| !excluded_inodes.contains(&e.inode) && granted_inodes.insert(e.inode))
        .map(|e| e.path.clone())
        .partition(|path| !rewritable(path));
    files.extend(extra_files.iter().cloned());
    let (status, skipped) = match landlock::restrict_exec_files(&files) {
        Ok(done) => done,
        Err(e) => {
            output::error(format_args!("--lockdown: {e}; not running the command"));
            return Err(Status::Denied);
        }
    };
    let description = landlock::describe(&status);
    let plan = Plan {
        roots: roots.iter().map(|r| json_path(r)).collect(),
        granted: files.len() - skipped.len(),
        excluded,
        exec_allow_files: extra_files.iter().map(|f| json_path(f)).collect(),
        writable: writable.iter().map(|p| json_path(p)).collect(),
        skipped: skipped.iter().map(|(p, _)| json_path(p)).collect(),
        landlock: description.clone(),
        milliseconds: started.elapsed().as_millis(),
    };
    if json {
        // Stdout is the command's: the plan goes to stderr, one line.
        output::note(serde_json::to_string(&plan).unwrap_or_default());
    } else if verbose {
        for e in &plan.excluded {
            match (e.recognised_by, &e.evidence) {
                (Some("unreadable"), Some(why)) => output::note(format_args!(
                    "mayexec: lockdown: not executable: {} (unclassified: {why})",
                    e.path
                )),
                _ => output::note(format_args!(
                    "mayexec: lockdown: not executable: {} ({}, does not obey the check)",
                    e.path, e.kind
                )),
            }
        }
        for path in &plan.writable {
            output::note(format_args!(
                "mayexec: lockdown: not executable: {path} (the tree could rewrite it; \
                 --exec-allow-file grants it anyway)"
            ));
        }
        for (path, why) in &skipped {
            output::note(format_args!(
                "mayexec: lockdown: not executable: {} (cannot open it: {why})",
                path.display()
            ));
        }
        output::note(format_args!(
            "mayexec: lockdown: execute granted on {} files beneath {}, {} interpreters \
             and {} files the tree could rewrite excluded, in {} ms: {description}",
            plan.granted,
            landlock::list(roots),
            plan.excluded.len(),
            plan.writable.len(),
            plan.milliseconds
        ));
    }
    if !landlock::fully_enforced(&status) {
        output::error(format_args!(
            "--lockdown: {description}: interpreters that do not obey the check would stay \
             executable; not running the command"
        ));
        return Err(Status::Denied);
    }
    Ok(())
}

/// Could the tree replace `path`'s content in place? Its user may write it,
/// or owns it (and may `chmod u+w` it) on a writable mount. Not asked for
/// root or a holder of `CAP_DAC_OVERRIDE`, who may write every file: see
/// the module's documentation.
fn rewritable(path: &Path) -> bool {
    use rustix::fs::{accessat, stat, Access, AtFlags, CWD};
    use rustix::io::Errno;
    if overrides_permissions() {
        return false;
    }
    match accessat(CWD, path, Access::WRITE_OK, AtFlags::EACCESS) {
        Ok(()) => true,
        Err(Errno::ROFS) => false,
        Err(_) => stat(path).is_ok_and(|st| st.st_uid == rustix::process::geteuid().as_raw()),
    }
}

/// Root, or `CAP_DAC_OVERRIDE` in the effective set.
fn overrides_permissions() -> bool {
    static OVERRIDES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OVERRIDES.get_or_init(|| {
        rustix::process::geteuid().is_root()
            || rustix::thread::capabilities(None).is_ok_and(|caps| {
                caps.effective
                    .contains(rustix::thread::CapabilitySet::DAC_OVERRIDE)
            })
    })
}

fn json_path(path: &Path) -> String {
    output::json_path(path.as_os_str())
}
