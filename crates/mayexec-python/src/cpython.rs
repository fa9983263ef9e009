//! The CPython C API (3.11 to 3.14), as far as mayexec-python needs it,
//! behind a safe interface: the only module of the crate with `unsafe`.
//!
//! The model is pyo3's: a [`Gil`] token proves that this thread holds the
//! GIL, and every owned reference ([`Obj`]) borrows the token's lifetime,
//! so no reference outlives the interpreter or is touched without the GIL.
//! A [`PyErr`] means "a Python exception is set on this thread".
//!
//! Most declarations come from pyo3-ffi; the few it lacks are declared
//! below. Some of those are private-but-exported symbols that CPython's own
//! `Modules/main.c` uses, and they differ between versions (`Py_3_12`,
//! `Py_3_13` are pyo3's cfgs, set by the build script): `_Py_GetConfig`
//! (every version), `_Py_HandleSystemExit` (exported up to 3.12, replicated
//! here for 3.13 on), and the "unhandled KeyboardInterrupt" flag (a
//! variable up to 3.11, a field of the exported `_PyRuntime` from 3.12 on,
//! at the offset the build script read from the headers).
#![allow(unsafe_code)] // FFI to libpython; every block says why it holds.

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::fs::File;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd};
use std::ptr::{self, NonNull};
use std::sync::{Mutex, OnceLock};

use libc::wchar_t;
use pyo3_ffi as ffi;

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

/// The handle of a shared object of this name if it is already loaded in
/// the process: `dlopen(name, mode | RTLD_NOLOAD)`, which maps nothing
/// new and runs no code, and takes a reference as `dlopen` does.
pub fn loaded_shared_object(name: &CStr, mode: c_int) -> Option<usize> {
    // SAFETY: a NUL-terminated name; RTLD_NOLOAD only returns an object
    // already loaded (promoted to `mode`'s scope, as a plain dlopen would).
    let handle = unsafe { libc::dlopen(name.as_ptr(), mode | RTLD_NOLOAD) };
    (!handle.is_null()).then_some(handle as usize)
}

/// `RTLD_NOLOAD` of glibc's `<bits/dlfcn.h>` (not in the libc crate for
/// Linux).
const RTLD_NOLOAD: c_int = 0x0004;

/// glibc's `Dl_serpath` (`<dlfcn.h>`).
#[repr(C)]
struct DlSerpath {
    dls_name: *const c_char,
    dls_flags: libc::c_uint,
}

/// glibc's `Dl_serinfo` (`<dlfcn.h>`), followed by `dls_cnt` paths.
#[repr(C)]
struct DlSerinfo {
    dls_size: libc::size_t,
    dls_cnt: libc::c_uint,
    dls_serpath: [DlSerpath; 1],
}

/// The directories the dynamic loader searches for a bare library name
/// asked for by the program, in order (`dlinfo(RTLD_DI_SERINFO)` on the
/// main program: its `DT_RPATH`, `LD_LIBRARY_PATH` unless in secure
/// execution, its `DT_RUNPATH`, the system directories). The loader also
/// consults `/etc/ld.so.cache`, which is not in this list. Empty when the
/// loader cannot say.
pub fn loader_search_path() -> Vec<Vec<u8>> {
    let mut dirs = Vec::new();
    // SAFETY: dlopen(NULL) returns the main program's handle. RTLD_DI_
    // SERINFOSIZE fills the size and count of a Dl_serinfo; RTLD_DI_SERINFO
    // then fills a buffer of that size (aligned for Dl_serinfo: a Vec of
    // u64) with the count set, whose strings point into the same buffer.
    unsafe {
        let handle = libc::dlopen(ptr::null(), libc::RTLD_LAZY);
        if handle.is_null() {
            return dirs;
        }
        let mut size = MaybeUninit::<DlSerinfo>::zeroed();
        if libc::dlinfo(handle, libc::RTLD_DI_SERINFOSIZE, size.as_mut_ptr().cast()) != 0 {
            return dirs;
        }
        let size = size.assume_init();
        let words = size
            .dls_size
            .div_ceil(8)
            .max(std::mem::size_of::<DlSerinfo>() / 8 + 1);
        let mut buffer = vec![0u64; words];
        let info = buffer.as_mut_ptr().cast::<DlSerinfo>();
        (*info).dls_size = size.dls_size;
        (*info).dls_cnt = size.dls_cnt;
        if libc::dlinfo(handle, libc::RTLD_DI_SERINFO, info.cast()) != 0 {
            return dirs;
        }
        let paths = ptr::addr_of!((*info).dls_serpath).cast::<DlSerpath>();
        for i in 0..(*info).dls_cnt as usize {
            let name = (*paths.add(i)).dls_name;
            if !name.is_null() {
                dirs.push(CStr::from_ptr(name).to_bytes().to_vec());
            }
        }
    }
    dirs
}

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
pub type OpenCodeHook = for<'py> fn(Gil<'py>, &Obj<'py>) -> PyResult<Obj<'py>>;
/// The audit hook: called for every audit event with its arguments tuple.
pub type AuditHook = for<'py> fn(Gil<'py>, &CStr, &Obj<'py>) -> PyResult<()>;

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

unsafe extern "C" fn open_code_trampoline(
    path: *mut ffi::PyObject,
    _user_data: *mut c_void,
) -> *mut ffi::PyObject {
    let (open_code, _) = HOOKS
        .get()
        .expect("hooks are set before they are installed");
    // SAFETY: CPython calls the hook with the GIL held and a valid `str`
    // (PyFile_OpenCodeObject checks the type first).
    let gil = unsafe { Gil::assume() };
    // SAFETY: `path` is a valid borrowed reference for the call.
    let path = unsafe { Obj::from_borrowed(gil, path) };
    match open_code(gil, &path) {
        Ok(file) => file.into_ptr(),
        Err(PyErr(())) => ptr::null_mut(),
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
    // event name and a valid tuple of arguments.
    let (gil, event) = unsafe { (Gil::assume(), CStr::from_ptr(event)) };
    // SAFETY: `args` is a valid borrowed reference for the call.
    let args = unsafe { Obj::from_borrowed(gil, args) };
    match audit(gil, event, &args) {
        Ok(()) => 0,
        Err(PyErr(())) => -1,
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
    /// The GIL, held by this thread from initialisation to finalisation.
    pub fn gil(&self) -> Gil<'_> {
        Gil {
            _lifetime: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// `Py_FinalizeEx`: negative when flushing buffered data failed.
    pub fn finalize(self) -> i32 {
        // SAFETY: the interpreter is initialised and this thread holds the
        // GIL; no `Obj` can outlive `self` (they borrow `gil()`).
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

/* --- The GIL, references and errors ----------------------------------- */

/// Proof that this thread holds the GIL for `'py`.
#[derive(Clone, Copy)]
pub struct Gil<'py> {
    _lifetime: PhantomData<&'py ()>,
    _not_send: PhantomData<*mut ()>,
}

impl std::fmt::Debug for Gil<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gil")
    }
}

/// A Python exception is set on this thread.
#[derive(Debug)]
pub struct PyErr(());

/// The result of a call into Python.
pub type PyResult<T> = Result<T, PyErr>;

/// An owned (strong) reference to a Python object.
pub struct Obj<'py> {
    ptr: NonNull<ffi::PyObject>,
    _gil: PhantomData<Gil<'py>>,
}

impl std::fmt::Debug for Obj<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Obj({:p})", self.ptr)
    }
}

impl Drop for Obj<'_> {
    fn drop(&mut self) {
        // SAFETY: an Obj owns one reference and only exists while the GIL
        // is held (it borrows a Gil token).
        unsafe { ffi::Py_DECREF(self.ptr.as_ptr()) }
    }
}

impl Clone for Obj<'_> {
    fn clone(&self) -> Self {
        // SAFETY: as for Drop.
        unsafe { ffi::Py_INCREF(self.ptr.as_ptr()) };
        Obj {
            ptr: self.ptr,
            _gil: PhantomData,
        }
    }
}

impl<'py> Gil<'py> {
    /// # Safety
    /// The calling thread must hold the GIL for as long as the token is used.
    unsafe fn assume() -> Gil<'py> {
        Gil {
            _lifetime: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// Takes ownership of a new reference; NULL means an exception is set.
    fn own(self, ptr: *mut ffi::PyObject) -> PyResult<Obj<'py>> {
        NonNull::new(ptr)
            .map(|ptr| Obj {
                ptr,
                _gil: PhantomData,
            })
            .ok_or(PyErr(()))
    }

    /// Takes a new reference to a borrowed one; NULL means an exception is set.
    fn borrow(self, ptr: *mut ffi::PyObject) -> PyResult<Obj<'py>> {
        if !ptr.is_null() {
            // SAFETY: a non-NULL borrowed reference is valid under the GIL.
            unsafe { ffi::Py_INCREF(ptr) };
        }
        self.own(ptr)
    }

    /// 0 or -1 from the C API; -1 means an exception is set.
    fn status(self, rc: c_int) -> PyResult<()> {
        if rc < 0 {
            Err(PyErr(()))
        } else {
            Ok(())
        }
    }

    /// `None`.
    pub fn none(self) -> Obj<'py> {
        // SAFETY: Py_None is a static object.
        self.borrow(unsafe { ffi::Py_None() }).expect("None exists")
    }

    /// `True` or `False`.
    pub fn bool(self, value: bool) -> Obj<'py> {
        // SAFETY: Py_True and Py_False are static objects.
        let ptr = unsafe {
            if value {
                ffi::Py_True()
            } else {
                ffi::Py_False()
            }
        };
        self.borrow(ptr).expect("booleans exist")
    }

    /// A `str` from UTF-8 text.
    pub fn str(self, text: &str) -> PyResult<Obj<'py>> {
        // SAFETY: the pointer and length describe valid UTF-8.
        self.own(unsafe {
            ffi::PyUnicode_FromStringAndSize(text.as_ptr().cast(), text.len() as ffi::Py_ssize_t)
        })
    }

    /// A `str` from a wide string (`PyUnicode_FromWideChar`).
    pub fn wide_str(self, text: &WideString) -> PyResult<Obj<'py>> {
        // SAFETY: the pointer and length describe the vector's contents.
        self.own(unsafe {
            ffi::PyUnicode_FromWideChar(text.0.as_ptr(), text.0.len() as ffi::Py_ssize_t)
        })
    }

    /// `os.fsdecode(bytes)` (`PyUnicode_DecodeFSDefaultAndSize`).
    pub fn fs_decode(self, bytes: &[u8]) -> PyResult<Obj<'py>> {
        // SAFETY: the pointer and length describe the slice.
        self.own(unsafe {
            ffi::PyUnicode_DecodeFSDefaultAndSize(bytes.as_ptr().cast(), bytes.len() as _)
        })
    }

    /// `import name` (`PyImport_ImportModule`).
    pub fn import(self, name: &CStr) -> PyResult<Obj<'py>> {
        // SAFETY: `name` is NUL-terminated.
        self.own(unsafe { ffi::PyImport_ImportModule(name.as_ptr()) })
    }

    /// `sys.modules.get(name)`, without importing; errors count as absent.
    pub fn loaded_module(self, name: &str) -> Option<Obj<'py>> {
        let name = self.str(name).ok()?;
        // SAFETY: `name` is a valid str; the result is a new reference or
        // NULL (with or without an exception).
        match self.own(unsafe { ffi::PyImport_GetModule(name.as_ptr()) }) {
            Ok(module) => Some(module),
            Err(_) => {
                self.err_clear();
                None
            }
        }
    }

    /// Is the `__name__` of the module whose Python code is running now
    /// (the caller of a builtin such as `exec`) one of `names`? Compared
    /// in place, without a copy of the name.
    pub fn running_module_is(self, names: &[&CStr]) -> bool {
        // SAFETY: PyEval_GetFrame returns a borrowed frame (or NULL) of
        // this thread; PyFrame_GetGlobals returns a new reference.
        let globals = unsafe {
            let frame = ffi::PyEval_GetFrame();
            if frame.is_null() {
                return false;
            }
            match self.own(ffi::PyFrame_GetGlobals(frame)) {
                Ok(globals) => globals,
                Err(_) => {
                    self.err_clear();
                    return false;
                }
            }
        };
        globals
            .dict_get(c"__name__")
            .is_some_and(|name| name.is_str() && names.iter().any(|n| name.eq_ascii(n)))
    }

    /// `PyImport_AddModule("__main__")`.
    pub fn main_module(self) -> PyResult<Obj<'py>> {
        // SAFETY: a NUL-terminated name; the result is borrowed.
        self.borrow(unsafe { ffi::PyImport_AddModule(c"__main__".as_ptr()) })
    }

    /// `sys.<name>`, or `None` when it does not exist (`PySys_GetObject`).
    pub fn sys_attr(self, name: &CStr) -> Option<Obj<'py>> {
        // SAFETY: a NUL-terminated name; the result is borrowed or NULL
        // without an exception.
        self.borrow(unsafe { ffi::PySys_GetObject(name.as_ptr()) })
            .ok()
    }

    /// The builtins of the current frame, or of the interpreter at top level.
    pub fn builtins(self) -> PyResult<Obj<'py>> {
        // SAFETY: the result is borrowed.
        self.borrow(unsafe { ffi::PyEval_GetBuiltins() })
    }

    /// The ID of the current interpreter (the main one is 0).
    pub fn interpreter_id(self) -> i64 {
        // SAFETY: with the GIL held there is a current interpreter.
        unsafe { ffi::PyInterpreterState_GetID(ffi::PyInterpreterState_Get()) }
    }

    /// `PyImport_GetImporter(path)`: the importer for a `sys.path` entry, or
    /// `None`.
    pub fn importer(self, path: &Obj<'py>) -> PyResult<Obj<'py>> {
        // SAFETY: `path` is a valid object.
        self.own(unsafe { ffi::PyImport_GetImporter(path.as_ptr()) })
    }

    /// `io.open_code(path)` (`PyFile_OpenCodeObject`): goes through the
    /// open-code hook.
    pub fn open_code(self, path: &Obj<'py>) -> PyResult<Obj<'py>> {
        // SAFETY: `path` is a valid object.
        self.own(unsafe { PyFile_OpenCodeObject(path.as_ptr()) })
    }

    /// Raises an audit event with no arguments, or with one.
    pub fn audit(self, event: &CStr, arg: Option<&Obj<'py>>) -> PyResult<()> {
        // SAFETY: NUL-terminated strings; "O" matches one object argument,
        // and a NULL format means no arguments.
        let rc = unsafe {
            match arg {
                Some(arg) => PySys_Audit(event.as_ptr(), c"O".as_ptr(), arg.as_ptr()),
                None => PySys_Audit(event.as_ptr(), ptr::null()),
            }
        };
        self.status(rc)
    }

    /// The exception already set on this thread, as an error value.
    ///
    /// # Panics
    /// If no exception is set: that is a bug in the caller.
    pub fn pending_err(self) -> PyErr {
        assert!(self.err_occurred(), "an exception is set");
        PyErr(())
    }

    /// Is an exception set?
    pub fn err_occurred(self) -> bool {
        // SAFETY: reads the thread state.
        !unsafe { ffi::PyErr_Occurred() }.is_null()
    }

    /// Is the exception set exactly `KeyboardInterrupt` (not a subclass)?
    pub fn err_is_keyboard_interrupt(self) -> bool {
        // SAFETY: reads the thread state and a static type object.
        unsafe { ffi::PyErr_Occurred() == ffi::PyExc_KeyboardInterrupt }
    }

    /// Clears the exception.
    pub fn err_clear(self) {
        // SAFETY: always allowed with the GIL.
        unsafe { ffi::PyErr_Clear() }
    }

    /// `PyErr_Print`: prints the exception, or exits the process for an
    /// unhandled `SystemExit` (unless inspect mode is on).
    pub fn err_print(self) {
        // SAFETY: allowed with the GIL; with no exception set it does nothing.
        unsafe { ffi::PyErr_Print() }
    }

    /// `_Py_HandleSystemExit`: for a `SystemExit` (and inspect mode off),
    /// clears it and returns the exit status it asks for.
    #[cfg(not(Py_3_13))]
    pub fn handle_system_exit(self) -> Option<i32> {
        let mut exitcode: c_int = 0;
        // SAFETY: writes one int; requires the GIL.
        (unsafe { _Py_HandleSystemExit(&mut exitcode) } != 0).then_some(exitcode)
    }

    /// `_Py_HandleSystemExit` of `Python/pythonrun.c`, which 3.13 no
    /// longer exports: for a `SystemExit` (and inspect mode off), clears it
    /// and returns the exit status it asks for (its `code`: `None` is 0, an
    /// `int` is itself, anything else is printed to `sys.stderr` and is 1).
    #[cfg(Py_3_13)]
    pub fn handle_system_exit(self) -> Option<i32> {
        if self.inspect() {
            // Don't exit if -i flag was given.
            return None;
        }
        // SAFETY: reads the thread state and a static type object.
        if unsafe { ffi::PyErr_ExceptionMatches(ffi::PyExc_SystemExit) } == 0 {
            return None;
        }
        // SAFETY: takes the (normalised) exception off the thread state; a
        // new reference, owned below.
        let exc = self.own(unsafe { ffi::PyErr_GetRaisedException() });
        // SAFETY: the C library's stdout stream, valid for the process.
        unsafe { libc::fflush(ptr::addr_of!(stdout).read()) };
        let exitcode = match exc {
            Err(_) => 0,
            Ok(exc) if exc.is_none() => 0,
            Ok(exc) => {
                // The error code should be in the `code' attribute; if it
                // cannot be dug out, the exception itself is printed.
                let value = match exc.getattr(c"code") {
                    Ok(code) => code,
                    Err(_) => {
                        self.err_clear();
                        exc
                    }
                };
                let is_int = {
                    // SAFETY: a valid object.
                    unsafe { ffi::PyLong_Check(value.as_ptr()) != 0 }
                };
                if value.is_none() {
                    0
                } else if is_int {
                    // SAFETY: an int; (int)PyLong_AsLong as CPython does.
                    unsafe { ffi::PyLong_AsLong(value.as_ptr()) as c_int }
                } else {
                    match self.sys_attr(c"stderr").filter(|f| !f.is_none()) {
                        // SAFETY: an object and a file-like object.
                        Some(file) => unsafe {
                            ffi::PyFile_WriteObject(
                                value.as_ptr(),
                                file.as_ptr(),
                                ffi::Py_PRINT_RAW,
                            );
                        },
                        None => {
                            if let Ok(text) = value.str().and_then(|t| t.utf8()) {
                                warn!("{}", String::from_utf8_lossy(&text));
                            }
                        }
                    }
                    self.err_clear();
                    self.write_stderr("\n");
                    1
                }
            }
        };
        // Restore and clear the exception info, to make sure that no
        // references to the exception remain.
        self.err_clear();
        Some(exitcode)
    }

    /// Takes the current exception off the thread state.
    #[cfg(Py_3_12)]
    pub fn err_fetch(self) -> Option<FetchedErr<'py>> {
        // SAFETY: a new reference to the raised exception, or NULL.
        let value = unsafe { ffi::PyErr_GetRaisedException() };
        (!value.is_null()).then(|| FetchedErr {
            value: self.own(value).ok(),
        })
    }

    /// Takes the current exception (normalised) off the thread state.
    #[cfg(not(Py_3_12))]
    pub fn err_fetch(self) -> Option<FetchedErr<'py>> {
        let mut kind = ptr::null_mut();
        let mut value = ptr::null_mut();
        let mut traceback = ptr::null_mut();
        // SAFETY: the three out-pointers receive owned references or NULL.
        unsafe {
            ffi::PyErr_Fetch(&mut kind, &mut value, &mut traceback);
            if kind.is_null() {
                return None;
            }
            ffi::PyErr_NormalizeException(&mut kind, &mut value, &mut traceback);
        }
        Some(FetchedErr {
            kind: self.own(kind).ok(),
            value: self.own(value).ok(),
            traceback: self.own(traceback).ok(),
        })
    }

    /// Raises `exc_type(*args)`.
    fn raise(self, exc_type: *mut ffi::PyObject, args: &[&Obj<'py>]) -> PyErr {
        // SAFETY: `exc_type` is one of CPython's static exception types.
        let exc_type = match self.borrow(exc_type) {
            Ok(t) => t,
            Err(err) => return err,
        };
        match exc_type.call(args) {
            Ok(exc) => {
                // SAFETY: both are valid objects; PyErr_SetObject takes its
                // own references.
                unsafe { ffi::PyErr_SetObject(exc_type.as_ptr(), exc.as_ptr()) };
                PyErr(())
            }
            Err(err) => err,
        }
    }

    /// Raises `PermissionError(EACCES, message, filename)`.
    pub fn raise_permission_error(self, message: &str, filename: &Obj<'py>) -> PyErr {
        let errno = match self.int(libc::EACCES as c_long) {
            Ok(errno) => errno,
            Err(err) => return err,
        };
        let message = match self.str(message) {
            Ok(message) => message,
            Err(err) => return err,
        };
        // SAFETY: a static exception type.
        let exc_type = unsafe { ffi::PyExc_PermissionError };
        self.raise(exc_type, &[&errno, &message, filename])
    }

    /// Raises the `OSError` subclass for `errno`, naming `filename`, as a
    /// failed `open()` does.
    pub fn raise_errno(self, errno: i32, filename: &Obj<'py>) -> PyErr {
        // SAFETY: sets this thread's errno, which the next call reads; both
        // objects are valid.
        unsafe {
            *libc::__errno_location() = errno;
            ffi::PyErr_SetFromErrnoWithFilenameObject(ffi::PyExc_OSError, filename.as_ptr());
        }
        PyErr(())
    }

    /// Raises `ValueError(message)`.
    pub fn raise_value_error(self, message: &CStr) -> PyErr {
        // SAFETY: a static type and a NUL-terminated message.
        unsafe { ffi::PyErr_SetString(ffi::PyExc_ValueError, message.as_ptr()) };
        PyErr(())
    }

    /// Raises `TypeError(message)`.
    pub fn raise_type_error(self, message: &CStr) -> PyErr {
        // SAFETY: a static type and a NUL-terminated message.
        unsafe { ffi::PyErr_SetString(ffi::PyExc_TypeError, message.as_ptr()) };
        PyErr(())
    }

    /// Raises `RuntimeError(message)`.
    pub fn raise_runtime_error(self, message: &CStr) -> PyErr {
        // SAFETY: a static type and a NUL-terminated message.
        unsafe { ffi::PyErr_SetString(ffi::PyExc_RuntimeError, message.as_ptr()) };
        PyErr(())
    }

    /// An `int`.
    pub fn int(self, value: c_long) -> PyResult<Obj<'py>> {
        // SAFETY: no preconditions beyond the GIL.
        self.own(unsafe { ffi::PyLong_FromLong(value) })
    }

    /// Writes to `sys.stderr` (falling back to the C stream), as
    /// `PySys_FormatStderr` does; the text is not truncated.
    pub fn write_stderr(self, text: &str) {
        let Ok(text) = CString::new(text.replace('\0', "\\0")) else {
            return;
        };
        // SAFETY: "%s" takes one NUL-terminated UTF-8 string.
        unsafe { ffi::PySys_FormatStderr(c"%s".as_ptr(), text.as_ptr()) }
    }

    /// `Py_MakePendingCalls`: runs signal handlers that are due.
    pub fn make_pending_calls(self) -> PyResult<()> {
        // SAFETY: called from the main thread with the GIL.
        self.status(unsafe { ffi::Py_MakePendingCalls() })
    }

    /// `Py_GetVersion()` and `Py_GetPlatform()`.
    pub fn version_and_platform(self) -> (String, String) {
        // SAFETY: both return static NUL-terminated strings.
        unsafe {
            (
                CStr::from_ptr(ffi::Py_GetVersion())
                    .to_string_lossy()
                    .into_owned(),
                CStr::from_ptr(ffi::Py_GetPlatform())
                    .to_string_lossy()
                    .into_owned(),
            )
        }
    }

    /// `PyImport_GetMagicNumber()`.
    pub fn magic_number(self) -> c_long {
        // SAFETY: no preconditions beyond the GIL.
        unsafe { ffi::PyImport_GetMagicNumber() }
    }

    /// The running configuration (`_Py_GetConfig`), copied.
    pub fn run_config(self) -> RunConfig {
        // SAFETY: with the GIL there is a current interpreter whose config
        // is valid for its lifetime; its strings are NUL-terminated.
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
    pub fn inspect(self) -> bool {
        // SAFETY: as for run_config.
        unsafe { (*_Py_GetConfig()).inspect != 0 }
    }

    /// `pymain_set_inspect`: `PyConfig.inspect` and `Py_InspectFlag`, which
    /// decide whether an unhandled `SystemExit` exits.
    pub fn set_inspect(self, inspect: bool) {
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
    pub fn set_running_main(self, running: bool) {
        // SAFETY: the GIL is held, so the current thread state belongs to
        // the interpreter returned, as both functions require.
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
    pub fn set_unhandled_keyboard_interrupt(self, value: bool) {
        // SAFETY: a plain int of libpython's, written under the GIL as
        // CPython itself does.
        unsafe { unhandled_keyboard_interrupt_flag().write(c_int::from(value)) }
    }

    /// `_PyRun_SimpleStringFlagsWithName(command, "<string>",
    /// PyCF_IGNORE_COOKIE)`, which 3.13 and 3.14 do not export: as
    /// `PyRun_SimpleStringFlags`, and the source is registered with
    /// `linecache` so that tracebacks show its lines. 0, or -1 after
    /// printing the exception.
    #[cfg(Py_3_13)]
    pub fn run_simple_string(self, command: &CStr) -> i32 {
        let mut flags = compiler_flags(PY_CF_IGNORE_COOKIE);
        let result = (|| -> PyResult<Obj<'py>> {
            let d = self.main_module()?.module_dict()?;
            // SAFETY: a NUL-terminated source and name, a valid flags struct.
            let code = self.own(unsafe {
                ffi::Py_CompileStringExFlags(
                    command.as_ptr(),
                    c"<string>".as_ptr(),
                    ffi::Py_file_input,
                    &mut flags,
                    -1,
                )
            })?;
            let source = self.str(&String::from_utf8_lossy(command.to_bytes()))?;
            let name = self.str("<string>")?;
            // 3.13 keys linecache's entry by the code's file name, 3.14
            // by the code object and each one nested in it.
            #[cfg(not(Py_3_14))]
            let key = &name;
            #[cfg(Py_3_14)]
            let key = &code;
            self.import(c"linecache")?
                .getattr(c"_register_code")?
                .call(&[key, &source, &name])?;
            self.set_unhandled_keyboard_interrupt(false);
            let v = self.eval_code(&code, &d);
            if v.is_err() && self.err_is_keyboard_interrupt() {
                self.set_unhandled_keyboard_interrupt(true);
            }
            v
        })();
        match result {
            Ok(_) => 0,
            Err(_) => {
                self.err_print();
                -1
            }
        }
    }

    /// `PyConfig.sys_path_0` (3.13): the `sys.path[0]` the program started
    /// with, where the import system looks for a script that shadows a
    /// standard module (to say so in the error).
    #[cfg(Py_3_13)]
    pub fn set_sys_path_0(self, path0: &Obj<'py>) -> PyResult<()> {
        // SAFETY: a str; the result is NULL (an exception set) or a
        // PyMem_Malloc'ed NUL-terminated wide string, freed below.
        let wide = unsafe { ffi::PyUnicode_AsWideCharString(path0.as_ptr(), ptr::null_mut()) };
        if wide.is_null() {
            return Err(self.pending_err());
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
                ffi::PyErr_NoMemory();
                return Err(PyErr(()));
            }
            let config = _Py_GetConfig().cast_mut();
            ffi::PyMem_RawFree((*config).sys_path_0.cast());
            (*config).sys_path_0 = copy;
        }
        Ok(())
    }

    /// `PyRun_SimpleStringFlags(command, PyCF_IGNORE_COOKIE)`: 0, or -1
    /// after printing the exception.
    #[cfg(not(Py_3_13))]
    pub fn run_simple_string(self, command: &CStr) -> i32 {
        let mut flags = compiler_flags(PY_CF_IGNORE_COOKIE);
        // SAFETY: a NUL-terminated string and a valid flags struct.
        unsafe { ffi::PyRun_SimpleStringFlags(command.as_ptr(), &mut flags) }
    }

    /// `PyRun_FileExFlags(fp, filename, Py_file_input, globals, globals,
    /// closeit)`: parses the file, closes it when `closeit`, then runs it.
    /// Without `closeit` the file comes back to the caller.
    pub fn run_file(
        self,
        file: CFile,
        filename: &CStr,
        globals: &Obj<'py>,
        closeit: bool,
    ) -> (PyResult<Obj<'py>>, Option<CFile>) {
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
        let result = self.own(unsafe {
            ffi::PyRun_FileExFlags(
                fp,
                filename.as_ptr(),
                ffi::Py_file_input,
                globals.as_ptr(),
                globals.as_ptr(),
                c_int::from(closeit),
                &mut flags,
            )
        });
        (result, file)
    }

    /// `PyRun_InteractiveLoopFlags(fp, filename)`: a prompt on a terminal.
    pub fn run_interactive_loop(self, file: &mut CFile, filename: &CStr) -> i32 {
        let mut flags = compiler_flags(0);
        // SAFETY: a valid FILE, a NUL-terminated name, valid flags.
        unsafe { ffi::PyRun_InteractiveLoopFlags(file.0.as_ptr(), filename.as_ptr(), &mut flags) }
    }

    /// `PyRun_AnyFileExFlags(stdin, "<stdin>", 0)`: the program on the C
    /// library's standard input, or the prompt when it is interactive.
    pub fn run_stdin(self) -> i32 {
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

    /// `PyEval_EvalCode(code, globals, globals)`.
    pub fn eval_code(self, code: &Obj<'py>, globals: &Obj<'py>) -> PyResult<Obj<'py>> {
        // SAFETY: a code object and a dict.
        self.own(unsafe { ffi::PyEval_EvalCode(code.as_ptr(), globals.as_ptr(), globals.as_ptr()) })
    }

    /// Wraps a descriptor the caller owns as `io.BufferedReader(io.FileIO(fd,
    /// "rb"))` named `name`: what `io.open(name, "rb")` returns, for a file
    /// opened (and checked) by the caller.
    pub fn binary_reader(self, file: File, name: &Obj<'py>) -> PyResult<Obj<'py>> {
        // (Taken from `sys.modules` when there, as it is from the
        // interpreter's start: no `__import__` call, no look at its spec.)
        // SAFETY: PyImport_GetModuleDict returns the interpreter's
        // `sys.modules` (borrowed); PyDict_GetItemString a borrowed value
        // or NULL, without an exception.
        let loaded = unsafe {
            let modules = ffi::PyImport_GetModuleDict();
            ffi::PyDict_GetItemString(modules, c"_io".as_ptr())
        };
        let io = match self.borrow(loaded) {
            Ok(io) => io,
            Err(_) => self.import(c"_io")?,
        };
        let fd = self.int(file.as_raw_fd() as c_long)?;
        let raw = io.getattr(c"FileIO")?.call(&[&fd, &self.str("rb")?])?;
        // FileIO owns the descriptor from here on (closefd=True); on failure
        // above, `file` still owns and closes it.
        let _ = file.into_raw_fd();
        raw.setattr(c"name", name)?;
        io.getattr(c"BufferedReader")?.call(&[&raw])
    }

    /// A function to put on a class as a method: `def.name(self, *args)`,
    /// implemented by `f`, which also receives `data`.
    pub fn method(self, def: &'static MethodDef, f: Method, data: &Obj<'py>) -> PyResult<Obj<'py>> {
        let index = {
            let mut methods = METHODS.lock().unwrap_or_else(|p| p.into_inner());
            match methods.iter().position(|&m| m as usize == f as usize) {
                Some(index) => index,
                None => {
                    methods.push(f);
                    methods.len() - 1
                }
            }
        };
        // The function's `self` carries which implementation and its data.
        let binding = self.tuple(&[&self.int(index as c_long)?, data])?;
        // SAFETY: the definition is 'static and never written; `binding`
        // is a valid object the function keeps a reference to.
        let function = self.own(unsafe {
            ffi::PyCFunction_NewEx(
                ptr::addr_of!(def.0).cast_mut(),
                binding.as_ptr(),
                ptr::null_mut(),
            )
        })?;
        // SAFETY: `function` is a valid callable; an instance method binds
        // it to instances of the class it is put on.
        self.own(unsafe { PyInstanceMethod_New(function.as_ptr()) })
    }

    /// A tuple.
    pub fn tuple(self, items: &[&Obj<'py>]) -> PyResult<Obj<'py>> {
        // SAFETY: PyTuple_New returns a new tuple of the given size.
        let tuple = self.own(unsafe { ffi::PyTuple_New(items.len() as ffi::Py_ssize_t) })?;
        for (i, item) in items.iter().enumerate() {
            // SAFETY: fills each slot of the fresh tuple once; SetItem
            // steals the new reference.
            unsafe {
                ffi::PyTuple_SetItem(
                    tuple.as_ptr(),
                    i as ffi::Py_ssize_t,
                    (*item).clone().into_ptr(),
                )
            };
        }
        Ok(tuple)
    }
}

impl<'py> Gil<'py> {
    /// A function `def.name(*args, **kwargs)` implemented by `f`, which
    /// also receives `data` (see [`MethodDef::with_keywords`]).
    pub fn function(
        self,
        def: &'static MethodDef,
        f: Function,
        data: &Obj<'py>,
    ) -> PyResult<Obj<'py>> {
        let index = {
            let mut functions = FUNCTIONS.lock().unwrap_or_else(|p| p.into_inner());
            match functions.iter().position(|&g| g as usize == f as usize) {
                Some(index) => index,
                None => {
                    functions.push(f);
                    functions.len() - 1
                }
            }
        };
        let binding = self.tuple(&[&self.int(index as c_long)?, data])?;
        // SAFETY: the definition is 'static and never written; `binding`
        // is a valid object the function keeps a reference to.
        self.own(unsafe {
            ffi::PyCFunction_NewEx(
                ptr::addr_of!(def.0).cast_mut(),
                binding.as_ptr(),
                ptr::null_mut(),
            )
        })
    }
}

/// The implementation of a function: `(data, args, kwargs)`, the
/// arguments as CPython passes them (a tuple, and a dict or nothing).
pub type Function =
    for<'py> fn(Gil<'py>, &Obj<'py>, &Obj<'py>, Option<&Obj<'py>>) -> PyResult<Obj<'py>>;

static FUNCTIONS: Mutex<Vec<Function>> = Mutex::new(Vec::new());

unsafe extern "C" fn function_trampoline(
    binding: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls builtin functions with the GIL held; `binding`
    // is the (index, data) tuple made by Gil::function; METH_VARARGS |
    // METH_KEYWORDS passes a tuple and a dict or NULL, borrowed.
    let (gil, binding, args, kwargs) = unsafe {
        let gil = Gil::assume();
        let kwargs = (!kwargs.is_null()).then(|| Obj::from_borrowed(gil, kwargs));
        (
            gil,
            Obj::from_borrowed(gil, binding),
            Obj::from_borrowed(gil, args),
            kwargs,
        )
    };
    let call = || -> PyResult<Obj<'_>> {
        let index = binding.item(0)?.as_long()?;
        let data = binding.item(1)?;
        let f = FUNCTIONS.lock().unwrap_or_else(|p| p.into_inner())[index as usize];
        f(gil, &data, &args, kwargs.as_ref())
    };
    match call() {
        Ok(result) => result.into_ptr(),
        Err(PyErr(())) => ptr::null_mut(),
    }
}

/// The implementation of a method: `(data, [self, *args])`.
pub type Method = for<'py> fn(Gil<'py>, &Obj<'py>, &[Obj<'py>]) -> PyResult<Obj<'py>>;

static METHODS: Mutex<Vec<Method>> = Mutex::new(Vec::new());

/// The C definition of a method implemented in Rust (see [`Gil::method`]).
pub struct MethodDef(ffi::PyMethodDef);

// SAFETY: the definition is immutable; CPython only reads it.
unsafe impl Sync for MethodDef {}

impl MethodDef {
    /// A definition named `name`, documented by `doc`.
    pub const fn new(name: &'static CStr, doc: &'static CStr) -> MethodDef {
        MethodDef(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFast: method_trampoline,
            },
            ml_flags: ffi::METH_FASTCALL,
            ml_doc: doc.as_ptr(),
        })
    }

    /// A definition of a function taking positional and keyword
    /// arguments, for [`Gil::function`].
    pub const fn with_keywords(name: &'static CStr, doc: &'static CStr) -> MethodDef {
        MethodDef(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionWithKeywords: function_trampoline,
            },
            ml_flags: ffi::METH_VARARGS | ffi::METH_KEYWORDS,
            ml_doc: doc.as_ptr(),
        })
    }
}

unsafe extern "C" fn method_trampoline(
    binding: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls builtin functions with the GIL held; `binding`
    // is the (index, data) tuple made by Gil::method; METH_FASTCALL passes
    // `nargs` valid borrowed references.
    let (gil, binding, args) = unsafe {
        let gil = Gil::assume();
        let args: Vec<Obj<'_>> = (0..nargs as usize)
            .map(|i| Obj::from_borrowed(gil, *args.add(i)))
            .collect();
        (gil, Obj::from_borrowed(gil, binding), args)
    };
    let call = || -> PyResult<Obj<'_>> {
        let index = binding.item(0)?.as_long()?;
        let data = binding.item(1)?;
        let f = METHODS.lock().unwrap_or_else(|p| p.into_inner())[index as usize];
        f(gil, &data, &args)
    };
    match call() {
        Ok(result) => result.into_ptr(),
        Err(PyErr(())) => ptr::null_mut(),
    }
}

/// An exception taken off the thread state by [`Gil::err_fetch`].
#[derive(Debug)]
pub struct FetchedErr<'py> {
    #[cfg(not(Py_3_12))]
    kind: Option<Obj<'py>>,
    value: Option<Obj<'py>>,
    #[cfg(not(Py_3_12))]
    traceback: Option<Obj<'py>>,
}

impl<'py> FetchedErr<'py> {
    /// The exception instance.
    pub fn value(&self) -> Option<&Obj<'py>> {
        self.value.as_ref()
    }

    /// Sets it again; what `PyErr_SetRaisedException` does.
    #[cfg(Py_3_12)]
    pub fn restore(self) -> PyErr {
        let value = self.value.map_or(ptr::null_mut(), Obj::into_ptr);
        // SAFETY: PyErr_SetRaisedException steals the reference (or NULL).
        unsafe { ffi::PyErr_SetRaisedException(value) };
        PyErr(())
    }

    /// Sets it again; what `PyErr_Restore` does.
    #[cfg(not(Py_3_12))]
    pub fn restore(self) -> PyErr {
        let take = |o: Option<Obj<'py>>| o.map_or(ptr::null_mut(), Obj::into_ptr);
        // SAFETY: PyErr_Restore steals the three references (or NULLs).
        unsafe { ffi::PyErr_Restore(take(self.kind), take(self.value), take(self.traceback)) };
        PyErr(())
    }
}

impl<'py> Obj<'py> {
    /// # Safety
    /// `ptr` must be a valid borrowed reference, and the GIL held.
    unsafe fn from_borrowed(gil: Gil<'py>, ptr: *mut ffi::PyObject) -> Obj<'py> {
        gil.borrow(ptr).expect("CPython passes non-NULL references")
    }

    fn as_ptr(&self) -> *mut ffi::PyObject {
        self.ptr.as_ptr()
    }

    fn into_ptr(self) -> *mut ffi::PyObject {
        let ptr = self.ptr.as_ptr();
        std::mem::forget(self);
        ptr
    }

    fn gil(&self) -> Gil<'py> {
        Gil {
            _lifetime: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// `getattr(self, name)`.
    pub fn getattr(&self, name: &CStr) -> PyResult<Obj<'py>> {
        // SAFETY: a valid object and a NUL-terminated name.
        self.gil()
            .own(unsafe { ffi::PyObject_GetAttrString(self.as_ptr(), name.as_ptr()) })
    }

    /// `setattr(self, name, value)`.
    pub fn setattr(&self, name: &CStr, value: &Obj<'py>) -> PyResult<()> {
        // SAFETY: valid objects and a NUL-terminated name.
        self.gil().status(unsafe {
            ffi::PyObject_SetAttrString(self.as_ptr(), name.as_ptr(), value.as_ptr())
        })
    }

    /// `self(*args)`.
    ///
    /// With the vectorcall protocol (`PyObject_Vectorcall`): no tuple is
    /// made for the arguments of a callable that takes them as an array,
    /// as the import system's functions and the wrappers here do.
    pub fn call(&self, args: &[&Obj<'py>]) -> PyResult<Obj<'py>> {
        let ptrs: Vec<*mut ffi::PyObject> = args.iter().map(|arg| arg.as_ptr()).collect();
        // SAFETY: a valid callable and `ptrs.len()` valid borrowed
        // references, alive for the call (`args` borrows them); no
        // keywords.
        self.gil().own(unsafe {
            ffi::PyObject_Vectorcall(self.as_ptr(), ptrs.as_ptr(), ptrs.len(), ptr::null_mut())
        })
    }

    /// `self(*args, **kwargs)`, `args` a tuple and `kwargs` a dict.
    pub fn call_with(&self, args: &Obj<'py>, kwargs: Option<&Obj<'py>>) -> PyResult<Obj<'py>> {
        let kwargs = kwargs.map_or(ptr::null_mut(), Obj::as_ptr);
        // SAFETY: a valid callable, a tuple, and a dict or NULL.
        self.gil()
            .own(unsafe { ffi::PyObject_Call(self.as_ptr(), args.as_ptr(), kwargs) })
    }

    /// `self.name()`.
    pub fn call_method0(&self, name: &CStr) -> PyResult<Obj<'py>> {
        self.getattr(name)?.call(&[])
    }

    /// `self is None`.
    pub fn is_none(&self) -> bool {
        // SAFETY: Py_None is a static object.
        self.as_ptr() == unsafe { ffi::Py_None() }
    }

    /// `bool(self)`.
    pub fn is_true(&self) -> PyResult<bool> {
        // SAFETY: a valid object.
        let rc = unsafe { ffi::PyObject_IsTrue(self.as_ptr()) };
        self.gil().status(rc)?;
        Ok(rc == 1)
    }

    /// `self == other`.
    pub fn equals(&self, other: &Obj<'py>) -> PyResult<bool> {
        // SAFETY: two valid objects.
        let rc =
            unsafe { ffi::PyObject_RichCompareBool(self.as_ptr(), other.as_ptr(), ffi::Py_EQ) };
        self.gil().status(rc)?;
        Ok(rc == 1)
    }

    /// `isinstance(self, str)`.
    pub fn is_str(&self) -> bool {
        // SAFETY: a valid object.
        unsafe { ffi::PyUnicode_Check(self.as_ptr()) != 0 }
    }

    /// `isinstance(self, types.CodeType)`.
    pub fn is_code(&self) -> bool {
        // SAFETY: a valid object and a static type.
        unsafe { ffi::Py_TYPE(self.as_ptr()) == ptr::addr_of_mut!(ffi::PyCode_Type) }
    }

    /// `isinstance(self, PermissionError)`.
    pub fn is_permission_error(&self) -> bool {
        // SAFETY: a valid object and a static type.
        unsafe { ffi::PyErr_GivenExceptionMatches(self.as_ptr(), ffi::PyExc_PermissionError) != 0 }
    }

    /// `str(self)`.
    pub fn str(&self) -> PyResult<Obj<'py>> {
        // SAFETY: a valid object.
        self.gil().own(unsafe { ffi::PyObject_Str(self.as_ptr()) })
    }

    /// `repr(self)`, as UTF-8 text (lossy).
    pub fn repr_text(&self) -> PyResult<String> {
        // SAFETY: a valid object.
        let repr = self
            .gil()
            .own(unsafe { ffi::PyObject_Repr(self.as_ptr()) })?;
        repr.text()
    }

    /// The text of a `str`, lossily (lone surrogates become U+FFFD).
    pub fn text(&self) -> PyResult<String> {
        let bytes = self.gil().own(
            // SAFETY: a valid object and NUL-terminated codec names.
            unsafe {
                ffi::PyUnicode_AsEncodedString(
                    self.as_ptr(),
                    c"utf-8".as_ptr(),
                    c"replace".as_ptr(),
                )
            },
        )?;
        Ok(String::from_utf8_lossy(bytes.bytes()).into_owned())
    }

    /// `self.encode("utf-8")`, strictly (`PyUnicode_AsUTF8String`).
    pub fn utf8(&self) -> PyResult<Vec<u8>> {
        // SAFETY: a valid object.
        let bytes = self
            .gil()
            .own(unsafe { ffi::PyUnicode_AsUTF8String(self.as_ptr()) })?;
        Ok(bytes.bytes().to_vec())
    }

    /// `os.fsencode(self)` for a `str` (`PyUnicode_EncodeFSDefault`).
    pub fn fs_encode(&self) -> PyResult<Vec<u8>> {
        // SAFETY: a valid object.
        let bytes = self
            .gil()
            .own(unsafe { ffi::PyUnicode_EncodeFSDefault(self.as_ptr()) })?;
        Ok(bytes.bytes().to_vec())
    }

    /// `os.fsencode(self)` for a `str`, `bytes` or path-like object
    /// (`PyUnicode_FSConverter`, as `_ctypes.dlopen` converts its name).
    pub fn fs_path(&self) -> PyResult<Vec<u8>> {
        let mut converted: *mut ffi::PyObject = ptr::null_mut();
        // SAFETY: a valid object; on success the converter stores a new
        // reference to a bytes object in `converted`.
        let rc = unsafe {
            ffi::PyUnicode_FSConverter(self.as_ptr(), ptr::addr_of_mut!(converted).cast())
        };
        if rc == 0 {
            return Err(PyErr(()));
        }
        let bytes = self.gil().own(converted)?;
        Ok(bytes.bytes().to_vec())
    }

    /// The contents of a `bytes` object.
    fn bytes(&self) -> &[u8] {
        // SAFETY: only called on objects just created as bytes; the buffer
        // lives as long as the object.
        unsafe {
            std::slice::from_raw_parts(
                ffi::PyBytes_AsString(self.as_ptr()).cast::<u8>(),
                ffi::PyBytes_Size(self.as_ptr()) as usize,
            )
        }
    }

    /// Does this `str` end with the ASCII `suffix`? Read in place
    /// (`PyUnicode_ReadChar`), without a `str` made for the suffix.
    pub fn ends_with(&self, suffix: &str) -> PyResult<bool> {
        debug_assert!(suffix.is_ascii());
        // SAFETY: a valid str.
        let len = unsafe { ffi::PyUnicode_GetLength(self.as_ptr()) };
        if len < 0 {
            return Err(PyErr(()));
        }
        let start = len - suffix.len() as ffi::Py_ssize_t;
        if start < 0 {
            return Ok(false);
        }
        for (i, &expected) in suffix.as_bytes().iter().enumerate() {
            // SAFETY: a valid str and an index below its length.
            let c = unsafe { ffi::PyUnicode_ReadChar(self.as_ptr(), start + i as ffi::Py_ssize_t) };
            if c == ffi::Py_UCS4::MAX {
                return Err(PyErr(()));
            }
            if c != ffi::Py_UCS4::from(expected) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Is this `str` equal to the ASCII `text`?
    pub fn eq_ascii(&self, text: &CStr) -> bool {
        // SAFETY: a valid str and a NUL-terminated ASCII string.
        unsafe { ffi::PyUnicode_CompareWithASCIIString(self.as_ptr(), text.as_ptr()) == 0 }
    }

    /// The `__dict__` of a module (`PyModule_GetDict`).
    pub fn module_dict(&self) -> PyResult<Obj<'py>> {
        // SAFETY: a valid module; the result is borrowed.
        self.gil()
            .borrow(unsafe { ffi::PyModule_GetDict(self.as_ptr()) })
    }

    /// `key in self` for a dict.
    pub fn dict_contains(&self, key: &CStr) -> PyResult<bool> {
        let key = self.gil().str(&key.to_string_lossy())?;
        // SAFETY: a valid dict and key.
        let rc = unsafe { ffi::PyDict_Contains(self.as_ptr(), key.as_ptr()) };
        self.gil().status(rc)?;
        Ok(rc == 1)
    }

    /// `self[key] = value` for a dict.
    pub fn dict_set(&self, key: &CStr, value: &Obj<'py>) -> PyResult<()> {
        // SAFETY: a valid dict, key and value.
        self.gil().status(unsafe {
            ffi::PyDict_SetItemString(self.as_ptr(), key.as_ptr(), value.as_ptr())
        })
    }

    /// `del self[key]` for a dict.
    pub fn dict_del(&self, key: &CStr) -> PyResult<()> {
        // SAFETY: a valid dict and key.
        self.gil()
            .status(unsafe { ffi::PyDict_DelItemString(self.as_ptr(), key.as_ptr()) })
    }

    /// `self.get(key)` for a dict; `None` when absent or on error.
    pub fn dict_get(&self, key: &CStr) -> Option<Obj<'py>> {
        // SAFETY: a valid dict and key; the result is borrowed, NULL when
        // absent, and errors are suppressed.
        self.gil()
            .borrow(unsafe { ffi::PyDict_GetItemString(self.as_ptr(), key.as_ptr()) })
            .ok()
    }

    /// `self.insert(index, item)` for a list.
    pub fn list_insert(&self, index: isize, item: &Obj<'py>) -> PyResult<()> {
        // SAFETY: a valid list and item.
        self.gil()
            .status(unsafe { ffi::PyList_Insert(self.as_ptr(), index, item.as_ptr()) })
    }

    /// The value of an `int`.
    pub fn as_long(&self) -> PyResult<c_long> {
        // SAFETY: a valid object.
        let value = unsafe { ffi::PyLong_AsLong(self.as_ptr()) };
        if value == -1 && self.gil().err_occurred() {
            return Err(PyErr(()));
        }
        Ok(value)
    }

    /// `self[index]` for a sequence.
    pub fn item(&self, index: isize) -> PyResult<Obj<'py>> {
        // SAFETY: a valid object.
        self.gil()
            .own(unsafe { ffi::PySequence_GetItem(self.as_ptr(), index) })
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

    /// `PyMarshal_ReadLongFromFile`: -1 with an exception set on error.
    pub fn read_marshal_long(&mut self, _gil: Gil<'_>) -> c_long {
        // SAFETY: a valid stream; the GIL is held.
        unsafe { ffi::PyMarshal_ReadLongFromFile(self.0.as_ptr()) }
    }

    /// `PyMarshal_ReadLastObjectFromFile`.
    pub fn read_marshal_object<'py>(&mut self, gil: Gil<'py>) -> PyResult<Obj<'py>> {
        // SAFETY: a valid stream; the GIL is held.
        gil.own(unsafe { ffi::PyMarshal_ReadLastObjectFromFile(self.0.as_ptr()) })
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
        let gil = unsafe {
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
            Gil::assume()
        };

        let seen = |gil: Gil<'_>, key: &CStr| -> String {
            // SAFETY: the interpreter is initialised and this thread holds the GIL.
            let configs = gil.own(unsafe { _Py_GetConfigsAsDict() }).unwrap();
            let config = configs.dict_get(c"config").unwrap();
            // 3.13 shows its boolean fields as bools, 3.14 its lists as
            // tuples.
            match config.dict_get(key).unwrap().repr_text().unwrap().as_str() {
                "True" => "1".to_owned(),
                "False" => "0".to_owned(),
                other if other.starts_with('(') && other.ends_with(')') => {
                    format!("[{}]", &other[1..other.len() - 1])
                }
                other => other.to_owned(),
            }
        };
        let run = gil.run_config();
        assert!(run.run_command.unwrap().is("the command"));
        assert!(run.run_module.unwrap().is("the.module"));
        assert!(run.run_filename.unwrap().is("/the-file.py"));
        assert!(run.program_name.unwrap().is("the-program"));
        assert_eq!(run.argv.len(), 2);
        assert!(run.argv[0].is("arg0") && run.argv[1].is("arg1"));
        assert!(run.safe_path && run.quiet && run.interactive && run.skip_source_first_line);
        assert!(!run.site_import && !run.use_environment && !run.verbose && !run.isolated);
        assert!(gil.inspect());
        for (key, value) in [
            (c"run_command", "'the command'"),
            (c"run_module", "'the.module'"),
            (c"run_filename", "'/the-file.py'"),
            (c"program_name", "'the-program'"),
            (c"argv", "['arg0', 'arg1']"),
            (c"safe_path", "1"),
            (c"quiet", "1"),
            (c"site_import", "0"),
            (c"interactive", "1"),
            (c"inspect", "1"),
            (c"use_environment", "0"),
            (c"skip_source_first_line", "1"),
            (c"verbose", "0"),
            (c"isolated", "0"),
        ] {
            assert_eq!(seen(gil, key), value, "{key:?}");
        }
        gil.set_inspect(false);
        assert_eq!(seen(gil, c"inspect"), "0");
        assert!(!gil.inspect());
        // SAFETY: every object made above is gone.
        assert_eq!(unsafe { ffi::Py_FinalizeEx() }, 0);
    }
}
