//! The dynamic loader: what it maps is what was checked.
//!
//! CPython loads an extension module by handing its path to `dlopen`,
//! just after the `import` audit event in which the module is checked
//! ([`load_next_from`]). Between the two, the path could be made to name
//! another file (a symlink in a directory the caller owns, flipped from a
//! trusted module to their own object), whose constructors would run as
//! it is mapped. So this program defines `dlopen` itself, and `build.rs`
//! exports it: the loader binds libpython's calls (and every other
//! library's) to this one. For the path just checked, it maps the checked
//! descriptor (`/proc/self/fd/N`, [`loader_name`]); every other call goes
//! to the C library's `dlopen` unchanged. The import system, and its cache
//! of single-phase modules keyed by path, never sees the descriptor's
//! name.
//!
//! A library loaded from `/proc/self/fd/N` has `/proc/self/fd` for its
//! `$ORIGIN`: the libraries an extension module finds through `$ORIGIN`
//! (wheels ship theirs in `$ORIGIN/../NAME.libs`) are loaded first, by
//! path, from where the loader would find them, and the loader then
//! finds them loaded by their `DT_SONAME` ([`origin_dependencies`]).

#![allow(unsafe_code)] // FFI to the C library's loader; every block says why it holds.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr, OsString};
use std::fs::File;
use std::mem::MaybeUninit;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{Mutex, OnceLock};

thread_local! {
    /// The extension module the next `dlopen` of its path in this thread
    /// is to map: the path the import system hands the loader, and the
    /// file checked.
    static PENDING: RefCell<Option<(Vec<u8>, File)>> = const { RefCell::new(None) };
}

/// Makes the next `dlopen(path)` of this thread map `file`, which was
/// opened at `path` and checked. A later registration replaces it.
pub fn load_next_from(path: Vec<u8>, file: File) {
    PENDING.set(Some((path, file)));
}

/// Forgets what [`load_next_from`] registered, if no `dlopen` took it.
pub fn forget_next() {
    let _ = PENDING.try_with(|pending| pending.take());
}

/// `dlopen(3)`, as the C library's, except for the path that
/// [`load_next_from`] registered: that file is mapped, from its descriptor.
///
/// # Safety
///
/// As `dlopen(3)`: `name` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn dlopen(name: *const c_char, flags: c_int) -> *mut c_void {
    let pending = if name.is_null() {
        None
    } else {
        // SAFETY: a NUL-terminated string, by this function's contract.
        let asked = unsafe { CStr::from_ptr(name) }.to_bytes();
        PENDING
            .try_with(|pending| {
                let mut pending = pending.borrow_mut();
                let matches = pending
                    .as_ref()
                    .is_some_and(|(path, _)| same_name(path, asked));
                if matches {
                    pending.take()
                } else {
                    None
                }
            })
            .ok()
            .flatten()
    };
    match pending {
        Some((path, file)) => load_checked(&path, &file, flags),
        // SAFETY: the caller's arguments, as they came.
        None => unsafe { c_dlopen(name, flags) },
    }
}

/// Is `asked` the name CPython gives the loader for the module at `path`?
/// (`_PyImport_FindSharedFuncptr` puts `./` before a name with no slash.)
fn same_name(path: &[u8], asked: &[u8]) -> bool {
    asked == path || (!path.contains(&b'/') && asked.strip_prefix(b"./") == Some(path))
}

/// Maps `file`, the module checked at `path`, with `flags`: its
/// `$ORIGIN` libraries first, then the file itself from its descriptor.
/// On failure, null, with `dlerror` saying why (or nothing, when it was
/// not the loader that failed: CPython then reports an unknown error).
fn load_checked(path: &[u8], file: &File, flags: c_int) -> *mut c_void {
    for library in origin_dependencies(file, path) {
        // SAFETY: a NUL-terminated path. A library that does not load is
        // left to the module's own load, which then fails in its words.
        unsafe {
            if c_dlopen(library.as_ptr(), flags).is_null() {
                libc::dlerror();
            }
        }
    }
    let Ok(name) = loader_name(file).map(|name| CString::new(name).expect("no NUL in a path"))
    else {
        return ptr::null_mut();
    };
    // SAFETY: a NUL-terminated name.
    unsafe { c_dlopen(name.as_ptr(), flags) }
}

/// The C library's `dlopen`, found once (`dlsym(RTLD_NEXT)`: the next
/// definition after this program's).
///
/// # Safety
///
/// As `dlopen(3)`.
unsafe fn c_dlopen(name: *const c_char, flags: c_int) -> *mut c_void {
    type Dlopen = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
    static C_DLOPEN: OnceLock<usize> = OnceLock::new();
    // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT from this
    // program is the C library's definition.
    let address = *C_DLOPEN
        .get_or_init(|| unsafe { libc::dlsym(libc::RTLD_NEXT, c"dlopen".as_ptr()) } as usize);
    if address == 0 {
        // No loader to hand the call to: nothing loads.
        return ptr::null_mut();
    }
    // SAFETY: the C library's dlopen, which has this type.
    let c_dlopen: Dlopen = unsafe { std::mem::transmute::<usize, Dlopen>(address) };
    // SAFETY: the caller's arguments.
    unsafe { c_dlopen(name, flags) }
}

/// The names given to the dynamic loader so far, with the file (device,
/// inode) each stood for.
static LOADER_NAMES: Mutex<Vec<(String, (u64, u64))>> = Mutex::new(Vec::new());

/// The name under which the loader is to load `file`: `/proc/self/fd/N`.
///
/// The loader recognises an object it already has by the name it was
/// loaded under before it opens anything, and descriptor numbers are
/// reused: `/proc/self/fd/5` may have been another library that is still
/// loaded, which the loader would hand back instead. A name that stood for
/// another file gets one more slash (`/proc/self/fd//5`, the same path to
/// the kernel) until it is new or stood for this very file.
fn loader_name(file: &File) -> rustix::io::Result<String> {
    let stat = rustix::fs::fstat(file)?;
    let id = (stat.st_dev, stat.st_ino);
    let fd = std::os::fd::AsRawFd::as_raw_fd(file);
    let mut names = LOADER_NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut slashes = 1;
    loop {
        let name = format!("/proc/self/fd{}{fd}", "/".repeat(slashes));
        match names.iter().find(|(known, _)| *known == name) {
            Some((_, other)) if *other != id => slashes += 1,
            Some(_) => return Ok(name),
            None => {
                names.push((name.clone(), id));
                return Ok(name);
            }
        }
    }
}

/// The libraries that the shared object `file`, opened at `path`, needs
/// and that the loader would find through `$ORIGIN`, as paths, in its
/// `DT_NEEDED` order: for each needed name not loaded yet, the first
/// directory of its `DT_RUNPATH` (or, with none, `DT_RPATH`) that holds
/// it, when that directory is named from `$ORIGIN` — the directory of
/// `path` as given, as the loader takes it. A name found first in a
/// directory named otherwise is the loader's to find; a directory with
/// another token (`$LIB`, `$PLATFORM`) ends the search for that name, as
/// does an object that is not an ELF file the reader takes (the loader
/// then fails to find what it would have found through `$ORIGIN`). The
/// entries are read through the program headers, as the loader reads
/// them ([`mayexec_rollout::elf`]). `LD_LIBRARY_PATH`, which
/// the loader searches before a `DT_RUNPATH`, is not.
pub fn origin_dependencies(file: &File, path: &[u8]) -> Vec<CString> {
    let Ok(Some(elf)) = mayexec_rollout::elf::read(file) else {
        return Vec::new();
    };
    let Some(search) = elf.runpath.or(elf.rpath) else {
        return Vec::new();
    };
    let search = search.as_bytes();
    if !contains(search, b"$ORIGIN") && !contains(search, b"${ORIGIN}") {
        return Vec::new();
    }
    let origin = origin_of(path);
    let mut found = Vec::new();
    for name in &elf.needed {
        let name = name.as_bytes();
        if name.contains(&b'/') || is_loaded(name) {
            continue;
        }
        for dir in search.split(|&byte| byte == b':') {
            let Some((dir, from_origin)) = expand(dir, &origin) else {
                break;
            };
            let candidate = dir.join(OsStr::from_bytes(name));
            if candidate.is_file() {
                if from_origin {
                    found.extend(CString::new(candidate.into_os_string().into_vec()).ok());
                }
                break;
            }
        }
    }
    found
}

/// Does `haystack` contain `needle`?
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// `$ORIGIN` of an object loaded as `path`: its directory, made absolute
/// from the working directory, with no link resolved (as glibc's
/// `_dl_new_object`).
fn origin_of(path: &[u8]) -> PathBuf {
    let path = Path::new(OsStr::from_bytes(path));
    let dir = path.parent().unwrap_or(Path::new(""));
    if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    }
}

/// A search directory with `$ORIGIN` replaced, and whether it had one;
/// `None` for one with another token, or empty (the working directory).
fn expand(dir: &[u8], origin: &Path) -> Option<(PathBuf, bool)> {
    let origin = origin.as_os_str().as_bytes();
    let mut expanded = Vec::new();
    let mut from_origin = false;
    let mut rest = dir;
    while let Some(at) = rest.iter().position(|&byte| byte == b'$') {
        expanded.extend_from_slice(&rest[..at]);
        let token = &rest[at..];
        let length = if token.starts_with(b"${ORIGIN}") {
            9
        } else if token.starts_with(b"$ORIGIN")
            && !token
                .get(7)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            7
        } else {
            return None;
        };
        expanded.extend_from_slice(origin);
        from_origin = true;
        rest = &token[length..];
    }
    expanded.extend_from_slice(rest);
    (!expanded.is_empty()).then(|| (PathBuf::from(OsString::from_vec(expanded)), from_origin))
}

/// Is a library of this name (as `DT_NEEDED` gives it) loaded already, by
/// that name or its `DT_SONAME`?
fn is_loaded(name: &[u8]) -> bool {
    let Ok(name) = CString::new(name) else {
        return false;
    };
    let loaded = loaded_shared_object(&name, libc::RTLD_LAZY).is_some();
    if !loaded {
        // SAFETY: clears the loader's error for the name not found.
        unsafe { libc::dlerror() };
    }
    loaded
}

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
