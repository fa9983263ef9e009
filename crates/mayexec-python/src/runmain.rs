//! `pymain_run_python` of CPython's `Modules/main.c` (3.11 to 3.14),
//! replicated step by step, with one change: every file it runs as code is opened once,
//! checked, and read from that same open file description.
//!
//! CPython's own version opens the main script and `PYTHONSTARTUP` by path
//! with `fopen`, behind the open-code hook's back, and re-opens a `.pyc`
//! main script by path a second time. Here the path is opened once
//! ([`hooks::open_code_file`]), the verdict is on that descriptor, and the
//! interpreter reads a `FILE *` made from it. Everything else (the order of
//! steps, the audit events, the messages, `sys.path[0]`, inspect mode,
//! exit statuses, `SystemExit` and `KeyboardInterrupt`) is CPython's.
//!
//! Function names follow `Modules/main.c` and `Python/pythonrun.c`, so the
//! two can be read side by side. What differs between versions is in
//! small `#[cfg(Py_3_X)]` pieces (pyo3's cfgs, set by the build script):
//! from 3.13 on, the prompt on a terminal is `_pyrepl`'s; from 3.14 on,
//! `-c` is dedented, and the prompt after `-i` runs `PYTHONSTARTUP`.

use std::ffi::{CString, OsStr};
use std::io::IsTerminal;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use mayexec::{Denial, Enforcement, ScriptError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCode, PyDict, PyList, PyModule, PyString};

use crate::cpython::{self, fs_decode, fs_encode, CFile, RunConfig, WideString};
use crate::{entrypoints, hooks, syspath0, PROGRAM};

/// Exit status for a denied main script or denied interactive input.
pub const DENIED: i32 = 126;

/// Non-zero if a script, `-c` or `-m` is given (`config_run_code`).
fn config_run_code(config: &RunConfig) -> bool {
    config.run_command.is_some() || config.run_filename.is_some() || config.run_module.is_some()
}

/// `isatty(fileno(stdin)) || config->interactive`.
fn stdin_is_interactive(config: &RunConfig) -> bool {
    std::io::stdin().is_terminal() || config.interactive
}

/// Prints a denial the way every enlightened interpreter does.
fn report(py: Python<'_>, denial: &Denial) {
    cpython::write_stderr(py, &format!("{PROGRAM}: {denial}\n"));
}

/// `pymain_err_print`: `Some(status)` when an unhandled `SystemExit` asks
/// to exit, otherwise prints the exception (`PyErr_Print`) and returns
/// `None`.
fn pymain_err_print(py: Python<'_>, err: PyErr) -> Option<i32> {
    match cpython::handle_system_exit(py, err) {
        Ok(exitcode) => Some(exitcode),
        Err(err) => {
            err.print_and_set_sys_last_vars(py);
            None
        }
    }
}

/// `pymain_exit_err_print`.
fn pymain_exit_err_print(py: Python<'_>, err: PyErr) -> i32 {
    pymain_err_print(py, err).unwrap_or(1)
}

/// Runs the program as `Py_RunMain` does before finalising, and returns the
/// exit status.
pub fn pymain_run_python(py: Python<'_>, enforcement: &Enforcement) -> i32 {
    let config = cpython::run_config(py);
    // Modules/main.c first calls _PyPathConfig_UpdateGlobal(config): the
    // initialisation that just ran (init_interp_main) did exactly that with
    // the same config, so there is nothing left to write.

    let mut main_importer_path = None;
    if let Some(filename) = &config.run_filename {
        // If the script is a directory or a zip file with a __main__.py, the
        // importer's path goes first on sys.path and __main__ is run as a
        // module. (A zip application is read through the open-code hook, so
        // it is checked like any file.)
        match pymain_get_importer(py, filename) {
            Ok(importer_path) => main_importer_path = importer_path,
            Err(code) => return code,
        }
    }

    // Import readline and rlcompleter before the script's directory is
    // added to sys.path.
    pymain_import_readline(py, &config);

    let path0 = match &main_importer_path {
        Some(path) => Some(Ok(path.clone())),
        None if !config.safe_path => syspath0::compute(py, &config.argv),
        None => None,
    };
    if let Some(path0) = path0 {
        if let Err(err) = path0.and_then(|p| {
            #[cfg(Py_3_13)]
            cpython::set_sys_path_0(&p)?;
            pymain_sys_path_add_path0(&p)
        }) {
            return pymain_exit_err_print(py, err);
        }
    }

    pymain_header(py, &config);

    #[cfg(Py_3_13)]
    cpython::set_running_main(py, true);
    let mut exitcode = if let Some(command) = &config.run_command {
        pymain_run_command(py, command)
    } else if let Some(module) = &config.run_module {
        pymain_run_module(py, module, true)
    } else if main_importer_path.is_some() {
        pymain_run_module(py, &WideString::from_text("__main__"), false)
    } else if config.run_filename.is_some() {
        pymain_run_file(py, &config, enforcement)
    } else {
        pymain_run_stdin(py, &config, enforcement)
    };

    pymain_repl(py, &config, enforcement, &mut exitcode);
    #[cfg(Py_3_13)]
    cpython::set_running_main(py, false);
    exitcode
}

/// `pymain_get_importer`: `Ok(Some(path))` when the script is an import path
/// entry; `Err(status)` when an unhandled `SystemExit` asks to exit.
///
/// Two departures from CPython, both about what the probe opens. The probe
/// (the zip importer reading the script through `io.open_code`) is quiet:
/// a script it finds denied is logged once, by [`pymain_run_file`] (or by
/// the import of a zip application's `__main__`), not twice. And a script
/// that is neither a regular file nor a directory (a FIFO, a terminal,
/// `/dev/stdin`) is no import path entry and is not opened for the probe:
/// opening a FIFO there would let a waiting writer go on, and write to a
/// FIFO that then has no reader.
fn pymain_get_importer<'py>(
    py: Python<'py>,
    filename: &WideString,
) -> Result<Option<Bound<'py, PyAny>>, i32> {
    let result = cpython::wide_str(py, filename).and_then(|sys_path0| {
        let path = fs_encode(&sys_path0)?;
        let probed = std::fs::metadata(OsStr::from_bytes(&path))
            .map_or(true, |meta| meta.is_file() || meta.is_dir());
        if !probed {
            return Ok(None);
        }
        let importer = hooks::quietly(&path, || cpython::importer(&sys_path0))?;
        Ok((!importer.is_none()).then_some(sys_path0))
    });
    match result {
        Ok(path) => Ok(path),
        Err(err) => {
            cpython::write_stderr(py, "Failed checking if argv[0] is an import path entry\n");
            match pymain_err_print(py, err) {
                Some(code) => Err(code),
                None => Ok(None),
            }
        }
    }
}

/// `pymain_sys_path_add_path0`.
fn pymain_sys_path_add_path0(path0: &Bound<'_, PyAny>) -> PyResult<()> {
    match cpython::sys_attr(path0.py(), c"path") {
        Some(sys_path) => sys_path.cast_into::<PyList>()?.insert(0, path0),
        None => Err(PyRuntimeError::new_err("unable to get sys.path")),
    }
}

/// `pymain_header`: the banner of an interactive session.
fn pymain_header(py: Python<'_>, config: &RunConfig) {
    if config.quiet {
        return;
    }
    if !config.verbose && (config_run_code(config) || !stdin_is_interactive(config)) {
        return;
    }
    let (version, platform) = (Python::version_str(), cpython::platform(py));
    warn!("Python {version} on {platform}");
    if config.site_import {
        warn!("Type \"help\", \"copyright\", \"credits\" or \"license\" for more information.");
    }
}

/// `pymain_import_readline`.
fn pymain_import_readline(py: Python<'_>, config: &RunConfig) {
    if config.isolated {
        return;
    }
    if !cpython::inspect(py) && config_run_code(config) {
        return;
    }
    if !std::io::stdin().is_terminal() {
        return;
    }
    for module in ["readline", "rlcompleter"] {
        // (PyImport_ImportModule; a failure is cleared.)
        let _ = py.import(module);
    }
}

/// `pymain_run_command`: `-c COMMAND` (allowed by the enforcement before
/// the interpreter started).
fn pymain_run_command(py: Python<'_>, command: &WideString) -> i32 {
    let source = cpython::wide_str(py, command).and_then(|unicode| {
        if let Err(err) = cpython::audit(py, c"cpython.run_command", Some(&unicode)) {
            return Ok(Err(pymain_exit_err_print(py, err)));
        }
        // Encoded as UTF-8, compiled with PyCF_IGNORE_COOKIE; from 3.14
        // on, dedented first (`_PyUnicode_Dedent`, not exported).
        let source = unicode.cast::<PyString>()?.to_str()?.as_bytes().to_vec();
        #[cfg(Py_3_14)]
        let source = dedent(&source);
        Ok(Ok(source))
    });
    match source {
        Ok(Ok(source)) => {
            let source = CString::new(source).expect("a wide C string has no NUL");
            (cpython::run_simple_string(py, &source) != 0).into()
        }
        Ok(Err(code)) => code,
        Err(err) => {
            cpython::write_stderr(py, "Unable to decode the command from the command line:\n");
            pymain_exit_err_print(py, err)
        }
    }
}

/// `_PyUnicode_Dedent` (3.14), on the command's UTF-8: the longest run of
/// spaces and tabs that begins every line that is not all spaces and tabs
/// is removed from each line, and lines of nothing but spaces and tabs
/// are emptied, as `textwrap.dedent` does.
#[cfg(any(Py_3_14, test))]
fn dedent(source: &[u8]) -> Vec<u8> {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let mut common: Option<&[u8]> = None;
    for line in source.split(|&c| c == b'\n') {
        let indent = line.iter().take_while(|c| blank(c)).count();
        if indent == line.len() {
            continue;
        }
        let indent = &line[..indent];
        common = Some(match common {
            None => indent,
            Some(prev) => {
                let same = prev.iter().zip(indent).take_while(|(a, b)| a == b).count();
                &prev[..same]
            }
        });
    }
    let width = common.map_or(0, <[u8]>::len);
    if width == 0 {
        return source.to_vec();
    }
    let mut out = Vec::with_capacity(source.len());
    for (i, line) in source.split(|&c| c == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if !line.iter().all(blank) {
            out.extend_from_slice(&line[width..]);
        }
    }
    out
}

/// `pymain_run_module`: `-m MODULE`, or `__main__` of a directory or zip.
///
/// If the module (or a package above it) is refused by the open-code hook
/// before any of its code ran, that is the denial of the main program:
/// reported like a denied script, with status 126. A denial raised while
/// the module runs (an `import` of its own) is an ordinary exception.
fn pymain_run_module(py: Python<'_>, modname: &WideString, set_argv0: bool) -> i32 {
    let module = match cpython::wide_str(py, modname) {
        Ok(module) => module,
        Err(err) => return pymain_exit_err_print(py, err),
    };
    if let Err(err) = cpython::audit(py, c"cpython.run_module", Some(&module)) {
        return pymain_exit_err_print(py, err);
    }
    let runpy = match py.import("runpy") {
        Ok(runpy) => runpy,
        Err(err) => {
            #[cfg(not(Py_3_14))]
            warn!("Could not import runpy module");
            #[cfg(Py_3_14)]
            warn!("Could not import runpy._run_module_as_main");
            return pymain_exit_err_print(py, err);
        }
    };
    let runmodule = match runpy.getattr("_run_module_as_main") {
        Ok(runmodule) => runmodule,
        Err(err) => {
            #[cfg(not(Py_3_14))]
            warn!("Could not access runpy._run_module_as_main");
            #[cfg(Py_3_14)]
            warn!("Could not import runpy._run_module_as_main");
            return pymain_exit_err_print(py, err);
        }
    };
    cpython::set_unhandled_keyboard_interrupt(py, false);
    match runmodule.call1((module, PyBool::new(py, set_argv0))) {
        Ok(_) => 0,
        Err(err) => {
            if cpython::is_keyboard_interrupt(py, &err) {
                cpython::set_unhandled_keyboard_interrupt(py, true);
            }
            if let Some(denial) = hooks::main_program_denial(py, &err) {
                report(py, &denial);
                return DENIED;
            }
            pymain_exit_err_print(py, err)
        }
    }
}

/// Under deny-interactive, a script that is one of the standard library's
/// entry points that run code from no checked file
/// (`mayexec-python /usr/lib/python3.X/timeit.py CODE`) is refused as `-m
/// NAME` would be. The file is known by what was opened (its descriptor's
/// path in `/proc/self/fd`), not by the name it was given.
fn check_entry_point_script(
    enforcement: &Enforcement,
    file: &std::fs::File,
    path: &[u8],
) -> Result<(), Denial> {
    if enforcement.interactive == mayexec::Action::Ignore {
        return Ok(());
    }
    let opened = std::fs::read_link(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(file)
    ))
    .map(|p| p.into_os_string().into_vec())
    .unwrap_or_else(|_| path.to_vec());
    match entrypoints::refused(&opened) {
        Some(entry) => enforcement
            .check_interactive(None, OsStr::new(&entry.label()))
            .map(drop),
        None => Ok(()),
    }
}

/// `pymain_run_file` and `pymain_run_file_obj`, opening the script once:
/// the descriptor that was checked is the one the interpreter reads.
fn pymain_run_file(py: Python<'_>, config: &RunConfig, enforcement: &Enforcement) -> i32 {
    let run_filename = config.run_filename.as_ref().expect("a script was given");
    let program_name = config
        .program_name
        .clone()
        .unwrap_or_else(|| WideString::from_text("python3"));
    let names = cpython::wide_str(py, run_filename)
        .and_then(|filename| Ok((filename, cpython::wide_str(py, &program_name)?)));
    let (filename, program_name) = match names {
        Ok(names) => names,
        Err(err) => {
            err.print_and_set_sys_last_vars(py);
            return -1;
        }
    };

    if let Err(err) = cpython::audit(py, c"cpython.run_file", Some(&filename)) {
        return pymain_exit_err_print(py, err);
    }

    // _Py_fopen_obj(filename, "rb") encodes the path with the filesystem
    // encoding and opens it; so does this, then checks what it opened.
    let path = match fs_encode(&filename) {
        Ok(path) => path,
        Err(err) => return pymain_exit_err_print(py, err),
    };
    let opened = if path.contains(&0) {
        Err(std::io::Error::from_raw_os_error(libc::EINVAL))
    } else {
        // The main script always goes through the enforcement's own
        // open: a "script" that is not a regular file (`/dev/stdin`, a
        // FIFO, a terminal) is interactive input under deny-interactive
        // even with no script policy, and a FIFO is waited on until its
        // writer comes, as python3's blocking open does.
        match enforcement.open_script(OsStr::from_bytes(&path)) {
            Ok(script) => {
                if let Err(denial) = check_entry_point_script(enforcement, &script.file, &path) {
                    report(py, &denial);
                    return DENIED;
                }
                CFile::new(script.file)
            }
            Err(ScriptError::Open(error)) => Err(error.source),
            Err(ScriptError::Denied(denial)) => {
                report(py, &denial);
                return DENIED;
            }
        }
    };
    let mut fp = match opened {
        Ok(fp) => fp,
        Err(error) => {
            let errno = error.raw_os_error().unwrap_or(libc::EIO);
            let (program, file) = (text(&program_name), repr_text(&filename));
            cpython::write_stderr(
                py,
                &format!(
                    "{program}: can't open file {file}: [Errno {errno}] {}\n",
                    cpython::strerror(errno)
                ),
            );
            return 2;
        }
    };

    if config.skip_source_first_line {
        // Push back the first newline so that line numbers stay the same.
        while let Some(c) = fp.getc() {
            if c == b'\n' {
                fp.ungetc(c);
                break;
            }
        }
    }

    let is_dir = rustix::fs::fstat(fp.fd()).is_ok_and(|stat| {
        rustix::fs::FileType::from_raw_mode(stat.st_mode) == rustix::fs::FileType::Directory
    });
    if is_dir {
        let (program, file) = (text(&program_name), repr_text(&filename));
        cpython::write_stderr(
            py,
            &format!("{program}: {file} is a directory, cannot continue\n"),
        );
        return 1;
    }

    // Call pending calls like signal handlers (SIGINT).
    if let Err(err) = cpython::make_pending_calls(py) {
        drop(fp);
        return pymain_exit_err_print(py, err);
    }

    // _PyRun_AnyFileObject(fp, filename, closeit=1): a terminal gets the
    // prompt, anything else is run as a file.
    let run = if fp.fd().is_terminal() {
        let name = fs_cstring(&filename);
        cpython::run_interactive_loop(py, &mut fp, &name)
    } else {
        pyrun_simple_file(py, fp, &filename, true)
    };
    (run != 0).into()
}

/// The text of a `str`, lossily; empty for anything else.
fn text(text: &Bound<'_, PyAny>) -> String {
    text.cast::<PyString>()
        .map(|text| text.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `repr(obj)`, lossily; empty if it fails.
fn repr_text(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map(|repr| repr.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `_PyRun_SimpleFileObject`, reading the given stream only.
///
/// CPython re-opens a `.pyc` main script by path; here the checked stream
/// is rewound instead, which reads the same file from its start. `closeit`
/// says whether the stream is the program's own (the main script) or the
/// caller's (`PYTHONSTARTUP`); it decides, as in CPython, whether the
/// first bytes are sniffed for the `.pyc` magic number.
fn pyrun_simple_file(
    py: Python<'_>,
    mut fp: CFile,
    filename: &Bound<'_, PyAny>,
    closeit: bool,
) -> i32 {
    let Ok(d) = cpython::main_module(py).and_then(|main| Ok(main.cast_into::<PyModule>()?.dict()))
    else {
        return -1;
    };
    let mut set_file_name = false;
    let ret = (|| -> i32 {
        match d.contains("__file__") {
            Err(_) => return -1,
            Ok(true) => {}
            Ok(false) => {
                if d.set_item("__file__", filename).is_err()
                    || d.set_item("__cached__", py.None()).is_err()
                {
                    return -1;
                }
                set_file_name = true;
            }
        }
        let pyc = match maybe_pyc_file(py, &mut fp, filename, closeit) {
            Ok(pyc) => pyc,
            Err(_) => return -1,
        };
        let v = if pyc {
            fp.rewind();
            if set_main_loader(&d, filename, "SourcelessFileLoader").is_err() {
                warn!("python: failed to set __main__.__loader__");
                return -1;
            }
            run_pyc_file(py, fp, &d)
        } else {
            let stdin = filename
                .cast::<PyString>()
                .is_ok_and(|name| name.to_str().is_ok_and(|name| name == "<stdin>"));
            if !stdin && set_main_loader(&d, filename, "SourceFileLoader").is_err() {
                warn!("python: failed to set __main__.__loader__");
                return -1;
            }
            let name = fs_cstring(filename);
            // With closeit the stream is closed after parsing and before
            // the code runs, as in CPython; otherwise the caller closes it.
            cpython::run_file(fp, &name, d.as_any(), closeit).0
        };
        flush_io(py);
        match v {
            Ok(_) => 0,
            Err(err) => {
                err.print_and_set_sys_last_vars(py);
                -1
            }
        }
    })();
    if set_file_name {
        for key in ["__file__", "__cached__"] {
            // (A failure is cleared.)
            let _ = d.del_item(key);
        }
    }
    ret
}

/// `maybe_pyc_file`: the name ends in `.pyc`, or (for the program's own
/// stream, still at its start) the first two bytes are the magic number.
fn maybe_pyc_file(
    py: Python<'_>,
    fp: &mut CFile,
    filename: &Bound<'_, PyAny>,
    closeit: bool,
) -> PyResult<bool> {
    if fs_encode(filename)?.ends_with(b".pyc") {
        return Ok(true);
    }
    if !closeit {
        return Ok(false);
    }
    // With -x the stream is not at its start any more: CPython then gives
    // up, and so does this.
    let halfmagic = (cpython::magic_number(py) & 0xFFFF) as u16;
    let mut ispyc = false;
    if fp.tell() == 0 {
        let mut buf = [0u8; 2];
        if fp.read(&mut buf) == 2 && u16::from_le_bytes(buf) == halfmagic {
            ispyc = true;
        }
        fp.rewind();
    }
    Ok(ispyc)
}

/// `set_main_loader`: `__main__.__loader__ = <loader>("__main__", filename)`.
fn set_main_loader(
    d: &Bound<'_, PyDict>,
    filename: &Bound<'_, PyAny>,
    loader: &str,
) -> PyResult<()> {
    let bootstrap = d
        .py()
        .import("_frozen_importlib")?
        .getattr("_bootstrap_external")?;
    let loader = bootstrap.getattr(loader)?.call1(("__main__", filename))?;
    d.set_item("__loader__", loader)
}

/// `run_pyc_file`.
fn run_pyc_file<'py>(
    py: Python<'py>,
    mut fp: CFile,
    globals: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    let magic = fp.read_marshal_long(py)?;
    if magic != cpython::magic_number(py) {
        return Err(PyRuntimeError::new_err("Bad magic number in .pyc file"));
    }
    // Skip the rest of the header.
    for _ in 0..3 {
        fp.read_marshal_long(py)?;
    }
    let code = match fp.read_marshal_object(py) {
        Ok(code) if code.is_instance_of::<PyCode>() => code,
        _ => return Err(PyRuntimeError::new_err("Bad code object in .pyc file")),
    };
    drop(fp);
    run_eval_code_obj(py, &code, globals)
}

/// `run_eval_code_obj`.
fn run_eval_code_obj<'py>(
    py: Python<'py>,
    code: &Bound<'py, PyAny>,
    globals: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    cpython::set_unhandled_keyboard_interrupt(py, false);
    if !globals.contains("__builtins__")? {
        globals.set_item("__builtins__", cpython::builtins(py)?)?;
    }
    let v = cpython::eval_code(code, globals.as_any());
    if let Err(err) = &v {
        if cpython::is_keyboard_interrupt(py, err) {
            cpython::set_unhandled_keyboard_interrupt(py, true);
        }
    }
    v
}

/// `flush_io`: flushes `sys.stderr` and `sys.stdout`; their errors are
/// cleared (the program's own is a value, untouched).
fn flush_io(py: Python<'_>) {
    for stream in [c"stderr", c"stdout"] {
        if let Some(f) = cpython::sys_attr(py, stream) {
            let _ = f.call_method0(intern!(py, "flush"));
        }
    }
}

/// `pymain_run_startup`: the `PYTHONSTARTUP` file of an interactive
/// session, opened once and checked like a script. A denied file is
/// reported and skipped, as CPython skips one it cannot open: the session
/// itself is interactive input, allowed or refused on its own.
fn pymain_run_startup(
    py: Python<'_>,
    config: &RunConfig,
    enforcement: &Enforcement,
) -> Option<i32> {
    if !config.use_environment {
        return None;
    }
    let env = std::env::var_os("PYTHONSTARTUP").filter(|v| !v.is_empty())?;
    let env = env.as_bytes().to_vec();
    let startup = match fs_decode(py, &env) {
        Ok(startup) => startup,
        Err(err) => return pymain_err_print(py, err),
    };
    if let Err(err) = cpython::audit(py, c"cpython.run_startup", Some(&startup)) {
        return pymain_err_print(py, err);
    }
    let opened = match hooks::open_code_file(enforcement, OsStr::from_bytes(&env)) {
        Ok(file) => CFile::new(file),
        Err(ScriptError::Open(error)) => Err(error.source),
        Err(ScriptError::Denied(denial)) => {
            report(py, &denial);
            return None;
        }
    };
    match opened {
        Ok(fp) => {
            // _PyRun_SimpleFileObject(fp, startup, closeit=0), then fclose
            // (the stream is dropped when it is done with); its error has
            // been printed.
            pyrun_simple_file(py, fp, &startup, false);
            None
        }
        Err(error) => {
            cpython::write_stderr(py, "Could not open PYTHONSTARTUP\n");
            let errno = error.raw_os_error().unwrap_or(libc::EIO);
            pymain_err_print(py, hooks::os_error(errno, &startup))
        }
    }
}

/// `pymain_run_interactive_hook`: `sys.__interactivehook__()`.
fn pymain_run_interactive_hook(py: Python<'_>) -> Option<i32> {
    let result = (|| -> PyResult<()> {
        let sys = py.import("sys")?;
        let Ok(hook) = sys.getattr("__interactivehook__") else {
            return Ok(());
        };
        cpython::audit(py, c"cpython.run_interactivehook", Some(&hook))?;
        hook.call0()?;
        Ok(())
    })();
    match result {
        Ok(()) => None,
        Err(err) => {
            cpython::write_stderr(py, "Failed calling sys.__interactivehook__\n");
            pymain_err_print(py, err)
        }
    }
}

/// `pymain_run_stdin`: the program on standard input, or the prompt
/// (allowed by the enforcement before the interpreter started).
fn pymain_run_stdin(py: Python<'_>, config: &RunConfig, enforcement: &Enforcement) -> i32 {
    if stdin_is_interactive(config) {
        // Do exit on SystemExit.
        cpython::set_inspect(py, false);
        if let Some(code) = pymain_run_startup(py, config, enforcement) {
            return code;
        }
        if let Some(code) = pymain_run_interactive_hook(py) {
            return code;
        }
    }
    // Call pending calls like signal handlers (SIGINT).
    if let Err(err) = cpython::make_pending_calls(py) {
        return pymain_exit_err_print(py, err);
    }
    if let Err(err) = cpython::audit(py, c"cpython.run_stdin", None) {
        return pymain_exit_err_print(py, err);
    }
    pymain_run_stdin_or_repl(py, config)
}

/// Up to 3.12, `PyRun_AnyFileExFlags(stdin, "<stdin>")`: the program on
/// standard input, or the built-in prompt on a terminal.
#[cfg(not(Py_3_13))]
fn pymain_run_stdin_or_repl(py: Python<'_>, _config: &RunConfig) -> i32 {
    (cpython::run_stdin(py) != 0).into()
}

/// From 3.13 on, a terminal gets `_pyrepl`'s prompt unless
/// `PYTHON_BASIC_REPL` asks for the built-in one.
#[cfg(Py_3_13)]
fn pymain_run_stdin_or_repl(py: Python<'_>, config: &RunConfig) -> i32 {
    if !pyrepl_wanted(config) {
        return (cpython::run_stdin(py) != 0).into();
    }
    pymain_start_pyrepl(py)
}

/// From 3.13 on: standard input is a terminal and `PYTHON_BASIC_REPL`
/// does not ask for the built-in prompt.
#[cfg(Py_3_13)]
fn pyrepl_wanted(config: &RunConfig) -> bool {
    let basic_repl = config.use_environment
        && std::env::var_os("PYTHON_BASIC_REPL").is_some_and(|v| !v.is_empty());
    std::io::stdin().is_terminal() && !basic_repl
}

/// `pymain_start_pyrepl`: `_pyrepl.main.interactive_console()`. Its
/// `pythonstartup` stays false: `PYTHONSTARTUP` has already been run by
/// [`pymain_run_startup`], opened once and checked, where `_pyrepl` would
/// open it by path with no check. (Its own modules are imported through
/// the open-code hook like any other.)
#[cfg(Py_3_13)]
fn pymain_start_pyrepl(py: Python<'_>) -> i32 {
    let pyrepl = match py.import("_pyrepl.main") {
        Ok(pyrepl) => pyrepl,
        Err(err) => {
            warn!("Could not import _pyrepl.main");
            return pymain_exit_err_print(py, err);
        }
    };
    let console = match pyrepl.getattr("interactive_console") {
        Ok(console) => console,
        Err(err) => {
            warn!("Could not access _pyrepl.main.interactive_console");
            return pymain_exit_err_print(py, err);
        }
    };
    cpython::set_unhandled_keyboard_interrupt(py, false);
    // 3.14 passes `mainmodule=__main__` (with none, its `_pyrepl` makes a
    // fresh namespace); `quiet` and `pythonstartup` stay false.
    #[cfg(Py_3_14)]
    let result = cpython::main_module(py).and_then(|main| console.call1((main, false, false)));
    #[cfg(not(Py_3_14))]
    let result = console.call0();
    match result {
        Ok(_) => 0,
        Err(err) => pymain_exit_err_print(py, err),
    }
}

/// `pymain_repl`: the prompt after the program, for `-i` or
/// `PYTHONINSPECT` (which the program itself may have set). Refused here
/// under deny-interactive, since `PYTHONINSPECT` is only read now.
fn pymain_repl(py: Python<'_>, config: &RunConfig, enforcement: &Enforcement, exitcode: &mut i32) {
    if !cpython::inspect(py)
        && config.use_environment
        && std::env::var_os("PYTHONINSPECT").is_some_and(|v| !v.is_empty())
    {
        cpython::set_inspect(py, true);
    }
    if !(cpython::inspect(py) && stdin_is_interactive(config) && config_run_code(config)) {
        return;
    }
    if let Err(denial) = enforcement.check_interactive(None, OsStr::new("<stdin>")) {
        report(py, &denial);
        *exitcode = DENIED;
        return;
    }
    cpython::set_inspect(py, false);
    if let Some(code) = pymain_run_interactive_hook(py) {
        *exitcode = code;
        return;
    }
    #[cfg(Py_3_14)]
    {
        if let Err(err) = cpython::audit(py, c"cpython.run_stdin", None) {
            *exitcode = pymain_exit_err_print(py, err);
            return;
        }
        // 3.14's pymain_repl has `_pyrepl` run PYTHONSTARTUP
        // (`pythonstartup=True`), which opens it by path with no check:
        // it is run here instead, opened once and checked.
        if pyrepl_wanted(config) {
            if let Some(code) = pymain_run_startup(py, config, enforcement) {
                *exitcode = code;
                return;
            }
        }
    }
    *exitcode = pymain_run_stdin_or_repl(py, config);
}

/// The name `PyRun_*` functions take: the `str` encoded back to the bytes
/// they decode with the filesystem encoding.
fn fs_cstring(name: &Bound<'_, PyAny>) -> CString {
    let bytes = fs_encode(name).unwrap_or_else(|_| b"???".to_vec());
    CString::new(bytes).unwrap_or_else(|_| CString::from(c"???"))
}

#[cfg(test)]
mod tests {
    use super::dedent;

    fn dedented(source: &str) -> String {
        String::from_utf8(dedent(source.as_bytes())).unwrap()
    }

    #[test]
    fn dedent_removes_the_common_indentation_of_spaces_and_tabs() {
        assert_eq!(dedented("    a\n      b\n    c"), "a\n  b\nc");
        assert_eq!(dedented("\t\ta\n\t\tb\n"), "a\nb\n");
        // Only a common prefix counts: a tab and a space differ.
        assert_eq!(dedented("\t a\n\t\tb"), " a\n\tb");
        assert_eq!(dedented(" \ta\n\t b"), " \ta\n\t b");
    }

    #[test]
    fn dedent_empties_blank_lines_and_ignores_them_for_the_indentation() {
        assert_eq!(dedented("\n    a\n  \n    b\n "), "\na\n\nb\n");
        assert_eq!(dedented("  \n\t\n"), "  \n\t\n");
    }

    #[test]
    fn dedent_leaves_unindented_code_as_it_is() {
        for source in ["", "a", "a\n  b", "  a\nb", "\u{e9}\n  \u{e9}"] {
            assert_eq!(dedented(source), source);
        }
    }
}
