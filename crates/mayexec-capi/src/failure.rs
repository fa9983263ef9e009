//! The one place where a Rust `Err` becomes `-1` + `errno`, and the
//! per-thread state C callers read back (`mayexec_last_error`,
//! `mayexec_last_verdict`).
//!
//! Failing calls overwrite the message (and, for denials, the verdict);
//! successful calls leave both alone, as `errno` is left alone.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CString};
use std::io;
use std::panic::{self, AssertUnwindSafe};

use mayexec::Errno;
use mayexec::{Denial, Verdict};

/// Why a call failed: the errno the caller sees, the message
/// `mayexec_last_error()` returns, and the verdict of a denial.
#[derive(Debug)]
pub(crate) struct Failure {
    pub errno: c_int,
    pub message: String,
    pub verdict: Option<Verdict>,
}

impl Failure {
    pub fn new(errno: c_int, message: impl Into<String>) -> Failure {
        Failure {
            errno,
            message: message.into(),
            verdict: None,
        }
    }

    /// `EINVAL`, naming the argument at fault.
    pub fn invalid(function: &str, what: &str) -> Failure {
        Failure::new(libc::EINVAL, format!("{function}: {what}"))
    }

    /// A refused input, with `errno` for the caller.
    pub fn denied(denial: &Denial, errno: c_int) -> Failure {
        Failure {
            errno,
            message: denial.to_string(),
            verdict: Some(denial.verdict()),
        }
    }

    /// A failed system call, as `LABEL: strerror`.
    pub fn errno(label: &str, errno: Errno) -> Failure {
        Failure::new(
            errno.raw_os_error(),
            format!("{label}: {}", describe(&io::Error::from(errno))),
        )
    }

    /// A failed I/O call; errors without an errno become `EIO`.
    pub fn io(label: &str, error: &io::Error) -> Failure {
        Failure::new(
            error.raw_os_error().unwrap_or(libc::EIO),
            format!("{label}: {}", describe(error)),
        )
    }
}

/// `strerror`'s text for an OS error, without Rust's " (os error N)".
pub(crate) fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static LAST_VERDICT: Cell<Option<Verdict>> = const { Cell::new(None) };
}

/// Runs an exported function's body: a panic (possible only in builds
/// without `panic = "abort"`) never unwinds into C and becomes `EIO`;
/// `Err` becomes `-1` with `errno` set and the message stored.
///
/// `Ok` leaves the caller's `errno` as it was: the body's system calls
/// (the kernel-check probe's `EBADF`, a denied probe inside an allowed
/// check, a missing optional file) set it on their way to a success.
pub(crate) fn entry(body: impl FnOnce() -> Result<c_int, Failure>) -> c_int {
    let saved_errno = crate::api::errno();
    let result = panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Failure::new(
            libc::EIO,
            "libmayexec: internal error (a panic was caught at the C boundary)",
        ))
    });
    match result {
        Ok(value) => {
            crate::api::set_errno(saved_errno);
            value
        }
        Err(failure) => {
            record(&failure);
            crate::api::set_errno(failure.errno);
            -1
        }
    }
}

fn record(failure: &Failure) {
    let message = CString::new(failure.message.replace('\0', "\\0")).unwrap_or_default();
    // A destroyed thread-local (the thread is exiting) just loses the message.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
    if let Some(verdict) = failure.verdict {
        let _ = LAST_VERDICT.try_with(|slot| slot.set(Some(verdict)));
    }
}

/// The stored message; valid until the next failing call on this thread.
pub(crate) fn last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The verdict of the last denial on this thread.
pub(crate) fn last_verdict() -> Option<Verdict> {
    LAST_VERDICT.try_with(Cell::get).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_drops_the_os_error_suffix() {
        let error = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(describe(&error), "No such file or directory");
    }

    #[test]
    fn a_panic_becomes_eio_with_a_message() {
        let ret = entry(|| panic!("boom"));
        assert_eq!(ret, -1);
        assert_eq!(io::Error::last_os_error().raw_os_error(), Some(libc::EIO));
        let message = LAST_ERROR.with(|slot| slot.borrow().clone());
        assert!(message.to_str().unwrap().contains("panic"), "{message:?}");
    }

    #[test]
    fn success_leaves_errno_as_the_caller_set_it() {
        crate::api::set_errno(4242);
        let ret = entry(|| {
            crate::api::set_errno(libc::EBADF);
            Ok(3)
        });
        assert_eq!(ret, 3);
        assert_eq!(crate::api::errno(), 4242);
    }

    #[test]
    fn success_leaves_the_last_message_alone() {
        entry(|| Err(Failure::invalid("f", "path is NULL")));
        assert_eq!(entry(|| Ok(7)), 7);
        let message = LAST_ERROR.with(|slot| slot.borrow().clone());
        assert_eq!(message.to_str().unwrap(), "f: path is NULL");
    }
}
