//! Links the CPython that pyo3-ffi found (its build script asks that
//! interpreter's `sysconfig` for the library name and directory, which is
//! what `python3-config --embed --ldflags` prints), adds the rpath, and
//! chooses the per-version pieces of `src/` for that CPython (3.11 to
//! 3.14): pyo3's `Py_3_X` cfgs, the minor version, and, from 3.12 on, where
//! the runtime keeps the "unhandled KeyboardInterrupt" flag that
//! `Modules/main.c` reads (no longer an exported variable).

use std::path::Path;
use std::process::Command;

/// The CPython minor versions whose `Modules/main.c` `src/runmain.rs`
/// replicates.
const SUPPORTED: std::ops::RangeInclusive<u8> = 11..=14;

fn main() {
    let config = pyo3_build_config::get();
    let version = config.version();
    if version.major != 3 || !SUPPORTED.contains(&version.minor) {
        panic!(
            "mayexec-python embeds CPython 3.11 to 3.14 (it replicates their Modules/main.c), \
             but the interpreter found is {}.{}: set PYO3_PYTHON to one of those",
            version.major, version.minor
        );
    }
    if !config.shared() {
        panic!(
            "mayexec-python needs CPython's shared library (libpython{}.{}.so)",
            version.major, version.minor
        );
    }
    pyo3_build_config::print_expected_cfgs();
    pyo3_build_config::use_pyo3_cfgs();
    // -Wl,-rpath,<LIBDIR>: the binary finds libpython3.X.so where
    // `python3-config --embed --ldflags` says it is, with no LD_LIBRARY_PATH.
    pyo3_build_config::add_libpython_rpath_link_args();
    // src/dl.rs defines `dlopen`: exported, it is the definition the
    // dynamic loader binds libpython's and every library's calls to.
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=dlopen");
    // The interpreter whose library is embedded: tests and the bench
    // compare mayexec-python with exactly this `python3`.
    let executable = config
        .executable()
        .expect("pyo3-build-config knows the interpreter's path");
    println!("cargo:rustc-env=MAYEXEC_PYTHON_REFERENCE={executable}");
    println!(
        "cargo:rustc-env=MAYEXEC_PYTHON_VERSION={}.{}",
        version.major, version.minor
    );
    println!("cargo:rustc-env=MAYEXEC_PYTHON_MINOR={}", version.minor);
    if version.minor >= 12 {
        let offset = unhandled_keyboard_interrupt_offset(executable);
        println!("cargo:rustc-env=MAYEXEC_PYRUNTIME_UNHANDLED_KEYBOARD_INTERRUPT={offset}");
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=CC");
}

/// `offsetof(_PyRuntimeState, signals.unhandled_keyboard_interrupt)` in
/// this very CPython, from its own installed internal headers: 3.12 moved
/// `_Py_UnhandledKeyboardInterrupt` into `_PyRuntime`, which is exported,
/// but whose layout changes between releases.
fn unhandled_keyboard_interrupt_offset(executable: &str) -> usize {
    let out = Command::new(executable)
        .args([
            "-S",
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('INCLUDEPY'))",
        ])
        .output()
        .expect("run the interpreter for its include directory");
    assert!(out.status.success(), "{executable}: cannot print INCLUDEPY");
    let include = String::from_utf8(out.stdout).expect("a UTF-8 include path");
    let include = include.trim();
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let source = Path::new(&out_dir).join("runtime_offset.c");
    let probe = Path::new(&out_dir).join("runtime_offset");
    std::fs::write(
        &source,
        "#define Py_BUILD_CORE 1\n\
         #include <Python.h>\n\
         #include \"internal/pycore_runtime.h\"\n\
         #include <stddef.h>\n\
         #include <stdio.h>\n\
         int main(void) {\n\
         printf(\"%zu\\n\", offsetof(_PyRuntimeState, signals.unhandled_keyboard_interrupt));\n\
         return 0;\n\
         }\n",
    )
    .expect("write the probe");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let status = Command::new(&cc)
        .arg(format!("-I{include}"))
        .arg(&source)
        .arg("-o")
        .arg(&probe)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e} (a C compiler is needed to build mayexec-python)"));
    assert!(
        status.success(),
        "{cc} cannot compile against {include}/internal/pycore_runtime.h: \
         mayexec-python needs CPython's internal headers (installed by `make install`)"
    );
    let out = Command::new(&probe).output().expect("run the probe");
    assert!(out.status.success(), "the runtime offset probe failed");
    String::from_utf8(out.stdout)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .expect("the probe prints a number")
}
