//! The check itself: which backend answers, and at which level.

mod dac;
mod emulated;
mod kernel;

use std::os::fd::AsFd;
use std::sync::OnceLock;

use crate::uapi::Errno;
use crate::{Backend, Level, Verdict};

use emulated::explain_kernel_denial;

/// Which backend a caller wants. Best effort versus hard requirement is
/// explicit: asking for [`BackendChoice::Kernel`] on a kernel without
/// `AT_EXECVE_CHECK` is an error, never a silent fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BackendChoice {
    /// The kernel check at level 3 where the kernel has it, the emulated
    /// rules otherwise (and always for levels 0–2).
    #[default]
    Auto,
    /// The kernel check, or an error.
    Kernel,
    /// The emulated rules, even where the kernel check exists.
    Emulated,
}

/// Why a [`Checker`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckerError {
    /// The kernel backend was required, and the kernel lacks it.
    #[error(
        "the kernel check is not available: execveat(AT_EXECVE_CHECK) fails with {errno} \
         (it needs Linux 6.14 or later, and no seccomp filter in the way)"
    )]
    KernelUnavailable {
        /// What the probe returned (`EINVAL` on kernels before 6.14).
        errno: Errno,
    },
    /// The kernel backend only knows "everything a real execve checks",
    /// the RFC's level 3; its levels 0–2 are emulated.
    #[error("the kernel check has no level {level}: levels 0, 1 and 2 exist only in the emulated backend")]
    LevelNeedsEmulation {
        /// The level that was asked for.
        level: Level,
    },
}

/// The cached result of probing for `AT_EXECVE_CHECK`.
///
/// `execveat(-1, "", …, AT_EMPTY_PATH | AT_EXECVE_CHECK)` fails with `EBADF`
/// where the flag exists and `EINVAL` where it does not; `ENOSYS` or `EPERM`
/// (a seccomp filter) also mean "not available". `Err` carries that errno.
pub fn kernel_check_probe() -> Result<(), Errno> {
    static PROBE: OnceLock<Result<(), Errno>> = OnceLock::new();
    *PROBE.get_or_init(kernel::probe)
}

/// Does the running kernel have `AT_EXECVE_CHECK` (Linux 6.14)?
pub fn kernel_check_available() -> bool {
    kernel_check_probe().is_ok()
}

/// The probe's cheap first step, cached: what choosing the backend needs.
/// The kernel backend proves the flag before its first check.
fn kernel_flag_accepted() -> bool {
    static ACCEPTED: OnceLock<bool> = OnceLock::new();
    *ACCEPTED.get_or_init(|| kernel::flag_accepted().is_ok())
}

/// Answers "would executing this open file be allowed?" at one level with
/// one backend. Cheap to copy; build it once and check many files.
///
/// ```
/// use mayexec::{BackendChoice, Checker, Level};
/// let checker = Checker::new(Level::Mount, BackendChoice::Auto)?;
/// let file = std::fs::File::open("/proc/self/status")?;
/// let verdict = checker.check(&file);
/// assert!(!verdict.is_allowed()); // procfs is a kernel-internal filesystem
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checker {
    level: Level,
    backend: Backend,
}

impl Checker {
    /// A checker for `level` with the backend `choice` selects.
    pub fn new(level: Level, choice: BackendChoice) -> Result<Checker, CheckerError> {
        let backend = match choice {
            BackendChoice::Emulated => Backend::Emulated,
            BackendChoice::Auto if level == Level::Full && kernel_flag_accepted() => {
                Backend::Kernel
            }
            BackendChoice::Auto => Backend::Emulated,
            BackendChoice::Kernel if level != Level::Full => {
                return Err(CheckerError::LevelNeedsEmulation { level })
            }
            BackendChoice::Kernel => match kernel_check_probe() {
                Ok(()) => Backend::Kernel,
                Err(errno) => return Err(CheckerError::KernelUnavailable { errno }),
            },
        };
        Ok(Checker { level, backend })
    }

    /// The full check, best effort: the kernel's where it exists, the
    /// emulated level 3 otherwise.
    pub fn full() -> Checker {
        let backend = if kernel_flag_accepted() {
            Backend::Kernel
        } else {
            Backend::Emulated
        };
        Checker {
            level: Level::Full,
            backend,
        }
    }

    /// The level this checker enforces.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The backend this checker's verdicts come from. Choosing the kernel
    /// backend takes only the probe's cheap first step; the flag is proven
    /// before the first check (`docs/kernel-features.md`), and asking this
    /// proves it too: where the proof fails, the emulated rules decide.
    pub fn backend(&self) -> Backend {
        match self.backend {
            Backend::Kernel if !kernel_check_available() => Backend::Emulated,
            backend => backend,
        }
    }

    /// The backend chosen, without proving the kernel's flag: for a verdict
    /// no check was made for (code from the command line).
    pub(crate) fn chosen_backend(&self) -> Backend {
        self.backend
    }

    /// Would executing the file behind `fd` be allowed? Never runs it.
    ///
    /// Infallible by design: an unexpected error is a denial with reason
    /// [`Reason::KernelError`](crate::Reason::KernelError) and its errno.
    pub fn check<Fd: AsFd>(&self, fd: Fd) -> Verdict {
        let fd = fd.as_fd();
        match self.backend {
            Backend::Kernel => kernel::check(fd),
            Backend::Emulated => emulated::check(fd, self.level),
        }
    }
}

/// The full check of the file behind `fd`, best effort (see [`Checker::full`]).
pub fn check<Fd: AsFd>(fd: Fd) -> Verdict {
    Checker::full().check(fd)
}
