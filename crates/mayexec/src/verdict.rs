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
    /// The policy requires trusted content (`trust`), and the file is not
    /// in the trust database, has changed since it was trusted, or is on
    /// a mount the policy does not list.
    UntrustedContent,
    /// The policy requires trusted content, and the trust database cannot
    /// be used (missing, corrupt, or not root's): nothing is trusted.
    TrustUnavailable,
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
        Reason::UntrustedContent,
        Reason::TrustUnavailable,
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
            Reason::UntrustedContent => "untrusted-content",
            Reason::TrustUnavailable => "trust-unavailable",
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

/// The outcome of a check: allowed (by a backend), or denied (by a backend,
/// for a reason, with the error number a C caller sees). Nothing else can be
/// built: a denial always names its reason, an allowance never has one.
///
/// Allowed or denied is all a verdict can be, so the enum is exhaustive;
/// each variant may gain fields (match with `..`, build with
/// [`Verdict::allow`], [`Verdict::deny`] or [`Verdict::error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Executing the file would be allowed.
    #[non_exhaustive]
    Allowed {
        /// Which backend decided.
        backend: Backend,
    },
    /// Executing the file would be refused.
    #[non_exhaustive]
    Denied {
        /// Why.
        reason: Reason,
        /// The error number a C caller sees: `EACCES`, `ETXTBSY`, or the
        /// unexpected error of a check that failed.
        errno: i32,
        /// Which backend decided.
        backend: Backend,
    },
}

impl Verdict {
    /// An allowing verdict.
    pub const fn allow(backend: Backend) -> Verdict {
        Verdict::Allowed { backend }
    }

    /// A denial for `reason`, with the errno that reason maps to.
    pub const fn deny(backend: Backend, reason: Reason) -> Verdict {
        Verdict::Denied {
            reason,
            errno: reason.errno(),
            backend,
        }
    }

    /// A denial because the check failed with an unexpected error.
    pub const fn error(backend: Backend, errno: i32) -> Verdict {
        Verdict::Denied {
            reason: Reason::KernelError,
            errno,
            backend,
        }
    }

    /// Would executing the file be allowed?
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }

    /// Why not; `None` when allowed.
    pub const fn reason(&self) -> Option<Reason> {
        match *self {
            Verdict::Allowed { .. } => None,
            Verdict::Denied { reason, .. } => Some(reason),
        }
    }

    /// The error number a C caller sees for the denial; `None` when allowed.
    pub const fn errno(&self) -> Option<i32> {
        match *self {
            Verdict::Allowed { .. } => None,
            Verdict::Denied { errno, .. } => Some(errno),
        }
    }

    /// Which backend decided.
    pub const fn backend(&self) -> Backend {
        match *self {
            Verdict::Allowed { backend } | Verdict::Denied { backend, .. } => backend,
        }
    }
}

impl fmt::Display for Verdict {
    /// `allowed`, or `denied (REASON)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            None => f.write_str("allowed"),
            Some(reason) => write!(f, "denied ({reason})"),
        }
    }
}
