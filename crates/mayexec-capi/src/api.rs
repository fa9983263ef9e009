//! The exported functions. Each is a thin translation: check the C
//! arguments, call the library, map the result in [`entry`].
// The C ABI needs `#[no_mangle]`, raw pointers from the caller and setting
// errno: unsafe by nature. Each unsafe block says why it holds; everything
// they feed is plain safe Rust.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr, OsStr};
use std::os::fd::{BorrowedFd, IntoRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use mayexec::rfc;
use mayexec::ScriptError;
use rustix::fs::CWD;
use rustix::io::{fcntl_getfd, fcntl_setfd, FdFlags};

use crate::enforcement;
use crate::failure::{self, entry, Failure};
use crate::types::{
    mayexec_enforcement, mayexec_reason, mayexec_verdict, ENFORCEMENT_SIZE_VER0, VERDICT_SIZE_VER0,
};

/// The calling thread's `errno`.
pub(crate) fn errno() -> c_int {
    // SAFETY: __errno_location() returns the calling thread's errno slot,
    // valid and readable for the thread's lifetime.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling thread's `errno`.
pub(crate) fn set_errno(errno: c_int) {
    // SAFETY: __errno_location() returns the calling thread's errno slot,
    // valid and writable for the thread's lifetime.
    unsafe { *libc::__errno_location() = errno };
}

/// Borrows a descriptor the C caller owns for the duration of the call.
fn borrow_fd<'a>(fd: RawFd) -> BorrowedFd<'a> {
    debug_assert!(fd >= 0);
    // SAFETY: the caller checked fd >= 0; the borrow does not outlive the
    // exported call, during which the C caller keeps the descriptor open (a
    // closed one only makes the system calls fail with EBADF).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// A struct the caller sizes (`size` = its `sizeof`): the library writes
/// the fields it knows that fit, zero-fills the rest, and refuses a size
/// below the first published one.
///
/// # Safety
/// Every byte of a value of the type is initialized (no padding).
unsafe trait CallerSized: Copy {
    /// The smallest `size` a caller may pass (the first published size).
    const SIZE_VER0: usize;
    /// The C name of the struct and of its `_SIZE_VER0` macro, for messages.
    const NAMES: (&'static str, &'static str);
}

// SAFETY: no padding: types.rs asserts at compile time that the size is
// the sum of the fields'.
unsafe impl CallerSized for mayexec_verdict {
    const SIZE_VER0: usize = VERDICT_SIZE_VER0;
    const NAMES: (&'static str, &'static str) =
        ("struct mayexec_verdict", "MAYEXEC_VERDICT_SIZE_VER0");
}

// SAFETY: four ints, no padding (asserted in types.rs).
unsafe impl CallerSized for mayexec_enforcement {
    const SIZE_VER0: usize = ENFORCEMENT_SIZE_VER0;
    const NAMES: (&'static str, &'static str) = (
        "struct mayexec_enforcement",
        "MAYEXEC_ENFORCEMENT_SIZE_VER0",
    );
}

/// The largest `size` accepted: a struct this big is no header's, and a
/// garbage size must not make the library zero-fill memory at random.
const MAX_STRUCT_SIZE: usize = 4096;

/// Refuses a `size` a caller's `struct T` cannot have: below the first
/// published size (`EINVAL`), or absurdly large (`E2BIG`).
fn check_size<T: CallerSized>(function: &str, size: usize) -> Result<(), Failure> {
    let (name, macro_name) = T::NAMES;
    if size < T::SIZE_VER0 {
        return Err(Failure::invalid(
            function,
            &format!(
                "size {size} is smaller than {name} has ever been \
                 ({macro_name} = {})",
                T::SIZE_VER0
            ),
        ));
    }
    if size > MAX_STRUCT_SIZE {
        return Err(Failure::new(
            libc::E2BIG,
            format!(
                "{function}: size {size} is larger than any {name} (at most {MAX_STRUCT_SIZE})"
            ),
        ));
    }
    Ok(())
}

/// Writes `value` into the caller's `size`-byte struct at `out`: the
/// fields that fit (all of them for a caller built against this header or
/// a newer one), then zeros for the bytes beyond what this library knows
/// (fields of a newer header: "not set" is 0 in every appended field).
///
/// # Safety
/// `out` points at `size` writable bytes, and `size` passed
/// [`check_size`] for `T`.
unsafe fn write_sized<T: CallerSized>(out: *mut T, size: usize, value: T) {
    let known = std::mem::size_of::<T>();
    let copied = known.min(size);
    let dst = out.cast::<u8>();
    // SAFETY: `value` is a live T without padding (CallerSized), so its
    // `known` bytes are initialized; `dst` has `size >= copied` writable
    // bytes by the caller's contract; the two do not overlap (`value` is
    // a local copy).
    unsafe { std::ptr::copy_nonoverlapping(std::ptr::addr_of!(value).cast::<u8>(), dst, copied) };
    if size > known {
        // SAFETY: bytes known..size of the caller's `size` writable bytes.
        unsafe { std::ptr::write_bytes(dst.add(known), 0, size - known) };
    }
}

/// Reads a C string argument; `NULL` is `EINVAL`.
///
/// # Safety
/// `ptr` is NULL or points at a NUL-terminated string that stays valid for
/// the call.
unsafe fn c_str<'a>(function: &str, ptr: *const c_char, name: &str) -> Result<&'a CStr, Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(function, &format!("{name} is NULL")));
    }
    // SAFETY: non-NULL, and NUL-terminated and live by the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Checks the file behind `fd` at the effective level (securebits +
/// `/etc/mayexec.conf`), and against the trust database where the policy
/// asks for content trust: would executing it be allowed? Never enforces
/// and never logs: enforcing is the caller's decision (`mayexec_enforcement`).
///
/// `size` is the caller's `sizeof(struct mayexec_verdict)`: the library
/// writes the fields it knows that fit and zeros any bytes beyond them
/// (see docs/capi.md, "Caller-sized structs"); ignored when `out` is NULL.
///
/// Returns 0 when allowed. When `out` is not NULL it receives the verdict;
/// when there is no verdict (the errors below other than a denial) it
/// receives a denial with reason `MAYEXEC_REASON_NONE` and the errno.
///
/// # Errors
/// -1 with errno:
/// - `EACCES`: denied (the verdict says why), or the policy file is
///   untrusted or malformed (message in `mayexec_last_error()`);
/// - `ETXTBSY`: denied because the file is open for writing;
/// - `EINVAL`: `fd` is negative; or `size` is below
///   `MAYEXEC_VERDICT_SIZE_VER0` (nothing checked, `*out` not written);
/// - `E2BIG`: `size` is above 4096 (nothing checked, `*out` not written);
/// - any other value: the check failed unexpectedly (reason
///   `MAYEXEC_REASON_KERNEL_ERROR`; an error never allows), e.g. `EBADF`.
///
/// # Safety
/// `out` is NULL or points at `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mayexec_check_fd(
    fd: c_int,
    out: *mut mayexec_verdict,
    size: usize,
) -> c_int {
    entry(|| {
        const FUNCTION: &str = "mayexec_check_fd";
        if !out.is_null() {
            check_size::<mayexec_verdict>(FUNCTION, size)?;
        }
        let verdict = if fd < 0 {
            Err(Failure::invalid(FUNCTION, "fd is negative"))
        } else {
            enforcement::current().map(|enforcement| enforcement.check(borrow_fd(fd)))
        };
        if !out.is_null() {
            let c_verdict = match &verdict {
                Ok(verdict) => mayexec_verdict::from(*verdict),
                Err(failure) => mayexec_verdict::failed(failure.errno),
            };
            // SAFETY: non-NULL with `size` writable bytes by the caller's
            // contract; `size` passed check_size.
            unsafe { write_sized(out, size, c_verdict) };
        }
        let verdict = verdict?;
        if verdict.is_allowed() {
            return Ok(0);
        }
        let errno = mayexec_verdict::from(verdict).error;
        Err(Failure {
            verdict: Some(verdict),
            ..Failure::new(
                errno,
                format!("<fd {fd}>: execution denied ({})", reason_str(verdict)),
            )
        })
    })
}

fn reason_str(verdict: mayexec::Verdict) -> &'static str {
    verdict.reason().map_or("", |reason| reason.as_str())
}

/// The effective enforcement: the exec securebits (read at each call) and
/// the system policy `/etc/mayexec.conf` (read once per process, at the
/// first call of any libmayexec function that needs it).
///
/// `size` is the caller's `sizeof(struct mayexec_enforcement)`: the
/// library writes the fields it knows that fit and zeros any bytes beyond
/// them (see docs/capi.md, "Caller-sized structs").
///
/// # Errors
/// -1 with errno (`*out` is then not written):
/// - `EACCES`: the policy file exists but is untrusted or malformed;
///   `mayexec_last_error()` names the file and the fault. An interpreter
///   must then refuse to interpret anything;
/// - `EINVAL`: `out` is NULL, or `size` is below
///   `MAYEXEC_ENFORCEMENT_SIZE_VER0`;
/// - `E2BIG`: `size` is above 4096;
/// - another value: the securebits could not be read.
///
/// # Safety
/// `out` is NULL or points at `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mayexec_enforcement(out: *mut mayexec_enforcement, size: usize) -> c_int {
    entry(|| {
        const FUNCTION: &str = "mayexec_enforcement";
        if out.is_null() {
            return Err(Failure::invalid(FUNCTION, "out is NULL"));
        }
        check_size::<mayexec_enforcement>(FUNCTION, size)?;
        let enforcement = enforcement::current()?;
        // SAFETY: non-NULL with `size` writable bytes by the caller's
        // contract; `size` passed check_size.
        unsafe { write_sized(out, size, mayexec_enforcement::from(&enforcement)) };
        Ok(0)
    })
}

/// Opens `path` for reading (`O_RDONLY | O_NOCTTY`, without blocking),
/// checks *that* open file, logs a denial under an active policy, and
/// enforces. Interpret the returned descriptor; never open the path again.
/// Under any policy a FIFO is refused at once; with none it will be
/// interpreted, and the call waits for a writer, as `open(2)` would.
///
/// `flags` is 0 or `O_CLOEXEC`: the descriptor is close-on-exec only with
/// `O_CLOEXEC`. Returns the descriptor.
///
/// # Errors
/// -1 with errno:
/// - the `open` error (`ENOENT`, `EACCES`, `EISDIR` …);
/// - `EACCES` or `ETXTBSY`: the enforcement refuses the file
///   (`mayexec_last_error()` is `"PATH: script execution denied (REASON)"`,
///   `mayexec_last_verdict()` gives the verdict); for reason
///   `MAYEXEC_REASON_KERNEL_ERROR`, the check's unexpected error;
/// - `EACCES`: the policy file is untrusted or malformed (fail closed);
/// - `EINVAL`: `path` is NULL, or `flags` has bits other than `O_CLOEXEC`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn mayexec_open_script(path: *const c_char, flags: c_int) -> c_int {
    entry(|| {
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { c_str("mayexec_open_script", path, "path") }?;
        if flags & !libc::O_CLOEXEC != 0 {
            return Err(Failure::invalid(
                "mayexec_open_script",
                "flags other than O_CLOEXEC",
            ));
        }
        let path = OsStr::from_bytes(path.to_bytes());
        let script = match enforcement::current()?.open_script(path) {
            Ok(script) => script,
            Err(ScriptError::Open(error)) => {
                return Err(Failure::io(&error.label(), &error.source))
            }
            Err(ScriptError::Denied(denial)) => {
                let errno = denial.errno;
                return Err(Failure::denied(&denial, errno));
            }
        };
        if flags & libc::O_CLOEXEC == 0 {
            let fd_flags = fcntl_getfd(&script.file)
                .map_err(|errno| Failure::errno("fcntl(F_GETFD)", errno))?;
            fcntl_setfd(&script.file, fd_flags - FdFlags::CLOEXEC)
                .map_err(|errno| Failure::errno("fcntl(F_SETFD)", errno))?;
        }
        Ok(script.file.into_raw_fd())
    })
}

/// Checks a code file the caller already holds open — one it did not open
/// by path itself (a descriptor a server passed, a file mapped for
/// execution) — at the effective enforcement, logs a denial under an
/// active policy, and enforces, as `mayexec_open_script` does for a path.
/// `label` names the file in the message and the audit log. Interpret or
/// map *that* descriptor.
///
/// Returns 0 when the file may be interpreted.
///
/// # Errors
/// -1 with errno:
/// - `EACCES` or `ETXTBSY`: the enforcement refuses the file
///   (`mayexec_last_error()` is `"LABEL: script execution denied (REASON)"`,
///   `mayexec_last_verdict()` gives the verdict); for reason
///   `MAYEXEC_REASON_KERNEL_ERROR`, the check's unexpected error;
/// - `EACCES`: the policy file is untrusted or malformed (fail closed);
/// - `EINVAL`: `fd` is negative, or `label` is NULL.
///
/// # Safety
/// `label` is NULL or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn mayexec_check_script(fd: c_int, label: *const c_char) -> c_int {
    entry(|| {
        const FUNCTION: &str = "mayexec_check_script";
        // SAFETY: forwarded from this function's contract.
        let label = unsafe { c_str(FUNCTION, label, "label") }?;
        if fd < 0 {
            return Err(Failure::invalid(FUNCTION, "fd is negative"));
        }
        enforcement::current()?
            .check_script(borrow_fd(fd), OsStr::from_bytes(label.to_bytes()))
            .map_err(|denial| {
                let errno = denial.errno;
                Failure::denied(&denial, errno)
            })?;
        Ok(0)
    })
}

/// May interactive input be interpreted? `fd` is the descriptor code will
/// be read from (stdin), or -1 for code from the command line (`-c`) or a
/// prompt. Under deny-interactive only a regular file passing the full
/// check is allowed; a denial is logged.
///
/// Returns 0 when the input may be interpreted.
///
/// # Errors
/// -1 with errno:
/// - `EACCES`: refused (`mayexec_last_error()` is
///   `"LABEL: script execution denied (REASON)"`, LABEL `-c` for fd -1 and
///   `<stdin>` otherwise; `mayexec_last_verdict()` gives the verdict), or the
///   policy file is untrusted or malformed (fail closed);
/// - `EINVAL`: `fd` is below -1.
#[no_mangle]
pub extern "C" fn mayexec_check_interactive(fd: c_int) -> c_int {
    let label = if fd == -1 { c"-c" } else { c"<stdin>" };
    entry(|| check_interactive("mayexec_check_interactive", fd, label))
}

/// `mayexec_check_interactive` for input named `label` in the message and
/// the audit log: code from no file that an interpreter meets elsewhere,
/// such as a prompt string from the environment (`"PS4"`), with `fd` -1.
/// Under deny-interactive it is refused; in audit mode the denial is
/// logged and 0 returned; with neither nothing is logged.
///
/// Returns 0 when the input may be interpreted.
///
/// # Errors
/// -1 with errno:
/// - `EACCES`: refused (`mayexec_last_error()` is
///   `"LABEL: script execution denied (REASON)"`, `mayexec_last_verdict()`
///   gives the verdict), or the policy file is untrusted or malformed;
/// - `EINVAL`: `label` is NULL, or `fd` is below -1.
///
/// # Safety
/// `label` is NULL or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn mayexec_check_interactive_label(fd: c_int, label: *const c_char) -> c_int {
    entry(|| {
        const FUNCTION: &str = "mayexec_check_interactive_label";
        // SAFETY: forwarded from this function's contract.
        let label = unsafe { c_str(FUNCTION, label, "label") }?;
        check_interactive(FUNCTION, fd, label)
    })
}

fn check_interactive(function: &str, fd: c_int, label: &CStr) -> Result<c_int, Failure> {
    if fd < -1 {
        return Err(Failure::invalid(function, "fd is below -1"));
    }
    let input = (fd >= 0).then(|| borrow_fd(fd));
    enforcement::current()?
        .check_interactive(input, OsStr::from_bytes(label.to_bytes()))
        .map_err(|denial| Failure::denied(&denial, libc::EACCES))?;
    Ok(0)
}

/// The RFC drop-in. With `MAYEXEC_AT_INTERPRETED` in `flags`: the RFC's
/// `faccessat2` + `AT_INTERPRETED` under the level script files are enforced
/// at (the policy's `interpreted_access`, 3 under `SECBIT_EXEC_RESTRICT_FILE`).
/// Level 0 (nothing enforced) is a plain readability check that any file
/// type passes; levels 1–3 run the emulated rules on the file `dirfd` +
/// `path` names (`AT_EMPTY_PATH` and `AT_SYMLINK_NOFOLLOW` honoured) and log
/// a denial; in audit mode a denial is logged and the answer is level 0's.
/// Without the flag: the plain `faccessat2` system call.
///
/// Returns 0 when access is allowed.
///
/// # Errors
/// -1 with errno:
/// - `EACCES`: refused by the policy (message in `mayexec_last_error()`), or
///   the policy file is untrusted or malformed, or a plain check fails;
/// - `EINVAL`: `path` is NULL; `dirfd` is negative and not `AT_FDCWD`; with
///   `MAYEXEC_AT_INTERPRETED`, `mode` lacks `X_OK` or has bits other than
///   `R_OK | W_OK | X_OK`, or `flags` has bits other than
///   `MAYEXEC_AT_INTERPRETED | AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_EACCESS`;
/// - the errors of `faccessat2(2)` and path resolution (`ENOENT`,
///   `ENOTDIR`, `ELOOP`, `EBADF` …).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn mayexec_faccessat2(
    dirfd: c_int,
    path: *const c_char,
    mode: c_int,
    flags: c_int,
) -> c_int {
    entry(|| {
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { c_str("mayexec_faccessat2", path, "path") }?;
        let dirfd = match dirfd {
            libc::AT_FDCWD => CWD,
            fd if fd >= 0 => borrow_fd(fd),
            _ => {
                return Err(Failure::invalid(
                    "mayexec_faccessat2",
                    "dirfd is negative and not AT_FDCWD",
                ))
            }
        };
        // Only the RFC's flag needs the policy: a broken policy file must
        // not break plain access checks.
        let enforcement = if flags & rfc::AT_INTERPRETED != 0 {
            enforcement::current()?
        } else {
            enforcement::none()
        };
        rfc::faccessat2(&enforcement, dirfd, path, mode, flags).map_err(|error| {
            let errno = error.errno();
            match error {
                rfc::AccessError::Denied(denial) => Failure::denied(&denial, errno),
                other => Failure::new(errno, format!("mayexec_faccessat2: {other}")),
            }
        })?;
        Ok(0)
    })
}

/// The message of the last failing libmayexec call of this thread (`""` if
/// none): static storage, valid until the next libmayexec call on this
/// thread. Never NULL. Sets no errno.
#[no_mangle]
pub extern "C" fn mayexec_last_error() -> *const c_char {
    failure::last_error()
}

/// The verdict of the last `mayexec_open_script`, `mayexec_check_interactive[_label]`
/// (or `mayexec_check_fd`, `mayexec_faccessat2`) denial on this thread.
///
/// `size` is the caller's `sizeof(struct mayexec_verdict)`, as for
/// `mayexec_check_fd`.
///
/// Returns 0 and fills `*out`.
///
/// # Errors
/// -1 with errno (`*out` is then not written):
/// - `ENOENT`: no denial happened on this thread;
/// - `EINVAL`: `out` is NULL, or `size` is below `MAYEXEC_VERDICT_SIZE_VER0`;
/// - `E2BIG`: `size` is above 4096.
///
/// # Safety
/// `out` is NULL or points at `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mayexec_last_verdict(out: *mut mayexec_verdict, size: usize) -> c_int {
    entry(|| {
        const FUNCTION: &str = "mayexec_last_verdict";
        if out.is_null() {
            return Err(Failure::invalid(FUNCTION, "out is NULL"));
        }
        check_size::<mayexec_verdict>(FUNCTION, size)?;
        let verdict = failure::last_verdict().ok_or_else(|| {
            Failure::new(
                libc::ENOENT,
                format!("{FUNCTION}: no denial on this thread"),
            )
        })?;
        // SAFETY: non-NULL with `size` writable bytes by the caller's
        // contract; `size` passed check_size.
        unsafe { write_sized(out, size, verdict.into()) };
        Ok(0)
    })
}

/// The stable name of reason number `reason` (`"noexec-mount"` …), in
/// static storage; `""` for `MAYEXEC_REASON_NONE`; NULL for a number that
/// is no reason. Sets no errno.
#[no_mangle]
pub extern "C" fn mayexec_reason_name(reason: c_int) -> *const c_char {
    match mayexec_reason::from_number(reason) {
        Some(reason) => mayexec_reason::name(reason).as_ptr(),
        None => std::ptr::null(),
    }
}
