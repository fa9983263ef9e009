//! The kernel backend: `execveat` with `AT_EXECVE_CHECK` (Linux 6.14).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::OnceLock;

use super::explain_kernel_denial;
use crate::uapi::{self, Errno};
use crate::{Backend, Level, Reason, Verdict};

/// Probes for `AT_EXECVE_CHECK`, in two steps.
///
/// First with an invalid descriptor: kernels before 6.14 reject the unknown
/// flag with `EINVAL` before looking at anything, a seccomp filter answers
/// `ENOSYS` or `EPERM`, and `EBADF` means the flag passed. But a system-call
/// emulator that looks at the descriptor before the flags (a gVisor-like
/// sandbox) also answers `EBADF`, and a "check" there would execute the
/// script in place of the interpreter. So, second, the flag is proven on a
/// harmless file: an empty, executable memfd. The check passes it (the format
/// is never parsed); a real `execve` refuses it with `ENOEXEC` and returns.
pub(super) fn probe() -> Result<(), Errno> {
    flag_accepted()?;
    proven()
}

/// The probe's first step alone: does `execveat` accept the flag? Cheap
/// (about 1 µs); enough to choose the kernel backend, not to use it.
pub(super) fn flag_accepted() -> Result<(), Errno> {
    match uapi::execveat_check(-1) {
        Err(Errno::BADF) => Ok(()),
        Err(errno) => Err(errno),
        // Nothing should ever succeed on fd -1; something in the way (a
        // seccomp filter faking success) makes the backend untrustworthy.
        Ok(()) => Err(Errno::NOSYS),
    }
}

/// The probe's second step, once per process: the flag proven on a
/// harmless file. About 20 µs (the kernel prepares an exec), so it is made
/// only before the first real check, not by every process that chooses the
/// kernel backend and never checks a file (`sh -c`, a prompt).
fn proven() -> Result<(), Errno> {
    static PROVEN: OnceLock<Result<(), Errno>> = OnceLock::new();
    *PROVEN.get_or_init(|| {
        let Ok(empty) = empty_executable() else {
            // No memfd to prove it on (a filter, an old kernel): the first
            // step's evidence stands.
            return Ok(());
        };
        match uapi::execveat_check(empty.as_raw_fd()) {
            Ok(()) => Ok(()),
            // The flag was ignored and the file really executed: never
            // use it.
            Err(Errno::NOEXEC) => Err(Errno::NOEXEC),
            // Refused by a policy (vm.memfd_noexec, an LSM): the flag was
            // heard, as far as can be told without risk.
            Err(Errno::ACCESS | Errno::PERM) => Ok(()),
            Err(errno) => Err(errno),
        }
    })
}

/// An empty memfd with execute permission, for the probe.
fn empty_executable() -> rustix::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{fchmod, memfd_create, MemfdFlags, Mode};
    // MFD_EXEC (6.3) asks for an executable memfd where vm.memfd_noexec
    // would default to sealed non-executable ones; older kernels refuse
    // the flag and make executable-capable memfds anyway.
    let fd = memfd_create(c"mayexec-probe", MemfdFlags::CLOEXEC | MemfdFlags::EXEC)
        .or_else(|_| memfd_create(c"mayexec-probe", MemfdFlags::CLOEXEC))?;
    fchmod(&fd, Mode::from_raw_mode(0o700))?;
    Ok(fd)
}

/// Everything a real `execve` would check, decided by the kernel — once the
/// flag is proven. Where it cannot be, no descriptor is ever handed to a
/// `execveat` that might run it: the emulated rules at level 3 decide, and
/// the verdict says so.
pub(super) fn check(fd: BorrowedFd<'_>) -> Verdict {
    if proven().is_err() {
        return super::emulated::check(fd, Level::Full);
    }
    match uapi::execveat_check(fd.as_raw_fd()) {
        Ok(()) => Verdict::allow(Backend::Kernel),
        Err(Errno::ACCESS) => Verdict::deny(Backend::Kernel, explain_kernel_denial(fd)),
        Err(Errno::TXTBSY) => Verdict::deny(Backend::Kernel, Reason::WriteBusy),
        // A descriptor of the symlink itself (O_PATH | O_NOFOLLOW) gives ELOOP.
        Err(Errno::LOOP) if explain_kernel_denial(fd) == Reason::NotRegularFile => {
            Verdict::Denied {
                reason: Reason::NotRegularFile,
                errno: Errno::LOOP.raw_os_error(),
                backend: Backend::Kernel,
            }
        }
        Err(errno) => Verdict::error(Backend::Kernel, errno.raw_os_error()),
    }
}
