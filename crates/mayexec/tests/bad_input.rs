//! Bad input: every failure is a clear error naming the path, nothing hangs,
//! and names need not be UTF-8.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use mayexec::{open_and_check, Reason};
use mayexec_testkit::{root_test, SpecialFiles, Tmpfs};
use rustix::fs::{fcntl_getfl, OFlags};
use rusty_fork::rusty_fork_test;

fn open_errno(path: &Path) -> i32 {
    let error = open_and_check(path).expect_err("must not open");
    assert_eq!(error.path, path);
    assert!(
        error.to_string().starts_with(&*path.to_string_lossy()),
        "{error}"
    );
    error.source.raw_os_error().expect("an OS error")
}

#[test]
fn a_missing_file_is_an_open_error_naming_it() {
    assert_eq!(
        open_errno(Path::new("/nonexistent/script.sh")),
        libc::ENOENT
    );
}

#[test]
fn an_overlong_name_is_enametoolong() {
    let long = format!("/tmp/{}", "x".repeat(300));
    assert_eq!(open_errno(Path::new(&long)), libc::ENAMETOOLONG);
    let deep = format!("/{}", "a/".repeat(3000));
    assert_eq!(open_errno(Path::new(&deep)), libc::ENAMETOOLONG);
}

#[root_test]
fn a_name_that_is_not_utf8_works() {
    let mount = Tmpfs::noexec();
    let name = OsStr::from_bytes(b"caf\xe9 \xff.sh");
    let path = mount.write(name, "echo hi\n", 0o755);
    let script = open_and_check(&path).unwrap();
    assert_eq!(script.verdict.reason(), Some(Reason::NoexecMount));
    // The command prints the name's bytes as they are.
    let out = std::process::Command::new(mayexec_testkit::workspace_bin("mayexec"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut want = path.as_os_str().as_bytes().to_vec();
    want.extend_from_slice(b": denied (noexec-mount)\n");
    assert_eq!(out.stdout, want);
}

#[root_test]
fn a_fifo_without_a_writer_never_hangs_and_is_left_blocking() {
    let files = SpecialFiles::new();
    let started = Instant::now();
    let script = open_and_check(files.path("fifo")).expect("O_NONBLOCK opens a FIFO at once");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the open returned"
    );
    assert_eq!(script.verdict.reason(), Some(Reason::NotRegularFile));
    // O_NONBLOCK was only for the open: an interpreter reading it blocks as usual.
    assert!(!fcntl_getfl(&script.file)
        .unwrap()
        .contains(OFlags::NONBLOCK));
    let fd_flags = rustix::io::fcntl_getfd(&script.file).unwrap();
    assert!(
        fd_flags.contains(rustix::io::FdFlags::CLOEXEC),
        "close-on-exec"
    );
}

#[test]
fn terminals_and_devices_are_not_scripts() {
    // /dev/ptmx opens a new pseudo-terminal master; O_NOCTTY keeps it from
    // becoming our controlling terminal.
    let script = open_and_check("/dev/ptmx").unwrap();
    assert_eq!(script.verdict.reason(), Some(Reason::NotRegularFile));
    assert_eq!(
        open_and_check("/dev/null").unwrap().verdict.reason(),
        Some(Reason::NotRegularFile)
    );
    assert_eq!(
        open_and_check("/").unwrap().verdict.reason(),
        Some(Reason::NotRegularFile)
    );
}

#[test]
fn dev_tty_is_judged_without_being_opened() {
    // `mayexec check` decides the type on an O_PATH descriptor: a device is
    // not-regular-file, even where opening it would fail (no controlling
    // terminal under setsid: ENXIO) or have effects.
    let out = std::process::Command::new("setsid")
        .arg(mayexec_testkit::workspace_bin("mayexec"))
        .args(["check", "/dev/tty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/dev/tty: denied (not-regular-file)\n"
    );
}

#[root_test]
fn the_returned_file_is_the_checked_one_and_reads_from_the_start() {
    let mount = Tmpfs::exec();
    let path = mount.write("s.sh", "echo one\n", 0o755);
    let mut script = open_and_check(&path).unwrap();
    // Replacing the path afterwards does not change what is read.
    std::fs::remove_file(&path).unwrap();
    mount.write("s.sh", "echo two\n", 0o755);
    let mut text = String::new();
    script.file.read_to_string(&mut text).unwrap();
    assert_eq!(text, "echo one\n");
}

rusty_fork_test! {
    #[test]
    fn running_out_of_descriptors_is_a_clear_emfile_error() {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Nofile);
        setrlimit(Resource::Nofile, Rlimit { current: Some(64), maximum: limit.maximum }).unwrap();
        let mut held = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            held.push(file);
            assert!(held.len() < 100, "the limit holds");
        }
        let error = open_and_check("/bin/sh").expect_err("no descriptor left");
        assert_eq!(error.source.raw_os_error(), Some(libc::EMFILE));
        assert!(error.to_string().contains("/bin/sh: Too many open files"), "{error}");
        drop(held.pop());
        assert!(open_and_check("/bin/sh").is_ok(), "one free descriptor is enough");
    }
}
