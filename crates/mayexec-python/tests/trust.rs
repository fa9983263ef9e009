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
use mayexec_testkit::{root_test, Sandbox, TempDir, Tmpfs};

/// Mounts an overlay on `/var/lib` whose changes go to `$1` (kept between
/// commands), then runs the rest of the arguments.
const WITH_VAR_LIB: &str = r#"set -e
w=$1; shift
mkdir -p "$w/upper" "$w/work"
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$w/upper,workdir=$w/work" /var/lib
exec "$@"
"#;

/// A policy file, a captured syslog and a private `/var/lib` (so a private
/// trust database), for any number of commands.
struct Host {
    sandbox: Sandbox,
    var_lib: TempDir,
}

impl Host {
    fn new(policy: &str) -> Host {
        Host {
            sandbox: Sandbox::new().policy(policy).capture_syslog(),
            var_lib: TempDir::new(),
        }
    }

    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = self.sandbox.command("/bin/sh");
        cmd.args(["-c", WITH_VAR_LIB, "sh"])
            .arg(self.var_lib.path())
            .arg(program);
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

fn policy(level: Option<u8>, code: &Tmpfs) -> String {
    let level = level.map_or(String::new(), |l| format!("interpreted_access = {l}\n"));
    format!(
        "{level}trust = \"required\"\ntrust_mounts = [\"/\", \"{}\"]\n",
        code.path().display()
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
    let host = Host::new(&policy(None, &code));
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
