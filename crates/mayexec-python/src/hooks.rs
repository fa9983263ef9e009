//! The open-code hook and the audit hook, installed before CPython starts.
//!
//! **Open-code hook** (PEP 578, `io.open_code`): CPython calls it for the
//! files it reads as code: imported `.py` files and the `__pycache__`
//! `.pyc` actually read, packages' `__main__`, `-m` targets, zip
//! applications and every read of a zip import's archive, `.pth` files
//! (site.py), `runpy.run_path`, and the scripts of `pdb`, `profile`,
//! `cProfile` and `trace`. It opens the file once, checks *that*
//! descriptor, and hands CPython a reader over it: the file checked is the
//! file read. A denial raises `PermissionError` (`EACCES`) naming the file
//! and the reason, from the `import` statement.
//!
//! **Content trust** (`trust = "audit" | "required"`, docs/trust.md) is
//! part of every verdict here, with or without a level: each file below
//! must be trusted as well. A bytecode cache is the one exception to
//! "refused and logged": one that is not trusted itself is not used (the
//! loader compiles its trusted source), and none is written.
//!
//! **Audit hook**, for what does not go through `io.open_code`:
//! - sourceless `.pyc` imports: `SourcelessFileLoader.get_data` reads with
//!   `FileIO`, not `io.open_code`; at the first `import` event of each
//!   interpreter (before any path-based import) the method is replaced by
//!   one that reads through `io.open_code`; and under a script policy,
//!   `SourceFileLoader._cache_bytecode` gives the `.pyc` it writes the
//!   execute bits of a source that passes the check (CPython masks them
//!   off), and `SourceFileLoader.get_data` checks the source before its
//!   `.pyc` is read: a cache never runs a denied source's code (see
//!   below for how);
//! - modules with loaders of their own, adjusted as the import system
//!   loads them (`_bootstrap._load_unlocked` and `_exec` are wrapped):
//!   `imp` reads the file objects it is handed through `io.open_code`,
//!   and `_ctypes.dlopen` is replaced (below);
//! - extension modules (`import` event with the `.so` path), and
//!   `ctypes.dlopen` of a path in any form (str, bytes, path-like):
//!   checked, and the next `dlopen` of that path maps the file checked,
//!   from its descriptor ([`crate::dl`]);
//! - `_ctypes.dlopen`, replaced as `_ctypes` is loaded: every name is
//!   checked, and the library loaded from the checked descriptor.
//!
//! **A cached module's source** (docs/semantics.md §3.2). The `.pyc`, the
//! code that runs, always gets the full check of the enforcement's
//! backend. Where that is the kernel's, the source gets the emulated
//! level-3 rules instead of a second kernel check ([`emulated_for_source`],
//! [`same_verdict_proven`]) when all of these hold, and its kernel check
//! otherwise:
//! 1. the kernel backend decides (with the emulated one, nothing changes);
//! 2. no content trust is in force;
//! 3. the cache is the one beside its source, `DIR/__pycache__/BASE.TAG.pyc`
//!    (or `.opt-N.pyc`) for `DIR/BASE.py`, with `sys.pycache_prefix` unset,
//!    `__pycache__` a real directory and the cache's name reaching the file
//!    opened without a symlink;
//! 4. source and cache on the same mount (`stx_mnt_id`);
//! 5. the source's ctime strictly older than the cache's;
//! 6. the thread has no no_new_privs (needed without privilege to enter a
//!    Landlock domain; read at each import) and the process no LSM label
//!    but none, empty or `unconfined` (read once).
//!
//! 1–3 and 6 are decided before the source is opened; 4 and 5 once the
//! cache is open and has passed its own check ([`open_cache_file`]): where
//! they fail, the open source gets its kernel check there, before CPython
//! reads the cache. Any error is a doubt, and a doubt is the kernel's
//! check. What this assumes (a privileged process in a Landlock domain
//! without no_new_privs, a BPF LSM program, IMA/IPE rules or a fanotify
//! listener that tell source and cache apart by owner or path) is listed
//! in docs/semantics.md §3.2.

use std::cell::RefCell;
use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use mayexec::{Action, Backend, BackendChoice, Checker, Denial, Enforcement, Level, ScriptError};

use pyo3::exceptions::{PyOSError, PyPermissionError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyCode, PyDict, PyString, PyTuple};

use crate::cpython::{self, fs_decode, fs_encode, HookError};
use crate::dl;
use crate::entrypoints::{self, EntryPoint};

struct State {
    enforcement: Enforcement,
    /// The same without content trust: what a bytecode cache is judged by
    /// before the trust database is asked whether it may be used
    /// ([`open_cache_file`]).
    level_only: Enforcement,
    /// The last file the hooks refused, for telling a refused `-m` target
    /// from an exception of the program's own.
    last_denial: Mutex<Option<Denial>>,
    /// The interpreters whose `SourcelessFileLoader` reads through
    /// `io.open_code`.
    patched: Mutex<Vec<i64>>,
}

static STATE: OnceLock<State> = OnceLock::new();

fn state() -> &'static State {
    STATE.get().expect("hooks::install runs first")
}

/// Installs both hooks, enforcing `enforcement`. Call once, before the
/// interpreter is configured.
pub fn install(enforcement: Enforcement) -> Result<(), HookError> {
    let level_only = enforcement.clone().with_trust(None);
    let fresh = STATE
        .set(State {
            enforcement,
            level_only,
            last_denial: Mutex::new(None),
            patched: Mutex::new(Vec::new()),
        })
        .is_ok();
    assert!(fresh, "hooks::install runs once");
    cpython::install_hooks(open_code, audit)
}

/// Opens a file to run as code: opened once, checked, the verdict enforced
/// (and logged) as the policy says, and that open file returned.
///
/// With no script policy and no content trust in force a failed check is
/// neither logged nor enforced, so the check is not made for a regular
/// file (or directory):
/// the kernel's costs some 30 µs a file (see docs/performance.md), for an
/// answer nobody would hear. Anything else (a FIFO, a terminal,
/// `/dev/stdin`) is opened again by [`Enforcement::open_script`], whose
/// rules for it hold with or without a script policy: interactive input
/// under deny-interactive, and a FIFO waited on until its writer comes.
pub fn open_code_file(enforcement: &Enforcement, path: &OsStr) -> Result<File, ScriptError> {
    open_code_file_noting(enforcement, path, true)
}

/// [`open_code_file`], noting the file as the last one of this thread that
/// passed the check ([`remember_passed`]) only when `note`: a bytecode
/// cache, or the source checked before its cache is read, is never the
/// source of a cache CPython writes next (a stale cache's source is read
/// again, through the open-code hook, before it is compiled and cached),
/// and noting it costs an `fstat`.
fn open_code_file_noting(
    enforcement: &Enforcement,
    path: &OsStr,
    note: bool,
) -> Result<File, ScriptError> {
    if !checks_files(enforcement) {
        let file = mayexec::open_for_reading(Path::new(path)).map_err(ScriptError::Open)?;
        // (One fstat for the type, rather than std's statx of every field.)
        let kind =
            rustix::fs::fstat(&file).map(|st| rustix::fs::FileType::from_raw_mode(st.st_mode));
        if matches!(
            kind,
            Ok(rustix::fs::FileType::RegularFile | rustix::fs::FileType::Directory)
        ) {
            return Ok(file);
        }
    }
    let script = enforcement.open_script(path)?;
    if note && script.verdict.is_allowed() {
        remember_passed(path, &script.file);
    }
    Ok(script.file)
}

/// Is any file loaded as code judged: a script policy (a level, or the
/// restrict-file securebit), or content trust (`trust = "audit" |
/// "required"`, which holds with or without a level)?
fn checks_files(enforcement: &Enforcement) -> bool {
    enforcement.scripts != Action::Ignore || enforcement.trust.is_some()
}

/// The trust database's refusal of `file`, when trust is enforced and the
/// file is not trusted (a database that cannot be used trusts nothing; an
/// identity that cannot be read never passes); never logged. `backend`
/// names the check in the denial.
fn trust_refusal(
    enforcement: &Enforcement,
    path: &OsStr,
    file: &File,
    backend: mayexec::Backend,
) -> Option<Denial> {
    let trust = enforcement
        .trust
        .as_ref()
        .filter(|t| t.action == Action::Enforce)?;
    let verdict = trust.store.judge(file, mayexec::Verdict::allow(backend));
    Denial::of(path, verdict)
}

/// A file that passed the check, as its checked descriptor saw it.
#[derive(Clone)]
struct Passed {
    path: Vec<u8>,
    dev: u64,
    ino: u64,
    mode: u32,
}

/// Notes `file` as the last code file of this thread that passed the
/// check: CPython caches a module's bytecode right after reading its
/// source, on the same thread, and the cache then takes its execute bits
/// from what was checked, not from whatever the path names by then.
fn remember_passed(path: &OsStr, file: &File) {
    let passed = rustix::fs::fstat(file).ok().map(|st| Passed {
        path: path.as_bytes().to_vec(),
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
    });
    LAST_PASSED.set(passed);
}

thread_local! {
    /// The last code file of this thread that passed the check.
    static LAST_PASSED: RefCell<Option<Passed>> = const { RefCell::new(None) };
    /// The `/proc/self/fd/N` name `ctypes_dlopen` is loading, checked.
    static LOADING: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// The file [`quietly`] is probing, if any.
    static QUIET: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// The bytecode cache [`source_get_data`] is reading for a source that
    /// passed the check, if any ([`open_cache_file`]).
    static CACHE: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// The source of the cache in [`CACHE`], when it got the emulated
    /// rules ([`check_cached_source`]).
    static CHEAP_SOURCE: RefCell<Option<CheapSource>> = const { RefCell::new(None) };
    /// A source [`check_cached_source`] refused (and logged): the loader
    /// reads it next, and that read is refused without a second line.
    static REFUSED_SOURCE: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Runs `f` with the open-code hook deciding as usual but logging nothing
/// for `path` (and only for it): for probing the main script, whose
/// verdict is logged when it is run.
pub fn quietly<T>(path: &[u8], f: impl FnOnce() -> T) -> T {
    let before = QUIET.replace(Some(path.to_vec()));
    let result = f();
    QUIET.set(before);
    result
}

/// [`open_code_file`] without the audit line: what the level refuses, and
/// then what the trust database does not trust, is refused as there.
fn open_code_file_quietly(enforcement: &Enforcement, path: &OsStr) -> Result<File, ScriptError> {
    if !checks_files(enforcement) {
        return mayexec::open_for_reading(Path::new(path)).map_err(ScriptError::Open);
    }
    let script = enforcement.checker.open_and_check(path)?;
    if enforcement.scripts == Action::Enforce {
        if let Some(denial) = Denial::of(path, script.verdict) {
            return Err(ScriptError::Denied(denial));
        }
    }
    if let Some(denial) = trust_refusal(enforcement, path, &script.file, script.verdict.backend()) {
        return Err(ScriptError::Denied(denial));
    }
    Ok(script.file)
}

/// Opens a module's bytecode cache, which [`source_get_data`] reads after
/// the module's source passed the check (level and trust alike).
///
/// The level judges the cache as it judges any file (logged, enforced).
/// Under content trust, the cache is used only if it is trusted itself:
/// `Ok(None)` otherwise, when trust is enforced, without an audit line —
/// nothing is refused, CPython compiles the trusted source instead (a
/// cache it cannot read is one it does not use). The cache's header is
/// then validated against the source by CPython as usual (size and mtime,
/// or the source's hash): a trusted cache of another version of the
/// source is not used either. A header proves nothing by itself: anyone
/// who can write a cache directory (`PYTHONPYCACHEPREFIX` names one
/// anywhere) can write a valid header over any code; see docs/trust.md.
fn open_cache_file(path: &OsStr) -> Result<Option<File>, ScriptError> {
    let state = state();
    if state.enforcement.trust.is_none() {
        let file = open_code_file_noting(&state.enforcement, path, false)?;
        // A source that got the emulated rules: its kernel check unless
        // the cache's verdict is proven to be its own.
        if let Some(source) = CHEAP_SOURCE.take() {
            if !same_verdict_proven(&source, &file, path) {
                let name = OsStr::from_bytes(&source.path);
                if let Err(denial) = state.enforcement.check_script(&source.file, name) {
                    REFUSED_SOURCE.set(Some(source.path));
                    return Err(ScriptError::Denied(denial));
                }
            }
        }
        return Ok(Some(file));
    }
    let file = open_code_file_noting(&state.level_only, path, false)?;
    let backend = state.enforcement.checker.backend();
    Ok(trust_refusal(&state.enforcement, path, &file, backend)
        .is_none()
        .then_some(file))
}

/// The open-code hook.
fn open_code<'py>(py: Python<'py>, path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let bytes = fs_encode(path)?;
    if bytes.contains(&0) {
        return Err(PyValueError::new_err("embedded null byte"));
    }
    let path_os = OsStr::from_bytes(&bytes);
    let quiet = QUIET.with_borrow(|quiet| quiet.as_deref() == Some(&bytes[..]))
        || REFUSED_SOURCE.with_borrow_mut(|refused| {
            refused
                .take_if(|refused| refused[..] == bytes[..])
                .is_some()
        });
    let cache = CACHE.with_borrow(|cache| cache.as_deref() == Some(&bytes[..]));
    let opened = if quiet {
        open_code_file_quietly(&state().enforcement, path_os)
    } else if cache {
        match open_cache_file(path_os) {
            Ok(Some(file)) => Ok(file),
            Ok(None) => {
                // Not remembered as a refusal, and not logged: nothing is
                // refused, the loader compiles the trusted source instead.
                let reason = mayexec::Reason::UntrustedContent;
                return Err(permission_error(
                    &format!("script execution denied ({reason})"),
                    path,
                ));
            }
            Err(error) => Err(error),
        }
    } else {
        open_code_file(&state().enforcement, path_os)
    };
    match opened {
        Ok(file) => binary_reader(py, file, path),
        Err(ScriptError::Open(error)) => Err(os_error(
            error.source.raw_os_error().unwrap_or(libc::EIO),
            path,
        )),
        // (The source of a cache, refused as the cache is opened.)
        Err(ScriptError::Denied(denial)) if denial.path.as_bytes() != &bytes[..] => {
            let source = fs_decode(py, denial.path.as_bytes())?;
            Err(deny(&source, denial))
        }
        Err(ScriptError::Denied(denial)) => Err(deny(path, denial)),
    }
}

/// Wraps a descriptor the caller owns as `io.BufferedReader(io.FileIO(fd,
/// "rb"))` named `name`: what `io.open(name, "rb")` returns, for a file
/// opened (and checked) by the caller.
fn binary_reader<'py>(
    py: Python<'py>,
    file: File,
    name: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    use std::os::fd::{AsRawFd, IntoRawFd};
    // (Taken from the interpreter's modules when there, as it is from its
    // start: no `__import__` call, no look at its spec.)
    let io = match cpython::loaded_module(py, intern!(py, "_io")) {
        Some(io) => io,
        None => py.import("_io")?.into_any(),
    };
    let raw = io
        .getattr(intern!(py, "FileIO"))?
        .call1((file.as_raw_fd(), intern!(py, "rb")))?;
    // FileIO owns the descriptor from here on (closefd=True); on failure
    // above, `file` still owns and closes it.
    let _ = file.into_raw_fd();
    raw.setattr(intern!(py, "name"), name)?;
    io.getattr(intern!(py, "BufferedReader"))?.call1((raw,))
}

/// `PermissionError(EACCES, message, filename)`.
fn permission_error(message: &str, filename: &Bound<'_, PyAny>) -> PyErr {
    raised::<PyPermissionError>(filename.py(), (libc::EACCES, message, filename))
}

/// The `OSError` subclass for `errno`, naming `filename`, as a failed
/// `open()` raises (`OSError(errno, strerror, filename)` is the subclass
/// for its errno: `FileNotFoundError` for `ENOENT`, and so on).
pub fn os_error(errno: i32, filename: &Bound<'_, PyAny>) -> PyErr {
    raised::<PyOSError>(filename.py(), (errno, cpython::strerror(errno), filename))
}

/// The exception `T(*args)`, made now, as `PyErr_SetFromErrno` makes its
/// own: its type is then the instance's (`OSError(ENOENT, …)` is a
/// `FileNotFoundError`) for C code that asks `PyErr_ExceptionMatches` too,
/// not only for Python's `except`.
fn raised<'py, T: pyo3::PyTypeInfo>(
    py: Python<'py>,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyErr {
    match py.get_type::<T>().call1(args) {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// `PermissionError(EACCES, "script execution denied (REASON)", path)`,
/// the denial remembered.
fn deny(path: &Bound<'_, PyAny>, denial: Denial) -> PyErr {
    let reason = denial.reason;
    let error = permission_error(&format!("script execution denied ({reason})"), path);
    *state()
        .last_denial
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(denial);
    error
}

/// The audit hook.
fn audit<'py>(py: Python<'py>, event: &CStr, args: &Bound<'py, PyTuple>) -> PyResult<()> {
    match event.to_bytes() {
        b"import" => {
            adjust_import_system(py)?;
            // ("name", None, sys.path, …) for every import; ("name", origin,
            // None, None, None) just before an extension module is loaded.
            let origin = args.get_item(1)?;
            if origin.is_instance_of::<PyString>() {
                check_native_code(&origin)?;
            }
        }
        // Code run by `exec` or `eval` (runpy's `_run_code`, profile,
        // trace, pdb, and every import): a standard library entry point
        // run as a program is refused under deny-interactive.
        b"exec" if state().enforcement.interactive != Action::Ignore => {
            let code = args.get_item(0)?;
            if code.is_instance_of::<PyCode>() {
                check_entry_point(py, &code)?;
            }
        }
        b"ctypes.dlopen" => {
            // `_ctypes.dlopen` (wrapped by `ctypes_dlopen`), with the name
            // as given: a str, bytes or a path-like object. A path is
            // checked here whatever called the loader; a bare name is
            // resolved and checked by the wrapper, which has the loader
            // map what it checked (the path it then hands `_ctypes.dlopen`
            // is not checked twice).
            let name = args.get_item(0)?;
            if !name.is_none() {
                let bytes = cpython::fs_path(&name)?;
                let own = LOADING.with_borrow(|loading| loading.as_deref() == Some(&bytes[..]));
                if bytes.contains(&b'/') && !own {
                    check_native_code(&fs_decode(py, &bytes)?)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The modules through which the import system runs a module's code: an
/// `exec` from them is an import, not a program run.
const IMPORT_SYSTEM: [&str; 3] = [
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "zipimport",
];

/// Refuses, under deny-interactive, to run `code` when it is the code of a
/// standard library entry point that runs code from no checked file
/// ([`entrypoints::REFUSED`]) and it is run other than by an import.
fn check_entry_point<'py>(py: Python<'py>, code: &Bound<'py, PyAny>) -> PyResult<()> {
    // (Every import runs its module's code so: asked first, as it is the
    // cheapest question.)
    if cpython::running_module_is(py, &IMPORT_SYSTEM) {
        return Ok(());
    }
    let filename = code.getattr(intern!(py, "co_filename"))?;
    if !filename.is_instance_of::<PyString>() {
        return Ok(());
    }
    // A name that cannot be encoded names no file.
    let Ok(bytes) = fs_encode(&filename) else {
        return Ok(());
    };
    if !(bytes.ends_with(b".py") || bytes.ends_with(b".pyc") || bytes.starts_with(b"<frozen ")) {
        return Ok(());
    }
    match entrypoints::refused(&bytes) {
        Some(entry) => refuse_entry_point(py, &entry),
        None => Ok(()),
    }
}

/// Under deny-interactive, `entry` is refused (and logged, `-m NAME`,
/// reason `interactive`): `PermissionError` naming it. In audit mode it is
/// logged and runs.
fn refuse_entry_point(py: Python<'_>, entry: &EntryPoint) -> PyResult<()> {
    let label = entry.label();
    match state()
        .enforcement
        .check_interactive(None, OsStr::new(&label))
    {
        Ok(_) => Ok(()),
        Err(denial) => Err(deny(PyString::new(py, &label).as_any(), denial)),
    }
}

/// Under deny-interactive, `breakpoint()` opens no prompt: `sys.breakpointhook`
/// (and `sys.__breakpointhook__`, which programs restore it from) become a
/// hook that refuses, logs and returns, as `PYTHONBREAKPOINT=0` does. The
/// debugger it would start (pdb by default, or any callable
/// `PYTHONBREAKPOINT` names, such as `code.interact`) reads code from
/// standard input. In audit mode it is logged and runs. A hook the program
/// installs itself is its own.
pub fn guard_breakpoint(py: Python<'_>) -> PyResult<()> {
    if state().enforcement.interactive == Action::Ignore {
        return Ok(());
    }
    let sys = py.import("sys")?;
    let original = sys.getattr("__breakpointhook__")?.unbind();
    let hook = PyCFunction::new_closure(
        py,
        Some(c"breakpointhook"),
        Some(c"breakpointhook(*args, **kws)\n\nUnder deny-interactive, opens no debugger: the prompt it would read is interactive input (mayexec)."),
        move |args, kwargs| breakpointhook(original.bind(args.py()), args, kwargs),
    )?;
    sys.setattr("breakpointhook", &hook)?;
    sys.setattr("__breakpointhook__", &hook)
}

/// The hook [`guard_breakpoint`] installs. `PYTHONBREAKPOINT=0` (read as
/// CPython's own hook reads it, at each call, unless `-E` or `-I`) disables
/// it without a word, as in `python3`.
fn breakpointhook(
    original: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Py<PyAny>> {
    let py = original.py();
    let chosen = if cpython::run_config(py).use_environment {
        std::env::var_os("PYTHONBREAKPOINT").filter(|v| !v.is_empty())
    } else {
        None
    };
    if chosen.as_deref() == Some(OsStr::new("0")) {
        return Ok(py.None());
    }
    let label = if chosen.is_some() {
        "PYTHONBREAKPOINT"
    } else {
        "breakpoint()"
    };
    match state()
        .enforcement
        .check_interactive(None, OsStr::new(label))
    {
        Ok(_) => Ok(original.call(args, kwargs)?.unbind()),
        Err(denial) => {
            cpython::write_stderr(py, &format!("{}: {denial}\n", crate::PROGRAM));
            Ok(py.None())
        }
    }
}

/// Checks a shared object just before the dynamic loader is handed its
/// path, and makes the loader map the file checked: the next `dlopen` of
/// that path in this thread loads it from its descriptor
/// ([`dl::load_next_from`]). A file that cannot be opened raises the
/// `OSError` of `open`, as a denied one raises `PermissionError`: the
/// loader, which would open the path again, is not handed it.
fn check_native_code(path: &Bound<'_, PyAny>) -> PyResult<()> {
    let enforcement = &state().enforcement;
    if !checks_files(enforcement) {
        return Ok(());
    }
    let bytes = fs_encode(path)?;
    match enforcement.open_script(OsStr::from_bytes(&bytes)) {
        Ok(script) => {
            dl::load_next_from(bytes, script.file);
            Ok(())
        }
        Err(ScriptError::Open(error)) => Err(os_error(
            error.source.raw_os_error().unwrap_or(libc::EIO),
            path,
        )),
        Err(ScriptError::Denied(denial)) => Err(deny(path, denial)),
    }
}

/// Adjusts this interpreter's import system, once it is there (before any
/// path-based import): `SourcelessFileLoader.get_data` reads through
/// `io.open_code`, and, when a script policy is in force,
/// `SourceFileLoader._cache_bytecode` gives a new `.pyc` its source's
/// execute bits. Errors propagate: an import must not go ahead unchecked.
fn adjust_import_system(py: Python<'_>) -> PyResult<()> {
    let id = cpython::interpreter_id(py);
    // (The lock is not held while Python runs: setattr raises an audit
    // event of its own.)
    let patched = || {
        state()
            .patched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if patched().contains(&id) {
        return Ok(());
    }
    // Until the path-based import system is installed, no file can be
    // imported, and there is nothing to adjust.
    let Some(external) = cpython::loaded_module(py, intern!(py, "_frozen_importlib_external"))
    else {
        return Ok(());
    };
    let (Ok(sourceless), Ok(source)) = (
        external.getattr("SourcelessFileLoader"),
        external.getattr("SourceFileLoader"),
    ) else {
        return Ok(());
    };
    sourceless.setattr(
        "get_data",
        method(
            &py.None().into_bound(py),
            &SOURCELESS_GET_DATA,
            sourceless_get_data,
        )?,
    )?;
    if checks_files(&state().enforcement) {
        let original = source.getattr("_cache_bytecode")?;
        source.setattr(
            "_cache_bytecode",
            method(&original, &CACHE_BYTECODE, cache_bytecode)?,
        )?;
        let original = source.getattr("get_data")?;
        source.setattr(
            "get_data",
            method(&original, &SOURCE_GET_DATA, source_get_data)?,
        )?;
        // Modules with loaders of their own (imp, _ctypes) are adjusted
        // as they are loaded (or reloaded).
        let bootstrap = cpython::loaded_module(py, intern!(py, "_frozen_importlib"))
            .ok_or_else(|| PyRuntimeError::new_err("no _frozen_importlib"))?;
        for (name, def) in [("_load_unlocked", &LOAD_UNLOCKED), ("_exec", &EXEC)] {
            let original = bootstrap.getattr(name)?;
            bootstrap.setattr(name, method(&original, def, module_loaded)?)?;
        }
    }
    patched().push(id);
    Ok(())
}

/// Has this interpreter's import system been adjusted? Makes sure of it;
/// `false` or an error means the interpreter must not run anything.
pub fn ensure_import_system_adjusted(py: Python<'_>) -> PyResult<bool> {
    adjust_import_system(py)?;
    let id = cpython::interpreter_id(py);
    Ok(state()
        .patched
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .contains(&id))
}

/// The name and documentation of a method made in Rust ([`method`]); the
/// documentation ends with "(mayexec)." ([`is_ours`]).
struct MethodDef {
    name: &'static CStr,
    doc: &'static CStr,
}

/// The implementation of a method put on a class in place of `original`:
/// `(original, args)`, `args` beginning with the instance.
type Method = for<'py> fn(&Bound<'py, PyAny>, &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>>;

/// The method `def.name(self, *args)`, implemented by `f` with `original`
/// at hand: a function made of a closure ([`PyCFunction::new_closure`]),
/// made an instance method so that, put on a class, it binds to instances
/// as a function written in Python does. Keywords are refused, as by the
/// positional-only builtins these methods replace in effect (none of their
/// callers passes any).
fn method<'py>(
    original: &Bound<'py, PyAny>,
    def: &'static MethodDef,
    f: Method,
) -> PyResult<Bound<'py, PyAny>> {
    let py = original.py();
    let original = original.clone().unbind();
    let function =
        PyCFunction::new_closure(py, Some(def.name), Some(def.doc), move |args, kwargs| {
            if kwargs.is_some_and(|kwargs| !kwargs.is_empty()) {
                let name = def.name.to_string_lossy();
                return Err(PyTypeError::new_err(format!(
                    "{name}() takes no keyword arguments"
                )));
            }
            f(original.bind(args.py()), args).map(Bound::unbind)
        })?;
    cpython::instance_method(function.as_any())
}

static SOURCELESS_GET_DATA: MethodDef = MethodDef {
    name: c"get_data",
    doc: c"Return the data from path as raw bytes, read through io.open_code() (mayexec).",
};

/// `SourcelessFileLoader.get_data(self, path)`, reading through
/// `io.open_code` as `SourceFileLoader` does:
///
/// ```python
/// with io.open_code(str(path)) as file:
///     return file.read()
/// ```
fn sourceless_get_data<'py>(
    _: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let [_loader, path] = args.as_slice() else {
        return Err(PyTypeError::new_err(
            "get_data() takes exactly one argument",
        ));
    };
    let file = cpython::open_code(path.str()?.as_any())?;
    read_and_close(&file)
}

/// `with file: return file.read()`.
fn read_and_close<'py>(file: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = file.py();
    match file.call_method0(intern!(py, "read")) {
        Ok(data) => {
            file.call_method0(intern!(py, "close"))?;
            Ok(data)
        }
        Err(error) => {
            // The error of `read` is the one raised.
            let _ = file.call_method0(intern!(py, "close"));
            Err(error)
        }
    }
}

static LOAD_UNLOCKED: MethodDef = MethodDef {
    name: c"_load_unlocked",
    doc: c"Load the module of a spec, then adjust its loaders (mayexec).",
};

static EXEC: MethodDef = MethodDef {
    name: c"_exec",
    doc: c"Execute a spec's module in an existing module's namespace, then adjust its loaders (mayexec).",
};

/// `_bootstrap._load_unlocked(spec)` and `_bootstrap._exec(spec, module)`
/// (every import, `imp`'s loads, `importlib.reload`), then
/// [`adjust_module`] on the module they return.
fn module_loaded<'py>(
    original: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let module = original.call1(args)?;
    if let Some(spec) = args.as_slice().first() {
        let name = spec.getattr(intern!(args.py(), "name"))?;
        if let Ok(name) = name.cast::<PyString>() {
            adjust_module(name, &module)?;
        }
    }
    Ok(module)
}

/// Closes the gaps of modules that load code their own way: `imp`'s
/// loaders read a file object opened with plain `open()`; `_ctypes.dlopen`
/// lets the dynamic loader open (and search for) the library.
fn adjust_module(name: &Bound<'_, PyString>, module: &Bound<'_, PyAny>) -> PyResult<()> {
    let Ok(name) = name.to_str() else {
        return Ok(());
    };
    if name == "_ctypes" {
        let original = module.getattr("dlopen")?;
        // A reloaded extension module keeps its namespace: wrap once.
        if !is_ours(&original) {
            module.setattr("dlopen", method(&original, &CTYPES_DLOPEN, ctypes_dlopen)?)?;
        }
    }
    if name == "imp" {
        let hacked = module.getattr("_HackedGetData")?;
        let original = hacked.getattr("get_data")?;
        if !is_ours(&original) {
            hacked.setattr("get_data", method(&original, &IMP_GET_DATA, imp_get_data)?)?;
        }
    }
    Ok(())
}

/// Is `function` one of the replacements made here (their documentation
/// ends with "(mayexec).")?
fn is_ours(function: &Bound<'_, PyAny>) -> bool {
    function
        .getattr("__doc__")
        .and_then(|doc| Ok(doc.cast_into::<PyString>()?.to_string_lossy().into_owned()))
        .is_ok_and(|doc| doc.ends_with("(mayexec)."))
}

static CTYPES_DLOPEN: MethodDef = MethodDef {
    name: c"dlopen",
    doc: c"dlopen(name, flag={RTLD_GLOBAL|RTLD_LOCAL}) open a shared library, checked, from the checked file (mayexec).",
};

/// `_ctypes.dlopen(name, mode)` (what `ctypes.CDLL`, `cdll.LoadLibrary`
/// and every other `ctypes` loader call), under a script policy:
///
/// - a name with a slash (str, bytes or path-like) is opened once,
///   checked, and loaded from that open file ([`dl::load_next_from`]):
///   the file checked is the file mapped;
/// - a bare name already loaded in the process (`libc.so.6`) maps
///   nothing new: the loaded object's handle is returned;
/// - another bare name is looked up in the loader's search path
///   ([`dl::loader_search_path`]), and the first file found there is
///   checked and loaded from its descriptor; a name found nowhere there
///   (only through `/etc/ld.so.cache`) is refused, with `ENOENT`: give
///   its path.
///
/// A denied library raises `PermissionError` as a denied import does.
fn ctypes_dlopen<'py>(
    original: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = args.py();
    let args = args.as_slice();
    let Some(name) = args.first().filter(|name| !name.is_none()) else {
        return original.call1(PyTuple::new(py, args)?);
    };
    let bytes = cpython::fs_path(name)?;
    if bytes.contains(&0) {
        return Err(PyValueError::new_err("embedded null byte"));
    }
    let enforcement = &state().enforcement;
    let path = if bytes.contains(&b'/') {
        bytes.clone()
    } else {
        let cname = std::ffi::CString::new(bytes.clone())
            .map_err(|_| PyValueError::new_err("embedded null byte"))?;
        // `_ctypes.dlopen`'s mode: RTLD_NOW, and RTLD_LOCAL unless given.
        let mode = match args.get(1) {
            Some(mode) => mode.extract::<libc::c_long>()? as libc::c_int,
            None => libc::RTLD_LOCAL,
        } | libc::RTLD_NOW;
        if let Some(handle) = dl::loaded_shared_object(&cname, mode) {
            // That very object, without a second search the directories
            // could change under.
            cpython::audit(py, c"ctypes.dlopen", Some(name))?;
            return Ok((handle as libc::c_long).into_pyobject(py)?.into_any());
        }
        match find_in_loader_search_path(&bytes) {
            Some(path) => path,
            None => return Err(os_error(libc::ENOENT, name)),
        }
    };
    let file = match enforcement.open_script(OsStr::from_bytes(&path)) {
        Ok(script) => script.file,
        // The loader reports a file it cannot open in its own words.
        Err(ScriptError::Open(_)) => return original.call1(PyTuple::new(py, args)?),
        Err(ScriptError::Denied(denial)) => {
            return Err(deny(&fs_decode(py, &path)?, denial));
        }
    };
    // `_ctypes.dlopen` hands the loader the path, and the loader maps
    // the file checked (`dl::load_next_from`); the `ctypes.dlopen` audit
    // event of that call does not check the path again.
    dl::load_next_from(path.clone(), file);
    let mut loaded_args = vec![fs_decode(py, &path)?];
    loaded_args.extend(args[1..].iter().cloned());
    let loaded_args = PyTuple::new(py, loaded_args)?;
    let before = LOADING.replace(Some(path));
    let result = original.call1(loaded_args);
    LOADING.set(before);
    dl::forget_next();
    result
}

/// The first `DIR/name` that exists as a file in the loader's search path.
fn find_in_loader_search_path(name: &[u8]) -> Option<Vec<u8>> {
    dl::loader_search_path().into_iter().find_map(|dir| {
        let mut path = dir;
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        std::fs::metadata(OsStr::from_bytes(&path))
            .is_ok_and(|meta| meta.is_file())
            .then_some(path)
    })
}

static IMP_GET_DATA: MethodDef = MethodDef {
    name: c"get_data",
    doc: c"Return the data of the loader's file, read through io.open_code() (mayexec).",
};

/// `imp._HackedGetData.get_data(self, path)`: where `imp` would read the
/// file object it was handed (opened with plain `open()` by `find_module`,
/// or by the caller), the file is opened again through `io.open_code`
/// (checked: a denied file raises `PermissionError`) and read from there.
/// The object handed in is closed, as `imp` closes it after reading.
fn imp_get_data<'py>(
    original: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let [loader, path] = args.as_slice() else {
        return Err(PyTypeError::new_err(
            "get_data() takes exactly one argument",
        ));
    };
    let file = loader.getattr("file")?;
    let own_path = loader.getattr("path")?;
    if !(file.is_truthy()? && path.eq(&own_path)?) {
        return original.call1((loader, path));
    }
    if !file.getattr("closed")?.is_truthy()? {
        file.call_method0("close")?;
    }
    let opened = cpython::open_code(own_path.str()?.as_any())?;
    loader.setattr("file", &opened)?;
    read_and_close(&opened)
}

static SOURCE_GET_DATA: MethodDef = MethodDef {
    name: c"get_data",
    doc: c"Return the data from path as raw bytes; a bytecode cache only if its source passes the check (mayexec).",
};

/// `SourceFileLoader.get_data(self, path)`, where reading the module's
/// bytecode cache (a `.pyc` path other than the source's) first checks the
/// source: a cache never runs the code of a source the policy denies,
/// whatever the cache's own mode and place (`PYTHONPYCACHEPREFIX` can put
/// it on another mount, and its owner can mark it executable). A denied
/// source raises `PermissionError` as its own read would. The cache itself
/// is read by the original, through `io.open_code`: checked as well.
fn source_get_data<'py>(
    original: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    if let [loader, path] = args.as_slice() {
        if let Ok(path) = path.cast::<PyString>() {
            if ends_with(path, ".pyc")? {
                let source = loader.getattr(intern!(args.py(), "path"))?;
                if source.is_instance_of::<PyString>() {
                    let source_bytes = fs_encode(&source)?;
                    let cache = fs_encode(path)?;
                    if source_bytes != cache {
                        let cheap = check_cached_source(&source, &source_bytes, &cache)?;
                        let before = CACHE.replace(Some(cache));
                        let cheap_before = CHEAP_SOURCE.replace(cheap);
                        let data = original.call1(args);
                        CACHE.set(before);
                        CHEAP_SOURCE.set(cheap_before);
                        return data;
                    }
                }
            }
        }
    }
    original.call1(args)
}

/// Does `text` end with the ASCII `suffix`? (A `str` with lone surrogates,
/// a path's undecodable bytes, is compared as the bytes it stands for.)
fn ends_with(text: &Bound<'_, PyString>, suffix: &str) -> PyResult<bool> {
    match text.to_str() {
        Ok(text) => Ok(text.ends_with(suffix)),
        Err(_) => Ok(fs_encode(text)?.ends_with(suffix.as_bytes())),
    }
}

/// The check of a source whose cache is about to be read: enforced and
/// logged as its own read would be. CPython found the source a moment ago
/// (it compared its time stamp with the cache's); one that cannot be
/// opened now (unreadable, or removed since) cannot pass the check, and
/// fails as its own read would: fail closed.
///
/// Where [`emulated_for_source`] allows it, the source gets the emulated
/// rules here, and the kernel's check only if [`same_verdict_proven`]
/// fails once its cache is open ([`open_cache_file`]): the open source is
/// returned for that.
fn check_cached_source(
    source: &Bound<'_, PyAny>,
    bytes: &[u8],
    cache: &[u8],
) -> PyResult<Option<CheapSource>> {
    if bytes.contains(&0) {
        return Err(PyValueError::new_err("embedded null byte"));
    }
    let emulated = emulated_for_source(source.py(), bytes, cache);
    let enforcement = emulated.unwrap_or(&state().enforcement);
    match open_code_file_noting(enforcement, OsStr::from_bytes(bytes), false) {
        Ok(file) => Ok(emulated.map(|_| CheapSource {
            path: bytes.to_vec(),
            file,
        })),
        Err(ScriptError::Open(error)) => Err(os_error(
            error.source.raw_os_error().unwrap_or(libc::EIO),
            source,
        )),
        Err(ScriptError::Denied(denial)) => {
            REFUSED_SOURCE.set(Some(bytes.to_vec()));
            Err(deny(source, denial))
        }
    }
}

/// A cached module's source that passed the emulated rules, open, waiting
/// for its cache's descriptor ([`open_cache_file`]).
struct CheapSource {
    path: Vec<u8>,
    file: File,
}

/// The enforcement in force with the emulated rules (level 3) for its
/// check, when a cached module's source may get them instead of the
/// kernel's check: the kernel backend is in use, no content trust is in
/// force, and nothing that can tell two paths of one mount apart may
/// judge this process ([`may_be_confined`]); and the cache is the one
/// beside its source, `DIR/__pycache__/NAME.TAG[.opt-N].pyc` for
/// `DIR/NAME.py`, with no `sys.pycache_prefix`. `None` otherwise: the
/// kernel's check, as for any file. The rest of the proof needs the
/// cache's descriptor ([`same_verdict_proven`]).
fn emulated_for_source(
    py: Python<'_>,
    source: &[u8],
    cache: &[u8],
) -> Option<&'static Enforcement> {
    static EMULATED: OnceLock<Option<Enforcement>> = OnceLock::new();
    let emulated = EMULATED
        .get_or_init(|| {
            let enforcement = &state().enforcement;
            if enforcement.trust.is_some()
                || enforcement.scripts == Action::Ignore
                || enforcement.checker.level() != Level::Full
                || enforcement.checker.backend() != Backend::Kernel
            {
                return None;
            }
            let checker = Checker::new(Level::Full, BackendChoice::Emulated).ok()?;
            let mut emulated = enforcement.clone();
            emulated.checker = checker;
            Some(emulated)
        })
        .as_ref()?;
    if may_be_confined() || !is_cache_beside(py, source, cache) {
        return None;
    }
    Some(emulated)
}

/// Is `cache` the bytecode cache CPython keeps beside `source`:
/// `DIR/__pycache__/BASE.TAG.pyc` or `DIR/__pycache__/BASE.TAG.opt-N.pyc`
/// for `DIR/BASE.EXT`, `TAG` this interpreter's `sys.implementation.cache_tag`,
/// with `sys.pycache_prefix` unset? Any doubt is a no.
fn is_cache_beside(py: Python<'_>, source: &[u8], cache: &[u8]) -> bool {
    let prefix_unset = cpython::sys_attr(py, c"pycache_prefix").is_some_and(|p| p.is_none());
    let tag = cpython::sys_attr(py, c"implementation")
        .and_then(|i| i.getattr(intern!(py, "cache_tag")).ok())
        .and_then(|t| fs_encode(&t).ok());
    let Some(tag) = tag.filter(|tag| !tag.is_empty() && prefix_unset) else {
        return false;
    };
    let (dir, name) = match source.iter().rposition(|&b| b == b'/') {
        Some(slash) => (&source[..=slash], &source[slash + 1..]),
        None => (&b""[..], source),
    };
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let expected = [dir, b"__pycache__/", &name[..=dot], &tag[..], b"."].concat();
    if !cache.starts_with(&expected) {
        return false;
    }
    let rest = &cache[expected.len()..];
    rest == b"pyc"
        || rest
            .strip_prefix(b"opt-")
            .and_then(|r| r.strip_suffix(b".pyc"))
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_alphanumeric))
}

/// Could a rule that tells a source from its cache, two paths of one
/// mount, judge this thread: a Landlock domain, or an LSM confinement
/// (AppArmor, SELinux, Smack, TOMOYO…)? An unprivileged process needs
/// no_new_privs to enter a Landlock domain: no_new_privs is read at each
/// call (a program may set it and sandbox itself at any time), and once
/// seen, kept (it cannot be unset). The LSM's label of the process
/// (`/proc/self/attr/current`, and AppArmor's and Smack's own) is read
/// once: any label but none, an empty one or `unconfined` is a
/// confinement; a `/proc` that is not procfs, or a label that cannot be
/// read, is a doubt, and a doubt is a yes.
fn may_be_confined() -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    static NO_NEW_PRIVS: AtomicBool = AtomicBool::new(false);
    static LABELLED: OnceLock<bool> = OnceLock::new();
    if *LABELLED.get_or_init(lsm_label_confines) || NO_NEW_PRIVS.load(Ordering::Relaxed) {
        return true;
    }
    if rustix::thread::no_new_privs().unwrap_or(true) {
        NO_NEW_PRIVS.store(true, Ordering::Relaxed);
        return true;
    }
    false
}

/// Does an LSM label this process as confined (see [`may_be_confined`])?
fn lsm_label_confines() -> bool {
    let procfs = rustix::fs::statfs("/proc/self")
        .is_ok_and(|fs| fs.f_type as u32 == libc::PROC_SUPER_MAGIC as u32);
    if !procfs {
        return true;
    }
    [
        "/proc/self/attr/current",
        "/proc/self/attr/apparmor/current",
        "/proc/self/attr/smack/current",
    ]
    .iter()
    .any(|attr| match std::fs::read(attr) {
        Ok(label) => {
            let label = label.strip_suffix(b"\0").unwrap_or(&label).trim_ascii_end();
            !(label.is_empty() || label == b"unconfined")
        }
        // No LSM that keeps a label there.
        Err(error) => !matches!(
            error.raw_os_error(),
            Some(libc::ENOENT | libc::EINVAL | libc::EOPNOTSUPP)
        ),
    })
}

/// Can the source's verdict be told from its cache's, now that the cache
/// is open (`cache`, named `path`)? Proven only when the cache is the file
/// its name reaches without a symlink, in a `__pycache__` that is a real
/// directory, on the very mount of its source (`stx_mnt_id`: a `noexec`
/// bind mount of the same file system has the same `st_dev`), and the
/// source's inode has not changed since the cache was written (its ctime
/// strictly older than the cache's: chmod, chown, a new ACL or security
/// label, a link or a rename all move it). Any error: not proven.
fn same_verdict_proven(source: &CheapSource, cache: &File, path: &OsStr) -> bool {
    use rustix::fs::{statx, AtFlags, FileType, Statx, StatxFlags, CWD};
    let mask = StatxFlags::TYPE | StatxFlags::INO | StatxFlags::CTIME | StatxFlags::MNT_ID;
    let complete = |st: rustix::io::Result<Statx>| {
        st.ok()
            .filter(|st| StatxFlags::from_bits_retain(st.stx_mask).contains(mask))
    };
    let here = AtFlags::EMPTY_PATH;
    let (Some(src), Some(read), Some(named)) = (
        complete(statx(&source.file, "", here, mask)),
        complete(statx(cache, "", here, mask)),
        complete(statx(CWD, path, AtFlags::SYMLINK_NOFOLLOW, mask)),
    ) else {
        return false;
    };
    let bytes = path.as_bytes();
    let Some(slash) = bytes.iter().rposition(|&b| b == b'/') else {
        return false;
    };
    let dir_is_real = complete(statx(
        CWD,
        OsStr::from_bytes(&bytes[..slash]),
        AtFlags::SYMLINK_NOFOLLOW,
        mask,
    ))
    .is_some_and(|dir| FileType::from_raw_mode(dir.stx_mode.into()) == FileType::Directory);
    let identity = |st: &Statx| {
        (
            st.stx_dev_major,
            st.stx_dev_minor,
            st.stx_ino,
            st.stx_mnt_id,
        )
    };
    let ctime = |st: &Statx| (st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec);
    dir_is_real
        && FileType::from_raw_mode(named.stx_mode.into()) == FileType::RegularFile
        && identity(&named) == identity(&read)
        && src.stx_mnt_id == read.stx_mnt_id
        && ctime(&src) < ctime(&read)
}

static CACHE_BYTECODE: MethodDef = MethodDef {
    name: c"_cache_bytecode",
    doc: c"Write the bytecode cache, with the execute bits of its source (mayexec).",
};

/// `SourceFileLoader._cache_bytecode(self, source_path, bytecode_path,
/// data)`, then, under enforcement, the source's execute bits on the new
/// `.pyc` if the source passed the check.
///
/// CPython writes caches with `mode & 0o666`: under a policy that wants
/// execute permission, every `.pyc` it writes would be refused, and the
/// source compiled again at each start. A cache may be exactly as
/// executable as its source was when that source passed the check, and no
/// more: a source read only because the policy is in audit mode (or one
/// the policy's level lets through but the full check would not) gets a
/// cache without execute bits. Audit mode changes nothing on disk.
///
/// Under enforced content trust, no cache is written at all.
fn cache_bytecode<'py>(
    original: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    if state()
        .enforcement
        .trust
        .as_ref()
        .is_some_and(|trust| trust.action == Action::Enforce)
    {
        // Under enforced content trust a new cache is never used (it is
        // in no trust database), so none is written: it could only
        // replace a trusted one, or be read by an interpreter that checks
        // nothing.
        return Ok(args.py().None().into_bound(args.py()));
    }
    let result = original.call1(args)?;
    if state().enforcement.scripts != Action::Enforce {
        return Ok(result);
    }
    if let [_, source, bytecode, _] = args.as_slice() {
        if let (Ok(source), Ok(bytecode)) = (fs_encode(source), fs_encode(bytecode)) {
            // Best effort, like the cache itself.
            let _ = give_execute_bits(&source, OsStr::from_bytes(&bytecode));
        }
    }
    Ok(result)
}

/// Adds to `cache` the execute bits `source` had when it passed the check
/// (the fstat of the descriptor the check read, kept by the open-code
/// hook), where `cache` has the matching read bit (so the umask applied to
/// the cache still counts). Nothing when the last file that passed on this
/// thread is not `source`, or the path no longer names that inode: the
/// source is never opened again by path. Only a regular file of this user,
/// opened without following symlinks.
fn give_execute_bits(source: &[u8], cache: &OsStr) -> rustix::io::Result<()> {
    use rustix::fs::{fchmod, fstat, open, stat, FileType, Mode, OFlags};
    let Some(passed) = LAST_PASSED.take().filter(|passed| passed.path == source) else {
        return Ok(());
    };
    let now = stat(OsStr::from_bytes(source))?;
    if (now.st_dev, now.st_ino) != (passed.dev, passed.ino) {
        return Ok(());
    }
    let fd = open(
        cache,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let cached = fstat(&fd)?;
    if FileType::from_raw_mode(cached.st_mode) != FileType::RegularFile
        || cached.st_uid != rustix::process::geteuid().as_raw()
    {
        return Ok(());
    }
    let mode = cached.st_mode & 0o7777;
    let execute = passed.mode & 0o111 & ((mode & 0o444) >> 2);
    if execute & !mode != 0 {
        fchmod(&fd, Mode::from_raw_mode(mode | execute))?;
    }
    Ok(())
}

/// Is the exception set now the hooks' refusal of the main program of
/// `-m` (or of a directory's or zip's `__main__`), raised before any of
/// its code ran? Then it is returned, and the exception cleared.
///
/// That is: a `PermissionError` for the file last refused, raised while
/// only the import machinery and `runpy` were running. A refusal raised
/// from the module's own code (its imports) has the module's frame in the
/// traceback, and stays an ordinary exception.
pub fn main_program_denial(py: Python<'_>, err: &PyErr) -> Option<Denial> {
    // (Looking may fail half-way; the answer is then "no".)
    refused_before_running(err.value(py))
}

fn refused_before_running(value: &Bound<'_, pyo3::exceptions::PyBaseException>) -> Option<Denial> {
    if !value.is_instance_of::<PyPermissionError>() {
        return None;
    }
    let denial = state()
        .last_denial
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()?;
    let filename = value.getattr("filename").ok()?;
    let same_file = filename.is_instance_of::<PyString>()
        && fs_encode(&filename).ok()? == denial.path.as_bytes();
    if !same_file {
        return None;
    }
    const MACHINERY: [&str; 7] = [
        "runpy",
        "importlib",
        "importlib.util",
        "importlib.machinery",
        "importlib._bootstrap",
        "importlib._bootstrap_external",
        "zipimport",
    ];
    let mut tb = value.getattr("__traceback__").ok()?;
    while !tb.is_none() {
        let frame = tb.getattr("tb_frame").ok()?;
        let globals = frame
            .getattr("f_globals")
            .ok()?
            .cast_into::<PyDict>()
            .ok()?;
        let name = globals.get_item("__name__").ok()??;
        let name = name.cast::<PyString>().ok()?.to_string_lossy();
        if !MACHINERY.contains(&&*name) && !is_runpy_code(&frame) {
            return None;
        }
        tb = tb.getattr("tb_next").ok()?;
    }
    Some(denial)
}

/// Is `frame` running runpy's code, whatever its module is called (`-m
/// runpy MODULE` runs it as `__main__`, whose globals the module it runs
/// then shares)?
fn is_runpy_code(frame: &Bound<'_, PyAny>) -> bool {
    frame
        .getattr("f_code")
        .and_then(|code| code.getattr("co_filename"))
        .and_then(|name| fs_encode(&name))
        .is_ok_and(|name| entrypoints::standard_library_place(&name).as_deref() == Some("runpy.py"))
}

/// The last refusal, if any (for a hint when the interpreter cannot start).
pub fn last_denial() -> Option<Denial> {
    STATE.get().and_then(|state| {
        state
            .last_denial
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    })
}
