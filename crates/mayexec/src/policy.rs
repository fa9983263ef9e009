//! The system-wide policy file: the RFC's sysctl, on every kernel.
//!
//! ```toml
//! # /etc/mayexec.conf
//! interpreted_access = 1      # 0 none, 1 mount, 2 file, 3 both
//! deny_interactive = false
//! mode = "enforce"            # or "audit": log denials, enforce nothing
//! trust = "off"               # or "audit", "required": content trust (see crate::trust)
//! trust_mounts = ["/usr"]     # mount points where the trust database is honoured
//! ```
//!
//! The file is trusted only if it and every directory above it (symlinks
//! followed, each directory met on the way checked) are owned by root and
//! not writable by group or others. A file that exists but is untrusted or
//! malformed is an error, and enlightened interpreters then refuse to run
//! anything (fail closed). No file means no system policy.
//!
//! "Root" means host root. Inside a user namespace (a rootless container,
//! `unshare -Ur`) owners are translated ([`crate::userns`]): an owner that
//! maps to an unprivileged host user — such as the namespace's own uid 0 —
//! is not trusted, and an owner the namespace does not map (host root's
//! files seen as the overflow uid) is. There, a directory above a missing
//! file that fails the check is no error: whoever owns it could remove the
//! file anyway, and a rootless container would otherwise refuse everything.
//! And a directory owned by the namespace's own users (a container's root
//! and `/etc`) is no fault when the file itself passes: those users control
//! the namespace's mount tree and could leave the file out, so trusting it
//! costs nothing, and a rootless container that bind-mounts the host's
//! policy file obeys it. The file itself must always pass.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{
    fstat, openat, readlinkat, statat, AtFlags, FileType, Mode as FileMode, OFlags, CWD,
};
use serde::Deserialize;

use crate::userns::{Owner, UserNamespace};
use crate::Level;

/// Where the system policy lives; fixed when the crate is built
/// (`MAYEXEC_POLICY_PATH` at build time overrides it for packagers).
pub const SYSTEM_POLICY_PATH: &str = match option_env!("MAYEXEC_POLICY_PATH") {
    Some(path) => path,
    None => "/etc/mayexec.conf",
};

/// The largest policy file read; anything bigger is refused.
const MAX_POLICY_BYTES: u64 = 64 * 1024;
/// As many symlinks as the kernel follows in one lookup.
const MAX_SYMLINKS: usize = 40;

/// What a denial under the system policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Refuse, and log.
    #[default]
    Enforce,
    /// Log only. Never relaxes the securebits.
    Audit,
}

impl Mode {
    /// `enforce` or `audit`, as written in the file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether files loaded as code must be in the trust database
/// ([`crate::trust`]) as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TrustMode {
    /// The trust database is not consulted.
    #[default]
    Off,
    /// An untrusted file is logged (`reason=untrusted-content`) and let
    /// through.
    Audit,
    /// An untrusted file is refused (logged only under `mode = "audit"`),
    /// in addition to every other rule: trust only adds denials.
    Required,
}

impl TrustMode {
    /// `off`, `audit` or `required`, as written in the file.
    pub const fn as_str(self) -> &'static str {
        match self {
            TrustMode::Off => "off",
            TrustMode::Audit => "audit",
            TrustMode::Required => "required",
        }
    }
}

impl fmt::Display for TrustMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parsed system policy. Keys left out take the values of "no policy".
///
/// New keys become new fields: build one with [`SystemPolicy::parse`], or
/// from [`SystemPolicy::default`] and set the fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SystemPolicy {
    /// The RFC's level for script files (`interpreted_access`).
    pub interpreted_access: Level,
    /// Refuse code that does not come from a checked file.
    pub deny_interactive: bool,
    /// Enforce, or only log.
    pub mode: Mode,
    /// Whether files loaded as code must also be trusted (`trust`).
    pub trust: TrustMode,
    /// The mount points on which the trust database is honoured
    /// (`trust_mounts`); a file on any other mount is untrusted.
    pub trust_mounts: Vec<PathBuf>,
}

/// Why a policy file cannot be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Opening or reading the file, or a directory above it, failed.
    #[error("{}: cannot read the policy file: {source}", path.display())]
    Read {
        /// The policy file.
        path: PathBuf,
        /// The failing call's error.
        #[source]
        source: io::Error,
    },
    /// Someone other than root could change what the file says.
    #[error("{}: untrusted policy file: {}", path.display(), fault)]
    Untrusted {
        /// The policy file.
        path: PathBuf,
        /// What is wrong, and where.
        fault: TrustFault,
    },
    /// The file is not a valid policy.
    #[error("{}: invalid policy file: {error}", path.display())]
    Malformed {
        /// The policy file.
        path: PathBuf,
        /// What is wrong, with the line where the parser knows it.
        error: ParseError,
    },
}

impl PolicyError {
    /// The policy file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            PolicyError::Read { path, .. }
            | PolicyError::Untrusted { path, .. }
            | PolicyError::Malformed { path, .. } => path,
        }
    }
}

/// Why a policy file is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustFault {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// Its owner.
    pub uid: u32,
    /// Its permission bits.
    pub mode: u32,
    /// What is wrong with it.
    pub kind: TrustFaultKind,
}

/// What makes a file or directory untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustFaultKind {
    /// Not owned by root.
    NotOwnedByRoot,
    /// Inside a user namespace, owned by an id that maps to an unprivileged
    /// host user (for example the namespace's uid 0 of a user's
    /// `unshare -Ur`): a root that user built is not the system's.
    OwnedInUserNamespace,
    /// Inside a user namespace that maps the overflow uid, owned by the
    /// overflow uid: host root and that namespace user look the same.
    AmbiguousOwner,
    /// Writable by group or others.
    Writable,
    /// The policy is not a regular file.
    NotRegularFile,
}

impl fmt::Display for TrustFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.kind {
            TrustFaultKind::NotOwnedByRoot => {
                write!(f, "{path} is owned by uid {}, not root", self.uid)
            }
            TrustFaultKind::OwnedInUserNamespace => write!(
                f,
                "{path} is owned by uid {}, which this user namespace maps to an \
                 unprivileged host user, not host root",
                self.uid
            ),
            TrustFaultKind::AmbiguousOwner => write!(
                f,
                "{path} is owned by uid {}, the overflow uid, which this user namespace \
                 also maps: host root cannot be told from a namespace user",
                self.uid
            ),
            TrustFaultKind::Writable => write!(
                f,
                "{path} is writable by group or others (mode {:04o})",
                self.mode & 0o7777
            ),
            TrustFaultKind::NotRegularFile => write!(f, "{path} is not a regular file"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    interpreted_access: i64,
    #[serde(default)]
    deny_interactive: bool,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    trust: Option<String>,
    #[serde(default)]
    trust_mounts: Vec<String>,
}

impl SystemPolicy {
    /// Loads the system policy from [`SYSTEM_POLICY_PATH`]; `Ok(None)` when
    /// there is no such file.
    pub fn load() -> Result<Option<SystemPolicy>, PolicyError> {
        SystemPolicy::load_from(Path::new(SYSTEM_POLICY_PATH))
    }

    /// Loads a policy file the way [`SystemPolicy::load`] does: the same
    /// trust check, the same parser. A relative path is taken from the
    /// current directory.
    pub fn load_from(path: &Path) -> Result<Option<SystemPolicy>, PolicyError> {
        let bytes = match read_trusted(path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            Err(ReadError::Io(source)) => {
                return Err(PolicyError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
            Err(ReadError::Untrusted(fault)) => {
                return Err(PolicyError::Untrusted {
                    path: path.to_owned(),
                    fault,
                })
            }
        };
        let malformed = |error| PolicyError::Malformed {
            path: path.to_owned(),
            error,
        };
        if bytes.len() as u64 > MAX_POLICY_BYTES {
            return Err(malformed(ParseError::TooLarge {
                limit: MAX_POLICY_BYTES,
            }));
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            malformed(ParseError::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            })
        })?;
        SystemPolicy::parse(text).map(Some).map_err(malformed)
    }

    /// Parses policy text; the error says what is wrong, and where.
    pub fn parse(text: &str) -> Result<SystemPolicy, ParseError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| ParseError::Syntax {
            message: e.to_string().trim_end().to_owned(),
        })?;
        let interpreted_access = u8::try_from(file.interpreted_access)
            .ok()
            .and_then(Level::from_u8)
            .ok_or(ParseError::LevelOutOfRange {
                value: file.interpreted_access,
            })?;
        let mode = match file.mode.as_deref() {
            None | Some("enforce") => Mode::Enforce,
            Some("audit") => Mode::Audit,
            Some(other) => {
                return Err(ParseError::UnknownMode {
                    value: other.to_owned(),
                })
            }
        };
        let trust = match file.trust.as_deref() {
            None | Some("off") => TrustMode::Off,
            Some("audit") => TrustMode::Audit,
            Some("required") => TrustMode::Required,
            Some(other) => {
                return Err(ParseError::UnknownTrust {
                    value: other.to_owned(),
                })
            }
        };
        let mut trust_mounts = Vec::with_capacity(file.trust_mounts.len());
        for mount in file.trust_mounts {
            if !mount.starts_with('/') {
                return Err(ParseError::RelativeTrustMount { value: mount });
            }
            trust_mounts.push(PathBuf::from(mount));
        }
        Ok(SystemPolicy {
            interpreted_access,
            deny_interactive: file.deny_interactive,
            mode,
            trust,
            trust_mounts,
        })
    }
}

/// What is wrong with policy text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not TOML, or keys the policy does not have (the parser's message,
    /// with the line).
    #[error("{message}")]
    Syntax {
        /// The TOML parser's message.
        message: String,
    },
    /// `interpreted_access` is not one of the RFC's levels.
    #[error(
        "interpreted_access = {value} is out of range: 0 (none), 1 (mount), 2 (file) or 3 (both)"
    )]
    LevelOutOfRange {
        /// The value in the file.
        value: i64,
    },
    /// `mode` is neither `"enforce"` nor `"audit"`.
    #[error("mode = {value:?}: expected \"enforce\" or \"audit\"")]
    UnknownMode {
        /// The value in the file.
        value: String,
    },
    /// `trust` is not `"off"`, `"audit"` or `"required"`.
    #[error("trust = {value:?}: expected \"off\", \"audit\" or \"required\"")]
    UnknownTrust {
        /// The value in the file.
        value: String,
    },
    /// A `trust_mounts` entry is not an absolute path.
    #[error("trust_mounts: {value:?} is not an absolute path (a mount point such as \"/usr\")")]
    RelativeTrustMount {
        /// The value in the file.
        value: String,
    },
    /// The file is larger than any policy.
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The largest policy file read.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("not UTF-8 text: invalid bytes after the first {valid_up_to}")]
    NotUtf8 {
        /// How many bytes were valid.
        valid_up_to: usize,
    },
}

enum ReadError {
    Io(io::Error),
    Untrusted(TrustFault),
}

impl From<rustix::io::Errno> for ReadError {
    fn from(errno: rustix::io::Errno) -> Self {
        ReadError::Io(errno.into())
    }
}

/// Walks `path` from `/` one component at a time, without letting the
/// kernel follow anything: every directory met (through symlinks too) is
/// opened, and the opened directory is what gets checked, so nothing can be
/// swapped between check and use.
fn read_trusted(path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    match walk(path)? {
        None => Ok(None),
        Some(Walked::File {
            dir,
            name,
            path,
            judge,
        }) => read_file(&dir, &name, &path, judge).map(Some),
        // The path named a directory.
        Some(Walked::Dir { path, .. }) => Err(ReadError::Untrusted(TrustFault {
            path,
            uid: 0,
            mode: 0,
            kind: TrustFaultKind::NotRegularFile,
        })),
    }
}

/// Where a trusted walk ended.
enum Walked {
    /// At a name that is not a directory, in the trusted directory `dir`.
    File {
        dir: OwnedFd,
        name: OsString,
        path: PathBuf,
        judge: Judge,
    },
    /// At a directory (opened `O_PATH`), judged on the way in.
    Dir {
        fd: OwnedFd,
        path: PathBuf,
        judge: Judge,
    },
}

fn walk(path: &Path) -> Result<Option<Walked>, ReadError> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().map_err(ReadError::Io)?.join(path)
    };
    let mut judge = Judge::new();
    let mut pending: VecDeque<OsString> = components(&absolute);
    let root = open_dir(CWD, OsStr::new("/"))?;
    let mut dirs: Vec<(OwnedFd, PathBuf)> = vec![(root, PathBuf::from("/"))];
    judge.dir(&dirs[0].0, &dirs[0].1)?;
    let mut symlinks = 0;

    while let Some(name) = pending.pop_front() {
        if name == ".." {
            if dirs.len() > 1 {
                dirs.pop();
            }
            continue;
        }
        let (dir, dir_path) = dirs.last().expect("the root is never popped");
        let here = dir_path.join(&name);
        let stat = match statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(errno) => return Err(errno.into()),
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                symlinks += 1;
                if symlinks > MAX_SYMLINKS {
                    return Err(rustix::io::Errno::LOOP.into());
                }
                let target = PathBuf::from(OsStr::from_bytes(
                    readlinkat(dir, name.as_os_str(), Vec::new())?.as_bytes(),
                ));
                if target.is_absolute() {
                    dirs.truncate(1);
                }
                for component in components(&target).into_iter().rev() {
                    pending.push_front(component);
                }
            }
            FileType::Directory => {
                let fd = open_dir(dir, &name)?;
                judge.dir(&fd, &here)?;
                dirs.push((fd, here));
            }
            _ if pending.is_empty() => {
                let (dir, _) = dirs.pop().expect("the root is never popped");
                return Ok(Some(Walked::File {
                    dir,
                    name,
                    path: here,
                    judge,
                }));
            }
            _ => return Err(rustix::io::Errno::NOTDIR.into()),
        }
    }
    let (fd, path) = dirs.pop().expect("the root is never popped");
    Ok(Some(Walked::Dir { fd, path, judge }))
}

/// A directory that only root can change, as the policy file's is judged:
/// it and every directory above it owned by root and not writable by group
/// or others. Files are then opened in it by name, and judged the same way.
pub(crate) struct TrustedDir {
    fd: OwnedFd,
    path: PathBuf,
    namespace: Result<UserNamespace, String>,
}

impl fmt::Debug for TrustedDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedDir")
            .field("path", &self.path)
            .finish()
    }
}

impl TrustedDir {
    /// Opens the directory `path` through a trusted walk; `Ok(None)` when
    /// it (or a directory above it) does not exist. The message of an
    /// error names the path at fault and what is wrong.
    pub(crate) fn open(path: &Path) -> Result<Option<TrustedDir>, String> {
        let describe = |error: ReadError| match error {
            ReadError::Io(e) => format!("{}: {e}", path.display()),
            ReadError::Untrusted(fault) => format!("untrusted: {fault}"),
        };
        match walk(path).map_err(describe)? {
            None => Ok(None),
            Some(Walked::File { path, .. }) => Err(format!("{}: not a directory", path.display())),
            Some(Walked::Dir { fd, path, judge }) => {
                if let Some(fault) = judge.deferred {
                    return Err(describe(fault));
                }
                let namespace = judge
                    .namespace
                    .into_inner()
                    .unwrap_or_else(|| UserNamespace::current().map_err(|e| e.to_string()));
                // The directory itself must pass as a file would.
                trust(&fd, &path, false, &namespace).map_err(describe)?;
                Ok(Some(TrustedDir {
                    fd,
                    path,
                    namespace,
                }))
            }
        }
    }

    /// Opens `name` in the directory for reading (never following a
    /// symlink, never blocking) and judges it: a regular file, owned by
    /// root, not writable by group or others. `Ok(None)` when missing.
    pub(crate) fn open_file(&self, name: &str) -> Result<Option<OwnedFd>, String> {
        let path = self.path.join(name);
        let fd = match openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
            FileMode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(errno) => return Err(format!("{}: {}", path.display(), io::Error::from(errno))),
        };
        match trust(&fd, &path, true, &self.namespace) {
            Ok(()) => Ok(Some(fd)),
            Err(ReadError::Io(e)) => Err(format!("{}: {e}", path.display())),
            Err(ReadError::Untrusted(fault)) => Err(format!("untrusted: {fault}")),
        }
    }
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn open_dir<Fd: std::os::fd::AsFd>(dir: Fd, name: &OsStr) -> Result<OwnedFd, ReadError> {
    Ok(openat(
        dir,
        name,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        FileMode::empty(),
    )?)
}

/// Judges each directory on the way and the file. In the initial user
/// namespace the first fault ends the walk; in any other, a fault above the
/// file is kept and reported only if the file exists (see the module docs).
///
/// Which user namespace this is is read only when an owner must be judged:
/// a directory owned by uid 0 and writable by no one else passes in every
/// namespace (host root's, or one a namespace's root owns, which only
/// matters for the file), so the usual walk to a policy file that does not
/// exist reads nothing from `/proc`.
struct Judge {
    namespace: std::cell::OnceCell<Result<UserNamespace, String>>,
    deferred: Option<ReadError>,
}

impl Judge {
    fn new() -> Judge {
        Judge {
            namespace: std::cell::OnceCell::new(),
            deferred: None,
        }
    }

    fn namespace(&self) -> &Result<UserNamespace, String> {
        self.namespace
            .get_or_init(|| UserNamespace::current().map_err(|e| e.to_string()))
    }

    fn dir(&mut self, fd: &OwnedFd, path: &Path) -> Result<(), ReadError> {
        let stat = fstat(fd)?;
        if stat.st_uid == 0 && stat.st_mode & 0o022 == 0 {
            return Ok(());
        }
        match trust(fd, path, false, self.namespace()) {
            Err(ReadError::Untrusted(TrustFault {
                kind: TrustFaultKind::OwnedInUserNamespace,
                ..
            })) => Ok(()),
            Err(fault) if !matches!(self.namespace(), Ok(ns) if ns.is_initial()) => {
                self.deferred.get_or_insert(fault);
                Ok(())
            }
            result => result,
        }
    }

    fn file(self, fd: &OwnedFd, path: &Path) -> Result<(), ReadError> {
        match self.deferred {
            Some(fault) => Err(fault),
            None => trust(fd, path, true, self.namespace()),
        }
    }
}

fn trust(
    fd: &OwnedFd,
    path: &Path,
    want_regular: bool,
    namespace: &Result<UserNamespace, String>,
) -> Result<(), ReadError> {
    let stat = fstat(fd)?;
    let fault = |kind| {
        ReadError::Untrusted(TrustFault {
            path: path.to_owned(),
            uid: stat.st_uid,
            mode: stat.st_mode,
            kind,
        })
    };
    if want_regular && FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(fault(TrustFaultKind::NotRegularFile));
    }
    let namespace = namespace.as_ref().map_err(|e| {
        ReadError::Io(io::Error::other(format!(
            "cannot tell which user namespace this process is in, so no owner can be \
             trusted: {e}"
        )))
    })?;
    match namespace.owner(stat.st_uid) {
        Owner::HostRoot | Owner::Unmapped => {}
        Owner::NamespaceUser if namespace.is_initial() => {
            return Err(fault(TrustFaultKind::NotOwnedByRoot))
        }
        Owner::NamespaceUser => return Err(fault(TrustFaultKind::OwnedInUserNamespace)),
        Owner::Ambiguous => return Err(fault(TrustFaultKind::AmbiguousOwner)),
    }
    if stat.st_mode & 0o022 != 0 {
        return Err(fault(TrustFaultKind::Writable));
    }
    Ok(())
}

fn read_file(dir: &OwnedFd, name: &OsStr, path: &Path, judge: Judge) -> Result<Vec<u8>, ReadError> {
    let fd = openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        FileMode::empty(),
    )?;
    judge.file(&fd, path)?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    Ok(bytes)
}
