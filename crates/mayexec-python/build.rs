//! Links the CPython that pyo3-ffi found (its build script asks that
//! interpreter's `sysconfig` for the library name and directory, which is
//! what `python3-config --embed --ldflags` prints), adds the rpath, and
//! refuses any CPython but 3.11: `src/runmain.rs` replicates 3.11's
//! `Modules/main.c` and relies on 3.11's private-but-exported symbols.

fn main() {
    let config = pyo3_build_config::get();
    let version = config.version();
    if (version.major, version.minor) != (3, 11) {
        panic!(
            "mayexec-python embeds CPython 3.11 (it replicates 3.11's Modules/main.c), \
             but the interpreter found is {}.{}: set PYO3_PYTHON to a CPython 3.11",
            version.major, version.minor
        );
    }
    if !config.shared() {
        panic!("mayexec-python needs CPython's shared library (libpython3.11.so)");
    }
    // -Wl,-rpath,<LIBDIR>: the binary finds libpython3.11.so where
    // `python3-config --embed --ldflags` says it is, with no LD_LIBRARY_PATH.
    pyo3_build_config::add_libpython_rpath_link_args();
    // The interpreter whose library is embedded: tests and the bench
    // compare mayexec-python with exactly this `python3`.
    let executable = config
        .executable()
        .expect("pyo3-build-config knows the interpreter's path");
    println!("cargo:rustc-env=MAYEXEC_PYTHON_REFERENCE={executable}");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
}
