//! The C types of the ABI and their conversions from the library's.
//!
//! Names are the C names (`struct mayexec_verdict`, `MAYEXEC_REASON_…`):
//! cbindgen copies them into `mayexec.h` as they are, and the numbers are
//! part of the contract.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, CStr};

use mayexec::{Backend, Enforcement, Reason, Verdict};

/// The RFC's `faccessat2` flag `AT_INTERPRETED` (0x400): with it,
/// `mayexec_faccessat2` answers "may this file be interpreted?" under the
/// system policy's level.
pub const MAYEXEC_AT_INTERPRETED: c_int = 0x400;

/// Why a file may not be executed. The numbers are stable.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mayexec_reason {
    /// Allowed.
    MAYEXEC_REASON_NONE = 0,
    /// The file's mount is `noexec`.
    MAYEXEC_REASON_NOEXEC_MOUNT = 1,
    /// The caller lacks execute permission (for root: no execute bit at all).
    MAYEXEC_REASON_NOT_EXECUTABLE = 2,
    /// Not a regular file: a directory, device, FIFO, socket or symlink.
    MAYEXEC_REASON_NOT_REGULAR_FILE = 3,
    /// A file of a kernel-internal filesystem (pipefs, sockfs, procfs, memfd …).
    MAYEXEC_REASON_SPECIAL_FILESYSTEM = 4,
    /// The caller may not read the file.
    MAYEXEC_REASON_UNREADABLE = 5,
    /// The file is open for writing somewhere (`ETXTBSY`).
    MAYEXEC_REASON_WRITE_BUSY = 6,
    /// The kernel refused and no emulated rule explains why: an LSM decided.
    MAYEXEC_REASON_KERNEL_POLICY = 7,
    /// The check failed with an unexpected error (denied: errors never allow).
    MAYEXEC_REASON_KERNEL_ERROR = 8,
    /// Code not from a checked file (`-c`, a prompt, a pipe) under deny-interactive.
    MAYEXEC_REASON_INTERACTIVE = 9,
    /// The policy requires trusted content and the file is not trusted: not
    /// in the trust database, changed since, or on a mount not listed.
    MAYEXEC_REASON_UNTRUSTED_CONTENT = 10,
    /// The policy requires trusted content and the trust database cannot be
    /// used (missing, corrupt, not root's): nothing is trusted.
    MAYEXEC_REASON_TRUST_UNAVAILABLE = 11,
}

/// Which implementation of the check decided.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mayexec_backend {
    /// `execveat(…, AT_EXECVE_CHECK)` (Linux 6.14).
    MAYEXEC_BACKEND_KERNEL = 1,
    /// The RFC's rules evaluated in user space.
    MAYEXEC_BACKEND_EMULATED = 2,
}

/// The outcome of a check.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mayexec_verdict {
    /// 1 when executing the file would be allowed, 0 otherwise.
    pub allowed: c_int,
    /// Why not; `MAYEXEC_REASON_NONE` when allowed.
    pub reason: mayexec_reason,
    /// The reason's stable name (`"noexec-mount"` …), static storage; `""` when allowed.
    pub reason_name: *const c_char,
    /// Which backend decided.
    pub backend: mayexec_backend,
    /// The errno of the denial (`EACCES`, `ETXTBSY`, or the unexpected error); 0 when allowed.
    pub error: c_int,
}

/// What the effective policy (securebits + `/etc/mayexec.conf`) enforces.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct mayexec_enforcement {
    /// 1: denied scripts are refused (securebits, or the policy in enforce mode).
    pub restrict_file: c_int,
    /// 1: interactive input and `-c` are refused.
    pub deny_interactive: c_int,
    /// 1: the policy file is in audit mode (denials logged, not refused).
    pub audit_only: c_int,
    /// 0–3: the level script files are checked at (3, for information only,
    /// when nothing is enforced: see `restrict_file`).
    pub level: c_int,
}

/// `MAYEXEC_VERDICT_SIZE_VER0`: the size of `struct mayexec_verdict` as
/// first published, through `error`. The smallest `size` accepted; frozen
/// (fields are only ever appended after `error`).
pub(crate) const VERDICT_SIZE_VER0: usize =
    std::mem::offset_of!(mayexec_verdict, error) + std::mem::size_of::<c_int>();

/// `MAYEXEC_ENFORCEMENT_SIZE_VER0`: `struct mayexec_enforcement` as first
/// published, through `level`. Frozen like [`VERDICT_SIZE_VER0`].
pub(crate) const ENFORCEMENT_SIZE_VER0: usize =
    std::mem::offset_of!(mayexec_enforcement, level) + std::mem::size_of::<c_int>();

// The caller-sized structs are copied to C as bytes (see
// `api::write_sized`): they must have no padding, so that every byte is
// initialized. Checked at compile time for the target.
const _: () = {
    use std::mem::size_of;
    assert!(
        size_of::<mayexec_verdict>()
            == 3 * size_of::<c_int>() + size_of::<mayexec_reason>() + size_of::<*const c_char>(),
        "struct mayexec_verdict has padding"
    );
    assert!(size_of::<mayexec_backend>() == size_of::<c_int>());
    assert!(size_of::<mayexec_enforcement>() == 4 * size_of::<c_int>());
    assert!(VERDICT_SIZE_VER0 <= size_of::<mayexec_verdict>());
    assert!(ENFORCEMENT_SIZE_VER0 <= size_of::<mayexec_enforcement>());
};

impl mayexec_reason {
    /// The C number of a library reason (`None`: allowed).
    pub fn of(reason: Option<Reason>) -> mayexec_reason {
        use mayexec_reason::*;
        match reason {
            None => MAYEXEC_REASON_NONE,
            Some(Reason::NoexecMount) => MAYEXEC_REASON_NOEXEC_MOUNT,
            Some(Reason::NotExecutable) => MAYEXEC_REASON_NOT_EXECUTABLE,
            Some(Reason::NotRegularFile) => MAYEXEC_REASON_NOT_REGULAR_FILE,
            Some(Reason::SpecialFilesystem) => MAYEXEC_REASON_SPECIAL_FILESYSTEM,
            Some(Reason::Unreadable) => MAYEXEC_REASON_UNREADABLE,
            Some(Reason::WriteBusy) => MAYEXEC_REASON_WRITE_BUSY,
            Some(Reason::KernelPolicy) => MAYEXEC_REASON_KERNEL_POLICY,
            Some(Reason::KernelError) => MAYEXEC_REASON_KERNEL_ERROR,
            Some(Reason::Interactive) => MAYEXEC_REASON_INTERACTIVE,
            Some(Reason::UntrustedContent) => MAYEXEC_REASON_UNTRUSTED_CONTENT,
            Some(Reason::TrustUnavailable) => MAYEXEC_REASON_TRUST_UNAVAILABLE,
            // A reason this ABI has no number for is a denial all the same;
            // the tests below keep every known reason off this arm.
            Some(_) => MAYEXEC_REASON_KERNEL_POLICY,
        }
    }

    /// The reason with C number `n` (`Some(None)`: `MAYEXEC_REASON_NONE`).
    pub fn from_number(n: c_int) -> Option<Option<Reason>> {
        match n {
            0 => Some(None),
            1..=11 => Reason::ALL.get(n as usize - 1).copied().map(Some),
            _ => None,
        }
    }

    /// The stable name, NUL-terminated, in static storage; `""` for NONE.
    pub fn name(reason: Option<Reason>) -> &'static CStr {
        match reason {
            None => c"",
            Some(Reason::NoexecMount) => c"noexec-mount",
            Some(Reason::NotExecutable) => c"not-executable",
            Some(Reason::NotRegularFile) => c"not-regular-file",
            Some(Reason::SpecialFilesystem) => c"special-filesystem",
            Some(Reason::Unreadable) => c"unreadable",
            Some(Reason::WriteBusy) => c"write-busy",
            Some(Reason::KernelPolicy) => c"kernel-policy",
            Some(Reason::KernelError) => c"kernel-error",
            Some(Reason::Interactive) => c"interactive",
            Some(Reason::UntrustedContent) => c"untrusted-content",
            Some(Reason::TrustUnavailable) => c"trust-unavailable",
            Some(_) => c"kernel-policy",
        }
    }
}

impl From<Backend> for mayexec_backend {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Kernel => mayexec_backend::MAYEXEC_BACKEND_KERNEL,
            Backend::Emulated => mayexec_backend::MAYEXEC_BACKEND_EMULATED,
        }
    }
}

impl From<Verdict> for mayexec_verdict {
    fn from(verdict: Verdict) -> Self {
        mayexec_verdict {
            allowed: c_int::from(verdict.is_allowed()),
            reason: mayexec_reason::of(verdict.reason()),
            reason_name: mayexec_reason::name(verdict.reason()).as_ptr(),
            backend: verdict.backend().into(),
            error: verdict.errno().unwrap_or(0),
        }
    }
}

impl mayexec_verdict {
    /// What `*out` holds when a call fails without a verdict: denied, no
    /// reason, the call's errno.
    pub fn failed(errno: c_int) -> mayexec_verdict {
        mayexec_verdict {
            allowed: 0,
            reason: mayexec_reason::MAYEXEC_REASON_NONE,
            reason_name: c"".as_ptr(),
            backend: mayexec_backend::MAYEXEC_BACKEND_EMULATED,
            error: errno,
        }
    }
}

impl From<&Enforcement> for mayexec_enforcement {
    fn from(enforcement: &Enforcement) -> Self {
        use mayexec::policy::Mode;
        use mayexec::Action;
        mayexec_enforcement {
            restrict_file: c_int::from(enforcement.scripts == Action::Enforce),
            deny_interactive: c_int::from(enforcement.interactive == Action::Enforce),
            audit_only: c_int::from(
                enforcement
                    .policy
                    .as_ref()
                    .is_some_and(|p| p.mode == Mode::Audit),
            ),
            level: c_int::from(enforcement.checker.level().as_u8()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_are_the_library_names() {
        for &reason in Reason::ALL {
            assert_eq!(
                mayexec_reason::name(Some(reason)).to_str().unwrap(),
                reason.as_str()
            );
        }
        assert_eq!(mayexec_reason::name(None), c"");
    }

    #[test]
    fn reason_numbers_round_trip_and_follow_the_contract() {
        assert_eq!(mayexec_reason::from_number(0), Some(None));
        for &reason in Reason::ALL {
            let number = mayexec_reason::of(Some(reason)) as c_int;
            assert_eq!(mayexec_reason::from_number(number), Some(Some(reason)));
        }
        assert_eq!(mayexec_reason::of(Some(Reason::NoexecMount)) as c_int, 1);
        assert_eq!(mayexec_reason::of(Some(Reason::Interactive)) as c_int, 9);
        assert_eq!(
            mayexec_reason::of(Some(Reason::UntrustedContent)) as c_int,
            10
        );
        assert_eq!(
            mayexec_reason::of(Some(Reason::TrustUnavailable)) as c_int,
            11
        );
        assert_eq!(mayexec_reason::from_number(12), None);
        assert_eq!(mayexec_reason::from_number(-1), None);
    }

    #[test]
    fn an_allowing_verdict_has_no_reason_and_no_error() {
        let verdict = mayexec_verdict::from(Verdict::allow(Backend::Kernel));
        assert_eq!(verdict.allowed, 1);
        assert_eq!(verdict.reason, mayexec_reason::MAYEXEC_REASON_NONE);
        assert_eq!(verdict.error, 0);
        assert_eq!(verdict.backend, mayexec_backend::MAYEXEC_BACKEND_KERNEL);
    }

    #[test]
    fn a_write_busy_denial_carries_etxtbsy() {
        let verdict = mayexec_verdict::from(Verdict::deny(Backend::Kernel, Reason::WriteBusy));
        assert_eq!(verdict.allowed, 0);
        assert_eq!(verdict.reason, mayexec_reason::MAYEXEC_REASON_WRITE_BUSY);
        assert_eq!(verdict.error, libc::ETXTBSY);
    }
}
