//! Fixtures for mayexec's conformance tests: real tmpfs mounts with and
//! without `noexec`, files with real modes, a private `/etc/mayexec.conf`
//! and `/dev/log` in a mount namespace, dropped privileges, and a seccomp
//! filter that makes the kernel look older than it is.
//!
//! Everything here needs root. A test that uses it is a [`root_test`]:
//! built by another user, it shows as ignored ("needs root"); at run time
//! it calls [`require_root`], which returns `false` (and says why) where the
//! test cannot run, and panics under `CI=true`, where a skipped conformance
//! test is a failure.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod conformance;
pub mod interp;
pub mod nofile;

use libseccomp::{scmp_cmp, ScmpAction, ScmpArgCompare, ScmpFilterContext, ScmpSyscall};
pub use mayexec_testkit_macros::root_test;
use rustix::mount::{mount, unmount, MountFlags, UnmountFlags};

/// The unprivileged user tests drop to (`nobody`).
pub const NOBODY: u32 = 65534;

/// Where fixtures live: root-owned, mode 0755 all the way up, so that a
/// policy file placed below it can be trusted.
const BASE: &str = "/run/mayexec-tests";

/// Is this a CI run (`CI=true`)?
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true" || v == "1")
}

/// Can a test that mounts and changes credentials run here (root, and
/// tmpfs can be mounted)? Prints why not and returns `false`; under
/// `CI=true` it panics instead.
pub fn require_root(test: &str) -> bool {
    let why = if !rustix::process::geteuid().is_root() {
        Some("needs root (mounts tmpfs, changes credentials)".to_owned())
    } else {
        can_mount_tmpfs().err()
    };
    match why {
        None => true,
        Some(why) => skip(test, &why),
    }
}

/// Says why `test` cannot run and returns `false`; under `CI=true`, where a
/// skipped conformance test is a failure, panics instead.
pub(crate) fn skip(test: &str, why: &str) -> bool {
    let why = format!("{test}: skipped: {why}");
    assert!(
        !in_ci(),
        "{why}; under CI=true a skipped conformance test fails"
    );
    eprintln!("{why}");
    false
}

/// Can `nobody` create a user namespace here (`unshare -Ur`)? Tests of
/// what an unprivileged user does with one need it; like [`require_root`],
/// this prints why not and returns `false`, and panics under `CI=true`.
pub fn require_unprivileged_userns(test: &str) -> bool {
    static PROBE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        let out = as_nobody(Command::new("unshare").args(["-Ur", "true"]))
            .output()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "nobody cannot create a user namespace here (sysctl user.max_user_namespaces, \
                 kernel.unprivileged_userns_clone or AppArmor): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    });
    match probe {
        Ok(()) => true,
        Err(why) => skip(test, why),
    }
}

/// Mounts (and unmounts) one tmpfs, once per process.
fn can_mount_tmpfs() -> Result<(), String> {
    static PROBE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            Tmpfs::mount(true)
                .map(drop)
                .map_err(|e| format!("cannot mount a tmpfs here: {e}"))
        })
        .clone()
}

/// A fresh directory below `/run/mayexec-tests`, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `/run/mayexec-tests/<pid>-<n>` with mode 0755.
    pub fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let base = Path::new(BASE);
        fs::create_dir_all(base).expect("create /run/mayexec-tests");
        fs::set_permissions(base, fs::Permissions::from_mode(0o755)).expect("chmod base");
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).expect("create test directory");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .expect("chmod test directory");
        TempDir { path }
    }

    /// Creates the directory `path` (its parent must exist) with mode 0755;
    /// it is removed on drop. For a directory at a chosen place, such as a
    /// mount point inside a test tree.
    pub fn create(path: impl Into<PathBuf>) -> TempDir {
        let path = path.into();
        fs::create_dir(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `name` in this directory with `mode` (exactly:
    /// no umask) and returns its path.
    pub fn write(&self, name: impl AsRef<Path>, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        write_file(&self.path.join(name), contents.as_ref(), mode)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Writes a file with exactly `mode` and returns its path.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> PathBuf {
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    path.to_owned()
}

/// Gives `path` to `uid`:`gid`.
pub fn give_to(path: &Path, uid: u32, gid: u32) {
    chown(path, Some(uid), Some(gid)).unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

/// A real tmpfs mounted on a fresh directory, unmounted on drop.
#[derive(Debug)]
pub struct Tmpfs {
    dir: TempDir,
    noexec: bool,
}

impl Tmpfs {
    /// A tmpfs mounted with `noexec` or without.
    pub fn mount(noexec: bool) -> io::Result<Tmpfs> {
        Tmpfs::mount_on(TempDir::new(), noexec, "64m")
    }

    /// A tmpfs of `size` (tmpfs syntax: `512m`, `1g`), for big trees.
    pub fn mount_sized(noexec: bool, size: &str) -> io::Result<Tmpfs> {
        Tmpfs::mount_on(TempDir::new(), noexec, size)
    }

    /// A tmpfs mounted on a new directory `path` (its parent must exist):
    /// a second file system inside a test tree. Drop it before the tree's
    /// own mount (declare it after), so that it is unmounted first.
    pub fn mount_at(path: impl Into<PathBuf>, noexec: bool) -> io::Result<Tmpfs> {
        Tmpfs::mount_on(TempDir::create(path), noexec, "64m")
    }

    fn mount_on(dir: TempDir, noexec: bool, size: &str) -> io::Result<Tmpfs> {
        let flags = if noexec {
            MountFlags::NOEXEC | MountFlags::NOSUID
        } else {
            MountFlags::NOSUID
        };
        let data = std::ffi::CString::new(format!("mode=0755,size={size}"))
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        mount("tmpfs", dir.path(), "tmpfs", flags, data.as_c_str())?;
        Ok(Tmpfs { dir, noexec })
    }

    /// A tmpfs without `noexec`; panics if it cannot be mounted.
    pub fn exec() -> Tmpfs {
        Tmpfs::mount(false).expect("mount tmpfs")
    }

    /// A tmpfs with `noexec`; panics if it cannot be mounted.
    pub fn noexec() -> Tmpfs {
        Tmpfs::mount(true).expect("mount tmpfs -o noexec")
    }

    /// Is it mounted `noexec`?
    pub fn is_noexec(&self) -> bool {
        self.noexec
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file on this mount with exactly `mode`.
    pub fn write(&self, name: impl AsRef<Path>, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        self.dir.write(name, contents, mode)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = unmount(self.dir.path(), UnmountFlags::DETACH);
    }
}

/// One of each kind of file that is not a regular file, on a tmpfs:
/// `dir`, `fifo` (no writer), `socket` (a bound, listening Unix socket),
/// `null` (character device 1:3), `loop` (block device 7:0), and `link`
/// (a symlink to the 0755 regular file `target.sh`). Devices are mode 0666
/// so that an unprivileged caller can open them too.
#[derive(Debug)]
pub struct SpecialFiles {
    tmpfs: Tmpfs,
    _listener: std::os::unix::net::UnixListener,
}

impl SpecialFiles {
    /// Creates them on a fresh exec tmpfs.
    pub fn new() -> SpecialFiles {
        SpecialFiles::on(Tmpfs::exec())
    }

    /// Creates them on a fresh tmpfs mounted `noexec`.
    pub fn noexec() -> SpecialFiles {
        SpecialFiles::on(Tmpfs::noexec())
    }

    fn on(tmpfs: Tmpfs) -> SpecialFiles {
        use rustix::fs::{mkfifoat, mknodat, FileType, Mode, CWD};
        let p = |name: &str| tmpfs.path().join(name);
        fs::create_dir(p("dir")).expect("mkdir");
        fs::set_permissions(p("dir"), fs::Permissions::from_mode(0o755)).expect("chmod dir");
        mkfifoat(CWD, p("fifo"), Mode::from_raw_mode(0o666)).expect("mkfifo");
        let listener = std::os::unix::net::UnixListener::bind(p("socket")).expect("bind socket");
        let dev = |major, minor| rustix::fs::makedev(major, minor);
        mknodat(
            CWD,
            p("null"),
            FileType::CharacterDevice,
            Mode::from_raw_mode(0o666),
            dev(1, 3),
        )
        .expect("mknod char device");
        mknodat(
            CWD,
            p("loop"),
            FileType::BlockDevice,
            Mode::from_raw_mode(0o666),
            dev(7, 0),
        )
        .expect("mknod block device");
        for name in ["fifo", "null", "loop", "socket"] {
            fs::set_permissions(p(name), fs::Permissions::from_mode(0o666)).expect("chmod");
        }
        tmpfs.write("target.sh", "#!/bin/sh\n", 0o755);
        std::os::unix::fs::symlink("target.sh", p("link")).expect("symlink");
        SpecialFiles {
            tmpfs,
            _listener: listener,
        }
    }

    /// The path of one of them.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmpfs.path().join(name)
    }

    /// The tmpfs they live on.
    pub fn tmpfs(&self) -> &Tmpfs {
        &self.tmpfs
    }
}

impl Default for SpecialFiles {
    fn default() -> Self {
        SpecialFiles::new()
    }
}

/// Opens `path` read-only, close-on-exec and without blocking (a FIFO
/// without a writer, a device), as an interpreter's check would.
pub fn open_nonblocking(path: &Path) -> std::os::fd::OwnedFd {
    use rustix::fs::{open, Mode, OFlags};
    open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// An `O_PATH` descriptor of `path` itself: a final symlink is not
/// followed, and no permission on the file is needed.
pub fn open_path_only(path: &Path) -> std::os::fd::OwnedFd {
    use rustix::fs::{open, Mode, OFlags};
    open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap_or_else(|e| panic!("open O_PATH {}: {e}", path.display()))
}

/// A connected pair of Unix stream sockets (sockfs files).
pub fn socketpair() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};
    socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .expect("socketpair")
}

/// The path of a binary this workspace builds (`cargo test --workspace`
/// builds every binary before it runs any test).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built: run `cargo build --workspace` (or `cargo test --workspace`) first",
        bin.display()
    );
    bin
}

/// The path of example `name` of workspace package `package`, up to date.
///
/// `cargo test` builds examples only when no test filter names a target
/// (`cargo test --test inc` builds none, and would run a stale one), so this
/// runs `cargo build -p PACKAGE --example NAME` in the test's own target
/// directory and profile, once per test process: a no-op when the example
/// is fresh. Cargo releases its build lock before it runs tests.
pub fn workspace_example(package: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test> → target/<profile>/examples/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let example = profile_dir.join("examples").join(name);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if built.contains(&example) {
        return example;
    }
    let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("{}: no profile directory", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--profile",
            profile,
            "-p",
            package,
            "--example",
            name,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .expect("run cargo build --example");
    assert!(
        status.success(),
        "cargo build -p {package} --example {name} failed"
    );
    assert!(example.exists(), "{} was not built", example.display());
    built.push(example.clone());
    example
}

/// Runs `f` on a new thread whose credentials are dropped to `uid`:`gid`
/// with no supplementary groups, and returns its result (a panic in `f`
/// fails the caller).
///
/// Linux credentials belong to each thread; the raw system calls used here
/// (unlike glibc's `setuid`) change only the new thread, so the rest of the
/// test process keeps root. Everything `f` does — opening files, checking
/// them, starting processes — happens with the dropped credentials.
pub fn in_thread_as<T: Send + 'static>(
    uid: u32,
    gid: u32,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    use rustix::process::{Gid, Uid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    spawn_retrying(move || {
        set_thread_groups(&[]).expect("setgroups([]) on this thread");
        let gid = Gid::from_raw(gid);
        set_thread_res_gid(gid, gid, gid).expect("setresgid on this thread");
        let uid = Uid::from_raw(uid);
        set_thread_res_uid(uid, uid, uid).expect("setresuid on this thread");
        assert_eq!(rustix::process::geteuid(), uid, "privileges dropped");
        f()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `std::thread::spawn`, retried while the kernel answers `EAGAIN`: under a
/// full parallel test run on a small machine, `clone` is sometimes refused
/// for a moment.
pub fn spawn_retrying<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let f = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    for _ in 0..100 {
        let f = f.clone();
        match std::thread::Builder::new().spawn(move || {
            let f = f.lock().expect("not poisoned").take().expect("run once");
            f()
        }) {
            Ok(handle) => return handle,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("spawn a thread: {e}"),
        }
    }
    panic!("spawn a thread: EAGAIN for two seconds")
}

/// Makes `cmd` run as `nobody`, with no supplementary groups.
pub fn as_nobody(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    cmd.uid(NOBODY).gid(NOBODY)
}

/// A private mount namespace for a command: `/etc/mayexec.conf` with given
/// contents (an overlay on `/etc`; the real `/etc` is never touched),
/// and `/dev/log` bound to a listener the test reads.
#[derive(Debug)]
pub struct Sandbox {
    dir: TempDir,
    syslog: Option<UnixDatagram>,
    user: Option<(u32, u32)>,
}

const SANDBOX_SCRIPT: &str = r#"set -e
w=$1; shift
mkdir -p "$w/ns"
mount -t tmpfs -o mode=0755 tmpfs "$w/ns"
if [ -e "$w/mayexec.conf" ]; then
    mkdir "$w/ns/etc-upper" "$w/ns/etc-work"
    cp -p "$w/mayexec.conf" "$w/ns/etc-upper/mayexec.conf"
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$w/ns/etc-upper,workdir=$w/ns/etc-work" /etc
fi
if [ -S "$w/log" ]; then
    mkdir "$w/ns/dev-upper" "$w/ns/dev-work" "$w/ns/pts" "$w/ns/shm"
    mount --rbind /dev/pts "$w/ns/pts"
    mount --rbind /dev/shm "$w/ns/shm"
    mount -t overlay overlay -o "lowerdir=/dev,upperdir=$w/ns/dev-upper,workdir=$w/ns/dev-work" /dev
    mount --move "$w/ns/pts" /dev/pts
    mount --move "$w/ns/shm" /dev/shm
    [ -e /dev/log ] || : > /dev/log
    mount --bind "$w/log" /dev/log
fi
if [ -d "$w/var-lib" ]; then
    mkdir -p "$w/var-lib/upper" "$w/var-lib/work"
    mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$w/var-lib/upper,workdir=$w/var-lib/work" /var/lib
fi
if [ -f "$w/read-only" ]; then
    while IFS= read -r d; do
        mount --bind "$d" "$d"
        mount -o remount,bind,ro "$d"
    done < "$w/read-only"
fi
exec "$@"
"#;

impl Sandbox {
    /// A sandbox with no policy file and the machine's `/dev/log`.
    pub fn new() -> Sandbox {
        Sandbox {
            dir: TempDir::new(),
            syslog: None,
            user: None,
        }
    }

    /// `/etc/mayexec.conf` in the namespace holds `toml`, owned by root,
    /// mode 0644.
    pub fn policy(self, toml: &str) -> Sandbox {
        self.policy_file(toml, 0o644, 0)
    }

    /// `/etc/mayexec.conf` in the namespace holds `toml`, with `mode` and
    /// owner `uid`: for untrusted policies.
    pub fn policy_file(self, toml: &str, mode: u32, uid: u32) -> Sandbox {
        let path = self.dir.write("mayexec.conf", toml, mode);
        give_to(&path, uid, uid);
        self
    }

    /// `/dev/log` in the namespace reaches a socket the test reads with
    /// [`Sandbox::syslog_lines`].
    pub fn capture_syslog(mut self) -> Sandbox {
        let socket = UnixDatagram::bind(self.dir.path().join("log")).expect("bind syslog socket");
        socket
            .set_nonblocking(true)
            .expect("nonblocking syslog socket");
        fs::set_permissions(
            self.dir.path().join("log"),
            fs::Permissions::from_mode(0o666),
        )
        .expect("chmod syslog socket");
        self.syslog = Some(socket);
        self
    }

    /// `/var/lib` in the namespace is an overlay whose changes stay in the
    /// sandbox (kept from one command to the next): a private trust
    /// database, `/var/lib/mayexec/`, seen from outside at
    /// [`Sandbox::var_lib`].
    pub fn private_var_lib(self) -> Sandbox {
        fs::create_dir(self.dir.path().join("var-lib")).expect("mkdir var-lib");
        self
    }

    /// What the namespace's commands wrote beneath `/var/lib` (with
    /// [`Sandbox::private_var_lib`]).
    pub fn var_lib(&self) -> PathBuf {
        self.dir.path().join("var-lib/upper")
    }

    /// `dir` is a read-only mount of its own in the namespace (so that
    /// nothing a test runs can write there: CPython's caches, say).
    pub fn read_only(self, dir: &Path) -> Sandbox {
        use std::io::Write;
        let mut list = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("read-only"))
            .expect("open the read-only list");
        writeln!(list, "{}", dir.display()).expect("write the read-only list");
        self
    }

    /// The command runs as `uid`:`gid` (no supplementary groups) once the
    /// namespace is set up.
    pub fn as_user(mut self, uid: u32, gid: u32) -> Sandbox {
        self.user = Some((uid, gid));
        self
    }

    /// A command that runs `program` in the sandbox; add its arguments to
    /// the returned `Command`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            SANDBOX_SCRIPT,
            "sandbox",
        ])
        .arg(self.dir.path());
        if let Some((uid, gid)) = self.user {
            cmd.args(["setpriv", "--clear-groups"])
                .arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--");
        }
        cmd.arg(program);
        cmd
    }

    /// The syslog lines received so far (each datagram, as text).
    pub fn syslog_lines(&self) -> Vec<String> {
        let socket = self.syslog.as_ref().expect("call capture_syslog() first");
        let mut lines = Vec::new();
        let mut buf = vec![0u8; 8192];
        while let Ok(n) = socket.recv(&mut buf) {
            lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        lines
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

/// Installs, on the calling thread, a seccomp filter under which the three
/// Landlock system calls fail with `errno`: as on a kernel built without
/// Landlock (`ENOSYS`) or with Landlock off at boot (`EOPNOTSUPP`). Every
/// other system call is untouched. Irreversible: call it on a thread that
/// then only starts the command under test (children inherit the filter).
pub fn deny_landlock(errno: i32) {
    let mut filter = Filter::new();
    for name in [
        "landlock_create_ruleset",
        "landlock_add_rule",
        "landlock_restrict_self",
    ] {
        filter.fail(name, errno, &[]);
    }
    filter.install();
}

/// `AT_EXECVE_CHECK` in `execveat`'s flags (its fifth argument).
fn execve_check_flag() -> ScmpArgCompare {
    const AT_EXECVE_CHECK: u64 = 0x10000;
    scmp_cmp!($arg4 & (AT_EXECVE_CHECK) == AT_EXECVE_CHECK)
}

/// Installs, on the calling thread, a seccomp filter under which
/// `execveat` with `AT_EXECVE_CHECK` fails with `errno` — as on a kernel
/// before Linux 6.14 (`EINVAL`), or under a container runtime's filter
/// (`ENOSYS`, `EPERM`). Every other system call is untouched. Irreversible:
/// call it in a child process (or a thread that then only checks).
pub fn deny_execve_check(errno: i32) {
    let mut filter = Filter::new();
    filter.fail("execveat", errno, &[execve_check_flag()]);
    filter.install();
}

/// Installs, on the calling thread, a seccomp filter under which the
/// kernel check of every real file fails with `errno` (`EIO`, `ENOMEM`: an
/// unexpected error), while the backend probe still sees a kernel that has
/// it: `execveat(-1, …, AT_EXECVE_CHECK)` still fails with `EBADF`, and
/// `memfd_create` fails (`ENOSYS`), so that the probe's second step, on an
/// empty memfd, is skipped. Every check an enlightened program then makes
/// is a check that failed: the program must refuse. Irreversible, like
/// [`deny_execve_check`].
pub fn fail_execve_check(errno: i32) {
    let mut filter = Filter::new();
    // A real descriptor is below 2^32 - 1; the probe's -1 is not, whether
    // the register holds it sign-extended or not.
    let real_fd = scmp_cmp!($arg0 < u64::from(u32::MAX));
    filter.fail("execveat", errno, &[execve_check_flag(), real_fd]);
    filter.fail("memfd_create", libc::ENOSYS, &[]);
    filter.install();
}

/// Installs, on the calling thread, a seccomp filter under which
/// `execveat` on descriptor `fd` (whatever its flags) fails with `errno`.
/// Stacked after [`deny_execve_check`], it imitates a system-call emulator
/// that looks at the descriptor before the flags. Irreversible, like it.
pub fn fail_execveat_on(fd: i32, errno: i32) {
    let mut filter = Filter::new();
    let fd = u64::from(fd as u32);
    filter.fail(
        "execveat",
        errno,
        &[scmp_cmp!($arg0 & (u64::from(u32::MAX)) == fd)],
    );
    filter.install();
}

/// A seccomp filter for the fakes above, built by libseccomp as `mayexec
/// run`'s is: everything is allowed but what [`Filter::fail`] names.
struct Filter(ScmpFilterContext);

impl Filter {
    fn new() -> Filter {
        Filter(ScmpFilterContext::new(ScmpAction::Allow).expect("a seccomp filter"))
    }

    /// `name` fails with `errno` when every comparison in `when` holds.
    fn fail(&mut self, name: &str, errno: i32, when: &[ScmpArgCompare]) {
        let call = ScmpSyscall::from_name(name).expect("a system call libseccomp knows");
        self.0
            .add_rule_conditional(ScmpAction::Errno(errno), call, when)
            .expect("a seccomp rule");
    }

    /// Sets no_new_privs and loads the filter on the calling thread.
    fn install(self) {
        self.0.load().expect("install the seccomp filter");
    }
}

/// How [`outputs_with_unwritable_stderr`] makes stderr refuse writes.
pub const UNWRITABLE_STDERRS: [&str; 3] = ["/dev/full", "a pipe nobody reads", "closed"];

/// Runs the command `make` returns once for each of [`UNWRITABLE_STDERRS`]:
/// stderr on `/dev/full` (`ENOSPC`), on a pipe whose reading end is closed
/// (`EPIPE`), and closed (`2>&-`, through `sh`). Stdout is collected.
/// Returns each way with the command's output.
pub fn outputs_with_unwritable_stderr(
    make: impl Fn() -> Command,
) -> Vec<(&'static str, std::process::Output)> {
    use std::process::Stdio;
    UNWRITABLE_STDERRS
        .iter()
        .map(|&how| {
            let mut cmd = make();
            if how == "closed" {
                let mut shell = Command::new("/bin/sh");
                shell
                    .args(["-c", "exec \"$@\" 2>&-", "sh"])
                    .arg(cmd.get_program())
                    .args(cmd.get_args());
                for (key, value) in cmd.get_envs() {
                    match value {
                        Some(value) => shell.env(key, value),
                        None => shell.env_remove(key),
                    };
                }
                if let Some(dir) = cmd.get_current_dir() {
                    shell.current_dir(dir);
                }
                cmd = shell;
            } else if how == "/dev/full" {
                let full = fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .expect("open /dev/full");
                cmd.stderr(full);
            } else {
                let (reader, writer) = rustix::pipe::pipe().expect("pipe");
                drop(reader);
                cmd.stderr(Stdio::from(writer));
            }
            cmd.stdout(Stdio::piped());
            let out = cmd
                .output()
                .unwrap_or_else(|e| panic!("run {:?} with stderr {how}: {e}", cmd.get_program()));
            (how, out)
        })
        .collect()
}
