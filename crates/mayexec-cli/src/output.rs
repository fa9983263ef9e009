//! Printing: raw path bytes for people, JSON for machines, errors on stderr.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use serde::Serialize;

/// Writes `path` as its bytes, as `ls` and shells do: a non-UTF-8 name
/// prints as itself.
pub fn path(out: &mut impl Write, path: &OsStr) -> io::Result<()> {
    out.write_all(path.as_bytes())
}

/// A path for JSON: JSON strings are Unicode, so bytes that are not UTF-8
/// become U+FFFD.
pub fn json_path(path: &OsStr) -> String {
    path.to_string_lossy().into_owned()
}

/// Pretty JSON and a newline on stdout.
pub fn json(value: &impl Serialize) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from)?;
    writeln!(out)
}

/// `mayexec: MESSAGE` on stderr. A stderr that cannot be written
/// (`2>/dev/full`, a pipe nobody reads) loses the message; it never stops
/// the command (`eprintln!` would panic, and panics abort).
pub fn error(message: impl std::fmt::Display) {
    note(format_args!("mayexec: {message}"));
}

/// One line on stderr, as it is, ignoring a failure to write it.
pub fn note(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Prints a command's report — JSON on stdout, or `print` for people —
/// and ends the command with `status` (see [`finish`]).
pub fn report<R: Serialize>(
    report: &R,
    json: bool,
    print: impl FnOnce(&R) -> io::Result<()>,
    status: crate::Status,
) -> std::process::ExitCode {
    let result = if json {
        self::json(report)
    } else {
        print(report)
    };
    finish(result.map(|()| status))
}

/// Ends a command whose output failed: a closed pipe (`mayexec … | head`)
/// is not an error worth a message, anything else is.
pub fn finish(result: io::Result<crate::Status>) -> std::process::ExitCode {
    match result {
        Ok(status) => status.into(),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => crate::Status::Denied.into(),
        Err(e) => {
            error(format_args!("cannot write output: {e}"));
            crate::Status::Error.into()
        }
    }
}

/// The symbolic errno name, or the number.
pub fn errno_name(errno: i32) -> String {
    errno_symbol(errno).map_or_else(|| errno.to_string(), str::to_owned)
}

/// The symbolic name of the error numbers the check can meet (`EACCES` …).
fn errno_symbol(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::ENOEXEC => "ENOEXEC",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EROFS => "EROFS",
        libc::EAGAIN => "EAGAIN",
        libc::EINTR => "EINTR",
        libc::ENODEV => "ENODEV",
        _ => return None,
    })
}

/// Serializes a value as its `Display` text.
pub fn display<T: std::fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
