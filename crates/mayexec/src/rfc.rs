//! The script-execution-control RFC's call, `faccessat2(dirfd, path, X_OK,
//! AT_INTERPRETED)`, answered on every kernel: what libmayexec's
//! `mayexec_faccessat2` drop-in runs, so that an interpreter patched for the
//! RFC works unchanged.
//!
//! With [`AT_INTERPRETED`] in `flags`, the level in force decides: level 0
//! (nothing enforced) is a plain readability check, levels 1–3 run the
//! emulated rules on the file `dirfd` + `path` names, log a denial and refuse
//! with `EACCES` (audit mode: log, answer as level 0). The full statement,
//! flag by flag, is `docs/semantics.md` §7.1; this module implements it.
//!
//! Without `AT_INTERPRETED` the call is the plain `faccessat2` system call.

use std::ffi::{c_int, CStr, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{openat, Mode, OFlags, CWD};

use crate::uapi::{self, Errno, AT_EACCESS, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, R_OK, W_OK, X_OK};
use crate::{Action, BackendChoice, Checker, Denial, Enforcement};

pub use crate::uapi::AT_INTERPRETED;

/// Why [`faccessat2`] refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// An argument the RFC rejects (`EINVAL`).
    #[error("invalid argument: {0}")]
    Invalid(&'static str),
    /// The system call, or resolving the path, failed.
    #[error("{}: {}", label.to_string_lossy(), std::io::Error::from(*errno))]
    Syscall {
        /// The path as given.
        label: OsString,
        /// The error.
        errno: Errno,
    },
    /// The policy refuses to have the file interpreted.
    #[error(transparent)]
    Denied(#[from] Denial),
}

impl AccessError {
    /// The errno a C caller sees: `EINVAL`, the system call's, or the
    /// denial's (`EACCES`; the unexpected error for `kernel-error`).
    pub fn errno(&self) -> i32 {
        match self {
            AccessError::Invalid(_) => libc::EINVAL,
            AccessError::Syscall { errno, .. } => errno.raw_os_error(),
            AccessError::Denied(denial) => denial.errno,
        }
    }
}

/// `faccessat2(dirfd, path, mode, flags)` with the RFC's `AT_INTERPRETED`
/// honoured under `enforcement` (see the module documentation). `dirfd` may
/// be [`rustix::fs::CWD`].
pub fn faccessat2(
    enforcement: &Enforcement,
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    mode: c_int,
    flags: c_int,
) -> Result<(), AccessError> {
    let label = || {
        if path.is_empty() {
            OsString::from(format!("<fd {}>", dirfd.as_raw_fd()))
        } else {
            std::ffi::OsStr::from_bytes(path.to_bytes()).to_owned()
        }
    };
    let syscall = |errno| AccessError::Syscall {
        label: label(),
        errno,
    };
    if flags & AT_INTERPRETED == 0 {
        return uapi::faccessat2(dirfd.as_raw_fd(), path, mode, flags).map_err(syscall);
    }
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(AccessError::Invalid(
            "mode has bits other than R_OK, W_OK and X_OK",
        ));
    }
    if mode & X_OK == 0 {
        return Err(AccessError::Invalid("AT_INTERPRETED needs X_OK in mode"));
    }
    if flags & !(AT_INTERPRETED | AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_EACCESS) != 0 {
        return Err(AccessError::Invalid(
            "flags other than AT_INTERPRETED, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW and AT_EACCESS",
        ));
    }
    let plain = || {
        let mode = (mode & !X_OK) | R_OK;
        uapi::faccessat2(dirfd.as_raw_fd(), path, mode, flags & !AT_INTERPRETED).map_err(syscall)
    };
    if enforcement.scripts == Action::Ignore {
        return plain();
    }
    let file = resolve(dirfd, path, flags).map_err(syscall)?;
    let checker = Checker::new(enforcement.checker.level(), BackendChoice::Emulated)
        .expect("the emulated backend has every level");
    let verdict = enforcement.decide(&label(), checker.check(&file), enforcement.scripts)?;
    let verdict = enforcement.decide_trust_path(&label(), file.as_fd(), verdict)?;
    if !verdict.is_allowed() {
        // Audit mode: logged by `decide`; answer as if there were no policy.
        return plain();
    }
    if mode & W_OK != 0 {
        uapi::faccessat2(
            file.as_raw_fd(),
            c"",
            W_OK,
            AT_EMPTY_PATH | (flags & AT_EACCESS),
        )
        .map_err(syscall)?;
    }
    Ok(())
}

/// The file `faccessat2` would look at, as an `O_PATH` descriptor: opening
/// it this way never blocks (FIFOs), never has side effects (devices) and
/// needs no permission on the file itself.
fn resolve(dirfd: BorrowedFd<'_>, path: &CStr, flags: c_int) -> Result<OwnedFd, Errno> {
    let oflags = OFlags::PATH | OFlags::CLOEXEC;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd.as_raw_fd() == CWD.as_raw_fd() {
            return openat(CWD, c".", oflags, Mode::empty());
        }
        return rustix::io::fcntl_dupfd_cloexec(dirfd, 0);
    }
    let nofollow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
        OFlags::NOFOLLOW
    } else {
        OFlags::empty()
    };
    openat(dirfd, path, oflags | nofollow, Mode::empty())
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use mayexec_testkit::{root_test, Tmpfs};

    use super::*;
    use crate::policy::{Mode as PolicyMode, SystemPolicy};
    use crate::securebits::SecureBits;
    use crate::{Level, Reason};

    fn at_level(level: Level, mode: PolicyMode) -> Enforcement {
        Enforcement::from_parts(
            SecureBits::empty(),
            Some(SystemPolicy {
                interpreted_access: level,
                deny_interactive: false,
                mode,
                ..SystemPolicy::default()
            }),
        )
    }

    fn enforcing(level: u8) -> Enforcement {
        at_level(Level::from_u8(level).unwrap(), PolicyMode::Enforce)
    }

    fn cpath(path: &std::path::Path) -> std::ffi::CString {
        std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap()
    }

    fn interpreted(enforcement: &Enforcement, path: &std::path::Path) -> Result<(), AccessError> {
        faccessat2(enforcement, CWD, &cpath(path), X_OK, AT_INTERPRETED)
    }

    fn denied_for(result: Result<(), AccessError>) -> Option<Reason> {
        match result {
            Err(AccessError::Denied(denial)) => {
                assert_eq!(denial.errno, libc::EACCES);
                Some(denial.reason)
            }
            Ok(()) => None,
            Err(other) => panic!("expected a denial, got {other}"),
        }
    }

    #[test]
    fn mode_without_x_ok_is_einval_at_every_level() {
        for level in 0..=3 {
            let result = faccessat2(&enforcing(level), CWD, c"/", R_OK, AT_INTERPRETED);
            assert_eq!(result.unwrap_err().errno(), libc::EINVAL, "level {level}");
        }
    }

    #[test]
    fn unknown_flags_are_einval() {
        let result = faccessat2(
            &enforcing(1),
            CWD,
            c"/",
            X_OK,
            AT_INTERPRETED | libc::AT_NO_AUTOMOUNT,
        );
        assert_eq!(result.unwrap_err().errno(), libc::EINVAL);
    }

    #[test]
    fn level_0_is_a_readability_check_of_any_file_type() {
        let enforcement = enforcing(0);
        assert!(interpreted(&enforcement, std::path::Path::new("/")).is_ok());
        assert!(interpreted(&enforcement, std::path::Path::new("/dev/null")).is_ok());
        let missing = interpreted(&enforcement, std::path::Path::new("/nonexistent/x"));
        assert_eq!(missing.unwrap_err().errno(), libc::ENOENT);
    }

    #[root_test]
    fn levels_follow_the_mount_and_the_mode() {
        let exec = Tmpfs::exec();
        let noexec = Tmpfs::noexec();
        let table = [
            // (level, noexec mount, mode, expected reason)
            (1, false, 0o755, None),
            (1, false, 0o644, None),
            (1, true, 0o755, Some(Reason::NoexecMount)),
            (2, true, 0o755, None),
            (2, false, 0o644, Some(Reason::NotExecutable)),
            (3, true, 0o644, Some(Reason::NoexecMount)),
            (3, false, 0o644, Some(Reason::NotExecutable)),
            (3, false, 0o755, None),
        ];
        for (level, on_noexec, mode, expected) in table {
            let mount = if on_noexec { &noexec } else { &exec };
            let script = mount.write(format!("s{level}-{mode:o}"), "echo\n", mode);
            let got = denied_for(interpreted(&enforcing(level), &script));
            assert_eq!(got, expected, "level {level}, noexec {on_noexec}, {mode:o}");
        }
    }

    #[root_test]
    fn symlink_nofollow_checks_the_link_itself() {
        let exec = Tmpfs::exec();
        exec.write("target", "echo\n", 0o755);
        let link = exec.path().join("link");
        std::os::unix::fs::symlink("target", &link).unwrap();
        let enforcement = enforcing(3);
        assert_eq!(denied_for(interpreted(&enforcement, &link)), None);
        let nofollow = faccessat2(
            &enforcement,
            CWD,
            &cpath(&link),
            X_OK,
            AT_INTERPRETED | AT_SYMLINK_NOFOLLOW,
        );
        assert_eq!(denied_for(nofollow), Some(Reason::NotRegularFile));
    }

    #[root_test]
    fn empty_path_checks_the_descriptor() {
        let noexec = Tmpfs::noexec();
        let script = noexec.write("s", "echo\n", 0o755);
        let file = std::fs::File::open(&script).unwrap();
        let check = |level| {
            faccessat2(
                &enforcing(level),
                file.as_fd(),
                c"",
                X_OK,
                AT_INTERPRETED | AT_EMPTY_PATH,
            )
        };
        assert_eq!(denied_for(check(1)), Some(Reason::NoexecMount));
        assert_eq!(denied_for(check(2)), None);
        // Without AT_EMPTY_PATH an empty path names nothing.
        let no_flag = faccessat2(&enforcing(1), file.as_fd(), c"", X_OK, AT_INTERPRETED);
        assert_eq!(no_flag.unwrap_err().errno(), libc::ENOENT);
    }

    #[root_test]
    fn audit_mode_logs_and_answers_as_level_0() {
        let noexec = Tmpfs::noexec();
        let script = noexec.write("audited", "echo\n", 0o755);
        static LOGGED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        crate::audit::set_hook(Some(Box::new(|record| {
            if record.path.as_bytes().ends_with(b"/audited") {
                LOGGED.lock().unwrap().push(record.to_string());
            }
        })));
        let enforcement = at_level(Level::Mount, PolicyMode::Audit);
        let result = interpreted(&enforcement, &script);
        crate::audit::set_hook(None);
        assert!(result.is_ok());
        let logged = LOGGED.lock().unwrap();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(
            logged[0].contains("reason=noexec-mount") && logged[0].contains("action=audit"),
            "{logged:?}"
        );
    }

    #[root_test]
    fn restrict_file_securebit_means_level_3() {
        let exec = Tmpfs::exec();
        let script = exec.write("s", "echo\n", 0o644);
        let enforcement = Enforcement::from_parts(SecureBits::EXEC_RESTRICT_FILE, None);
        assert_eq!(
            denied_for(interpreted(&enforcement, &script)),
            Some(Reason::NotExecutable)
        );
    }

    #[test]
    fn without_the_flag_it_is_plain_faccessat2() {
        let enforcement = enforcing(3);
        assert!(faccessat2(&enforcement, CWD, c"/", R_OK, 0).is_ok());
        let missing = faccessat2(&enforcement, CWD, c"/nonexistent", uapi::F_OK, 0);
        assert_eq!(missing.unwrap_err().errno(), libc::ENOENT);
    }
}
