//! What would enforcement break? Finding the files interpreters load as
//! code under a tree, and the check's verdict on each.
//!
//! ```no_run
//! use mayexec_rollout::scan::{scan, Progress, ScanOptions};
//! use mayexec::Checker;
//!
//! let options = ScanOptions::new(Checker::full());
//! let report = scan(&["/usr/lib/python3".into()], &options, &Progress::default());
//! for file in report.code_files().filter(|f| !f.verdict.is_allowed()) {
//!     println!("{}: {} ({})", file.path.display(), file.verdict, file.rule);
//! }
//! println!("{} code files", report.summary.code_files);
//! ```
//!
//! The walk is parallel (std threads, one directory per job), never follows
//! a symlink, and stays on the file system of each root unless asked. Every
//! file and subdirectory is opened relative to its directory's descriptor
//! with `O_NOFOLLOW`, so a directory swapped for a symlink during the walk
//! cannot lead it out of the tree, and depth does not matter (no path the
//! walk opens is longer than one name; `PATH_MAX` never limits it); a
//! subdirectory is checked to be the inode the parent listed. The walk
//! holds a bounded number of directory descriptors (see [`max_anchors`]). Code files are opened the way an
//! interpreter opens a script (`O_RDONLY | O_CLOEXEC | O_NOCTTY |
//! O_NONBLOCK`, so a FIFO never hangs the walk) and *that* descriptor is
//! checked. Only files that no extension rule recognises are read, and only
//! their first bytes, for `#!`.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rustix::fs::{fstat, openat, statat, AtFlags, FileType, Mode, OFlags, RawDir, Stat, CWD};
use rustix::io::{read, Errno};

use mayexec::trust::TrustStore;
use mayexec::{Checker, Reason, Verdict};

/// The language a code file is written in, as far as its name or `#!` line
/// tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Language {
    /// Python (`.py`, `.pyc`, `.pth`; `python*`).
    Python,
    /// A POSIX-family shell (`.sh`, `.bash`, `.zsh`, `.ksh`; `sh`, `bash` …).
    Shell,
    /// Perl (`.pl`, `.pm`).
    Perl,
    /// Ruby (`.rb`).
    Ruby,
    /// Lua (`.lua`).
    Lua,
    /// PHP (`.php`).
    Php,
    /// Tcl (`.tcl`; `tclsh`, `wish`).
    Tcl,
    /// awk (`.awk`; `awk`, `gawk`, `mawk`, `nawk`).
    Awk,
    /// A `#!` line naming another interpreter.
    Other,
}

impl Language {
    /// The stable lower-case name (`python`, `shell` …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Shell => "shell",
            Language::Perl => "perl",
            Language::Ruby => "ruby",
            Language::Lua => "lua",
            Language::Php => "php",
            Language::Tcl => "tcl",
            Language::Awk => "awk",
            Language::Other => "other",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which rule recognised a file as code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The name ends with this extension (`.py` …). Checked first: a file
    /// recognised by its name is never read.
    Extension(&'static str),
    /// The first line starts with `#!`.
    Shebang,
}

impl Rule {
    /// `extension` or `shebang`.
    pub const fn kind(self) -> &'static str {
        match self {
            Rule::Extension(_) => "extension",
            Rule::Shebang => "shebang",
        }
    }
}

impl fmt::Display for Rule {
    /// `extension .py` or `shebang`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Extension(ext) => write!(f, "extension {ext}"),
            Rule::Shebang => f.write_str("shebang"),
        }
    }
}

/// The extensions interpreters load as code, and their languages.
pub const CODE_EXTENSIONS: [(&str, Language); 15] = [
    (".py", Language::Python),
    (".pyc", Language::Python),
    (".pth", Language::Python),
    (".sh", Language::Shell),
    (".bash", Language::Shell),
    (".zsh", Language::Shell),
    (".ksh", Language::Shell),
    (".pl", Language::Perl),
    (".pm", Language::Perl),
    (".rb", Language::Ruby),
    (".lua", Language::Lua),
    (".php", Language::Php),
    (".tcl", Language::Tcl),
    (".awk", Language::Awk),
    // Python's zip applications are run as code too.
    (".pyz", Language::Python),
];

/// Recognises a code file by its name alone: `Some` when the name ends with
/// one of [`CODE_EXTENSIONS`] after a non-empty stem (`.sh`, a dot file, is
/// not a shell script by its name).
pub fn recognise_name(name: &[u8]) -> Option<(Rule, Language)> {
    let dot = name.iter().rposition(|&b| b == b'.')?;
    if dot == 0 {
        return None;
    }
    let ext = &name[dot..];
    CODE_EXTENSIONS
        .iter()
        .find(|(known, _)| known.as_bytes() == ext)
        .map(|&(known, language)| (Rule::Extension(known), language))
}

/// Recognises a code file by its first bytes: a `#!` line. Returns the
/// interpreter the line names (after `env` and its options, if any) and
/// its language.
pub fn recognise_content(head: &[u8]) -> Option<(Language, String)> {
    let (program, line) = shebang_program(head)?;
    let interpreter = String::from_utf8_lossy(line).trim().to_owned();
    Some((language_of(basename(program)), interpreter))
}

/// The program a `#!` line names (after `env` and its options, if any),
/// and the whole line after `#!`. The program is empty for a bare `#!`.
pub fn shebang_program(head: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let mut words = line
        .split(|&b| b == b' ' || b == b'\t' || b == b'\r')
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let mut program = first;
    if basename(first) == b"env" {
        // `#!/usr/bin/env -S python3 -u`, `#!/usr/bin/env VAR=1 perl`
        if let Some(word) = words.find(|w| !w.starts_with(b"-") && !w.contains(&b'=')) {
            program = word;
        }
    }
    Some((program, line))
}

fn basename(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

fn language_of(program: &[u8]) -> Language {
    let starts = |prefix: &[u8]| program.starts_with(prefix);
    if starts(b"python") || starts(b"pypy") {
        Language::Python
    } else if [
        &b"sh"[..],
        b"bash",
        b"dash",
        b"ash",
        b"zsh",
        b"ksh",
        b"mksh",
        b"ksh93",
        b"busybox",
        b"yash",
        b"posh",
    ]
    .contains(&program)
    {
        Language::Shell
    } else if starts(b"perl") {
        Language::Perl
    } else if starts(b"ruby") {
        Language::Ruby
    } else if starts(b"lua") {
        Language::Lua
    } else if starts(b"php") {
        Language::Php
    } else if starts(b"tclsh") || starts(b"wish") || starts(b"expect") {
        Language::Tcl
    } else if [&b"awk"[..], b"gawk", b"mawk", b"nawk", b"busybox-awk"].contains(&program) {
        Language::Awk
    } else {
        Language::Other
    }
}

/// The mode with an execute bit added wherever the matching read bit is
/// set (`0644` → `0755`, `0640` → `0750`, `0600` → `0700`): whoever may
/// read the file may then execute it, and nobody else.
pub const fn exec_where_readable(mode: u32) -> u32 {
    let perm = mode & 0o7777;
    perm | ((perm & 0o444) >> 2)
}

/// Why a code file's mode is a hazard of its own: whoever may rewrite a
/// script runs code through every interpreter that allows it, and a set-id
/// bit next to an execute bit is a privilege nobody asked for.
/// [`crate::mark`] never makes such a file executable; a scan reports it
/// as a [`Finding::UnsafeMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnsafeMode {
    /// A set-user-ID or set-group-ID bit (`04000`, `02000`).
    SetId,
    /// Writable by its group or by others (`0020`, `0002`).
    WritableByOthers,
}

impl UnsafeMode {
    /// The stable name (`set-id`, `writable-by-others`).
    pub const fn as_str(self) -> &'static str {
        match self {
            UnsafeMode::SetId => "set-id",
            UnsafeMode::WritableByOthers => "writable-by-others",
        }
    }
}

impl fmt::Display for UnsafeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnsafeMode::SetId => "has a set-id bit",
            UnsafeMode::WritableByOthers => "is writable by group or others",
        })
    }
}

/// The hazard in `mode`, if any: a set-id bit first, then a group or
/// other write bit.
pub const fn unsafe_mode(mode: u32) -> Option<UnsafeMode> {
    if mode & 0o6000 != 0 {
        Some(UnsafeMode::SetId)
    } else if mode & 0o022 != 0 {
        Some(UnsafeMode::WritableByOthers)
    } else {
        None
    }
}

/// A change of mode that would fix a file denied only for its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeFix {
    /// The permission bits now (`st_mode & 0o7777`).
    pub old: u32,
    /// The permission bits with [`exec_where_readable`].
    pub new: u32,
}

/// The fix for a file whose verdict is `verdict` and whose mode is `mode`:
/// only a denial for `not-executable` is a mode problem, and only a mode
/// with a read bit lacking its execute bit can be fixed by adding one. A
/// file on a `noexec` mount, or denied by an LSM, is never "fixed" by chmod;
/// a file with an [`unsafe_mode`] is never made executable at all.
/// This is a prediction from the mode alone; [`crate::mark`] verifies it
/// with the real check after changing the mode.
pub fn mode_fix(verdict: &Verdict, mode: u32) -> Option<ModeFix> {
    if verdict.reason() != Some(Reason::NotExecutable) {
        return None;
    }
    let old = mode & 0o7777;
    if unsafe_mode(old).is_some() {
        return None;
    }
    let new = exec_where_readable(old);
    (new != old).then_some(ModeFix { old, new })
}

/// `verdict` with content trust: a file it allows must also be trusted by
/// `trust`, as the enforcement decides under `trust = "required"`.
pub fn with_trust<Fd: AsFd>(trust: Option<&TrustStore>, fd: Fd, verdict: Verdict) -> Verdict {
    match trust {
        Some(trust) => trust.judge(fd, verdict),
        None => verdict,
    }
}

/// A file interpreters would load as code, and the verdict on it.
#[derive(Debug, Clone)]
pub struct CodeFile {
    /// Its path: the root as given, joined with the names below it.
    pub path: PathBuf,
    /// The rule that recognised it.
    pub rule: Rule,
    /// Its language.
    pub language: Language,
    /// For [`Rule::Shebang`]: the rest of the `#!` line.
    pub interpreter: Option<String>,
    /// The check's verdict on the open file.
    pub verdict: Verdict,
    /// Device (`st_dev`) and inode (`st_ino`).
    pub dev: u64,
    /// See `dev`.
    pub ino: u64,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// The mode change that would fix it, when it is denied only for its
    /// mode (see [`mode_fix`]).
    pub fix: Option<ModeFix>,
}

/// A file that is not a regular file, a directory or a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecialKind {
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A type the kernel reports that none of the above is.
    Unknown,
}

impl SpecialKind {
    /// The stable name (`fifo`, `socket`, `char-device`, `block-device`).
    pub const fn as_str(self) -> &'static str {
        match self {
            SpecialKind::Fifo => "fifo",
            SpecialKind::Socket => "socket",
            SpecialKind::CharDevice => "char-device",
            SpecialKind::BlockDevice => "block-device",
            SpecialKind::Unknown => "unknown",
        }
    }
}

/// Something the walk could not examine. Never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A directory that cannot be opened or listed (`EACCES` …).
    UnreadableDirectory,
    /// A file that cannot be opened or read.
    UnreadableFile,
    /// A file or directory that disappeared between listing and opening.
    Vanished,
    /// A directory replaced by another inode during the walk: not entered.
    Changed,
}

impl ProblemKind {
    /// The stable name (`unreadable-directory` …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ProblemKind::UnreadableDirectory => "unreadable-directory",
            ProblemKind::UnreadableFile => "unreadable-file",
            ProblemKind::Vanished => "vanished",
            ProblemKind::Changed => "changed",
        }
    }
}

/// One thing the walk reports.
#[derive(Debug)]
pub enum Finding {
    /// A code file and its verdict.
    Code(CodeFile),
    /// A FIFO, socket or device: never opened, never code.
    Special {
        /// Its path.
        path: PathBuf,
        /// What it is.
        kind: SpecialKind,
    },
    /// A code file whose mode is a hazard (see [`UnsafeMode`]): reported
    /// right after its [`Finding::Code`], whatever the verdict.
    UnsafeMode {
        /// Its path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The hazard.
        kind: UnsafeMode,
    },
    /// A directory on another file system (a mount point), not entered.
    OtherFilesystem {
        /// Its path.
        path: PathBuf,
    },
    /// Something that could not be examined.
    Problem {
        /// Its path.
        path: PathBuf,
        /// What went wrong.
        kind: ProblemKind,
        /// The error.
        error: io::Error,
    },
}

impl Finding {
    /// The path the finding is about.
    pub fn path(&self) -> &Path {
        match self {
            Finding::Code(file) => &file.path,
            Finding::Special { path, .. }
            | Finding::UnsafeMode { path, .. }
            | Finding::OtherFilesystem { path }
            | Finding::Problem { path, .. } => path,
        }
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The check to run on each code file.
    pub checker: Checker,
    /// The trust database, when the verdict must include content trust
    /// (as under `trust = "required"`): a code file the check allows and
    /// the database does not trust is denied with
    /// [`Reason::UntrustedContent`] ([`Reason::TrustUnavailable`] when the
    /// database cannot be used). `None`: the check alone.
    pub trust: Option<Arc<TrustStore>>,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Enter directories on other file systems than their root's.
    pub cross_filesystems: bool,
}

impl ScanOptions {
    /// `checker`, one job per available core, one file system per root.
    pub fn new(checker: Checker) -> ScanOptions {
        ScanOptions {
            checker,
            trust: None,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cross_filesystems: false,
        }
    }
}

/// Live counters for a progress display; the walk only adds to them.
#[derive(Debug, Default)]
pub struct Progress {
    /// Regular files seen.
    pub files: AtomicU64,
    /// Directories listed.
    pub directories: AtomicU64,
    /// Code files found.
    pub code_files: AtomicU64,
}

/// The counts at the end of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Regular files seen.
    pub files: u64,
    /// Directories listed.
    pub directories: u64,
    /// Symlinks seen (never followed).
    pub symlinks: u64,
    /// FIFOs, sockets and devices seen (never opened).
    pub special_files: u64,
    /// Directories on other file systems, not entered.
    pub other_filesystems: u64,
    /// Code files found.
    pub code_files: u64,
    /// Code files by rule kind (`extension`, `shebang`).
    pub by_rule: BTreeMap<&'static str, u64>,
    /// Code files the check allows.
    pub allowed: u64,
    /// Code files the check denies, by reason name (`not-executable` …).
    pub denied: BTreeMap<&'static str, u64>,
    /// Denied code files a mode change would fix.
    pub fixable: u64,
    /// Code files with an [`UnsafeMode`].
    pub unsafe_modes: u64,
    /// Things that could not be examined, by kind.
    pub problems: BTreeMap<ProblemKind, u64>,
    /// Wall-clock time of the walk.
    pub elapsed: Duration,
}

impl Summary {
    /// Denied code files, all reasons.
    pub fn denied_total(&self) -> u64 {
        self.denied.values().sum()
    }

    /// Problems, all kinds.
    pub fn problems_total(&self) -> u64 {
        self.problems.values().sum()
    }

    /// Problems that leave part of the trees unseen: every kind but
    /// [`ProblemKind::Vanished`] (what is gone needs no verdict). A scan
    /// with any is not a complete answer.
    pub fn not_examined(&self) -> u64 {
        self.problems
            .iter()
            .filter(|(kind, _)| **kind != ProblemKind::Vanished)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The findings of a scan, sorted by path, and their summary.
#[derive(Debug)]
pub struct ScanReport {
    /// Code files, special files, skipped mount points and problems.
    pub findings: Vec<Finding>,
    /// The counts.
    pub summary: Summary,
}

impl ScanReport {
    /// The code files found.
    pub fn code_files(&self) -> impl Iterator<Item = &CodeFile> {
        self.findings.iter().filter_map(|f| match f {
            Finding::Code(file) => Some(file),
            _ => None,
        })
    }
}

/// `openat(CWD, path, flags)` for a path of any length: a path longer
/// than the kernel takes (`PATH_MAX`) is opened a piece at a time, each
/// piece of whole names relative to the directory the previous pieces
/// lead to, with the same meaning as the whole path (intermediate
/// symlinks followed, as the kernel follows them; `flags` apply to the
/// last name).
pub fn open_long(path: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
    const PIECE: usize = 3072;
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() < PIECE {
        return openat(CWD, path, flags, Mode::empty());
    }
    let mut dir: Option<OwnedFd> = None;
    let mut rest = bytes;
    loop {
        let at = |dir: &Option<OwnedFd>, piece: &[u8], flags| match dir {
            Some(fd) => openat(fd, OsStr::from_bytes(piece), flags, Mode::empty()),
            None => openat(CWD, OsStr::from_bytes(piece), flags, Mode::empty()),
        };
        if rest.len() < PIECE {
            return at(&dir, rest, flags);
        }
        // Cut after the last '/' within the piece: whole names only.
        let cut = rest[..PIECE]
            .iter()
            .rposition(|&b| b == b'/')
            .ok_or(Errno::NAMETOOLONG)?
            + 1;
        let next = at(
            &dir,
            &rest[..cut],
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        )?;
        dir = Some(next);
        rest = &rest[cut..];
        if rest.is_empty() {
            return at(&dir, b".", flags);
        }
    }
}

/// An open directory whose subdirectories are waiting to be listed: they
/// are opened relative to it (`openat`), so that no path the walk uses is
/// longer than one name, however deep the tree. Each holds a descriptor;
/// the walk holds at most [`max_anchors`] of them at once.
struct Anchor<'a> {
    fd: OwnedFd,
    held: &'a AtomicUsize,
}

impl Drop for Anchor<'_> {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A directory waiting to be listed: where it is, and which inode the
/// parent saw there.
struct Job<'a> {
    /// Its path, for reports (may be longer than `PATH_MAX`).
    path: PathBuf,
    /// The directory to open it from, and the names leading from there
    /// to it (one name, unless the walk held too many descriptors when
    /// its parent was listed). `None` for a root, opened by its path.
    from: Option<(Arc<Anchor<'a>>, Vec<CString>)>,
    dev: u64,
    ino: u64,
    /// The root's file system; subdirectories elsewhere are not entered.
    fs_dev: u64,
    /// Roots are followed like `find -H`; nothing below them is.
    follow: bool,
}

struct Queue<'a> {
    state: Mutex<QueueState<'a>>,
    ready: Condvar,
}

struct QueueState<'a> {
    jobs: Vec<Job<'a>>,
    /// Jobs popped and not yet finished: while any runs, more may come.
    running: usize,
}

impl<'a> Queue<'a> {
    fn pop(&self) -> Option<Job<'a>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = state.jobs.pop() {
                state.running += 1;
                return Some(job);
            }
            if state.running == 0 {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Adds the subdirectories of a finished job, then retires the job.
    fn finish(&self, jobs: Vec<Job<'a>>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let added = jobs.len();
        state.jobs.extend(jobs);
        state.running -= 1;
        let done = state.running == 0 && state.jobs.is_empty();
        drop(state);
        if done || added > 1 {
            self.ready.notify_all();
        } else if added == 1 {
            self.ready.notify_one();
        }
    }
}

/// Walks `roots` and checks every code file below them.
///
/// A root that is a file is examined on its own; a root that is a symlink
/// is followed (like `find -H`), nothing below it is. Nothing here is
/// fatal: what cannot be examined becomes a [`Finding::Problem`].
pub fn scan(roots: &[PathBuf], options: &ScanOptions, progress: &Progress) -> ScanReport {
    let start = Instant::now();
    let held = AtomicUsize::new(0);
    let limits = Limits {
        held: &held,
        max_anchors: max_anchors(options.jobs),
    };
    let mut walker = Walker::new(options, progress, limits);
    let mut jobs = Vec::new();
    for root in roots {
        let st = open_long(root, OFlags::PATH | OFlags::CLOEXEC).and_then(|fd| fstat(&fd));
        match st {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                jobs.push(Job {
                    path: root.clone(),
                    from: None,
                    dev: st.st_dev,
                    ino: st.st_ino,
                    fs_dev: st.st_dev,
                    follow: true,
                })
            }
            Ok(st) => walker.examine_root_file(root, &st),
            Err(errno) => walker.problem(root.clone(), ProblemKind::Vanished, errno),
        }
    }
    jobs.reverse(); // popped from the end: roots in the order given
    let queue = Queue {
        state: Mutex::new(QueueState { jobs, running: 0 }),
        ready: Condvar::new(),
    };
    let workers: Vec<Walker> = std::thread::scope(|s| {
        // A thread that cannot be started (EAGAIN under a pid or memory
        // limit) only makes the walk slower: the calling thread works too.
        let handles: Vec<_> = (1..options.jobs.max(1))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("mayexec-scan".to_owned())
                    .spawn_scoped(s, || {
                        let mut walker = Walker::new(options, progress, limits);
                        work(&queue, &mut walker);
                        walker
                    })
                    .ok()
            })
            .collect();
        let mut own = Walker::new(options, progress, limits);
        work(&queue, &mut own);
        let mut workers: Vec<Walker> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        workers.push(own);
        workers
    });
    for worker in workers {
        walker.merge(worker);
    }
    let mut findings = walker.findings;
    findings.sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()));
    let mut summary = walker.summary;
    for finding in &findings {
        match finding {
            Finding::Code(file) => {
                summary.code_files += 1;
                *summary.by_rule.entry(file.rule.kind()).or_default() += 1;
                match file.verdict.reason() {
                    None => summary.allowed += 1,
                    Some(reason) => *summary.denied.entry(reason.as_str()).or_default() += 1,
                }
                summary.fixable += u64::from(file.fix.is_some());
            }
            Finding::UnsafeMode { .. } => summary.unsafe_modes += 1,
            Finding::Special { .. } => summary.special_files += 1,
            Finding::OtherFilesystem { .. } => summary.other_filesystems += 1,
            Finding::Problem { kind, .. } => *summary.problems.entry(*kind).or_default() += 1,
        }
    }
    summary.elapsed = start.elapsed();
    ScanReport { findings, summary }
}

/// How many directory descriptors the walk may hold for pending
/// subdirectories: a quarter of the soft `RLIMIT_NOFILE` left after each
/// worker's own few (the directory it lists, the file it examines), at
/// most 256. Beyond that, a subdirectory is opened from the nearest held
/// ancestor, one name at a time.
pub fn max_anchors(jobs: usize) -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    let soft = usize::try_from(soft).unwrap_or(usize::MAX);
    (soft.saturating_sub(16 + 4 * jobs.max(1)) / 4).min(256)
}

/// The descriptors the walk holds, shared by the workers.
#[derive(Clone, Copy)]
struct Limits<'a> {
    held: &'a AtomicUsize,
    max_anchors: usize,
}

/// A worker: lists directories until none is left or coming.
fn work<'a>(queue: &Queue<'a>, walker: &mut Walker<'a>) {
    while let Some(job) = queue.pop() {
        let subdirs = walker.list(&job);
        queue.finish(subdirs);
    }
}

/// One worker's state: its own buffers and results, merged at the end.
struct Walker<'a> {
    options: &'a ScanOptions,
    progress: &'a Progress,
    limits: Limits<'a>,
    findings: Vec<Finding>,
    summary: Summary,
    dirents: Vec<MaybeUninit<u8>>,
    head: [u8; 256],
    /// `O_NOATIME` on sniffing opens, so that reading every file's first
    /// bytes does not dirty every inode; only the owner (or root) may ask.
    noatime: bool,
}

/// How code is opened: as an interpreter opens a script, plus `O_NOFOLLOW`
/// because the walk never follows symlinks.
const SCRIPT_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOFOLLOW);

impl<'a> Walker<'a> {
    fn new(options: &'a ScanOptions, progress: &'a Progress, limits: Limits<'a>) -> Walker<'a> {
        Walker {
            options,
            progress,
            limits,
            findings: Vec::new(),
            summary: Summary::default(),
            dirents: Vec::new(),
            head: [0; 256],
            noatime: rustix::process::geteuid().is_root(),
        }
    }

    fn merge(&mut self, other: Walker<'_>) {
        self.findings.extend(other.findings);
        self.summary.files += other.summary.files;
        self.summary.directories += other.summary.directories;
        self.summary.symlinks += other.summary.symlinks;
    }

    fn problem(&mut self, path: PathBuf, kind: ProblemKind, errno: Errno) {
        self.findings.push(Finding::Problem {
            path,
            kind,
            error: errno.into(),
        });
    }

    /// Opens a job's directory: a root by its path (of any length), any
    /// other from its anchor, one name at a time, never through a
    /// symlink.
    fn open_dir(job: &Job<'_>) -> Result<OwnedFd, Errno> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Some((anchor, names)) = &job.from else {
            let flags = if job.follow {
                flags
            } else {
                flags | OFlags::NOFOLLOW
            };
            return open_long(&job.path, flags);
        };
        let mut names = names.iter();
        let first = names.next().ok_or(Errno::INVAL)?;
        let mut dir = openat(&anchor.fd, first, flags | OFlags::NOFOLLOW, Mode::empty())?;
        for name in names {
            dir = openat(&dir, name, flags | OFlags::NOFOLLOW, Mode::empty())?;
        }
        Ok(dir)
    }

    /// Lists one directory; returns its subdirectories to walk.
    fn list(&mut self, job: &Job<'a>) -> Vec<Job<'a>> {
        let dir = match Self::open_dir(job) {
            Ok(dir) => dir,
            Err(errno) => {
                let kind = match errno {
                    Errno::NOENT => ProblemKind::Vanished,
                    Errno::LOOP | Errno::NOTDIR => ProblemKind::Changed,
                    _ => ProblemKind::UnreadableDirectory,
                };
                self.problem(job.path.clone(), kind, errno);
                return Vec::new();
            }
        };
        match fstat(&dir) {
            Ok(st) if st.st_dev == job.dev && st.st_ino == job.ino => {}
            Ok(_) => {
                self.problem(job.path.clone(), ProblemKind::Changed, Errno::STALE);
                return Vec::new();
            }
            Err(errno) => {
                self.vanished_or(job.path.clone(), ProblemKind::UnreadableDirectory, errno);
                return Vec::new();
            }
        }
        self.summary.directories += 1;
        self.progress.directories.fetch_add(1, Ordering::Relaxed);
        if self.dirents.is_empty() {
            self.dirents = vec![MaybeUninit::uninit(); 64 * 1024];
        }
        let mut dirents = std::mem::take(&mut self.dirents);
        let mut subdirs = Vec::new();
        let mut entries = RawDir::new(&dir, &mut dirents);
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                // ENOENT: removed while being listed.
                Err(errno) => {
                    self.vanished_or(job.path.clone(), ProblemKind::UnreadableDirectory, errno);
                    break;
                }
            };
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            self.entry(&dir, job, name, entry.file_type(), &mut subdirs);
        }
        self.dirents = dirents;
        if subdirs.is_empty() {
            return Vec::new();
        }
        // The subdirectories are opened from this directory while the walk
        // holds few enough descriptors (and always below a root, which has
        // no anchor to fall back on); else from this one's own anchor, with
        // one more name.
        let held = self.limits.held.fetch_add(1, Ordering::Relaxed);
        let from = match &job.from {
            Some((anchor, names)) if held >= self.limits.max_anchors => {
                self.limits.held.fetch_sub(1, Ordering::Relaxed);
                (anchor.clone(), names.clone())
            }
            _ => (
                Arc::new(Anchor {
                    fd: dir,
                    held: self.limits.held,
                }),
                Vec::new(),
            ),
        };
        subdirs
            .into_iter()
            .map(|(mut sub, name)| {
                let mut names = from.1.clone();
                names.push(name);
                sub.from = Some((from.0.clone(), names));
                sub
            })
            .collect()
    }

    fn entry(
        &mut self,
        dir: &OwnedFd,
        job: &Job<'a>,
        name: &CStr,
        file_type: FileType,
        subdirs: &mut Vec<(Job<'a>, CString)>,
    ) {
        let path = || job.path.join(OsStr::from_bytes(name.to_bytes()));
        let file_type = match file_type {
            FileType::Unknown => match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => FileType::from_raw_mode(st.st_mode),
                Err(errno) => return self.vanished_or(path(), ProblemKind::UnreadableFile, errno),
            },
            known => known,
        };
        match file_type {
            FileType::RegularFile => self.examine(dir.as_fd(), name, &path),
            FileType::Directory => match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
                    // Replaced since it was listed: look at what is there now.
                    self.entry(dir, job, name, FileType::from_raw_mode(st.st_mode), subdirs)
                }
                Ok(st) if st.st_dev != job.fs_dev && !self.options.cross_filesystems => self
                    .findings
                    .push(Finding::OtherFilesystem { path: path() }),
                Ok(st) => subdirs.push((
                    Job {
                        path: path(),
                        from: None, // set by `list`
                        dev: st.st_dev,
                        ino: st.st_ino,
                        fs_dev: if self.options.cross_filesystems {
                            st.st_dev
                        } else {
                            job.fs_dev
                        },
                        follow: false,
                    },
                    name.to_owned(),
                )),
                Err(errno) => self.vanished_or(path(), ProblemKind::UnreadableDirectory, errno),
            },
            FileType::Symlink => self.summary.symlinks += 1,
            other => {
                let kind = match other {
                    FileType::Fifo => SpecialKind::Fifo,
                    FileType::Socket => SpecialKind::Socket,
                    FileType::CharacterDevice => SpecialKind::CharDevice,
                    FileType::BlockDevice => SpecialKind::BlockDevice,
                    _ => SpecialKind::Unknown,
                };
                self.findings.push(Finding::Special { path: path(), kind });
            }
        }
    }

    fn vanished_or(&mut self, path: PathBuf, kind: ProblemKind, errno: Errno) {
        let kind = if errno == Errno::NOENT {
            ProblemKind::Vanished
        } else {
            kind
        };
        self.problem(path, kind, errno);
    }

    /// A regular file: code by its name, or by its first bytes.
    fn examine(&mut self, dir: BorrowedFd<'_>, name: &CStr, path: &dyn Fn() -> PathBuf) {
        self.count_file();
        let by_name = recognise_name(name.to_bytes());
        let mut flags = SCRIPT_FLAGS;
        if by_name.is_none() && self.noatime {
            flags |= OFlags::NOATIME;
        }
        let file = match openat(dir, name, flags, Mode::empty()) {
            Ok(file) => file,
            Err(Errno::PERM) if flags.contains(OFlags::NOATIME) => {
                match openat(dir, name, SCRIPT_FLAGS, Mode::empty()) {
                    Ok(file) => file,
                    Err(errno) => return self.open_failed(path(), errno),
                }
            }
            Err(errno) => return self.open_failed(path(), errno),
        };
        self.inspect(file, by_name, path);
    }

    fn count_file(&mut self) {
        self.summary.files += 1;
        self.progress.files.fetch_add(1, Ordering::Relaxed);
    }

    /// Recognises the open file (by its name, else by its first bytes) and
    /// checks *that* descriptor.
    fn inspect(
        &mut self,
        file: OwnedFd,
        by_name: Option<(Rule, Language)>,
        path: &dyn Fn() -> PathBuf,
    ) {
        let (rule, language, interpreter) = match by_name {
            Some((rule, language)) => (rule, language, None),
            None => {
                let n = match read(&file, &mut self.head) {
                    Ok(n) => n,
                    // A FIFO or device swapped in after the listing.
                    Err(Errno::AGAIN) => return,
                    Err(errno) => {
                        return self.problem(path(), ProblemKind::UnreadableFile, errno);
                    }
                };
                match recognise_content(&self.head[..n]) {
                    Some((language, interpreter)) => (Rule::Shebang, language, Some(interpreter)),
                    None => return,
                }
            }
        };
        self.progress.code_files.fetch_add(1, Ordering::Relaxed);
        let verdict = self.options.checker.check(&file);
        let verdict = with_trust(self.options.trust.as_deref(), &file, verdict);
        let st = match fstat(&file) {
            Ok(st) => st,
            Err(errno) => return self.problem(path(), ProblemKind::UnreadableFile, errno),
        };
        let file = code_file(path(), rule, language, interpreter, verdict, &st);
        let hazard = unsafe_mode(file.mode).map(|kind| Finding::UnsafeMode {
            path: file.path.clone(),
            mode: file.mode,
            kind,
        });
        self.findings.push(Finding::Code(file));
        self.findings.extend(hazard);
    }

    fn open_failed(&mut self, path: PathBuf, errno: Errno) {
        let kind = match errno {
            Errno::NOENT | Errno::LOOP => ProblemKind::Vanished,
            _ => ProblemKind::UnreadableFile,
        };
        self.problem(path, kind, errno);
    }

    /// A root that is not a directory: a file named on the command line,
    /// opened by its path (a symlink given as a root is followed).
    fn examine_root_file(&mut self, root: &Path, st: &Stat) {
        let special = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => None,
            FileType::Fifo => Some(SpecialKind::Fifo),
            FileType::Socket => Some(SpecialKind::Socket),
            FileType::CharacterDevice => Some(SpecialKind::CharDevice),
            FileType::BlockDevice => Some(SpecialKind::BlockDevice),
            _ => Some(SpecialKind::Unknown),
        };
        if let Some(kind) = special {
            return self.findings.push(Finding::Special {
                path: root.to_owned(),
                kind,
            });
        }
        self.count_file();
        let by_name = root
            .file_name()
            .and_then(|name| recognise_name(name.as_bytes()));
        match open_long(root, SCRIPT_FLAGS - OFlags::NOFOLLOW) {
            Ok(file) => self.inspect(file, by_name, &|| root.to_owned()),
            Err(errno) => self.open_failed(root.to_owned(), errno),
        }
    }
}

fn code_file(
    path: PathBuf,
    rule: Rule,
    language: Language,
    interpreter: Option<String>,
    verdict: Verdict,
    st: &Stat,
) -> CodeFile {
    let mode = st.st_mode & 0o7777;
    CodeFile {
        path,
        rule,
        language,
        interpreter,
        fix: mode_fix(&verdict, mode),
        verdict,
        dev: st.st_dev,
        ino: st.st_ino,
        mode,
        uid: st.st_uid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognised_by_extension_after_a_stem() {
        assert_eq!(
            recognise_name(b"site.py"),
            Some((Rule::Extension(".py"), Language::Python))
        );
        assert_eq!(
            recognise_name(b"a.b.pm"),
            Some((Rule::Extension(".pm"), Language::Perl))
        );
        assert_eq!(
            recognise_name(b"x.awk"),
            Some((Rule::Extension(".awk"), Language::Awk))
        );
        assert_eq!(recognise_name(b".sh"), None);
        assert_eq!(recognise_name(b"README"), None);
        assert_eq!(recognise_name(b"x.pyx"), None);
        assert_eq!(recognise_name(b"x.PY"), None);
        assert_eq!(recognise_name(b"libfoo.so"), None);
    }

    #[test]
    fn shebang_lines_name_their_interpreter() {
        let lang = |head: &[u8]| recognise_content(head).map(|(l, _)| l);
        assert_eq!(lang(b"#!/bin/sh\necho"), Some(Language::Shell));
        assert_eq!(lang(b"#! /usr/bin/python3.12 -E\n"), Some(Language::Python));
        assert_eq!(lang(b"#!/usr/bin/env python3\n"), Some(Language::Python));
        assert_eq!(
            lang(b"#!/usr/bin/env -S VAR=1 perl -w\n"),
            Some(Language::Perl)
        );
        assert_eq!(lang(b"#!/usr/bin/gawk -f\n"), Some(Language::Awk));
        assert_eq!(lang(b"#!/usr/bin/make -f\n"), Some(Language::Other));
        assert_eq!(lang(b"#!"), Some(Language::Other));
        assert_eq!(lang(b"\x7fELF"), None);
        assert_eq!(lang(b" #!/bin/sh"), None);
        assert_eq!(
            recognise_content(b"#!/usr/bin/env python3\r\nx").map(|(_, i)| i),
            Some("/usr/bin/env python3".to_owned())
        );
    }

    #[test]
    fn execute_bits_follow_read_bits() {
        assert_eq!(exec_where_readable(0o644), 0o755);
        assert_eq!(exec_where_readable(0o640), 0o750);
        assert_eq!(exec_where_readable(0o600), 0o700);
        assert_eq!(exec_where_readable(0o200), 0o200);
        assert_eq!(exec_where_readable(0o4644), 0o4755);
        assert_eq!(exec_where_readable(0o100644), 0o755);
    }

    #[test]
    fn set_id_and_shared_write_bits_are_unsafe_modes() {
        assert_eq!(unsafe_mode(0o644), None);
        assert_eq!(unsafe_mode(0o1755), None);
        assert_eq!(unsafe_mode(0o4755), Some(UnsafeMode::SetId));
        assert_eq!(unsafe_mode(0o2666), Some(UnsafeMode::SetId));
        assert_eq!(unsafe_mode(0o620), Some(UnsafeMode::WritableByOthers));
        assert_eq!(unsafe_mode(0o602), Some(UnsafeMode::WritableByOthers));
    }

    #[test]
    fn only_not_executable_with_a_missing_bit_is_a_mode_problem() {
        use mayexec::Backend;
        let denied = |r| Verdict::deny(Backend::Kernel, r);
        assert_eq!(
            mode_fix(&denied(Reason::NotExecutable), 0o644),
            Some(ModeFix {
                old: 0o644,
                new: 0o755
            })
        );
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o200), None);
        // Never next to a set-id bit, never on a file others may rewrite.
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o4644), None);
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o2640), None);
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o666), None);
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o664), None);
        assert_eq!(mode_fix(&denied(Reason::NotExecutable), 0o646), None);
        assert_eq!(mode_fix(&denied(Reason::NoexecMount), 0o644), None);
        assert_eq!(mode_fix(&denied(Reason::KernelPolicy), 0o644), None);
        assert_eq!(mode_fix(&Verdict::allow(Backend::Kernel), 0o644), None);
    }
}
