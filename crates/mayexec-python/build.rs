//! Links the CPython that pyo3-ffi found the way that interpreter's own
//! `python3.X` is linked, and chooses the per-version pieces of `src/` for
//! it (3.11 to 3.14): pyo3's `Py_3_X` cfgs, the minor version, and, from
//! 3.12 on, where the runtime keeps the "unhandled KeyboardInterrupt" flag
//! that `Modules/main.c` reads (no longer an exported variable).
//!
//! pyo3-ffi emits no link lines (its `extension-module` feature,
//! Cargo.toml): this script links libpython, one of two ways, as the
//! interpreter itself does (it asks that interpreter whether it maps a
//! `libpython3.X.so`):
//!
//! - **Static**, for a `python3.X` that is a static link of
//!   `libpython3.X.a`, as Debian's are (Debian ships the archive in
//!   `libpython3.X-dev`), when the archive holds the whole interpreter
//!   (Debian 12's 3.11 does; sid's 3.14 lacks the HACL* objects of its
//!   built-in hash modules, see [`Archive::missing`]): the archive (sysconfig's `LIBPL`/`LIBRARY`),
//!   whole, with the libraries the interpreter's own link names (`LIBS`,
//!   `MODLIBS`, `SYSLIBS`), so calls into CPython are direct calls inside
//!   the executable, with no PLT and no semantic interposition, as in the
//!   distribution's `python3.X`. Its global symbols are exported (a dynamic
//!   list of what the archive defines): the extension modules of
//!   `lib-dynload` resolve `Py*` against the executable, as they do against
//!   Debian's. Debian compiles that archive without `-fPIC`: like Debian's
//!   `python3.X`, the executable is not position-independent (`-no-pie`).
//! - **Shared** otherwise: pyenv's and `cpython-build.sh`'s
//!   `--enable-shared` builds, whose `python3.X` itself runs on
//!   `libpython3.X.so` (their `libpython3.X.a`, when there is one, is the
//!   library's `-fPIC` objects, not what their `python3.X` runs), and
//!   Debian's 3.14: `-lpython3.X` from `LIBDIR`, with an rpath, so
//!   the binary finds the library where `python3-config --embed --ldflags`
//!   says it is, with no `LD_LIBRARY_PATH`.
//!
//! `MAYEXEC_PYTHON_LINK=static` or `shared` overrides the choice (to
//! compare the two with one interpreter; `static` needs the archive).
//!
//! Either way, `src/dl.rs` defines `dlopen` and the executable exports it:
//! it is the definition that libpython's calls (direct ones, when static)
//! and every loaded library's bind to.

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
    pyo3_build_config::print_expected_cfgs();
    pyo3_build_config::use_pyo3_cfgs();
    let executable = config
        .executable()
        .expect("pyo3-build-config knows the interpreter's path");
    let linkage = Linkage::of(executable);
    let choice = std::env::var("MAYEXEC_PYTHON_LINK").unwrap_or_default();
    let archive = (choice == "static" || (choice.is_empty() && linkage.static_executable))
        .then(|| Archive::read(&linkage.archive))
        .flatten();
    match (choice.as_str(), archive) {
        ("" | "static", Some(archive)) if archive.missing.is_empty() => {
            link_static(&linkage, &archive)
        }
        ("static", archive) => panic!(
            "MAYEXEC_PYTHON_LINK=static, but {} {}",
            linkage.archive,
            match archive {
                Some(archive) => format!("lacks {}", archive.missing.join(", ")),
                None => "is not there".to_owned(),
            }
        ),
        ("" | "shared", _) => link_shared(config),
        (other, _) => panic!("MAYEXEC_PYTHON_LINK={other}: only static, shared, or unset"),
    }
    // src/dl.rs defines `dlopen`: exported, it is the definition the
    // dynamic loader binds every library's calls to.
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=dlopen");
    static_unwinder();
    // The interpreter whose library is embedded: tests and the bench
    // compare mayexec-python with exactly this `python3`.
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
    println!("cargo:rerun-if-env-changed=MAYEXEC_PYTHON_LINK");
    println!("cargo:rerun-if-env-changed=CC");
}

/// Rust's standard library links its unwinder as `-lgcc_s`, and loading
/// `libgcc_s.so.1` costs every start of the interpreter its CPU probe
/// (`cpuid`, a trap to the hypervisor in a virtual machine: about 0.1 ms,
/// a point of `-c pass`), which neither Debian's `python3.X` nor the
/// enlightened C interpreters pay (they link `libgcc_eh.a`,
/// `scripts/lib/build-common.sh`). A directory searched before the
/// system's holds `libgcc_s.a`, a link to the compiler's `libgcc_eh.a` (the
/// static unwinder `gcc -static-libgcc` links): `-lgcc_s` takes it, and the
/// executable needs no `libgcc_s.so`. Unwinding (a test's panic) works from
/// it as from the shared one; a release build never unwinds (`panic =
/// "abort"`).
fn static_unwinder() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .unwrap_or_else(|e| panic!("{cc} -print-file-name=libgcc_eh.a: {e}"));
    let eh = String::from_utf8(out.stdout).expect("a UTF-8 path");
    let eh = Path::new(eh.trim());
    // (gcc prints the bare name when it has no such file.)
    if !out.status.success() || !eh.is_absolute() || !eh.is_file() {
        panic!("{cc} knows no libgcc_eh.a (the static unwinder): install gcc");
    }
    let dir = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("unwind");
    std::fs::create_dir_all(&dir).expect("create OUT_DIR/unwind");
    let link = dir.join("libgcc_s.a");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(eh, &link).expect("link libgcc_s.a to libgcc_eh.a");
    println!("cargo:rustc-link-search=native={}", dir.display());
}

/// How the interpreter's own executable is linked, and what a static link
/// of its library takes (its sysconfig).
struct Linkage {
    /// `python3.X` maps no `libpython*.so`: it is a static link of the
    /// archive.
    static_executable: bool,
    /// `python3.X` is not position-independent (ELF type `ET_EXEC`): nor is
    /// the archive it is linked from, presumably, so neither can be the
    /// executable that links it whole (`-no-pie`).
    fixed_address: bool,
    /// `LIBPL/LIBRARY`: `libpython3.X.a`.
    archive: String,
    /// The flags of `LIBS`, `MODLIBS` and `SYSLIBS`, in the order
    /// CPython's Makefile links `python3.X` with them.
    libraries: Vec<String>,
}

impl Linkage {
    fn of(executable: &str) -> Linkage {
        let out = Command::new(executable)
            .args([
                "-S",
                "-c",
                "import sysconfig\n\
                 maps = open('/proc/self/maps').read()\n\
                 print('shared' if '/libpython' in maps else 'static')\n\
                 print(sysconfig.get_config_var('LIBPL') or '')\n\
                 print(sysconfig.get_config_var('LIBRARY') or '')\n\
                 for name in ('LIBS', 'MODLIBS', 'SYSLIBS'):\n    \
                     print(sysconfig.get_config_var(name) or '')\n",
            ])
            .output()
            .expect("run the interpreter for its sysconfig");
        assert!(
            out.status.success(),
            "{executable}: cannot print its sysconfig: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("a UTF-8 sysconfig");
        let mut lines = text.lines();
        let mut next = || lines.next().unwrap_or_default().trim().to_owned();
        let static_executable = next() == "static";
        let archive = Path::new(&next()).join(next()).display().to_string();
        let mut libraries: Vec<String> = Vec::new();
        for line in [next(), next(), next()] {
            for flag in line.split_whitespace() {
                if (flag.starts_with("-l") || flag.starts_with("-L"))
                    && !libraries.iter().any(|f| f == flag)
                {
                    libraries.push(flag.to_owned());
                }
            }
        }
        // e_type, at offset 16 of the ELF header: 2 is ET_EXEC.
        let mut header = [0u8; 18];
        let fixed_address = std::fs::File::open(executable)
            .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header))
            .is_ok()
            && header[16..] == [2, 0];
        Linkage {
            static_executable,
            fixed_address,
            archive,
            libraries,
        }
    }
}

/// The archive, whole, its libraries after it, and its global symbols
/// exported (only the executables are given these link arguments: the
/// integration tests embed nothing).
fn link_static(linkage: &Linkage, archive: &Archive) {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let list = Path::new(&out_dir).join("libpython.dynamic-list");
    let mut text = String::from("{\n");
    for name in &archive.exports {
        text.push_str("  ");
        text.push_str(name);
        text.push_str(";\n");
    }
    text.push_str("};\n");
    std::fs::write(&list, text).expect("write the dynamic list");
    println!("cargo:rustc-link-arg-bins=-Wl,--whole-archive");
    println!("cargo:rustc-link-arg-bins={}", linkage.archive);
    println!("cargo:rustc-link-arg-bins=-Wl,--no-whole-archive");
    for flag in &linkage.libraries {
        println!("cargo:rustc-link-arg-bins={flag}");
    }
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}",
        list.display()
    );
    if linkage.fixed_address {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed={}", linkage.archive);
}

/// What `nm` says of `libpython3.X.a`.
struct Archive {
    /// Every global symbol it defines: what `libpython3.X.so` would
    /// export (Debian's `python3.X` exports them with `-export-dynamic`),
    /// for a `--dynamic-list`.
    exports: Vec<String>,
    /// CPython's own symbols (`Py*`, `_Py*`) that its members use and none
    /// defines: objects the interpreter's link took from elsewhere. Debian's
    /// `libpython3.14.a` is such an archive: its built-in `_md5`, `_sha1`,
    /// `_sha2`, `_sha3` and `_blake2` call HACL* (`_Py_LibHacl_*`), which
    /// the build linked from `Modules/_hacl/libHacl_*.a`, not shipped. Such
    /// an archive cannot be linked whole: the shared library is.
    missing: Vec<String>,
}

impl Archive {
    /// `None` when there is no archive.
    fn read(path: &str) -> Option<Archive> {
        if !Path::new(path).is_file() {
            return None;
        }
        let nm = std::env::var("NM").unwrap_or_else(|_| "nm".to_owned());
        let out = Command::new(&nm)
            .args(["--format=posix", path])
            .output()
            .unwrap_or_else(|e| panic!("{nm}: {e} (binutils is needed to link {path})"));
        assert!(
            out.status.success(),
            "{nm} {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("nm prints UTF-8");
        let mut defined = std::collections::BTreeSet::new();
        let mut exports = std::collections::BTreeSet::new();
        let mut used = std::collections::BTreeSet::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(name), Some(kind)) = (fields.next(), fields.next()) else {
                continue;
            };
            let identifier = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !identifier || kind.len() != 1 {
                continue;
            }
            if kind == "U" {
                used.insert(name);
            } else {
                defined.insert(name);
                if kind.bytes().all(|b| b.is_ascii_uppercase()) {
                    exports.insert(name);
                }
            }
        }
        assert!(
            exports.contains("Py_Initialize"),
            "{nm} finds no Py_Initialize in {path}"
        );
        let missing = used
            .difference(&defined)
            .filter(|name| name.starts_with("Py") || name.starts_with("_Py"))
            .map(|name| name.to_string())
            .collect();
        Some(Archive {
            exports: exports.into_iter().map(str::to_owned).collect(),
            missing,
        })
    }
}

/// `-lpython3.X` from `LIBDIR` (pyo3's `lib_name`, `lib_dir`), and an
/// rpath there.
fn link_shared(config: &pyo3_build_config::InterpreterConfig) {
    let name = config
        .lib_name()
        .expect("pyo3-build-config knows the library's name");
    if let Some(dir) = config.lib_dir() {
        println!("cargo:rustc-link-search=native={dir}");
    }
    println!("cargo:rustc-link-lib=dylib={name}");
    // -Wl,-rpath,<LIBDIR>: the binary finds libpython3.X.so where
    // `python3-config --embed --ldflags` says it is, with no LD_LIBRARY_PATH.
    pyo3_build_config::add_libpython_rpath_link_args();
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
