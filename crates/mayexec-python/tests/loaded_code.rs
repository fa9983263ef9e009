//! Every way CPython loads a file as code goes through the check: `.pth`
//! files, `PYTHONSTARTUP`, sourceless `.pyc`, zip applications and zip
//! imports, directories with a `__main__.py`, extension modules; and no
//! flag or environment variable turns it off.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use mayexec_testkit::root_test;

struct Fixture {
    mounts: Places,
    home: ExecutableHome,
    /// An exec directory (mode 0755) for markers and allowed scripts.
    allowed: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let mounts = Places::new();
        let allowed = mounts.dir(Place::Exec755, "allowed");
        Fixture {
            mounts,
            home: ExecutableHome::new(),
            allowed,
        }
    }

    fn marker(&self, name: &str) -> PathBuf {
        self.allowed.join(format!("{name}.marker"))
    }

    /// mayexec-python under `enforced`, with a clean environment and
    /// `PYTHONHOME` on the executable copy of the standard library.
    fn run(
        &self,
        enforced: Enforced,
        args: &[&str],
        env: &[(&str, &Path)],
    ) -> (Output, Vec<String>) {
        let sandbox = enforced.sandbox();
        let mut cmd = python_command(enforced, &sandbox);
        self.prepare(&mut cmd, env);
        cmd.args(args);
        let out = cmd.output().expect("run mayexec-python");
        (out, sandbox.syslog_lines())
    }

    fn prepare(&self, cmd: &mut Command, env: &[(&str, &Path)]) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("PYTHONHOME", self.home.path())
            .current_dir(&self.allowed)
            .stdin(Stdio::null());
        for (key, value) in env {
            cmd.env(key, value);
        }
    }
}

fn has_denial(lines: &[String], path: &Path, reason: &str) -> bool {
    let path = format!(" path={} ", path.display());
    lines
        .iter()
        .any(|l| l.contains(&path) && l.contains(&format!(" reason={reason} ")))
}

#[root_test]
fn pth_file_on_a_noexec_mount_is_skipped_under_enforcement() {
    let f = Fixture::new();
    // A user base the user controls, as PYTHONUSERBASE lets anyone point
    // to: site.py processes the .pth files of its site-packages.
    let userbase = f.mounts.dir(Place::Noexec, "userbase");
    let site = userbase.join(format!("{}/site-packages", stdlib_subdir()));
    std::fs::create_dir_all(&site).unwrap();
    let marker = f.marker("pth");
    let pth = write(
        &site.join("evil.pth"),
        &format!(
            "import os; open({:?}, 'w').write('ran')\n",
            marker.to_str().unwrap()
        ),
        0o755,
    );
    let env = [("PYTHONUSERBASE", userbase.as_path())];
    let probe = ["-c", "print('main ran')"];

    let (out, _) = f.run(Enforced::Nothing, &probe, &env);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists(), "without enforcement the .pth runs");
    std::fs::remove_file(&marker).unwrap();

    for enforced in [Enforced::RunF, Enforced::Level(1), Enforced::Level(3)] {
        let (out, lines) = f.run(enforced, &probe, &env);
        assert!(out.status.success(), "{enforced:?}: {}", describe(&out));
        assert_eq!(stdout(&out), "main ran\n");
        assert!(!marker.exists(), "{enforced:?}: the .pth must not run");
        assert!(
            has_denial(&lines, &pth, "noexec-mount"),
            "{enforced:?}: {lines:?}"
        );
    }
}

#[root_test]
fn pythonstartup_on_a_noexec_mount_is_refused_and_the_session_goes_on() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "startup");
    let marker = f.marker("startup");
    let startup = write(&dir.join("startup.py"), &marking(&marker), 0o755);
    let env = [("PYTHONSTARTUP", startup.as_path())];
    // -i with stdin at EOF: the startup file, then a prompt that ends at once.
    let (out, _) = f.run(Enforced::Nothing, &["-i"], &env);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists(), "without enforcement PYTHONSTARTUP runs");
    std::fs::remove_file(&marker).unwrap();

    let (out, lines) = f.run(Enforced::RunF, &["-i"], &env);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!marker.exists(), "PYTHONSTARTUP must not run");
    assert!(
        stderr(&out).contains(&format!(
            "mayexec-python: {}: script execution denied (noexec-mount)\n",
            startup.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(has_denial(&lines, &startup, "noexec-mount"), "{lines:?}");
}

/// Compiles `source` to a sourceless `.pyc` at `pyc` with the reference
/// python3.
fn compile_pyc(source: &str, pyc: &Path) {
    let tmp = PathBuf::from(format!("{}.src.py", pyc.display()));
    write(&tmp, source, 0o644);
    let out = Command::new(reference_python())
        .args(["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
        .arg(&tmp)
        .arg(pyc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::remove_file(&tmp).unwrap();
    std::fs::set_permissions(pyc, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[root_test]
fn sourceless_pyc_on_a_noexec_mount_is_refused_as_import_and_as_script() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "pyc");
    let marker = f.marker("pyc");
    let pyc = dir.join("compiled.pyc");
    compile_pyc(&marking(&marker), &pyc);
    // The same bytes under a name without .pyc: found by its magic number.
    let disguised = dir.join("compiled.bin");
    std::fs::copy(&pyc, &disguised).unwrap();
    let driver = write(
        &f.allowed.join("driver.py"),
        &format!(
            "import sys\nsys.path.insert(0, {:?})\nimport compiled\n",
            dir.to_str().unwrap()
        ),
        0o755,
    );
    let driver = driver.to_str().unwrap();

    for (args, what) in [
        (vec![driver], "import"),
        (vec![pyc.to_str().unwrap()], "script"),
        (vec![disguised.to_str().unwrap()], "script"),
    ] {
        let (out, _) = f.run(Enforced::Nothing, &args, &[]);
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        assert!(marker.exists(), "{args:?}: runs without enforcement");
        std::fs::remove_file(&marker).unwrap();

        let (out, lines) = f.run(Enforced::RunF, &args, &[]);
        assert!(!marker.exists(), "{args:?}: must not run");
        let denied = if what == "import" {
            pyc.clone()
        } else {
            PathBuf::from(args[0])
        };
        if what == "import" {
            assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
            assert!(
                stderr(&out).ends_with(&format!(
                    "PermissionError: [Errno 13] script execution denied (noexec-mount): '{}'\n",
                    pyc.display()
                )),
                "{}",
                describe(&out)
            );
        } else {
            assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
            assert_eq!(
                stderr(&out),
                format!(
                    "mayexec-python: {}: script execution denied (noexec-mount)\n",
                    denied.display()
                )
            );
        }
        assert!(has_denial(&lines, &denied, "noexec-mount"), "{lines:?}");
    }
}

/// Builds a zip file at `zip` holding `files`, with the reference python3.
fn make_zip(zip: &Path, files: &[(&str, &str)]) {
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    for i in range(2, len(sys.argv), 2):\n        z.writestr(sys.argv[i], sys.argv[i + 1])\n";
    let mut cmd = Command::new(reference_python());
    cmd.args(["-c", script]).arg(zip);
    for (name, contents) in files {
        cmd.args([name, contents]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::set_permissions(zip, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[root_test]
fn zip_application_and_directory_main_on_a_noexec_mount_are_refused_with_126() {
    let f = Fixture::new();
    for place in [Place::Exec755, Place::Noexec] {
        let dir = f.mounts.dir(place, "apps");
        let marker = f.marker(&format!("app-{place:?}"));
        let app = dir.join("app.pyz");
        make_zip(&app, &[("__main__.py", &marking(&marker))]);
        let tree = dir.join("tree");
        std::fs::create_dir(&tree).unwrap();
        let main = write(&tree.join("__main__.py"), &marking(&marker), 0o755);

        for (target, denied) in [(&app, &app), (&tree, &main)] {
            let (out, lines) = f.run(Enforced::RunF, &[target.to_str().unwrap()], &[]);
            if place == Place::Exec755 {
                assert!(out.status.success(), "{}", describe(&out));
                assert!(marker.exists());
                std::fs::remove_file(&marker).unwrap();
                continue;
            }
            assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
            assert_eq!(
                stderr(&out),
                format!(
                    "mayexec-python: {}: script execution denied (noexec-mount)\n",
                    denied.display()
                )
            );
            assert!(!marker.exists());
            assert!(has_denial(&lines, denied, "noexec-mount"), "{lines:?}");
        }
    }
}

#[root_test]
fn zip_import_from_a_noexec_mount_never_runs_its_code() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "zips");
    let marker = f.marker("zipimport");
    let archive = dir.join("lib.zip");
    make_zip(&archive, &[("zipped.py", &marking(&marker))]);
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import zipped",
        archive.to_str().unwrap()
    );
    let (out, _) = f.run(Enforced::Nothing, &["-c", &code], &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();

    // zipimport turns the refusal to open the archive into "not a zip
    // file", and the import system then finds no module: the code does not
    // run, and the audit log says why.
    let (out, lines) = f.run(Enforced::RunF, &["-c", &code], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("ModuleNotFoundError: No module named 'zipped'"));
    assert!(!marker.exists());
    assert!(has_denial(&lines, &archive, "noexec-mount"), "{lines:?}");
}

#[root_test]
fn extension_modules_are_refused_by_the_check_and_by_the_kernel() {
    let f = Fixture::new();
    // An extension module in lib-dynload with both CPython builds (pyenv's,
    // Debian's: its 3.14 has _json built in), not imported at start-up.
    let so_name = &format!("_zoneinfo.{}-x86_64-linux-gnu.so", cache_tag());
    let original = stdlib_dir().join("lib-dynload").join(so_name);
    for place in [Place::Noexec, Place::Exec644] {
        let dir = f.mounts.dir(place, "ext");
        let copy = dir.join(so_name);
        std::fs::copy(&original, &copy).unwrap();
        std::fs::set_permissions(
            &copy,
            std::os::unix::fs::PermissionsExt::from_mode(place.mode()),
        )
        .unwrap();
        let code = format!(
            "import sys; sys.path.insert(0, {:?}); import _zoneinfo; print(_zoneinfo.__file__)",
            dir.to_str().unwrap()
        );

        let (out, _) = f.run(Enforced::Nothing, &["-c", &code], &[]);
        if place == Place::Noexec {
            // The kernel refuses PROT_EXEC mappings from a noexec mount,
            // whatever the interpreter does.
            assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
            assert!(
                stderr(&out).contains("failed to map segment from shared object"),
                "{}",
                describe(&out)
            );
        } else {
            assert!(out.status.success(), "{}", describe(&out));
            assert_eq!(stdout(&out).trim(), copy.to_str().unwrap());
        }

        let reason = if place == Place::Noexec {
            "noexec-mount"
        } else {
            "not-executable"
        };
        let (out, lines) = f.run(Enforced::RunF, &["-c", &code], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            stderr(&out).ends_with(&format!(
                "PermissionError: [Errno 13] script execution denied ({reason}): '{}'\n",
                copy.display()
            )),
            "{}",
            describe(&out)
        );
        assert!(has_denial(&lines, &copy, reason), "{lines:?}");
    }
}

/// An extension module that finds a library of its own through
/// `$ORIGIN` (as wheels carry theirs in `$ORIGIN/../NAME.libs`), in its
/// `DT_RUNPATH` or its `DT_RPATH`, imports and calls into it under a
/// policy as without one, and so does `ctypes` loading it: loaded from
/// the checked descriptor, its `$ORIGIN` would be `/proc/self/fd`, and
/// the library is loaded first from the module's own directory.
#[root_test]
fn an_extension_module_finds_its_libraries_through_origin_under_a_policy() {
    let f = Fixture::new();
    let include = Command::new(reference_python())
        .args([
            "-S",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'])",
        ])
        .output()
        .expect("run the reference python3");
    let include = String::from_utf8(include.stdout).unwrap();
    let build = f.mounts.dir(Place::Exec755, "origin-build");
    let dependency = write(
        &build.join("dependency.c"),
        "int mayexec_origin_answer(void) { return 42; }\n",
        0o644,
    );
    let module = write(
        &build.join("originmod.c"),
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n\
         extern int mayexec_origin_answer(void);\n\
         static PyObject *answer(PyObject *self, PyObject *args)\n\
         { return PyLong_FromLong(mayexec_origin_answer()); }\n\
         static PyMethodDef methods[] = {{\"answer\", answer, METH_NOARGS, NULL}, {NULL}};\n\
         static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"originmod\", NULL, -1, methods};\n\
         PyMODINIT_FUNC PyInit_originmod(void) { return PyModule_Create(&def); }\n",
        0o644,
    );
    let gcc = |args: &[&std::ffi::OsStr]| {
        let out = Command::new("gcc").args(args).output().expect("run gcc");
        assert!(out.status.success(), "gcc {args:?}: {}", describe(&out));
    };
    for (tag, dtags) in [
        ("runpath", "--enable-new-dtags"),
        ("rpath", "--disable-new-dtags"),
    ] {
        let dir = f.mounts.dir(Place::Exec755, &format!("origin-{tag}"));
        let libs = dir.join("libs");
        std::fs::create_dir(&libs).unwrap();
        let library = libs.join("libmayexecorigin.so");
        gcc(&[
            "-shared".as_ref(),
            "-fPIC".as_ref(),
            "-Wl,-soname,libmayexecorigin.so".as_ref(),
            "-o".as_ref(),
            library.as_os_str(),
            dependency.as_os_str(),
        ]);
        let so = dir.join(format!("originmod.{}-x86_64-linux-gnu.so", cache_tag()));
        gcc(&[
            "-shared".as_ref(),
            "-fPIC".as_ref(),
            format!("-I{}", include.trim()).as_ref(),
            "-o".as_ref(),
            so.as_os_str(),
            module.as_os_str(),
            format!("-L{}", libs.display()).as_ref(),
            "-lmayexecorigin".as_ref(),
            format!("-Wl,{dtags},-rpath,$ORIGIN/libs").as_ref(),
        ]);
        for file in [&library, &so] {
            std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let script = write(
            &f.allowed.join(format!("origin-{tag}.py")),
            &format!(
                "import sys\nsys.path.insert(0, {:?})\nimport originmod\n\
                 print(originmod.answer(), originmod.__file__ == originmod.__spec__.origin == {:?})\n",
                dir.to_str().unwrap(),
                so.to_str().unwrap()
            ),
            0o755,
        );
        // The same object as a library of ctypes: its dependency's
        // function, through its handle.
        let ctypes = write(
            &f.allowed.join(format!("origin-{tag}-ctypes.py")),
            &format!(
                "import ctypes\nprint(ctypes.CDLL({:?}).mayexec_origin_answer(), True)\n",
                so.to_str().unwrap()
            ),
            0o755,
        );
        for script in [&script, &ctypes] {
            for enforced in [Enforced::Nothing, Enforced::RunF, Enforced::RunFI] {
                let (out, _) = f.run(enforced, &[script.to_str().unwrap()], &[]);
                let case = format!("{tag}, {}, {enforced}", script.display());
                assert!(out.status.success(), "{case}: {}", describe(&out));
                assert_eq!(stdout(&out), "42 True\n", "{case}: {}", describe(&out));
            }
        }
    }
}

#[root_test]
fn no_flag_or_environment_variable_turns_the_check_off() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "lib");
    let marker = f.marker("bypass");
    let module = write(&dir.join("sneaky.py"), &marking(&marker), 0o755);
    let script = write(
        &f.allowed.join("main.py"),
        &format!(
            "import sys\nsys.path.insert(0, {:?})\nimport sneaky\n",
            dir.to_str().unwrap()
        ),
        0o755,
    );
    let script = script.to_str().unwrap();
    let pythonpath = [("PYTHONPATH", dir.as_path())];
    // -I and -E ignore PYTHONHOME too: the machine's standard library
    // (mode 0644, on an exec mount) then only passes level 1.
    type Env<'a> = &'a [(&'a str, &'a Path)];
    let cases: [(Enforced, &[&str], Env<'_>); 8] = [
        (Enforced::RunF, &[script], &pythonpath),
        (Enforced::RunF, &["-S", script], &[]),
        (Enforced::RunF, &["-s", script], &[]),
        (Enforced::Level(1), &["-I", script], &[]),
        (Enforced::Level(1), &["-E", script], &[]),
        (
            Enforced::RunF,
            &["-B", "-X", "frozen_modules=off", script],
            &[],
        ),
        (Enforced::RunF, &["-c", "import sneaky"], &pythonpath),
        (Enforced::RunF, &["-m", "sneaky"], &pythonpath),
    ];
    for (enforced, args, env) in cases {
        let (out, lines) = f.run(enforced, args, env);
        assert!(!marker.exists(), "{args:?} {env:?}: {}", describe(&out));
        assert!(
            has_denial(&lines, &module, "noexec-mount"),
            "{args:?}: {lines:?}"
        );
        let expected = if args[0] == "-m" { 126 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{args:?}: {}",
            describe(&out)
        );
    }
}

#[root_test]
fn untrusted_or_malformed_policy_refuses_everything_naming_the_file() {
    let f = Fixture::new();
    let marker = f.marker("policy");
    let script = write(&f.allowed.join("ok.py"), &marking(&marker), 0o755);
    let sandboxes = [
        mayexec_testkit::Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0),
        mayexec_testkit::Sandbox::new().policy_file("interpreted_access = 1\n", 0o644, 65534),
        mayexec_testkit::Sandbox::new().policy("interpreted_access = 'all'\n"),
    ];
    for sandbox in sandboxes {
        for args in [
            vec![script.to_str().unwrap()],
            vec!["-c", "print(1)"],
            vec!["-V"],
        ] {
            let mut cmd = sandbox.command(mayexec_python());
            f.prepare(&mut cmd, &[]);
            let out = cmd.args(&args).output().unwrap();
            assert_eq!(out.status.code(), Some(126), "{args:?}: {}", describe(&out));
            let err = stderr(&out);
            assert!(
                err.starts_with("mayexec-python: /etc/mayexec.conf: ")
                    && err.ends_with(": refusing to run anything\n"),
                "{err}"
            );
            assert!(stdout(&out).is_empty());
            assert!(!marker.exists());
        }
    }
}

#[root_test]
fn audit_mode_logs_and_runs() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "audited");
    let marker = f.marker("audit");
    let script = write(&dir.join("x.py"), &marking(&marker), 0o755);
    let sandbox = mayexec_testkit::Sandbox::new()
        .policy("interpreted_access = 1\nmode = \"audit\"\n")
        .capture_syslog();
    let mut cmd = sandbox.command(mayexec_python());
    f.prepare(&mut cmd, &[]);
    let out = cmd.arg(&script).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists());
    let lines = sandbox.syslog_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!(" path={} ", script.display()))
                && l.contains(" reason=noexec-mount ")
                && l.ends_with(" action=audit")),
        "{lines:?}"
    );
}

/// Runs `mayexec run -i -- mayexec-python ARGS` with a terminal as stdin
/// (util-linux `script` gives it one).
fn on_a_terminal(f: &Fixture, args: &str, env: &[(&str, &Path)]) -> Output {
    let sandbox = Enforced::RunI.sandbox();
    let inner = format!(
        "{} run -i -- {} {args}",
        mayexec().display(),
        mayexec_python().display()
    );
    let mut cmd = sandbox.command("script");
    f.prepare(&mut cmd, env);
    cmd.args(["-qec", &inner, "/dev/null"]);
    cmd.output().unwrap()
}

#[root_test]
fn deny_interactive_refuses_the_prompt_and_dash_i_before_anything_runs() {
    let f = Fixture::new();
    let marker = f.marker("interactive");
    let script = write(&f.allowed.join("ok.py"), &marking(&marker), 0o755);

    // The prompt.
    let out = on_a_terminal(&f, "", &[]);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(
        stdout(&out).contains("mayexec-python: <stdin>: script execution denied (interactive)"),
        "{}",
        describe(&out)
    );

    // -i with an allowed script: refused before the script runs.
    let (out, lines) = f.run(Enforced::RunI, &["-i", script.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert_eq!(
        stderr(&out),
        "mayexec-python: -i: script execution denied (interactive)\n"
    );
    assert!(!marker.exists());
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" path=-i reason=interactive ")),
        "{lines:?}"
    );

    // PYTHONINSPECT on a terminal: the script runs, the prompt after it is
    // refused.
    let out = on_a_terminal(
        &f,
        script.to_str().unwrap(),
        &[("PYTHONINSPECT", Path::new("1"))],
    );
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(marker.exists(), "{}", describe(&out));
    assert!(
        stdout(&out).contains("mayexec-python: <stdin>: script execution denied (interactive)"),
        "{}",
        describe(&out)
    );
}

#[root_test]
fn subinterpreters_check_sourceless_pyc_too() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "subinterp");
    let marker = f.marker("subinterp");
    let pyc = dir.join("compiled.pyc");
    compile_pyc(&marking(&marker), &pyc);
    // Each interpreter has its own import system; the hooks are the
    // runtime's, and the sourceless loader of each is adjusted.
    let import = format!(
        "import sys; sys.path.insert(0, {:?}); import compiled",
        dir.to_str().unwrap()
    );
    // Up to 3.12 `_xxsubinterpreters.run_string` raises the failure; from
    // 3.13 on `_interpreters.run_string` returns it.
    let (code, failure) = if PYTHON_VERSION == "3.11" || PYTHON_VERSION == "3.12" {
        (
            format!(
                "import _xxsubinterpreters as i\nsid = i.create()\ntry:\n    i.run_string(sid, {import:?})\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
            ),
            "RunFailedError <class 'PermissionError'>:",
        )
    } else {
        (
            format!(
                "import _interpreters as i\nsid = i.create()\nprint(i.run_string(sid, {import:?}).formatted)\n"
            ),
            "PermissionError:",
        )
    };
    let (out, lines) = f.run(Enforced::RunF, &["-c", &code], &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "{failure} [Errno 13] script execution denied (noexec-mount): '{}'\n",
            pyc.display()
        )
    );
    assert!(!marker.exists());
    assert!(has_denial(&lines, &pyc, "noexec-mount"), "{lines:?}");
}

/// The acceptance line with the machine's own standard library, installed
/// mode 0644 as everywhere: the full check refuses it too, so Python
/// cannot start; the script's own denial is still what is reported first,
/// with status 126, and the standard library's after it.
#[root_test]
fn under_mayexec_run_f_a_noexec_script_is_refused_even_before_the_stdlib_is_marked() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "unmarked-stdlib");
    let marker = f.marker("unmarked-stdlib");
    let script = write(&dir.join("x.py"), &marking(&marker), 0o755);
    let out = Command::new(mayexec())
        .args(["run", "-f", "--"])
        .arg(mayexec_python())
        .arg(&script)
        .env_remove("PYTHONHOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    let stderr = stderr(&out);
    let denial = format!(
        "mayexec-python: {}: script execution denied (noexec-mount)\n",
        script.display()
    );
    assert!(stderr.contains(&denial), "{stderr}");
    // Where the standard library is not marked, it is named after the script.
    if let Some(at) = stderr.find("Python could not start: ") {
        assert!(stderr.find(&denial).unwrap() < at, "{stderr}");
        assert!(stderr[at..].contains("the standard library must pass the check too"));
    }
    assert!(!marker.exists());
}

/// The issue's acceptance line: `mayexec run -f -- mayexec-python
/// /noexec-mount/x.py` exits 126 with the message, while `python3` (not
/// enlightened) runs it under the very same securebits.
#[root_test]
fn under_mayexec_run_f_python3_runs_a_noexec_script_and_mayexec_python_refuses_it() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "acceptance");
    let marker = f.marker("acceptance");
    let script = write(&dir.join("x.py"), &marking(&marker), 0o755);
    let run = |python: &Path| {
        let mut cmd = Command::new(mayexec());
        f.prepare(&mut cmd, &[]);
        cmd.args(["run", "-f", "--"]).arg(python).arg(&script);
        cmd.output().unwrap()
    };
    let out = run(&reference_python());
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists(), "python3 does not check");
    std::fs::remove_file(&marker).unwrap();

    let out = run(&mayexec_python());
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "mayexec-python: {}: script execution denied (noexec-mount)\n",
            script.display()
        )
    );
    assert!(!marker.exists());
}

/// With `mayexec run -f --exec-allow DIR…` (Landlock), the kernel check
/// refuses code outside the allowed directories on any mount, and
/// mayexec-python with it (reason `kernel-policy`): LSM decisions reach
/// Python imports through the same check.
#[root_test]
fn landlock_exec_allow_list_decides_which_modules_load() {
    let f = Fixture::new();
    let inside = f.mounts.dir(Place::Exec755, "inside");
    let outside = f.mounts.dir(Place::Exec755, "outside");
    let marker = f.marker("landlock");
    write(&inside.join("mod_in.py"), "print('inside ran')\n", 0o755);
    let denied = write(&outside.join("mod_out.py"), &marking(&marker), 0o755);
    let main = write(
        &inside.join("main.py"),
        &format!(
            "import sys\nimport mod_in\nsys.path.insert(0, {:?})\nimport mod_out\n",
            outside.to_str().unwrap()
        ),
        0o755,
    );
    let bin_dir = mayexec_python().parent().unwrap().to_owned();
    let mut cmd = Command::new(mayexec());
    f.prepare(&mut cmd, &[]);
    cmd.args(["run", "-f", "--landlock=required", "--exec-allow", "/usr"])
        .arg("--exec-allow")
        .arg(&bin_dir)
        .arg("--exec-allow")
        .arg(f.home.path())
        .arg("--exec-allow")
        .arg(&inside)
        .arg("--")
        .arg(mayexec_python())
        .arg(&main);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(stdout(&out), "inside ran\n");
    assert!(
        stderr(&out).ends_with(&format!(
            "PermissionError: [Errno 13] script execution denied (kernel-policy): '{}'\n",
            denied.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(!marker.exists());
}

/// The same verdicts for an unprivileged user, who needs the execute bit
/// of their own class (root needs any one).
#[root_test]
fn an_unprivileged_user_gets_the_verdicts_of_the_full_check() {
    let f = Fixture::new();
    let markers = f.mounts.dir(Place::Exec755, "nobody-markers");
    mayexec_testkit::give_to(&markers, mayexec_testkit::NOBODY, mayexec_testkit::NOBODY);
    // 0754: root's group may execute, others (nobody) may only read.
    for (place, mode, reason) in [
        (Place::Exec755, 0o755, None),
        (Place::Exec755, 0o754, Some("not-executable")),
        (Place::Exec644, 0o644, Some("not-executable")),
        (Place::Noexec, 0o755, Some("noexec-mount")),
    ] {
        let dir = f.mounts.dir(place, &format!("nobody-{mode:o}"));
        let marker = markers.join(format!("{place:?}-{mode:o}"));
        let script = write(&dir.join("x.py"), &marking(&marker), mode);
        let mut cmd = Command::new(mayexec());
        f.prepare(&mut cmd, &[]);
        mayexec_testkit::as_nobody(&mut cmd);
        let out = cmd
            .env("LD_LIBRARY_PATH", f.home.library_path())
            .args(["run", "-f", "--"])
            .arg(mayexec_python())
            .arg(&script)
            .current_dir(&markers)
            .output()
            .unwrap();
        match reason {
            None => {
                assert!(out.status.success(), "{mode:o}: {}", describe(&out));
                assert!(marker.exists());
            }
            Some(reason) => {
                assert_eq!(out.status.code(), Some(126), "{mode:o}: {}", describe(&out));
                assert_eq!(
                    stderr(&out),
                    format!(
                        "mayexec-python: {}: script execution denied ({reason})\n",
                        script.display()
                    )
                );
                assert!(!marker.exists());
            }
        }
    }
}

/// CPython writes `.pyc` caches with `mode & 0o666`; under a script policy
/// mayexec-python gives them their (checked) source's execute bits, so that
/// the next start reads the cache instead of being refused it and compiling
/// again. Without a policy the cache's mode is `python3`'s.
#[root_test]
fn caches_written_under_a_policy_keep_their_sources_execute_bits() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    for (enforced, expected) in [(Enforced::Nothing, 0o644), (Enforced::RunF, 0o755)] {
        let dir = f.mounts.dir(Place::Exec755, &format!("cache-{enforced:?}"));
        write(&dir.join("cached.py"), "VALUE = 1\n", 0o755);
        let code = format!(
            "import sys; sys.path.insert(0, {:?}); import cached",
            dir.to_str().unwrap()
        );
        let (out, _) = f.run(enforced, &["-c", &code], &[]);
        assert!(out.status.success(), "{}", describe(&out));
        let pyc = dir.join(format!("__pycache__/cached.{}.pyc", cache_tag()));
        let mode = std::fs::metadata(&pyc).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, expected, "{enforced:?}: {mode:o}");
        // The next start under the policy reads the cache: nothing refused.
        let (out, lines) = f.run(Enforced::RunF, &["-c", &code], &[]);
        assert!(out.status.success(), "{}", describe(&out));
        let refused_cache = lines
            .iter()
            .any(|l| l.contains(&format!("cached.{}.pyc", cache_tag())));
        assert_eq!(refused_cache, expected == 0o644, "{enforced:?}: {lines:?}");
    }
}

/// Writing a message must never abort: with stderr on `/dev/full` or
/// closed, a denial still exits 126 (not 134, SIGABRT, or 120 for an
/// unflushable `sys.stderr`). Refusals before and after the interpreter
/// starts, with and without a standard library that passes the check.
#[root_test]
fn a_denial_exits_126_when_stderr_cannot_be_written() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "stderr");
    let marker = f.marker("stderr");
    let script = write(&dir.join("x.py"), &marking(&marker), 0o755);
    let script = script.to_str().unwrap();
    for redirect in ["2>/dev/full", "2>&-"] {
        for (bits, args) in [("-f", script), ("-i", "-c pass"), ("-i", "")] {
            for home in [true, false] {
                let mut cmd = Command::new("sh");
                f.prepare(&mut cmd, &[]);
                if !home {
                    cmd.env_remove("PYTHONHOME");
                }
                cmd.args([
                    "-c",
                    &format!(
                        "exec {} run {bits} -- {} {args} {redirect}",
                        mayexec().display(),
                        mayexec_python().display()
                    ),
                ]);
                let out = cmd.output().unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(126),
                    "{redirect} {bits} {args:?} home={home}: {}",
                    describe(&out)
                );
                assert!(!marker.exists());
            }
        }
    }
}

/// Runs `cmd` with `input` on a pipe as its standard input.
fn with_piped_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut pipe = child.stdin.take().unwrap();
    // A refusal may come before anything is read: EPIPE is fine.
    let _ = pipe.write_all(input.as_bytes());
    drop(pipe);
    child.wait_with_output().expect("wait")
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .expect("mkfifo");
}

/// A "script" that is not a regular file carries piped or typed code: under
/// deny-interactive alone (`mayexec run -i`, or the policy's
/// `deny_interactive`), `/dev/stdin`, `/proc/self/fd/0`, a FIFO and a
/// terminal are refused like standard input, with 126, an audit line, and
/// no prompt; with no policy they run as in python3.
#[root_test]
fn a_non_file_named_as_the_script_is_interactive_input() {
    let f = Fixture::new();
    let marker = f.marker("non-file");
    let code = marking(&marker);
    for name in ["/dev/stdin", "/proc/self/fd/0"] {
        let sandbox = Enforced::RunI.sandbox();
        let mut cmd = python_command(Enforced::RunI, &sandbox);
        f.prepare(&mut cmd, &[]);
        cmd.arg(name);
        let out = with_piped_stdin(&mut cmd, &code);
        assert_eq!(out.status.code(), Some(126), "{name}: {}", describe(&out));
        assert_eq!(
            stderr(&out),
            format!("mayexec-python: {name}: script execution denied (not-regular-file)\n")
        );
        assert!(!marker.exists(), "{name}");
        assert!(
            has_denial(&sandbox.syslog_lines(), Path::new(name), "not-regular-file"),
            "{name}"
        );
    }
    let sandbox = mayexec_testkit::Sandbox::new().policy("deny_interactive = true\n");
    let mut cmd = sandbox.command(mayexec_python());
    f.prepare(&mut cmd, &[]);
    cmd.arg("/dev/stdin");
    let out = with_piped_stdin(&mut cmd, &code);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(!marker.exists());

    // A FIFO: refused before any writer comes.
    let fifo = f.allowed.join("fifo");
    mkfifo(&fifo);
    let (out, _) = f.run(Enforced::RunI, &[fifo.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "mayexec-python: {}: script execution denied (not-regular-file)\n",
            fifo.display()
        )
    );

    // The terminal: refused, and no prompt is shown.
    let out = on_a_terminal(&f, "/dev/tty", &[]);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    let transcript = stdout(&out);
    assert!(
        transcript.contains("mayexec-python: /dev/tty: script execution denied (not-regular-file)"),
        "{}",
        describe(&out)
    );
    assert!(!transcript.contains(">>>"), "{}", describe(&out));

    // No policy: piped code named as the script runs, as in python3.
    let mut cmd = Command::new(mayexec_python());
    f.prepare(&mut cmd, &[]);
    cmd.arg("/dev/stdin");
    let out = with_piped_stdin(&mut cmd, &code);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists());
}

/// A FIFO as the script with no policy: mayexec-python waits for a writer
/// and runs what it writes, as python3 does, even when the writer comes
/// late and writes later still; it never reads an early end of file and
/// leaves the writer blocked.
#[root_test]
fn a_fifo_script_waits_for_its_writer() {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::time::{Duration, Instant};
    let f = Fixture::new();
    let marker = f.marker("fifo");
    let fifo = f.allowed.join("script-fifo");
    mkfifo(&fifo);
    let mut cmd = Command::new(mayexec_python());
    f.prepare(&mut cmd, &[]);
    let mut child = cmd
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // Open the writer without blocking, retrying while no reader is there
    // (ENXIO): a reader that has gone away would otherwise hang the test.
    let deadline = Instant::now() + Duration::from_secs(10);
    let writer = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
        {
            Ok(writer) => break writer,
            Err(error) if Instant::now() < deadline => {
                assert_eq!(error.raw_os_error(), Some(libc::ENXIO), "{error}");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!("no reader on the FIFO ({error}): {}", describe(&out));
            }
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let mut writer = writer;
    writer.write_all(marking(&marker).as_bytes()).unwrap();
    drop(writer);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists(), "{}", describe(&out));
    assert!(stdout(&out).contains("ran __main__"), "{}", describe(&out));
}

/// A denied main script is one audit line, as in dash and inc: the probe
/// for a zip application, which reads the script first, logs nothing.
#[root_test]
fn a_denied_main_script_is_logged_once() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "logged-once");
    let marker = f.marker("logged-once");
    let script = write(&dir.join("x.py"), &marking(&marker), 0o755);
    let zip = dir.join("app.pyz");
    make_zip(&zip, &[("__main__.py", &marking(&marker))]);
    for path in [&script, &zip] {
        for enforced in [Enforced::RunF, Enforced::Level(1)] {
            let (out, lines) = f.run(enforced, &[path.to_str().unwrap()], &[]);
            assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
            let needle = format!(" path={} ", path.display());
            let logged: Vec<_> = lines.iter().filter(|l| l.contains(&needle)).collect();
            assert_eq!(
                logged.len(),
                1,
                "{enforced:?} {}: {lines:?}",
                path.display()
            );
            assert!(!marker.exists());
        }
    }
}

/// A cache never runs a denied source's code. A run in audit mode reads a
/// denied source (executable, on a noexec mount) and writes its cache where
/// `PYTHONPYCACHEPREFIX` says, on an exec mount: the cache gets no execute
/// bits, since its source did not pass; and a later enforced run refuses
/// the module even when the cache's owner marks it executable, because a
/// cache is only read for a source that passes.
#[root_test]
fn a_cache_written_in_audit_mode_never_runs_a_denied_source() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "audit-cache");
    let prefix = f.mounts.dir(Place::Exec755, "audit-cache-prefix");
    let marker = f.marker("audit-cache");
    let source = write(&dir.join("audited.py"), &marking(&marker), 0o755);
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import audited",
        dir.to_str().unwrap()
    );
    let env = [("PYTHONPYCACHEPREFIX", prefix.as_path())];

    let sandbox = mayexec_testkit::Sandbox::new()
        .policy("interpreted_access = 3\nmode = \"audit\"\n")
        .capture_syslog();
    let mut cmd = sandbox.command(mayexec_python());
    f.prepare(&mut cmd, &env);
    let out = cmd.args(["-c", &code]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(marker.exists(), "audit mode runs the source");
    assert!(
        has_denial(&sandbox.syslog_lines(), &source, "noexec-mount"),
        "audit mode logs the source"
    );
    std::fs::remove_file(&marker).unwrap();
    let pyc = prefix
        .join(dir.strip_prefix("/").unwrap())
        .join(format!("audited.{}.pyc", cache_tag()));
    let mode = std::fs::metadata(&pyc).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode & 0o111, 0, "a cache of a denied source: {mode:o}");

    for cache_mode in [mode, 0o755] {
        std::fs::set_permissions(&pyc, std::fs::Permissions::from_mode(cache_mode)).unwrap();
        let (out, lines) = f.run(Enforced::RunF, &["-c", &code], &env);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cache_mode:o}: {}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains("PermissionError: [Errno 13] script execution denied"),
            "{cache_mode:o}: {}",
            describe(&out)
        );
        assert!(!marker.exists(), "{cache_mode:o}: the cache ran the source");
        assert!(
            has_denial(&lines, &source, "noexec-mount"),
            "{cache_mode:o}: {lines:?}"
        );
    }
}

/// Audit mode only logs: a cache written under it keeps the mode CPython
/// gave it, even when its source passes the check (under enforcement the
/// same cache gets its source's execute bits, so that it can be used).
#[root_test]
fn audit_mode_changes_no_modes_on_disk() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Exec755, "audit-no-chmod");
    let marker = f.marker("audit-no-chmod");
    write(&dir.join("allowed_mod.py"), &marking(&marker), 0o755);
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import allowed_mod",
        dir.to_str().unwrap()
    );
    let pyc = dir.join(format!("__pycache__/allowed_mod.{}.pyc", cache_tag()));
    let cache_mode = |policy: &str| {
        let _ = std::fs::remove_file(&pyc);
        let sandbox = mayexec_testkit::Sandbox::new().policy(policy);
        let mut cmd = sandbox.command(mayexec_python());
        f.prepare(&mut cmd, &[]);
        let out = cmd.args(["-c", &code]).output().unwrap();
        assert!(out.status.success(), "{policy}: {}", describe(&out));
        std::fs::metadata(&pyc).unwrap().permissions().mode() & 0o7777
    };
    let audited = cache_mode("interpreted_access = 3\nmode = \"audit\"\n");
    assert_eq!(audited & 0o111, 0, "audit mode changed a mode: {audited:o}");
    let enforced = cache_mode("interpreted_access = 3\n");
    assert_ne!(enforced & 0o111, 0, "enforcement: {enforced:o}");
}

/// `imp`'s loaders read the files they load as code through the check:
/// `find_module` + `load_module` (which hands the loader a file opened
/// with plain `open()`), `load_source` and `load_compiled` with and
/// without a file object, `load_package` and `load_dynamic`. A denied file
/// fails as a file that cannot be read does (`PermissionError`), and its
/// code never runs; with no policy they all load.
#[root_test]
fn imp_loaders_check_the_files_they_load() {
    let f = Fixture::new();
    if PYTHON_VERSION != "3.11" {
        // 3.12 removed `imp`: there are no such loaders to go around the
        // check.
        let (out, _) = f.run(Enforced::Nothing, &["-c", "import imp"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            stderr(&out).contains("ModuleNotFoundError: No module named 'imp'"),
            "{}",
            describe(&out)
        );
        return;
    }
    let dir = f.mounts.dir(Place::Noexec, "imp");
    let markers = f.mounts.dir(Place::Exec755, "imp-markers");
    let cases = [
        "f, p, d = imp.find_module('m1', [D]); imp.load_module('m1', f, p, d)",
        "imp.load_source('m2', D + '/m2.py')",
        "imp.load_source('m3', D + '/m3.py', open(D + '/m3.py'))",
        "imp.load_compiled('m4', D + '/m4.pyc')",
        "imp.load_compiled('m5', D + '/m5.pyc', open(D + '/m5.pyc', 'rb'))",
        "imp.load_package('m6', D + '/m6')",
        "f, p, d = imp.find_module('m7', [D]); imp.load_module('m7', f, p, d)",
        "imp.load_dynamic('_json', D + '/_json.so')",
        "import importlib; imp = importlib.reload(imp); f, p, d = imp.find_module('m1', [D]); imp.load_module('m1', f, p, d)",
    ];
    for name in ["m1", "m2", "m3"] {
        write(
            &dir.join(format!("{name}.py")),
            &marking(&markers.join(name)),
            0o755,
        );
    }
    for name in ["m4", "m5"] {
        compile_pyc(
            &marking(&markers.join(name)),
            &dir.join(format!("{name}.pyc")),
        );
    }
    std::fs::create_dir(dir.join("m6")).unwrap();
    write(
        &dir.join("m6/__init__.py"),
        &marking(&markers.join("m6")),
        0o755,
    );
    std::fs::create_dir(dir.join("m7")).unwrap();
    write(
        &dir.join("m7/__init__.py"),
        &marking(&markers.join("m7")),
        0o755,
    );
    let json = std::fs::read_dir(f.home.path().join(stdlib_subdir()).join("lib-dynload"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("_json.")
        })
        .expect("the _json extension module");
    // On the exec mount, mode 0644: only the check refuses it (the kernel
    // maps it); on the noexec mount the kernel would refuse it anyway.
    let dynamic = f.mounts.dir(Place::Exec644, "imp-dynamic");
    std::fs::copy(&json, dynamic.join("_json.so")).unwrap();
    std::fs::set_permissions(
        dynamic.join("_json.so"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let driver_code = |case: &str| {
        let dir = if case.contains("_json") {
            &dynamic
        } else {
            &dir
        };
        format!(
            "import warnings; warnings.simplefilter('ignore')\nimport imp\nD = {:?}\n{case}\nprint('loaded')\n",
            dir.to_str().unwrap()
        )
    };
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let driver = write(
            &markers.join(format!("driver{i}.py")),
            &driver_code(case),
            0o755,
        );
        let (out, _) = f.run(Enforced::RunF, &[driver.to_str().unwrap()], &[]);
        let ran = ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]
            .iter()
            .any(|name| markers.join(name).exists());
        if ran
            || out.status.code() != Some(1)
            || !stderr(&out).contains("PermissionError: [Errno 13] script execution denied")
        {
            failures.push(format!("{case}: ran {ran}, {}", describe(&out)));
        }
        let (out, _) = f.run(Enforced::Nothing, &[driver.to_str().unwrap()], &[]);
        assert!(out.status.success(), "{case}: {}", describe(&out));
        assert!(
            stdout(&out).ends_with("loaded\n"),
            "{case}: {}",
            describe(&out)
        );
        for entry in std::fs::read_dir(&markers).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_str().unwrap().contains("driver") {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `ctypes` checks every way of naming a library: `CDLL` with a str,
/// bytes or path-like name, `cdll.LoadLibrary`, `_ctypes.dlopen` with str
/// or bytes, and a bare name found through `LD_LIBRARY_PATH`. A library
/// the check denies (mode 0644 on an exec mount, which the kernel would
/// map) raises `PermissionError`; an allowed one loads, from the checked
/// file; with no policy every form loads.
#[root_test]
fn ctypes_checks_every_form_of_library_name() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let json = std::fs::read_dir(f.home.path().join(stdlib_subdir()).join("lib-dynload"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("_zoneinfo.")
        })
        .expect("the _zoneinfo extension module");
    let denied = f.mounts.dir(Place::Exec644, "ctypes-denied");
    let allowed = f.mounts.dir(Place::Exec755, "ctypes-allowed");
    for (dir, mode) in [(&denied, 0o644), (&allowed, 0o755)] {
        let lib = dir.join("libmayexectest.so");
        std::fs::copy(&json, &lib).unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let cases = [
        "ctypes.CDLL(P)",
        "ctypes.CDLL(P.encode())",
        "ctypes.CDLL(pathlib.Path(P))",
        "ctypes.cdll.LoadLibrary(P)",
        "ctypes.cdll.LoadLibrary(P.encode())",
        "_ctypes.dlopen(P)",
        "_ctypes.dlopen(P.encode())",
        "ctypes.CDLL(NAME)",
        "importlib.reload(_ctypes).dlopen(P.encode())",
    ];
    // CPython 3.13.0's ctypes.CDLL rejects a bytes name (TypeError) before
    // it loads anything, python3 as much as mayexec-python: those cases
    // are left out where the reference python3 does that.
    let cdll_takes_bytes = Command::new(reference_python())
        .args([
            "-c",
            "import ctypes\ntry: ctypes.CDLL(b'/nonexistent')\nexcept OSError: pass",
        ])
        .output()
        .unwrap()
        .status
        .success();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if !cdll_takes_bytes && case.starts_with("ctypes.") && case.contains("P.encode()") {
            continue;
        }
        for (dir, enforced, allowed) in [
            (&denied, Enforced::RunF, false),
            (&allowed, Enforced::RunF, true),
            (&denied, Enforced::Nothing, true),
        ] {
            let lib = dir.join("libmayexectest.so");
            let driver = write(
                &f.allowed.join(format!("ctypes{i}-{allowed}-{enforced:?}.py")),
                &format!(
                    "import ctypes, _ctypes, importlib, pathlib\nP = {:?}\nNAME = 'libmayexectest.so'\n\
                     h = {case}\n\
                     h = h if isinstance(h, int) else h._handle\n\
                     class LinkMap(ctypes.Structure):\n    \
                         _fields_ = [('l_addr', ctypes.c_void_p), ('l_name', ctypes.c_char_p)]\n\
                     lm = ctypes.POINTER(LinkMap)()\n\
                     assert ctypes.CDLL(None).dlinfo(ctypes.c_void_p(h), 2, ctypes.byref(lm)) == 0\n\
                     print('loaded', lm.contents.l_name.decode())\n",
                    lib.to_str().unwrap()
                ),
                0o755,
            );
            let env = [("LD_LIBRARY_PATH", dir.as_path())];
            let (out, _) = f.run(enforced, &[driver.to_str().unwrap()], &env);
            // Under the policy, the loader was given the checked file.
            let loaded = match enforced {
                Enforced::Nothing => format!("loaded {}\n", lib.display()),
                _ => "loaded /proc/self/fd/".to_owned(),
            };
            let ok = if allowed {
                out.status.success() && stdout(&out).starts_with(&loaded)
            } else {
                out.status.code() == Some(1)
                    && stderr(&out).contains(&format!(
                        "PermissionError: [Errno 13] script execution denied (not-executable): '{}'",
                        lib.display()
                    ))
            };
            if !ok {
                failures.push(format!(
                    "{case} {enforced:?} allowed={allowed}: {}",
                    describe(&out)
                ));
            }
        }
    }
    // Libraries loaded one after the other from descriptors that get the
    // same number are each the library asked for (the loader knows objects
    // by the name they were loaded under).
    let bisect = std::fs::read_dir(f.home.path().join(stdlib_subdir()).join("lib-dynload"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("resource.")
        })
        .expect("the resource extension module");
    let second = allowed.join("libmayexectest2.so");
    std::fs::copy(&bisect, &second).unwrap();
    std::fs::set_permissions(&second, std::fs::Permissions::from_mode(0o755)).unwrap();
    let driver = write(
        &f.allowed.join("ctypes-two.py"),
        &format!(
            "import ctypes\n\
             a = ctypes.CDLL({:?})\n\
             b = ctypes.CDLL({:?})\n\
             assert a._handle != b._handle\n\
             a.PyInit__zoneinfo, b.PyInit_resource\n\
             print('ok')\n",
            allowed.join("libmayexectest.so").to_str().unwrap(),
            second.to_str().unwrap()
        ),
        0o755,
    );
    let (out, _) = f.run(Enforced::RunF, &[driver.to_str().unwrap()], &[]);
    if !(out.status.success() && stdout(&out) == "ok\n") {
        failures.push(format!("two libraries: {}", describe(&out)));
    }

    // Bare names of libraries already loaded (what find_library gives)
    // are the loaded objects, usable as ever.
    let driver = write(
        &f.allowed.join("ctypes-libc.py"),
        "import ctypes, ctypes.util, os\n\
         assert ctypes.CDLL(ctypes.util.find_library('c')).getpid() == os.getpid()\n\
         assert ctypes.CDLL('libc.so.6', mode=ctypes.RTLD_GLOBAL).getpid() == os.getpid()\n\
         assert ctypes.cdll.LoadLibrary('libc.so.6').getpid() == os.getpid()\n\
         print('ok')\n",
        0o755,
    );
    let (out, _) = f.run(Enforced::RunF, &[driver.to_str().unwrap()], &[]);
    if !(out.status.success() && stdout(&out) == "ok\n") {
        failures.push(format!("libc by bare name: {}", describe(&out)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Code read through `io.open_code` from a named non-file
/// (`runpy.run_path('/dev/stdin')` with code on a pipe, as `pdb`,
/// `profile` and `trace` read their scripts) is piped code too: refused
/// under deny-interactive alone (`PermissionError`, an audit line), read
/// as python3 reads it with no policy.
#[root_test]
fn code_opened_from_a_non_file_is_interactive_input() {
    let f = Fixture::new();
    let marker = f.marker("run-path-stdin");
    let driver = write(
        &f.allowed.join("run-path.py"),
        "import runpy\nrunpy.run_path('/dev/stdin')\n",
        0o755,
    );
    let sandbox = Enforced::RunI.sandbox();
    let mut cmd = python_command(Enforced::RunI, &sandbox);
    f.prepare(&mut cmd, &[]);
    cmd.arg(&driver);
    let out = with_piped_stdin(&mut cmd, &marking(&marker));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(
            "PermissionError: [Errno 13] script execution denied (not-regular-file): '/dev/stdin'"
        ),
        "{}",
        describe(&out)
    );
    assert!(!marker.exists());
    assert!(
        has_denial(
            &sandbox.syslog_lines(),
            Path::new("/dev/stdin"),
            "not-regular-file"
        ),
        "audit line"
    );

    // With no policy, what python3 does (runpy reads a pipe twice, so
    // neither runs the whole program).
    let statuses: Vec<_> = [mayexec_python(), reference_python()]
        .iter()
        .map(|python| {
            let mut cmd = Command::new(python);
            f.prepare(&mut cmd, &[]);
            cmd.arg(&driver);
            with_piped_stdin(&mut cmd, &marking(&marker)).status.code()
        })
        .collect();
    assert_eq!(statuses[0], statuses[1]);
}

/// A cached module whose source the user cannot read (mode 0711: it may
/// be executed, not read) cannot pass the check, so its cache does not run
/// either (python3 would run the cache): the import fails as the source's
/// own read would.
#[root_test]
fn a_cache_does_not_run_for_a_source_that_cannot_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Exec755, "unreadable-source");
    let markers = f.mounts.dir(Place::Exec755, "unreadable-markers");
    mayexec_testkit::give_to(&markers, mayexec_testkit::NOBODY, mayexec_testkit::NOBODY);
    let marker = markers.join("ran");
    let source = write(&dir.join("hidden.py"), &marking(&marker), 0o755);
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import hidden",
        dir.to_str().unwrap()
    );
    // Root compiles the cache (mode 0755: its source passed), then the
    // source is made unreadable for others.
    let (out, _) = f.run(Enforced::RunF, &["-c", &code], &[]);
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::remove_file(&marker).unwrap();
    let pyc = dir.join(format!("__pycache__/hidden.{}.pyc", cache_tag()));
    let mode = std::fs::metadata(&pyc).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o711)).unwrap();

    let mut cmd = Command::new(mayexec());
    f.prepare(&mut cmd, &[]);
    mayexec_testkit::as_nobody(&mut cmd);
    let out = cmd
        .env("LD_LIBRARY_PATH", f.home.library_path())
        .args(["run", "-f", "--"])
        .arg(mayexec_python())
        .args(["-c", &code])
        .current_dir(&markers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!(
            "PermissionError: [Errno 13] Permission denied: '{}'",
            source.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(!marker.exists());
}

/// Under `mayexec run --lockdown -f -i`, mayexec-python (enlightened: it
/// carries mayexec's ELF note) can be started and runs scripts beneath the
/// roots, refuses the others (`kernel-policy`), while the stock python3
/// cannot be executed at all.
#[root_test]
fn under_lockdown_mayexec_python_runs_allowed_scripts_and_stock_python_cannot_start() {
    let f = Fixture::new();
    let inside = f.mounts.dir(Place::Exec755, "lockdown-inside");
    let outside = f.mounts.dir(Place::Exec755, "lockdown-outside");
    let marker = f.marker("lockdown");
    let ok = write(&inside.join("ok.py"), "print('inside ran')\n", 0o755);
    // Beneath a root, under a stock name: the note, not the name, lets it
    // through the inventory.
    std::fs::create_dir(inside.join("bin")).unwrap();
    let python3 = inside.join("bin/python3");
    std::fs::copy(mayexec_python(), &python3).unwrap();
    let denied = write(&outside.join("bad.py"), &marking(&marker), 0o755);
    let lockdown = |program: &Path, script: &Path| {
        let mut cmd = Command::new(mayexec());
        f.prepare(&mut cmd, &[]);
        cmd.args(["run", "--lockdown", "-f", "-i"]);
        for root in [
            Path::new("/usr/bin"),
            Path::new("/lib64"),
            f.home.path(),
            &inside,
        ] {
            cmd.arg("--exec-allow").arg(root);
        }
        // ld.so's real directory, by file: no need to walk all of it.
        let ld_so = std::fs::canonicalize("/lib64/ld-linux-x86-64.so.2").unwrap();
        cmd.arg("--exec-allow-file").arg(ld_so);
        cmd.arg("--").arg(program).arg(script);
        cmd.output().unwrap()
    };
    let out = lockdown(&python3, &ok);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "inside ran\n");

    let out = lockdown(&python3, &denied);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "mayexec-python: {}: script execution denied (kernel-policy)\n",
            denied.display()
        )
    );
    assert!(!marker.exists());

    // The stock python3 (a root with Debian's python3.14 alone has no
    // python3, only python3.14).
    let stock = [
        PathBuf::from("/usr/bin/python3"),
        PathBuf::from(format!("/usr/bin/python{PYTHON_VERSION}")),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("a stock python3 in /usr/bin");
    let out = lockdown(&stock, &denied);
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(
        stderr(&out).starts_with(&format!(
            "mayexec: {}: Permission denied (os error 13)\n",
            stock.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(!marker.exists());
}

/// PEP 768 (3.14): another process, with ptrace rights over this one,
/// makes it run a file with `sys.remote_exec(pid, path)`. The target opens
/// that file through the open-code hook (`cpython.remote_debugger_script`,
/// then `PyFile_OpenCodeObject`), so under enforcement the file is checked
/// like any code file: a noexec one never runs, an allowed one does.
#[cfg(Py_3_14)]
#[root_test]
fn a_script_sent_by_sys_remote_exec_is_checked() {
    use std::io::{BufRead, BufReader};

    let f = Fixture::new();
    let noexec = f.mounts.dir(Place::Noexec, "remote");
    let denied_marker = f.marker("remote-denied");
    let denied = write(&noexec.join("inject.py"), &marking(&denied_marker), 0o755);
    let allowed_marker = f.marker("remote-allowed");
    let allowed = write(
        &f.allowed.join("inject.py"),
        &marking(&allowed_marker),
        0o755,
    );
    // The target prints its pid, then runs Python code (so that it reaches
    // the eval breaker, where a pending script is run) until the allowed
    // script has left its marker.
    let target_code = format!(
        "import os, time\nprint(os.getpid(), flush=True)\n\
         while not os.path.exists({:?}):\n    time.sleep(0.01)\nprint('done', flush=True)\n",
        allowed_marker.to_str().unwrap()
    );
    let sandbox = Enforced::RunF.sandbox();
    let mut cmd = python_command(Enforced::RunF, &sandbox);
    f.prepare(&mut cmd, &[]);
    let mut target = cmd
        .args(["-c", &target_code])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the target");
    let mut out = BufReader::new(target.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pid: u32 = line.trim().parse().expect("the target prints its pid");
    let err = BufReader::new(target.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    // The sender runs in the target's mount namespace and root (nsenter):
    // it finds the target's binary by /proc/PID/exe, which names it
    // relative to those when the tests themselves run in a chroot.
    let remote_exec = |script: &Path| {
        let out = Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "-r", "--"])
            .arg(reference_python())
            .args([
                "-c",
                "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])",
            ])
            .arg(pid.to_string())
            .arg(script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        assert!(out.status.success(), "sys.remote_exec: {}", describe(&out));
    };
    remote_exec(&denied);
    // The target reports the refusal on its standard error (as an
    // unraisable exception); then the allowed script ends it.
    let mut seen = Vec::new();
    let wanted = "script execution denied (noexec-mount)";
    while !seen.iter().any(|l: &String| l.contains(wanted)) {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = target.kill();
                panic!(
                    "the target never reported the refusal (ran: {}); stderr: {seen:?}",
                    denied_marker.exists()
                );
            }
        }
    }
    assert!(!denied_marker.exists(), "the noexec script must not run");
    remote_exec(&allowed);
    let status = target.wait().unwrap();
    assert!(status.success(), "target: {status:?}, stderr: {seen:?}");
    assert!(allowed_marker.exists(), "the allowed script runs");
    let lines = sandbox.syslog_lines();
    assert!(has_denial(&lines, &denied, "noexec-mount"), "{lines:?}");
}

/// 3.14's prompt after `-i` (`_pyrepl`, on a terminal) would run
/// `PYTHONSTARTUP` itself, opened by path with no check: mayexec-python
/// runs it instead, opened once and checked, so a noexec one is refused
/// while the script and the prompt go on.
#[cfg(Py_3_14)]
#[root_test]
fn pythonstartup_before_the_prompt_after_dash_i_is_checked() {
    let f = Fixture::new();
    let dir = f.mounts.dir(Place::Noexec, "startup-i");
    let startup_marker = f.marker("startup-i");
    let startup = write(&dir.join("startup.py"), &marking(&startup_marker), 0o755);
    let script_marker = f.marker("script-i");
    let script = write(&f.allowed.join("ok-i.py"), &marking(&script_marker), 0o755);
    let input = write(&f.allowed.join("input.txt"), "exit()\n", 0o644);
    let sandbox = Enforced::RunF.sandbox();
    let inner = format!(
        "{} run -f -- {} -i {}",
        mayexec().display(),
        mayexec_python().display(),
        script.display()
    );
    // util-linux `script` gives it a terminal, and types what `input` has;
    // `timeout` ends it should the prompt never see it.
    let mut cmd = sandbox.command("timeout");
    f.prepare(
        &mut cmd,
        &[
            ("PYTHONSTARTUP", startup.as_path()),
            ("TERM", Path::new("xterm")),
        ],
    );
    cmd.stdin(std::fs::File::open(&input).unwrap());
    cmd.args(["60", "script", "-qec", &inner, "/dev/null"]);
    let out = cmd.output().unwrap();
    assert!(
        script_marker.exists(),
        "the script runs: {}",
        describe(&out)
    );
    assert!(
        !startup_marker.exists(),
        "PYTHONSTARTUP must not run: {}",
        describe(&out)
    );
    assert!(
        stdout(&out).contains(&format!(
            "mayexec-python: {}: script execution denied (noexec-mount)",
            startup.display()
        )),
        "{}",
        describe(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(has_denial(
        &sandbox.syslog_lines(),
        &startup,
        "noexec-mount"
    ));
}
