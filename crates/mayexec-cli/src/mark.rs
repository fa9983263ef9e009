//! `mayexec mark`: add execute bits to code files denied only for their
//! mode, with a journal that `--undo` reverses exactly.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mayexec_rollout::mark::{self, Decision, Journal, JournalError, Undone};
use mayexec_rollout::markd;

use crate::scan::{existing_roots, fully_examined, report_problems, run_scan, WalkArgs};
use crate::{output, Status};

/// Add execute bits to the code files that fail the check only because of
/// their mode, and record what changed so that --undo can put it back.
///
/// Scans PATH like `mayexec scan`. A code file denied with reason
/// not-executable gets an execute bit wherever it has the matching read bit
/// (0644 → 0755, 0640 → 0750): whoever may read it may then run it. The
/// change is made on a descriptor opened without following symlinks, after
/// checking it is still the inode scanned, and the file is checked again:
/// if it is still denied (an LSM, a read permission problem) the old mode is
/// put back and the file is reported. Files denied for anything else (a
/// noexec mount, a special file) are reported, never changed; files owned by
/// another user are refused unless mark runs as root, and so are files
/// writable by group or others or with a set-id bit, whoever runs it.
///
/// Python bytecode caches (__pycache__/NAME.TAG.pyc) are changed after
/// every other file, and each ends newer (ctime) than its source, so that
/// mayexec-python can give a cached module's source its cheaper check: a
/// cache that passes already, beside a source mark changes, gets the mode
/// it has set again ("ctime refreshed": not a mode change, not in the
/// journal).
///
/// Every change is written to the journal before it is made (atomically,
/// fsync'd); the journal then lists exactly the changes made, each with
/// the file's device, inode and birth time. --undo restores each old mode,
/// skipping (and reporting) files replaced or whose mode changed since. It
/// only takes away execute bits mark added: a journal with any other
/// change is refused whole, and so is a journal that is not a regular
/// file, is owned by someone else than you or root, or is writable by
/// group or others.
///
/// Exit status: 0 every denied code file was fixed (or none was denied) /
/// every change undone; 1 some were left alone, refused or skipped; 2 usage
/// error, a PATH that does not exist, trees not fully examined (what was
/// seen is still marked), or a journal that cannot be written, read or
/// trusted.
///
/// --config marks the trees listed in DIR/*.conf (one absolute path a line,
/// # for comments; DIR must be root's and not writable by group or others),
/// with the journal in /var/lib/mayexec/mark/ unless --journal names one:
/// the apt hook runs it after every package operation, so that upgrades,
/// which install files 0644 again, do not undo the marks.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    mayexec mark --dry-run /usr/lib/python3.12\n  \
    mayexec mark --journal /root/python-marks.journal /usr/lib/python3.12\n  \
    mayexec mark --undo /root/python-marks.journal\n  \
    echo /usr/lib/python3.11 > /etc/mayexec/mark.d/python.conf; mayexec mark --config")]
pub struct Args {
    #[command(flatten)]
    walk: WalkArgs,
    /// Change nothing and write no journal; print what would change.
    #[arg(long, short = 'n', conflicts_with = "undo")]
    dry_run: bool,
    /// Where to write the journal [default: ./mayexec-mark-UNIXTIME.journal].
    #[arg(long, value_name = "FILE", conflicts_with = "undo")]
    journal: Option<PathBuf>,
    /// Replace an existing journal file instead of refusing.
    #[arg(long, conflicts_with = "undo")]
    replace_journal: bool,
    /// Restore the modes recorded in this journal.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "level", "jobs", "cross_filesystems"])]
    undo: Option<PathBuf>,
    /// Mark the trees listed in DIR/*.conf [default DIR: /etc/mayexec/mark.d].
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        default_missing_value = markd::MARK_D,
        conflicts_with_all = ["paths", "undo"]
    )]
    config: Option<PathBuf>,
    /// Trees or files to mark.
    #[arg(required_unless_present_any = ["undo", "config"], value_name = "PATH")]
    paths: Vec<OsString>,
}

pub fn main(args: &Args) -> ExitCode {
    match &args.undo {
        Some(journal) => undo(journal),
        None => mark(args),
    }
}

fn mark(args: &Args) -> ExitCode {
    let options = match args.walk.options() {
        Ok(options) => options,
        Err(e) => {
            output::error(e);
            return Status::Error.into();
        }
    };
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let listed = match &args.config {
        None => None,
        Some(dir) => match config_trees(dir, args.dry_run || args.journal.is_some()) {
            Ok(trees) if trees.is_empty() => {
                let _ = writeln!(
                    io::stdout(),
                    "{}: no trees listed; nothing to do",
                    dir.display()
                );
                return Status::Ok.into();
            }
            Ok(trees) => Some(trees),
            Err(e) => {
                output::error(e);
                return Status::Error.into();
            }
        },
    };
    let journal_path = args.journal.clone().unwrap_or_else(|| match listed {
        Some(_) => Path::new(markd::JOURNAL_DIR)
            .join(format!("mark-{secs}-{}.journal", std::process::id())),
        None => PathBuf::from(format!("mayexec-mark-{secs}.journal")),
    });
    if !args.dry_run && !args.replace_journal && journal_path.symlink_metadata().is_ok() {
        output::error(format_args!(
            "{}: journal exists; refusing to overwrite it (--replace-journal replaces it)",
            journal_path.display()
        ));
        return Status::Error.into();
    }
    // The journal holds absolute paths, so that --undo works from anywhere.
    let paths: Vec<OsString> = listed
        .map(|trees| trees.into_iter().map(PathBuf::into_os_string).collect())
        .unwrap_or_else(|| args.paths.clone())
        .iter()
        .map(|p| std::path::absolute(p).map_or_else(|_| p.clone(), PathBuf::into_os_string))
        .collect();
    let (roots, all_exist) = existing_roots(&paths);
    let report = run_scan(&roots, &options);
    report_problems(&report);
    let complete = fully_examined(&report);
    let mut status = if all_exist && complete {
        Status::Ok
    } else {
        Status::Error
    };
    // Output errors (a closed pipe) must not stop the changes halfway: they
    // are ignored, and the journal is the record of what was done.
    let mut out = io::stdout().lock();
    let (mut left_alone, mut refused, mut failed) = (0u64, 0u64, 0u64);
    let mut plan = Vec::new();
    let mut refresh = Vec::new();
    for decision in mark::decide(&report) {
        match decision {
            Decision::Mark(entry) => plan.push(entry),
            Decision::Refresh(cache) => refresh.push(cache),
            Decision::LeftAlone { path, verdict, why } => {
                left_alone += 1;
                let _ = writeln!(out, "{}: left alone: {verdict} ({why})", path.display());
            }
            Decision::Refused { path, why } => {
                refused += 1;
                output::error(format_args!("{}: refused: {why}", path.display()));
            }
            Decision::Failed { path, error } => {
                failed += 1;
                output::error(format_args!("{}: not marked: {error}", path.display()));
            }
        }
    }
    // In the order the changes are made: the caches last.
    mark::sources_before_caches(&mut plan);
    if args.dry_run {
        for e in &plan {
            let _ = writeln!(
                out,
                "{}: would change {:04o} -> {:04o}",
                e.path.display(),
                e.old_mode,
                e.new_mode
            );
        }
        for cache in &refresh {
            let _ = writeln!(
                out,
                "{}: would refresh ctime (mode {:04o} kept; its source is marked)",
                cache.path.display(),
                cache.mode
            );
        }
        let _ = writeln!(
            out,
            "dry run: {} to mark, {left_alone} left alone, {refused} refused{}; nothing changed",
            plan.len(),
            refreshed_count(refresh.len(), "to refresh")
        );
        if left_alone + refused + failed > 0 {
            status = status.max(Status::Denied);
        }
        return status.into();
    }
    let marked = mark::transact(
        plan,
        &journal_path,
        args.replace_journal,
        &options.checker,
        |entry, result| match result {
            Ok(_) => {
                let _ = writeln!(
                    out,
                    "{}: {:04o} -> {:04o}",
                    entry.path.display(),
                    entry.old_mode,
                    entry.new_mode
                );
            }
            Err(e) => output::error(format_args!("{}: not marked: {e}", entry.path.display())),
        },
    );
    let marked = match marked {
        Ok(marked) => marked,
        Err(e) => {
            output::error(journal_hint(e));
            return Status::Error.into();
        }
    };
    failed += marked.failed;
    // After every change of mode: the caches beside marked sources that
    // already pass get their ctime moved past their source's. Not a mode
    // change, nothing to undo, and not a failure when it cannot be done
    // (reported: the source then gets a second kernel check, nothing else).
    let mut refreshed = 0;
    for cache in &refresh {
        match mark::refresh(cache) {
            Ok(mark::Refreshed::Refreshed) => {
                refreshed += 1;
                let _ = writeln!(
                    out,
                    "{}: ctime refreshed (mode {:04o} kept)",
                    cache.path.display(),
                    cache.mode
                );
            }
            Ok(mark::Refreshed::AlreadyNewer) => {}
            Err(e) => output::note(format_args!(
                "mayexec: {}: ctime not refreshed: {e} (its source gets two kernel checks)",
                cache.path.display()
            )),
        }
    }
    if let Some(e) = marked.rewrite_error {
        output::error(format_args!(
            "{e} (the journal written before the changes is still valid for --undo)"
        ));
        status = Status::Error;
    }
    let _ = write!(
        out,
        "marked {}, left alone {left_alone}, refused {refused}, failed {failed}{}",
        marked.applied.len(),
        refreshed_count(refreshed, "refreshed")
    );
    if marked.applied.is_empty() {
        let _ = writeln!(out, "; no journal written");
    } else {
        let _ = writeln!(
            out,
            "; journal {} (undo: mayexec mark --undo {})",
            journal_path.display(),
            journal_path.display()
        );
    }
    if left_alone + refused + failed > 0 {
        status = status.max(Status::Denied);
    }
    status.into()
}

/// `, N cache ctimes WHAT` for the summary line, nothing when N is 0.
fn refreshed_count(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", 1 cache ctime {what}"),
        n => format!(", {n} cache ctimes {what}"),
    }
}

/// The trees of `mark --config`; unless `journal_given`, the journal
/// directory is made too (root's, 0700).
fn config_trees(dir: &Path, journal_given: bool) -> Result<Vec<PathBuf>, String> {
    let trees = markd::read_trees(dir).map_err(|e| format!("{e}; nothing marked"))?;
    if !journal_given && !trees.is_empty() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(markd::JOURNAL_DIR)
            .map_err(|e| format!("{}: {e}; nothing marked", markd::JOURNAL_DIR))?;
    }
    Ok(trees)
}

fn journal_hint(e: JournalError) -> String {
    match e {
        JournalError::Exists { .. } => {
            format!("{e} (--replace-journal replaces it); nothing changed")
        }
        e => format!("cannot write the journal: {e}; nothing changed"),
    }
}

fn undo(path: &Path) -> ExitCode {
    let journal = match Journal::read(path) {
        Ok(journal) => journal,
        Err(e) => {
            output::error(e);
            return Status::Error.into();
        }
    };
    let mut out = io::stdout().lock();
    let (mut restored, mut already) = (0u64, 0u64);
    let skipped = mark::undo_all(&journal, |entry, result| match result {
        Ok(Undone::Restored) => {
            restored += 1;
            let _ = writeln!(
                out,
                "{}: {:04o} -> {:04o} (restored)",
                entry.path.display(),
                entry.new_mode,
                entry.old_mode
            );
        }
        Ok(Undone::AlreadyRestored) => {
            already += 1;
            let _ = writeln!(
                out,
                "{}: already {:04o}",
                entry.path.display(),
                entry.old_mode
            );
        }
        Err(e) => output::error(format_args!("{}: skipped: {e}", entry.path.display())),
    });
    let _ = writeln!(
        out,
        "restored {restored}, already restored {already}, skipped {skipped}"
    );
    if skipped > 0 {
        Status::Denied.into()
    } else {
        Status::Ok.into()
    }
}
