//! The kernel backend: `execveat` with `AT_EXECVE_CHECK` (Linux 6.14).

use std::os::fd::{AsRawFd, BorrowedFd};

use super::explain_kernel_denial;
use crate::uapi::{self, Errno};
use crate::{Backend, Reason, Verdict};

/// Probes for `AT_EXECVE_CHECK` with an invalid descriptor: `EBADF` means the
/// kernel accepted the flag and went on to look at the descriptor.
pub(super) fn probe() -> Result<(), Errno> {
    match uapi::execveat_check(-1) {
        Err(Errno::BADF) => Ok(()),
        Err(errno) => Err(errno),
        // Nothing should ever succeed on fd -1; something in the way (a
        // seccomp filter faking success) makes the backend untrustworthy.
        Ok(()) => Err(Errno::NOSYS),
    }
}

/// Everything a real `execve` would check, decided by the kernel.
pub(super) fn check(fd: BorrowedFd<'_>) -> Verdict {
    match uapi::execveat_check(fd.as_raw_fd()) {
        Ok(()) => Verdict::allow(Backend::Kernel),
        Err(Errno::ACCESS) => Verdict::deny(Backend::Kernel, explain_kernel_denial(fd)),
        Err(Errno::TXTBSY) => Verdict::deny(Backend::Kernel, Reason::WriteBusy),
        // A descriptor of the symlink itself (O_PATH | O_NOFOLLOW) gives ELOOP.
        Err(Errno::LOOP) if explain_kernel_denial(fd) == Reason::NotRegularFile => Verdict {
            errno: Some(Errno::LOOP.raw_os_error()),
            ..Verdict::deny(Backend::Kernel, Reason::NotRegularFile)
        },
        Err(errno) => Verdict::error(Backend::Kernel, errno.raw_os_error()),
    }
}
