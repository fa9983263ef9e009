//! `mayexec check`: one verdict per path.

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::process::ExitCode;

use mayexec::trust::TrustStore;
use mayexec::{BackendChoice, Checker, Level, OpenError, Verdict};
use rustix::fs::{fstat, open, FileType, Mode, OFlags};
use serde::Serialize;

use crate::{output, Status};

/// Would executing these files be allowed? One verdict per path.
///
/// Without --level, the full check: the kernel's AT_EXECVE_CHECK where the
/// running kernel has it (Linux 6.14), the emulated RFC level 3 elsewhere.
/// Each path is first opened with O_PATH, which opens nothing: a FIFO,
/// socket or device is judged from that descriptor (not-regular-file) and
/// never opened for reading, since opening some devices has effects. A
/// regular file is then opened for reading, as an interpreter opens a
/// script, through that descriptor (the same inode, or the path is an
/// error), and that open file is checked; nothing is executed.
///
/// Exit status: 0 all allowed, 1 any denied, 2 usage error or a path that
/// cannot be opened.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    mayexec check /usr/local/bin/backup.sh\n  \
    mayexec check --level 1 --json ~/scripts/*.py\n  \
    mayexec check --backend emulated --level 2 /mnt/usb/install.sh\n  \
    mayexec check --level 1 --trust /usr/share/perl5/Foo.pm")]
pub struct Args {
    /// Print a JSON array of {path, allowed, reason, backend, errno}.
    #[arg(long)]
    json: bool,
    /// Which implementation answers: `kernel` fails where the running
    /// kernel lacks AT_EXECVE_CHECK; `auto` takes it where it exists.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// The RFC's level: 0 none, 1 mount (noexec), 2 file (execute
    /// permission), 3 both. Levels 0–2 always use the emulated rules.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    level: Option<u8>,
    /// Also consult the trust database, as under `trust = "required"`: a
    /// file the check allows must be trusted, on a mount the system
    /// policy's `trust_mounts` lists (reason untrusted-content, or
    /// trust-unavailable when the database cannot be used).
    #[arg(long)]
    trust: bool,
    /// Files to check.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<OsString>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BackendArg {
    Auto,
    Kernel,
    Emulated,
}

#[derive(Serialize)]
struct Entry {
    path: String,
    allowed: bool,
    reason: Option<&'static str>,
    backend: &'static str,
    errno: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn main(args: &Args) -> ExitCode {
    let level = args.level.and_then(Level::from_u8).unwrap_or(Level::Full);
    let choice = match args.backend {
        BackendArg::Auto => BackendChoice::Auto,
        BackendArg::Kernel => BackendChoice::Kernel,
        BackendArg::Emulated => BackendChoice::Emulated,
    };
    let checker = match Checker::new(level, choice) {
        Ok(checker) => checker,
        Err(e) => {
            output::error(e);
            return Status::Error.into();
        }
    };
    let trust = args.trust.then(|| {
        let mounts = mayexec::SystemPolicy::load()
            .ok()
            .flatten()
            .map(|p| p.trust_mounts)
            .unwrap_or_default();
        TrustStore::system(&mounts)
    });
    let judge = Judge {
        checker,
        trust: trust.as_deref(),
    };
    output::finish(check_all(&judge, args))
}

/// The check, and the trust database when asked.
struct Judge<'a> {
    checker: Checker,
    trust: Option<&'a TrustStore>,
}

impl Judge<'_> {
    fn check(&self, fd: impl AsFd) -> Verdict {
        let fd = fd.as_fd();
        mayexec_rollout::scan::with_trust(self.trust, fd, self.checker.check(fd))
    }

    fn backend(&self) -> mayexec::Backend {
        self.checker.backend()
    }
}

fn check_all(checker: &Judge<'_>, args: &Args) -> io::Result<Status> {
    let mut status = Status::Ok;
    let mut entries = Vec::new();
    let mut out = io::stdout().lock();
    for path in &args.paths {
        let result = check_path(checker, Path::new(path));
        status = status.max(match &result {
            Ok(verdict) if verdict.is_allowed() => Status::Ok,
            Ok(_) => Status::Denied,
            Err(_) => Status::Error,
        });
        if args.json {
            entries.push(entry(checker, path, &result));
            continue;
        }
        match result {
            Ok(verdict) => {
                output::path(&mut out, path)?;
                writeln!(out, ": {verdict}")?;
            }
            Err(e) => output::error(e),
        }
    }
    drop(out);
    if args.json {
        output::json(&entries)?;
    }
    Ok(status)
}

/// The verdict on `path` without opening anything but a regular file: an
/// `O_PATH` descriptor says what the path is (a final symlink followed, as
/// an interpreter's open follows it); anything but a regular file is
/// judged from it. A regular file is opened for reading through
/// `/proc/self/fd/N`, and must still be the inode the `O_PATH` descriptor
/// holds: the open file is what is checked, as an interpreter checks it.
fn check_path(checker: &Judge<'_>, path: &Path) -> Result<Verdict, OpenError> {
    let fail = |source: io::Error| OpenError::new(path.to_owned(), source);
    let located =
        open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).map_err(|e| fail(e.into()))?;
    let st = fstat(&located).map_err(|e| fail(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Ok(checker.check(&located));
    }
    let proc_path = format!("/proc/self/fd/{}", located.as_raw_fd());
    let file = open(
        proc_path.as_str(),
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map_err(|e| fail(e.into()))?;
    let now = fstat(&file).map_err(|e| fail(e.into()))?;
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
        return Err(fail(io::Error::other(format!(
            "opened device {} inode {}, not the file found (device {} inode {}): not checked",
            now.st_dev, now.st_ino, st.st_dev, st.st_ino
        ))));
    }
    Ok(checker.check(&file))
}

fn entry(checker: &Judge<'_>, path: &OsString, result: &Result<Verdict, OpenError>) -> Entry {
    match result {
        Ok(verdict) => Entry {
            path: output::json_path(path),
            allowed: verdict.is_allowed(),
            reason: verdict.reason().map(|r| r.as_str()),
            backend: verdict.backend().as_str(),
            errno: verdict.errno(),
            error: None,
        },
        Err(e) => Entry {
            path: output::json_path(path),
            allowed: false,
            reason: None,
            backend: checker.backend().as_str(),
            errno: e.source.raw_os_error(),
            error: Some(e.source.to_string()),
        },
    }
}
