//! The audit log: one syslog line per denial, enforced or audit-only.
//!
//! ```text
//! <84>mayexec[4242]: program=python3 pid=4242 uid=1000 path=/tmp/x.py reason=noexec-mount backend=kernel action=denied
//! ```
//!
//! Lines go to the local syslog socket (`/dev/log`, facility `authpriv`,
//! severity `warning` for enforced denials and `notice` for audit-only ones).
//! Bytes outside printable ASCII, spaces, `\` and `=` in a path are written
//! `\xNN`, so each line stays one line and splits on spaces. Without a
//! syslog daemon the line is dropped, as `syslog(3)` drops it; a daemon
//! that does not keep up gets 250 ms before the line is dropped, so that an
//! interpreter never hangs on its log.

use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::io;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::{Arc, Mutex, OnceLock};

use crate::{Backend, Reason};

/// The syslog socket; fixed when the crate is built
/// (`MAYEXEC_SYSLOG_SOCKET` at build time overrides it).
pub const SYSLOG_SOCKET: &str = match option_env!("MAYEXEC_SYSLOG_SOCKET") {
    Some(path) => path,
    None => "/dev/log",
};

const LOG_AUTHPRIV: u8 = 10 << 3;
const LOG_WARNING: u8 = 4;
const LOG_NOTICE: u8 = 5;

/// One denial, as logged. Built with [`AuditRecord::new`]; fields may be
/// added.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AuditRecord<'a> {
    /// The program that asked (its `argv[0]` without directories).
    pub program: &'a str,
    /// Its process ID.
    pub pid: u32,
    /// Its real user ID.
    pub uid: u32,
    /// The file, or a label such as `-c` or `<stdin>` for code not from a file.
    pub path: &'a OsStr,
    /// Why execution was refused.
    pub reason: Reason,
    /// Which backend decided.
    pub backend: Backend,
    /// Was the denial enforced, or only logged (`mode = "audit"`)?
    pub enforced: bool,
}

impl<'a> AuditRecord<'a> {
    /// The record of a denial of `path` in this process: its program name
    /// ([`program_name`]), pid and real uid.
    pub fn new(path: &'a OsStr, reason: Reason, backend: Backend, enforced: bool) -> Self {
        AuditRecord {
            program: program_name(),
            pid: std::process::id(),
            uid: rustix::process::getuid().as_raw(),
            path,
            reason,
            backend,
            enforced,
        }
    }
}

impl fmt::Display for AuditRecord<'_> {
    /// The line's message, without the syslog header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("program=")?;
        escape(self.program.as_bytes(), f)?;
        write!(f, " pid={} uid={} path=", self.pid, self.uid)?;
        escape(self.path.as_bytes(), f)?;
        write!(
            f,
            " reason={} backend={} action={}",
            self.reason,
            self.backend,
            if self.enforced { "denied" } else { "audit" }
        )
    }
}

fn escape(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'\\' && b != b'=' {
            f.write_char(char::from(b))?;
        } else {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

type Hook = Box<dyn Fn(&AuditRecord<'_>) + Send + Sync>;

type SharedHook = Arc<dyn Fn(&AuditRecord<'_>) + Send + Sync>;

static HOOK: Mutex<Option<SharedHook>> = Mutex::new(None);

/// Sends every record to `hook` instead of syslog (until it is removed
/// with `None`): for embedders that route audit records themselves, and for
/// tests that read them back. A hook may log or replace the hook itself:
/// it runs without the lock held.
pub fn set_hook(hook: Option<Hook>) {
    *HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = hook.map(Arc::from);
}

/// Logs one denial. Failing to reach syslog is reported, never fatal.
pub fn log(record: &AuditRecord<'_>) -> io::Result<()> {
    let hook = HOOK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    if let Some(hook) = hook {
        hook(record);
        return Ok(());
    }
    let severity = if record.enforced {
        LOG_WARNING
    } else {
        LOG_NOTICE
    };
    let line = format!(
        "<{}>mayexec[{}]: {record}",
        LOG_AUTHPRIV | severity,
        record.pid
    );
    send_to_syslog(line.as_bytes())
}

/// How long a denial may wait for a congested syslog daemon before its
/// line is dropped: an interpreter must not hang on its log.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);

fn send_to_syslog(line: &[u8]) -> io::Result<()> {
    // journald and rsyslog listen on a datagram socket; some daemons on a
    // stream socket, where a NUL ends each message.
    let socket = UnixDatagram::unbound()?;
    match socket.connect(SYSLOG_SOCKET) {
        Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
            let mut stream = UnixStream::connect(SYSLOG_SOCKET)?;
            stream.set_write_timeout(Some(SEND_TIMEOUT))?;
            stream.write_all(line)?;
            return stream.write_all(b"\0");
        }
        result => result?,
    }
    // A full receive queue blocks a datagram send; wait a little, then
    // give up on this line rather than stall the caller.
    socket.set_write_timeout(Some(SEND_TIMEOUT))?;
    socket.send(line).map(drop)
}

/// This program's name for audit lines: `argv[0]` without directories,
/// falling back to the kernel's `comm`.
pub fn program_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let from_argv = std::env::args_os().next().and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        });
        from_argv
            .or_else(|| {
                std::fs::read_to_string("/proc/self/comm")
                    .ok()
                    .map(|comm| comm.trim_end().to_owned())
            })
            .unwrap_or_else(|| String::from("unknown"))
    })
}
