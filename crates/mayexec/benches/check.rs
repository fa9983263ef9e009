//! `check` per backend against the raw system calls it issues.
//!
//! Each pair measures the same file twice: once through the library, once
//! as the bare system calls the library makes for that outcome, so the
//! ratio is what the library itself adds. Needs root (it mounts tmpfs).

use std::fs::File;
use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd};

use criterion::{criterion_group, criterion_main, Criterion};
use mayexec::uapi::{self, R_OK, X_OK};
use mayexec::{BackendChoice, Checker, Level, Reason};
use mayexec_testkit::Tmpfs;
use rustix::fs::{fstat, fstatfs};

fn bench_kernel(c: &mut Criterion, exec: &Tmpfs, noexec: &Tmpfs) {
    let kernel = Checker::new(Level::Full, BackendChoice::Kernel).expect("AT_EXECVE_CHECK");
    let allowed = File::open(exec.write("allowed.sh", "echo hi\n", 0o755)).unwrap();
    let denied = File::open(noexec.write("denied.sh", "echo hi\n", 0o755)).unwrap();
    assert!(kernel.check(&allowed).allowed);
    assert_eq!(kernel.check(&denied).reason, Some(Reason::NoexecMount));

    let mut group = c.benchmark_group("kernel/allowed");
    group.bench_function("raw execveat", |b| {
        b.iter(|| black_box(uapi::execveat_check(allowed.as_raw_fd())))
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(kernel.check(&allowed)))
    });
    group.finish();

    // A denial is explained: execveat, then fstat + fstatfs (noexec found).
    let mut group = c.benchmark_group("kernel/denied-noexec");
    group.bench_function("raw execveat+fstat+fstatfs", |b| {
        b.iter(|| {
            let r = uapi::execveat_check(denied.as_raw_fd());
            black_box((r, fstat(&denied), fstatfs(&denied)))
        })
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
    assert!(emulated.check(&allowed).allowed);
    assert_eq!(
        emulated.check(&not_exec).reason,
        Some(Reason::NotExecutable)
    );
    assert_eq!(emulated.check(&on_noexec).reason, Some(Reason::NoexecMount));

    let mut group = c.benchmark_group("emulated/allowed");
    group.bench_function("raw fstat+fstatfs+faccessat2", |b| {
        b.iter(|| {
            let fd = allowed.as_fd();
            black_box((fstat(fd), fstatfs(fd), uapi::faccess_fd(fd, X_OK | R_OK)))
        })
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(emulated.check(&allowed)))
    });
    group.finish();

    // Denied for the mode: the combined call fails, a second one tells
    // execute from read.
    let mut group = c.benchmark_group("emulated/denied-mode");
    group.bench_function("raw fstat+fstatfs+2*faccessat2", |b| {
        b.iter(|| {
            let fd = not_exec.as_fd();
            black_box((
                fstat(fd),
                fstatfs(fd),
                uapi::faccess_fd(fd, X_OK | R_OK),
                uapi::faccess_fd(fd, X_OK),
            ))
        })
    });
    group.bench_function("mayexec check", |b| {
        b.iter(|| black_box(emulated.check(&not_exec)))
    });
    group.finish();

    let mut group = c.benchmark_group("emulated/denied-noexec");
    group.bench_function("raw fstat+fstatfs", |b| {
        b.iter(|| {
            let fd = on_noexec.as_fd();
            black_box((fstat(fd), fstatfs(fd)))
        })
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
