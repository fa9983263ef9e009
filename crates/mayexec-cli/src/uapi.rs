//! The command's only `unsafe`: system calls no safe crate wraps.
#![allow(unsafe_code)]

use std::io;
use std::ptr;

use rustix::io::Errno;

/// `signal(SIGPIPE, SIG_IGN)`: a write to a pipe nobody reads fails with
/// `EPIPE` instead of killing the process. Rust programs start that way;
/// `Command::exec` puts the default action back for the new program, so a
/// caller whose `exec` failed calls this before it reports the failure.
pub fn ignore_sigpipe() -> io::Result<()> {
    // SAFETY: SIG_IGN installs no handler code; only the disposition of
    // SIGPIPE changes, which no other part of the process relies on.
    let ret = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    if ret == libc::SIG_ERR {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn last_errno() -> Errno {
    Errno::from_io_error(&io::Error::last_os_error()).unwrap_or(Errno::IO)
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the
/// running kernel's Landlock ABI version (Linux 5.13); `EOPNOTSUPP` when
/// Landlock is built in but not enabled, `ENOSYS` when it is not built in.
/// Only a query: it creates nothing.
pub fn landlock_abi_version() -> Result<i32, Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_long = 1;
    // SAFETY: with the VERSION flag the kernel requires a NULL attribute
    // pointer and size 0, reads no memory and returns a number.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as i32)
    }
}

/// `unshare(CLONE_NEWUSER | CLONE_VFORK)`: a probe that never unshares
/// anything. `CLONE_VFORK` is not a valid `unshare` flag, so the kernel
/// answers `EINVAL` before it acts; a seccomp filter that refuses new user
/// namespaces answers first (`EPERM`, or `ENOSYS`). `Ok` would mean a
/// kernel that accepted the flag: treated by callers as "not confined".
pub fn unshare_newuser_probe() -> Result<(), Errno> {
    // SAFETY: unshare takes its flags by value and reads no memory; with an
    // invalid flag the kernel rejects the call before changing anything.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_unshare,
            (libc::CLONE_NEWUSER | libc::CLONE_VFORK) as libc::c_ulong,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}
