//! Every way a module reaches CPython's import system meets the check
//! before any of the module's code exists, let alone runs:
//!
//! - a denied module is neither compiled nor run, whatever imports it:
//!   `import` of a source, of a cached `.pyc`, of a sourceless `.pyc`, a
//!   zip import, `-m`, `runpy.run_module`, `runpy.run_path`,
//!   `importlib.import_module`, `importlib.util`'s `exec_module`, and `imp`
//!   where there is one; and no cache is written for it;
//! - a check that fails (an unexpected error from `execveat`) refuses;
//! - threads importing at once, and a child of `fork()`, get each file's
//!   own verdict.
//!
//! On both backends.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use mayexec_testkit::interp::Backend;
use mayexec_testkit::{on_both_backends, root_test, workspace_bin};

/// mayexec-python under `enforced` with `backend`, `PYTHONHOME` on the
/// executable standard library, in `cwd`.
fn python(
    home: &ExecutableHome,
    enforced: Enforced,
    backend: Backend,
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &OsStr)],
) -> Output {
    let sandbox = enforced.sandbox();
    let in_sandbox = |program: &OsStr| sandbox.command(program);
    let launch = backend.launcher(&in_sandbox);
    let mut cmd = enforced.command_with(mayexec_python().as_os_str(), &launch);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("PYTHONHOME", home.path())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("run mayexec-python")
}

/// A driver that imports the denied module one way and reports: whether
/// the import was refused (and which file), and whether the audit hook
/// saw the denied file's source compiled or its code executed.
fn driver(denied_dir: &Path, action: &str) -> String {
    format!(
        r#"import sys
DENIED = {dir:?}
seen = set()
def hook(event, args):
    if event == "compile" and len(args) > 1 and str(args[1]).startswith(DENIED):
        seen.add("compiled")
    if event == "exec" and str(getattr(args[0], "co_filename", "")).startswith(DENIED):
        seen.add("executed")
sys.addaudithook(hook)
sys.path.insert(0, DENIED)
try:
{action}
    print("imported")
except PermissionError as error:
    print("refused", error.filename)
except ImportError as error:
    print("not found", error.name)
print("seen", sorted(seen))
"#,
        dir = denied_dir.to_str().unwrap(),
        action = action
            .lines()
            .map(|line| format!("    {line}\n"))
            .collect::<String>()
    )
}

fn make_zip(zip: &Path, name: &str, contents: &str) {
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    z.writestr(sys.argv[2], sys.argv[3])\n";
    let out = Command::new(reference_python())
        .args(["-c", script])
        .arg(zip)
        .args([name, contents])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::set_permissions(zip, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// One way of loading the denied module.
struct Way {
    name: &'static str,
    /// Arguments to mayexec-python (the driver's code goes where `{}` is).
    action: String,
    /// `-m` rather than a driver.
    dash_m: bool,
    /// The file named by the refusal (the import system may turn it into
    /// "not found": zip imports).
    refused: Option<PathBuf>,
    env: Vec<(&'static str, PathBuf)>,
}

on_both_backends! {
    fn a_denied_module_is_never_compiled_or_run(backend) {
        let home = ExecutableHome::new();
        let places = Places::new();
        let dir = places.dir(Place::Noexec, "denied");
        let allowed = places.dir(Place::Exec755, "allowed");
        let marker = allowed.join("denied.marker");
        let code = marking(&marker);
        let source = write(&dir.join("m.py"), &code, 0o755);

        // A cache of the denied source, executable, on an exec mount
        // (PYTHONPYCACHEPREFIX): read before the source's verdict is in.
        let prefix = places.dir(Place::Exec755, "prefix");
        let cached_dir = places.dir(Place::Noexec, "cached");
        let cached_source = write(&cached_dir.join("c.py"), &code, 0o755);
        let cache = prefix
            .join(cached_dir.strip_prefix("/").unwrap())
            .join(format!("c.{}.pyc", cache_tag()));
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        compile_pyc(&cached_source, &cache);

        // A sourceless .pyc, and a zip.
        let sourceless_dir = places.dir(Place::Noexec, "sourceless");
        let sourceless = sourceless_dir.join("s.pyc");
        compile_pyc(&source, &sourceless);
        let zip = dir.join("lib.zip");
        make_zip(&zip, "zipped.py", &code);

        let imp = PYTHON_VERSION == "3.11";
        let mut ways = vec![
            Way { name: "import of a source", action: "import m".into(), dash_m: false, refused: Some(source.clone()), env: vec![] },
            Way { name: "importlib.import_module", action: "import importlib; importlib.import_module('m')".into(),
                    dash_m: false, refused: Some(source.clone()), env: vec![] },
            Way { name: "importlib.util exec_module", action: format!(
                        "import importlib.util\nspec = importlib.util.spec_from_file_location('m', {:?})\nmodule = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)",
                        source.to_str().unwrap()),
                    dash_m: false, refused: Some(source.clone()), env: vec![] },
            Way { name: "runpy.run_module", action: "import runpy; runpy.run_module('m')".into(),
                    dash_m: false, refused: Some(source.clone()), env: vec![] },
            Way { name: "runpy.run_path", action: format!("import runpy; runpy.run_path({:?})", source.to_str().unwrap()),
                    dash_m: false, refused: Some(source.clone()), env: vec![] },
            Way { name: "import of a cached .pyc", action: format!("sys.path.insert(0, {:?})\nimport c", cached_dir.to_str().unwrap()),
                    dash_m: false, refused: Some(cached_source.clone()),
                    env: vec![("PYTHONPYCACHEPREFIX", prefix.clone())] },
            Way { name: "import of a sourceless .pyc", action: format!("sys.path.insert(0, {:?})\nimport s", sourceless_dir.to_str().unwrap()),
                    dash_m: false, refused: Some(sourceless.clone()), env: vec![] },
            Way { name: "zip import", action: format!("sys.path.insert(0, {:?})\nimport zipped", zip.to_str().unwrap()),
                    dash_m: false, refused: None, env: vec![] },
            Way { name: "-m", action: "m".into(), dash_m: true,
                    refused: Some(source.clone()), env: vec![("PYTHONPATH", dir.clone())] },
        ];
        if imp {
            ways.push(Way { name: "imp.load_source", action: format!(
                    "import warnings; warnings.simplefilter('ignore')\nimport imp; imp.load_source('m', {:?})", source.to_str().unwrap()),
                dash_m: false, refused: Some(source.clone()), env: vec![] });
        }

        for way in &ways {
            let env: Vec<(&str, &OsStr)> = way.env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
            let script = driver(&dir, &way.action);
            let args: Vec<&str> = if way.dash_m {
                vec!["-m", &way.action]
            } else {
                vec!["-c", &script]
            };
            // Control: without enforcement the module runs.
            let out = python(&home, Enforced::Nothing, backend, &allowed, &args, &env);
            assert!(out.status.success(), "{}: {}", way.name, describe(&out));
            assert!(marker.exists(), "{}: runs without enforcement\n{}", way.name, describe(&out));
            std::fs::remove_file(&marker).unwrap();
            // Caches written by that run would only make the next one
            // read them: the denial must hold either way, but start clean.
            for d in [&dir, &cached_dir] {
                let _ = std::fs::remove_dir_all(d.join("__pycache__"));
            }

            for enforced in [Enforced::RunF, Enforced::Level(1)] {
                let out = python(&home, enforced, backend, &allowed, &args, &env);
                assert!(!marker.exists(), "{} under {enforced}: the denied module ran\n{}", way.name, describe(&out));
                if way.dash_m {
                    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
                    assert_eq!(
                        stderr(&out),
                        format!("mayexec-python: {}: script execution denied (noexec-mount)\n", source.display()),
                    );
                    continue;
                }
                assert!(out.status.success(), "{} under {enforced}: {}", way.name, describe(&out));
                let refused = match &way.refused {
                    Some(file) => format!("refused {}\n", file.display()),
                    None => "not found zipped\n".to_owned(),
                };
                // Refused before its bytes were compiled, let alone run.
                assert_eq!(stdout(&out), format!("{refused}seen []\n"), "{} under {enforced}: {}", way.name, describe(&out));
                // No cache was written for the denied source.
                assert!(!dir.join("__pycache__").join(format!("m.{}.pyc", cache_tag())).exists(), "{}", way.name);
            }
        }
    }
}

on_both_backends! {
    /// Threads importing at once (allowed and denied modules, sources and
    /// then caches), and a child of `os.fork()` importing after its parent
    /// had checks in flight: every module gets its own file's verdict.
    fn threads_and_forks_importing_at_once_get_each_files_verdict(backend) {
        let home = ExecutableHome::new();
        let places = Places::new();
        let good = places.dir(Place::Exec755, "good");
        let bad = places.dir(Place::Noexec, "bad");
        let markers = places.dir(Place::Exec755, "markers");
        for i in 0..48 {
            write(&good.join(format!("good{i}.py")), &format!("VALUE = {i}\n"), 0o755);
        }
        for i in 0..12 {
            write(&bad.join(format!("bad{i}.py")), &marking(&markers.join(format!("bad{i}"))), 0o755);
        }
        let script = format!(
            r#"import os, sys, threading
sys.path[:0] = [{good:?}, {bad:?}]
errors = []
def load(names):
    for name in names:
        try:
            module = __import__(name)
        except PermissionError as error:
            if not name.startswith("bad") or error.filename != os.path.join({bad:?}, name + ".py"):
                errors.append((name, repr(error)))
        else:
            if not name.startswith("good") or module.VALUE != int(name[4:]):
                errors.append((name, "imported"))
names = [f"good{{i}}" for i in range(40)] + [f"bad{{i}}" for i in range(8)]
threads = [threading.Thread(target=load, args=(names[k::8][::(-1) ** k],)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
pid = os.fork()
if pid == 0:
    load([f"good{{i}}" for i in range(40, 48)] + [f"bad{{i}}" for i in range(8, 12)])
    os._exit(1 if errors else 0)
_, status = os.waitpid(pid, 0)
print("errors", errors, "child", os.waitstatus_to_exitcode(status))
"#,
            good = good.to_str().unwrap(),
            bad = bad.to_str().unwrap()
        );
        // Twice: sources compiled (caches written), then caches read.
        for run in 0..2 {
            for enforced in [Enforced::RunF, Enforced::Level(1)] {
                let out = python(&home, enforced, backend, &markers, &["-c", &script], &[]);
                assert!(out.status.success(), "run {run} {enforced}: {}", describe(&out));
                assert_eq!(stdout(&out), "errors [] child 0\n", "run {run} {enforced}: {}", describe(&out));
                let ran: Vec<_> = std::fs::read_dir(&markers).unwrap().collect();
                assert!(ran.is_empty(), "run {run} {enforced}: denied modules ran: {ran:?}");
            }
        }
        assert!(good.join("__pycache__").join(format!("good0.{}.pyc", cache_tag())).exists());
    }
}

/// A check that fails with an unexpected error (`EIO` from `execveat`,
/// under a seccomp filter that leaves the backend probe intact) refuses:
/// the first module read through `get_code`, the standard library's
/// `encodings`, is refused and the interpreter does not start. Without a
/// policy, nothing is checked and the same filter changes nothing.
#[root_test]
fn a_check_that_fails_refuses() {
    let home = ExecutableHome::new();
    let places = Places::new();
    let allowed = places.dir(Place::Exec755, "allowed");
    let marker = allowed.join("m.marker");
    write(&allowed.join("m.py"), &marking(&marker), 0o755);
    let failing = workspace_bin("failing-execve-check");
    let run = |enforced: Enforced| {
        let sandbox = enforced.sandbox();
        let make = |program: &OsStr| {
            let mut cmd = sandbox.command(&failing);
            cmd.arg(program);
            cmd
        };
        let mut cmd = enforced.command_with(mayexec_python().as_os_str(), &make);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("PYTHONHOME", home.path())
            .current_dir(&allowed)
            .stdin(Stdio::null())
            .args(["-c", "import m"]);
        (cmd.output().unwrap(), sandbox.syslog_lines())
    };

    let (out, _) = run(Enforced::Nothing);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();

    let (out, lines) = run(Enforced::RunF);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!marker.exists(), "{}", describe(&out));
    let encodings = home
        .path()
        .join(stdlib_subdir())
        .join("encodings/__init__.py");
    assert!(
        stderr(&out).contains(&format!(
            "{}: script execution denied (kernel-error)",
            encodings.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(
        lines.iter().any(|l| l.contains(" reason=kernel-error ")),
        "{lines:?}"
    );
}
