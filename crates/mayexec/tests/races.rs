//! Races: the path is swapped between an allowed and a denied file while
//! scripts are opened; the verdict always belongs to the file behind the
//! returned descriptor, whichever it was.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mayexec::{open_and_check, BackendChoice, Checker, Level, Reason};
use mayexec_testkit::{root_test, Tmpfs};
use rustix::fs::{fstat, renameat_with, RenameFlags, CWD};

const ROUNDS: usize = 5000;

fn race(check: impl Fn(&std::path::Path) -> mayexec::Script) {
    let mount = Tmpfs::exec();
    let allowed = mount.write("script.sh", "echo allowed\n", 0o755);
    let other = mount.write("other.sh", "echo denied\n", 0o644);
    let allowed_ino = std::fs::metadata(&allowed)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (a, b, stop) = (allowed.clone(), other.clone(), stop.clone());
        mayexec_testkit::spawn_retrying(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE)
                    .expect("renameat2(RENAME_EXCHANGE)");
                swaps += 1;
            }
            swaps
        })
    };
    let (mut saw_allowed, mut saw_denied) = (0, 0);
    for _ in 0..ROUNDS {
        let script = check(&allowed);
        let behind_fd = fstat(&script.file).unwrap().st_ino;
        if behind_fd == allowed_ino {
            assert!(
                script.verdict.is_allowed(),
                "the 0755 file was judged {}",
                script.verdict
            );
            saw_allowed += 1;
        } else {
            assert_eq!(
                script.verdict.reason(),
                Some(Reason::NotExecutable),
                "the 0644 file"
            );
            saw_denied += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    // Both files were met, or the race was not run at all.
    assert!(
        saw_allowed > 0 && saw_denied > 0,
        "allowed {saw_allowed}, denied {saw_denied}"
    );
}

#[root_test]
fn the_verdict_matches_the_file_behind_the_descriptor_with_the_kernel_backend() {
    race(|p| open_and_check(p).expect("open"));
}

#[root_test]
fn the_verdict_matches_the_file_behind_the_descriptor_with_the_emulated_backend() {
    let checker = Checker::new(Level::Full, BackendChoice::Emulated).unwrap();
    race(|p| checker.open_and_check(p).expect("open"));
}
