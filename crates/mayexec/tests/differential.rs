//! Differential: wherever the emulated backend at level 3 claims authority,
//! it agrees with the kernel; each known difference (docs/semantics.md) is
//! pinned here by a test of its own.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use mayexec::{BackendChoice, Checker, Level, Reason, Verdict};
use mayexec_testkit::{give_to, in_thread_as, root_test, SpecialFiles, Tmpfs, NOBODY};
use rustix::fs::{open, Mode, OFlags};

fn both(fd: impl AsFd) -> (Verdict, Verdict) {
    let kernel = Checker::new(Level::Full, BackendChoice::Kernel).expect("kernel backend");
    let emulated = Checker::new(Level::Full, BackendChoice::Emulated).expect("emulated backend");
    (kernel.check(fd.as_fd()), emulated.check(fd.as_fd()))
}

fn assert_agree(name: &str, fd: impl AsFd) {
    let (kernel, emulated) = both(fd);
    assert_eq!(
        kernel.is_allowed(),
        emulated.is_allowed(),
        "{name}: {kernel:?} vs {emulated:?}"
    );
    assert_eq!(
        kernel.reason(),
        emulated.reason(),
        "{name}: {kernel:?} vs {emulated:?}"
    );
    assert_eq!(
        kernel.errno(),
        emulated.errno(),
        "{name}: {kernel:?} vs {emulated:?}"
    );
}

/// Every regular file and every non-regular file the tests know, opened
/// as an interpreter would (or by path, for sockets).
fn agreement_cases(owner: u32) -> (Vec<Tmpfs>, SpecialFiles, Vec<(String, std::path::PathBuf)>) {
    let mut mounts = Vec::new();
    let mut paths = Vec::new();
    let elf = std::fs::read("/bin/true").unwrap();
    for noexec in [false, true] {
        let mount = Tmpfs::mount(noexec).unwrap();
        for (kind, contents) in [
            ("empty", &b""[..]),
            ("script", &b"#!/bin/sh\necho hi\n"[..]),
            ("elf", &elf[..]),
        ] {
            for mode in [0o755, 0o750, 0o705, 0o644, 0o604, 0o500, 0o400] {
                let path = mount.write(format!("{kind}-{mode:o}"), contents, mode);
                give_to(&path, owner, owner);
                paths.push((format!("{kind} {mode:o} noexec={noexec}"), path));
            }
        }
        mounts.push(mount);
    }
    // Files owned by someone else: the group and other bits decide.
    let mount = Tmpfs::exec();
    for mode in [0o754, 0o745, 0o711, 0o644] {
        let path = mount.write(format!("other-{mode:o}"), "x\n", mode);
        give_to(&path, 1, 1);
        paths.push((format!("owned by uid 1, {mode:o}"), path));
    }
    mounts.push(mount);
    (mounts, SpecialFiles::new(), paths)
}

fn check_agreement(
    uid: u32,
    paths: Vec<(String, std::path::PathBuf)>,
    specials: Vec<(String, std::path::PathBuf)>,
) {
    let mut compared = 0;
    for (name, path) in paths {
        let name = format!("uid {uid}: {name}");
        match File::open(&path) {
            Ok(file) => assert_agree(&name, &file),
            // Not readable by this caller: the RFC's own rule, where the
            // backends differ by design (known difference 4).
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{name}");
                let fd = open(&path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap();
                let (_, emulated) = both(&fd);
                assert_eq!(emulated.reason(), Some(Reason::Unreadable), "{name}");
                continue;
            }
        }
        compared += 1;
    }
    assert!(compared >= 40, "only {compared} regular files compared");
    for (name, path) in specials {
        let fd = open(
            &path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .or_else(|_| open(&path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()))
        .unwrap();
        assert_agree(&format!("uid {uid}: {name}"), fd);
    }
    let (pipe, _w) = rustix::pipe::pipe().unwrap();
    assert_agree("pipe", &pipe);
    let reopened = File::open(format!("/proc/self/fd/{}", pipe.as_raw_fd())).unwrap();
    assert_agree("pipe reopened", &reopened);
    let (socket, _) = mayexec_testkit::socketpair();
    assert_agree("socketpair", &socket);
}

fn special_paths(files: &SpecialFiles) -> Vec<(String, std::path::PathBuf)> {
    ["dir", "fifo", "null", "loop", "socket"]
        .into_iter()
        .map(|n| (n.to_owned(), files.path(n)))
        .collect()
}

#[root_test]
fn emulated_level_3_agrees_with_the_kernel_as_root() {
    let (_mounts, files, paths) = agreement_cases(0);
    check_agreement(0, paths, special_paths(&files));
}

#[root_test]
fn emulated_level_3_agrees_with_the_kernel_with_privileges_dropped() {
    let (_mounts, files, paths) = agreement_cases(NOBODY);
    let specials = special_paths(&files);
    in_thread_as(NOBODY, NOBODY, move || {
        check_agreement(NOBODY, paths, specials)
    });
}

// Known difference 1: an executable memfd passes the kernel check; the RFC
// refused every file of a kernel-internal filesystem.
#[test]
fn known_difference_an_executable_memfd_passes_the_kernel_but_not_the_rfc() {
    let memfd: OwnedFd = rustix::fs::memfd_create("x", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::fs::fchmod(&memfd, Mode::from_raw_mode(0o755)).unwrap();
    let reader = File::open(format!("/proc/self/fd/{}", memfd.as_raw_fd())).unwrap();
    drop(memfd);
    let (kernel, emulated) = both(&reader);
    assert!(kernel.is_allowed());
    assert_eq!(emulated.reason(), Some(Reason::SpecialFilesystem));
}

// Known difference 2: for kernel-internal files without execute
// permission both deny, for different first reasons.
#[test]
fn known_difference_kernel_internal_files_are_denied_for_different_reasons() {
    for path in ["/proc/self/ns/mnt", "/proc/self/status"] {
        let (kernel, emulated) = both(File::open(path).unwrap());
        assert_eq!(kernel.reason(), Some(Reason::NotExecutable), "{path}");
        assert_eq!(emulated.reason(), Some(Reason::SpecialFilesystem), "{path}");
    }
}

// Known difference 3: only the kernel knows whether anyone has the file
// open for writing.
#[root_test]
fn known_difference_only_the_kernel_sees_a_writer() {
    let mount = Tmpfs::exec();
    let path = mount.write("w.sh", "x\n", 0o755);
    let reader = File::open(&path).unwrap();
    let _writer = OpenOptions::new().append(true).open(&path).unwrap();
    let (kernel, emulated) = both(&reader);
    assert_eq!(kernel.reason(), Some(Reason::WriteBusy));
    assert!(emulated.is_allowed());
}

// Known difference 4: the kernel never requires read permission; the RFC
// does (an interpreter must read the script).
#[root_test]
fn known_difference_an_execute_only_file_passes_the_kernel_but_is_unreadable_for_the_rfc() {
    let mount = Tmpfs::exec();
    let path = mount.write("x-only", "x\n", 0o711);
    in_thread_as(NOBODY, NOBODY, move || {
        let fd = open(&path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap();
        let (kernel, emulated) = both(&fd);
        assert!(kernel.is_allowed());
        assert_eq!(emulated.reason(), Some(Reason::Unreadable));
    });
}

// Known difference 5: LSMs (here Landlock) are the kernel's alone.
#[root_test]
fn known_difference_an_lsm_denial_is_the_kernels_alone_and_explained_as_kernel_policy() {
    use landlock::{
        Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, ABI,
    };
    let allowed_mount = Tmpfs::exec();
    let other_mount = Tmpfs::exec();
    let inside = allowed_mount.write("in.sh", "x\n", 0o755);
    let outside = other_mount.write("out.sh", "x\n", 0o755);
    let allowed_dir = allowed_mount.path().to_owned();
    // Landlock restricts the calling thread (and what it starts): a thread
    // of its own keeps the domain away from the rest of the tests.
    mayexec_testkit::spawn_retrying(move || {
        let status = Ruleset::default()
            .handle_access(AccessFs::Execute)
            .unwrap()
            .create()
            .unwrap()
            .add_rule(PathBeneath::new(
                PathFd::new(&allowed_dir).unwrap(),
                AccessFs::from_all(ABI::V1) & AccessFs::Execute,
            ))
            .unwrap()
            .restrict_self()
            .unwrap();
        assert_eq!(status.ruleset, RulesetStatus::FullyEnforced);
        let (kernel, emulated) = both(File::open(&outside).unwrap());
        assert_eq!(kernel.reason(), Some(Reason::KernelPolicy));
        assert!(emulated.is_allowed());
        let (kernel, _) = both(File::open(&inside).unwrap());
        assert!(kernel.is_allowed());
    })
    .join()
    .unwrap();
}

// Known difference 6: a descriptor of a symlink itself: both say
// not-regular-file, the kernel with ELOOP.
#[root_test]
fn known_difference_a_symlink_descriptor_is_eloop_for_the_kernel() {
    let files = SpecialFiles::new();
    let fd = open(
        Path::new(&files.path("link")),
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let (kernel, emulated) = both(&fd);
    assert_eq!(kernel.reason(), Some(Reason::NotRegularFile));
    assert_eq!(kernel.errno(), Some(libc::ELOOP));
    assert_eq!(emulated.reason(), Some(Reason::NotRegularFile));
    assert_eq!(emulated.errno(), Some(libc::EACCES));
}
