//! Fixing files denied only for their mode, and undoing the fix exactly.
//!
//! [`apply`] adds execute bits where the read bits are (see
//! [`exec_where_readable`]) to one file,
//! through a descriptor opened with `O_NOFOLLOW` whose device and inode are
//! verified first, then checks the file again and puts the old mode back if
//! the mode was not the whole problem. Every change goes into a
//! [`Journal`] *before* it is made (write-ahead: a crash leaves a journal
//! that lists at least every change made); [`undo`] restores the old mode
//! only where the file is still the same inode with the mode `mark` set.
//!
//! A bytecode cache (`__pycache__/NAME.TAG.pyc`) must end newer (ctime)
//! than its source for mayexec-python to give the source the cheap check
//! (`docs/semantics.md` §3.2), and a chmod bumps the ctime: [`transact`]
//! changes every source before any cache ([`sources_before_caches`]) and
//! makes sure each cache it changes ends newer than its source; a cache
//! already executable beside a source `mark` changes gets its ctime moved
//! past the source's by [`refresh`], which sets the mode it has (no mode,
//! content or mtime changes, nothing journaled).

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::{
    fchmod, fstat, fsync, linkat, openat, renameat, statx, unlinkat, AtFlags, FileType, Mode,
    OFlags, Stat, StatxFlags, CWD,
};
use rustix::io::Errno;
use rustix::process::geteuid;

use crate::scan::{exec_where_readable, open_long, unsafe_mode, Finding, ScanReport, UnsafeMode};
use mayexec::{Checker, Reason, Verdict};

/// The first line of every journal this version writes.
pub const JOURNAL_MAGIC: &str = "mayexec-mark-journal 2";

/// The first line of the journals of the first format (no birth times),
/// still read by `undo`.
pub const JOURNAL_MAGIC_V1: &str = "mayexec-mark-journal 1";

/// The largest journal `undo` reads: some 100 bytes a change, so room for
/// hundreds of thousands of changes, and a bound on what a wrong file
/// given as the journal can make it allocate.
pub const MAX_JOURNAL_BYTES: u64 = 64 << 20;

/// A file's birth time (`statx` `STATX_BTIME`): with the device and inode,
/// it tells the file `mark` changed from a later file that reuses its
/// inode number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthTime {
    /// Seconds since the epoch.
    pub secs: i64,
    /// Nanoseconds.
    pub nsecs: u32,
}

impl fmt::Display for BirthTime {
    /// `SECS.NNNNNNNNN`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nsecs)
    }
}

impl BirthTime {
    fn parse(text: &str) -> Option<BirthTime> {
        let (secs, nsecs) = text.split_once('.')?;
        let nsecs: u32 = nsecs.parse().ok().filter(|_| nsecs.len() == 9)?;
        (nsecs < 1_000_000_000).then_some(BirthTime {
            secs: secs.parse().ok()?,
            nsecs,
        })
    }

    /// The birth time of the file open as `fd`, where its file system
    /// records one.
    pub fn of(fd: impl AsFd) -> Result<Option<BirthTime>, Errno> {
        let stx = statx(fd, c"", AtFlags::EMPTY_PATH, StatxFlags::BTIME)?;
        Ok(
            (stx.stx_mask & StatxFlags::BTIME.bits() != 0).then_some(BirthTime {
                secs: stx.stx_btime.tv_sec,
                nsecs: stx.stx_btime.tv_nsec,
            }),
        )
    }
}

/// One mode change: which file (path, device, inode, birth time), from
/// what, to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// The file's absolute path.
    pub path: PathBuf,
    /// `st_dev` when the change was planned.
    pub dev: u64,
    /// `st_ino` when the change was planned.
    pub ino: u64,
    /// The birth time when the change was planned; `None` where the file
    /// system records none (and in journals of the first format).
    pub btime: Option<BirthTime>,
    /// The permission bits before.
    pub old_mode: u32,
    /// The permission bits `mark` sets.
    pub new_mode: u32,
}

/// The record of a `mark` run: what `undo` puts back.
///
/// The format is text, one change a line, so that an administrator can read
/// (and, carefully, edit) it:
///
/// ```text
/// mayexec-mark-journal 2
/// # old-mode new-mode device inode birth-time path (bytes below 0x21, '%' and 0x7f as %XX)
/// 0644 0755 64768 1234567 1733000000.123456789 /usr/lib/python3.12/os.py
/// ```
///
/// The birth time is `-` where the file system records none. Journals of
/// the first format (`mayexec-mark-journal 1`) have no birth-time field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// The changes, in the order they were (to be) made.
    pub entries: Vec<JournalEntry>,
}

/// A journal could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal file exists and replacing it was not asked for.
    #[error("{}: journal exists; refusing to overwrite it", path.display())]
    Exists {
        /// The journal.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The journal file itself is not to be trusted: not a regular file,
    /// too large, owned by someone else, or writable by group or others.
    #[error("{}: {why}; refusing to use it as a journal", path.display())]
    Untrusted {
        /// The journal.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A line records a change `mark` never makes (see [`is_mark_change`]):
    /// the journal was not written by `mark`.
    #[error("{}:{line}: {source}; refusing the whole journal", path.display())]
    NotAMarkChange {
        /// The journal.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Why.
        #[source]
        source: MarkError,
    },
    /// The file is not a journal, or a line is malformed.
    #[error("{}:{line}: not a mayexec mark journal line: {text}", path.display())]
    Malformed {
        /// The journal.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}

fn escape(path: &Path, out: &mut Vec<u8>) {
    for &b in path.as_os_str().as_bytes() {
        if b <= b' ' || b == b'%' || b == 0x7f {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

fn unescape(text: &[u8]) -> Option<PathBuf> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = std::str::from_utf8(text.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(OsStr::from_bytes(&out)))
}

impl Journal {
    /// The journal's text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{JOURNAL_MAGIC}\n# undo: mayexec mark --undo THIS-FILE\n\
             # old-mode new-mode device inode birth-time path \
             (bytes below 0x21, '%' and 0x7f as %XX)\n"
        )
        .into_bytes();
        for e in &self.entries {
            let btime = e.btime.map_or_else(|| "-".to_owned(), |b| b.to_string());
            out.extend_from_slice(
                format!(
                    "{:04o} {:04o} {} {} {btime} ",
                    e.old_mode, e.new_mode, e.dev, e.ino
                )
                .as_bytes(),
            );
            escape(&e.path, &mut out);
            out.push(b'\n');
        }
        out
    }

    /// Parses a journal's text; `path` is for messages. Every line must be
    /// a change `mark` makes ([`is_mark_change`]), or the whole journal is
    /// refused.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Journal, JournalError> {
        let malformed = |line: usize, text: &[u8]| JournalError::Malformed {
            path: path.to_owned(),
            line,
            text: String::from_utf8_lossy(text).into_owned(),
        };
        let mut lines = bytes.split(|&b| b == b'\n').enumerate();
        let with_btime = match lines.next() {
            Some((_, first)) if first == JOURNAL_MAGIC.as_bytes() => true,
            Some((_, first)) if first == JOURNAL_MAGIC_V1.as_bytes() => false,
            Some((_, first)) => return Err(malformed(1, first)),
            None => return Err(malformed(1, b"")),
        };
        let mut entries = Vec::new();
        for (i, line) in lines {
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let entry = (|| {
                let mut fields = line.splitn(if with_btime { 6 } else { 5 }, |&b| b == b' ');
                let mut next = || std::str::from_utf8(fields.next()?).ok();
                let old_mode = u32::from_str_radix(next()?, 8).ok()?;
                let new_mode = u32::from_str_radix(next()?, 8).ok()?;
                let dev = next()?.parse().ok()?;
                let ino = next()?.parse().ok()?;
                let btime = match with_btime {
                    false => None,
                    true => match next()? {
                        "-" => None,
                        text => Some(BirthTime::parse(text)?),
                    },
                };
                let path = unescape(fields.next()?)?;
                (old_mode <= 0o7777 && new_mode <= 0o7777 && path.is_absolute()).then_some(
                    JournalEntry {
                        path,
                        dev,
                        ino,
                        btime,
                        old_mode,
                        new_mode,
                    },
                )
            })();
            let entry = entry.ok_or_else(|| malformed(i + 1, line))?;
            is_mark_change(&entry).map_err(|source| JournalError::NotAMarkChange {
                path: path.to_owned(),
                line: i + 1,
                source,
            })?;
            entries.push(entry);
        }
        Ok(Journal { entries })
    }

    /// Reads and parses the journal at `path`, if it can be trusted: a
    /// regular file (opened without blocking, so that a FIFO or a device
    /// given as the journal never hangs), of at most
    /// [`MAX_JOURNAL_BYTES`], owned by the caller or root, and writable by
    /// nobody else. Whoever may write the journal decides which modes
    /// `undo` sets.
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let io_err = |source: io::Error| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let untrusted = |why: String| JournalError::Untrusted {
            path: path.to_owned(),
            why,
        };
        let fd = open_long(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        )
        .map_err(|e| io_err(e.into()))?;
        let st = fstat(&fd).map_err(|e| io_err(e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(untrusted("not a regular file".to_owned()));
        }
        let caller = geteuid().as_raw();
        if st.st_uid != caller && st.st_uid != 0 {
            return Err(untrusted(format!(
                "owned by uid {}, neither you (uid {caller}) nor root",
                st.st_uid
            )));
        }
        if st.st_mode & 0o022 != 0 {
            return Err(untrusted(format!(
                "mode {:04o}: writable by group or others",
                st.st_mode & 0o7777
            )));
        }
        let too_large = || untrusted(format!("larger than {MAX_JOURNAL_BYTES} bytes"));
        if st.st_size as u64 > MAX_JOURNAL_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::from(fd), MAX_JOURNAL_BYTES + 1),
            &mut bytes,
        )
        .map_err(io_err)?;
        if bytes.len() as u64 > MAX_JOURNAL_BYTES {
            return Err(too_large());
        }
        Journal::parse(&bytes, path)
    }

    /// Writes the journal to `path` atomically and durably: a temporary file
    /// in the same directory, `fsync`, then `link` (which refuses an
    /// existing file) or, with `replace`, `rename`; then `fsync` of the
    /// directory. A reader never sees half a journal.
    pub fn write(&self, path: &Path, replace: bool) -> Result<(), JournalError> {
        let io_err = |source: io::Error| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let errno_err = |errno: Errno| io_err(errno.into());
        let name = path
            .file_name()
            .ok_or_else(|| io_err(io::Error::from(io::ErrorKind::InvalidInput)))?;
        let dir_path = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = openat(
            CWD,
            dir_path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno_err)?;
        let mut tmp_name = b".".to_vec();
        tmp_name.extend_from_slice(name.as_bytes());
        tmp_name.extend_from_slice(format!(".tmp-{}", std::process::id()).as_bytes());
        let tmp_name = PathBuf::from(OsStr::from_bytes(&tmp_name));
        let tmp = openat(
            &dir,
            &tmp_name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o600),
        )
        .map_err(errno_err)?;
        let result = (|| {
            let mut file = std::fs::File::from(tmp);
            file.write_all(&self.to_bytes()).map_err(io_err)?;
            fsync(&file).map_err(errno_err)?;
            drop(file);
            if replace {
                renameat(&dir, &tmp_name, &dir, name).map_err(errno_err)
            } else {
                match linkat(&dir, &tmp_name, &dir, name, AtFlags::empty()) {
                    Err(Errno::EXIST) => Err(JournalError::Exists {
                        path: path.to_owned(),
                    }),
                    other => other.map_err(errno_err),
                }
            }
        })();
        let _ = unlinkat(&dir, &tmp_name, AtFlags::empty());
        result?;
        fsync(&dir).map_err(errno_err)
    }
}

/// Why a file was not changed (by [`apply`]) or not restored (by [`undo`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarkError {
    /// The file cannot be opened (gone, a symlink now, unreadable).
    #[error("cannot open: {0}")]
    Open(#[source] io::Error),
    /// Another inode is at the path now.
    #[error("replaced since: device {dev} inode {ino} is there now, not device {want_dev} inode {want_ino}")]
    Replaced {
        /// What is there.
        dev: u64,
        /// What is there.
        ino: u64,
        /// What the journal or plan recorded.
        want_dev: u64,
        /// What the journal or plan recorded.
        want_ino: u64,
    },
    /// The same device and inode, but another file: born at another time
    /// (the inode number was reused).
    #[error("replaced since: born {}, not {want} (the inode number was reused)", now.map_or_else(|| "at an unknown time".to_owned(), |b| format!("at {b}")))]
    Reborn {
        /// The birth time now, if the file system reports one.
        now: Option<BirthTime>,
        /// What the journal or plan recorded.
        want: BirthTime,
    },
    /// Its mode is not what the plan or journal expects.
    #[error("mode changed since: {now:04o}, expected {expected:04o}")]
    ModeChanged {
        /// The mode now.
        now: u32,
        /// The mode expected.
        expected: u32,
    },
    /// Not a regular file (any more).
    #[error("not a regular file")]
    NotRegular,
    /// Owned by someone else, and the caller is not root.
    #[error("owned by uid {owner}, not by you (uid {caller}): run as root or as its owner")]
    NotOwner {
        /// The file's owner.
        owner: u32,
        /// The caller's effective uid.
        caller: u32,
    },
    /// The change is not one `mark` makes: the old mode has a set-id bit or
    /// is writable by group or others, or the new mode is not the old one
    /// with execute bits added where the read bits are.
    #[error("{old:04o} -> {new:04o} is not a change mark makes{}", hazard.map_or_else(String::new, |h| format!(" (mode {old:04o} {h})")))]
    NotAMarkChange {
        /// The mode before.
        old: u32,
        /// The mode after.
        new: u32,
        /// What makes the old mode unsafe, if that is the reason.
        hazard: Option<UnsafeMode>,
    },
    /// `fchmod` failed.
    #[error("fchmod: {0}")]
    Chmod(#[source] io::Error),
    /// The new mode did not make the file pass: the mode was not the
    /// (whole) problem. The old mode was put back.
    #[error(
        "still {verdict} with mode {tried:04o}: not a mode problem (mode {restored:04o} restored)"
    )]
    StillDenied {
        /// The verdict with the new mode.
        verdict: Verdict,
        /// The mode tried.
        tried: u32,
        /// The mode put back.
        restored: u32,
    },
}

/// Opens `path` for a mode change: never through a symlink at its end, and
/// only if it is still the recorded inode, a regular file, and the caller's
/// (or the caller is root).
fn open_verified(entry: &JournalEntry) -> Result<(OwnedFd, Stat), MarkError> {
    open_verified_at(&entry.path, entry.dev, entry.ino, entry.btime)
}

/// [`open_verified`] of the file at `path` recorded as device `dev`,
/// inode `ino`, born at `btime`.
fn open_verified_at(
    path: &Path,
    dev: u64,
    ino: u64,
    btime: Option<BirthTime>,
) -> Result<(OwnedFd, Stat), MarkError> {
    let fd = open_long(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
    )
    .map_err(|e| MarkError::Open(e.into()))?;
    let st = fstat(&fd).map_err(|e| MarkError::Open(e.into()))?;
    if st.st_dev != dev || st.st_ino != ino {
        return Err(MarkError::Replaced {
            dev: st.st_dev,
            ino: st.st_ino,
            want_dev: dev,
            want_ino: ino,
        });
    }
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(MarkError::NotRegular);
    }
    if let Some(want) = btime {
        let now = BirthTime::of(&fd).map_err(|e| MarkError::Open(e.into()))?;
        if now != Some(want) {
            return Err(MarkError::Reborn { now, want });
        }
    }
    check_owner(st.st_uid)?;
    Ok((fd, st))
}

/// Plans one change: the file at `path` (never through a symlink at its
/// end) must still be device `dev`, inode `ino`; its birth time is
/// recorded with it.
pub fn plan(
    path: &Path,
    dev: u64,
    ino: u64,
    old_mode: u32,
    new_mode: u32,
) -> Result<JournalEntry, MarkError> {
    let fd = open_long(path, OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC)
        .map_err(|e| MarkError::Open(e.into()))?;
    let st = fstat(&fd).map_err(|e| MarkError::Open(e.into()))?;
    if (st.st_dev, st.st_ino) != (dev, ino) {
        return Err(MarkError::Replaced {
            dev: st.st_dev,
            ino: st.st_ino,
            want_dev: dev,
            want_ino: ino,
        });
    }
    let btime = BirthTime::of(&fd).map_err(|e| MarkError::Open(e.into()))?;
    Ok(JournalEntry {
        path: path.to_owned(),
        dev,
        ino,
        btime,
        old_mode,
        new_mode,
    })
}

/// Accepts only what `mark` does: execute bits added where the read bits
/// are, to a mode with no set-id bit and no write bit for group or others.
/// A journal entry that says anything else was not written by `mark`.
pub fn is_mark_change(entry: &JournalEntry) -> Result<(), MarkError> {
    let (old, new) = (entry.old_mode, entry.new_mode);
    let hazard = unsafe_mode(old);
    if hazard.is_some() || old > 0o7777 || new == old || new != exec_where_readable(old) {
        return Err(MarkError::NotAMarkChange { old, new, hazard });
    }
    Ok(())
}

/// Refuses files owned by another user (`owner`) unless the caller is root.
pub fn check_owner(owner: u32) -> Result<(), MarkError> {
    let caller = geteuid().as_raw();
    if caller != 0 && owner != caller {
        return Err(MarkError::NotOwner { owner, caller });
    }
    Ok(())
}

fn chmod(fd: impl AsFd, mode: u32) -> Result<(), MarkError> {
    fchmod(fd, Mode::from_raw_mode(mode)).map_err(|e| MarkError::Chmod(e.into()))
}

/// The source CPython compiles the bytecode cache at `cache` from, named
/// as `importlib.util.source_from_cache` names it:
/// `DIR/__pycache__/NAME.TAG.pyc` or `DIR/__pycache__/NAME.TAG.opt-LEVEL.pyc`
/// is the cache of `DIR/NAME.py`. `None` for any other path (a cache
/// under `-X pycache_prefix`, a sourceless `.pyc` beside its package's
/// modules, a file that is no cache).
pub fn cache_source(cache: &Path) -> Option<PathBuf> {
    let pycache = cache.parent()?;
    if pycache.file_name()? != "__pycache__" {
        return None;
    }
    let name = cache.file_name()?.as_bytes().strip_suffix(b".pyc")?;
    let parts: Vec<&[u8]> = name.split(|&b| b == b'.').collect();
    let base = match parts.as_slice() {
        [base, _tag] => base,
        [base, _tag, opt] => {
            let level = opt.strip_prefix(b"opt-")?;
            if level.is_empty() || !level.iter().all(u8::is_ascii_alphanumeric) {
                return None;
            }
            base
        }
        _ => return None,
    };
    if base.is_empty() {
        return None;
    }
    let mut source = base.to_vec();
    source.extend_from_slice(b".py");
    Some(pycache.parent()?.join(OsStr::from_bytes(&source)))
}

/// Puts every change of a bytecode cache ([`cache_source`]) after every
/// other change, keeping the order within each: a chmod bumps a file's
/// ctime, and a cache is only taken for its source's verdict while it is
/// newer (ctime) than the source (`docs/semantics.md` §3.2).
pub fn sources_before_caches(plan: &mut [JournalEntry]) {
    plan.sort_by_key(|entry| cache_source(&entry.path).is_some());
}

/// How often [`past_source`] sets a cache's mode again, a millisecond
/// apart, before it gives up: some 50 clock ticks.
const CTIME_TRIES: u32 = 200;

/// Moves the ctime of the cache open as `fd`, whose mode is `mode`, past
/// the ctime of `source`: when it is not newer already, sets `mode` again
/// (`fchmod` to the mode a file has changes only its ctime), and again a
/// millisecond later while the two are equal (a file system takes its
/// timestamps from a clock that ticks every few milliseconds, and two
/// chmods within a tick get the same one). Returns whether it set the
/// mode. Nothing to do when `source` does not exist or its ctime cannot be
/// read; when someone keeps changing the source, it gives up after
/// [`CTIME_TRIES`] tries and says nothing: the cache is still correct,
/// only not the cheaper one (a second kernel check).
fn past_source(fd: &OwnedFd, mode: u32, source: &Path) -> Result<bool, MarkError> {
    let ctime = |fd: &OwnedFd| {
        statx(fd, c"", AtFlags::EMPTY_PATH, StatxFlags::CTIME)
            .ok()
            .filter(|st| st.stx_mask & StatxFlags::CTIME.bits() != 0)
            .map(|st| (st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec))
    };
    let Ok(source) = open_long(source, OFlags::PATH | OFlags::CLOEXEC) else {
        return Ok(false);
    };
    let mut changed = false;
    for tries in 0..CTIME_TRIES {
        let (Some(theirs), Some(ours)) = (ctime(&source), ctime(fd)) else {
            return Ok(changed);
        };
        if theirs < ours {
            return Ok(changed);
        }
        if tries > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        chmod(fd, mode)?;
        changed = true;
    }
    Ok(changed)
}

/// A bytecode cache `mark` does not change, beside a source it changes:
/// see [`refresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRefresh {
    /// The cache's path.
    pub path: PathBuf,
    /// `st_dev` when it was planned.
    pub dev: u64,
    /// `st_ino` when it was planned.
    pub ino: u64,
    /// The birth time when it was planned, where the file system records
    /// one.
    pub btime: Option<BirthTime>,
    /// Its permission bits, kept.
    pub mode: u32,
    /// Its source ([`cache_source`]).
    pub source: PathBuf,
}

/// What [`refresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// The cache's ctime was moved past its source's.
    Refreshed,
    /// The cache was newer than its source already: nothing was done.
    AlreadyNewer,
}

/// Moves the ctime of a cache past its source's, after `mark` changed the
/// source's mode (which bumped the source's ctime): the cache must still
/// be the planned inode, with the planned mode, and it gets that mode
/// again (on a descriptor opened as [`apply`] opens one). Its mode,
/// content, mtime (CPython validates a cache by the source's mtime and
/// size that its header records, never by its own times) stay as they
/// were, and nothing is journaled: there is nothing to undo. A mode with
/// a set-id bit, or writable by group or others, is refused (a chmod by
/// a user outside the file's group would clear set-group-ID).
pub fn refresh(cache: &CacheRefresh) -> Result<Refreshed, MarkError> {
    if let Some(hazard) = unsafe_mode(cache.mode) {
        return Err(MarkError::NotAMarkChange {
            old: cache.mode,
            new: cache.mode,
            hazard: Some(hazard),
        });
    }
    let (fd, st) = open_verified_at(&cache.path, cache.dev, cache.ino, cache.btime)?;
    let now = st.st_mode & 0o7777;
    if now != cache.mode {
        return Err(MarkError::ModeChanged {
            now,
            expected: cache.mode,
        });
    }
    Ok(match past_source(&fd, now, &cache.source)? {
        true => Refreshed::Refreshed,
        false => Refreshed::AlreadyNewer,
    })
}

/// Makes one planned change: verifies the file is still the planned inode
/// with the planned old mode, sets the new mode on that descriptor, and
/// checks the file again with `checker`. If it is still denied, the old mode
/// is put back and [`MarkError::StillDenied`] says why.
pub fn apply(entry: &JournalEntry, checker: &Checker) -> Result<Verdict, MarkError> {
    apply_open(entry, checker).map(|(verdict, _)| verdict)
}

/// [`apply`], and the file's descriptor when it succeeded.
fn apply_open(entry: &JournalEntry, checker: &Checker) -> Result<(Verdict, OwnedFd), MarkError> {
    is_mark_change(entry)?;
    let (fd, st) = open_verified(entry)?;
    let now = st.st_mode & 0o7777;
    if now != entry.old_mode {
        return Err(MarkError::ModeChanged {
            now,
            expected: entry.old_mode,
        });
    }
    chmod(&fd, entry.new_mode)?;
    let verdict = checker.check(&fd);
    if verdict.is_allowed() {
        return Ok((verdict, fd));
    }
    chmod(&fd, entry.old_mode)?;
    Err(MarkError::StillDenied {
        verdict,
        tried: entry.new_mode,
        restored: entry.old_mode,
    })
}

/// What [`undo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undone {
    /// The old mode is back.
    Restored,
    /// The file already had its old mode (an earlier undo, or a change that
    /// was planned but never made).
    AlreadyRestored,
}

impl fmt::Display for Undone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Undone::Restored => "restored",
            Undone::AlreadyRestored => "already restored",
        })
    }
}

/// Undoes one change: only a change `mark` makes ([`is_mark_change`]:
/// undo only takes away execute bits), only if the file is still the
/// recorded inode (device, inode, birth time) and has exactly the mode
/// `mark` set; anything else was changed since, and is left alone.
pub fn undo(entry: &JournalEntry) -> Result<Undone, MarkError> {
    is_mark_change(entry)?;
    let (fd, st) = open_verified(entry)?;
    let now = st.st_mode & 0o7777;
    if now == entry.old_mode {
        return Ok(Undone::AlreadyRestored);
    }
    if now != entry.new_mode {
        return Err(MarkError::ModeChanged {
            now,
            expected: entry.new_mode,
        });
    }
    chmod(&fd, entry.old_mode)?;
    Ok(Undone::Restored)
}

/// What `mark` does with one code file a scan found denied.
#[derive(Debug)]
pub enum Decision {
    /// The mode is the whole problem: this change fixes it.
    Mark(JournalEntry),
    /// Denied for something a mode change cannot fix.
    LeftAlone {
        /// The file.
        path: PathBuf,
        /// The scan's verdict.
        verdict: Verdict,
        /// Why no mode change helps.
        why: &'static str,
    },
    /// A file `mark` must not make executable, or may not change.
    Refused {
        /// The file.
        path: PathBuf,
        /// Why, and what would make it acceptable.
        why: String,
    },
    /// A bytecode cache that already passes, beside a source this run
    /// marks: its ctime is moved past the source's after the marks
    /// ([`refresh`]); its mode is not changed.
    Refresh(CacheRefresh),
    /// The file changed since the scan, or cannot be opened.
    Failed {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: MarkError,
    },
}

/// Decides, for every denied code file of `report`, what `mark` does: each
/// file (device and inode) once, however many names it has in the trees.
/// Then, for every bytecode cache of `report` that passes already, whose
/// source ([`cache_source`]) is to be marked, that is the caller's (or
/// the caller is root) and whose mode is safe: [`Decision::Refresh`].
pub fn decide(report: &ScanReport) -> Vec<Decision> {
    let mut planned = std::collections::HashSet::new();
    let mut decisions = Vec::new();
    for finding in &report.findings {
        let Finding::Code(file) = finding else {
            continue;
        };
        if file.verdict.is_allowed() {
            continue;
        }
        let path = file.path.clone();
        if let Some(hazard) = unsafe_mode(file.mode) {
            decisions.push(Decision::Refused {
                path,
                why: format!(
                    "mode {:04o} {hazard}: mark never makes such a file executable (remove the \
                     write bits for group and others, or the set-id bit, first)",
                    file.mode
                ),
            });
            continue;
        }
        let Some(fix) = file.fix else {
            let why = match file.verdict.reason() {
                Some(Reason::NotExecutable) => "no read bit to match",
                _ => "not a mode problem",
            };
            decisions.push(Decision::LeftAlone {
                path,
                verdict: file.verdict,
                why,
            });
            continue;
        };
        if let Err(error) = check_owner(file.uid) {
            decisions.push(Decision::Refused {
                path,
                why: error.to_string(),
            });
            continue;
        }
        if !planned.insert((file.dev, file.ino)) {
            continue;
        }
        decisions.push(
            match plan(&file.path, file.dev, file.ino, fix.old, fix.new) {
                Ok(entry) => Decision::Mark(entry),
                Err(error) => Decision::Failed { path, error },
            },
        );
    }
    let scanned: std::collections::HashMap<&Path, (u64, u64)> = report
        .code_files()
        .map(|file| (file.path.as_path(), (file.dev, file.ino)))
        .collect();
    let mut refreshed = std::collections::HashSet::new();
    for file in report.code_files() {
        if !file.verdict.is_allowed()
            || unsafe_mode(file.mode).is_some()
            || check_owner(file.uid).is_err()
            || planned.contains(&(file.dev, file.ino))
        {
            continue;
        }
        let Some(source) = cache_source(&file.path) else {
            continue;
        };
        let source_marked = scanned
            .get(source.as_path())
            .is_some_and(|id| planned.contains(id));
        if !source_marked || !refreshed.insert((file.dev, file.ino)) {
            continue;
        }
        // A cache gone since the scan needs nothing.
        if let Ok(entry) = plan(&file.path, file.dev, file.ino, file.mode, file.mode) {
            decisions.push(Decision::Refresh(CacheRefresh {
                path: entry.path,
                dev: file.dev,
                ino: file.ino,
                btime: entry.btime,
                mode: file.mode,
                source,
            }));
        }
    }
    decisions
}

/// What one mark transaction did.
#[derive(Debug, Default)]
pub struct Marked {
    /// The changes made, as the journal now lists them.
    pub applied: Vec<JournalEntry>,
    /// How many planned changes were not made (each reported to the
    /// caller's `progress` as it failed).
    pub failed: u64,
    /// Rewriting the journal to exactly what was done failed: the journal
    /// written before the changes still lists every change made, and
    /// `--undo` with it is still right.
    pub rewrite_error: Option<JournalError>,
}

/// The mark transaction. The changes are put in order, the bytecode
/// caches' last ([`sources_before_caches`]). The journal lists every
/// planned change before any is made (write-ahead: a crash leaves a
/// journal that covers what was done); each change is applied and the file
/// checked again ([`apply`]), and each cache changed ends newer (ctime)
/// than its source (its new mode set again, a clock tick later, where the
/// two chmods fell within one tick); then the journal is rewritten to
/// exactly what was done, or removed when nothing was. `progress` hears of
/// each change as it is made or refused. The caller [`refresh`]es the
/// caches of [`Decision::Refresh`] afterwards.
///
/// # Errors
/// Writing the journal before any change: then nothing was changed.
pub fn transact(
    mut plan: Vec<JournalEntry>,
    journal: &Path,
    replace: bool,
    checker: &Checker,
    mut progress: impl FnMut(&JournalEntry, &Result<Verdict, MarkError>),
) -> Result<Marked, JournalError> {
    let mut marked = Marked::default();
    if plan.is_empty() {
        return Ok(marked);
    }
    sources_before_caches(&mut plan);
    let ahead = Journal {
        entries: plan.clone(),
    };
    ahead.write(journal, replace)?;
    for entry in plan {
        let result = apply_open(&entry, checker).map(|(verdict, fd)| {
            if let Some(source) = cache_source(&entry.path) {
                // The change is made whatever this finds: only the cheaper
                // check of the source is at stake.
                let _ = past_source(&fd, entry.new_mode, &source);
            }
            verdict
        });
        progress(&entry, &result);
        match result {
            Ok(_) => marked.applied.push(entry),
            Err(_) => marked.failed += 1,
        }
    }
    let done = Journal {
        entries: marked.applied.clone(),
    };
    if marked.applied.is_empty() {
        let _ = std::fs::remove_file(journal);
    } else if let Err(error) = done.write(journal, true) {
        marked.rewrite_error = Some(error);
    }
    Ok(marked)
}

/// Undoes a whole journal, newest change first (so that a file listed
/// twice ends with its first old mode); `progress` hears of each entry.
/// Returns how many entries could not be undone.
pub fn undo_all(
    journal: &Journal,
    mut progress: impl FnMut(&JournalEntry, &Result<Undone, MarkError>),
) -> u64 {
    let mut skipped = 0;
    for entry in journal.entries.iter().rev() {
        let result = undo(entry);
        if result.is_err() {
            skipped += 1;
        }
        progress(entry, &result);
    }
    skipped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_text_round_trips_any_path() {
        let journal = Journal {
            entries: vec![
                JournalEntry {
                    path: "/usr/lib/python3/os.py".into(),
                    dev: 64768,
                    ino: 1234567,
                    btime: Some(BirthTime {
                        secs: 1733000000,
                        nsecs: 12345,
                    }),
                    old_mode: 0o644,
                    new_mode: 0o755,
                },
                JournalEntry {
                    path: PathBuf::from(OsStr::from_bytes(b"/tmp/a b\n%c\xff\x7f")),
                    dev: 1,
                    ino: 2,
                    btime: None,
                    old_mode: 0o600,
                    new_mode: 0o700,
                },
            ],
        };
        let text = journal.to_bytes();
        assert!(text.starts_with(b"mayexec-mark-journal 2\n"));
        let line: &[u8] = b"0644 0755 64768 1234567 1733000000.000012345 /usr/lib/python3/os.py\n";
        assert!(text.windows(line.len()).any(|w| w == line));
        let line: &[u8] = b"0600 0700 1 2 - /tmp/a%20b%0A%25c\xff%7F\n";
        assert!(text.windows(line.len()).any(|w| w == line));
        assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), 5);
        assert_eq!(Journal::parse(&text, Path::new("j")).unwrap(), journal);
    }

    #[test]
    fn first_format_journals_are_still_read() {
        let journal = Journal::parse(
            b"mayexec-mark-journal 1\n# c\n0644 0755 1 2 /a b\n",
            Path::new("j"),
        )
        .unwrap();
        assert_eq!(
            journal.entries,
            vec![JournalEntry {
                path: "/a b".into(),
                dev: 1,
                ino: 2,
                btime: None,
                old_mode: 0o644,
                new_mode: 0o755,
            }]
        );
    }

    #[test]
    fn journals_that_record_other_changes_than_marks_are_refused() {
        for line in [
            "0644 4777 1 2 - /usr/bin/victim", // set-id, and bits never added
            "4777 0755 1 2 - /usr/bin/victim", // undo would set 4777
            "0666 0777 1 2 - /tmp/w.py",       // others may write it
            "0600 0755 1 2 - /tmp/x.py",       // x bits without read bits
            "0755 0755 1 2 - /tmp/y.py",       // no change
            "0755 0644 1 2 - /tmp/z.py",       // undo would add bits
        ] {
            let text = format!("mayexec-mark-journal 2\n0644 0755 1 2 - /ok\n{line}\n");
            let err = Journal::parse(text.as_bytes(), Path::new("j")).unwrap_err();
            assert!(
                matches!(err, JournalError::NotAMarkChange { line: 3, .. }),
                "{line}: {err}"
            );
        }
    }

    #[test]
    fn caches_are_named_after_their_sources_as_cpython_names_them() {
        let source = |p: &str| cache_source(Path::new(p));
        for (cache, want) in [
            ("/l/__pycache__/os.cpython-311.pyc", Some("/l/os.py")),
            ("/l/__pycache__/os.cpython-311.opt-1.pyc", Some("/l/os.py")),
            ("/l/__pycache__/os.cpython-311.opt-2.pyc", Some("/l/os.py")),
            (
                "/l/p/__pycache__/__init__.cpython-312.pyc",
                Some("/l/p/__init__.py"),
            ),
            ("__pycache__/m.cpython-311.pyc", Some("m.py")),
            ("/l/os.cpython-311.pyc", None), // not in __pycache__
            ("/l/__pycache__/os.pyc", None), // no tag
            ("/l/__pycache__/os.cpython-311.opt-.pyc", None),
            ("/l/__pycache__/os.cpython-311.o-1.pyc", None),
            ("/l/__pycache__/a.b.c.d.pyc", None),
            ("/l/__pycache__/.cpython-311.pyc", None),
            ("/l/__pycache__/os.cpython-311.py", None),
            ("/l/__pycache__/os.cpython-311.pyc/x", None),
        ] {
            assert_eq!(source(cache), want.map(PathBuf::from), "{cache}");
        }
    }

    #[test]
    fn sources_are_changed_before_caches() {
        let entry = |path: &str| JournalEntry {
            path: path.into(),
            dev: 1,
            ino: 2,
            btime: None,
            old_mode: 0o644,
            new_mode: 0o755,
        };
        let mut plan = vec![
            entry("/l/__pycache__/b.cpython-311.pyc"),
            entry("/l/__pycache__/z.cpython-311.pyc"),
            entry("/l/a.py"),
            entry("/l/b.py"),
            entry("/l/p/__pycache__/__init__.cpython-311.pyc"),
            entry("/l/p/__init__.py"),
            entry("/l/z.sh"),
        ];
        sources_before_caches(&mut plan);
        let order: Vec<_> = plan.iter().map(|e| e.path.to_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "/l/a.py",
                "/l/b.py",
                "/l/p/__init__.py",
                "/l/z.sh",
                "/l/__pycache__/b.cpython-311.pyc",
                "/l/__pycache__/z.cpython-311.pyc",
                "/l/p/__pycache__/__init__.cpython-311.pyc",
            ]
        );
    }

    #[test]
    fn malformed_journals_name_the_line() {
        let err = Journal::parse(b"something else\n", Path::new("j")).unwrap_err();
        assert!(
            matches!(err, JournalError::Malformed { line: 1, .. }),
            "{err}"
        );
        let err = Journal::parse(
            b"mayexec-mark-journal 1\n# c\n0644 0755 1 2 /ok\n0644 0755 x 2 /bad\n",
            Path::new("j"),
        )
        .unwrap_err();
        assert!(
            matches!(err, JournalError::Malformed { line: 4, .. }),
            "{err}"
        );
        let err = Journal::parse(
            b"mayexec-mark-journal 1\n0644 0755 1 2 relative\n",
            Path::new("j"),
        )
        .unwrap_err();
        assert!(
            matches!(err, JournalError::Malformed { line: 2, .. }),
            "{err}"
        );
    }
}
