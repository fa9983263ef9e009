//! What of CPython's C API (3.11 to 3.14) pyo3 does not wrap, behind a
//! safe interface: the only module of the crate with `unsafe`.
//!
//! The object layer is pyo3's: a [`Python`] token proves that this thread
//! is attached to the interpreter, references are [`Bound`] to it, and
//! errors are [`PyErr`] values; functions written in Rust are pyo3's
//! closures ([`pyo3::types::PyCFunction::new_closure`]). This module holds
//! what pyo3 does not serve, each piece for a reason:
//! - `PyConfig` and `PyPreConfig`, `Py_InitializeFromConfig`: pyo3 only
//!   starts an interpreter its own way (`Py_InitializeEx`), and this one
//!   must start exactly as `python3` does, from its command line;
//! - the hooks of PEP 578 (`PyFile_SetOpenCodeHook`, `PySys_AddAuditHook`):
//!   C function pointers, installed before the interpreter exists, called
//!   while it starts (when pyo3's [`Python::attach`] would try to start it
//!   again): the two trampolines here take a token with
//!   [`Python::assume_attached`];
//! - `Modules/main.c`'s private state: `_Py_GetConfig`, `Py_InspectFlag`,
//!   `_Py_HandleSystemExit` (exported up to 3.12, replicated for 3.13 on),
//!   the "unhandled KeyboardInterrupt" flag (a variable up to 3.11, a
//!   field of the exported `_PyRuntime` from 3.12 on, at the offset the
//!   build script read from the headers), the running-main mark of 3.13;
//! - the `PyRun_*` functions, which read a C `FILE *` ([`CFile`]), and
//!   `PyMarshal_Read*FromFile`;
//! - a few calls pyo3 has no safe method for: `io.open_code`
//!   (`PyFile_OpenCodeObject`), `PySys_Audit`, `PyImport_GetImporter`,
//!   `PyInstanceMethod_New`, `PyEval_EvalCode`, `PyUnicode_FSConverter`,
//!   `PyUnicode_FromWideChar`, the running frame's globals, the
//!   interpreter's module dictionary.
//!
//! `Py_3_12`, `Py_3_13`, `Py_3_14` are pyo3's cfgs, set by the build script.
#![allow(unsafe_code)] // FFI to libpython; every block says why it holds.

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::fs::File;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd};
use std::ptr::{self, NonNull};
use std::sync::OnceLock;

use libc::wchar_t;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

// Exported by libpython3.X.so but not declared by pyo3-ffi.
extern "C" {
    fn PyFile_SetOpenCodeHook(hook: RawOpenCodeHook, user_data: *mut c_void) -> c_int;
    fn PySys_AddAuditHook(hook: RawAuditHook, user_data: *mut c_void) -> c_int;
    fn PySys_Audit(event: *const c_char, format: *const c_char, ...) -> c_int;
    fn PyFile_OpenCodeObject(path: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyInstanceMethod_New(func: *mut ffi::PyObject) -> *mut ffi::PyObject;
    /// The running interpreter's configuration (`_PyInterpreterState_GET()->config`).
    fn _Py_GetConfig() -> *const ffi::PyConfig;
    #[cfg(not(Py_3_13))]
    fn _Py_HandleSystemExit(exitcode: *mut c_int) -> c_int;
    fn _Py_EncodeLocaleEx(
        text: *const wchar_t,
        str: *mut *mut c_char,
        error_pos: *mut usize,
        reason: *mut *const c_char,
        current_locale: c_int,
        errors: c_int,
    ) -> c_int;
    #[cfg(not(Py_3_12))]
    static mut _Py_UnhandledKeyboardInterrupt: c_int;
    /// `_PyRuntimeState`, whose layout is private: only the address of one
    /// `int` field in it is used (see [`unhandled_keyboard_interrupt_flag`]).
    #[cfg(Py_3_12)]
    static mut _PyRuntime: u8;
    static mut Py_InspectFlag: c_int;
    /// The C library's `stdin` stream, which `python3` reads `<stdin>` from.
    static mut stdin: *mut libc::FILE;
    #[cfg(Py_3_13)]
    static mut stdout: *mut libc::FILE;
    /// From 3.13 on, `Modules/main.c` marks the main thread as running
    /// `__main__` (what `sys.remote_exec` looks for, among others).
    #[cfg(Py_3_13)]
    fn _PyInterpreterState_SetRunningMain(interp: *mut ffi::PyInterpreterState) -> c_int;
    #[cfg(Py_3_13)]
    fn _PyInterpreterState_SetNotRunningMain(interp: *mut ffi::PyInterpreterState);
}

type RawOpenCodeHook =
    unsafe extern "C" fn(path: *mut ffi::PyObject, user_data: *mut c_void) -> *mut ffi::PyObject;
type RawAuditHook = unsafe extern "C" fn(
    event: *const c_char,
    args: *mut ffi::PyObject,
    user_data: *mut c_void,
) -> c_int;

/// `PY_MINOR_VERSION` of the CPython built against.
const PY_MINOR_VERSION: c_int = parse_decimal(env!("MAYEXEC_PYTHON_MINOR"));

/// A decimal number known at build time.
const fn parse_decimal(text: &str) -> c_int {
    let bytes = text.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "a decimal number");
        value = value * 10 + (bytes[i] - b'0') as c_int;
        i += 1;
    }
    value
}

/// `PyCF_IGNORE_COOKIE` (Include/cpython/compile.h).
const PY_CF_IGNORE_COOKIE: c_int = 0x0800;

/// `_PyCompilerFlags_INIT`.
fn compiler_flags(cf_flags: c_int) -> ffi::PyCompilerFlags {
    ffi::PyCompilerFlags {
        cf_flags,
        cf_feature_version: PY_MINOR_VERSION,
    }
}

/* --- Configuration and start-up --------------------------------------- */

/// The process entry point, as CPython's `Programs/python.c`: no Rust
/// start-up code runs before it (which would reopen closed standard
/// descriptors on /dev/null and ignore SIGPIPE, unlike `python3`).
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: c_int, _argv: *mut *mut c_char) -> c_int {
    // std::env::args_os reads the same argv (glibc hands it to Rust's
    // runtime through .init_array), with no unsafe code.
    let code = crate::py_main();
    // exit() flushes C stdio and runs atexit handlers, as returning does.
    std::process::exit(code)
}

/// A `PyStatus` that is not "ok": an exit (`--version`, a usage error) or
/// an error.
#[derive(Clone, Copy)]
pub struct Status(ffi::PyStatus);

impl std::fmt::Debug for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Status")
            .field("exit", &self.exit_code())
            .finish()
    }
}

impl Status {
    fn check(status: ffi::PyStatus) -> Result<(), Status> {
        // SAFETY: PyStatus_Exception only reads the struct it is given.
        if unsafe { ffi::PyStatus_Exception(status) } != 0 {
            Err(Status(status))
        } else {
            Ok(())
        }
    }

    /// The exit status, when this is an exit rather than an error.
    pub fn exit_code(&self) -> Option<i32> {
        // SAFETY: PyStatus_IsExit only reads the struct it is given.
        (unsafe { ffi::PyStatus_IsExit(self.0) } != 0).then_some(self.0.exitcode)
    }

    /// Exits as `python3` does: with the status's exit code, or with
    /// "Fatal Python error: …" and `abort()` for an error.
    pub fn exit_process(self) -> ! {
        // SAFETY: the status came from CPython; Py_ExitStatusException
        // accepts any status that is an exception, which `check` ensured.
        unsafe { ffi::Py_ExitStatusException(self.0) }
    }
}

/// Pre-initialises Python from the command line as `python3` does: the
/// memory allocators (`-X dev`, `PYTHONMALLOC`), the locale and UTF-8 mode
/// (`-E`, `-I`, `-X utf8`). No Python code runs and no file is opened.
pub fn preinitialize(args: &[CString]) -> Result<(), Status> {
    let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
    let mut preconfig = MaybeUninit::<ffi::PyPreConfig>::uninit();
    // SAFETY: PyPreConfig_InitPythonConfig initialises every field.
    let preconfig = unsafe {
        ffi::PyPreConfig_InitPythonConfig(preconfig.as_mut_ptr());
        preconfig.assume_init()
    };
    // SAFETY: argv holds valid NUL-terminated strings that outlive the
    // call; CPython copies what it keeps.
    Status::check(unsafe {
        ffi::Py_PreInitializeFromBytesArgs(
            &preconfig,
            argv.len() as ffi::Py_ssize_t,
            argv.as_mut_ptr(),
        )
    })
}

/// The interpreter's configuration, read from the command line and the
/// environment exactly as `python3` reads it, before initialisation.
pub struct Config {
    raw: Box<ffi::PyConfig>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config").finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the full configuration from `args` and the environment, as
    /// `Py_BytesMain`'s `pymain_init` does up to `Py_InitializeFromConfig`.
    /// Call [`preinitialize`] first.
    pub fn from_args(args: &[CString]) -> Result<Config, Status> {
        let argc = args.len() as ffi::Py_ssize_t;
        let mut raw = Box::new(MaybeUninit::<ffi::PyConfig>::uninit());
        // SAFETY: PyConfig_InitPythonConfig initialises every field.
        let raw = unsafe {
            ffi::PyConfig_InitPythonConfig(raw.as_mut_ptr());
            Box::from_raw(Box::into_raw(raw).cast::<ffi::PyConfig>())
        };
        let mut config = Config { raw };
        let mut argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
        // SAFETY: the config was initialised by CPython; argv holds argc
        // valid NUL-terminated strings that outlive the call (CPython
        // copies them).
        Status::check(unsafe {
            ffi::PyConfig_SetBytesArgv(&mut *config.raw, argc, argv.as_mut_ptr())
        })?;
        // SAFETY: the config was initialised by CPython.
        Status::check(unsafe { ffi::PyConfig_Read(&mut *config.raw) })?;
        Ok(config)
    }

    /// `-c` was given.
    pub fn has_command(&self) -> bool {
        !self.raw.run_command.is_null()
    }

    /// `-m` was given.
    pub fn has_module(&self) -> bool {
        !self.raw.run_module.is_null()
    }

    /// A script (file, directory or zip application) was given.
    pub fn has_filename(&self) -> bool {
        !self.raw.run_filename.is_null()
    }

    /// The script's path as the C library sees it (`Py_EncodeLocale`, as
    /// CPython opens it), if a script was given.
    pub fn filename(&self) -> Option<Vec<u8>> {
        // SAFETY: CPython keeps `run_filename` NULL or a NUL-terminated wide
        // string owned by this config, alive while `self` is.
        unsafe { WideString::from_ptr(self.raw.run_filename) }.and_then(|w| w.encode_locale())
    }

    /// `-i` was given (`PyConfig.interactive`).
    pub fn interactive(&self) -> bool {
        self.raw.interactive != 0
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: the config was initialised by CPython and is cleared once.
        unsafe { ffi::PyConfig_Clear(&mut *self.raw) }
    }
}

/// Why the hooks could not be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookError {
    /// `PyFile_SetOpenCodeHook` refused (a hook was already set).
    OpenCode,
    /// `PySys_AddAuditHook` refused.
    Audit,
}

/// The open-code hook: opens `path` (a `str`) as `io.open_code` would.
pub type OpenCodeHook = for<'py> fn(Python<'py>, &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>;
/// The audit hook: called for every audit event with its arguments tuple.
pub type AuditHook = for<'py> fn(Python<'py>, &CStr, &Bound<'py, PyTuple>) -> PyResult<()>;

static HOOKS: OnceLock<(OpenCodeHook, AuditHook)> = OnceLock::new();

/// Installs the open-code hook and an audit hook. Call after
/// [`preinitialize`] (the audit hook's entry is allocated with the memory
/// allocator pre-initialisation chose, and freed with it at finalisation)
/// and before [`initialize`]: they then see every file the interpreter opens
/// as code, from the first. Neither can be removed or replaced afterwards,
/// from C or from Python.
pub fn install_hooks(open_code: OpenCodeHook, audit: AuditHook) -> Result<(), HookError> {
    if HOOKS.set((open_code, audit)).is_err() {
        return Err(HookError::OpenCode);
    }
    // SAFETY: both functions may be called before Py_Initialize (the C API
    // documents it); the trampolines are valid for the process's lifetime.
    if unsafe { PyFile_SetOpenCodeHook(open_code_trampoline, ptr::null_mut()) } != 0 {
        return Err(HookError::OpenCode);
    }
    // SAFETY: as above.
    if unsafe { PySys_AddAuditHook(audit_trampoline, ptr::null_mut()) } != 0 {
        return Err(HookError::Audit);
    }
    Ok(())
}

// The hooks are called while the interpreter starts, from any thread that
// runs Python code, and from sub-interpreters: the token is assumed (the
// caller holds the GIL), never taken with `Python::attach`, which would
// start an interpreter of its own before `Py_IsInitialized()` and take a
// `PyGILState` of the main interpreter in a sub-interpreter's thread.

unsafe extern "C" fn open_code_trampoline(
    path: *mut ffi::PyObject,
    _user_data: *mut c_void,
) -> *mut ffi::PyObject {
    let (open_code, _) = HOOKS
        .get()
        .expect("hooks are set before they are installed");
    // SAFETY: CPython calls the hook with the GIL held and a valid `str`
    // (PyFile_OpenCodeObject checks the type first), borrowed for the call.
    let (py, path) = unsafe {
        let py = Python::assume_attached();
        (py, Bound::from_borrowed_ptr(py, path))
    };
    match open_code(py, &path) {
        Ok(file) => file.into_ptr(),
        Err(err) => {
            err.restore(py);
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn audit_trampoline(
    event: *const c_char,
    args: *mut ffi::PyObject,
    _user_data: *mut c_void,
) -> c_int {
    let (_, audit) = HOOKS
        .get()
        .expect("hooks are set before they are installed");
    // SAFETY: CPython calls audit hooks with the GIL held, a NUL-terminated
    // event name and a tuple of arguments, borrowed for the call.
    let (py, event, args) = unsafe {
        let py = Python::assume_attached();
        let args = Bound::from_borrowed_ptr(py, args).cast_into_unchecked::<PyTuple>();
        (py, CStr::from_ptr(event), args)
    };
    match audit(py, event, &args) {
        Ok(()) => 0,
        Err(err) => {
            err.restore(py);
            -1
        }
    }
}

/// An initialised interpreter; this thread holds its GIL.
pub struct Interpreter {
    _not_send: PhantomData<*mut ()>,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interpreter")
    }
}

/// `Py_InitializeFromConfig`: the interpreter starts (site, `.pth` files,
/// `sitecustomize`), every file it loads going through the hooks.
pub fn initialize(config: Config) -> Result<Interpreter, Status> {
    // SAFETY: the config was read by CPython; Py_InitializeFromConfig copies it.
    Status::check(unsafe { ffi::Py_InitializeFromConfig(&*config.raw) })?;
    drop(config);
    Ok(Interpreter {
        _not_send: PhantomData,
    })
}

impl Interpreter {
    /// Runs `f` attached to the interpreter through pyo3 ([`Python::attach`]:
    /// the main thread holds the GIL already, and pyo3 then knows it).
    pub fn run<R>(&self, f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
        Python::attach(f)
    }

    /// `Py_FinalizeEx`: negative when flushing buffered data failed.
    pub fn finalize(self) -> i32 {
        // SAFETY: the interpreter is initialised and this thread holds the
        // GIL; no `Bound` can outlive `self` (they live in `run`).
        unsafe { ffi::Py_FinalizeEx() }
    }
}

/// The runtime's "unhandled KeyboardInterrupt" flag: the variable
/// `_Py_UnhandledKeyboardInterrupt` up to 3.11.
#[cfg(not(Py_3_12))]
fn unhandled_keyboard_interrupt_flag() -> *mut c_int {
    ptr::addr_of_mut!(_Py_UnhandledKeyboardInterrupt)
}

/// The runtime's "unhandled KeyboardInterrupt" flag: from 3.12 on,
/// `_PyRuntime.signals.unhandled_keyboard_interrupt`, at the offset the
/// build script compiled out of this CPython's own `pycore_runtime.h`.
#[cfg(Py_3_12)]
fn unhandled_keyboard_interrupt_flag() -> *mut c_int {
    const OFFSET: usize =
        parse_decimal(env!("MAYEXEC_PYRUNTIME_UNHANDLED_KEYBOARD_INTERRUPT")) as usize;
    // SAFETY: only an address is computed: inside `_PyRuntime`, at the
    // offset of an `int` member of the very struct libpython was built
    // with (same headers, same compiler ABI).
    unsafe { ptr::addr_of_mut!(_PyRuntime).add(OFFSET).cast::<c_int>() }
}

/// Was the last `KeyboardInterrupt` left unhandled by the main program?
/// (The runtime's flag, read by `Py_RunMain` after finalising.)
pub fn unhandled_keyboard_interrupt() -> bool {
    // SAFETY: a plain, aligned int of libpython's; only the thread that
    // ran the program writes it, and this is that thread.
    unsafe { unhandled_keyboard_interrupt_flag().read() != 0 }
}

/// `PyOS_setsig(SIGINT, SIG_DFL)`.
pub fn restore_default_sigint() -> bool {
    // SAFETY: installing SIG_DFL for SIGINT has no preconditions.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) != libc::SIG_ERR }
}

/* --- Calls pyo3 has no safe method for -------------------------------- */

/// A new reference returned by the C API, or the exception it set.
///
/// # Safety
/// `ptr` is a new reference or NULL with an exception set, and the thread
/// is attached.
unsafe fn owned<'py>(py: Python<'py>, ptr: *mut ffi::PyObject) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the caller's promise.
    unsafe { Bound::from_owned_ptr_or_err(py, ptr) }
}

/// 0 or -1 from the C API; -1 means an exception is set.
fn status(py: Python<'_>, rc: c_int) -> PyResult<()> {
    if rc < 0 {
        Err(PyErr::fetch(py))
    } else {
        Ok(())
    }
}

/// The interpreter's modules (`PyImport_GetModuleDict`: the dictionary
/// behind `sys.modules`, whatever `sys.modules` names now).
fn modules(py: Python<'_>) -> Option<Bound<'_, PyDict>> {
    // SAFETY: a borrowed reference (or NULL) to the current interpreter's
    // dictionary.
    let modules = unsafe { Bound::from_borrowed_ptr_or_opt(py, ffi::PyImport_GetModuleDict()) };
    modules.and_then(|m| m.cast_into::<PyDict>().ok())
}

/// The module `name` if it is loaded, without importing it (nothing of the
/// import system runs); errors count as absent. (The name is a `str`, an
/// interned one on the paths every import takes: no `str` made per call.)
pub fn loaded_module<'py>(
    py: Python<'py>,
    name: &Bound<'py, pyo3::types::PyString>,
) -> Option<Bound<'py, PyAny>> {
    modules(py)?.get_item(name).ok().flatten()
}

/// `sys.<name>`, or `None` when it does not exist (`PySys_GetObject`).
pub fn sys_attr<'py>(py: Python<'py>, name: &CStr) -> Option<Bound<'py, PyAny>> {
    // SAFETY: a NUL-terminated name; the result is borrowed, or NULL
    // without an exception.
    unsafe { Bound::from_borrowed_ptr_or_opt(py, ffi::PySys_GetObject(name.as_ptr())) }
}

/// Is the `__name__` of the module whose Python code is running now
/// (the caller of a builtin such as `exec`) one of `names`?
pub fn running_module_is(py: Python<'_>, names: &[&str]) -> bool {
    // SAFETY: PyEval_GetFrame returns a borrowed frame (or NULL) of this
    // thread; PyFrame_GetGlobals a new reference.
    let globals = unsafe {
        let frame = ffi::PyEval_GetFrame();
        if frame.is_null() {
            return false;
        }
        match owned(py, ffi::PyFrame_GetGlobals(frame)) {
            Ok(globals) => globals,
            Err(_) => return false,
        }
    };
    let Ok(globals) = globals.cast_into::<PyDict>() else {
        return false;
    };
    matches!(
        globals.get_item(pyo3::intern!(py, "__name__")),
        Ok(Some(name)) if name.cast::<pyo3::types::PyString>()
            .is_ok_and(|name| name.to_str().is_ok_and(|name| names.contains(&name)))
    )
}

/// `PyImport_AddModule("__main__")`.
pub fn main_module(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: a NUL-terminated name; the result is borrowed, or NULL with
    // an exception set.
    unsafe { Bound::from_borrowed_ptr_or_err(py, ffi::PyImport_AddModule(c"__main__".as_ptr())) }
}

/// The builtins of the current frame, or of the interpreter at top level.
pub fn builtins(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: the result is borrowed.
    unsafe { Bound::from_borrowed_ptr_or_err(py, ffi::PyEval_GetBuiltins()) }
}

/// The ID of the current interpreter (the main one is 0).
pub fn interpreter_id(_py: Python<'_>) -> i64 {
    // SAFETY: an attached thread has a current interpreter.
    unsafe { ffi::PyInterpreterState_GetID(ffi::PyInterpreterState_Get()) }
}

/// `PyImport_GetImporter(path)`: the importer for a `sys.path` entry, or
/// `None`.
pub fn importer<'py>(path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a valid object; a new reference or NULL with an exception.
    unsafe { owned(path.py(), ffi::PyImport_GetImporter(path.as_ptr())) }
}

/// `io.open_code(path)` (`PyFile_OpenCodeObject`): goes through the
/// open-code hook.
pub fn open_code<'py>(path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a valid object; a new reference or NULL with an exception.
    unsafe { owned(path.py(), PyFile_OpenCodeObject(path.as_ptr())) }
}

/// Raises an audit event with no arguments, or with one (`PySys_Audit`).
pub fn audit(py: Python<'_>, event: &CStr, arg: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    // SAFETY: NUL-terminated strings; "O" matches one object argument,
    // and a NULL format means no arguments.
    let rc = unsafe {
        match arg {
            Some(arg) => PySys_Audit(event.as_ptr(), c"O".as_ptr(), arg.as_ptr()),
            None => PySys_Audit(event.as_ptr(), ptr::null()),
        }
    };
    status(py, rc)
}

/// `function` as an instance method (`PyInstanceMethod_New`): put on a
/// class, it binds to the instance as a function written in Python does
/// (a builtin function would not).
pub fn instance_method<'py>(function: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a valid callable; a new reference or NULL with an exception.
    unsafe { owned(function.py(), PyInstanceMethod_New(function.as_ptr())) }
}

/// `PyEval_EvalCode(code, globals, globals)`.
pub fn eval_code<'py>(
    code: &Bound<'py, PyAny>,
    globals: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a code object and a dict.
    unsafe {
        owned(
            code.py(),
            ffi::PyEval_EvalCode(code.as_ptr(), globals.as_ptr(), globals.as_ptr()),
        )
    }
}

/// `os.fsencode(obj)` for a `str`, `bytes` or path-like object
/// (`PyUnicode_FSConverter`, as `_ctypes.dlopen` converts its name).
pub fn fs_path(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let py = obj.py();
    let mut converted: *mut ffi::PyObject = ptr::null_mut();
    // SAFETY: a valid object; on success the converter stores a new
    // reference to a bytes object in `converted`.
    let rc =
        unsafe { ffi::PyUnicode_FSConverter(obj.as_ptr(), ptr::addr_of_mut!(converted).cast()) };
    if rc == 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference to a bytes object.
    let bytes = unsafe { owned(py, converted) }?;
    Ok(bytes
        .cast_into::<pyo3::types::PyBytes>()?
        .as_bytes()
        .to_vec())
}

/// A `str` from a wide string (`PyUnicode_FromWideChar`).
pub fn wide_str<'py>(py: Python<'py>, text: &WideString) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the pointer and length describe the vector's contents.
    unsafe {
        owned(
            py,
            ffi::PyUnicode_FromWideChar(text.0.as_ptr(), text.0.len() as ffi::Py_ssize_t),
        )
    }
}

/// Writes to `sys.stderr` (falling back to the C stream), as
/// `PySys_FormatStderr` does; the text is not truncated.
pub fn write_stderr(_py: Python<'_>, text: &str) {
    let Ok(text) = CString::new(text.replace('\0', "\\0")) else {
        return;
    };
    // SAFETY: "%s" takes one NUL-terminated UTF-8 string.
    unsafe { ffi::PySys_FormatStderr(c"%s".as_ptr(), text.as_ptr()) }
}

/// `Py_MakePendingCalls`: runs signal handlers that are due.
pub fn make_pending_calls(py: Python<'_>) -> PyResult<()> {
    // SAFETY: called from the main thread, attached.
    status(py, unsafe { ffi::Py_MakePendingCalls() })
}

/// `Py_GetPlatform()`.
pub fn platform(_py: Python<'_>) -> String {
    // SAFETY: a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::Py_GetPlatform()) }
        .to_string_lossy()
        .into_owned()
}

/// `PyImport_GetMagicNumber()`.
pub fn magic_number(_py: Python<'_>) -> c_long {
    // SAFETY: no preconditions beyond an attached thread.
    unsafe { ffi::PyImport_GetMagicNumber() }
}

/// `os.fsencode(text)` for a `str` (`PyUnicode_EncodeFSDefault`).
pub fn fs_encode(text: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    Ok(text.extract::<std::ffi::OsString>()?.into_vec())
}

/// `os.fsdecode(bytes)` (`PyUnicode_DecodeFSDefaultAndSize`).
pub fn fs_decode<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    use std::os::unix::ffi::OsStrExt;
    Ok(std::ffi::OsStr::from_bytes(bytes)
        .into_pyobject(py)?
        .into_any())
}

/* --- Modules/main.c's private state ------------------------------------ */

/// The running configuration (`_Py_GetConfig`), copied.
pub fn run_config(_py: Python<'_>) -> RunConfig {
    // SAFETY: an attached thread has a current interpreter whose config is
    // valid for its lifetime; its strings are NUL-terminated.
    unsafe {
        let config = &*_Py_GetConfig();
        let argv = std::slice::from_raw_parts(config.argv.items, config.argv.length as usize)
            .iter()
            .map(|&item| WideString::from_ptr(item).expect("argv items are not NULL"))
            .collect();
        RunConfig {
            run_command: WideString::from_ptr(config.run_command),
            run_module: WideString::from_ptr(config.run_module),
            run_filename: WideString::from_ptr(config.run_filename),
            program_name: WideString::from_ptr(config.program_name),
            argv,
            safe_path: config.safe_path != 0,
            quiet: config.quiet != 0,
            verbose: config.verbose != 0,
            site_import: config.site_import != 0,
            isolated: config.isolated != 0,
            interactive: config.interactive != 0,
            use_environment: config.use_environment != 0,
            skip_source_first_line: config.skip_source_first_line != 0,
        }
    }
}

/// `PyConfig.inspect` of the running interpreter (`-i`, `PYTHONINSPECT`).
pub fn inspect(_py: Python<'_>) -> bool {
    // SAFETY: as for run_config.
    unsafe { (*_Py_GetConfig()).inspect != 0 }
}

/// `pymain_set_inspect`: `PyConfig.inspect` and `Py_InspectFlag`, which
/// decide whether an unhandled `SystemExit` exits.
pub fn set_inspect(_py: Python<'_>, inspect: bool) {
    // SAFETY: Modules/main.c writes the running config's `inspect` the
    // same way (casting away const); the main thread holds the GIL, so
    // no other thread reads it meanwhile.
    unsafe {
        let config = _Py_GetConfig().cast_mut();
        (*config).inspect = c_int::from(inspect);
        ptr::addr_of_mut!(Py_InspectFlag).write(c_int::from(inspect));
    }
}

/// `_PyInterpreterState_SetRunningMain` (3.13): this thread runs the
/// main program (`sys.remote_exec` finds the thread to run a script in
/// by it); `SetNotRunningMain` when done. (Like `Modules/main.c`, a
/// failure is not reported: the program runs anyway.)
#[cfg(Py_3_13)]
pub fn set_running_main(_py: Python<'_>, running: bool) {
    // SAFETY: the thread is attached, so the current thread state belongs
    // to the interpreter returned, as both functions require.
    unsafe {
        let interp = ffi::PyInterpreterState_Get();
        if running {
            if _PyInterpreterState_SetRunningMain(interp) < 0 {
                ffi::PyErr_Clear();
            }
        } else {
            _PyInterpreterState_SetNotRunningMain(interp);
        }
    }
}

/// Sets the runtime's "unhandled KeyboardInterrupt" flag.
pub fn set_unhandled_keyboard_interrupt(_py: Python<'_>, value: bool) {
    // SAFETY: a plain int of libpython's, written by the attached thread as
    // CPython itself does.
    unsafe { unhandled_keyboard_interrupt_flag().write(c_int::from(value)) }
}

/// `PyConfig.sys_path_0` (3.13): the `sys.path[0]` the program started
/// with, where the import system looks for a script that shadows a
/// standard module (to say so in the error).
#[cfg(Py_3_13)]
pub fn set_sys_path_0(path0: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = path0.py();
    // SAFETY: a str; the result is NULL (an exception set) or a
    // PyMem_Malloc'ed NUL-terminated wide string, freed below.
    let wide = unsafe { ffi::PyUnicode_AsWideCharString(path0.as_ptr(), ptr::null_mut()) };
    if wide.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `wide` is NUL-terminated; the copy is PyMem_RawMalloc'ed,
    // as PyConfig_Clear frees it. The running config is written as
    // Modules/main.c writes it, by the main thread holding the GIL.
    unsafe {
        let len = libc::wcslen(wide) + 1;
        let copy = ffi::PyMem_RawMalloc(len * std::mem::size_of::<wchar_t>()).cast::<wchar_t>();
        if !copy.is_null() {
            ptr::copy_nonoverlapping(wide, copy, len);
        }
        ffi::PyMem_Free(wide.cast());
        if copy.is_null() {
            return Err(pyo3::exceptions::PyMemoryError::new_err(()));
        }
        let config = _Py_GetConfig().cast_mut();
        ffi::PyMem_RawFree((*config).sys_path_0.cast());
        (*config).sys_path_0 = copy;
    }
    Ok(())
}

/// `_Py_HandleSystemExit`: for a `SystemExit` (and inspect mode off),
/// consumes it and returns the exit status it asks for; any other error
/// comes back.
#[cfg(not(Py_3_13))]
pub fn handle_system_exit(py: Python<'_>, err: PyErr) -> Result<i32, PyErr> {
    let mut exitcode: c_int = 0;
    err.restore(py);
    // SAFETY: writes one int; the thread is attached, the exception set.
    if unsafe { _Py_HandleSystemExit(&mut exitcode) } != 0 {
        Ok(exitcode)
    } else {
        Err(PyErr::fetch(py))
    }
}

/// `_Py_HandleSystemExit` of `Python/pythonrun.c`, which 3.13 no
/// longer exports: for a `SystemExit` (and inspect mode off), consumes it
/// and returns the exit status it asks for (its `code`: `None` is 0, an
/// `int` is itself, anything else is printed to `sys.stderr` and is 1);
/// any other error comes back.
#[cfg(Py_3_13)]
pub fn handle_system_exit(py: Python<'_>, err: PyErr) -> Result<i32, PyErr> {
    use pyo3::types::PyInt;
    if inspect(py) || !err.is_instance_of::<pyo3::exceptions::PySystemExit>(py) {
        // Don't exit if -i flag was given.
        return Err(err);
    }
    // SAFETY: the C library's stdout stream, valid for the process.
    unsafe { libc::fflush(ptr::addr_of!(stdout).read()) };
    let exc = err.into_value(py).into_bound(py).into_any();
    // The error code should be in the `code' attribute; if it cannot be
    // dug out, the exception itself is printed.
    let value = exc.getattr("code").unwrap_or(exc);
    if value.is_none() {
        return Ok(0);
    }
    if let Ok(int) = value.cast::<PyInt>() {
        // (int)PyLong_AsLong, as CPython does.
        return Ok(int.extract::<c_long>().unwrap_or(-1) as c_int);
    }
    match sys_attr(py, c"stderr").filter(|file| !file.is_none()) {
        // PyFile_WriteObject(value, file, Py_PRINT_RAW).
        Some(file) => {
            let _ = value
                .str()
                .and_then(|text| file.call_method1("write", (text,)));
        }
        None => {
            if let Ok(text) = value.str() {
                warn!("{}", text.to_string_lossy());
            }
        }
    }
    write_stderr(py, "\n");
    Ok(1)
}

/// `_PyRun_SimpleStringFlagsWithName(command, "<string>",
/// PyCF_IGNORE_COOKIE)`, which 3.13 and 3.14 do not export: as
/// `PyRun_SimpleStringFlags`, and the source is registered with
/// `linecache` so that tracebacks show its lines. 0, or -1 after
/// printing the exception.
#[cfg(Py_3_13)]
pub fn run_simple_string(py: Python<'_>, command: &CStr) -> i32 {
    let mut flags = compiler_flags(PY_CF_IGNORE_COOKIE);
    let result = (|| -> PyResult<Bound<'_, PyAny>> {
        let d = main_module(py)?
            .cast_into::<pyo3::types::PyModule>()?
            .dict();
        // SAFETY: a NUL-terminated source and name, a valid flags struct.
        let code = unsafe {
            owned(
                py,
                ffi::Py_CompileStringExFlags(
                    command.as_ptr(),
                    c"<string>".as_ptr(),
                    ffi::Py_file_input,
                    &mut flags,
                    -1,
                ),
            )
        }?;
        let source = String::from_utf8_lossy(command.to_bytes());
        let name = pyo3::types::PyString::new(py, "<string>").into_any();
        // 3.13 keys linecache's entry by the code's file name, 3.14
        // by the code object and each one nested in it.
        #[cfg(not(Py_3_14))]
        let key = &name;
        #[cfg(Py_3_14)]
        let key = &code;
        py.import("linecache")?
            .getattr("_register_code")?
            .call1((key, source, &name))?;
        set_unhandled_keyboard_interrupt(py, false);
        let v = eval_code(&code, d.as_any());
        if let Err(err) = &v {
            if is_keyboard_interrupt(py, err) {
                set_unhandled_keyboard_interrupt(py, true);
            }
        }
        v
    })();
    match result {
        Ok(_) => 0,
        Err(err) => {
            err.print_and_set_sys_last_vars(py);
            -1
        }
    }
}

/// `PyRun_SimpleStringFlags(command, PyCF_IGNORE_COOKIE)`: 0, or -1
/// after printing the exception.
#[cfg(not(Py_3_13))]
pub fn run_simple_string(_py: Python<'_>, command: &CStr) -> i32 {
    let mut flags = compiler_flags(PY_CF_IGNORE_COOKIE);
    // SAFETY: a NUL-terminated string and a valid flags struct.
    unsafe { ffi::PyRun_SimpleStringFlags(command.as_ptr(), &mut flags) }
}

/// Is `err` exactly a `KeyboardInterrupt` (not a subclass), what
/// CPython's `PyErr_Occurred() == PyExc_KeyboardInterrupt` asks?
pub fn is_keyboard_interrupt(py: Python<'_>, err: &PyErr) -> bool {
    err.get_type(py)
        .is(py.get_type::<pyo3::exceptions::PyKeyboardInterrupt>())
}

/// `PyRun_FileExFlags(fp, filename, Py_file_input, globals, globals,
/// closeit)`: parses the file, closes it when `closeit`, then runs it.
/// Without `closeit` the file comes back to the caller.
pub fn run_file<'py>(
    file: CFile,
    filename: &CStr,
    globals: &Bound<'py, PyAny>,
    closeit: bool,
) -> (PyResult<Bound<'py, PyAny>>, Option<CFile>) {
    let mut flags = compiler_flags(0);
    let fp = file.0.as_ptr();
    let file = if closeit {
        std::mem::forget(file);
        None
    } else {
        Some(file)
    };
    // SAFETY: a valid FILE (ownership passed on when closeit), a
    // NUL-terminated name, a dict, and a valid flags struct.
    let result = unsafe {
        owned(
            globals.py(),
            ffi::PyRun_FileExFlags(
                fp,
                filename.as_ptr(),
                ffi::Py_file_input,
                globals.as_ptr(),
                globals.as_ptr(),
                c_int::from(closeit),
                &mut flags,
            ),
        )
    };
    (result, file)
}

/// `PyRun_InteractiveLoopFlags(fp, filename)`: a prompt on a terminal.
pub fn run_interactive_loop(_py: Python<'_>, file: &mut CFile, filename: &CStr) -> i32 {
    let mut flags = compiler_flags(0);
    // SAFETY: a valid FILE, a NUL-terminated name, valid flags.
    unsafe { ffi::PyRun_InteractiveLoopFlags(file.0.as_ptr(), filename.as_ptr(), &mut flags) }
}

/// `PyRun_AnyFileExFlags(stdin, "<stdin>", 0)`: the program on the C
/// library's standard input, or the prompt when it is interactive.
pub fn run_stdin(_py: Python<'_>) -> i32 {
    let mut flags = compiler_flags(0);
    // SAFETY: `stdin` is the C library's stream, valid for the process;
    // closeit 0 leaves it open.
    unsafe {
        ffi::PyRun_AnyFileExFlags(
            ptr::addr_of!(stdin).read(),
            c"<stdin>".as_ptr(),
            0,
            &mut flags,
        )
    }
}

/* --- Strings and files ------------------------------------------------- */

/// A `wchar_t` string, as `PyConfig` stores them (no terminating NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideString(pub Vec<wchar_t>);

/// `Py_EncodeLocale` with the raw allocator (`_Py_EncodeLocaleEx`, exported
/// by 3.11 to 3.14): usable before the interpreter is initialised (the
/// script's path is checked then), where `Py_EncodeLocale` allocates from
/// the per-interpreter allocator from 3.12 on and crashes. NULL if the
/// text cannot be encoded; otherwise free it with `PyMem_RawFree`.
///
/// # Safety
/// `text` is a NUL-terminated wide string.
unsafe fn encode_locale_raw(text: *const wchar_t) -> *mut c_char {
    /// `_Py_ERROR_SURROGATEESCAPE` of `pycore_fileutils.h`.
    const PY_ERROR_SURROGATEESCAPE: c_int = 2;
    let mut encoded = ptr::null_mut();
    // SAFETY: the caller's string, an out-pointer, no error position or
    // reason; current_locale 0 as in Py_EncodeLocale.
    let rc = unsafe {
        _Py_EncodeLocaleEx(
            text,
            &mut encoded,
            ptr::null_mut(),
            ptr::null_mut(),
            0,
            PY_ERROR_SURROGATEESCAPE,
        )
    };
    if rc == 0 {
        encoded
    } else {
        ptr::null_mut()
    }
}

impl WideString {
    /// # Safety
    /// `ptr` must be NULL or a NUL-terminated wide string.
    unsafe fn from_ptr(ptr: *const wchar_t) -> Option<WideString> {
        if ptr.is_null() {
            return None;
        }
        // SAFETY: the caller promises a NUL-terminated wide string.
        let len = unsafe { libc::wcslen(ptr) };
        // SAFETY: `len` elements precede the NUL.
        Some(WideString(
            unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec(),
        ))
    }

    /// A wide string from text.
    pub fn from_text(text: &str) -> WideString {
        WideString(text.chars().map(|c| c as wchar_t).collect())
    }

    /// Is it exactly `text`?
    pub fn is(&self, text: &str) -> bool {
        self.0
            .iter()
            .copied()
            .eq(text.chars().map(|c| c as wchar_t))
    }

    /// `Py_EncodeLocale`: the bytes the C library sees for this string
    /// (surrogateescape), as CPython's `_Py_wreadlink` and `_Py_wrealpath`
    /// encode paths. `None` if it cannot be encoded.
    pub fn encode_locale(&self) -> Option<Vec<u8>> {
        let mut with_nul = self.0.clone();
        with_nul.push(0);
        // SAFETY: a NUL-terminated wide string; the result is NULL or a
        // C string from the matching allocator, freed below.
        unsafe {
            let encoded = encode_locale_raw(with_nul.as_ptr());
            if encoded.is_null() {
                return None;
            }
            let bytes = CStr::from_ptr(encoded).to_bytes().to_vec();
            ffi::PyMem_RawFree(encoded.cast());
            Some(bytes)
        }
    }

    /// `Py_DecodeLocale`: the inverse of [`WideString::encode_locale`].
    pub fn decode_locale(bytes: &[u8]) -> Option<WideString> {
        let bytes = CString::new(bytes).ok()?;
        // SAFETY: a NUL-terminated string; the result is NULL or a
        // PyMem_RawMalloc'ed wide string, freed below.
        unsafe {
            let decoded = ffi::Py_DecodeLocale(bytes.as_ptr(), ptr::null_mut());
            let wide = WideString::from_ptr(decoded);
            if !decoded.is_null() {
                ffi::PyMem_RawFree(decoded.cast());
            }
            wide
        }
    }
}

/// The configuration `Modules/main.c` runs the program from.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// `-c COMMAND`.
    pub run_command: Option<WideString>,
    /// `-m MODULE`.
    pub run_module: Option<WideString>,
    /// The script.
    pub run_filename: Option<WideString>,
    /// `argv[0]` of the process, for messages.
    pub program_name: Option<WideString>,
    /// `sys.argv`.
    pub argv: Vec<WideString>,
    /// `-P`, `-I`, `PYTHONSAFEPATH`.
    pub safe_path: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// Not `-S`.
    pub site_import: bool,
    /// `-I`.
    pub isolated: bool,
    /// `-i`.
    pub interactive: bool,
    /// Not `-E`/`-I`.
    pub use_environment: bool,
    /// `-x`.
    pub skip_source_first_line: bool,
}

/// A C `FILE *` over a checked descriptor, closed on drop.
pub struct CFile(NonNull<libc::FILE>);

impl std::fmt::Debug for CFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CFile(fd {})", self.fd().as_raw_fd())
    }
}

impl CFile {
    /// `fdopen(file, "rb")`: the stream reads the very open file
    /// description that was checked.
    pub fn new(file: File) -> std::io::Result<CFile> {
        let fd = file.into_raw_fd();
        // SAFETY: `fd` is an open descriptor we own; on success the stream
        // owns it, on failure we close it.
        let fp = unsafe { libc::fdopen(fd, c"rb".as_ptr()) };
        match NonNull::new(fp) {
            Some(fp) => Ok(CFile(fp)),
            None => {
                let error = std::io::Error::last_os_error();
                // SAFETY: `fd` is still ours.
                drop(unsafe { File::from_raw_fd(fd) });
                Err(error)
            }
        }
    }

    /// The descriptor under the stream.
    pub fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the stream is open, so is its descriptor, for as long as
        // `self` lives.
        unsafe { BorrowedFd::borrow_raw(libc::fileno(self.0.as_ptr())) }
    }

    /// `getc`: the next byte, or `None` at end of file.
    pub fn getc(&mut self) -> Option<u8> {
        // SAFETY: a valid stream.
        let c = unsafe { libc::fgetc(self.0.as_ptr()) };
        u8::try_from(c).ok()
    }

    /// `ungetc`.
    pub fn ungetc(&mut self, c: u8) {
        // SAFETY: a valid stream.
        unsafe { libc::ungetc(c_int::from(c), self.0.as_ptr()) };
    }

    /// `ftell`.
    pub fn tell(&mut self) -> i64 {
        // SAFETY: a valid stream.
        unsafe { libc::ftell(self.0.as_ptr()) }
    }

    /// `fread`: how many bytes were read into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        // SAFETY: a valid stream and a writable buffer of buf.len() bytes.
        unsafe { libc::fread(buf.as_mut_ptr().cast(), 1, buf.len(), self.0.as_ptr()) }
    }

    /// `rewind`.
    pub fn rewind(&mut self) {
        // SAFETY: a valid stream.
        unsafe { libc::rewind(self.0.as_ptr()) }
    }

    /// `PyMarshal_ReadLongFromFile`: the error is the exception it set
    /// (-1 and no exception is a value).
    pub fn read_marshal_long(&mut self, py: Python<'_>) -> PyResult<c_long> {
        // SAFETY: a valid stream; the thread is attached.
        let value = unsafe { ffi::PyMarshal_ReadLongFromFile(self.0.as_ptr()) };
        match PyErr::take(py) {
            Some(err) if value == -1 => Err(err),
            _ => Ok(value),
        }
    }

    /// `PyMarshal_ReadLastObjectFromFile`.
    pub fn read_marshal_object<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: a valid stream; the thread is attached; a new reference
        // or NULL with an exception set.
        unsafe { owned(py, ffi::PyMarshal_ReadLastObjectFromFile(self.0.as_ptr())) }
    }
}

impl Drop for CFile {
    fn drop(&mut self) {
        // SAFETY: the stream is open and closed once.
        unsafe { libc::fclose(self.0.as_ptr()) };
    }
}

/// `strerror(errno)`, as CPython's messages print it.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a valid NUL-terminated string; the main
    // thread copies it at once.
    unsafe { CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn _Py_GetConfigsAsDict() -> *mut ffi::PyObject;
    }

    fn wide(text: &str) -> Vec<wchar_t> {
        text.chars().map(|c| c as wchar_t).chain([0]).collect()
    }

    /// The fields of `PyConfig` that this module reads and writes are at
    /// the offsets libpython uses: values written through pyo3-ffi's struct
    /// come back from libpython's own `_Py_GetConfigsAsDict`, and the
    /// reverse. (A wrong layout would corrupt memory silently.)
    #[test]
    fn config_fields_are_where_libpython_has_them() {
        let mut raw = Box::new(MaybeUninit::<ffi::PyConfig>::uninit());
        // SAFETY: a test of the FFI itself: the config is initialised by
        // CPython, then fields are set through the struct under test; the
        // strings are NUL-terminated and outlive the calls.
        unsafe {
            ffi::PyConfig_InitPythonConfig(raw.as_mut_ptr());
            let config = &mut *raw.as_mut_ptr();
            config.parse_argv = 0;
            config.safe_path = 1;
            config.quiet = 1;
            config.site_import = 0;
            config.interactive = 1;
            config.inspect = 1;
            config.use_environment = 0;
            config.skip_source_first_line = 1;
            for (field, text) in [
                (&mut config.run_command as *mut _, "the command"),
                (&mut config.run_module as *mut _, "the.module"),
                (&mut config.run_filename as *mut _, "/the-file.py"),
                (&mut config.program_name as *mut _, "the-program"),
            ] {
                let text = wide(text);
                Status::check(ffi::PyConfig_SetString(config, field, text.as_ptr())).unwrap();
            }
            let args = [c"arg0".as_ptr(), c"arg1".as_ptr()];
            let mut argv: Vec<*const c_char> = args.to_vec();
            Status::check(ffi::PyConfig_SetBytesArgv(config, 2, argv.as_mut_ptr())).unwrap();
            Status::check(ffi::Py_InitializeFromConfig(config)).unwrap();
            ffi::PyConfig_Clear(config);
        };
        let interpreter = Interpreter {
            _not_send: PhantomData,
        };
        interpreter.run(|gil| {
            let seen = |gil: Python<'_>, key: &str| -> String {
                // SAFETY: the interpreter is initialised and this thread is attached.
                let configs = unsafe { owned(gil, _Py_GetConfigsAsDict()) }.unwrap();
                let config = configs.get_item("config").unwrap();
                // 3.13 shows its boolean fields as bools, 3.14 its lists as
                // tuples.
                let repr = config.get_item(key).unwrap().repr().unwrap().to_string();
                match repr.as_str() {
                    "True" => "1".to_owned(),
                    "False" => "0".to_owned(),
                    other if other.starts_with('(') && other.ends_with(')') => {
                        format!("[{}]", &other[1..other.len() - 1])
                    }
                    other => other.to_owned(),
                }
            };
            let run = run_config(gil);
            assert!(run.run_command.unwrap().is("the command"));
            assert!(run.run_module.unwrap().is("the.module"));
            assert!(run.run_filename.unwrap().is("/the-file.py"));
            assert!(run.program_name.unwrap().is("the-program"));
            assert_eq!(run.argv.len(), 2);
            assert!(run.argv[0].is("arg0") && run.argv[1].is("arg1"));
            assert!(run.safe_path && run.quiet && run.interactive && run.skip_source_first_line);
            assert!(!run.site_import && !run.use_environment && !run.verbose && !run.isolated);
            assert!(inspect(gil));
            for (key, value) in [
                ("run_command", "'the command'"),
                ("run_module", "'the.module'"),
                ("run_filename", "'/the-file.py'"),
                ("program_name", "'the-program'"),
                ("argv", "['arg0', 'arg1']"),
                ("safe_path", "1"),
                ("quiet", "1"),
                ("site_import", "0"),
                ("interactive", "1"),
                ("inspect", "1"),
                ("use_environment", "0"),
                ("skip_source_first_line", "1"),
                ("verbose", "0"),
                ("isolated", "0"),
            ] {
                assert_eq!(seen(gil, key), value, "{key:?}");
            }
            set_inspect(gil, false);
            assert_eq!(seen(gil, "inspect"), "0");
            assert!(!inspect(gil));
        });
        assert_eq!(interpreter.finalize(), 0);
    }
}
