//! The fallback proven on a kernel that has the check: a seccomp filter
//! makes `execveat(… AT_EXECVE_CHECK)` fail as an older kernel (or a
//! container runtime's filter) does. Best effort then uses the emulated
//! backend; the hard requirement fails clearly. Each test runs in a child
//! process of its own, since the filter and the probe are per process.

use std::fs::File;

use mayexec::{Backend, BackendChoice, Checker, CheckerError, Level, Reason};
use mayexec_testkit::{deny_execve_check, fail_execveat_on, root_test, workspace_bin, Tmpfs};
use rusty_fork::rusty_fork_test;

fn assert_falls_back(errno: i32) {
    let noexec = Tmpfs::noexec();
    let exec = Tmpfs::exec();
    let denied = noexec.write("x.sh", "echo hi\n", 0o755);
    let allowed = exec.write("x.sh", "echo hi\n", 0o755);
    let not_executable = exec.write("y.sh", "echo hi\n", 0o644);

    deny_execve_check(errno);

    assert_eq!(
        mayexec::kernel_check_probe(),
        Err(rustix::io::Errno::from_raw_os_error(errno))
    );
    assert!(!mayexec::kernel_check_available());
    let best_effort = Checker::full();
    assert_eq!(best_effort.backend(), Backend::Emulated);
    assert_eq!(
        Checker::new(Level::Full, BackendChoice::Auto)
            .unwrap()
            .backend(),
        Backend::Emulated
    );

    let verdict = best_effort.check(File::open(&denied).unwrap());
    assert_eq!(verdict.reason(), Some(Reason::NoexecMount));
    assert_eq!(verdict.backend(), Backend::Emulated);
    assert_eq!(
        best_effort
            .check(File::open(&not_executable).unwrap())
            .reason(),
        Some(Reason::NotExecutable)
    );
    assert!(best_effort
        .check(File::open(&allowed).unwrap())
        .is_allowed());

    let required = Checker::new(Level::Full, BackendChoice::Kernel);
    let error = required.expect_err("the hard requirement must fail");
    assert_eq!(
        error,
        CheckerError::KernelUnavailable {
            errno: rustix::io::Errno::from_raw_os_error(errno)
        }
    );
    assert!(error.to_string().contains("Linux 6.14"), "{error}");

    // The command inherits the filter: it reports the emulated backend,
    // and refuses --backend kernel with status 2.
    let status = std::process::Command::new(workspace_bin("mayexec"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(report["kernel"]["execve_check"], false);
    assert_eq!(report["backend"], "emulated");
    let check = std::process::Command::new(workspace_bin("mayexec"))
        .args(["check", "--backend", "kernel"])
        .arg(&allowed)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&check.stderr).contains("not available"));
    let check = std::process::Command::new(workspace_bin("mayexec"))
        .arg("check")
        .arg(&denied)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        format!("{}: denied (noexec-mount)\n", denied.display())
    );
}

rusty_fork_test! {
    #[root_test]
    fn an_old_kernel_einval_falls_back_to_the_emulated_backend() {
        assert_falls_back(libc::EINVAL);
    }

    #[root_test]
    fn a_seccomp_enosys_falls_back_to_the_emulated_backend() {
        assert_falls_back(libc::ENOSYS);
    }

    #[root_test]
    fn a_seccomp_eperm_falls_back_to_the_emulated_backend() {
        assert_falls_back(libc::EPERM);
    }

    /// A system-call emulator that answers `EBADF` for descriptor -1 but
    /// ignores the flag (a real exec of the probe's empty file gives
    /// `ENOEXEC`) must not pass for a kernel that has the check.
    #[root_test]
    fn an_emulator_that_ignores_the_flag_is_not_a_kernel_check() {
        let noexec = Tmpfs::noexec();
        let denied = noexec.write("x.sh", "echo hi\n", 0o755);
        // Filters stack and the newest decides: -1 gets EBADF, every
        // other descriptor an exec's ENOEXEC.
        deny_execve_check(libc::ENOEXEC);
        fail_execveat_on(-1, libc::EBADF);
        assert_eq!(mayexec::kernel_check_probe(), Err(rustix::io::Errno::NOEXEC));
        let best_effort = Checker::full();
        assert_eq!(best_effort.backend(), Backend::Emulated);
        let verdict = best_effort.check(File::open(&denied).unwrap());
        assert_eq!(verdict.reason(), Some(Reason::NoexecMount));
    }

    /// The same emulator met by a checker that chose the kernel backend on
    /// the probe's cheap first step alone: the flag is proven before the
    /// first check, and where it cannot be the emulated rules decide. No
    /// real descriptor ever reaches the emulator's `execveat`.
    #[root_test]
    fn a_kernel_checker_proves_the_flag_before_its_first_check() {
        let noexec = Tmpfs::noexec();
        let exec = Tmpfs::exec();
        let denied = noexec.write("x.sh", "echo hi\n", 0o755);
        let allowed = exec.write("x.sh", "echo hi\n", 0o755);
        deny_execve_check(libc::ENOEXEC);
        fail_execveat_on(-1, libc::EBADF);
        let checker = Checker::new(Level::Full, BackendChoice::Auto).unwrap();
        let verdict = checker.check(File::open(&denied).unwrap());
        assert_eq!(verdict.reason(), Some(Reason::NoexecMount), "{verdict:?}");
        assert_eq!(verdict.backend(), Backend::Emulated);
        let verdict = checker.check(File::open(&allowed).unwrap());
        assert!(verdict.is_allowed(), "{verdict:?}");
        assert_eq!(checker.backend(), Backend::Emulated);
    }

    #[root_test]
    fn an_unexpected_error_from_a_real_check_is_a_denial() {
        let exec = Tmpfs::exec();
        let allowed = exec.write("x.sh", "echo hi\n", 0o755);
        let file = File::open(&allowed).unwrap();
        let kernel = Checker::new(Level::Full, BackendChoice::Kernel).unwrap();
        assert!(kernel.check(&file).is_allowed());
        // From now on every real check fails with EIO: fail closed.
        deny_execve_check(libc::EIO);
        let verdict = kernel.check(&file);
        assert!(!verdict.is_allowed());
        assert_eq!(verdict.reason(), Some(Reason::KernelError));
        assert_eq!(verdict.errno(), Some(libc::EIO));
    }
}
