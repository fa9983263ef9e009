//! LMDB, as the trust database uses it: a file built once, whole, by one
//! writer, then only ever read.
//!
//! The published file is never written again (a new one replaces it by
//! `rename`), so readers open it `MDB_RDONLY | MDB_NOLOCK`: no lock file, no
//! reader table, nothing they must be able to write, and nothing another
//! process could disturb. Data returned by a read lives in the shared,
//! read-only memory map, as long as the [`Reader`] that returned it.
//
// The FFI to liblmdb is unsafe by nature; each block says why it holds.
#![allow(unsafe_code)]

use std::ffi::{c_uint, CStr};
use std::fmt;
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};

use lmdb_master_sys as ffi;

/// An LMDB error code (`MDB_*` or an errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Error(pub(crate) i32);

impl Error {
    /// The errno, when the code is one.
    pub(crate) fn errno(self) -> Option<i32> {
        (self.0 > 0).then_some(self.0)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(errno) = self.errno() {
            return write!(f, "{}", std::io::Error::from_raw_os_error(errno));
        }
        // SAFETY: mdb_strerror returns a pointer to a static NUL-terminated
        // string for every code.
        let text = unsafe { CStr::from_ptr(ffi::mdb_strerror(self.0)) };
        f.write_str(&text.to_string_lossy())
    }
}

fn check(rc: i32) -> Result<(), Error> {
    if rc == ffi::MDB_SUCCESS {
        Ok(())
    } else {
        Err(Error(rc))
    }
}

fn val(bytes: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: bytes.len(),
        mv_data: bytes.as_ptr() as *mut _,
    }
}

/// # Safety
/// `v` came from LMDB within a transaction that outlives `'a`.
unsafe fn slice<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    if v.mv_size == 0 {
        return &[];
    }
    // SAFETY: LMDB returns a pointer to `mv_size` readable bytes of the map,
    // valid while the transaction lives (the caller's contract).
    unsafe { std::slice::from_raw_parts(v.mv_data.cast::<u8>(), v.mv_size) }
}

/// An environment handle, closed on drop.
struct Env(NonNull<ffi::MDB_env>);

impl Env {
    fn create(max_dbs: u32, map_size: Option<usize>) -> Result<Env, Error> {
        let mut env = ptr::null_mut();
        // SAFETY: `env` is a valid out-pointer.
        check(unsafe { ffi::mdb_env_create(&mut env) })?;
        let env = Env(NonNull::new(env).ok_or(Error(libc::ENOMEM))?);
        // SAFETY: a freshly created, not yet opened handle.
        check(unsafe { ffi::mdb_env_set_maxdbs(env.0.as_ptr(), max_dbs) })?;
        if let Some(size) = map_size {
            // SAFETY: as above.
            check(unsafe { ffi::mdb_env_set_mapsize(env.0.as_ptr(), size) })?;
        }
        Ok(env)
    }

    fn open(&self, path: &CStr, flags: c_uint, mode: u32) -> Result<(), Error> {
        // SAFETY: the handle is created and not yet opened; `path` is a
        // NUL-terminated string that outlives the call.
        check(unsafe { ffi::mdb_env_open(self.0.as_ptr(), path.as_ptr(), flags, mode as _) })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // SAFETY: every transaction on this handle has ended (Reader and
        // Builder drop theirs first).
        unsafe { ffi::mdb_env_close(self.0.as_ptr()) };
    }
}

/// A read-only view of a published file: the environment and one read
/// transaction that lasts as long as the view (the file never changes).
pub(crate) struct Reader {
    txn: NonNull<ffi::MDB_txn>,
    dbis: Vec<Option<ffi::MDB_dbi>>,
    /// Size of a page and the last page used, for the caller's check that
    /// the file holds them all.
    pub(crate) page_size: u64,
    pub(crate) last_page: u64,
    fd: RawFd,
    /// Closed on drop, after the transaction (fields drop after `drop`).
    _env: Env,
}

// SAFETY: the environment is opened MDB_NOTLS, so its read transaction is
// not tied to the thread that began it; every use goes through `&self` or
// `&mut self` of a Reader the caller keeps behind a Mutex or in one thread.
unsafe impl Send for Reader {}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").field("fd", &self.fd).finish()
    }
}

impl Reader {
    /// Opens the file at `path` read-only, without locks, and the named
    /// databases in it: the first `required` must exist, the others (added
    /// by later versions of the format) read as empty where they do not.
    pub(crate) fn open(path: &CStr, names: &[&CStr], required: usize) -> Result<Reader, Error> {
        let env = Env::create(names.len() as u32, None)?;
        env.open(
            path,
            ffi::MDB_RDONLY | ffi::MDB_NOLOCK | ffi::MDB_NOSUBDIR | ffi::MDB_NOTLS,
            0o644,
        )?;
        let mut fd: ffi::mdb_filehandle_t = -1;
        // SAFETY: an opened handle and a valid out-pointer.
        check(unsafe { ffi::mdb_env_get_fd(env.0.as_ptr(), &mut fd) })?;
        // SAFETY: a plain-old-data struct (integers) for LMDB to fill:
        // all zeroes is a valid value.
        let mut stat: ffi::MDB_stat = unsafe { std::mem::zeroed() };
        // SAFETY: integers and a raw pointer: all zeroes is a valid value.
        let mut info: ffi::MDB_envinfo = unsafe { std::mem::zeroed() };
        // SAFETY: an opened handle and valid out-pointers.
        check(unsafe { ffi::mdb_env_stat(env.0.as_ptr(), &mut stat) })?;
        // SAFETY: as above.
        check(unsafe { ffi::mdb_env_info(env.0.as_ptr(), &mut info) })?;
        let mut txn = ptr::null_mut();
        // SAFETY: an opened handle, no parent, a valid out-pointer.
        check(unsafe {
            ffi::mdb_txn_begin(env.0.as_ptr(), ptr::null_mut(), ffi::MDB_RDONLY, &mut txn)
        })?;
        let txn = NonNull::new(txn).ok_or(Error(libc::ENOMEM))?;
        let mut reader = Reader {
            txn,
            dbis: Vec::with_capacity(names.len()),
            page_size: u64::from(stat.ms_psize),
            last_page: info.me_last_pgno as u64,
            fd,
            _env: env,
        };
        for (i, name) in names.iter().enumerate() {
            let mut dbi = 0;
            // SAFETY: a live read transaction; `name` is NUL-terminated.
            let rc = unsafe { ffi::mdb_dbi_open(reader.txn.as_ptr(), name.as_ptr(), 0, &mut dbi) };
            match rc {
                ffi::MDB_NOTFOUND if i >= required => reader.dbis.push(None),
                rc => {
                    check(rc)?;
                    reader.dbis.push(Some(dbi));
                }
            }
        }
        Ok(reader)
    }

    /// LMDB's own descriptor of the file, open while the reader lives.
    pub(crate) fn file(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: LMDB keeps the descriptor open until the environment is
        // closed, which the borrow's lifetime (tied to `self`) precedes.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) }
    }

    /// The value of `key` in database number `db` (the order of `names`).
    pub(crate) fn get(&self, db: usize, key: &[u8]) -> Result<Option<&[u8]>, Error> {
        let Some(dbi) = self.dbis[db] else {
            return Ok(None);
        };
        let mut key = val(key);
        let mut data = ffi::MDB_val {
            mv_size: 0,
            mv_data: ptr::null_mut(),
        };
        // SAFETY: a live read transaction, a database it opened, and valid
        // key and out-pointers; LMDB only reads the key.
        let rc = unsafe { ffi::mdb_get(self.txn.as_ptr(), dbi, &mut key, &mut data) };
        match rc {
            ffi::MDB_NOTFOUND => Ok(None),
            rc => {
                check(rc)?;
                // SAFETY: from LMDB, valid while `self`'s transaction lives.
                Ok(Some(unsafe { slice(&data) }))
            }
        }
    }

    /// Calls `f` with every key and value of database `db`, in key order,
    /// until it returns `false`.
    pub(crate) fn for_each(
        &self,
        db: usize,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), Error> {
        let Some(dbi) = self.dbis[db] else {
            return Ok(());
        };
        let mut cursor = ptr::null_mut();
        // SAFETY: a live read transaction and a database it opened.
        check(unsafe { ffi::mdb_cursor_open(self.txn.as_ptr(), dbi, &mut cursor) })?;
        let mut key = ffi::MDB_val {
            mv_size: 0,
            mv_data: ptr::null_mut(),
        };
        let mut data = ffi::MDB_val {
            mv_size: 0,
            mv_data: ptr::null_mut(),
        };
        let mut op = ffi::MDB_FIRST;
        let result = loop {
            // SAFETY: a cursor of this transaction and valid out-pointers.
            let rc = unsafe { ffi::mdb_cursor_get(cursor, &mut key, &mut data, op) };
            match rc {
                ffi::MDB_NOTFOUND => break Ok(()),
                ffi::MDB_SUCCESS => {}
                rc => break Err(Error(rc)),
            }
            // SAFETY: from LMDB, valid while the transaction lives, which
            // is longer than this call.
            if !f(unsafe { slice(&key) }, unsafe { slice(&data) }) {
                break Ok(());
            }
            op = ffi::MDB_NEXT;
        };
        // SAFETY: the cursor opened above, closed once.
        unsafe { ffi::mdb_cursor_close(cursor) };
        result
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: the transaction began in `open` and ends here, before the
        // environment (a later field) is closed.
        unsafe { ffi::mdb_txn_abort(self.txn.as_ptr()) };
    }
}

/// Builds a new file from sorted keys, in one write transaction.
pub(crate) struct Builder {
    txn: Option<NonNull<ffi::MDB_txn>>,
    dbis: Vec<ffi::MDB_dbi>,
    env: Env,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").finish_non_exhaustive()
    }
}

impl Builder {
    /// Creates the (new, empty) file at `path`, mode 0600, with room for
    /// `map_size` bytes and the named databases.
    pub(crate) fn create(path: &CStr, names: &[&CStr], map_size: usize) -> Result<Builder, Error> {
        let env = Env::create(names.len() as u32, Some(map_size))?;
        // No lock file (one writer holds the writers' lock), no sync per
        // commit (the caller syncs once, before publishing).
        env.open(
            path,
            ffi::MDB_NOSUBDIR | ffi::MDB_NOLOCK | ffi::MDB_NOSYNC | ffi::MDB_NOTLS,
            0o600,
        )?;
        let mut txn = ptr::null_mut();
        // SAFETY: an opened handle, no parent, a valid out-pointer.
        check(unsafe { ffi::mdb_txn_begin(env.0.as_ptr(), ptr::null_mut(), 0, &mut txn) })?;
        let mut builder = Builder {
            txn: Some(NonNull::new(txn).ok_or(Error(libc::ENOMEM))?),
            dbis: Vec::new(),
            env,
        };
        for name in names {
            let mut dbi = 0;
            // SAFETY: a live write transaction; `name` is NUL-terminated.
            check(unsafe {
                ffi::mdb_dbi_open(builder.txn(), name.as_ptr(), ffi::MDB_CREATE, &mut dbi)
            })?;
            builder.dbis.push(dbi);
        }
        Ok(builder)
    }

    fn txn(&self) -> *mut ffi::MDB_txn {
        self.txn.expect("a live transaction").as_ptr()
    }

    /// Appends `key` = `value` to database `db`; keys must come in
    /// increasing byte order.
    pub(crate) fn append(&mut self, db: usize, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let mut key = val(key);
        let mut data = val(value);
        // SAFETY: a live write transaction, a database it opened, and key
        // and data pointing at live bytes LMDB copies.
        check(unsafe {
            ffi::mdb_put(
                self.txn(),
                self.dbis[db],
                &mut key,
                &mut data,
                ffi::MDB_APPEND,
            )
        })
    }

    /// Commits and writes everything to the disk (`fsync`).
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        let txn = self.txn.take().expect("a live transaction");
        // SAFETY: the write transaction begun in `create`; commit ends it
        // whatever it returns.
        check(unsafe { ffi::mdb_txn_commit(txn.as_ptr()) })?;
        // SAFETY: an opened handle with no transaction left.
        check(unsafe { ffi::mdb_env_sync(self.env.0.as_ptr(), 1) })
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        if let Some(txn) = self.txn.take() {
            // SAFETY: a transaction not committed: aborted once, before the
            // environment is closed.
            unsafe { ffi::mdb_txn_abort(txn.as_ptr()) };
        }
    }
}
