//! Content trust: a root-owned database of files whose content the system
//! trusts, which every check consults when the policy asks
//! (`trust = "audit" | "required"` in `/etc/mayexec.conf`).
//!
//! An entry is a file's *identity* — device, inode, inode generation (where
//! the filesystem keeps one), size, ctime to the nanosecond, mode and owner
//! — with the SHA-256 of the content it had when it was trusted and where
//! the trust came from (a package and its version, a manifest, or `mayexec
//! trust add`). Writing a file, truncating it, `chmod`, `chown`, a new link
//! or an `mmap` write all move its ctime, so a file changed after it was
//! trusted no longer matches its entry; a file renamed over it, or a copy,
//! is another inode. Checking therefore never reads the content: one
//! `statx` and a B-tree lookup in a shared memory map.
//!
//! The database is honoured only on the mounts the policy lists by mount
//! point (`trust_mounts`), never on FUSE and never in a mount namespace of
//! a user namespace ([`ListedMount`]): an identity is only as good as the
//! filesystem that reports it.
//!
//! The store is LMDB (`docs/trust.md` says why). A published file is never
//! written again: a writer builds a whole new file, syncs it and renames it
//! over the old one, then bumps a counter in `trust.serial` that readers
//! keep mapped. A reader therefore sees one complete database or the
//! next, never a mix, takes no lock, and notices a new one without a
//! system call.

mod lmdb;
mod mounts;

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{fstat, statx, AtFlags, FileType, StatxFlags};

use crate::policy::TrustedDir;
use crate::uapi::{self, Errno, SharedCounter};
use crate::{Reason, Verdict};

pub use mounts::ListedMount;

/// The directory of the trust database; fixed when the crate is built
/// (`MAYEXEC_TRUST_DIR` at build time overrides it for packagers).
pub const TRUST_DIR: &str = match option_env!("MAYEXEC_TRUST_DIR") {
    Some(path) => path,
    None => "/var/lib/mayexec",
};
/// The database file in [`TRUST_DIR`].
pub const DATABASE_FILE: &str = "trust.mdb";
/// The counter a writer bumps after each new database, in [`TRUST_DIR`];
/// also the writers' lock.
pub const SERIAL_FILE: &str = "trust.serial";

const FORMAT: &[u8] = b"mayexec-trust 1";
/// The databases in the file. `staged` came after the first release: a
/// file without it has nothing staged, and a reader that does not know it
/// ignores it.
const NAMES: [&CStr; 4] = [c"files", c"sources", c"meta", c"staged"];
const REQUIRED: usize = 3;
const FILES: usize = 0;
const SOURCES: usize = 1;
const META: usize = 2;
const STAGED: usize = 3;
const VALUE_HEADER: usize = 84;

/// A mount, as `statx` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MountId {
    /// The ID.
    pub id: u64,
    /// `STATX_MNT_ID_UNIQUE` (never reused while the system runs, Linux
    /// 6.8) rather than the reusable `STATX_MNT_ID`.
    pub unique: bool,
}

/// What a file is, short of its content: what a change to the file changes.
/// Read with [`Identity::of`]; fields may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// The inode generation (`FS_IOC_GETVERSION`), where the filesystem
    /// keeps one (not tmpfs, not overlayfs).
    pub generation: Option<u32>,
    /// The mount it was reached through (informative: mount IDs do not
    /// survive a reboot; the check asks whether the file's mount *now* is
    /// one the policy lists).
    pub mount: MountId,
    /// `st_size`.
    pub size: u64,
    /// ctime, seconds.
    pub ctime_sec: i64,
    /// ctime, nanoseconds.
    pub ctime_nsec: u32,
    /// `st_mode`, type included.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl Identity {
    /// The identity of the file behind `fd`, generation included.
    pub fn of<Fd: AsFd>(fd: Fd) -> io::Result<Identity> {
        let fd = fd.as_fd();
        let mut identity = stat(fd)?;
        if identity.is_regular() {
            identity.generation = generation(fd)?;
        }
        Ok(identity)
    }

    /// A regular file?
    pub fn is_regular(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::RegularFile
    }

    fn key(&self) -> [u8; 16] {
        key(self.dev, self.ino)
    }
}

fn key(dev: u64, ino: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&dev.to_be_bytes());
    key[8..].copy_from_slice(&ino.to_be_bytes());
    key
}

/// Everything but the generation: one `statx`.
fn stat(fd: BorrowedFd<'_>) -> io::Result<Identity> {
    let stx = statx(
        fd,
        c"",
        AtFlags::EMPTY_PATH,
        StatxFlags::BASIC_STATS
            | StatxFlags::MNT_ID
            | StatxFlags::from_bits_retain(mounts::STATX_MNT_ID_UNIQUE),
    )?;
    let mount = mounts::mount_id(&stx).ok_or_else(|| {
        io::Error::other("the kernel gives no mount ID for the file (Linux 5.8 does)")
    })?;
    Ok(Identity {
        dev: rustix::fs::makedev(stx.stx_dev_major, stx.stx_dev_minor),
        ino: stx.stx_ino,
        generation: None,
        mount,
        size: stx.stx_size,
        ctime_sec: stx.stx_ctime.tv_sec,
        ctime_nsec: stx.stx_ctime.tv_nsec,
        mode: u32::from(stx.stx_mode),
        uid: stx.stx_uid,
        gid: stx.stx_gid,
    })
}

/// The inode generation; `None` where the filesystem keeps none. An
/// `O_PATH` descriptor cannot take the `ioctl`: the same inode is opened
/// for reading through `/proc/self/fd` (regular files only: no side
/// effects).
fn generation(fd: BorrowedFd<'_>) -> io::Result<Option<u32>> {
    match uapi::inode_generation(fd) {
        Ok(generation) => Ok(Some(generation)),
        Err(Errno::NOTTY | Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => Ok(None),
        Err(Errno::BADF) => {
            let reopened = rustix::fs::open(
                format!("/proc/self/fd/{}", fd.as_raw_fd()),
                rustix::fs::OFlags::RDONLY
                    | rustix::fs::OFlags::CLOEXEC
                    | rustix::fs::OFlags::NOCTTY
                    | rustix::fs::OFlags::NONBLOCK,
                rustix::fs::Mode::empty(),
            )?;
            let (a, b) = (fstat(fd)?, fstat(&reopened)?);
            if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
                return Err(io::Error::other("the file changed while it was reopened"));
            }
            match uapi::inode_generation(reopened.as_fd()) {
                Ok(generation) => Ok(Some(generation)),
                Err(Errno::NOTTY | Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => Ok(None),
                Err(errno) => Err(errno.into()),
            }
        }
        Err(errno) => Err(errno.into()),
    }
}

/// A read lease on a file being hashed for trust: taking it fails while
/// any process has the file open for writing (a writable shared mapping
/// too, whose writes need not move the ctime), and a process that opens it
/// for writing while it is held breaks it, which [`ReadLease::broken`]
/// reports. Needs the file's owner or `CAP_LEASE`; where the filesystem
/// has no leases, nothing is held and the ctime alone tells.
#[derive(Debug)]
pub struct ReadLease<'a> {
    fd: BorrowedFd<'a>,
    held: bool,
}

impl<'a> ReadLease<'a> {
    /// Takes the lease on `fd` (open read-only). `Err` with
    /// `ErrorKind::WouldBlock` when the file is open for writing.
    pub fn take(fd: BorrowedFd<'a>) -> io::Result<ReadLease<'a>> {
        static SIGIO: std::sync::Once = std::sync::Once::new();
        SIGIO.call_once(|| {
            let _ = uapi::ignore_sigio();
        });
        match uapi::set_lease(fd, libc::F_RDLCK) {
            Ok(()) => Ok(ReadLease { fd, held: true }),
            Err(Errno::AGAIN) => Err(io::Error::from(Errno::AGAIN)),
            // No leases here (EINVAL: the filesystem; EACCES/EPERM: not
            // the owner, no CAP_LEASE).
            Err(_) => Ok(ReadLease { fd, held: false }),
        }
    }

    /// Did someone open the file for writing since the lease was taken?
    pub fn broken(&self) -> bool {
        self.held && !matches!(uapi::get_lease(self.fd), Ok(libc::F_RDLCK))
    }
}

impl Drop for ReadLease<'_> {
    fn drop(&mut self) {
        if self.held {
            let _ = uapi::set_lease(self.fd, libc::F_UNLCK);
        }
    }
}

/// Where the trust in a file came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Source {
    /// An installed package, verified against its own digests.
    Package {
        /// The package name (with `:ARCH` for a multi-arch package).
        name: String,
        /// Its version.
        version: String,
    },
    /// A manifest of SHA-256 digests (`sha256sum` format).
    Manifest {
        /// The manifest file.
        path: PathBuf,
    },
    /// `mayexec trust add`.
    Added,
}

impl Source {
    fn encode(&self) -> Vec<u8> {
        match self {
            Source::Package { name, version } => {
                let mut v = b"package\0".to_vec();
                v.extend_from_slice(name.as_bytes());
                v.push(0);
                v.extend_from_slice(version.as_bytes());
                v
            }
            Source::Manifest { path } => {
                let mut v = b"manifest\0".to_vec();
                v.extend_from_slice(path.as_os_str().as_bytes());
                v
            }
            Source::Added => b"add".to_vec(),
        }
    }

    fn decode(bytes: &[u8]) -> Option<Source> {
        let mut parts = bytes.splitn(3, |&b| b == 0);
        match parts.next()? {
            b"package" => {
                let name = String::from_utf8(parts.next()?.to_vec()).ok()?;
                let version = String::from_utf8(parts.next()?.to_vec()).ok()?;
                Some(Source::Package { name, version })
            }
            b"manifest" => {
                let rest = &bytes[b"manifest\0".len()..];
                Some(Source::Manifest {
                    path: PathBuf::from(OsString::from_vec(rest.to_vec())),
                })
            }
            b"add" if bytes == b"add" => Some(Source::Added),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    /// `package NAME VERSION`, `manifest PATH` or `add`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Package { name, version } => write!(f, "package {name} {version}"),
            Source::Manifest { path } => write!(f, "manifest {}", path.display()),
            Source::Added => f.write_str("add"),
        }
    }
}

/// A trusted file. Built with [`Entry::new`]; fields may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its identity when it was trusted.
    pub identity: Identity,
    /// The SHA-256 of its content then.
    pub sha256: [u8; 32],
    /// Where the trust came from.
    pub source: Source,
    /// The path it was trusted by.
    pub path: PathBuf,
}

/// A staged digest: the content a package manager is about to install at a
/// path (`mayexec trust stage`, from the archives, before dpkg runs).
///
/// While dpkg installs a package, its files and maintainer scripts have
/// identities no one has recorded yet, and the scripts run them at once. A
/// file not in the database whose path and content are staged is trusted:
/// the check hashes it (only while something is staged, that is during a
/// package manager's run). Afterwards `mayexec trust sync` records the
/// packages by identity and drops what was staged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Staged {
    /// The path, as the file's descriptor names it once installed.
    pub path: PathBuf,
    /// The SHA-256 of the content the archive holds for it.
    pub sha256: [u8; 32],
    /// The package it comes from.
    pub source: Source,
}

impl Entry {
    /// The file `path`, with `identity` and content digest `sha256`,
    /// trusted because of `source`.
    pub fn new(identity: Identity, sha256: [u8; 32], source: Source, path: PathBuf) -> Entry {
        Entry {
            identity,
            sha256,
            source,
            path,
        }
    }
}

impl Staged {
    /// The content with digest `sha256` that `source` is about to install
    /// at `path`.
    pub fn new(path: PathBuf, sha256: [u8; 32], source: Source) -> Staged {
        Staged {
            path,
            sha256,
            source,
        }
    }

    /// The digest, then the path: the check looks up both at once.
    fn key(sha256: &[u8; 32], path: &Path) -> Vec<u8> {
        let mut key = Vec::with_capacity(32 + path.as_os_str().len());
        key.extend_from_slice(sha256);
        key.extend_from_slice(path.as_os_str().as_bytes());
        key
    }

    fn parse_key(key: &[u8]) -> Option<([u8; 32], PathBuf)> {
        let sha256 = key.get(..32)?.try_into().ok()?;
        let path = PathBuf::from(OsString::from_vec(key.get(32..)?.to_vec()));
        path.is_absolute().then_some((sha256, path))
    }
}

/// The SHA-256 of the file behind `fd`, read with `pread` from its start:
/// the descriptor's offset, which its reader is about to use, is left
/// alone.
pub fn sha256_at(fd: BorrowedFd<'_>) -> io::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut offset = 0u64;
    loop {
        match rustix::io::pread(fd, &mut buf, offset) {
            Ok(0) => break,
            Ok(n) => {
                sha.update(&buf[..n]);
                offset += n as u64;
            }
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
    Ok(sha.finalize().into())
}

/// Is the file behind `fd` (identity `now`, on a listed mount, not in the
/// database) one a package manager is installing: root's, not writable by
/// group or others, its path and its content staged, unchanged while it
/// was hashed? Anything that cannot be told is a no.
fn staged_file(fd: BorrowedFd<'_>, now: &Identity, db: &Database) -> Result<bool, TrustError> {
    if now.uid != 0 || now.mode & 0o022 != 0 {
        return Ok(false);
    }
    // The path the kernel gives the descriptor: only root can put a file
    // at a path a package installs to. Unlinked files read "PATH
    // (deleted)", other objects are not absolute: neither is staged.
    let Ok(path) = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())) else {
        return Ok(false);
    };
    let Ok(sha256) = sha256_at(fd) else {
        return Ok(false);
    };
    match stat(fd) {
        Ok(after) if after == *now => db.is_staged(&sha256, &path),
        _ => Ok(false),
    }
}

/// The value of an entry: fixed fields, little-endian, then the path.
fn encode_value(entry: &Entry, source: u32) -> Vec<u8> {
    let id = &entry.identity;
    let mut v = Vec::with_capacity(VALUE_HEADER + entry.path.as_os_str().len());
    v.push(1); // version
    v.push(u8::from(id.generation.is_some()) | (u8::from(id.mount.unique) << 1));
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&id.generation.unwrap_or(0).to_le_bytes());
    v.extend_from_slice(&id.size.to_le_bytes());
    v.extend_from_slice(&id.ctime_sec.to_le_bytes());
    v.extend_from_slice(&id.ctime_nsec.to_le_bytes());
    v.extend_from_slice(&id.mode.to_le_bytes());
    v.extend_from_slice(&id.uid.to_le_bytes());
    v.extend_from_slice(&id.gid.to_le_bytes());
    v.extend_from_slice(&id.mount.id.to_le_bytes());
    v.extend_from_slice(&source.to_le_bytes());
    v.extend_from_slice(&entry.sha256);
    debug_assert_eq!(v.len(), VALUE_HEADER);
    v.extend_from_slice(entry.path.as_os_str().as_bytes());
    v
}

/// The fixed fields of a value, borrowed: what the check compares.
struct Value<'a>(&'a [u8]);

impl<'a> Value<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Value<'a>> {
        (bytes.len() >= VALUE_HEADER && bytes[0] == 1).then_some(Value(bytes))
    }
    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }
    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.0[at..at + 8].try_into().expect("8 bytes"))
    }
    fn generation(&self) -> Option<u32> {
        (self.0[1] & 1 != 0).then(|| self.u32_at(4))
    }
    fn source(&self) -> u32 {
        self.u32_at(48)
    }
    /// Does the file now (`now`, without generation) have the identity the
    /// entry recorded? The generation is compared by the caller.
    fn same_file(&self, now: &Identity) -> bool {
        self.u64_at(8) == now.size
            && self.u64_at(16) as i64 == now.ctime_sec
            && self.u32_at(24) == now.ctime_nsec
            && self.u32_at(28) == now.mode
            && self.u32_at(32) == now.uid
            && self.u32_at(36) == now.gid
    }
    fn entry(&self, dev: u64, ino: u64, source: Source) -> Entry {
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&self.0[52..84]);
        Entry {
            identity: Identity {
                dev,
                ino,
                generation: self.generation(),
                mount: MountId {
                    id: self.u64_at(40),
                    unique: self.0[1] & 2 != 0,
                },
                size: self.u64_at(8),
                ctime_sec: self.u64_at(16) as i64,
                ctime_nsec: self.u32_at(24),
                mode: self.u32_at(28),
                uid: self.u32_at(32),
                gid: self.u32_at(36),
            },
            sha256,
            source,
            path: PathBuf::from(OsStr::from_bytes(&self.0[VALUE_HEADER..])),
        }
    }
}

/// Why the trust database cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// There is no database (or no directory for it).
    #[error("{}: no trust database (create one with `mayexec trust from-dpkg` or `mayexec trust add`)", path.display())]
    Missing {
        /// The database file.
        path: PathBuf,
    },
    /// Someone other than root could change it, or it is not a regular
    /// file.
    #[error("{}: untrusted trust database: {fault}", path.display())]
    Untrusted {
        /// The database file.
        path: PathBuf,
        /// What is wrong, and where.
        fault: String,
    },
    /// It is not a trust database LMDB and this library can read.
    #[error("{}: corrupt trust database: {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Reading or writing failed.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        message: String,
    },
}

impl TrustError {
    fn io(path: &Path, error: impl fmt::Display) -> TrustError {
        TrustError::Io {
            path: path.to_owned(),
            message: error.to_string(),
        }
    }
}

/// An open, verified trust database: one published file, read-only.
#[derive(Debug)]
pub struct Database {
    reader: lmdb::Reader,
    sources: HashMap<u32, Source>,
    path: PathBuf,
    entries: u64,
    staged: u64,
    updated: u64,
    file_size: u64,
}

impl Database {
    /// Opens the system's database ([`TRUST_DIR`]).
    pub fn open_system() -> Result<Database, TrustError> {
        Database::open(Path::new(TRUST_DIR))
    }

    /// Opens the database in `dir`, trusted as the policy file is: the
    /// directory, every directory above it and the file owned by root and
    /// not writable by group or others.
    pub fn open(dir: &Path) -> Result<Database, TrustError> {
        let path = dir.join(DATABASE_FILE);
        let untrusted = |fault: String| TrustError::Untrusted {
            path: path.clone(),
            fault,
        };
        let dir = TrustedDir::open(dir)
            .map_err(untrusted)?
            .ok_or_else(|| TrustError::Missing { path: path.clone() })?;
        let fd = dir
            .open_file(DATABASE_FILE)
            .map_err(untrusted)?
            .ok_or_else(|| TrustError::Missing { path: path.clone() })?;
        Database::open_fd(&fd, &path)
    }

    /// Opens the verified file `fd` (named `path` in messages).
    fn open_fd(fd: &OwnedFd, path: &Path) -> Result<Database, TrustError> {
        let corrupt = |detail: String| TrustError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        let ours = fstat(fd).map_err(|e| TrustError::io(path, io::Error::from(e)))?;
        // LMDB opens by name: the very inode, through its descriptor.
        let proc_path =
            CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number");
        let reader = match lmdb::Reader::open(&proc_path, &NAMES, REQUIRED) {
            Err(error) if error.errno() == Some(libc::ENOENT) => {
                // No /proc: by the path, then proven the same inode below.
                let c = CString::new(path.as_os_str().as_bytes())
                    .map_err(|_| corrupt("a NUL in the path".into()))?;
                lmdb::Reader::open(&c, &NAMES, REQUIRED)
            }
            other => other,
        }
        .map_err(|error| match error.errno() {
            Some(errno) => TrustError::io(path, io::Error::from_raw_os_error(errno)),
            None => corrupt(error.to_string()),
        })?;
        let theirs = rustix::fs::fstat(reader.file())
            .map_err(|e| TrustError::io(path, io::Error::from(e)))?;
        if (theirs.st_dev, theirs.st_ino) != (ours.st_dev, ours.st_ino) {
            return Err(TrustError::io(
                path,
                "the file was replaced while it was opened",
            ));
        }
        let file_size = ours.st_size as u64;
        // Every page the B-trees may name must be in the file: a read past
        // its end would be a SIGBUS, not an error.
        let needed = (reader.last_page + 1).saturating_mul(reader.page_size);
        if file_size < needed {
            return Err(corrupt(format!(
                "truncated: {file_size} bytes, its pages need {needed}"
            )));
        }
        let lmdb = |e: lmdb::Error| corrupt(e.to_string());
        match reader.get(META, b"format").map_err(lmdb)? {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(corrupt(format!(
                    "format {:?}, this library reads {:?}",
                    String::from_utf8_lossy(other),
                    String::from_utf8_lossy(FORMAT)
                )))
            }
            None => return Err(corrupt("no format marker".into())),
        }
        let number = |name: &[u8]| -> Result<u64, TrustError> {
            match reader.get(META, name).map_err(lmdb)? {
                Some(bytes) if bytes.len() == 8 => {
                    Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
                }
                _ => Err(corrupt(format!(
                    "no {} in the meta database",
                    String::from_utf8_lossy(name)
                ))),
            }
        };
        let entries = number(b"entries")?;
        let updated = number(b"updated")?;
        let staged = match reader.get(META, b"staged").map_err(lmdb)? {
            None => 0,
            Some(_) => number(b"staged")?,
        };
        let mut sources = HashMap::new();
        let mut bad = None;
        reader
            .for_each(SOURCES, |key, value| {
                match (<[u8; 4]>::try_from(key), Source::decode(value)) {
                    (Ok(key), Some(source)) => {
                        sources.insert(u32::from_be_bytes(key), source);
                        true
                    }
                    _ => {
                        bad = Some("an unreadable source".to_owned());
                        false
                    }
                }
            })
            .map_err(lmdb)?;
        if let Some(bad) = bad {
            return Err(corrupt(bad));
        }
        Ok(Database {
            reader,
            sources,
            path: path.to_owned(),
            entries,
            staged,
            updated,
            file_size,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many files it trusts.
    pub fn len(&self) -> u64 {
        self.entries
    }

    /// Does it trust no file?
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// How many staged digests it holds ([`Staged`]).
    pub fn staged_len(&self) -> u64 {
        self.staged
    }

    /// When it was written (seconds since the epoch).
    pub fn updated(&self) -> u64 {
        self.updated
    }

    /// The size of its file in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The entry for the inode `dev`/`ino`, if any.
    pub fn get(&self, dev: u64, ino: u64) -> Result<Option<Entry>, TrustError> {
        let corrupt = |detail: String| TrustError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let Some(bytes) = self
            .reader
            .get(FILES, &key(dev, ino))
            .map_err(|e| corrupt(e.to_string()))?
        else {
            return Ok(None);
        };
        let value = Value::parse(bytes).ok_or_else(|| corrupt("an unreadable entry".into()))?;
        let source = self
            .sources
            .get(&value.source())
            .ok_or_else(|| corrupt("an entry with an unknown source".into()))?;
        Ok(Some(value.entry(dev, ino, source.clone())))
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> Result<Vec<Entry>, TrustError> {
        let mut entries = Vec::with_capacity(self.entries as usize);
        let mut bad = false;
        self.reader
            .for_each(FILES, |key, value| {
                let (Ok(key), Some(value)) = (<[u8; 16]>::try_from(key), Value::parse(value))
                else {
                    bad = true;
                    return false;
                };
                let Some(source) = self.sources.get(&value.source()) else {
                    bad = true;
                    return false;
                };
                let dev = u64::from_be_bytes(key[..8].try_into().expect("8 bytes"));
                let ino = u64::from_be_bytes(key[8..].try_into().expect("8 bytes"));
                entries.push(value.entry(dev, ino, source.clone()));
                true
            })
            .map_err(|e| TrustError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        if bad {
            return Err(TrustError::Corrupt {
                path: self.path.clone(),
                detail: "an unreadable entry".into(),
            });
        }
        Ok(entries)
    }

    /// Every staged digest, in key order.
    pub fn staged(&self) -> Result<Vec<Staged>, TrustError> {
        let mut staged = Vec::with_capacity(self.staged as usize);
        let mut bad = false;
        self.reader
            .for_each(STAGED, |key, value| {
                match (Staged::parse_key(key), self.source_of(value)) {
                    (Some((sha256, path)), Some(source)) => staged.push(Staged {
                        path,
                        sha256,
                        source: source.clone(),
                    }),
                    _ => bad = true,
                }
                !bad
            })
            .map_err(|e| TrustError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        if bad {
            return Err(TrustError::Corrupt {
                path: self.path.clone(),
                detail: "an unreadable staged digest".into(),
            });
        }
        Ok(staged)
    }

    /// Is `path` staged with content `sha256`?
    fn is_staged(&self, sha256: &[u8; 32], path: &Path) -> Result<bool, TrustError> {
        let found = self
            .reader
            .get(STAGED, &Staged::key(sha256, path))
            .map_err(|e| TrustError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        Ok(found.is_some_and(|value| self.source_of(value).is_some()))
    }

    fn source_of(&self, value: &[u8]) -> Option<&Source> {
        let id = u32::from_be_bytes(value.try_into().ok()?);
        self.sources.get(&id)
    }

    /// Does the file whose identity (short of its generation) is `now`
    /// match its entry?
    ///
    /// The generation is recorded and compared by `mayexec trust verify`,
    /// not here: it would cost a second system call, and what it tells — a
    /// reused inode number — the owner and the ctime already tell. Trusted
    /// files are root's, only root creates root-owned files, and no one but
    /// root can make a ctime what it was (the kernel sets it from its clock
    /// on every change).
    fn matches(&self, now: &Identity) -> Result<Match, TrustError> {
        let corrupt = |detail: String| TrustError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let Some(bytes) = self
            .reader
            .get(FILES, &now.key())
            .map_err(|e| corrupt(e.to_string()))?
        else {
            return Ok(Match::NotInDatabase);
        };
        let value = Value::parse(bytes).ok_or_else(|| corrupt("an unreadable entry".into()))?;
        if !value.same_file(now) {
            return Ok(Match::Changed);
        }
        Ok(Match::Trusted)
    }
}

enum Match {
    Trusted,
    NotInDatabase,
    Changed,
}

/// The answer of the trust database about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustVerdict {
    /// The file has the identity of a trusted entry, on a listed mount.
    Trusted,
    /// The file is not trusted.
    Untrusted(Untrusted),
    /// The database cannot be used: nothing is trusted.
    Unavailable(String),
    /// The file's identity could not be read (an errno): not trusted.
    Error(i32),
}

/// Why a file is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Untrusted {
    /// Not a regular file.
    NotRegularFile,
    /// Its mount is not one the policy lists (or is listed but not
    /// honoured: FUSE, a user namespace's).
    MountNotListed,
    /// No entry for it.
    NotInDatabase,
    /// An entry for its inode, but the file changed since (ctime, size,
    /// mode, owner or generation).
    Changed,
}

impl Untrusted {
    /// Words for messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Untrusted::NotRegularFile => "not a regular file",
            Untrusted::MountNotListed => "not on a mount listed in trust_mounts",
            Untrusted::NotInDatabase => "not in the trust database",
            Untrusted::Changed => "changed since it was trusted",
        }
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum State {
    Ready {
        db: Database,
        serial: SharedCounter,
        seen: u64,
    },
    Unavailable(TrustError),
}

/// The trust database as checks consult it, for one process: the listed
/// mounts resolved once, the database opened once and reopened when a
/// writer publishes a new one (or, while it cannot be used, at every
/// check).
pub struct TrustStore {
    dir: PathBuf,
    mounts: Vec<ListedMount>,
    honoured: Vec<MountId>,
    state: Mutex<State>,
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStore")
            .field("dir", &self.dir)
            .field("mounts", &self.mounts)
            .finish_non_exhaustive()
    }
}

fn open_state(dir: &Path) -> State {
    match open_with_serial(dir) {
        Ok((db, serial, seen)) => State::Ready { db, serial, seen },
        Err(error) => State::Unavailable(error),
    }
}

/// The serial first, then the database: a writer renames the new database
/// into place before it bumps the serial, so a reader that saw serial N has
/// database N or a newer one, and notices N+1 in any case.
fn open_with_serial(dir: &Path) -> Result<(Database, SharedCounter, u64), TrustError> {
    let path = dir.join(DATABASE_FILE);
    let untrusted = |fault: String| TrustError::Untrusted {
        path: path.clone(),
        fault,
    };
    let trusted = TrustedDir::open(dir)
        .map_err(untrusted)?
        .ok_or_else(|| TrustError::Missing { path: path.clone() })?;
    let serial_path = dir.join(SERIAL_FILE);
    let serial_fd = trusted
        .open_file(SERIAL_FILE)
        .map_err(untrusted)?
        .ok_or_else(|| TrustError::Missing {
            path: serial_path.clone(),
        })?;
    let size = fstat(&serial_fd)
        .map_err(|e| TrustError::io(&serial_path, io::Error::from(e)))?
        .st_size;
    if size < 8 {
        return Err(TrustError::Corrupt {
            path: serial_path,
            detail: format!("{size} bytes, not 8"),
        });
    }
    let serial = SharedCounter::map(serial_fd.as_fd())
        .map_err(|e| TrustError::io(&serial_path, io::Error::from(e)))?;
    let seen = serial.get();
    let fd = trusted
        .open_file(DATABASE_FILE)
        .map_err(untrusted)?
        .ok_or_else(|| TrustError::Missing { path: path.clone() })?;
    Ok((Database::open_fd(&fd, &path)?, serial, seen))
}

impl TrustStore {
    /// The store of the database in `dir`, honoured on the mounts
    /// `trust_mounts` names. Never fails: a database that cannot be used
    /// is a state in which nothing is trusted, tried again at each check.
    pub fn open(dir: &Path, trust_mounts: &[PathBuf]) -> TrustStore {
        let mounts = mounts::resolve(trust_mounts);
        let honoured = mounts.iter().filter_map(|m| m.mount.clone().ok()).collect();
        TrustStore {
            dir: dir.to_owned(),
            mounts,
            honoured,
            state: Mutex::new(open_state(dir)),
        }
    }

    /// The system's store ([`TRUST_DIR`]), shared by every enforcement of
    /// this process built for the same `trust_mounts`.
    pub fn system(trust_mounts: &[PathBuf]) -> Arc<TrustStore> {
        type Cache = Mutex<Option<(Vec<PathBuf>, Arc<TrustStore>)>>;
        static SYSTEM: Cache = Mutex::new(None);
        let mut cache = SYSTEM.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((mounts, store)) if mounts == trust_mounts => Arc::clone(store),
            _ => {
                let store = Arc::new(TrustStore::open(Path::new(TRUST_DIR), trust_mounts));
                *cache = Some((trust_mounts.to_vec(), Arc::clone(&store)));
                store
            }
        }
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The listed mounts and what became of each.
    pub fn mounts(&self) -> &[ListedMount] {
        &self.mounts
    }

    /// The database's state now: how many files it trusts and when it was
    /// written, or why it cannot be used.
    pub fn status(&self) -> Result<(u64, u64), TrustError> {
        self.with_state(|state| match state {
            State::Ready { db, .. } => Ok((db.len(), db.updated())),
            State::Unavailable(error) => Err(error.clone()),
        })
    }

    /// Runs `f` on the shared state, refreshed. A lock held past any
    /// check's length was taken by a thread that no longer exists in this
    /// process (a fork from a multithreaded parent): never wait on it;
    /// answer from a state of this call's own.
    fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        match self.lock() {
            Some(mut guard) => {
                self.refresh(&mut guard);
                f(&guard)
            }
            None => {
                let mut private = open_state(&self.dir);
                self.refresh(&mut private);
                f(&private)
            }
        }
    }

    /// The shared state, waiting at most 100 ms: a check holds it for a
    /// microsecond, and a lock still held after that was taken by a thread
    /// a `fork` left behind.
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, State>> {
        let start = std::time::Instant::now();
        loop {
            match self.state.try_lock() {
                Ok(guard) => return Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => return Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {
                    if start.elapsed() > std::time::Duration::from_millis(100) {
                        return None;
                    }
                    std::thread::yield_now();
                }
            }
        }
    }

    fn refresh(&self, state: &mut State) {
        let stale = match state {
            State::Ready { serial, seen, .. } => serial.get() != *seen,
            State::Unavailable(_) => true,
        };
        if stale {
            *state = open_state(&self.dir);
        }
    }

    /// `verdict`, a level's on the file behind `fd`, with content trust
    /// added: a file the level allows must also be trusted. An untrusted
    /// file is denied `untrusted-content`, one this database cannot judge
    /// `trust-unavailable`, and an identity that cannot be read is an
    /// error, which never allows. A denial stands as it is.
    pub fn judge<Fd: AsFd>(&self, fd: Fd, verdict: Verdict) -> Verdict {
        if !verdict.is_allowed() {
            return verdict;
        }
        let backend = verdict.backend();
        match self.check(fd) {
            TrustVerdict::Trusted => verdict,
            TrustVerdict::Untrusted(_) => Verdict::deny(backend, Reason::UntrustedContent),
            TrustVerdict::Unavailable(_) => Verdict::deny(backend, Reason::TrustUnavailable),
            TrustVerdict::Error(errno) => Verdict::error(backend, errno),
        }
    }

    /// Is the file behind `fd` trusted?
    pub fn check<Fd: AsFd>(&self, fd: Fd) -> TrustVerdict {
        let fd = fd.as_fd();
        let now = match stat(fd) {
            Ok(now) => now,
            Err(e) => return TrustVerdict::Error(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        self.with_state(|state| self.check_with(state, fd, &now))
    }

    /// The check of the file behind `fd`, whose identity is `now`, against
    /// `state`.
    fn check_with(&self, state: &State, fd: BorrowedFd<'_>, now: &Identity) -> TrustVerdict {
        let db = match state {
            State::Ready { db, .. } => db,
            State::Unavailable(error) => return TrustVerdict::Unavailable(error.to_string()),
        };
        if !now.is_regular() {
            return TrustVerdict::Untrusted(Untrusted::NotRegularFile);
        }
        if !self.honoured.contains(&now.mount) {
            return TrustVerdict::Untrusted(Untrusted::MountNotListed);
        }
        let untrusted = match db.matches(now) {
            Ok(Match::Trusted) => return TrustVerdict::Trusted,
            Ok(Match::NotInDatabase) => Untrusted::NotInDatabase,
            Ok(Match::Changed) => Untrusted::Changed,
            Err(error) => return TrustVerdict::Unavailable(error.to_string()),
        };
        if db.staged_len() == 0 {
            return TrustVerdict::Untrusted(untrusted);
        }
        match staged_file(fd, now, db) {
            Ok(true) => TrustVerdict::Trusted,
            Ok(false) => TrustVerdict::Untrusted(untrusted),
            Err(error) => TrustVerdict::Unavailable(error.to_string()),
        }
    }
}

/// Changes to the trust database, made by one writer at a time (root):
/// the current database is read whole, changed in memory, and published as
/// a new file that replaces it.
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    lock: std::fs::File,
    entries: BTreeMap<[u8; 16], Entry>,
    staged: BTreeMap<Vec<u8>, Staged>,
}

/// How the database a [`Writer`] started from was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Previous {
    /// There was none.
    None,
    /// It was read.
    Read(u64),
    /// It could not be read (the error); the writer starts empty.
    Unreadable(TrustError),
}

impl Writer {
    /// Locks the database in `dir` (created, mode 0755, with its parents
    /// where missing) against other writers, waiting for them, and reads
    /// it. A database that cannot be read (corrupt) is reported in
    /// [`Previous::Unreadable`] and started afresh; one that is not
    /// trusted (not root's) is an error.
    pub fn open(dir: &Path) -> Result<(Writer, Previous), TrustError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        let readable = |path: &Path| {
            // Exactly 0755/0644 whatever the umask: every checker must read them.
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| TrustError::io(path, e))
        };
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|e| TrustError::io(dir, e))?;
            readable(dir)?;
        }
        let serial_path = dir.join(SERIAL_FILE);
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&serial_path)
            .map_err(|e| TrustError::io(&serial_path, e))?;
        readable(&serial_path)?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| TrustError::io(&serial_path, io::Error::from(e)))?;
        let mut writer = Writer {
            dir: dir.to_owned(),
            lock,
            entries: BTreeMap::new(),
            staged: BTreeMap::new(),
        };
        let previous = match Database::open(dir) {
            Ok(db) => {
                for entry in db.entries()? {
                    writer.entries.insert(entry.identity.key(), entry);
                }
                for staged in db.staged()? {
                    writer.stage(staged);
                }
                Previous::Read(db.len())
            }
            Err(TrustError::Missing { .. }) => Previous::None,
            Err(error @ TrustError::Corrupt { .. }) => Previous::Unreadable(error),
            Err(error) => return Err(error),
        };
        Ok((writer, previous))
    }

    /// The entries as they stand.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// None?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for `identity`'s inode.
    pub fn get(&self, identity: &Identity) -> Option<&Entry> {
        self.entries.get(&identity.key())
    }

    /// Trusts a file (replacing any entry for its inode).
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        self.entries.insert(entry.identity.key(), entry)
    }

    /// Forgets the inode of `identity`.
    pub fn remove(&mut self, identity: &Identity) -> Option<Entry> {
        self.entries.remove(&identity.key())
    }

    /// Keeps only the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(|_, entry| keep(entry));
    }

    /// The staged digests as they stand.
    pub fn staged(&self) -> impl Iterator<Item = &Staged> {
        self.staged.values()
    }

    /// Stages a digest (replacing the same path and digest staged before).
    pub fn stage(&mut self, staged: Staged) {
        self.staged
            .insert(Staged::key(&staged.sha256, &staged.path), staged);
    }

    /// Keeps only the staged digests `keep` says yes to.
    pub fn retain_staged(&mut self, mut keep: impl FnMut(&Staged) -> bool) {
        self.staged.retain(|_, staged| keep(staged));
    }

    /// Publishes the entries as the new database: a new file, synced, renamed
    /// over the old one, the directory synced, then the serial bumped.
    /// Returns the size of the new file.
    pub fn commit(self) -> Result<u64, TrustError> {
        let path = self.dir.join(DATABASE_FILE);
        let temp = self.dir.join(format!("{DATABASE_FILE}.new"));
        let _ = std::fs::remove_file(&temp);
        let result = self.build(&temp);
        let size = match result {
            Ok(size) => size,
            Err(error) => {
                let _ = std::fs::remove_file(&temp);
                return Err(error);
            }
        };
        std::fs::rename(&temp, &path).map_err(|e| TrustError::io(&path, e))?;
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| TrustError::io(&self.dir, e))?;
        self.bump_serial()?;
        Ok(size)
    }

    fn build(&self, temp: &Path) -> Result<u64, TrustError> {
        use std::os::unix::fs::PermissionsExt;
        let lmdb_error = |e: lmdb::Error| TrustError::io(temp, e);
        let mut sources: BTreeMap<&Source, u32> = BTreeMap::new();
        let mut bytes = 0usize;
        for entry in self.entries.values() {
            let next = sources.len() as u32;
            sources.entry(&entry.source).or_insert(next);
            bytes += 16 + VALUE_HEADER + entry.path.as_os_str().len();
        }
        for (key, staged) in &self.staged {
            let next = sources.len() as u32;
            sources.entry(&staged.source).or_insert(next);
            bytes += key.len() + 4;
        }
        // Room for the data twice over, and a little more: LMDB stops
        // with MDB_MAP_FULL rather than overrun it.
        let page = 4096;
        let map_size = (bytes * 2 + (16 << 20)).div_ceil(page) * page;
        let c_temp = CString::new(temp.as_os_str().as_bytes())
            .map_err(|_| TrustError::io(temp, "a NUL in the path"))?;
        let mut builder = lmdb::Builder::create(&c_temp, &NAMES, map_size).map_err(lmdb_error)?;
        for entry in self.entries.values() {
            let value = encode_value(entry, sources[&entry.source]);
            builder
                .append(FILES, &entry.identity.key(), &value)
                .map_err(lmdb_error)?;
        }
        for (key, staged) in &self.staged {
            builder
                .append(STAGED, key, &sources[&staged.source].to_be_bytes())
                .map_err(lmdb_error)?;
        }
        let mut by_id: Vec<(u32, &Source)> = sources.iter().map(|(s, &id)| (id, *s)).collect();
        by_id.sort();
        for (id, source) in by_id {
            builder
                .append(SOURCES, &id.to_be_bytes(), &source.encode())
                .map_err(lmdb_error)?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Keys in byte order: entries, format, staged, updated.
        builder
            .append(META, b"entries", &(self.entries.len() as u64).to_le_bytes())
            .map_err(lmdb_error)?;
        builder
            .append(META, b"format", FORMAT)
            .map_err(lmdb_error)?;
        builder
            .append(META, b"staged", &(self.staged.len() as u64).to_le_bytes())
            .map_err(lmdb_error)?;
        builder
            .append(META, b"updated", &now.to_le_bytes())
            .map_err(lmdb_error)?;
        builder.finish().map_err(lmdb_error)?;
        std::fs::set_permissions(temp, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| TrustError::io(temp, e))?;
        let file = std::fs::File::open(temp).map_err(|e| TrustError::io(temp, e))?;
        file.sync_all().map_err(|e| TrustError::io(temp, e))?;
        Ok(file.metadata().map_err(|e| TrustError::io(temp, e))?.len())
    }

    fn bump_serial(&self) -> Result<(), TrustError> {
        use std::os::unix::fs::FileExt;
        let path = self.dir.join(SERIAL_FILE);
        let mut current = [0u8; 8];
        let n = self
            .lock
            .read_at(&mut current, 0)
            .map_err(|e| TrustError::io(&path, e))?;
        let value = if n == 8 {
            u64::from_le_bytes(current)
        } else {
            0
        };
        self.lock
            .write_all_at(&value.wrapping_add(1).to_le_bytes(), 0)
            .map_err(|e| TrustError::io(&path, e))?;
        self.lock.sync_all().map_err(|e| TrustError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock left held (as by a thread a `fork` did not copy) delays a
    /// check by at most 100 ms and never hangs it.
    #[test]
    fn a_lock_held_forever_never_hangs_a_check() {
        let store = TrustStore::open(Path::new("/nonexistent/mayexec-trust"), &[]);
        let held = store.state.lock().unwrap();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let start = std::time::Instant::now();
        assert!(matches!(store.check(&file), TrustVerdict::Unavailable(_)));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert!(store.status().is_err());
        drop(held);
    }

    /// A file of the first release has three databases and no "staged":
    /// it opens, with nothing staged.
    #[test]
    fn a_file_without_the_staged_database_reads_as_nothing_staged() {
        let dir = std::env::temp_dir().join(format!("mayexec-trust-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = CString::new(dir.join("v1.mdb").as_os_str().as_bytes()).unwrap();
        let mut builder = lmdb::Builder::create(&path, &NAMES[..REQUIRED], 1 << 20).unwrap();
        builder.append(META, b"format", FORMAT).unwrap();
        builder.finish().unwrap();
        let reader = lmdb::Reader::open(&path, &NAMES, REQUIRED).unwrap();
        assert_eq!(reader.get(STAGED, b"anything").unwrap(), None);
        let mut seen = 0;
        reader
            .for_each(STAGED, |_, _| {
                seen += 1;
                true
            })
            .unwrap();
        assert_eq!(seen, 0);
        // A required database that is missing is an error.
        let strict = lmdb::Reader::open(&path, &NAMES, NAMES.len());
        assert!(strict.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
