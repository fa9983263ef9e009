//! The emulated backend: the RFC's rules, evaluated in user space.
//!
//! For a level `L` in 1..=3, in this order:
//! 1. not a regular file → `not-regular-file`;
//! 2. a file of a kernel-internal filesystem → `special-filesystem`;
//! 3. `L & 1` and a `noexec` mount → `noexec-mount`;
//! 4. `L & 2` and no execute permission for the caller → `not-executable`;
//! 5. not readable by the caller → `unreadable`.
//!
//! Level 0 allows everything. Rule 4 is `faccessat2(X_OK)`, except at level
//! 2 on a `noexec` mount, where the kernel's answer includes the mount and
//! the permission is judged from owner, mode and ACL instead (see `dac`). The allowed path costs `fstat`, `fstatfs` and
//! one `faccessat2` (execute and read asked together); only a denial asks
//! again to tell the two apart.

use std::os::fd::{AsRawFd, BorrowedFd};

use rustix::fs::{fstat, fstatfs, statx, AtFlags, FileType, Stat, StatFs, StatxFlags};
use rustix::process::{getegid, geteuid, getgid, getuid};

use super::dac;
use crate::uapi::{self, magic, Errno, R_OK, X_OK};
use crate::{Backend, Level, Reason, Verdict};

/// The RFC's rules at `level`.
pub(super) fn check(fd: BorrowedFd<'_>, level: Level) -> Verdict {
    if level == Level::Off {
        return Verdict::allow(Backend::Emulated);
    }
    match first_failing_rule(fd, level) {
        Ok(None) => Verdict::allow(Backend::Emulated),
        Ok(Some(reason)) => Verdict::deny(Backend::Emulated, reason),
        Err(errno) => Verdict::error(Backend::Emulated, errno.raw_os_error()),
    }
}

fn first_failing_rule(fd: BorrowedFd<'_>, level: Level) -> Result<Option<Reason>, Errno> {
    let stat = fstat(fd)?;
    if !is_regular(&stat) {
        return Ok(Some(Reason::NotRegularFile));
    }
    let statfs = fstatfs(fd)?;
    if on_internal_filesystem(fd, &stat, &statfs)? {
        return Ok(Some(Reason::SpecialFilesystem));
    }
    let noexec = is_noexec(&statfs);
    if level.checks_mount() && noexec {
        return Ok(Some(Reason::NoexecMount));
    }
    if level.checks_file() && noexec {
        // faccessat2(X_OK) folds the mount into its answer; level 2 asks
        // about the file alone.
        if !dac::may_execute(fd, &stat)? {
            return Ok(Some(Reason::NotExecutable));
        }
        return Ok((!may_access(fd, R_OK)?).then_some(Reason::Unreadable));
    }
    if may_access(
        fd,
        if level.checks_file() {
            X_OK | R_OK
        } else {
            R_OK
        },
    )? {
        return Ok(None);
    }
    if level.checks_file() && !may_access(fd, X_OK)? {
        return Ok(Some(Reason::NotExecutable));
    }
    Ok(Some(Reason::Unreadable))
}

/// Names the reason for a kernel `EACCES`, with the rules the kernel itself
/// applies first (type, mount, permission, then the kernel-internal
/// filesystems it marks `SB_I_NOEXEC`); the kernel never requires read
/// permission. Where none of them fails, an LSM decided: `kernel-policy`.
pub(crate) fn explain_kernel_denial(fd: BorrowedFd<'_>) -> Reason {
    explain(fd).ok().flatten().unwrap_or(Reason::KernelPolicy)
}

fn explain(fd: BorrowedFd<'_>) -> Result<Option<Reason>, Errno> {
    let stat = fstat(fd)?;
    if !is_regular(&stat) {
        return Ok(Some(Reason::NotRegularFile));
    }
    let statfs = fstatfs(fd)?;
    if is_noexec(&statfs) {
        return Ok(Some(Reason::NoexecMount));
    }
    if !may_access(fd, X_OK)? {
        return Ok(Some(Reason::NotExecutable));
    }
    if on_internal_filesystem(fd, &stat, &statfs)? {
        return Ok(Some(Reason::SpecialFilesystem));
    }
    Ok(None)
}

fn is_regular(stat: &Stat) -> bool {
    FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
}

fn is_noexec(statfs: &StatFs) -> bool {
    statfs.f_flags as u64 & libc::ST_NOEXEC != 0
}

/// Files of filesystems that exist only inside the kernel: pipes, sockets,
/// namespaces, pidfds, anonymous inodes, procfs, sysfs, memfd. None of them
/// is a script an administrator installed.
fn on_internal_filesystem(fd: BorrowedFd<'_>, stat: &Stat, statfs: &StatFs) -> Result<bool, Errno> {
    // Magic numbers are 32-bit values; `f_type` is a C long.
    let fs_type = statfs.f_type as u32;
    const INTERNAL: [u32; 11] = [
        magic::PIPEFS,
        magic::SOCKFS,
        magic::NSFS,
        magic::PROC,
        magic::SYSFS,
        magic::ANON_INODE,
        magic::PIDFS,
        magic::SECRETMEM,
        magic::BPF_FS,
        magic::CGROUP,
        magic::CGROUP2,
    ];
    if INTERNAL.contains(&fs_type) {
        return Ok(true);
    }
    // A memfd is an unlinked file on the kernel's internal tmpfs (or
    // hugetlbfs) mount, which no mount namespace lists. An O_TMPFILE file
    // is unlinked too, but on a visible mount: only the mount tells them apart.
    if (fs_type == magic::TMPFS || fs_type == magic::HUGETLBFS) && stat.st_nlink == 0 {
        return on_unlisted_mount(fd);
    }
    Ok(false)
}

fn on_unlisted_mount(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let stx = statx(fd, c"", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)?;
    if !StatxFlags::from_bits_retain(stx.stx_mask).contains(StatxFlags::MNT_ID) {
        // A kernel before 5.8 cannot say; refuse rather than guess.
        return Ok(true);
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
    let id = stx.stx_mnt_id.to_string();
    Ok(!mountinfo
        .lines()
        .any(|line| line.split(' ').next() == Some(id.as_str())))
}

/// May the caller's effective credentials access the file with `mode`?
fn may_access(fd: BorrowedFd<'_>, mode: i32) -> Result<bool, Errno> {
    match uapi::faccess_fd(fd, mode) {
        Ok(()) => Ok(true),
        Err(Errno::ACCESS) => Ok(false),
        Err(Errno::NOSYS) => may_access_before_5_8(fd, mode),
        Err(errno) => Err(errno),
    }
}

/// Before Linux 5.8 there is no `faccessat2`: no `AT_EMPTY_PATH`, no
/// `AT_EACCESS`. `faccessat` on the descriptor's `/proc/self/fd` link checks
/// the same file with the *real* IDs, which is the same answer only when the
/// real and effective IDs agree; otherwise refuse to guess.
fn may_access_before_5_8(fd: BorrowedFd<'_>, mode: i32) -> Result<bool, Errno> {
    if getuid() != geteuid() || getgid() != getegid() {
        return Err(Errno::NOSYS);
    }
    let path = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|_| Errno::INVAL)?;
    match uapi::faccessat(libc::AT_FDCWD, &path, mode) {
        Ok(()) => Ok(true),
        Err(Errno::ACCESS) => Ok(false),
        Err(errno) => Err(errno),
    }
}
