//! The standard library's entry points that run code from no checked file.
//!
//! Some modules of the standard library, run as the main program (`-m
//! timeit`, `python3 /usr/lib/python3.X/timeit.py`, `-m cProfile -m
//! timeit`, `runpy.run_module("code")`), run code handed to them in their
//! arguments, open a prompt, or read a file and run what is in it without
//! the open-code hook. Under deny-interactive that is interactive input:
//! they are refused (`docs/deployment.md` has the inventory of every entry
//! point, with the reason for each decision).
//!
//! They are recognised by what they are, not by the name they were run
//! under: the real path of the code's file (symbolic links resolved) lies
//! in a standard library directory (`…/pythonM.N/`, any version, so that
//! a second installation or a `PYTHONHOME` elsewhere does not help) at one
//! of the places below. A copy elsewhere is another file: under `-f` it
//! must pass the check itself, and writing one needs what writing any code
//! needs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The entry points refused under deny-interactive, by their place in the
/// standard library directory: a file, or (ending in `/`) a whole tree.
/// `docs/deployment.md` gives the reason for each; a test checks that the
/// two agree.
pub const REFUSED: &[&str] = &[
    // Statements in its arguments (`-s SETUP STMT`).
    "timeit.py",
    // `-c COMMANDS`, its prompt, `.pdbrc`.
    "pdb.py",
    // A prompt.
    "code.py",
    "asyncio/__main__.py",
    "_pyrepl/__main__.py",
    // SQL from its arguments and its prompt.
    "sqlite3/__main__.py",
    // Text files read with open(), their examples run.
    "doctest.py",
    // Files unpickled: a pickle calls what it names.
    "pickle.py",
    // `--file`: its counts file is unpickled.
    "trace.py",
    // Calls any callable its arguments name (`-m unittest code.interact`).
    "unittest/__main__.py",
    // 3.11: `-c CLASS` names a callable it calls.
    "smtpd.py",
    // IDLE: a shell, `-c`, `-r FILE` and its start-up files read with open().
    "idlelib/",
    // The test suites: not reviewed one by one.
    "test/",
    "ctypes/test/",
    "distutils/tests/",
    "lib2to3/tests/",
    "tkinter/test/",
    "unittest/test/",
];

/// A refused entry point: the name it is known by (`-m timeit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// Its module: `timeit`, `asyncio` (for `asyncio/__main__.py`),
    /// `test.test_os`.
    pub module: String,
}

impl EntryPoint {
    /// The label of its denial: `-m timeit`.
    pub fn label(&self) -> String {
        format!("-m {}", self.module)
    }
}

/// The refused entry point whose code `filename` names (a code object's
/// `co_filename`, or a script's path), if any.
///
/// A frozen module's `<frozen NAME>` is the standard library's `NAME`. A
/// path is resolved from the current directory; the part of it that does
/// not exist (a member of a zip archive) is taken as it is written.
pub fn refused(filename: &[u8]) -> Option<EntryPoint> {
    if let Some(name) = filename
        .strip_prefix(b"<frozen ")
        .and_then(|rest| rest.strip_suffix(b">"))
    {
        let name = std::str::from_utf8(name).ok()?;
        return refused_relative(&name.replace('.', "/"), true);
    }
    if filename.first() == Some(&b'<') || filename.is_empty() {
        return None;
    }
    // Cheap before any system call: the last component must be a name
    // one of the entries can have.
    let path = Path::new(OsStr::from_bytes(filename));
    let base = path.file_name()?.as_bytes();
    if !(base.ends_with(b".py") || base.ends_with(b".pyc")) {
        return None;
    }
    let real = resolve(path)?;
    let relative = in_standard_library(&real)?;
    refused_relative(&relative, false)
}

/// The place beneath a standard library directory of the file `filename`
/// names (`runpy.py` for `<frozen runpy>` and for `…/python3.12/runpy.py`),
/// if it is there.
pub fn standard_library_place(filename: &[u8]) -> Option<String> {
    if let Some(name) = filename
        .strip_prefix(b"<frozen ")
        .and_then(|rest| rest.strip_suffix(b">"))
    {
        return Some(format!(
            "{}.py",
            std::str::from_utf8(name).ok()?.replace('.', "/")
        ));
    }
    if filename.first() == Some(&b'<') || filename.is_empty() {
        return None;
    }
    in_standard_library(&resolve(Path::new(OsStr::from_bytes(filename)))?)
}

/// `path` with every symbolic link resolved, as far as it exists; the
/// rest appended as written.
fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = std::fs::canonicalize(path) {
        return Some(real);
    }
    let mut tail = Vec::new();
    let mut head = path;
    loop {
        tail.push(head.file_name()?.to_owned());
        head = head.parent()?;
        let start = if head.as_os_str().is_empty() {
            Path::new(".")
        } else {
            head
        };
        if let Ok(mut real) = std::fs::canonicalize(start) {
            real.extend(tail.iter().rev());
            return Some(real);
        }
    }
}

/// The part of `real` beneath its last standard library directory
/// (`pythonM.N`, `pythonM.Nt`, `pythonMN.zip`), `/`-separated; `None`
/// outside one.
fn in_standard_library(real: &Path) -> Option<String> {
    let components: Vec<&OsStr> = real
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let at = components
        .iter()
        .rposition(|name| is_standard_library_dir(name.as_bytes()))?;
    let rest = &components[at + 1..];
    if rest.is_empty() {
        return None;
    }
    let parts: Option<Vec<&str>> = rest.iter().map(|name| name.to_str()).collect();
    Some(parts?.join("/"))
}

/// `python3.11`, `python3.13t`, `python311.zip`.
fn is_standard_library_dir(name: &[u8]) -> bool {
    let Some(rest) = name.strip_prefix(b"python") else {
        return false;
    };
    if let Some(digits) = rest.strip_suffix(b".zip") {
        return !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    }
    let rest = rest.strip_suffix(b"t").unwrap_or(rest);
    let mut parts = rest.split(|&c| c == b'.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
}

/// Matches a path beneath the standard library directory (`timeit.py`,
/// `__pycache__/timeit.cpython-311.pyc`, `asyncio/__main__.py`) against
/// [`REFUSED`]. `module_path` says it is a module's dotted name with `/`
/// for `.` and no extension (a frozen module).
fn refused_relative(relative: &str, module_path: bool) -> Option<EntryPoint> {
    let source = if module_path {
        // `asyncio.__main__` or a package `asyncio`: both name the package's
        // `__main__` when the package is run.
        format!("{relative}.py")
    } else {
        source_of(relative)?
    };
    let hit = REFUSED.iter().any(|entry| match entry.strip_suffix('/') {
        Some(tree) => source.starts_with(&format!("{tree}/")),
        None => source == *entry,
    });
    if !hit {
        return None;
    }
    let module = source
        .strip_suffix(".py")
        .unwrap_or(&source)
        .trim_end_matches("/__main__")
        .replace('/', ".");
    Some(EntryPoint { module })
}

/// The source a standard library file stands for: itself for a `.py`; for
/// a cache `__pycache__/NAME.TAG[.opt-N].pyc`, `NAME.py` beside the cache
/// directory; for a sourceless `NAME.pyc`, `NAME.py`.
fn source_of(relative: &str) -> Option<String> {
    if relative.ends_with(".py") {
        return Some(relative.to_owned());
    }
    let stem = relative.strip_suffix(".pyc")?;
    let (dir, file) = match stem.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, stem),
    };
    let (dir, name) = match dir {
        Some(dir) if dir == "__pycache__" || dir.ends_with("/__pycache__") => {
            let parent = dir.strip_suffix("__pycache__").unwrap_or_default();
            (parent.trim_end_matches('/'), file.split('.').next()?)
        }
        _ => (dir.unwrap_or(""), file),
    };
    Some(if dir.is_empty() {
        format!("{name}.py")
    } else {
        format!("{dir}/{name}.py")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(relative: &str) -> Option<String> {
        refused_relative(relative, false).map(|e| e.module)
    }

    #[test]
    fn standard_library_directories() {
        for name in ["python3.11", "python3.14", "python3.13t", "python311.zip"] {
            assert!(is_standard_library_dir(name.as_bytes()), "{name}");
        }
        for name in [
            "python3",
            "python",
            "python3.x",
            "pythonic",
            "python3.11.7",
            "python.zip",
        ] {
            assert!(!is_standard_library_dir(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn entries_by_place() {
        assert_eq!(module("timeit.py").as_deref(), Some("timeit"));
        assert_eq!(module("asyncio/__main__.py").as_deref(), Some("asyncio"));
        assert_eq!(
            module("idlelib/pyshell.py").as_deref(),
            Some("idlelib.pyshell")
        );
        assert_eq!(module("test/test_os.py").as_deref(), Some("test.test_os"));
        assert_eq!(module("test/__main__.py").as_deref(), Some("test"));
        assert_eq!(
            module("__pycache__/timeit.cpython-311.opt-1.pyc").as_deref(),
            Some("timeit")
        );
        assert_eq!(
            module("asyncio/__pycache__/__main__.cpython-312.pyc").as_deref(),
            Some("asyncio")
        );
        assert_eq!(module("timeit.pyc").as_deref(), Some("timeit"));
        for harmless in [
            "asyncio/base_events.py",
            "json/tool.py",
            "site-packages/timeit.py",
            "site-packages/foo/test/x.py",
            "codecs.py",
            "testing.py",
        ] {
            assert_eq!(module(harmless), None, "{harmless}");
        }
    }

    #[test]
    fn frozen_modules() {
        assert_eq!(
            refused(b"<frozen timeit>").map(|e| e.module).as_deref(),
            Some("timeit")
        );
        assert_eq!(
            refused(b"<frozen asyncio.__main__>")
                .map(|e| e.module)
                .as_deref(),
            Some("asyncio")
        );
        assert_eq!(refused(b"<frozen runpy>"), None);
        assert_eq!(refused(b"<string>"), None);
        assert_eq!(refused(b"<stdin>"), None);
    }

    #[test]
    fn paths_resolve_through_links_and_archives() {
        let dir = std::env::temp_dir().join(format!("mayexec-ep-{}", std::process::id()));
        let lib = dir.join("lib/python3.11");
        std::fs::create_dir_all(lib.join("asyncio")).unwrap();
        std::fs::write(lib.join("timeit.py"), "").unwrap();
        std::fs::write(lib.join("asyncio/__main__.py"), "").unwrap();
        std::os::unix::fs::symlink(lib.join("timeit.py"), dir.join("t.py")).unwrap();
        let bytes = |p: PathBuf| p.into_os_string().into_vec();
        use std::os::unix::ffi::OsStringExt;
        assert_eq!(
            refused(&bytes(dir.join("t.py")))
                .map(|e| e.module)
                .as_deref(),
            Some("timeit")
        );
        assert_eq!(
            refused(&bytes(lib.join("asyncio/../timeit.py")))
                .map(|e| e.module)
                .as_deref(),
            Some("timeit")
        );
        assert_eq!(
            refused(&bytes(dir.join("lib/python311.zip/pdb.py")))
                .map(|e| e.module)
                .as_deref(),
            Some("pdb")
        );
        assert_eq!(refused(&bytes(lib.join("asyncio/base_events.py"))), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
