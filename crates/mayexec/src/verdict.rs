//! The answer to "would executing this file be allowed?", and why.

use std::fmt;

/// Which implementation of the check produced a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `execveat(fd, "", …, AT_EMPTY_PATH | AT_EXECVE_CHECK)` (Linux 6.14):
    /// everything a real `execve` would check, LSMs included.
    Kernel,
    /// The RFC's rules evaluated in user space with `fstat`, `fstatfs` and
    /// `faccessat2`; available on every kernel.
    Emulated,
}

impl Backend {
    /// The stable lower-case name used in output and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Kernel => "kernel",
            Backend::Emulated => "emulated",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a file may not be executed. The names are stable: scripts, logs and
/// the C ABI rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The file's mount is `noexec`.
    NoexecMount,
    /// The caller lacks execute permission (for root: no execute bit at all).
    NotExecutable,
    /// Not a regular file: a directory, device, FIFO, socket or symlink.
    NotRegularFile,
    /// A file of a kernel-internal filesystem (pipefs, sockfs, nsfs, procfs,
    /// sysfs, anonymous inodes, memfd …).
    SpecialFilesystem,
    /// The caller may not read the file.
    Unreadable,
    /// The file is open for writing somewhere (`ETXTBSY`).
    WriteBusy,
    /// The kernel refused, and none of the emulated rules explains why: an
    /// LSM (Landlock, SELinux, AppArmor, IMA, IPE …) decided.
    KernelPolicy,
    /// The check itself failed with an unexpected error: denied, because an
    /// error never allows.
    KernelError,
    /// Code that does not come from a file (`-c`, a prompt, a pipe) under
    /// deny-interactive.
    Interactive,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: &'static [Reason] = &[
        Reason::NoexecMount,
        Reason::NotExecutable,
        Reason::NotRegularFile,
        Reason::SpecialFilesystem,
        Reason::Unreadable,
        Reason::WriteBusy,
        Reason::KernelPolicy,
        Reason::KernelError,
        Reason::Interactive,
    ];

    /// The stable kebab-case name (`noexec-mount`, `not-executable` …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::NoexecMount => "noexec-mount",
            Reason::NotExecutable => "not-executable",
            Reason::NotRegularFile => "not-regular-file",
            Reason::SpecialFilesystem => "special-filesystem",
            Reason::Unreadable => "unreadable",
            Reason::WriteBusy => "write-busy",
            Reason::KernelPolicy => "kernel-policy",
            Reason::KernelError => "kernel-error",
            Reason::Interactive => "interactive",
        }
    }

    /// The reason with this stable name.
    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == name)
    }

    /// The errno a caller that speaks C should see for this denial.
    pub const fn errno(self) -> i32 {
        match self {
            Reason::WriteBusy => libc::ETXTBSY,
            _ => libc::EACCES,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a check: a status record, never a bare bool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Would executing the file be allowed?
    pub allowed: bool,
    /// Why not; `None` when allowed.
    pub reason: Option<Reason>,
    /// Which backend decided.
    pub backend: Backend,
    /// The error number a C caller sees for the denial (`EACCES`, `ETXTBSY`,
    /// or the unexpected error); `None` when allowed.
    pub errno: Option<i32>,
}

impl Verdict {
    /// An allowing verdict.
    pub const fn allow(backend: Backend) -> Verdict {
        Verdict {
            allowed: true,
            reason: None,
            backend,
            errno: None,
        }
    }

    /// A denial for `reason`, with the errno that reason maps to.
    pub const fn deny(backend: Backend, reason: Reason) -> Verdict {
        Verdict {
            allowed: false,
            reason: Some(reason),
            backend,
            errno: Some(reason.errno()),
        }
    }

    /// A denial because the check failed with an unexpected error.
    pub const fn error(backend: Backend, errno: i32) -> Verdict {
        Verdict {
            allowed: false,
            reason: Some(Reason::KernelError),
            backend,
            errno: Some(errno),
        }
    }
}

impl fmt::Display for Verdict {
    /// `allowed`, or `denied (REASON)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            None => f.write_str("allowed"),
            Some(reason) => write!(f, "denied ({reason})"),
        }
    }
}
