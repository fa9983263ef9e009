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
use mayexec_testkit::{TempDir, Tmpfs};
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

/// Content trust: the same check with and without the trust database
/// (`trust = "required"`), side by side with the kernel check. The trusted
/// file is on the tmpfs (no inode generation: one `statx` and the lookup)
/// and on the root filesystem (ext4 here: the generation `ioctl` too).
fn bench_trust(c: &mut Criterion, exec: &Tmpfs) {
    use mayexec::trust::{Entry, Identity, Source, TrustStore, TrustVerdict, Writer};
    let db = TempDir::new();
    let on_tmpfs = exec.write("trusted.pm", "package T; 1;\n", 0o755);
    let root_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust-bench");
    let _ = std::fs::create_dir_all(&root_dir);
    let on_root =
        mayexec_testkit::write_file(&root_dir.join("trusted.pm"), b"package T; 1;\n", 0o755);
    let (mut writer, _) = Writer::open(db.path()).unwrap();
    // A database the size of a Debian system's: 100 000 other entries.
    for i in 0..100_000u64 {
        let mut identity = Identity::of(File::open(&on_tmpfs).unwrap()).unwrap();
        identity.dev = u64::MAX - 1;
        identity.ino = i;
        writer.insert(Entry::new(
            identity,
            [0; 32],
            Source::Added,
            format!("/usr/share/filler/{i}.pm").into(),
        ));
    }
    for path in [&on_tmpfs, &on_root] {
        writer.insert(Entry::new(
            Identity::of(File::open(path).unwrap()).unwrap(),
            [0; 32],
            Source::Added,
            path.clone(),
        ));
    }
    writer.commit().unwrap();
    let store = TrustStore::open(db.path(), &[exec.path().to_owned(), "/".into()]);
    let level1 = Checker::new(Level::Mount, BackendChoice::Emulated).unwrap();
    let kernel = Checker::new(Level::Full, BackendChoice::Kernel).ok();
    for (name, path) in [("tmpfs", &on_tmpfs), ("ext4", &on_root)] {
        let file = File::open(path).unwrap();
        assert_eq!(store.check(&file), TrustVerdict::Trusted, "{name}");
        let mut group = c.benchmark_group(format!("trust/{name}"));
        group.bench_function("trust lookup alone", |b| {
            b.iter(|| black_box(store.check(&file)))
        });
        group.bench_function("emulated level 1", |b| {
            b.iter(|| black_box(level1.check(&file)))
        });
        group.bench_function("emulated level 1 + trust", |b| {
            b.iter(|| {
                let verdict = level1.check(&file);
                black_box((verdict, store.check(&file)))
            })
        });
        if let Some(kernel) = kernel {
            group.bench_function("kernel", |b| b.iter(|| black_box(kernel.check(&file))));
            group.bench_function("kernel + trust", |b| {
                b.iter(|| {
                    let verdict = kernel.check(&file);
                    black_box((verdict, store.check(&file)))
                })
            });
        }
        group.finish();
    }
}

/// Content trust during a package manager's run: a file no entry knows
/// whose path and content are staged is hashed by the check; a trusted
/// file is found by its entry first, at the usual cost.
fn bench_staged(c: &mut Criterion, exec: &Tmpfs) {
    use mayexec::trust::{Entry, Identity, Source, Staged, TrustStore, TrustVerdict, Writer};
    use sha2::{Digest, Sha256};
    let db = TempDir::new();
    let trusted = exec.write("entry.pm", "package T; 1;\n", 0o755);
    let small = exec.write("staged-4k.pm", vec![b'#'; 4 << 10], 0o644);
    let large = exec.write("staged-64k.pm", vec![b'#'; 64 << 10], 0o644);
    let (mut writer, _) = Writer::open(db.path()).unwrap();
    writer.insert(Entry::new(
        Identity::of(File::open(&trusted).unwrap()).unwrap(),
        [0; 32],
        Source::Added,
        trusted.clone(),
    ));
    let source = Source::Package {
        name: "bench".into(),
        version: "1".into(),
    };
    // As many staged digests as an upgrade of nine packages stages (5 107).
    for i in 0..5_105u64 {
        writer.stage(Staged::new(
            format!("/usr/share/filler/{i}.pm").into(),
            Sha256::digest(i.to_le_bytes()).into(),
            source.clone(),
        ));
    }
    for path in [&small, &large] {
        writer.stage(Staged::new(
            path.clone(),
            Sha256::digest(std::fs::read(path).unwrap()).into(),
            source.clone(),
        ));
    }
    writer.commit().unwrap();
    let store = TrustStore::open(db.path(), &[exec.path().to_owned()]);
    let mut group = c.benchmark_group("trust/staged");
    for (name, path) in [
        ("an entry, while staged", &trusted),
        ("a staged 4 KiB file", &small),
        ("a staged 64 KiB file", &large),
    ] {
        let file = File::open(path).unwrap();
        assert_eq!(store.check(&file), TrustVerdict::Trusted, "{name}");
        group.bench_function(name, |b| b.iter(|| black_box(store.check(&file))));
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    bench_kernel(c, &exec, &noexec);
    bench_emulated(c, &exec, &noexec);
    bench_trust(c, &exec);
    bench_staged(c, &exec);
}

criterion_group!(check, benches);
criterion_main!(check);
