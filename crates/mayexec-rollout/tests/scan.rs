//! The scan walk under churn: a directory swapped with a symlink out of the
//! tree while the walk runs never leads it out, and files that vanish are
//! reported, never fatal.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mayexec::Checker;
use mayexec_rollout::scan::{scan, Finding, ProblemKind, Progress, ScanOptions};
use mayexec_testkit::{root_test, TempDir, Tmpfs};
use rustix::fs::{renameat_with, RenameFlags, CWD};

const ROUNDS: usize = 300;

#[root_test]
fn a_directory_swapped_for_a_symlink_never_leads_the_walk_out_of_the_tree() {
    let tree = Tmpfs::exec();
    let outside = TempDir::new();
    fs::create_dir(outside.path().join("sub")).unwrap();
    outside.write("sub/OUTSIDE-MARKER.py", "pass\n", 0o644);
    outside.write("OUTSIDE-MARKER.sh", "echo\n", 0o644);
    let d = tree.path().join("d");
    fs::create_dir_all(d.join("sub")).unwrap();
    for i in 0..20 {
        tree.write(format!("d/sub/in{i}.py"), "pass\n", 0o644);
    }
    let link = tree.path().join("link");
    symlink(outside.path(), &link).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (d, link, stop) = (d.clone(), link.clone(), stop.clone());
        mayexec_testkit::spawn_retrying(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                renameat_with(CWD, &d, CWD, &link, RenameFlags::EXCHANGE)
                    .expect("renameat2(RENAME_EXCHANGE)");
                swaps += 1;
            }
            swaps
        })
    };
    let mut options = ScanOptions::new(Checker::full());
    options.jobs = 2;
    let (mut changed, mut inside) = (0u64, 0u64);
    for _ in 0..ROUNDS {
        let report = scan(&[tree.path().to_owned()], &options, &Progress::default());
        for finding in &report.findings {
            let path = finding.path().to_string_lossy();
            assert!(
                !path.contains("OUTSIDE-MARKER"),
                "the walk left the tree: {finding:?}"
            );
            match finding {
                Finding::Code(_) => inside += 1,
                Finding::Problem { kind, .. } => {
                    assert!(
                        matches!(kind, ProblemKind::Changed | ProblemKind::Vanished),
                        "{finding:?}"
                    );
                    changed += 1;
                }
                _ => {}
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swapper.join().unwrap() > 0);
    assert!(inside > 0, "the tree itself was scanned");
    eprintln!("{ROUNDS} scans: {inside} code files inside, {changed} changed or vanished");
}

#[root_test]
fn files_that_vanish_during_the_walk_are_reported_not_fatal() {
    let tree = Tmpfs::exec();
    let dir = tree.path().join("churn");
    fs::create_dir(&dir).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let (dir, stop) = (dir.clone(), stop.clone());
        mayexec_testkit::spawn_retrying(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let file: PathBuf = dir.join(format!("f{}.sh", n % 64));
                let sub = dir.join(format!("d{}", n % 8));
                let _ = fs::write(&file, "echo\n");
                let _ = fs::create_dir(&sub);
                let _ = fs::remove_file(dir.join(format!("f{}.sh", (n + 32) % 64)));
                let _ = fs::remove_dir(dir.join(format!("d{}", (n + 4) % 8)));
                n += 1;
            }
            n
        })
    };
    let options = ScanOptions::new(Checker::full());
    let mut vanished = 0u64;
    for _ in 0..ROUNDS {
        let report = scan(&[tree.path().to_owned()], &options, &Progress::default());
        for finding in &report.findings {
            match finding {
                Finding::Problem {
                    kind: ProblemKind::Vanished,
                    error,
                    ..
                } => {
                    assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{finding:?}");
                    vanished += 1;
                }
                // Removed and made again between listing and entering: a
                // different directory now, not entered.
                Finding::Problem {
                    kind: ProblemKind::Changed,
                    ..
                } => vanished += 1,
                Finding::Problem { .. } => panic!("{finding:?}"),
                _ => {}
            }
        }
        assert_eq!(
            report.summary.problems_total(),
            report
                .findings
                .iter()
                .filter(|f| matches!(f, Finding::Problem { .. }))
                .count() as u64
        );
    }
    stop.store(true, Ordering::Relaxed);
    assert!(churner.join().unwrap() > 0);
    eprintln!("{ROUNDS} scans: {vanished} files or directories vanished mid-walk");
}

#[test]
fn a_missing_root_is_a_vanished_problem() {
    let report = scan(
        &[PathBuf::from("/nonexistent/mayexec-scan")],
        &ScanOptions::new(Checker::full()),
        &Progress::default(),
    );
    assert_eq!(report.findings.len(), 1);
    assert!(matches!(
        report.findings[0],
        Finding::Problem {
            kind: ProblemKind::Vanished,
            ..
        }
    ));
    assert_eq!(report.summary.files, 0);
}
