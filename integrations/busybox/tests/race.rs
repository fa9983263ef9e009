//! The file checked is the file run: while a thread keeps swapping a path
//! between an allowed file and a denied one, the denied file's code never
//! runs under enforcement, as the script or as a file read by `.`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mayexec_busybox::{require_root_and_busybox, Applet, Outcome, Shell};
use mayexec_testkit::interp::{Place, Places};
use mayexec_testkit::{root_test, workspace_bin, write_file};
use rustix::fs::{renameat_with, RenameFlags, CWD};

const RUNS: usize = 150;

/// Swaps `a` and `b` (atomically, `RENAME_EXCHANGE`) until stopped.
fn swapper(a: &Path, b: &Path) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (a, b, flag) = (a.to_owned(), b.to_owned(), stop.clone());
    let handle = std::thread::spawn(move || {
        let mut swaps = 0;
        while !flag.load(Ordering::Relaxed) {
            renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).expect("RENAME_EXCHANGE");
            swaps += 1;
        }
        swaps
    });
    (stop, handle)
}

/// An allowed file (0755, prints "allowed") and a denied one (0644, leaves
/// a marker) in one directory of an exec mount.
struct Pair {
    _places: Places,
    dir: PathBuf,
    allowed: PathBuf,
    denied: PathBuf,
    marker: PathBuf,
}

impl Pair {
    fn new() -> Pair {
        let places = Places::new();
        let dir = places.dir(Place::Exec755, "race");
        let marker = dir.join("marker");
        let allowed = write_file(&dir.join("file.sh"), b"echo allowed\n", 0o755);
        let denied = write_file(
            &dir.join("other.sh"),
            format!("touch {}\necho denied ran\n", marker.display()).as_bytes(),
            0o644,
        );
        Pair {
            _places: places,
            dir,
            allowed,
            denied,
            marker,
        }
    }

    /// Runs `shell ARG` under `mayexec run -f` RUNS times while the path
    /// is swapped; returns how many runs printed "allowed" and how many
    /// were refused (`refused` tells a refusal from anything else).
    fn race(
        &self,
        shell: &Shell,
        arg: &Path,
        refused: &dyn Fn(&Outcome) -> bool,
    ) -> (usize, usize) {
        let (stop, swaps) = swapper(&self.allowed, &self.denied);
        let (mut ran, mut denied) = (0, 0);
        for run in 0..RUNS {
            let got = Outcome::of(
                Command::new(workspace_bin("mayexec"))
                    .args(["run", "-f", "--"])
                    .arg(&shell.busybox)
                    .arg(shell.applet.name())
                    .arg(arg)
                    .current_dir(&self.dir)
                    .stdin(Stdio::null()),
            );
            assert!(
                !self.marker.exists(),
                "run {run}: the denied file's code ran: {got}"
            );
            if got == Outcome::ran("allowed\n") {
                ran += 1;
            } else if refused(&got) {
                denied += 1;
            } else {
                panic!("run {run}: {got}");
            }
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swaps.join().expect("the swapper");
        eprintln!("{shell}: {swaps} swaps: {ran} runs allowed, {denied} refused");
        (ran, denied)
    }
}

#[root_test]
fn swapping_the_script_path_never_runs_the_denied_file() {
    let Some(busybox) =
        require_root_and_busybox("swapping_the_script_path_never_runs_the_denied_file")
    else {
        return;
    };
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let pair = Pair::new();
        let want = Outcome::refused(shell.denial(&pair.allowed, "not-executable"));
        let (ran, denied) = pair.race(&shell, &pair.allowed, &|got| *got == want);
        // Both files were met at the path: the race was really run.
        assert!(ran > 0 && denied > 0, "{ran} allowed, {denied} refused");
    }
}

#[root_test]
fn swapping_a_dot_file_path_never_runs_the_denied_file() {
    let Some(busybox) =
        require_root_and_busybox("swapping_a_dot_file_path_never_runs_the_denied_file")
    else {
        return;
    };
    for applet in Applet::ALL {
        let shell = Shell::new(&busybox, applet);
        let pair = Pair::new();
        let main = write_file(
            &pair.dir.join("main.sh"),
            format!(". {}\n", pair.allowed.display()).as_bytes(),
            0o755,
        );
        let (ran, denied) = pair.race(&shell, &main, &|got| {
            got.exit == mayexec_busybox::Exit::Code(2)
                && got.stdout.is_empty()
                && got.stderr.ends_with(&format!(
                    ": .: line 1: can't open '{}': Permission denied\n",
                    pair.allowed.display()
                ))
        });
        assert!(ran > 0 && denied > 0, "{ran} allowed, {denied} refused");
    }
}
