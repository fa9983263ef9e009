//! Which interpreters a host has, and which of them obey the check.
//!
//! An interpreter that does not ask "may this file be executed?" runs any
//! file it is given, whatever the securebits say: `perl x.pl` is as good as
//! `./x.pl` was before. [`walk`] lists the executables beneath some
//! directories; each is an interpreter when
//!
//! - its name (or the name of the real file behind its symlinks and
//!   alternatives) is of a known family ([`kind_by_name`]);
//! - else, for an ELF program, its content says so: it links a language
//!   runtime, defines or imports an interpreter's entry point, or carries
//!   a language's own names in its read-only data ([`crate::content`]);
//! - else the Debian package that installed it is built from an
//!   interpreter's source package ([`crate::package`]);
//! - else a `#!` line of another executable there names it.
//!
//! An executable that cannot be read, or an ELF file that cannot be
//! parsed, is [`Kind::Unclassified`]: nothing says it is no interpreter,
//! so it counts as one that does not obey (`run --lockdown` does not grant
//! it).
//!
//! Whether an interpreter is **enlightened** is read from the file, never
//! from its name: it carries the ELF note every program that links the
//! `mayexec` library carries (owner `mayexec`, type 1, in
//! `.note.mayexec`), or it links `libmayexec.so` dynamically.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use crate::content::Evidence;
use crate::content::{self, Content};
use crate::{elf, package};

/// A family of interpreters, recognised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `sh`, `dash`, `bash`, `zsh`, `busybox` …
    Shell,
    /// `python3`, `pypy3` …
    Python,
    /// `perl`
    Perl,
    /// `ruby`, `irb`
    Ruby,
    /// JavaScript: `node`, `deno`, `bun`, QuickJS, Duktape, gjs …
    Node,
    /// `lua`, `luajit`
    Lua,
    /// `tclsh`, `wish`, `expect`
    Tcl,
    /// `php`
    Php,
    /// `awk`, `gawk`, `mawk` (`awk -f FILE`, and `system()`)
    Awk,
    /// `gdb -x FILE`, `lldb -s FILE`
    Debugger,
    /// Wine: Windows programs and libraries are its code (`wine FILE.exe`)
    Wine,
    /// Java: class files, jars, source programs (`java -cp DIR Main`,
    /// `java FILE.java`), and `jshell`
    Java,
    /// `vim -S FILE`, `emacs --script FILE`
    Editor,
    /// Another language runtime (`Rscript`, `guile`, `julia` …).
    OtherLanguage,
    /// Not of a known family, but a `#!` line on this system names it.
    Shebang,
    /// It cannot be read or parsed: it may be an interpreter.
    Unclassified,
}

impl Kind {
    /// `shell`, `python` …
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::Python => "python",
            Kind::Perl => "perl",
            Kind::Ruby => "ruby",
            Kind::Node => "node",
            Kind::Lua => "lua",
            Kind::Tcl => "tcl",
            Kind::Php => "php",
            Kind::Awk => "awk",
            Kind::Debugger => "debugger",
            Kind::Wine => "wine",
            Kind::Java => "java",
            Kind::Editor => "editor",
            Kind::OtherLanguage => "other-language",
            Kind::Shebang => "shebang",
            Kind::Unclassified => "unclassified",
        }
    }
}

const FAMILIES: &[(Kind, &[&str])] = &[
    (
        Kind::Shell,
        &[
            "sh", "ash", "dash", "bash", "rbash", "zsh", "ksh", "mksh", "pdksh", "lksh", "yash",
            "posh", "fish", "csh", "tcsh", "busybox", "elvish", "xonsh", "pwsh", "nu",
        ],
    ),
    (Kind::Python, &["python", "pypy", "ipython"]),
    (Kind::Perl, &["perl", "cperl"]),
    (Kind::Ruby, &["ruby", "irb", "jruby"]),
    (Kind::Node, &["node", "nodejs", "deno", "bun"]),
    (Kind::Lua, &["lua", "luajit", "texlua"]),
    (Kind::Tcl, &["tclsh", "wish", "expect", "jimsh"]),
    (Kind::Php, &["php", "php-cgi"]),
    (Kind::Awk, &["awk", "gawk", "mawk", "nawk", "original-awk"]),
    (Kind::Debugger, &["gdb", "lldb", "gdb-multiarch"]),
    (Kind::Wine, &["wine"]),
    (Kind::Java, &["java", "jshell"]),
    (
        Kind::Editor,
        &[
            "vi", "vim", "nvim", "gvim", "rvim", "view", "ex", "emacs", "vile",
        ],
    ),
    (
        Kind::OtherLanguage,
        &[
            "julia", "rscript", "r", "guile", "racket", "sbcl", "clisp", "ocaml", "escript", "erl",
            "elixir", "swipl", "octave", "gnuplot", "scala", "groovy", "gforth", "pike", "rexx",
            "regina", "icon",
        ],
    ),
];

/// The family a program name belongs to, if any: `python3.11` and
/// `mayexec-python` are Python, `vim.basic` an editor, `perl5.36.0` Perl.
pub fn kind_by_name(name: &str) -> Option<Kind> {
    let family = |stem: &str| {
        FAMILIES
            .iter()
            .find(|(_, names)| names.contains(&stem))
            .map(|(kind, _)| *kind)
    };
    let lower = name.to_ascii_lowercase();
    // `vim.basic`, `vim.tiny`: Debian's flavours of one program.
    let base = match lower.split_once('.') {
        Some((stem, flavour))
            if !flavour.is_empty() && flavour.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            stem
        }
        _ => &lower,
    };
    // `python3.11`, `perl5.36.0`, `tclsh8.6`: a version after the name.
    let stem = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    family(stem).or_else(|| {
        // `mayexec-python`, `x86_64-linux-gnu-gdb`: a prefix that names the
        // build, not the program (`python3-config`, `xq-python` are not).
        let (prefix, last) = lower.rsplit_once('-')?;
        if prefix == "mayexec" || prefix.ends_with("-linux-gnu") {
            family(last.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'))
        } else {
            None
        }
    })
}

/// How an interpreter was found to be enlightened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enlightened {
    /// It carries mayexec's ELF note; the library version it was built with.
    Note {
        /// e.g. `0.1.0`
        version: String,
    },
    /// It links libmayexec dynamically (`DT_NEEDED`).
    LinksLibmayexec {
        /// e.g. `libmayexec.so.0`
        needed: String,
    },
}

/// Reads from the file itself whether it is enlightened. `Ok(None)`: it is
/// not (or it is not an ELF file at all: a `#!` wrapper obeys nothing).
pub fn enlightened(path: &Path) -> io::Result<Option<Enlightened>> {
    let file = File::open(path)?;
    let Some(info) = elf::read(&file)? else {
        return Ok(None);
    };
    if let Some(note) = info.notes.iter().find(|n| {
        n.owner == mayexec::ENLIGHTENED_NOTE_OWNER.as_bytes()
            && n.kind == mayexec::ENLIGHTENED_NOTE_TYPE
    }) {
        let end = note
            .desc
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(note.desc.len());
        return Ok(Some(Enlightened::Note {
            version: String::from_utf8_lossy(&note.desc[..end]).into_owned(),
        }));
    }
    if let Some(needed) = info
        .needed
        .into_iter()
        .find(|n| n.starts_with("libmayexec.so"))
    {
        return Ok(Some(Enlightened::LinksLibmayexec { needed }));
    }
    // Wine's loader (`wine`, `wine64`) maps nothing itself: the Unix-side
    // ntdll.so it loads maps every PE image, and is what obeys. A Java
    // launcher reads no code either: the classes of its home's runtime
    // image do, through the home's libmayexec_jni.so.
    match wine_ntdll(path).or_else(|| java_jni(path)) {
        Some(library) => enlightened(&library),
        None => Ok(None),
    }
}

/// The JNI library through which the runtime image of the Java launcher
/// at `path` (its real file, `HOME/bin/java`) checks code:
/// `HOME/lib/libmayexec_jni.so`, which only mayexec's image loads.
fn java_jni(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    if kind_by_name(name) != Some(Kind::Java) {
        return None;
    }
    let library = path.parent()?.join("../lib/libmayexec_jni.so");
    library.is_file().then_some(library)
}

/// The `ntdll.so` Wine's loader at `path` (its real file) loads: where
/// the loader looks first, relative to its own directory, for Debian's
/// layout (`/usr/lib/wine/wine64` → `/usr/lib/x86_64-linux-gnu/wine/…`)
/// and upstream's (`/usr/bin/wine` → `/usr/lib/wine/…`, `lib64`).
fn wine_ntdll(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    if kind_by_name(name) != Some(Kind::Wine) {
        return None;
    }
    let arch = std::env::consts::ARCH;
    let so_dir = format!("wine/{arch}-unix/ntdll.so");
    let dir = path.parent()?;
    [
        format!("../{arch}-linux-gnu/{so_dir}"),
        format!("../lib/{so_dir}"),
        format!("../lib64/{so_dir}"),
    ]
    .iter()
    .map(|relative| dir.join(relative))
    .find(|candidate| candidate.is_file())
}

/// An executable file found beneath a root.
#[derive(Debug, Clone)]
pub struct Executable {
    /// Where it was found.
    pub path: PathBuf,
    /// The symlinks followed from `path`, in order (alternatives chains:
    /// `/usr/bin/awk` → `/etc/alternatives/awk` → `/usr/bin/mawk`).
    pub links: Vec<PathBuf>,
    /// The real file.
    pub real: PathBuf,
    /// The real file's device and inode: Landlock rules belong to inodes.
    pub inode: (u64, u64),
    /// Its interpreter family.
    pub kind: Option<Kind>,
    /// How `kind` was found.
    pub evidence: Option<Evidence>,
    /// An ELF program (not a script, not a shared library).
    pub elf_program: bool,
    /// How many `#!` lines beneath the roots name it.
    pub shebang_uses: usize,
    /// Its own `#!` interpreter, when it is a script.
    pub shebang: Option<PathBuf>,
}

/// An interpreter and its verdict.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The executable.
    pub executable: Executable,
    /// The family.
    pub kind: Kind,
    /// Enlightened, not, or the file could not be read (then: not).
    pub enlightened: Result<Option<Enlightened>, String>,
}

impl Interpreter {
    /// Does it obey the check?
    pub fn obeys(&self) -> bool {
        matches!(self.enlightened, Ok(Some(_)))
    }
}

/// What a walk found, and what it could not read.
#[derive(Debug, Default)]
pub struct Walk {
    /// Every executable regular file (through symlinks), in walk order.
    pub executables: Vec<Executable>,
    /// Paths that could not be examined, with why.
    pub errors: Vec<(PathBuf, io::Error)>,
}

impl Walk {
    /// The interpreters among the executables, each with its verdict.
    pub fn interpreters(&self) -> Vec<Interpreter> {
        let mut verdicts: HashMap<(u64, u64), Result<Option<Enlightened>, String>> = HashMap::new();
        self.executables
            .iter()
            .filter_map(|e| {
                let kind = e.kind?;
                let enlightened = verdicts
                    .entry(e.inode)
                    .or_insert_with(|| enlightened(&e.real).map_err(|err| err.to_string()))
                    .clone();
                Some(Interpreter {
                    executable: e.clone(),
                    kind,
                    enlightened,
                })
            })
            .collect()
    }
}

/// Lists the executables directly in each of `roots` (or beneath them,
/// when `recursive`; symlinked directories are not followed; a root that
/// is a file is examined itself), and finds
/// the interpreters among them by name and by the `#!` lines of the
/// scripts among them.
pub fn walk(roots: &[PathBuf], recursive: bool) -> Walk {
    walk_with_dpkg(roots, recursive, Path::new(package::DPKG_ADMIN_DIR))
}

/// [`walk`], with dpkg's database in `dpkg_admin_dir`.
pub fn walk_with_dpkg(roots: &[PathBuf], recursive: bool, dpkg_admin_dir: &Path) -> Walk {
    let mut walk = Walk::default();
    let mut visit = Visit::default();
    for root in roots {
        visit.visit(root, recursive, &mut walk);
    }
    // The ELF programs still unknown, by the package that installed them.
    let names: BTreeSet<Vec<u8>> = walk
        .executables
        .iter()
        .filter(|e| e.kind.is_none() && e.elf_program)
        .flat_map(|e| [e.path.file_name(), e.real.file_name()])
        .flatten()
        .map(|n| n.as_bytes().to_vec())
        .collect();
    let owners = package::owners(dpkg_admin_dir, &names);
    for e in walk.executables.iter_mut().filter(|e| e.kind.is_none()) {
        if let Some(owner) = owners.get(&e.inode) {
            e.kind = Some(owner.kind);
            e.evidence = Some(Evidence::Package {
                package: owner.package.clone(),
                source: owner.source.clone(),
            });
        }
    }
    // `#!` targets: by real path, and by name for `#!/usr/bin/env NAME`.
    let mut by_real: HashMap<PathBuf, usize> = HashMap::new();
    let mut by_name: HashMap<OsString, usize> = HashMap::new();
    for e in &walk.executables {
        if let Some(target) = &e.shebang {
            if target.is_absolute() {
                let real = fs::canonicalize(target).unwrap_or_else(|_| target.clone());
                *by_real.entry(real).or_default() += 1;
            } else {
                *by_name.entry(target.clone().into_os_string()).or_default() += 1;
            }
        }
    }
    for e in &mut walk.executables {
        let by_path_name = e.path.file_name().and_then(|n| by_name.get(n)).copied();
        e.shebang_uses = by_real.get(&e.real).copied().unwrap_or(0) + by_path_name.unwrap_or(0);
        if e.kind.is_none() && e.shebang_uses > 0 {
            e.kind = Some(Kind::Shebang);
            e.evidence = Some(Evidence::Shebang);
        }
    }
    walk
}

/// The directories walked, and what was read of each file, by inode.
#[derive(Default)]
struct Visit {
    dirs: BTreeSet<(u64, u64)>,
    content: HashMap<(u64, u64), Result<Content, String>>,
}

impl Visit {
    fn visit(&mut self, dir: &Path, recursive: bool, walk: &mut Walk) {
        let meta = match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => return self.add_file(dir.to_path_buf(), walk),
            Ok(meta) => meta,
            Err(e) => return walk.errors.push((dir.to_path_buf(), e)),
        };
        // `/bin` is `/usr/bin` on a merged-/usr system: walk it once.
        if !self.dirs.insert((meta.dev(), meta.ino())) {
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                walk.errors.push((dir.to_path_buf(), e));
                return;
            }
        };
        // The entry's type comes with it (d_type): no stat for what is
        // neither a directory, a regular file nor a symlink.
        let mut paths: Vec<(PathBuf, fs::FileType)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                Some((e.path(), e.file_type().ok()?))
            })
            .collect();
        paths.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, file_type) in paths {
            if file_type.is_dir() {
                if recursive {
                    self.visit(&path, recursive, walk);
                }
            } else if file_type.is_file() || file_type.is_symlink() {
                self.add_file(path, walk);
            }
        }
    }

    /// Records `path` if it is (a symlink to) an executable regular file.
    fn add_file(&mut self, path: PathBuf, walk: &mut Walk) {
        // Through symlinks: a dangling one is no executable.
        let Ok(meta) = fs::metadata(&path) else {
            return;
        };
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return;
        }
        let links = symlink_chain(&path);
        let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let name_kind = |p: &Path| {
            p.file_name()
                .and_then(|n| kind_by_name(&n.to_string_lossy()))
        };
        let by_name = name_kind(&path)
            .or_else(|| links.iter().find_map(|l| name_kind(l)))
            .or_else(|| name_kind(&real));
        let inode = (meta.dev(), meta.ino());
        // Read once per file, and only when its names say nothing.
        let content = match by_name {
            Some(_) => None,
            None => Some(self.content.entry(inode).or_insert_with(|| {
                File::open(&real)
                    .and_then(|file| content::recognise(&file))
                    .map_err(|e| format!("cannot read it: {e}"))
            })),
        };
        let (kind, evidence) = match (by_name, &content) {
            (Some(kind), _) => (Some(kind), Some(Evidence::Name)),
            (None, Some(Ok(Content::Program(Some((kind, why)))))) => {
                (Some(*kind), Some(why.clone()))
            }
            (None, Some(Err(why))) => (
                Some(Kind::Unclassified),
                Some(Evidence::Unreadable(why.clone())),
            ),
            _ => (None, None),
        };
        let elf_program = matches!(content, Some(Ok(Content::Program(_))));
        let shebang = shebang(&real);
        walk.executables.push(Executable {
            path,
            links,
            real,
            inode,
            kind,
            evidence,
            elf_program,
            shebang_uses: 0,
            shebang,
        });
    }
}

/// The symlinks from `path` to its real file (at most 40, as the kernel).
fn symlink_chain(path: &Path) -> Vec<PathBuf> {
    let mut chain = Vec::new();
    let mut current = path.to_path_buf();
    while chain.len() < 40 {
        let Ok(target) = fs::read_link(&current) else {
            break;
        };
        let next = match current.parent() {
            Some(parent) if target.is_relative() => {
                // `../alternatives/sh` from a real directory, for people.
                let mut next = fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
                for part in target.components() {
                    match part {
                        std::path::Component::ParentDir => {
                            next.pop();
                        }
                        std::path::Component::CurDir => {}
                        other => next.push(other),
                    }
                }
                next
            }
            _ => target,
        };
        chain.push(next.clone());
        current = next;
    }
    chain
}

/// The interpreter a `#!` line names: its path, or for `/usr/bin/env NAME`,
/// NAME.
fn shebang(path: &Path) -> Option<PathBuf> {
    let file = File::open(path).ok()?;
    let mut head = [0u8; 256];
    let n = file.read_at(&mut head, 0).ok()?;
    let (program, _) = crate::scan::shebang_program(&head[..n])?;
    if program.is_empty() {
        return None;
    }
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(program)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_known_families_are_recognised_with_versions_and_prefixes() {
        for (name, kind) in [
            ("python3.11", Kind::Python),
            ("mayexec-python", Kind::Python),
            ("perl5.36.0", Kind::Perl),
            ("vim.basic", Kind::Editor),
            ("dash", Kind::Shell),
            ("mawk", Kind::Awk),
            ("x86_64-linux-gnu-gdb", Kind::Debugger),
            ("tclsh8.6", Kind::Tcl),
            ("Rscript", Kind::OtherLanguage),
        ] {
            assert_eq!(kind_by_name(name), Some(kind), "{name}");
        }
        for name in [
            "ls",
            "python3-config",
            "python2.7-gdb.py",
            "python-argcomplete-tcsh",
            "xq-python",
            "cat",
            "grep",
            "ld-linux-x86-64.so.2",
        ] {
            assert_eq!(kind_by_name(name), None, "{name}");
        }
    }
}
