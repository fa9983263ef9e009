//! The RFC's test matrix for the emulated backend, on real tmpfs mounts:
//! {exec, noexec} mount × file mode × level 0–3, then every kind of file
//! that is not a regular one, as root and with privileges dropped.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use mayexec::{BackendChoice, Checker, Level, Reason};
use mayexec_testkit::{give_to, in_thread_as, root_test, SpecialFiles, Tmpfs, NOBODY};
use rustix::fs::{open, Mode, OFlags};

const LEVELS: [Level; 4] = [Level::Off, Level::Mount, Level::Permission, Level::Full];
const MODES: [u32; 4] = [0o755, 0o644, 0o500, 0o400];

fn emulated(level: Level) -> Checker {
    Checker::new(level, BackendChoice::Emulated).expect("the emulated backend always exists")
}

/// What the RFC says about a readable regular file.
fn expected(level: Level, noexec: bool, executable: bool) -> Option<Reason> {
    if level.checks_mount() && noexec {
        Some(Reason::NoexecMount)
    } else if level.checks_file() && !executable {
        Some(Reason::NotExecutable)
    } else {
        None
    }
}

/// Runs the regular-file matrix; `executable(mode)` says whether the
/// caller may execute a file of that mode.
fn regular_file_matrix(owner: u32, executable: fn(u32) -> bool) {
    for noexec in [false, true] {
        let mount = Tmpfs::mount(noexec).expect("mount tmpfs");
        for mode in MODES {
            let path = mount.write(format!("script-{mode:o}.sh"), "echo hi\n", mode);
            give_to(&path, owner, owner);
            let file = File::open(&path).expect("open the script");
            for level in LEVELS {
                let verdict = emulated(level).check(&file);
                let want = expected(level, noexec, executable(mode));
                assert_eq!(
                    verdict.reason(),
                    want,
                    "noexec={noexec} mode={mode:o} level={level} uid={}",
                    rustix::process::geteuid().as_raw()
                );
                assert_eq!(verdict.is_allowed(), want.is_none());
                assert_eq!(verdict.backend(), mayexec::Backend::Emulated);
                assert_eq!(verdict.errno(), want.map(|_| libc::EACCES));
            }
        }
    }
}

#[root_test]
fn regular_files_follow_the_rfc_levels_as_root() {
    // Root executes anything with at least one execute bit.
    regular_file_matrix(0, |mode| mode & 0o111 != 0);
}

#[root_test]
fn regular_files_follow_the_rfc_levels_with_privileges_dropped() {
    // Files owned by nobody, checked by nobody: the owner bits decide.
    // Created as root (mounting needs it), checked as nobody.
    for noexec in [false, true] {
        let mount = Tmpfs::mount(noexec).expect("mount tmpfs");
        let paths: Vec<_> = MODES
            .iter()
            .map(|&mode| {
                let path = mount.write(format!("s{mode:o}"), "x\n", mode);
                give_to(&path, NOBODY, NOBODY);
                (mode, path)
            })
            .collect();
        in_thread_as(NOBODY, NOBODY, move || {
            for (mode, path) in paths {
                let file = File::open(&path).expect("nobody opens its own file");
                for level in LEVELS {
                    let verdict = emulated(level).check(&file);
                    assert_eq!(
                        verdict.reason(),
                        expected(level, noexec, mode & 0o100 != 0),
                        "as nobody: noexec={noexec} mode={mode:o} level={level}"
                    );
                }
            }
        });
    }
}

#[root_test]
fn root_owned_files_checked_by_nobody_use_the_other_bits() {
    let mount = Tmpfs::exec();
    let group_only = mount.write("group-only", "x\n", 0o754); // others: r--
    let all = mount.write("all", "x\n", 0o755);
    in_thread_as(NOBODY, NOBODY, move || {
        let checker = emulated(Level::Permission);
        let verdict = checker.check(File::open(&group_only).unwrap());
        assert_eq!(verdict.reason(), Some(Reason::NotExecutable));
        assert!(checker.check(File::open(&all).unwrap()).is_allowed());
    });
}

#[root_test]
fn a_file_the_caller_cannot_read_is_unreadable_at_every_level() {
    let mount = Tmpfs::exec();
    let path = mount.write("exec-only", "x\n", 0o711);
    in_thread_as(NOBODY, NOBODY, move || {
        // O_PATH needs no read permission: the descriptor names the file.
        let fd = open(&path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap();
        for level in [Level::Mount, Level::Permission, Level::Full] {
            assert_eq!(
                emulated(level).check(&fd).reason(),
                Some(Reason::Unreadable),
                "level {level}"
            );
        }
        assert!(emulated(Level::Off).check(&fd).is_allowed());
    });
}

/// Descriptors of every kind of non-regular or kernel-internal file.
fn special_descriptors(files: &SpecialFiles) -> Vec<(&'static str, OwnedFd, Reason)> {
    let ro = |p: &Path| mayexec_testkit::open_nonblocking(p);
    let by_path = |p: &Path| mayexec_testkit::open_path_only(p);
    let (pipe_read, _pipe_write) = rustix::pipe::pipe().unwrap();
    let reopened = ro(Path::new(&format!(
        "/proc/self/fd/{}",
        pipe_read.as_raw_fd()
    )));
    let (socket, _) = mayexec_testkit::socketpair();
    let memfd = |mode| {
        let fd = rustix::fs::memfd_create("script", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        rustix::io::write(&fd, b"echo hi\n").unwrap();
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).unwrap();
        fd
    };
    vec![
        ("directory", ro(&files.path("dir")), Reason::NotRegularFile),
        (
            "fifo without a writer",
            ro(&files.path("fifo")),
            Reason::NotRegularFile,
        ),
        (
            "unix socket (O_PATH)",
            by_path(&files.path("socket")),
            Reason::NotRegularFile,
        ),
        ("socketpair", socket, Reason::NotRegularFile),
        (
            "character device",
            ro(&files.path("null")),
            Reason::NotRegularFile,
        ),
        (
            "block device",
            ro(&files.path("loop")),
            Reason::NotRegularFile,
        ),
        (
            "symlink (no-follow)",
            by_path(&files.path("link")),
            Reason::NotRegularFile,
        ),
        ("pipe", pipe_read, Reason::NotRegularFile),
        (
            "pipe reopened via /proc/self/fd",
            reopened,
            Reason::NotRegularFile,
        ),
        ("memfd 0755", memfd(0o755), Reason::SpecialFilesystem),
        ("memfd 0644", memfd(0o644), Reason::SpecialFilesystem),
        (
            "/proc/self/ns/mnt",
            ro(Path::new("/proc/self/ns/mnt")),
            Reason::SpecialFilesystem,
        ),
        (
            "/proc/self/status",
            ro(Path::new("/proc/self/status")),
            Reason::SpecialFilesystem,
        ),
    ]
}

fn assert_specials_denied_at_every_level_but_zero(files: &SpecialFiles) {
    for (name, fd, reason) in special_descriptors(files) {
        for level in [Level::Mount, Level::Permission, Level::Full] {
            let verdict = emulated(level).check(fd.as_fd());
            assert_eq!(verdict.reason(), Some(reason), "{name} at level {level}");
            assert!(!verdict.is_allowed());
        }
        assert!(
            emulated(Level::Off).check(&fd).is_allowed(),
            "{name} at level 0"
        );
    }
}

#[root_test]
fn special_files_are_denied_at_levels_1_to_3_and_allowed_at_0_as_root() {
    assert_specials_denied_at_every_level_but_zero(&SpecialFiles::new());
}

#[root_test]
fn special_files_are_denied_at_levels_1_to_3_with_privileges_dropped() {
    let files = std::sync::Arc::new(SpecialFiles::new());
    let shared = files.clone();
    in_thread_as(NOBODY, NOBODY, move || {
        assert_specials_denied_at_every_level_but_zero(&shared)
    });
}

#[root_test]
fn an_unlinked_o_tmpfile_on_a_visible_tmpfs_is_not_mistaken_for_a_memfd() {
    let mount = Tmpfs::exec();
    let fd = open(
        mount.path(),
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o755),
    )
    .unwrap();
    assert_eq!(rustix::fs::fstat(&fd).unwrap().st_nlink, 0);
    assert!(emulated(Level::Full).check(&fd).is_allowed());
}

#[root_test]
fn posix_acls_grant_and_mask_execute_permission_at_level_2_on_noexec_mounts() {
    if std::process::Command::new("setfacl")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            !mayexec_testkit::in_ci(),
            "setfacl (package acl) is missing under CI=true"
        );
        eprintln!("skipped: setfacl (package acl) is not installed");
        return;
    }
    let mount = Tmpfs::noexec();
    let setfacl = |acl: &str, path: &Path| {
        let status = std::process::Command::new("setfacl")
            .args(["-m", acl])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "setfacl -m {acl}");
    };
    // 0644 for everyone, but nobody is granted execute by a named entry.
    let granted = mount.write("granted", "x\n", 0o644);
    setfacl(&format!("u:{NOBODY}:rx"), &granted);
    // Granted by a named entry, but the mask takes execute away.
    let masked = mount.write("masked", "x\n", 0o644);
    setfacl(&format!("u:{NOBODY}:rx,m::r"), &masked);
    // 0755, but a named entry for nobody without execute wins over "other".
    let refused = mount.write("refused", "x\n", 0o755);
    setfacl(&format!("u:{NOBODY}:r"), &refused);
    // The owning group (nobody's) has no execute, a named entry for the
    // same group has: any matching group entry that grants is enough.
    let second_group = mount.write("second-group", "x\n", 0o644);
    give_to(&second_group, 0, NOBODY);
    setfacl(&format!("g:{NOBODY}:rx"), &second_group);
    // Other has execute, but nobody's group matches an entry without it.
    let group_refuses = mount.write("group-refuses", "x\n", 0o645);
    setfacl(&format!("g:{NOBODY}:r"), &group_refuses);
    in_thread_as(NOBODY, NOBODY, move || {
        let check = |p: &Path| {
            emulated(Level::Permission)
                .check(File::open(p).unwrap())
                .reason()
        };
        assert_eq!(check(&second_group), None);
        assert_eq!(check(&group_refuses), Some(Reason::NotExecutable));
        assert_eq!(check(&granted), None);
        assert_eq!(check(&masked), Some(Reason::NotExecutable));
        assert_eq!(check(&refused), Some(Reason::NotExecutable));
    });
}
