//! The command's only `unsafe`: system calls no safe crate wraps.
#![allow(unsafe_code)]

use std::io;

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
