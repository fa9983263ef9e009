//! `check` per backend against the raw system calls it issues.
//!
//! Each pair measures the same file twice: once through the library, once
//! as the bare system calls the library makes for that outcome, so the
//! ratio is what the library itself adds. Needs root (it mounts tmpfs).
//!
//! The bare calls sit in functions of their own that are never inlined, as
//! the library's are: inlined into the timing loop, the same two system
//! calls measured up to a third faster or slower from one build to the next
//! (where the kernel copies the result to decides the cost of the copy),
//! which would swamp the twenty-odd instructions the library adds.

use std::fs::File;
use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use criterion::{criterion_group, criterion_main, Criterion};
use mayexec::__bench::{self as uapi, R_OK, X_OK};
use mayexec::{BackendChoice, Checker, Level, Reason};
use mayexec_testkit::Tmpfs;
use rustix::fs::{fstat, fstatfs};

#[inline(never)]
fn raw_execveat(fd: BorrowedFd<'_>) -> Result<(), uapi::Errno> {
    uapi::execveat_check(fd.as_raw_fd())
}

#[inline(never)]
fn raw_execveat_fstat_fstatfs(fd: BorrowedFd<'_>) -> impl Sized {
    (uapi::execveat_check(fd.as_raw_fd()), fstat(fd), fstatfs(fd))
}

#[inline(never)]
fn raw_fstat_fstatfs(fd: BorrowedFd<'_>) -> impl Sized {
    (fstat(fd), fstatfs(fd))
}

#[inline(never)]
fn raw_fstat_fstatfs_faccessat2(fd: BorrowedFd<'_>) -> impl Sized {
    (fstat(fd), fstatfs(fd), uapi::faccess_fd(fd, X_OK | R_OK))
}

#[inline(never)]
fn raw_fstat_fstatfs_2faccessat2(fd: BorrowedFd<'_>) -> impl Sized {
    (
        fstat(fd),
        fstatfs(fd),
        uapi::faccess_fd(fd, X_OK | R_OK),
        uapi::faccess_fd(fd, X_OK),
    )
}

fn bench_kernel(c: &mut Criterion, exec: &Tmpfs, noexec: &Tmpfs) {
    let kernel = Checker::new(Level::Full, BackendChoice::Kernel).expect("AT_EXECVE_CHECK");
    let allowed = File::open(exec.write("allowed.sh", "echo hi\n", 0o755)).unwrap();
    let denied = File::open(noexec.write("denied.sh", "echo hi\n", 0o755)).unwrap();
    assert!(kernel.check(&allowed).is_allowed());
    assert_eq!(kernel.check(&denied).reason(), Some(Reason::NoexecMount));

    let mut group = c.benchmark_group("kernel/allowed");
    group.bench_function("raw execveat", |b| {
        b.iter(|| black_box(raw_execveat(allowed.as_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(kernel.check(&allowed)))
    });
    group.finish();

    // A denial is explained: execveat, then fstat + fstatfs (noexec found).
    let mut group = c.benchmark_group("kernel/denied-noexec");
    group.bench_function("raw execveat+fstat+fstatfs", |b| {
        b.iter(|| black_box(raw_execveat_fstat_fstatfs(denied.as_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(kernel.check(&denied)))
    });
    group.finish();
}

fn bench_emulated(c: &mut Criterion, exec: &Tmpfs, noexec: &Tmpfs) {
    let emulated = Checker::new(Level::Full, BackendChoice::Emulated).unwrap();
    let allowed = File::open(exec.write("allowed-e.sh", "echo hi\n", 0o755)).unwrap();
    let not_exec = File::open(exec.write("denied-e.sh", "echo hi\n", 0o644)).unwrap();
    let on_noexec = File::open(noexec.write("denied-e.sh", "echo hi\n", 0o755)).unwrap();
    assert!(emulated.check(&allowed).is_allowed());
    assert_eq!(
        emulated.check(&not_exec).reason(),
        Some(Reason::NotExecutable)
    );
    assert_eq!(
        emulated.check(&on_noexec).reason(),
        Some(Reason::NoexecMount)
    );

    let mut group = c.benchmark_group("emulated/allowed");
    group.bench_function("raw fstat+fstatfs+faccessat2", |b| {
        b.iter(|| black_box(raw_fstat_fstatfs_faccessat2(allowed.as_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(emulated.check(&allowed)))
    });
    group.finish();

    // Denied for the mode: the combined call fails, a second one tells
    // execute from read.
    let mut group = c.benchmark_group("emulated/denied-mode");
    group.bench_function("raw fstat+fstatfs+2*faccessat2", |b| {
        b.iter(|| black_box(raw_fstat_fstatfs_2faccessat2(not_exec.as_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(emulated.check(&not_exec)))
    });
    group.finish();

    let mut group = c.benchmark_group("emulated/denied-noexec");
    group.bench_function("raw fstat+fstatfs", |b| {
        b.iter(|| black_box(raw_fstat_fstatfs(on_noexec.as_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(emulated.check(&on_noexec)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    bench_kernel(c, &exec, &noexec);
    bench_emulated(c, &exec, &noexec);
}

criterion_group!(check, benches);
criterion_main!(check);
