//! Fixtures shared by mayexec-python's tests.
#![allow(dead_code)] // each test file uses a different part

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mayexec_testkit::{workspace_bin, Sandbox, Tmpfs};

/// The binary under test.
pub fn mayexec_python() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mayexec-python"))
}

/// The `python3` whose shared library mayexec-python embeds.
pub fn reference_python() -> PathBuf {
    PathBuf::from(env!("MAYEXEC_PYTHON_REFERENCE"))
}

/// The CPython version mayexec-python embeds (`3.12`).
pub const PYTHON_VERSION: &str = env!("MAYEXEC_PYTHON_VERSION");

/// The standard library's directory under a prefix: `lib/python3.12`.
pub fn stdlib_subdir() -> String {
    format!("lib/python{PYTHON_VERSION}")
}

/// The bytecode cache tag of that version (`cpython-312`, as in
/// `__pycache__/mod.cpython-312.pyc` and `_json.cpython-312-x86_64-linux-gnu.so`).
pub fn cache_tag() -> String {
    format!("cpython-{}", PYTHON_VERSION.replace('.', ""))
}

/// The `mayexec` command (`mayexec run`).
pub fn mayexec() -> PathBuf {
    workspace_bin("mayexec")
}

/// The machine's standard library directory (`lib/python3.X`).
pub fn stdlib_dir() -> PathBuf {
    let out = Command::new(reference_python())
        .args([
            "-S",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("run the reference python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A copy of the standard library's Python files, their cached bytecode
/// and its extension modules, marked executable (mode 0755), on an exec
/// tmpfs: a `PYTHONHOME` that passes the full check, as
/// `docs/deployment.md` tells administrators to prepare one. The machine's
/// own install (mode 0644; Debian's extension modules too) is never touched.
#[derive(Debug)]
pub struct ExecutableHome {
    fs: Tmpfs,
}

/// Directories of the standard library that no test imports.
/// (And `config-3.X-<platform>`, whatever its name.)
const SKIPPED: [&str; 12] = [
    "test",
    "site-packages",
    "idlelib",
    "tkinter",
    "turtledemo",
    "lib2to3",
    "ensurepip",
    "pydoc_data",
    "distutils",
    "lib-dynload",
    "venv",
    "msilib",
];

impl ExecutableHome {
    pub fn new() -> ExecutableHome {
        // Room for the standard library and a copy of libpython.
        let fs = Tmpfs::mount_sized(false, "256m").expect("mount tmpfs");
        let src = stdlib_dir();
        let dst = fs.path().join(stdlib_subdir());
        copy_python_files(&src, &dst);
        let dynload = dst.join("lib-dynload");
        fs::create_dir(&dynload).expect("mkdir lib-dynload");
        for entry in fs::read_dir(src.join("lib-dynload")).expect("read lib-dynload") {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                let to = dynload.join(entry.file_name());
                fs::copy(entry.path(), &to).expect("copy an extension module");
                fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
            }
        }
        ExecutableHome { fs }
    }

    /// The value for `PYTHONHOME`.
    pub fn path(&self) -> &Path {
        self.fs.path()
    }

    /// A value for `LD_LIBRARY_PATH` under which any user's mayexec-python
    /// loads the embedded libpython, copied into this home: for users who
    /// cannot read where it is installed (pyenv's is under root's 0700
    /// home directory).
    pub fn library_path(&self) -> PathBuf {
        let libdir = self.fs.path().join("lib");
        let library = libpython();
        let to = libdir.join(library.file_name().expect("a file name"));
        if !to.exists() {
            fs::copy(&library, &to).expect("copy libpython");
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        libdir
    }
}

/// The shared library the reference python3 runs with
/// (`LIBDIR/INSTSONAME`, e.g. `libpython3.12.so.1.0`).
fn libpython() -> PathBuf {
    let out = Command::new(reference_python())
        .args([
            "-S",
            "-c",
            "import os, sysconfig; v = sysconfig.get_config_var; \
             print(os.path.join(v('LIBDIR'), v('INSTSONAME')))",
        ])
        .output()
        .expect("run the reference python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Copies a directory's files before its subdirectories: its
/// `__pycache__` is written after its sources, so each cache's ctime is
/// newer than its source's, as after `compileall` and `mayexec mark` (a
/// cached module's source then gets the emulated rules, and its cache the
/// kernel's check: docs/semantics.md).
fn copy_python_files(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let mut subdirs = Vec::new();
    for entry in fs::read_dir(src).expect("read the standard library") {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let kind = entry.file_type().unwrap();
        let name_str = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIPPED.iter().any(|s| name == *s) && !name_str.starts_with("config-") {
                subdirs.push(name);
            }
        } else if kind.is_file()
            && (name_str.ends_with(".py") || name_str.ends_with(&format!(".{}.pyc", cache_tag())))
        {
            // The .pyc files record their source's mtime: keep it.
            let to = dst.join(&name);
            fs::copy(entry.path(), &to).expect("copy");
            let mtime = entry.metadata().unwrap().modified().unwrap();
            fs::File::options()
                .write(true)
                .open(&to)
                .and_then(|f| f.set_modified(mtime))
                .expect("set mtime");
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    for name in subdirs {
        copy_python_files(&src.join(&name), &dst.join(&name));
    }
}

// Not every test binary that includes this module uses all of them.
#[allow(unused_imports)]
pub use mayexec_testkit::interp::{Enforced, Place, Places};

/// Writes `contents` to `path` with exactly `mode`.
pub fn write(path: &Path, contents: &str, mode: u32) -> PathBuf {
    mayexec_testkit::write_file(path, contents.as_bytes(), mode)
}

/// Compiles `source_file` to a `.pyc` at `pyc` with the reference
/// python3, mode 0755: a valid cache of any source of the same size and
/// mtime.
pub fn compile_pyc(source_file: &Path, pyc: &Path) {
    let out = Command::new(reference_python())
        .args([
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
        ])
        .arg(source_file)
        .arg(pyc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::set_permissions(pyc, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// Python code that leaves `marker` behind when it runs.
pub fn marking(marker: &Path) -> String {
    format!(
        "open({:?}, 'w').write('ran')\nprint('ran', __name__)\n",
        marker.to_str().unwrap()
    )
}

/// mayexec-python under `enforced`, started in `sandbox`; add its
/// arguments.
pub fn python_command(enforced: Enforced, sandbox: &Sandbox) -> Command {
    enforced.command(sandbox, mayexec_python())
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything about a run, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}
