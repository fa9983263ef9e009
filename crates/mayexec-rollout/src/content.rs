//! Recognising an interpreter by what its file is, not by its name: a copy
//! of perl called `tool` is still perl.
//!
//! For an ELF program (not a shared library), in this order:
//!
//! 1. a `DT_NEEDED` library that is a language runtime (`libpython3.11.so`,
//!    `libperl.so`, `liblua5.4.so`, `libtcl8.6.so` …): the program runs
//!    code in that language, whether it is the language's own front end or
//!    embeds it (`gdb` with Python, `nmap --script` with Lua);
//! 2. a dynamic symbol that only an interpreter defines or imports: its
//!    entry points (`Py_BytesMain`, `perl_parse`, `lua_pcallk`,
//!    `Tcl_Main` …), which Debian's python3.X and perl export themselves;
//! 3. strings in its read-only data (for static, stripped programs, and
//!    for those that link nothing but the C library: dash, mawk): names
//!    that the language itself defines and so every implementation carries
//!    as a C string, in any version — see [`MARKERS`].
//!
//! What is read: the ELF and program headers, the dynamic section, the
//! section headers and their names (all bounded by [`crate::elf`]), at most
//! [`DYNSTR_CAP`] of the dynamic string table and at most [`RODATA_CAP`] of
//! the read-only data, from its start.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

use crate::elf;
use crate::inventory::Kind;

/// How much of the dynamic string table is read: node's, the largest
/// here, is 3 MiB.
pub const DYNSTR_CAP: u64 = 8 << 20;
/// How much of the read-only data is read, from its start. The markers of
/// the interpreters measured lie within its first 600 KiB (python3.11's
/// `PYTHONSTARTUP` at 597 KiB; busybox's at 228 KiB, the shells' under
/// 100 KiB).
pub const RODATA_CAP: u64 = 1 << 20;

/// Why a file was taken for an interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Its name, a name on its symlink chain, or its real file's name.
    Name,
    /// A `#!` line beneath the roots names it.
    Shebang,
    /// It links a language runtime (`DT_NEEDED`).
    Library(String),
    /// It defines or imports an interpreter's entry point.
    Symbol(String),
    /// Its read-only data carries a language's own names.
    Strings(&'static str),
    /// The Debian package that installed it is built from an interpreter's
    /// source package.
    Package {
        /// The binary package (`bash-static`).
        package: String,
        /// Its source package (`bash`).
        source: String,
    },
    /// It could not be read or parsed: nothing says it is no interpreter.
    Unreadable(String),
}

impl Evidence {
    /// `name`, `shebang`, `library`, `symbol`, `strings`, `package`,
    /// `unreadable`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Evidence::Name => "name",
            Evidence::Shebang => "shebang",
            Evidence::Library(_) => "library",
            Evidence::Symbol(_) => "symbol",
            Evidence::Strings(_) => "strings",
            Evidence::Package { .. } => "package",
            Evidence::Unreadable(_) => "unreadable",
        }
    }

    /// What was found, for people: `links libperl.so.5.36`.
    pub fn detail(&self) -> Option<String> {
        Some(match self {
            Evidence::Name | Evidence::Shebang => return None,
            Evidence::Library(name) => format!("links {name}"),
            Evidence::Symbol(name) => format!("symbol {name}"),
            Evidence::Strings(markers) => format!(
                "strings {}",
                markers.trim_end_matches('|').replace('|', ", ")
            ),
            Evidence::Package { package, source } if package == source => {
                format!("Debian package {package}")
            }
            Evidence::Package { package, source } => {
                format!("Debian package {package} (source {source})")
            }
            Evidence::Unreadable(why) => why.clone(),
        })
    }
}

/// Language runtimes, by the start of their file name; a version, `.so` or
/// `-` must follow (`libperl.so.5.36`, `liblua5.4.so.0`,
/// `libluajit-5.1.so.2`, but not `libluabind`).
const LIBRARIES: &[(&str, Kind)] = &[
    ("libpython", Kind::Python),
    ("libpypy", Kind::Python),
    ("libperl", Kind::Perl),
    ("liblua", Kind::Lua),
    ("libluajit", Kind::Lua),
    ("libruby", Kind::Ruby),
    ("libmruby", Kind::Ruby),
    ("libtcl", Kind::Tcl),
    ("libtk", Kind::Tcl),
    ("libjim", Kind::Tcl),
    ("libnode", Kind::Node),
    ("libmozjs", Kind::Node),
    ("libquickjs", Kind::Node),
    ("libduktape", Kind::Node),
    ("libgjs", Kind::Node),
    ("libphp", Kind::Php),
    ("libguile", Kind::OtherLanguage),
    ("libR", Kind::OtherLanguage),
    ("libjulia", Kind::OtherLanguage),
    ("libjli", Kind::Java),
    ("libecl", Kind::OtherLanguage),
    ("libswipl", Kind::OtherLanguage),
];

/// Entry points into an interpreter: what a front end or an embedding
/// program calls to run code, and nothing else defines.
const SYMBOLS: &[(&str, Kind)] = &[
    ("Py_BytesMain", Kind::Python),
    ("Py_Main", Kind::Python),
    ("Py_RunMain", Kind::Python),
    ("Py_Initialize", Kind::Python),
    ("Py_InitializeEx", Kind::Python),
    ("Py_InitializeFromConfig", Kind::Python),
    ("perl_parse", Kind::Perl),
    ("perl_run", Kind::Perl),
    ("lua_pcall", Kind::Lua),
    ("lua_pcallk", Kind::Lua),
    ("luaL_loadfile", Kind::Lua),
    ("luaL_loadfilex", Kind::Lua),
    ("luaL_loadbuffer", Kind::Lua),
    ("luaL_loadbufferx", Kind::Lua),
    ("ruby_run_node", Kind::Ruby),
    ("ruby_options", Kind::Ruby),
    ("rb_eval_string", Kind::Ruby),
    ("mrb_load_string", Kind::Ruby),
    ("mrb_load_file", Kind::Ruby),
    ("Tcl_Main", Kind::Tcl),
    ("Tcl_MainEx", Kind::Tcl),
    ("Tcl_EvalFile", Kind::Tcl),
    ("Tcl_FSEvalFile", Kind::Tcl),
    ("Tcl_FSEvalFileEx", Kind::Tcl),
    ("Tcl_CreateInterp", Kind::Tcl),
    ("Tk_MainEx", Kind::Tcl),
    ("Jim_CreateInterp", Kind::Tcl),
    ("napi_run_script", Kind::Node),
    ("JS_Eval", Kind::Node),
    ("JS_NewRuntime", Kind::Node),
    ("duk_eval_raw", Kind::Node),
    ("duk_create_heap", Kind::Node),
    ("gjs_context_eval", Kind::Node),
    ("php_execute_script", Kind::Php),
    ("zend_eval_string", Kind::Php),
    ("php_embed_init", Kind::Php),
    ("scm_boot_guile", Kind::OtherLanguage),
    ("scm_with_guile", Kind::OtherLanguage),
    ("scm_c_eval_string", Kind::OtherLanguage),
    ("scm_shell", Kind::OtherLanguage),
    ("Rf_initialize_R", Kind::OtherLanguage),
    ("Rf_initEmbeddedR", Kind::OtherLanguage),
    ("jl_init", Kind::OtherLanguage),
    ("jl_eval_string", Kind::OtherLanguage),
    ("jl_repl_entrypoint", Kind::OtherLanguage),
    ("JNI_CreateJavaVM", Kind::OtherLanguage),
    ("JLI_Launch", Kind::OtherLanguage),
    ("cl_boot", Kind::OtherLanguage),
    ("PL_initialise", Kind::OtherLanguage),
];

/// Names a language defines, so that every implementation of it, in every
/// version, carries them as C strings; all of a family's must be there,
/// each ending in a NUL (a C string, or the tail of one). First match wins
/// (busybox carries a shell and an awk: it is a shell).
///
/// - shell: `set -o` option names POSIX requires (dash, bash, mksh, zsh,
///   busybox ash, ksh);
/// - awk: builtin variables POSIX requires (mawk, gawk, busybox awk);
/// - perl, python: environment variables their startup reads, unchanged
///   since Perl 5.0 and Python 2;
/// - lua: what the standalone `lua` (and `luajit`) reads: `LUA_INIT` and
///   the `_PROMPT2` global, since Lua 5.1 (not `luac`, which runs nothing);
/// - tcl: variables every Tcl interpreter defines.
///
/// Of the 1147 ELF programs in this machine's /usr (Go and Rust programs,
/// compilers, node included), each family's markers are found in that
/// family's programs only.
///
/// Each family's markers are one `|`-separated literal ending in `|`, so
/// that no marker ends in a NUL in a program that carries this table (mayexec
/// itself).
pub const MARKERS: &[(Kind, &str)] = &[
    (Kind::Shell, "allexport|ignoreeof|"),
    (Kind::Awk, "RLENGTH|SUBSEP|"),
    (Kind::Perl, "PERL5OPT|PERL5LIB|"),
    (Kind::Python, "PYTHONSTARTUP|PYTHONINSPECT|"),
    (Kind::Lua, "LUA_INIT|_PROMPT2|"),
    (Kind::Tcl, "tcl_patchLevel|tcl_interactive|"),
];

/// What reading an executable file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Not an ELF program: a script, a shared library, data.
    NotAProgram,
    /// An ELF program, an interpreter or (`None`) not known to be one.
    Program(Option<(Kind, Evidence)>),
}

/// Reads `file` (an executable) for what it is. An error: it could not be
/// read or is a malformed ELF file.
pub fn recognise(file: &File) -> io::Result<Content> {
    let Some(info) = elf::read(file)? else {
        return Ok(Content::NotAProgram);
    };
    if !info.program {
        return Ok(Content::NotAProgram);
    }
    for needed in &info.needed {
        let base = needed.rsplit('/').next().unwrap_or(needed);
        if let Some(&(_, kind)) = LIBRARIES.iter().find(|(lib, _)| {
            base.strip_prefix(lib).is_some_and(|rest| {
                rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
            })
        }) {
            return Ok(Content::Program(Some((
                kind,
                Evidence::Library(base.to_owned()),
            ))));
        }
    }
    if let Some(dynstr) = info.dynstr {
        static BY_NAME: OnceLock<HashMap<&[u8], Kind>> = OnceLock::new();
        let by_name =
            BY_NAME.get_or_init(|| SYMBOLS.iter().map(|(s, k)| (s.as_bytes(), *k)).collect());
        let longest = SYMBOLS.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
        let strings = elf::read_extent(file, dynstr, DYNSTR_CAP)?;
        for name in strings.split(|&b| b == 0) {
            if name.len() > longest {
                continue; // C++ names: no need to hash them
            }
            if let Some(&kind) = by_name.get(name) {
                let symbol = String::from_utf8_lossy(name).into_owned();
                return Ok(Content::Program(Some((kind, Evidence::Symbol(symbol)))));
            }
        }
    }
    let mut found = Found::new();
    found.scan_file(file, &info.rodata, RODATA_CAP)?;
    Ok(Content::Program(MARKERS.iter().find_map(
        |&(kind, markers)| {
            markers
                .split_terminator('|')
                .all(|m| found.has(m))
                .then_some((kind, Evidence::Strings(markers)))
        },
    )))
}

/// More than the longest marker and its NUL.
const OVERLAP: u64 = 64;

/// Which markers the read-only data holds.
struct Found {
    markers: Vec<&'static str>,
    /// The markers (bit i: `markers[i]`) that end in each byte.
    ending_in: [u32; 256],
    seen: u32,
}

impl Found {
    fn new() -> Found {
        let markers: Vec<&str> = MARKERS
            .iter()
            .flat_map(|(_, m)| m.split_terminator('|'))
            .collect();
        assert!(markers.len() <= 32, "one bit each in a u32");
        let mut ending_in = [0; 256];
        for (i, m) in markers.iter().enumerate() {
            assert!((m.len() as u64) < OVERLAP, "longer than the overlap: {m}");
            ending_in[usize::from(*m.as_bytes().last().unwrap_or(&0))] |= 1 << i;
        }
        Found {
            markers,
            ending_in,
            seen: 0,
        }
    }

    /// Scans at most `cap` bytes of `extents`, in chunks of 64 KiB, each
    /// overlapping the last by more than the longest marker: one small
    /// buffer, reused.
    fn scan_file(&mut self, file: &File, extents: &[elf::Extent], cap: u64) -> io::Result<()> {
        const CHUNK: u64 = 64 << 10;
        let mut buf = vec![0; CHUNK as usize];
        let mut left = cap;
        for extent in extents {
            let len = extent.len.min(left);
            left -= len;
            let mut at = 0;
            loop {
                let n = (len - at).min(CHUNK);
                let chunk = &mut buf[..n as usize];
                file.read_exact_at(chunk, extent.offset + at)?;
                self.scan(chunk);
                if at + n == len {
                    break;
                }
                at += n - OVERLAP;
            }
        }
        Ok(())
    }

    /// One pass over `data`: the bytes before a NUL are compared with the
    /// markers that end in the byte before it.
    fn scan(&mut self, data: &[u8]) {
        for end in 1..data.len() {
            if data[end] != 0 {
                continue;
            }
            let mut candidates = self.ending_in[usize::from(data[end - 1])] & !self.seen;
            while candidates != 0 {
                let i = candidates.trailing_zeros();
                candidates &= candidates - 1;
                if data[..end].ends_with(self.markers[i as usize].as_bytes()) {
                    self.seen |= 1 << i;
                }
            }
        }
    }

    fn has(&self, marker: &str) -> bool {
        let i = self.markers.iter().position(|m| *m == marker);
        i.is_some_and(|i| self.seen & (1 << i) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(path: &str) -> Option<Content> {
        File::open(path).ok().map(|f| recognise(&f).unwrap())
    }

    #[test]
    fn stock_interpreters_are_recognised_by_what_they_hold() {
        for (path, kind, evidence) in [
            ("/usr/bin/perl", Kind::Perl, "symbol"),
            ("/usr/bin/python3", Kind::Python, "symbol"),
            ("/usr/bin/dash", Kind::Shell, "strings"),
            ("/usr/bin/bash", Kind::Shell, "strings"),
            ("/usr/bin/mawk", Kind::Awk, "strings"),
            ("/usr/bin/tclsh8.6", Kind::Tcl, "library"),
            ("/bin/bash-static", Kind::Shell, "strings"),
            ("/bin/busybox", Kind::Shell, "strings"),
        ] {
            let Some(content) = of(path) else {
                eprintln!("{path} is not installed here");
                continue;
            };
            let Content::Program(Some((found, why))) = content else {
                panic!("{path}: {content:?}");
            };
            assert_eq!((found, why.as_str()), (kind, evidence), "{path}: {why:?}");
        }
    }

    #[test]
    fn other_programs_and_libraries_are_not_interpreters() {
        for path in ["/usr/bin/true", "/usr/bin/ls", "/usr/bin/grep"] {
            assert_eq!(of(path), Some(Content::Program(None)), "{path}");
        }
        // The table of markers does not make the program that holds it one.
        assert_eq!(
            of(std::env::current_exe().unwrap().to_str().unwrap()),
            Some(Content::Program(None))
        );
        let libm = std::fs::read_dir("/usr/lib/x86_64-linux-gnu")
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.file_name() == "libm.so.6");
        if let Some(libm) = libm {
            let file = File::open(libm.path()).unwrap();
            assert_eq!(recognise(&file).unwrap(), Content::NotAProgram);
        }
        assert_eq!(of("/etc/passwd"), Some(Content::NotAProgram));
    }

    #[test]
    fn markers_are_found_across_chunks_and_only_within_the_cap() {
        // The markers come from the table: a literal "…\0" here would make
        // this test program a shell.
        let markers = Found::new().markers;
        let mut data = vec![b'x'; 200_000];
        let mut put = |at: usize, prefix: &[u8], marker: &str, nul: bool| {
            let s = [prefix, marker.as_bytes(), if nul { &[0] } else { &[] }].concat();
            data[at..at + s.len()].copy_from_slice(&s);
        };
        // Across the first chunk's end; a C string's tail; not a C string.
        put(65_530, b"", markers[0], true);
        put(100_000, b"z", markers[1], true);
        put(120_000, b"", markers[2], false);
        put(150_000, b"", markers[3], true);
        let dir = mayexec_testkit::TempDir::new();
        let file = File::open(dir.write("rodata", &data, 0o644)).unwrap();
        let all = [elf::Extent {
            offset: 0,
            len: data.len() as u64,
        }];
        let mut found = Found::new();
        found.scan_file(&file, &all, u64::MAX).unwrap();
        let seen = [0, 1, 2, 3].map(|i| found.has(markers[i]));
        assert_eq!(seen, [true, true, false, true]);
        let mut found = Found::new();
        found.scan_file(&file, &all, 100_000).unwrap();
        assert!(found.has(markers[0]) && !found.has(markers[1]));
    }
}
