//! A cached module costs one kernel check, its `.pyc`'s, where its source
//! provably gets the same verdict, and revoking the source after its cache
//! was written still refuses the module, under every import path (issue
//! #25; `docs/semantics.md`, "A cached module's source"):
//!
//! - the kernel checks of an import, counted with `strace`: one per
//!   cached module under a level-3 policy file, two (source and cache)
//!   under `mayexec run -f`, which sets no_new_privs;
//! - the source made `chmod -x`, a 0644 source renamed over it, the module
//!   moved to a `noexec` mount or reached through a `noexec` bind mount
//!   (its `__pycache__` still on an exec mount, so that only the source's
//!   check can refuse it), a Landlock domain that lets the caches execute
//!   and not the sources: refused, the module's code never runs;
//! - a Landlock domain that lets the sources execute and not the caches:
//!   the cache's code never runs (the source is compiled instead).

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use mayexec_testkit::{root_test, TempDir};

/// The import paths a cached module is read through: a driver's action
/// (`sys.path` starts with the module's directory), or `-m`.
const WAYS: [(&str, &str); 5] = [
    ("import", "import m"),
    ("package __init__", "import pkg"),
    (
        "importlib.import_module",
        "import importlib; importlib.import_module('m')",
    ),
    ("runpy.run_module", "import runpy; runpy.run_module('m')"),
    ("-m", "m"),
];

/// What a way's run did.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    /// The module ran (its `print` came out, the import returned).
    Ran,
    /// The import was refused: the file named, and the reason.
    Refused(PathBuf, String),
}

/// A module `m` and a package `pkg` (each writes its marker when it runs)
/// in a directory of an exec tmpfs, mode 0755; the standard library's
/// executable copy; and the mounts of the revocations.
struct Tree {
    places: Places,
    home: ExecutableHome,
    dir: PathBuf,
    markers: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let places = Places::new();
        let dir = places.dir(Place::Exec755, "modules");
        let markers = places.dir(Place::Exec755, "markers");
        write(&dir.join("m.py"), &marking(&markers.join("m")), 0o755);
        fs::create_dir(dir.join("pkg")).unwrap();
        write(
            &dir.join("pkg/__init__.py"),
            &marking(&markers.join("pkg")),
            0o755,
        );
        Tree {
            places,
            home: ExecutableHome::new(),
            dir,
            markers,
        }
    }

    /// The two sources.
    fn sources(&self) -> [PathBuf; 2] {
        [self.dir.join("m.py"), self.dir.join("pkg/__init__.py")]
    }

    /// The cache of `source` beside it.
    fn cache_of(source: &Path) -> PathBuf {
        let stem = source.file_stem().unwrap().to_str().unwrap();
        source
            .parent()
            .unwrap()
            .join("__pycache__")
            .join(format!("{stem}.{}.pyc", cache_tag()))
    }

    /// Imports both under a level-3 policy, which writes their caches
    /// (with their sources' execute bits), and checks that they are there.
    fn write_caches(&self) {
        let out = self.run(Enforced::Level(3), &self.dir, "import m, pkg");
        assert_eq!(
            stdout(&out),
            "ran m\nran pkg\nimported\n",
            "{}",
            describe(&out)
        );
        for source in self.sources() {
            let mode = fs::metadata(Tree::cache_of(&source))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755, "{}", source.display());
        }
        self.clear_markers();
    }

    fn clear_markers(&self) {
        for name in ["m", "pkg"] {
            let _ = fs::remove_file(self.markers.join(name));
        }
    }

    /// Did any module's code run?
    fn ran(&self) -> bool {
        ["m", "pkg"]
            .iter()
            .any(|name| self.markers.join(name).exists())
    }

    /// The driver of `action`, with `dir` first on `sys.path`: prints
    /// `imported`, or `refused FILE STRERROR`.
    fn driver(dir: &Path, action: &str) -> String {
        format!(
            "import sys\nsys.path.insert(0, {:?})\ntry:\n    {action}\n    print('imported')\n\
             except PermissionError as error:\n    print('refused', error.filename, error.strerror)\n",
            dir.to_str().unwrap()
        )
    }

    /// mayexec-python's arguments and environment for `way` (an action of
    /// [`WAYS`]) importing from `dir`.
    fn prepare(&self, cmd: &mut Command, dir: &Path, way: &str) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("PYTHONHOME", self.home.path())
            .current_dir(&self.markers)
            .stdin(Stdio::null());
        if way == "m" {
            cmd.env("PYTHONPATH", dir).args(["-m", "m"]);
        } else {
            cmd.arg("-c").arg(Tree::driver(dir, way));
        }
    }

    /// Runs `way` under `enforced`.
    fn run(&self, enforced: Enforced, dir: &Path, way: &str) -> Output {
        let sandbox = enforced.sandbox();
        let mut cmd = python_command(enforced, &sandbox);
        self.prepare(&mut cmd, dir, way);
        cmd.output().expect("run mayexec-python")
    }

    /// Runs `way` under a level-3 policy file, in a Landlock domain that
    /// grants execute beneath `allowed` only (and the programs and the
    /// standard library), with no_new_privs; and `env`.
    fn run_landlocked(
        &self,
        allowed: &[PathBuf],
        dir: &Path,
        way: &str,
        env: &[(&str, &str)],
    ) -> Output {
        let sandbox = Enforced::Level(3).sandbox();
        let mut cmd = sandbox.command(reference_python());
        cmd.arg("-c").arg(LANDLOCK).args(["/usr"]);
        cmd.arg(mayexec_python().parent().unwrap())
            .arg(self.home.path())
            .args(allowed)
            .arg("--")
            .arg(mayexec_python());
        self.prepare(&mut cmd, dir, way);
        cmd.envs(env.iter().copied())
            .output()
            .expect("run mayexec-python in a Landlock domain")
    }
}

/// What a run of `way` did, or a panic naming `what` if it did neither.
fn got(what: &str, way: &str, out: &Output) -> Got {
    if way == "m" {
        if out.status.success() {
            assert_eq!(stdout(out), "ran __main__\n", "{what}: {}", describe(out));
            return Got::Ran;
        }
        assert_eq!(out.status.code(), Some(126), "{what}: {}", describe(out));
        let err = stderr(out);
        let refusal = err
            .strip_prefix("mayexec-python: ")
            .and_then(|rest| rest.strip_suffix(")\n"))
            .and_then(|rest| rest.split_once(": script execution denied ("));
        let Some((file, reason)) = refusal else {
            panic!("{what}: {}", describe(out));
        };
        return Got::Refused(file.into(), reason.to_owned());
    }
    assert!(out.status.success(), "{what}: {}", describe(out));
    let text = stdout(out);
    if text.ends_with("imported\n") && text.starts_with("ran ") {
        return Got::Ran;
    }
    let refusal = text
        .strip_prefix("refused ")
        .and_then(|rest| rest.strip_suffix(")\n"))
        .and_then(|rest| rest.split_once(" script execution denied ("));
    match refusal {
        Some((file, reason)) => Got::Refused(file.into(), reason.to_owned()),
        None => panic!("{what}: {}", describe(out)),
    }
}

/// The source `way` imports from `dir`.
fn source_of(dir: &Path, way: &str) -> PathBuf {
    if way == "import pkg" {
        dir.join("pkg/__init__.py")
    } else {
        dir.join("m.py")
    }
}

/// A reference python3 program that makes a Landlock domain handling the
/// execute right, granted beneath each path before `--` (a directory or a
/// file), sets no_new_privs (as an unprivileged process must) and
/// executes what follows `--`.
const LANDLOCK: &str = r#"
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    number = {"create": 444, "add": 445, "restrict": 446}[name]
    result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result < 0:
        raise OSError(ctypes.get_errno(), "landlock_" + name)
    return result
split = sys.argv.index("--")
attr = ctypes.c_uint64(1)  # handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE
ruleset = call("create", ctypes.byref(attr), 8, 0)
for path in sys.argv[1:split]:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    rule = ctypes.create_string_buffer(struct.pack("=Qi", 1, fd), 12)
    call("add", ruleset, 1, rule, 0)  # LANDLOCK_RULE_PATH_BENEATH
    os.close(fd)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    raise OSError(ctypes.get_errno(), "prctl")
call("restrict", ruleset, 0)
os.execv(sys.argv[split + 1], sys.argv[split + 1:])
"#;

/// The paths of the files `strace -y` shows checked (`execveat(FD<PATH>,
/// "", …, AT_EMPTY_PATH|AT_EXECVE_CHECK)`), in order.
fn checked_files(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| {
            l.contains("execveat(") && (l.contains("AT_EXECVE_CHECK") || l.contains("0x10000"))
        })
        .filter_map(|l| {
            let start = l.find("execveat(")? + "execveat(".len();
            let rest = &l[start..];
            let open = rest.find('<')?;
            let close = rest.find(">, \"\"")?;
            Some(rest[open + 1..close].to_owned())
        })
        .collect()
}

/// The files the kernel checked while `way` imported from `dir` under
/// `enforced`, with `wrap` (a program and its arguments) run before
/// mayexec-python and `env` set; the module must run.
fn kernel_checks(
    tree: &Tree,
    enforced: Enforced,
    dir: &Path,
    way: &str,
    wrap: &[&str],
    env: &[(&str, &Path)],
) -> Vec<String> {
    let logs = TempDir::new();
    let log = logs.path().join("trace");
    let sandbox = enforced.sandbox();
    let strace = |program: &OsStr| {
        let mut cmd = sandbox.command("strace");
        cmd.args(["-f", "-qq", "-y", "-e", "trace=execveat", "-o"])
            .arg(&log)
            .arg("--")
            .args(wrap)
            .arg(program);
        cmd
    };
    let mut cmd = enforced.command_with(mayexec_python().as_os_str(), &strace);
    tree.prepare(&mut cmd, dir, way);
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert_eq!(got(way, way, &out), Got::Ran, "{way} under {enforced}");
    tree.clear_markers();
    checked_files(&fs::read_to_string(&log).unwrap())
}

/// How many times each of `files` was checked.
fn counts<const N: usize>(checked: &[String], files: [&Path; N]) -> [usize; N] {
    files.map(|file| checked.iter().filter(|c| Path::new(c) == file).count())
}

/// The kernel checks of an import of a cached module, counted: under a
/// level-3 policy file (no no_new_privs) one, the `.pyc`'s; under `mayexec
/// run -f` two, the source's and the `.pyc`'s. And, under the policy file,
/// no file of the whole run (the standard library's included) is checked
/// twice, nor the source of a cache that was checked.
#[root_test]
fn a_cached_module_costs_one_kernel_check_under_a_policy_file() {
    let tree = Tree::new();
    tree.write_caches();
    for (name, way) in WAYS {
        let source = source_of(&tree.dir, way);
        let cache = Tree::cache_of(&source);
        for (enforced, sources) in [(Enforced::Level(3), 0), (Enforced::RunF, 1)] {
            let checked = kernel_checks(&tree, enforced, &tree.dir, way, &[], &[]);
            assert_eq!(
                counts(&checked, [&source, &cache]),
                [sources, 1],
                "{name} under {enforced}: checks of the source and of its cache\n{checked:#?}"
            );
            if enforced != Enforced::Level(3) {
                continue;
            }
            for (i, file) in checked.iter().enumerate() {
                assert!(
                    !checked[..i].contains(file),
                    "{name}: {file} checked twice\n{checked:#?}"
                );
                let Some((dir, pyc)) = file.split_once("/__pycache__/") else {
                    continue;
                };
                let module = pyc.split('.').next().unwrap();
                let source = format!("{dir}/{module}.py");
                assert!(
                    !checked.contains(&source),
                    "{name}: {source} checked with its cache\n{checked:#?}"
                );
            }
        }
    }
}

/// Under a level-3 policy file, whatever could make a source's verdict
/// differ from its cache's gives the source its kernel check back: the
/// process has no_new_privs (it may be in a Landlock domain); the cache is
/// not in a `__pycache__` beside its source (`PYTHONPYCACHEPREFIX`), or
/// that `__pycache__` is a symlink, or another mount (a bind mount: the
/// same `st_dev`); the source's inode changed after the cache was written
/// (a chmod that keeps its mode).
#[root_test]
fn every_doubt_gives_the_source_its_kernel_check() {
    let tree = Tree::new();
    tree.write_caches();
    let source = tree.dir.join("m.py");
    let cache = Tree::cache_of(&source);
    let pycache = cache.parent().unwrap().to_owned();
    let level3 = |wrap: &[&str], env: &[(&str, &Path)]| {
        let checked = kernel_checks(&tree, Enforced::Level(3), &tree.dir, "import m", wrap, env);
        counts(&checked, [&source])[0]
    };
    assert_eq!(level3(&[], &[]), 0, "nothing in doubt");

    assert_eq!(
        level3(&["setpriv", "--no-new-privs"], &[]),
        1,
        "no_new_privs"
    );

    let prefix = tree.places.dir(Place::Exec755, "prefix");
    let env = [("PYTHONPYCACHEPREFIX", prefix.as_path())];
    level3(&[], &env); // writes the cache there
    let elsewhere = prefix
        .join(tree.dir.strip_prefix("/").unwrap())
        .join(cache.file_name().unwrap());
    assert!(elsewhere.exists(), "{}", elsewhere.display());
    assert_eq!(level3(&[], &env), 1, "PYTHONPYCACHEPREFIX");

    let real = tree.dir.join("real-pycache");
    fs::rename(&pycache, &real).unwrap();
    std::os::unix::fs::symlink("real-pycache", &pycache).unwrap();
    assert_eq!(level3(&[], &[]), 1, "__pycache__ a symlink");
    fs::remove_file(&pycache).unwrap();
    fs::rename(&real, &pycache).unwrap();
    assert_eq!(level3(&[], &[]), 0, "__pycache__ back");

    let bind = Bound::new(&pycache, &pycache);
    assert_eq!(level3(&[], &[]), 1, "__pycache__ a bind mount");
    drop(bind);

    fs::set_permissions(&source, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(level3(&[], &[]), 1, "the source's ctime");
}

/// Runs every way from `dir` under a level-3 policy file (with `run`,
/// in a Landlock domain) and asserts that each is refused for its source
/// in `dir` with `reason`, and that no module code ran.
fn assert_every_way_refused(
    tree: &Tree,
    what: &str,
    dir: &Path,
    reason: &str,
    run: &dyn Fn(&Path, &str) -> Output,
) {
    for (name, way) in WAYS {
        let out = run(dir, way);
        assert_eq!(
            got(what, way, &out),
            Got::Refused(source_of(dir, way), reason.to_owned()),
            "{what}, {name}: {}",
            describe(&out)
        );
        assert!(
            !tree.ran(),
            "{what}, {name}: the module ran\n{}",
            describe(&out)
        );
    }
}

/// Every way runs the cached modules from `dir` under a level-3 policy
/// file: the revocations below start from there.
fn assert_every_way_runs(tree: &Tree, dir: &Path) {
    for (name, way) in WAYS {
        let out = tree.run(Enforced::Level(3), dir, way);
        assert_eq!(
            got(name, way, &out),
            Got::Ran,
            "before the revocation, {name}"
        );
        assert!(tree.ran(), "{name}: {}", describe(&out));
        tree.clear_markers();
    }
}

fn level3(tree: &Tree) -> impl Fn(&Path, &str) -> Output + '_ {
    |dir, way| tree.run(Enforced::Level(3), dir, way)
}

/// `chmod -x` of a source whose cache keeps its execute bits.
#[root_test]
fn a_source_made_not_executable_after_its_cache_is_refused() {
    let tree = Tree::new();
    tree.write_caches();
    assert_every_way_runs(&tree, &tree.dir);
    for source in tree.sources() {
        fs::set_permissions(&source, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let run = level3(&tree);
    assert_every_way_refused(&tree, "chmod -x", &tree.dir, "not-executable", &run);
}

/// A 0644 copy of the source (the same size and mtime: the cache stays
/// valid for it) renamed over the source.
#[root_test]
fn a_source_replaced_by_a_non_executable_one_after_its_cache_is_refused() {
    let tree = Tree::new();
    tree.write_caches();
    assert_every_way_runs(&tree, &tree.dir);
    for source in tree.sources() {
        let copy = source.with_extension("new");
        fs::copy(&source, &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o644)).unwrap();
        copy_mtime(&source, &copy);
        fs::rename(&copy, &source).unwrap();
    }
    let run = level3(&tree);
    assert_every_way_refused(&tree, "renamed over", &tree.dir, "not-executable", &run);
}

/// Gives `to` the modification time of `from` (a cache records its
/// source's).
fn copy_mtime(from: &Path, to: &Path) {
    let mtime = fs::metadata(from).unwrap().modified().unwrap();
    fs::File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_modified(mtime))
        .unwrap();
}

/// A bind mount, undone on drop.
struct Bound(PathBuf);

impl Bound {
    fn new(source: &Path, target: &Path) -> Bound {
        rustix::mount::mount_bind(source, target)
            .unwrap_or_else(|e| panic!("bind {} on {}: {e}", source.display(), target.display()));
        Bound(target.to_owned())
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

/// The module moved to a `noexec` tmpfs (sources copied with their mtimes),
/// its `__pycache__` directories bind mounts of the old ones, on the exec
/// mount: the caches pass their own check, the sources do not.
#[root_test]
fn a_module_moved_to_a_noexec_mount_is_refused() {
    let tree = Tree::new();
    tree.write_caches();
    let moved = tree.places.dir(Place::Noexec, "moved");
    fs::create_dir(moved.join("pkg")).unwrap();
    let mut binds = Vec::new();
    for source in tree.sources() {
        let to = moved.join(source.strip_prefix(&tree.dir).unwrap());
        fs::copy(&source, &to).unwrap();
        copy_mtime(&source, &to);
        let cache_dir = Tree::cache_of(&source).parent().unwrap().to_owned();
        let moved_cache_dir = Tree::cache_of(&to).parent().unwrap().to_owned();
        fs::create_dir(&moved_cache_dir).unwrap();
        binds.push(Bound::new(&cache_dir, &moved_cache_dir));
    }
    let run = level3(&tree);
    assert_every_way_refused(&tree, "moved to noexec", &moved, "noexec-mount", &run);
    drop(binds);
}

/// The module's directory reached through a `noexec` bind mount of it
/// (the same file system, the same `st_dev`), its `__pycache__`
/// directories through exec bind mounts of their own.
#[root_test]
fn a_module_reached_through_a_noexec_bind_mount_is_refused() {
    use rustix::mount::{mount_remount, MountFlags};
    let tree = Tree::new();
    tree.write_caches();
    let view = TempDir::new();
    let mut binds = vec![Bound::new(&tree.dir, view.path())];
    mount_remount(
        view.path(),
        MountFlags::BIND | MountFlags::NOEXEC | MountFlags::NOSUID,
        "",
    )
    .expect("remount the bind mount noexec");
    for source in tree.sources() {
        let cache_dir = Tree::cache_of(&source).parent().unwrap().to_owned();
        let seen = view.path().join(cache_dir.strip_prefix(&tree.dir).unwrap());
        binds.push(Bound::new(&cache_dir, &seen));
    }
    let dev = |p: &Path| std::os::unix::fs::MetadataExt::dev(&fs::metadata(p).unwrap());
    assert_eq!(dev(&view.path().join("m.py")), dev(&tree.dir.join("m.py")));
    let run = level3(&tree);
    assert_every_way_refused(
        &tree,
        "noexec bind mount",
        view.path(),
        "noexec-mount",
        &run,
    );
    drop(binds);
}

/// A Landlock domain that grants execute beneath the `__pycache__`
/// directories and not the sources: the modules are refused.
#[root_test]
fn a_landlock_domain_that_denies_the_source_refuses_the_module() {
    let tree = Tree::new();
    tree.write_caches();
    let caches: Vec<PathBuf> = tree
        .sources()
        .iter()
        .map(|s| Tree::cache_of(s).parent().unwrap().to_owned())
        .collect();
    let run = |dir: &Path, way: &str| tree.run_landlocked(&caches, dir, way, &[]);
    assert_every_way_refused(
        &tree,
        "Landlock, caches only",
        &tree.dir,
        "kernel-policy",
        &run,
    );
}

/// A Landlock domain that grants execute to the sources and not to their
/// caches: the caches' code never runs; each module is compiled from its
/// source. The caches hold other code than the sources (compiled from a
/// text of the same size and mtime, and written after the sources, so that
/// nothing else tells them apart).
#[root_test]
fn a_landlock_domain_that_denies_the_cache_never_runs_its_code() {
    let tree = Tree::new();
    let scratch = TempDir::new();
    for (i, source) in tree.sources().iter().enumerate() {
        write(source, "print('from the source')\n", 0o755);
        let other = write(
            &scratch.path().join(format!("{i}.py")),
            "print('from the cache!')\n",
            0o755,
        );
        copy_mtime(source, &other);
        let cache = Tree::cache_of(source);
        fs::create_dir_all(cache.parent().unwrap()).unwrap();
        compile_pyc(&other, &cache);
    }
    // The caches are used where nothing refuses them.
    let out = tree.run(Enforced::Level(3), &tree.dir, "import m, pkg");
    assert_eq!(
        stdout(&out),
        "from the cache!\nfrom the cache!\nimported\n",
        "{}",
        describe(&out)
    );
    let sources = tree.sources().to_vec();
    for (name, way) in WAYS {
        // (Writing no new cache: each way meets the other code's.)
        let out = tree.run_landlocked(
            &sources,
            &tree.dir,
            way,
            &[("PYTHONDONTWRITEBYTECODE", "1")],
        );
        let want = if way == "m" {
            "from the source\n"
        } else {
            "from the source\nimported\n"
        };
        assert!(out.status.success(), "{name}: {}", describe(&out));
        assert_eq!(stdout(&out), want, "{name}: {}", describe(&out));
    }
}
