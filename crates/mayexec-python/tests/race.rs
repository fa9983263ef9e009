//! The file checked is the file run: while a thread keeps swapping a path
//! between an allowed file and a denied one, the denied file's code never
//! runs under enforcement, as a script, as an imported module or as an
//! extension module the dynamic loader maps.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use mayexec_testkit::root_test;
use rustix::fs::{renameat_with, RenameFlags, CWD};

const RUNS: usize = 120;

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

/// Runs `args` under `mayexec run -f` RUNS times while the swapper runs;
/// returns how many runs were allowed and how many refused.
fn race(
    home: &ExecutableHome,
    cwd: &Path,
    args: &[&Path],
    marker: &Path,
    refused_status: i32,
) -> (usize, usize) {
    let (mut allowed, mut refused) = (0, 0);
    for run in 0..RUNS {
        let out = Command::new(mayexec())
            .args(["run", "-f", "--"])
            .arg(mayexec_python())
            .args(["-B"])
            .args(args)
            .env_clear()
            .env("PYTHONHOME", home.path())
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            !marker.exists(),
            "run {run}: the denied file's code ran\n{}",
            describe(&out)
        );
        match out.status.code() {
            Some(0) => {
                assert_eq!(stdout(&out), "allowed\n", "{}", describe(&out));
                allowed += 1;
            }
            Some(code) if code == refused_status => {
                assert!(
                    stderr(&out).contains("script execution denied (not-executable)"),
                    "{}",
                    describe(&out)
                );
                refused += 1;
            }
            _ => panic!("run {run}: {}", describe(&out)),
        }
    }
    (allowed, refused)
}

/// Runs `args` RUNS times (see [`race`]) while a thread keeps swapping
/// `a` and `b`, and asserts that both files were met at the path: the race
/// was really run. `what` names the runs in the summary.
fn race_while_swapping(
    home: &ExecutableHome,
    dir: &Path,
    (a, b): (&Path, &Path),
    args: &[&Path],
    marker: &Path,
    refused_status: i32,
    what: &str,
) {
    let (stop, swaps) = swapper(a, b);
    let (allowed, refused) = race(home, dir, args, marker, refused_status);
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().unwrap();
    eprintln!("{swaps} swaps: {allowed} {what} allowed, {refused} refused");
    assert!(
        allowed > 0 && refused > 0,
        "{allowed} allowed, {refused} refused"
    );
}

#[root_test]
fn swapping_the_script_path_never_runs_the_denied_file() {
    let mounts = Places::new();
    let home = ExecutableHome::new();
    let dir = mounts.dir(Place::Exec755, "race");
    let marker = dir.join("marker");
    let script = write(&dir.join("script.py"), "print('allowed')\n", 0o755);
    let other = write(&dir.join("other.py"), &marking(&marker), 0o644);

    race_while_swapping(
        &home,
        &dir,
        (&script, &other),
        &[&script],
        &marker,
        126,
        "runs",
    );
}

#[root_test]
fn swapping_a_module_path_never_runs_the_denied_module() {
    let mounts = Places::new();
    let home = ExecutableHome::new();
    let dir = mounts.dir(Place::Exec755, "race");
    let marker = dir.join("marker");
    let module = write(&dir.join("swapped.py"), "print('allowed')\n", 0o755);
    let other = write(&dir.join("other.py"), &marking(&marker), 0o644);
    let driver = write(&dir.join("driver.py"), "import swapped\n", 0o755);

    race_while_swapping(
        &home,
        &dir,
        (&module, &other),
        &[&driver],
        &marker,
        1,
        "imports",
    );
}

/// An extension module is checked on a descriptor and loaded from that
/// descriptor: while its path keeps flipping between an allowed module
/// (0755) and a denied shared object (0644: another extension module,
/// which the loader would map, run the constructors of, and then find
/// without `PyInit__zoneinfo`), the denied object is never what loads.
/// Checked by path and loaded by path again, it was, in most races.
#[root_test]
fn swapping_an_extension_module_path_never_loads_the_denied_object() {
    let mounts = Places::new();
    let home = ExecutableHome::new();
    let dir = mounts.dir(Place::Exec755, "race");
    let marker = dir.join("marker");
    let dynload = stdlib_dir().join("lib-dynload");
    let name = format!("_zoneinfo.{}-x86_64-linux-gnu.so", cache_tag());
    let module = dir.join(&name);
    let other = dir.join("other.so");
    std::fs::copy(dynload.join(&name), &module).unwrap();
    // Any other extension module of the build.
    let another = std::fs::read_dir(&dynload)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            let file = path.file_name().unwrap().to_str().unwrap();
            file.ends_with(".so") && !file.starts_with("_zoneinfo.")
        })
        .expect("another extension module in lib-dynload");
    std::fs::copy(another, &other).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&module, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    // The denied object loaded is the import's error "does not define
    // module export function": the driver then leaves the marker.
    let driver = write(
        &dir.join("driver.py"),
        &format!(
            "import sys\nsys.path.insert(0, {dir:?})\ntry:\n    import _zoneinfo\n\
             except ImportError as e:\n    if 'export function' in str(e):\n        \
             open({marker:?}, 'w').write(str(e))\n    raise\n\
             assert _zoneinfo.__file__ == {module:?}, _zoneinfo.__file__\n\
             assert _zoneinfo.__spec__.origin == {module:?}\nprint('allowed')\n",
            dir = dir.to_str().unwrap(),
            marker = marker.to_str().unwrap(),
            module = module.to_str().unwrap(),
        ),
        0o755,
    );

    race_while_swapping(
        &home,
        &dir,
        (&module, &other),
        &[&driver],
        &marker,
        1,
        "loads",
    );
}
