//! mayexec-python and content trust (`trust = "required"`, docs/trust.md):
//! every file it loads as code must be trusted, whatever the level (none
//! included); a bytecode cache runs only when it is trusted itself and
//! validates against its trusted source; the standard library runs in
//! place, mode 0644, once it is trusted.
//!
//! Each test gives the trust database a private `/var/lib` (an overlay in
//! a mount namespace of its own): the machine's database, its dpkg
//! database and its Python installs are never written.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use mayexec_testkit::{root_test, Sandbox, Tmpfs};

/// A policy file, a captured syslog and a private `/var/lib` (so a private
/// trust database), for any number of commands; the standard library
/// mounted read-only, so that nothing run here can write its caches.
struct Host {
    sandbox: Sandbox,
}

impl Host {
    /// `policy` must list `stdlib` in `trust_mounts` (see [`policy`]): the
    /// read-only bind mount of it is a mount of its own.
    fn new(policy: &str, stdlib: &Path) -> Host {
        Host {
            sandbox: Sandbox::new()
                .policy(policy)
                .capture_syslog()
                .private_var_lib()
                .read_only(stdlib),
        }
    }

    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = self.sandbox.command(program);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// `mayexec trust ARGS`, which must succeed.
    fn trust<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) {
        let out = self
            .command(mayexec())
            .arg("trust")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "mayexec trust: {}",
            describe(&out)
        );
    }

    /// `python` (a mayexec-python) with a clean environment plus `env`,
    /// in `dir`.
    fn python(&self, python: &Path, dir: &Path, env: &[(&str, &Path)]) -> Command {
        let mut cmd = self.command(python);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .current_dir(dir);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    fn syslog(&self) -> Vec<String> {
        self.sandbox.syslog_lines()
    }
}

/// `trust = "required"`, at `level` if any, honoured on "/", on the
/// test's `code` tmpfs and on the read-only mount of the standard library
/// (and `/etc`, for a Debian python: the sandbox's `/etc` is an overlay, to
/// hold the policy file, where Debian's `/etc/python3.11/sitecustomize.py`
/// is; on a real system it is on "/").
fn policy(level: Option<u8>, code: &Tmpfs, stdlib: &Path) -> String {
    let level = level.map_or(String::new(), |l| format!("interpreted_access = {l}\n"));
    format!(
        "{level}trust = \"required\"\n\
         trust_mounts = [\"/\", \"/etc\", \"{}\", \"{}\"]\n",
        code.path().display(),
        stdlib.display()
    )
}

fn has_denial(lines: &[String], path: &Path, reason: &str) -> bool {
    let path = format!(" path={} ", path.display());
    lines
        .iter()
        .any(|l| l.contains(&path) && l.contains(&format!(" reason={reason} ")))
}

/// Directories of a standard library that no test here imports.
const SKIPPED: [&str; 9] = [
    "test",
    "site-packages",
    "dist-packages",
    "idlelib",
    "tkinter",
    "turtledemo",
    "lib2to3",
    "ensurepip",
    "tests",
];

/// Every file of the standard library in `dir`, caches and extension
/// modules included, but for [`SKIPPED`] trees: what an administrator
/// trusts with `mayexec trust add` (or a manifest) for an interpreter no
/// package installed.
fn stdlib_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                if !SKIPPED.contains(&&*name) && !name.starts_with("config-") {
                    dirs.push(entry.path());
                }
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

/// Writes to `pyc` a timestamp cache whose header matches `source` (its
/// mtime and size, as CPython validates a cache) but whose code is
/// `code`'s: what anyone who can write a cache directory can make.
fn forge_cache(source: &Path, code: &str, pyc: &Path) {
    let script = "import sys, os, importlib._bootstrap_external as e\n\
                  src, code, out = sys.argv[1:]\n\
                  st = os.stat(src)\n\
                  data = e._code_to_timestamp_pyc(compile(code, src, 'exec'), int(st.st_mtime), st.st_size)\n\
                  os.makedirs(os.path.dirname(out), exist_ok=True)\n\
                  open(out, 'wb').write(data)\n";
    let out = Command::new(reference_python())
        .args(["-c", script])
        .arg(source)
        .arg(code)
        .arg(pyc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
}

/// Compiles `source` to a sourceless `.pyc` at `pyc`.
fn compile_sourceless(source: &str, pyc: &Path) {
    let tmp = PathBuf::from(format!("{}.src.py", pyc.display()));
    write(&tmp, source, 0o644);
    let out = Command::new(reference_python())
        .args([
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
        ])
        .arg(&tmp)
        .arg(pyc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    fs::remove_file(&tmp).unwrap();
}

/// Under `trust = "required"` alone (no level: nothing else is checked),
/// every way CPython loads a file as code consults the trust database: an
/// import, a sourceless `.pyc`, an extension module, `ctypes`, a `.pth`
/// file, `PYTHONSTARTUP`; and a cache forged for a trusted source never
/// runs. Before this was fixed, the hooks skipped every check when no
/// level was asked for, and all of them ran.
#[root_test]
fn without_a_level_every_file_loaded_as_code_must_be_trusted() {
    let code = Tmpfs::exec();
    let host = Host::new(&policy(None, &code, &stdlib_dir()), &stdlib_dir());
    let untrusted = code.path().join("untrusted");
    fs::create_dir(&untrusted).unwrap();
    let marker = |name: &str| code.path().join(format!("{name}.marker"));
    let marking = |name: &str| format!("open({:?}, 'w').write('ran')\n", marker(name));
    write(&untrusted.join("evil.py"), &marking("import"), 0o644);
    compile_sourceless(&marking("sourceless"), &untrusted.join("compiled.pyc"));
    let so_name = format!("_zoneinfo.{}-x86_64-linux-gnu.so", cache_tag());
    fs::copy(
        stdlib_dir().join("lib-dynload").join(&so_name),
        untrusted.join(&so_name),
    )
    .unwrap();
    let libz = untrusted.join("libz-copy.so");
    fs::copy("/lib/x86_64-linux-gnu/libz.so.1", &libz).unwrap();
    // A trusted source, and a cache forged for it (header valid, code not).
    let cached = write(&untrusted.join("cached.py"), "WHO = 'genuine'\n", 0o644);
    forge_cache(
        &cached,
        &format!("{}WHO = 'forged'\n", marking("cache")),
        &untrusted.join(format!("__pycache__/cached.{}.pyc", cache_tag())),
    );
    let main = write(
        &code.path().join("main.py"),
        &format!(
            "import sys, ctypes\n\
             sys.path.insert(0, {untrusted:?})\n\
             def attempt(what, load):\n\
             \x20   try:\n\
             \x20       load()\n\
             \x20       print(what, 'ran')\n\
             \x20   except PermissionError as e:\n\
             \x20       print(what, 'refused:', e.strerror)\n\
             attempt('import', lambda: __import__('evil'))\n\
             attempt('sourceless', lambda: __import__('compiled'))\n\
             attempt('extension', lambda: __import__('_zoneinfo'))\n\
             attempt('ctypes', lambda: ctypes.CDLL({libz:?}))\n\
             import cached\n\
             print('cached', cached.WHO)\n"
        ),
        0o644,
    );
    let mut trusted = stdlib_files(&stdlib_dir());
    trusted.extend([main.clone(), cached.clone()]);
    host.trust(std::iter::once(PathBuf::from("add")).chain(trusted));

    let out = host
        .python(&mayexec_python(), code.path(), &[])
        .arg(&main)
        .output()
        .unwrap();
    let refused = "refused: script execution denied (untrusted-content)";
    assert_eq!(
        stdout(&out),
        format!(
            "import {refused}\nsourceless {refused}\nextension {refused}\nctypes {refused}\n\
             cached genuine\n"
        ),
        "{}",
        describe(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let lines = host.syslog();
    for path in [
        untrusted.join("evil.py"),
        untrusted.join("compiled.pyc"),
        untrusted.join(&so_name),
        libz.clone(),
    ] {
        assert!(
            has_denial(&lines, &path, "untrusted-content"),
            "{path:?}: {lines:?}"
        );
    }
    let evil = format!(" path={} ", untrusted.join("evil.py").display());
    assert_eq!(
        lines.iter().filter(|l| l.contains(&evil)).count(),
        1,
        "one import, one line: {lines:?}"
    );
    // The forged cache is ignored, not refused: the trusted source ran.
    assert!(
        !lines.iter().any(|l| l.contains("__pycache__")),
        "{lines:?}"
    );

    // A .pth file in a user site directory anyone can name.
    let userbase = code.path().join("userbase");
    let site = userbase.join(format!("{}/site-packages", stdlib_subdir()));
    fs::create_dir_all(&site).unwrap();
    let pth = write(
        &site.join("evil.pth"),
        &format!("import os; {}", marking("pth")),
        0o644,
    );
    let out = host
        .python(
            &mayexec_python(),
            code.path(),
            &[("PYTHONUSERBASE", &userbase)],
        )
        .args(["-c", "print('main ran')"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "main ran\n", "{}", describe(&out));
    assert!(has_denial(&host.syslog(), &pth, "untrusted-content"));

    // PYTHONSTARTUP: reported and skipped; the session goes on.
    let startup = write(&untrusted.join("startup.py"), &marking("startup"), 0o644);
    let out = host
        .python(
            &mayexec_python(),
            code.path(),
            &[("PYTHONSTARTUP", &startup)],
        )
        .arg("-i")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains(&format!(
            "mayexec-python: {}: script execution denied (untrusted-content)\n",
            startup.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(has_denial(&host.syslog(), &startup, "untrusted-content"));

    for name in ["import", "sourceless", "cache", "pth", "startup"] {
        assert!(!marker(name).exists(), "{name} ran");
    }
}

/// The import-heavy part of a program: modules of the standard library
/// that import many more.
const STDLIB_IMPORTS: &str = "import json, email.parser, decimal, argparse, logging, http.client";

/// Level 1 + `trust = "required"` with the standard library mayexec-python
/// embeds (pyenv's 3.11, which no package installed, so trusted as an
/// administrator trusts such software: `mayexec trust add` of its files):
/// refused while it is not trusted (no database; a database without it),
/// run in place, mode 0644, with no chmod, once it is; and a trusted
/// module with one byte changed is refused.
#[root_test]
fn the_embedded_standard_library_runs_once_trusted_and_a_changed_byte_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let code = Tmpfs::exec();
    let host = Host::new(&policy(Some(1), &code, &stdlib_dir()), &stdlib_dir());
    let lib = code.path().join("lib");
    fs::create_dir(&lib).unwrap();
    let module = lib.join("wrapcopy.py");
    fs::copy(stdlib_dir().join("textwrap.py"), &module).unwrap();
    let main = write(
        &code.path().join("main.py"),
        &format!(
            "import sys\nsys.path.insert(0, {lib:?})\n{STDLIB_IMPORTS}\nimport wrapcopy\n\
             print(wrapcopy.fill('trusted content', 40), json.dumps([1]))\n"
        ),
        0o644,
    );
    let run = || {
        host.python(&mayexec_python(), code.path(), &[])
            .arg(&main)
            .output()
            .unwrap()
    };

    // No database: nothing is trusted, and the refusal says why.
    let out = run();
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(
        stderr(&out).contains("(trust-unavailable)"),
        "{}",
        describe(&out)
    );

    // A database without the standard library: Python cannot start.
    host.trust(["add".as_ref(), main.as_os_str(), module.as_os_str()]);
    let out = run();
    assert_eq!(out.status.code(), Some(126), "{}", describe(&out));
    assert!(
        stderr(&out).contains("Python could not start")
            && stderr(&out).contains("(untrusted-content)"),
        "{}",
        describe(&out)
    );

    let stdlib = stdlib_dir();
    host.trust(std::iter::once(PathBuf::from("add")).chain(stdlib_files(&stdlib)));
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "trusted content [1]\n");
    // In place, as installed: no chmod anywhere.
    for file in ["os.py", "json/__init__.py", "email/parser.py"] {
        let mode = fs::metadata(stdlib.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{file}");
    }
    // Nothing written under enforced trust: no cache for the program's module.
    assert!(!lib.join("__pycache__").exists());

    // One byte of the trusted module changed: refused, and logged.
    let mut bytes = fs::read(&module).unwrap();
    let at = bytes.iter().position(|&b| b == b'#').unwrap();
    bytes[at + 1] = b'!';
    fs::write(&module, bytes).unwrap();
    let _ = host.syslog();
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).ends_with(&format!(
            "PermissionError: [Errno 13] script execution denied (untrusted-content): '{}'\n",
            module.display()
        )),
        "{}",
        describe(&out)
    );
    assert!(has_denial(&host.syslog(), &module, "untrusted-content"));
}

/// Under level 1 + `trust = "required"`, a bytecode cache runs only when it
/// is trusted itself and validates against its trusted source: a cache
/// forged for a trusted source (a valid header over other code), in
/// `__pycache__` or under `PYTHONPYCACHEPREFIX`, never runs, and is not
/// logged as a refusal (the trusted source runs instead); a trusted cache
/// is used; a trusted cache of an earlier version of the source is not;
/// no cache is written.
#[root_test]
fn a_cache_runs_only_when_trusted_and_valid_for_its_trusted_source() {
    let code = Tmpfs::exec();
    let host = Host::new(&policy(Some(1), &code, &stdlib_dir()), &stdlib_dir());
    let dir = code.path().join("app");
    fs::create_dir(&dir).unwrap();
    let marker = code.path().join("forged.marker");
    let source = write(&dir.join("m.py"), "WHO = 'genuine'\n", 0o644);
    let main = write(&dir.join("main.py"), "import m\nprint(m.WHO)\n", 0o644);
    let pyc = dir.join(format!("__pycache__/m.{}.pyc", cache_tag()));
    let mut trusted = stdlib_files(&stdlib_dir());
    trusted.extend([main.clone(), source.clone()]);
    host.trust(std::iter::once(PathBuf::from("add")).chain(trusted));
    let run = |env: &[(&str, &Path)]| {
        let _ = host.syslog();
        let out = host
            .python(&mayexec_python(), &dir, env)
            .args(["-v".as_ref(), main.as_os_str()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        (stdout(&out), stderr(&out), host.syslog())
    };
    let from_source = format!("code object from {}\n", source.display());
    let from_cache = format!("code object from '{}'", pyc.display());

    // No cache: the source is compiled, and no cache is written.
    let (stdout, stderr, _) = run(&[]);
    assert_eq!(stdout, "genuine\n");
    assert!(stderr.contains(&from_source), "{stderr}");
    assert!(!pyc.exists(), "no cache written under enforced trust");
    assert!(!stderr.contains("# created "), "{stderr}");

    // A forged cache, valid header: ignored without a refusal.
    let forged = format!("open({marker:?}, 'w').write('ran')\nWHO = 'forged'\n");
    forge_cache(&source, &forged, &pyc);
    let (stdout, stderr, lines) = run(&[]);
    assert_eq!(stdout, "genuine\n", "{stderr}");
    assert!(stderr.contains(&from_source), "{stderr}");
    assert!(!lines.iter().any(|l| l.contains("m.cpython")), "{lines:?}");
    // The same under a cache prefix anyone can name.
    let prefix = code.path().join("prefix");
    let prefixed = PathBuf::from(format!("{}{}", prefix.display(), pyc.display()));
    forge_cache(&source, &forged, &prefixed);
    let (stdout, _, _) = run(&[("PYTHONPYCACHEPREFIX", &prefix)]);
    assert_eq!(stdout, "genuine\n");
    assert!(!marker.exists(), "a forged cache ran");
    fs::remove_file(&pyc).unwrap();

    // A cache CPython wrote, trusted: used.
    let out = Command::new(reference_python())
        .args([
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)",
        ])
        .arg(&source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    host.trust(["add".as_ref(), pyc.as_os_str()]);
    let (stdout, stderr, _) = run(&[]);
    assert_eq!(stdout, "genuine\n");
    assert!(stderr.contains(&from_cache), "{stderr}");

    // The source changed (and trusted again): the trusted cache of its
    // earlier version does not validate, and is not used.
    fs::write(&source, "WHO = 'second version'\n").unwrap();
    host.trust(["add".as_ref(), source.as_os_str()]);
    let (stdout, stderr, _) = run(&[]);
    assert_eq!(stdout, "second version\n");
    assert!(stderr.contains(&from_source), "{stderr}");
}

/// mayexec-python built against Debian's own `python3.11` (its
/// `libpython3.11.so`, its `/usr/lib/python3.11`), in
/// `target/python3.11-debian`: built here when missing, as
/// `scripts/python-versions.sh` builds other versions (`PYO3_PYTHON` and a
/// target directory of its own). `None` where Debian's python3.11 and its
/// development files are not installed.
fn debian_mayexec_python() -> Option<PathBuf> {
    let python = Path::new("/usr/bin/python3.11");
    let library = Path::new("/usr/lib/x86_64-linux-gnu/libpython3.11.so");
    let header = Path::new("/usr/include/python3.11/Python.h");
    if !(python.exists() && library.exists() && header.exists()) {
        return None;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = workspace.join("target/python3.11-debian");
    let out = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args([
            "build",
            "--quiet",
            "-p",
            "mayexec-python",
            "--manifest-path",
        ])
        .arg(workspace.join("Cargo.toml"))
        .env("PYO3_PYTHON", python)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building {}: {}",
        target.display(),
        describe(&out)
    );
    Some(target.join("debug/mayexec-python"))
}

/// Debian's 0644 Python 3.11 standard library, trusted by `mayexec trust
/// from-dpkg` of its packages, runs a program under level 1 + `trust =
/// "required"` in place, with no chmod, through a mayexec-python that
/// embeds Debian's python3.11. The caches Debian's post-install step
/// compiled are in no package's file list: untrusted, they are not used
/// (the trusted sources are compiled, and nothing is written); once an
/// administrator trusts them (`mayexec trust add`), they are. A copy of a
/// Debian module, trusted, then with one byte changed, is refused.
#[root_test]
fn debians_standard_library_runs_under_trust_with_no_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let Some(python) = debian_mayexec_python() else {
        // Not Debian 12's Python (the 3.14 root of scripts/python-versions.sh),
        // or no libpython3.11-dev to embed it (scripts/setup.sh installs it:
        // under CI=true, outside that root, its absence is a failure).
        let why = "no Debian python3.11 with its development files \
                   (apt-get install libpython3.11-dev)";
        assert!(
            !mayexec_testkit::in_ci() || std::env::var_os("MAYEXEC_DEBIAN_ROOT").is_some(),
            "{why}"
        );
        eprintln!("skipped: {why}");
        return;
    };
    let code = Tmpfs::exec();
    let stdlib = Path::new("/usr/lib/python3.11");
    let host = Host::new(&policy(Some(1), &code, stdlib), stdlib);
    let module = code.path().join("wrapcopy.py");
    fs::copy(stdlib.join("textwrap.py"), &module).unwrap();
    let main = write(
        &code.path().join("main.py"),
        &format!(
            "{STDLIB_IMPORTS}\nimport wrapcopy\nprint(wrapcopy.fill('debian', 40), json.dumps([1]))\n"
        ),
        0o644,
    );
    let run = || {
        host.python(&python, code.path(), &[])
            .args(["-v".as_ref(), main.as_os_str()])
            .output()
            .unwrap()
    };
    let decoder = stdlib.join("json/decoder.py");
    let decoder_cache = stdlib.join("json/__pycache__/decoder.cpython-311.pyc");
    let caches_before = fs::metadata(&decoder_cache).unwrap().modified().unwrap();

    host.trust([
        "from-dpkg",
        "libpython3.11-minimal:amd64",
        "libpython3.11-stdlib:amd64",
    ]);
    host.trust(["add".as_ref(), main.as_os_str(), module.as_os_str()]);
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "debian [1]\n");
    for file in ["os.py", "json/decoder.py", "email/parser.py"] {
        let mode = fs::metadata(stdlib.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{file}");
    }
    // Debian's caches are not trusted: the sources were compiled, and no
    // cache was written over Debian's.
    assert!(
        stderr(&out).contains(&format!("code object from {}\n", decoder.display())),
        "{}",
        describe(&out)
    );
    assert_eq!(
        fs::metadata(&decoder_cache).unwrap().modified().unwrap(),
        caches_before
    );
    // Not even tried (the standard library is read-only here: CPython
    // would say so under -v).
    assert!(
        !stderr(&out).contains("could not create") && !stderr(&out).contains("# created "),
        "{}",
        describe(&out)
    );
    assert!(!code.path().join("__pycache__").exists());

    // Trusted by the administrator, Debian's caches are used.
    let caches: Vec<PathBuf> = stdlib_files(stdlib)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "pyc"))
        .collect();
    host.trust(std::iter::once(PathBuf::from("add")).chain(caches));
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!("code object from '{}'", decoder_cache.display())),
        "{}",
        describe(&out)
    );

    let mut bytes = fs::read(&module).unwrap();
    let at = bytes.iter().position(|&b| b == b'#').unwrap();
    bytes[at + 1] = b'!';
    fs::write(&module, bytes).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!(
            "PermissionError: [Errno 13] script execution denied (untrusted-content): '{}'\n",
            module.display()
        )),
        "{}",
        describe(&out)
    );
}
