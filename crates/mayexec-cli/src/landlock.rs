//! The Landlock half of `mayexec run --exec-allow`: a domain that handles
//! the execute right and grants it only beneath the given directories.
//!
//! Landlock's `LANDLOCK_ACCESS_FS_EXECUTE` is checked by the kernel when a
//! file is opened for execution: `execve` of a program, of its ELF
//! interpreter (`ld.so`), of a `#!` script's interpreter, and
//! `execveat(…, AT_EXECVE_CHECK)`. So inside the domain the kernel check
//! denies scripts outside the allowed directories (reason `kernel-policy`),
//! and nothing outside them can be executed. Shared libraries that `ld.so`
//! maps are opened for reading and are not affected.

use std::fmt;
use std::path::{Path, PathBuf};

use landlock::{
    AccessFs, LandlockStatus, PathBeneath, PathFd, RestrictionStatus, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus,
};

/// Why the domain could not be built.
#[derive(Debug)]
pub enum ExecAllowError {
    /// A directory to allow cannot be opened, or is not a directory.
    Dir { path: PathBuf, error: String },
    /// `/` cannot be opened for the tree's own domain.
    Root(String),
    /// A Landlock call failed.
    Landlock(landlock::RulesetError),
}

impl fmt::Display for ExecAllowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecAllowError::Dir { path, error } => {
                write!(f, "--exec-allow {}: {error}", path.display())
            }
            ExecAllowError::Root(error) => write!(f, "landlock: cannot open /: {error}"),
            ExecAllowError::Landlock(e) => write!(f, "landlock: {e}"),
        }
    }
}

/// Restricts this thread, and everything it executes from now on, to
/// executing files beneath `dirs`; sets no_new_privs. Best effort: on a
/// kernel without Landlock the returned status says what was not enforced.
pub fn restrict_exec(dirs: &[PathBuf]) -> Result<RestrictionStatus, ExecAllowError> {
    let mut rules = Vec::with_capacity(dirs.len());
    for dir in dirs {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ExecAllowError::Dir {
                    path: dir.clone(),
                    error: "not a directory".to_owned(),
                })
            }
            Err(e) => {
                return Err(ExecAllowError::Dir {
                    path: dir.clone(),
                    error: e.to_string(),
                })
            }
        }
        let fd = PathFd::new(dir).map_err(|e| ExecAllowError::Dir {
            path: dir.clone(),
            error: e.to_string(),
        })?;
        rules.push(PathBeneath::new(fd, AccessFs::Execute));
    }
    restrict(rules)
}

/// Restricts this thread, and everything it executes from now on, to
/// executing the given files only (one rule per file: a rule on a file
/// grants its inode, whatever name reaches it); sets no_new_privs. A file
/// that cannot be opened gets no rule (it stays unexecutable) and is
/// returned with why, for the caller to report.
pub fn restrict_exec_files(
    files: &[PathBuf],
) -> Result<(RestrictionStatus, Vec<(PathBuf, String)>), ExecAllowError> {
    let mut rules = Vec::with_capacity(files.len());
    let mut skipped = Vec::new();
    for file in files {
        match PathFd::new(file) {
            Ok(fd) => rules.push(PathBeneath::new(fd, AccessFs::Execute)),
            Err(e) => skipped.push((file.clone(), e.to_string())),
        }
    }
    Ok((restrict(rules)?, skipped))
}

/// Makes this thread, and everything it executes from now on, a Landlock
/// domain of its own that restricts nothing on the file system, for what
/// every domain brings: its processes cannot trace, nor read or write the
/// memory of, processes outside it (`ptrace`, `/proc/PID/mem`,
/// `process_vm_readv`/`writev`, `pidfd_getfd`), root included. Without it,
/// a process of a `mayexec run` tree could make a process its user owns
/// outside the tree run any code. Sets no_new_privs. The domain handles
/// one right, making block-device nodes, and grants it beneath `/`:
/// Landlock needs a handled right to make a domain (its scopes, from ABI
/// 6, would also cut signals or abstract sockets to the outside).
pub fn scope_tree() -> Result<RestrictionStatus, ExecAllowError> {
    let root = PathFd::new("/").map_err(|e| ExecAllowError::Root(e.to_string()))?;
    Ruleset::default()
        .handle_access(AccessFs::MakeBlock)
        .map_err(ExecAllowError::Landlock)?
        .create()
        .map_err(ExecAllowError::Landlock)?
        .add_rule(PathBeneath::new(root, AccessFs::MakeBlock))
        .map_err(ExecAllowError::Landlock)?
        .restrict_self()
        .map_err(ExecAllowError::Landlock)
}

fn restrict(rules: Vec<PathBeneath<PathFd>>) -> Result<RestrictionStatus, ExecAllowError> {
    // Only the execute right is handled: everything else stays as it was.
    // It exists since Landlock's first ABI (Linux 5.13).
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::Execute)
        .map_err(ExecAllowError::Landlock)?
        .create()
        .map_err(ExecAllowError::Landlock)?;
    for rule in rules {
        ruleset = ruleset.add_rule(rule).map_err(ExecAllowError::Landlock)?;
    }
    ruleset.restrict_self().map_err(ExecAllowError::Landlock)
}

/// Is the restriction complete: the domain fully enforced, no_new_privs set?
pub fn fully_enforced(status: &RestrictionStatus) -> bool {
    status.ruleset == RulesetStatus::FullyEnforced && status.no_new_privs
}

/// `fully enforced (Landlock ABI 7)`, `not enforced: Landlock is not enabled` …
pub fn describe(status: &RestrictionStatus) -> String {
    let how = match status.ruleset {
        RulesetStatus::FullyEnforced => "fully enforced",
        RulesetStatus::PartiallyEnforced => "partially enforced",
        RulesetStatus::NotEnforced => "not enforced",
    };
    let landlock = match status.landlock {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => match kernel_abi {
            Some(abi) => format!("Landlock ABI {abi}, used as {effective_abi:?}"),
            None => format!("Landlock ABI {}", effective_abi as i32),
        },
        LandlockStatus::NotEnabled => {
            "Landlock is built in but not enabled (lsm= boot parameter)".to_owned()
        }
        LandlockStatus::NotImplemented => {
            "the kernel has no Landlock (Linux 5.13, CONFIG_SECURITY_LANDLOCK)".to_owned()
        }
    };
    let nnp = if status.no_new_privs {
        ""
    } else {
        ", no_new_privs NOT set"
    };
    format!("{how} ({landlock}{nnp})")
}

/// The directories, for messages.
pub fn list(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| Path::new(d).display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
