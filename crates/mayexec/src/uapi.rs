//! The raw kernel interface: constants, and the crate's only `unsafe` code.
//!
//! Every wrapper here is a single system call with no memory of its own
//! beyond the call; policy and interpretation live elsewhere. Errors come
//! back as [`Errno`] so callers can match on them without allocating.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_long, CStr};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::ptr;

pub use rustix::io::Errno;

/// `AT_EXECVE_CHECK`: with `execveat`, only check whether executing the file
/// would be allowed; never execute it (Linux 6.14).
pub const AT_EXECVE_CHECK: c_int = 0x10000;
/// `AT_INTERPRETED`: the flag the script-execution-control RFC proposed for
/// `faccessat2` (never merged upstream). The C drop-in honours it.
pub const AT_INTERPRETED: c_int = 0x400;
/// `AT_EMPTY_PATH`
pub const AT_EMPTY_PATH: c_int = libc::AT_EMPTY_PATH;
/// `AT_EACCESS`
pub const AT_EACCESS: c_int = libc::AT_EACCESS;
/// `AT_SYMLINK_NOFOLLOW`
pub const AT_SYMLINK_NOFOLLOW: c_int = libc::AT_SYMLINK_NOFOLLOW;

/// `X_OK`
pub const X_OK: c_int = libc::X_OK;
/// `R_OK`
pub const R_OK: c_int = libc::R_OK;
/// `W_OK`
pub const W_OK: c_int = libc::W_OK;
/// `F_OK`
#[cfg(test)]
pub const F_OK: c_int = libc::F_OK;

/// `SECBIT_EXEC_RESTRICT_FILE` (bit 8): scripts must pass `AT_EXECVE_CHECK`.
pub const SECBIT_EXEC_RESTRICT_FILE: u32 = 1 << 8;
/// `SECBIT_EXEC_RESTRICT_FILE_LOCKED` (bit 9)
pub const SECBIT_EXEC_RESTRICT_FILE_LOCKED: u32 = 1 << 9;
/// `SECBIT_EXEC_DENY_INTERACTIVE` (bit 10): no interactive or command-line code.
pub const SECBIT_EXEC_DENY_INTERACTIVE: u32 = 1 << 10;
/// `SECBIT_EXEC_DENY_INTERACTIVE_LOCKED` (bit 11)
pub const SECBIT_EXEC_DENY_INTERACTIVE_LOCKED: u32 = 1 << 11;

/// Filesystem magic numbers (`statfs.f_type`) of kernel-internal filesystems.
pub mod magic {
    /// `PIPEFS_MAGIC`
    pub const PIPEFS: u32 = 0x5049_5045;
    /// `SOCKFS_MAGIC`
    pub const SOCKFS: u32 = 0x534F_434B;
    /// `NSFS_MAGIC`
    pub const NSFS: u32 = 0x6e73_6673;
    /// `PROC_SUPER_MAGIC`
    pub const PROC: u32 = 0x9fa0;
    /// `SYSFS_MAGIC`
    pub const SYSFS: u32 = 0x6265_6572;
    /// `ANON_INODE_FS_MAGIC`
    pub const ANON_INODE: u32 = 0x0904_1934;
    /// `PIDFS_MAGIC` (Linux 6.9)
    pub const PIDFS: u32 = 0x5049_4446;
    /// `SECRETMEM_MAGIC`
    pub const SECRETMEM: u32 = 0x5345_434d;
    /// `BPF_FS_MAGIC`
    pub const BPF_FS: u32 = 0xcafe_4a11;
    /// `CGROUP_SUPER_MAGIC`
    pub const CGROUP: u32 = 0x0027_e0eb;
    /// `CGROUP2_SUPER_MAGIC`
    pub const CGROUP2: u32 = 0x6367_7270;
    /// `TMPFS_MAGIC`: also the internal mount behind `memfd_create`.
    pub const TMPFS: u32 = 0x0102_1994;
    /// `HUGETLBFS_MAGIC`: also behind `memfd_create(MFD_HUGETLB)`.
    pub const HUGETLBFS: u32 = 0x9584_58f6;
}

fn last_errno() -> Errno {
    Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO)
}

fn check_ret(ret: c_long) -> Result<(), Errno> {
    if ret == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH | AT_EXECVE_CHECK)`.
///
/// Takes a raw descriptor so that the support probe can pass `-1`.
pub fn execveat_check(fd: RawFd) -> Result<(), Errno> {
    let argv: [*const c_char; 2] = [c"mayexec-check".as_ptr(), ptr::null()];
    let envp: [*const c_char; 1] = [ptr::null()];
    // SAFETY: the path and argv[0] are NUL-terminated static strings, argv and
    // envp are NULL-terminated arrays that live until the call returns. The
    // descriptor is only a number to the kernel (a bad one gives EBADF). With
    // AT_EXECVE_CHECK the kernel never replaces the process image, and every
    // kernel that predates the flag rejects unknown flags with EINVAL before
    // doing anything, so this call always returns.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd,
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            AT_EMPTY_PATH | AT_EXECVE_CHECK,
        )
    };
    check_ret(ret)
}

/// `faccessat2(dirfd, path, mode, flags)`, the raw system call (Linux 5.8):
/// unlike libc's `faccessat`, it never emulates flags in user space.
pub fn faccessat2(dirfd: RawFd, path: &CStr, mode: c_int, flags: c_int) -> Result<(), Errno> {
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call;
    // the other arguments are plain integers the kernel validates.
    let ret = unsafe { libc::syscall(libc::SYS_faccessat2, dirfd, path.as_ptr(), mode, flags) };
    check_ret(ret)
}

/// `faccessat2(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS)`: may the caller's
/// effective credentials access the file behind `fd` with `mode`?
pub fn faccess_fd(fd: BorrowedFd<'_>, mode: c_int) -> Result<(), Errno> {
    faccessat2(fd.as_raw_fd(), c"", mode, AT_EMPTY_PATH | AT_EACCESS)
}

/// `faccessat(dirfd, path, mode)`: the pre-5.8 call, which checks with the
/// real user and group IDs and has no flags.
pub fn faccessat(dirfd: RawFd, path: &CStr, mode: c_int) -> Result<(), Errno> {
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    let ret = unsafe { libc::syscall(libc::SYS_faccessat, dirfd, path.as_ptr(), mode) };
    check_ret(ret)
}

/// `prctl(PR_GET_SECUREBITS)`
pub fn get_securebits() -> Result<u32, Errno> {
    // SAFETY: PR_GET_SECUREBITS takes no pointer arguments.
    let ret = unsafe { libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) };
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as u32)
    }
}

/// `prctl(PR_SET_SECUREBITS, bits)`: sets the calling thread's securebits;
/// children created afterwards inherit them.
pub fn set_securebits(bits: u32) -> Result<(), Errno> {
    // SAFETY: PR_SET_SECUREBITS takes the new bits by value, no pointers.
    let ret = unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits as libc::c_ulong, 0, 0, 0) };
    check_ret(ret as c_long)
}

/// `FS_IOC_GETVERSION` (`_IOR('v', 1, long)`): the inode's generation
/// number, on the filesystems that keep one (ext2/3/4, btrfs, XFS, F2FS …).
const FS_IOC_GETVERSION: libc::c_ulong = 0x8008_7601;

/// `ioctl(fd, FS_IOC_GETVERSION)`: the generation the filesystem gave the
/// inode when it was allocated, which tells a reused inode number from the
/// file that had it before. `ENOTTY`/`EOPNOTSUPP`/`EINVAL` where the
/// filesystem keeps none (tmpfs, overlayfs), `EBADF` on an `O_PATH`
/// descriptor.
pub fn inode_generation(fd: BorrowedFd<'_>) -> Result<u32, Errno> {
    // The kernel writes an int; the command's size says long. Eight
    // zeroed bytes hold either.
    let mut value = [0u8; 8];
    // SAFETY: FS_IOC_GETVERSION writes at most sizeof(long) = 8 bytes to
    // the pointer, which points at 8 writable bytes that outlive the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), FS_IOC_GETVERSION, value.as_mut_ptr()) };
    if ret < 0 {
        return Err(last_errno());
    }
    Ok(u32::from_ne_bytes([value[0], value[1], value[2], value[3]]))
}

/// `NS_GET_USERNS` (`_IO(0xb7, 0x1)`): a descriptor of the user namespace
/// that owns a namespace.
const NS_GET_USERNS: libc::c_ulong = 0xb701;

/// `ioctl(ns, NS_GET_USERNS)`: the user namespace owning the namespace
/// behind `ns` (a `/proc/PID/ns/*` descriptor), as a new descriptor.
pub fn namespace_owner(ns: BorrowedFd<'_>) -> Result<std::os::fd::OwnedFd, Errno> {
    // SAFETY: NS_GET_USERNS takes no argument and returns a new descriptor
    // or -1; nothing in this process's memory is read or written.
    let ret = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_USERNS) };
    if ret < 0 {
        return Err(last_errno());
    }
    // SAFETY: the kernel just returned this descriptor to us; nobody else
    // owns it.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ret) })
}

/// Eight bytes of a file, mapped shared and read-only: a counter another
/// process updates in place, read without a system call.
#[derive(Debug)]
pub struct SharedCounter {
    addr: std::ptr::NonNull<libc::c_void>,
}

// SAFETY: the mapping is read-only and only ever read through an atomic
// load; it can be used from any thread.
unsafe impl Send for SharedCounter {}
// SAFETY: as above: shared reads of an atomic are safe.
unsafe impl Sync for SharedCounter {}

impl SharedCounter {
    /// Maps the first 8 bytes of `fd`, which must be at least that long
    /// (checked by the caller: a shorter file would fault on the read).
    pub fn map(fd: BorrowedFd<'_>) -> Result<SharedCounter, Errno> {
        // SAFETY: a fresh read-only shared mapping of one page chosen by
        // the kernel: it aliases no Rust object.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                8,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(last_errno());
        }
        Ok(SharedCounter {
            addr: std::ptr::NonNull::new(addr).ok_or(Errno::INVAL)?,
        })
    }

    /// The counter's value now.
    pub fn get(&self) -> u64 {
        // SAFETY: the mapping is page-aligned, so 8-byte aligned, at least
        // 8 bytes long (the file is, see `map`), and lives as long as
        // `self`; an atomic load sees the writer's in-place update.
        let value = unsafe { &*self.addr.as_ptr().cast::<std::sync::atomic::AtomicU64>() };
        u64::from_le(value.load(std::sync::atomic::Ordering::Acquire))
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `map` made; no reference into
        // it outlives `self`.
        unsafe { libc::munmap(self.addr.as_ptr(), 8) };
    }
}

/// `fcntl(fd, F_SETLEASE, kind)`: `F_RDLCK` takes a read lease (refused
/// with `EAGAIN` while anyone has the file open for writing, a writable
/// shared mapping included), `F_UNLCK` gives it back.
pub fn set_lease(fd: BorrowedFd<'_>, kind: c_int) -> Result<(), Errno> {
    // SAFETY: F_SETLEASE takes an int by value; no memory is passed.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLEASE, kind) };
    check_ret(c_long::from(ret))
}

/// `fcntl(fd, F_GETLEASE)`: the lease held, or what a lease being broken
/// is going to (`F_UNLCK` when a writer is waiting for it).
pub fn get_lease(fd: BorrowedFd<'_>) -> Result<c_int, Errno> {
    // SAFETY: F_GETLEASE takes no argument and returns an int.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETLEASE) };
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// `signal(SIGIO, SIG_IGN)`: a broken lease (see [`set_lease`]) is then
/// noticed with [`get_lease`] instead of killing the process.
pub fn ignore_sigio() -> Result<(), Errno> {
    // SAFETY: SIG_IGN installs no handler code; only SIGIO's disposition
    // changes, which nothing else in a process that takes leases uses.
    let ret = unsafe { libc::signal(libc::SIGIO, libc::SIG_IGN) };
    if ret == libc::SIG_ERR {
        Err(last_errno())
    } else {
        Ok(())
    }
}

/// The owner ("name") of the ELF note that marks a program as enlightened.
pub const ENLIGHTENED_NOTE_OWNER: &str = "mayexec";
/// The type of that note: `NT_MAYEXEC_ENLIGHTENED`.
pub const ENLIGHTENED_NOTE_TYPE: u32 = 1;
/// The section that holds it.
pub const ENLIGHTENED_NOTE_SECTION: &str = ".note.mayexec";

/// An ELF note as the linker stores it: three 4-byte words, then the owner
/// and the description, each padded to 4 bytes.
#[repr(C, align(4))]
struct ElfNote {
    namesz: u32,
    descsz: u32,
    kind: u32,
    name: [u8; 8],
    desc: [u8; 16],
}

/// `"0.1.0"` NUL-padded to 16 bytes (longer versions are cut; the owner
/// and type are the marker, the version is for people).
const fn note_version() -> [u8; 16] {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let mut desc = [0u8; 16];
    let mut i = 0;
    while i < version.len() && i < 15 {
        desc[i] = version[i];
        i += 1;
    }
    desc
}

/// The marker every program that links this library carries: an ELF note
/// (owner `mayexec`, type 1, the library's version as its description) in
/// section `.note.mayexec`, which `mayexec interpreters` reads from the
/// file to call it enlightened. It lives in this module because every
/// interpreter calls the check (`execveat_check` above), so the linker
/// takes this object file, and with it the note, into the program — from
/// the Rust crate and from the static C library alike.
//
// `#[link_section]` is `unsafe_code` because the linker, not the compiler,
// decides what a named section means. It holds here: a note section is
// data the loader never runs nor writes, LLVM gives a section named
// `.note*` the type SHT_NOTE, which `--gc-sections` keeps, and `#[used]`
// keeps the compiler from dropping a static nothing reads.
#[used]
#[link_section = ".note.mayexec"]
static ENLIGHTENED_NOTE: ElfNote = ElfNote {
    namesz: ENLIGHTENED_NOTE_OWNER.len() as u32 + 1,
    descsz: 16,
    kind: ENLIGHTENED_NOTE_TYPE,
    name: *b"mayexec\0",
    desc: note_version(),
};
