//! The upstream matrix for the kernel backend (`execveat` +
//! `AT_EXECVE_CHECK`): regular files pass only on an exec mount with an exec
//! mode; nothing else passes; a memfd follows its mode; a file open for
//! writing is `write-busy`. The format of a file is never parsed.

use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::path::Path;

use mayexec::{Backend, BackendChoice, Checker, Level, Reason};
use mayexec_testkit::{give_to, in_thread_as, root_test, SpecialFiles, Tmpfs, NOBODY};
use rustix::fs::Mode;

fn kernel() -> Checker {
    Checker::new(Level::Full, BackendChoice::Kernel)
        .expect("this kernel has AT_EXECVE_CHECK (Linux 6.14+)")
}

fn elf_bytes() -> Vec<u8> {
    std::fs::read("/bin/true").expect("read /bin/true")
}

#[test]
fn the_kernel_backend_is_available_on_this_kernel() {
    // Linux 6.18 runs here; a machine without the flag fails loudly.
    assert_eq!(mayexec::kernel_check_probe(), Ok(()));
    assert!(mayexec::kernel_check_available());
    assert_eq!(Checker::full().backend(), Backend::Kernel);
    assert_eq!(kernel().backend(), Backend::Kernel);
}

#[test]
fn the_kernel_backend_has_only_the_full_level() {
    for level in [Level::Off, Level::Mount, Level::Permission] {
        assert_eq!(
            Checker::new(level, BackendChoice::Kernel),
            Err(mayexec::CheckerError::LevelNeedsEmulation { level })
        );
    }
}

/// Regular files, empty and ELF, × exec/noexec mount × mode.
fn regular_file_matrix(owner: u32, executable: fn(u32) -> bool) {
    for noexec in [false, true] {
        let mount = Tmpfs::mount(noexec).expect("mount tmpfs");
        let mut cases = Vec::new();
        for (kind, contents) in [("empty", Vec::new()), ("elf", elf_bytes())] {
            for mode in [0o755, 0o644, 0o500, 0o400] {
                let path = mount.write(format!("{kind}-{mode:o}"), &contents, mode);
                give_to(&path, owner, owner);
                cases.push((kind, mode, path));
            }
        }
        let check_all = move || {
            for (kind, mode, path) in cases {
                let verdict = kernel().check(File::open(&path).expect("open"));
                let want = if noexec {
                    Some(Reason::NoexecMount)
                } else if !executable(mode) {
                    Some(Reason::NotExecutable)
                } else {
                    None
                };
                assert_eq!(
                    verdict.reason(),
                    want,
                    "{kind} file, mode {mode:o}, noexec={noexec}"
                );
                assert_eq!(verdict.backend(), Backend::Kernel);
                assert_eq!(verdict.errno(), want.map(|_| libc::EACCES));
            }
        };
        if owner == 0 {
            check_all();
        } else {
            in_thread_as(owner, owner, check_all);
        }
    }
}

#[root_test]
fn regular_files_pass_only_on_exec_mounts_with_exec_modes_as_root() {
    regular_file_matrix(0, |mode| mode & 0o111 != 0);
}

#[root_test]
fn regular_files_pass_only_on_exec_mounts_with_exec_modes_with_privileges_dropped() {
    regular_file_matrix(NOBODY, |mode| mode & 0o100 != 0);
}

#[root_test]
fn nothing_but_regular_files_passes() {
    let files = SpecialFiles::new();
    let ro = |p: &Path| mayexec_testkit::open_nonblocking(p);
    let by_path = |p: &Path| mayexec_testkit::open_path_only(p);
    let (pipe, _writer) = rustix::pipe::pipe().unwrap();
    let (socket, _) = mayexec_testkit::socketpair();
    let cases = [
        ("directory", ro(&files.path("dir"))),
        ("fifo", ro(&files.path("fifo"))),
        ("character device", ro(&files.path("null"))),
        ("block device", ro(&files.path("loop"))),
        ("unix socket (O_PATH)", by_path(&files.path("socket"))),
        ("symlink (O_PATH|O_NOFOLLOW)", by_path(&files.path("link"))),
        ("pipe", pipe),
        ("socketpair", socket),
    ];
    for (name, fd) in cases {
        let verdict = kernel().check(fd.as_fd());
        assert!(!verdict.is_allowed(), "{name}");
        assert_eq!(verdict.reason(), Some(Reason::NotRegularFile), "{name}");
    }
    // The symlink's target, followed, is a regular file that passes.
    assert!(kernel()
        .check(File::open(files.path("link")).unwrap())
        .is_allowed());
}

#[test]
fn a_memfd_follows_its_mode() {
    let memfd = rustix::fs::memfd_create("script", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::io::write(&memfd, b"echo hi\n").unwrap();
    rustix::fs::fchmod(&memfd, Mode::from_raw_mode(0o755)).unwrap();
    // The check opens the file for execution: a memfd we hold open for
    // writing would be write-busy, so check a read-only reopening.
    let reader = File::open(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&memfd)
    ))
    .unwrap();
    drop(memfd);
    assert!(kernel().check(&reader).is_allowed(), "memfd 0755");
    rustix::fs::fchmod(&reader, Mode::from_raw_mode(0o644)).unwrap();
    assert_eq!(
        kernel().check(&reader).reason(),
        Some(Reason::NotExecutable),
        "memfd 0644"
    );
}

#[root_test]
fn a_file_open_for_writing_is_write_busy() {
    let mount = Tmpfs::exec();
    let path = mount.write("busy.sh", "echo hi\n", 0o755);
    let reader = File::open(&path).unwrap();
    assert!(kernel().check(&reader).is_allowed(), "nobody writes it yet");
    let writer = OpenOptions::new().append(true).open(&path).unwrap();
    let verdict = kernel().check(&reader);
    assert_eq!(verdict.reason(), Some(Reason::WriteBusy));
    assert_eq!(verdict.errno(), Some(libc::ETXTBSY));
    drop(writer);
    assert!(kernel().check(&reader).is_allowed(), "the writer is gone");
}

#[test]
fn kernel_internal_files_are_denied_and_explained() {
    let ns = File::open("/proc/self/ns/mnt").unwrap();
    let verdict = kernel().check(&ns);
    assert!(!verdict.is_allowed());
    // nsfs files are mode 0444: the kernel's first objection is permission.
    assert_eq!(verdict.reason(), Some(Reason::NotExecutable));
    let status = File::open("/proc/self/status").unwrap();
    assert!(!kernel().check(&status).is_allowed());
}
