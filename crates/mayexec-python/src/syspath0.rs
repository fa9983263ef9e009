//! `sys.path[0]` exactly as CPython (3.11 to 3.14) computes it:
//! `_PyPathConfig_ComputeSysPath0` in `Python/pathconfig.c` (POSIX branch),
//! which libpython does not export.
//!
//! - `-c`: the empty string (the current directory, looked up at each import);
//! - `-m`: the current directory, absolute;
//! - a script: the directory of the script, after resolving one level of
//!   symlink by hand and then `realpath()`; `/` for a script at the root.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::cpython::{self, WideString};

const SEP: libc::wchar_t = '/' as libc::wchar_t;

/// The entry to put first on `sys.path`, or `None` to leave it alone
/// (`argv` empty, or the current directory unknown under `-m`).
pub fn compute<'py>(py: Python<'py>, argv: &[WideString]) -> Option<PyResult<Bound<'py, PyAny>>> {
    let argv0 = argv.first()?;
    let have_module_arg = argv0.is("-m");
    let have_script_arg = !have_module_arg && !argv0.is("-c");

    if have_module_arg {
        let cwd = std::env::current_dir().ok()?;
        let cwd = WideString::decode_locale(cwd.as_os_str().as_bytes())?;
        return Some(cpython::wide_str(py, &cwd));
    }
    if !have_script_arg {
        return Some(Ok(PyString::new(py, "").into_any()));
    }

    let mut path0 = argv0.0.clone();
    if let Some(link) = wreadlink(&path0) {
        if link.first() == Some(&SEP) {
            // A link to an absolute path.
            path0 = link;
        } else if !link.contains(&SEP) {
            // A link without a directory part: path0 stays the link.
        } else {
            // join(dirname(path0), link)
            match path0.iter().rposition(|&c| c == SEP) {
                None => path0 = link,
                Some(q) => {
                    path0.truncate(q + 1);
                    path0.extend_from_slice(&link);
                }
            }
        }
    }
    if let Some(full) = wrealpath(&path0) {
        path0 = full;
    }
    let n = match path0.iter().rposition(|&c| c == SEP) {
        // Keep the separator only for "/" itself.
        Some(p) if p > 0 => p,
        Some(_) => 1,
        None => 0,
    };
    Some(cpython::wide_str(py, &WideString(path0[..n].to_vec())))
}

/// `_Py_wreadlink`: the target of a symlink, `None` if it is not one.
fn wreadlink(path: &[libc::wchar_t]) -> Option<Vec<libc::wchar_t>> {
    let bytes = WideString(path.to_vec()).encode_locale()?;
    let target = std::fs::read_link(OsStr::from_bytes(&bytes)).ok()?;
    let target = WideString::decode_locale(target.as_os_str().as_bytes())?;
    (!target.0.is_empty()).then_some(target.0)
}

/// `_Py_wrealpath`.
fn wrealpath(path: &[libc::wchar_t]) -> Option<Vec<libc::wchar_t>> {
    let bytes = WideString(path.to_vec()).encode_locale()?;
    let full = std::fs::canonicalize(OsStr::from_bytes(&bytes)).ok()?;
    Some(WideString::decode_locale(full.as_os_str().as_bytes())?.0)
}
