//! Opening a script so that the file checked is the file interpreted.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{fcntl_setfl, open, Mode, OFlags};

use crate::{Checker, Verdict};

/// An open script and the verdict on *that* open file. Interpret `file`;
/// never open the path again.
#[derive(Debug)]
#[non_exhaustive]
pub struct Script {
    /// The script, open for reading, positioned at its start.
    pub file: File,
    /// The verdict on `file`.
    pub verdict: Verdict,
}

/// A script could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("{}: {source}", self.label())]
pub struct OpenError {
    /// The path as given.
    pub path: PathBuf,
    /// Why `open` failed.
    #[source]
    pub source: io::Error,
}

impl OpenError {
    /// Opening `path` failed with `source`.
    pub fn new(path: PathBuf, source: io::Error) -> OpenError {
        OpenError { path, source }
    }

    /// The path as a message names it: an empty path (`bash ""`) is
    /// `(empty path)`, so that no message starts with ": ".
    pub fn label(&self) -> std::borrow::Cow<'_, str> {
        if self.path.as_os_str().is_empty() {
            "(empty path)".into()
        } else {
            self.path.to_string_lossy()
        }
    }
}

/// Opens `path` for reading the way an interpreter should: `O_RDONLY |
/// O_CLOEXEC | O_NOCTTY | O_NONBLOCK`, so that a FIFO without a writer or a
/// device never hangs the open and a terminal never becomes the
/// controlling one; `O_NONBLOCK` is cleared once the file is open.
pub fn open_for_reading(path: &Path) -> Result<File, OpenError> {
    let wrap = |errno: rustix::io::Errno| OpenError {
        path: path.to_owned(),
        source: errno.into(),
    };
    let fd: OwnedFd = open(
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map_err(wrap)?;
    // F_SETFL sets only the status flags (O_APPEND, O_NONBLOCK, O_ASYNC,
    // O_DIRECT, O_NOATIME) and keeps the rest: none of them but
    // O_NONBLOCK was asked for, so clearing them all needs no F_GETFL.
    fcntl_setfl(&fd, OFlags::empty()).map_err(wrap)?;
    Ok(File::from(fd))
}

/// Opens `path` for reading as an interpreter with nothing to enforce
/// does: one blocking `open(O_RDONLY | O_NOCTTY | O_CLOEXEC)` (a FIFO waits
/// there for its writer).
pub(crate) fn open_plainly(path: &Path) -> Result<File, OpenError> {
    let flags = OFlags::RDONLY | OFlags::NOCTTY | OFlags::CLOEXEC;
    match open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(File::from(fd)),
        Err(errno) => Err(OpenError {
            path: path.to_owned(),
            source: errno.into(),
        }),
    }
}

impl Checker {
    /// Opens `path` with [`open_for_reading`] and checks that open file.
    pub fn open_and_check<P: AsRef<Path>>(&self, path: P) -> Result<Script, OpenError> {
        let file = open_for_reading(path.as_ref())?;
        let verdict = self.check(&file);
        Ok(Script { file, verdict })
    }
}

/// Opens `path` and runs the full check on it (see [`Checker::full`]).
/// It checks and never refuses: an interpreter enforcing a policy calls
/// [`Enforcement::open_script`](crate::Enforcement::open_script) instead.
pub fn open_and_check<P: AsRef<Path>>(path: P) -> Result<Script, OpenError> {
    Checker::full().open_and_check(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_path_is_named_in_the_message() {
        let error = open_for_reading(Path::new("")).unwrap_err();
        assert_eq!(error.source.raw_os_error(), Some(libc::ENOENT));
        assert!(error.to_string().starts_with("(empty path): "), "{error}");
        let error = open_for_reading(Path::new("/nonexistent/x")).unwrap_err();
        assert!(error.to_string().starts_with("/nonexistent/x: "), "{error}");
    }
}
