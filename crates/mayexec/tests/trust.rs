//! Content trust (`trust = "required"`): a file trusted in the database
//! passes; every way of changing it afterwards, or of presenting other
//! content under its name or its inode, is `untrusted-content`; a database
//! that cannot be used trusts nothing (`trust-unavailable`); a database
//! rewritten while readers read is seen whole, old or new.
//!
//! Every file under test lives on a real tmpfs. tmpfs keeps no inode
//! generation (`FS_IOC_GETVERSION` is `ENOTTY` there), so these entries
//! have none and the identity rests on device, inode, size, ctime (ns),
//! mode and owner; `a_reused_inode_number_is_not_the_trusted_file` shows
//! what holds a reused inode number out without it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mayexec::audit::{self, AuditRecord};
use mayexec::policy::Mode;
use mayexec::securebits::SecureBits;
use mayexec::trust::{
    Database, Entry, Identity, Previous, Source, Staged, TrustStore, TrustVerdict, Untrusted,
    Writer,
};
use mayexec::{Action, Enforcement, Level, Reason, ScriptError, SystemPolicy, Trust};
use mayexec_testkit::{give_to, root_test, TempDir, Tmpfs};
use rusty_fork::rusty_fork_test;
use sha2::{Digest, Sha256};

/// Trusts `paths` in the database in `db` (adding to what it holds).
fn trust(db: &Path, paths: &[&Path]) {
    let (mut writer, _) = Writer::open(db).expect("open the database for writing");
    for path in paths {
        writer.insert(entry(path));
    }
    writer.commit().expect("commit");
}

fn entry(path: &Path) -> Entry {
    let mut file = File::open(path).unwrap();
    let identity = Identity::of(file.as_fd()).unwrap();
    let mut content = Vec::new();
    file.read_to_end(&mut content).unwrap();
    Entry::new(
        identity,
        Sha256::digest(&content).into(),
        Source::Added,
        path.to_owned(),
    )
}

/// Level `level` (enforced) and trust `required` on `mounts`, with the
/// database in `db`.
fn enforcement(level: Level, db: &Path, mounts: &[&Path]) -> Enforcement {
    let mounts: Vec<PathBuf> = mounts.iter().map(|m| m.to_path_buf()).collect();
    let mut policy = SystemPolicy::default();
    policy.interpreted_access = level;
    Enforcement::from_parts(SecureBits::empty(), Some(policy)).with_trust(Some(Trust::new(
        Action::Enforce,
        Arc::new(TrustStore::open(db, &mounts)),
    )))
}

fn outcome(e: &Enforcement, path: &Path) -> Result<(), Reason> {
    match e.open_script(path) {
        Ok(_) => Ok(()),
        Err(ScriptError::Denied(denial)) => Err(denial.reason),
        Err(ScriptError::Open(error)) => panic!("{error}"),
    }
}

const UNTRUSTED: Result<(), Reason> = Err(Reason::UntrustedContent);

/// A trusted 0644 module on a listed mount, and the enforcement that
/// trusts it: level 1 + trust required.
struct Fixture {
    db: TempDir,
    code: Tmpfs,
    module: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let db = TempDir::new();
        let code = Tmpfs::exec();
        let module = code.write("Module.pm", "package Module; 1;\n", 0o644);
        trust(db.path(), &[&module]);
        Fixture { db, code, module }
    }

    fn enforcement(&self) -> Enforcement {
        enforcement(Level::Mount, self.db.path(), &[self.code.path()])
    }
}

#[root_test]
fn a_trusted_0644_file_passes_level_1_and_an_untrusted_one_does_not() {
    let f = Fixture::new();
    let e = f.enforcement();
    assert_eq!(outcome(&e, &f.module), Ok(()));
    let other = f.code.write("Other.pm", "package Other; 1;\n", 0o644);
    assert_eq!(outcome(&e, &other), UNTRUSTED);
}

#[root_test]
fn trust_only_adds_denials_it_never_lifts_the_level() {
    let f = Fixture::new();
    let noexec = Tmpfs::noexec();
    let on_noexec = noexec.write("Module.pm", "package Module; 1;\n", 0o755);
    trust(f.db.path(), &[&on_noexec]);
    let both = [f.code.path(), noexec.path()];
    // Level 1: the noexec mount is refused although the file is trusted.
    let e = enforcement(Level::Mount, f.db.path(), &both);
    assert_eq!(outcome(&e, &on_noexec), Err(Reason::NoexecMount));
    // Level 3 demands both: a trusted 0644 file is still not executable…
    let e = enforcement(Level::Full, f.db.path(), &both);
    assert_eq!(outcome(&e, &f.module), Err(Reason::NotExecutable));
    // … and a 0755 file must still be trusted.
    let script = f.code.write("run.sh", "echo hi\n", 0o755);
    assert_eq!(outcome(&e, &script), UNTRUSTED);
    trust(f.db.path(), &[&script]);
    let e = enforcement(Level::Full, f.db.path(), &both);
    assert_eq!(outcome(&e, &script), Ok(()));
}

#[root_test]
fn appending_to_a_trusted_file_untrusts_it() {
    let f = Fixture::new();
    let e = f.enforcement();
    assert_eq!(outcome(&e, &f.module), Ok(()));
    OpenOptions::new()
        .append(true)
        .open(&f.module)
        .unwrap()
        .write_all(b"system('id');\n")
        .unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
}

#[root_test]
fn truncating_a_trusted_file_untrusts_it() {
    let f = Fixture::new();
    let e = f.enforcement();
    OpenOptions::new()
        .write(true)
        .open(&f.module)
        .unwrap()
        .set_len(3)
        .unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
}

#[root_test]
fn writing_through_a_shared_mapping_untrusts_it() {
    let f = Fixture::new();
    let e = f.enforcement();
    let size = fs::metadata(&f.module).unwrap().len();
    write_through_mmap(&f.module, b"X");
    // Same size, same mode: only the ctime tells.
    assert_eq!(fs::metadata(&f.module).unwrap().len(), size);
    assert_eq!(fs::read(&f.module).unwrap()[0], b'X');
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
}

#[allow(unsafe_code)]
fn write_through_mmap(path: &Path, bytes: &[u8]) {
    use std::os::fd::AsRawFd;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let len = file.metadata().unwrap().len() as usize;
    // SAFETY: a fresh shared mapping of `len` bytes of a file this test
    // owns; written within its bounds, then unmapped; no Rust reference into
    // it outlives the block.
    unsafe {
        let addr = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        );
        assert_ne!(addr, libc::MAP_FAILED);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr.cast::<u8>(), bytes.len());
        assert_eq!(libc::munmap(addr, len), 0);
    }
}

#[root_test]
fn another_file_renamed_over_a_trusted_one_is_untrusted() {
    let f = Fixture::new();
    let e = f.enforcement();
    let evil = f.code.write("evil.pm", "system('id');\n", 0o644);
    fs::rename(&evil, &f.module).unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
}

#[root_test]
fn content_changed_through_a_new_hard_link_untrusts_the_file() {
    let f = Fixture::new();
    let e = f.enforcement();
    let link = f.code.path().join("link.pm");
    fs::hard_link(&f.module, &link).unwrap();
    // The new link itself changes the inode's ctime (nlink): untrusted at once.
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
    trust(f.db.path(), &[&f.module]);
    let e = f.enforcement();
    assert_eq!(outcome(&e, &link), Ok(()), "the same inode, trusted again");
    OpenOptions::new()
        .write(true)
        .open(&link)
        .unwrap()
        .write_all(b"system")
        .unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
    assert_eq!(outcome(&e, &link), UNTRUSTED);
}

#[root_test]
fn chmod_untrusts_even_back_to_the_same_mode() {
    let f = Fixture::new();
    let e = f.enforcement();
    fs::set_permissions(&f.module, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
    fs::set_permissions(&f.module, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(outcome(&e, &f.module), UNTRUSTED, "the ctime moved");
}

#[root_test]
fn a_copy_of_a_trusted_file_elsewhere_is_untrusted() {
    let f = Fixture::new();
    let e = f.enforcement();
    let copy = f.code.path().join("copy.pm");
    fs::copy(&f.module, &copy).unwrap();
    assert_eq!(outcome(&e, &copy), UNTRUSTED);
    assert_eq!(outcome(&e, &f.module), Ok(()));
}

#[root_test]
fn through_a_bind_mount_the_file_is_trusted_only_where_the_mount_is_listed() {
    let f = Fixture::new();
    let target = TempDir::new();
    rustix::mount::mount_bind(f.code.path(), target.path()).unwrap();
    let through_bind = target.path().join("Module.pm");
    let only_original = f.enforcement();
    assert_eq!(outcome(&only_original, &f.module), Ok(()));
    assert_eq!(outcome(&only_original, &through_bind), UNTRUSTED);
    let both = enforcement(Level::Mount, f.db.path(), &[f.code.path(), target.path()]);
    assert_eq!(outcome(&both, &through_bind), Ok(()));
    let only_bind = enforcement(Level::Mount, f.db.path(), &[target.path()]);
    assert_eq!(outcome(&only_bind, &f.module), UNTRUSTED);
    rustix::mount::unmount(target.path(), rustix::mount::UnmountFlags::DETACH).unwrap();
}

#[root_test]
fn a_file_on_a_mount_not_listed_is_untrusted_though_in_the_database() {
    let f = Fixture::new();
    let e = enforcement(Level::Mount, f.db.path(), &[]);
    assert_eq!(outcome(&e, &f.module), UNTRUSTED);
    let store = TrustStore::open(f.db.path(), &[]);
    assert_eq!(
        store.check(File::open(&f.module).unwrap()),
        TrustVerdict::Untrusted(Untrusted::MountNotListed)
    );
}

#[root_test]
fn a_listed_path_that_is_not_a_mount_point_honours_nothing() {
    let f = Fixture::new();
    let sub = f.code.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let store = TrustStore::open(f.db.path(), std::slice::from_ref(&sub));
    let listed = &store.mounts()[0];
    assert!(
        listed
            .mount
            .as_ref()
            .unwrap_err()
            .contains("is not a mount point"),
        "{listed:?}"
    );
    let module = f.code.write("sub/M.pm", "1;\n", 0o644);
    trust(f.db.path(), &[&module]);
    let e = enforcement(Level::Mount, f.db.path(), &[&sub]);
    assert_eq!(outcome(&e, &module), UNTRUSTED);
}

/// Stages `content` at `path` for package `pkg` 1.0.
fn stage(db: &Path, path: &Path, content: &[u8]) {
    let (mut writer, _) = Writer::open(db).expect("open the database for writing");
    writer.stage(Staged::new(
        path.to_owned(),
        Sha256::digest(content).into(),
        Source::Package {
            name: "pkg".into(),
            version: "1.0".into(),
        },
    ));
    writer.commit().expect("commit");
}

#[root_test]
fn a_staged_file_is_trusted_at_its_path_with_its_content_only() {
    // dpkg installs a package: its files are in no entry yet, but their
    // paths and digests were staged from the archive.
    let f = Fixture::new();
    let content = b"echo installed\n";
    let script = f.code.path().join("postinst");
    stage(f.db.path(), &script, content);
    let db = Database::open(f.db.path()).unwrap();
    assert_eq!(db.staged_len(), 1);
    assert_eq!(db.staged().unwrap()[0].path, script);
    let e = f.enforcement();
    // Not there yet, then installed with the staged content: trusted.
    let installed = f.code.write("postinst", content, 0o755);
    assert_eq!(outcome(&e, &installed), Ok(()));
    // The descriptor's offset is the reader's: the check read with pread.
    let mut file = File::open(&installed).unwrap();
    let store = TrustStore::open(f.db.path(), &[f.code.path().to_path_buf()]);
    assert_eq!(store.check(&file), TrustVerdict::Trusted);
    let mut read = Vec::new();
    file.read_to_end(&mut read).unwrap();
    assert_eq!(read, content);
    // The same content at another path, another content at the path, a
    // file that is not root's or that others can write: untrusted.
    let copy = f.code.write("copy", content, 0o755);
    assert_eq!(outcome(&e, &copy), UNTRUSTED);
    f.code.write("postinst", b"echo changed\n", 0o755);
    assert_eq!(outcome(&e, &installed), UNTRUSTED);
    f.code.write("postinst", content, 0o757);
    assert_eq!(outcome(&e, &installed), UNTRUSTED);
    f.code.write("postinst", content, 0o755);
    give_to(&installed, 65534, 65534);
    assert_eq!(outcome(&e, &installed), UNTRUSTED);
    // Unlinked while open: "PATH (deleted)" is no staged path.
    let installed = f.code.write("postinst", content, 0o755);
    let open = File::open(&installed).unwrap();
    fs::remove_file(&installed).unwrap();
    assert_eq!(
        store.check(&open),
        TrustVerdict::Untrusted(Untrusted::NotInDatabase)
    );
    // Through a bind mount the path is another: untrusted there.
    let installed = f.code.write("postinst", content, 0o755);
    let target = TempDir::new();
    rustix::mount::mount_bind(f.code.path(), target.path()).unwrap();
    let both = enforcement(Level::Mount, f.db.path(), &[f.code.path(), target.path()]);
    assert_eq!(outcome(&both, &installed), Ok(()));
    assert_eq!(outcome(&both, &target.path().join("postinst")), UNTRUSTED);
    rustix::mount::unmount(target.path(), rustix::mount::UnmountFlags::DETACH).unwrap();
    // Once the staged digests are dropped, the file is untrusted again.
    let (mut writer, _) = Writer::open(f.db.path()).unwrap();
    writer.retain_staged(|_| false);
    writer.commit().unwrap();
    assert_eq!(outcome(&e, &installed), UNTRUSTED);
    assert_eq!(Database::open(f.db.path()).unwrap().staged_len(), 0);
    // The trusted entries were kept through it all.
    assert_eq!(outcome(&e, &f.module), Ok(()));
}

#[root_test]
fn a_reused_inode_number_is_not_the_trusted_file() {
    // tmpfs hands out inode numbers again; the new file has another ctime.
    let f = Fixture::new();
    let e = f.enforcement();
    let ino = fs::metadata(&f.module).unwrap().ino();
    fs::remove_file(&f.module).unwrap();
    let mut reused = None;
    for i in 0..2000 {
        let p = f
            .code
            .write(format!("n{i}.pm"), "package Module; 1;\n", 0o644);
        if fs::metadata(&p).unwrap().ino() == ino {
            reused = Some(p);
            break;
        }
        fs::remove_file(&p).unwrap();
    }
    match reused {
        Some(p) => assert_eq!(outcome(&e, &p), UNTRUSTED),
        None => eprintln!("tmpfs did not reuse inode {ino} here; nothing to show"),
    }
}

use std::os::unix::fs::MetadataExt;

#[root_test]
fn a_fifo_a_directory_and_a_device_are_never_trusted() {
    let f = Fixture::new();
    let e = enforcement(Level::Off, f.db.path(), &[f.code.path()]);
    let fifo = f.code.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    // Level 0 lets a FIFO through; trust does not.
    let store = TrustStore::open(f.db.path(), &[f.code.path().to_owned()]);
    let fd = rustix::fs::open(
        &fifo,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    assert_eq!(
        store.check(&fd),
        TrustVerdict::Untrusted(Untrusted::NotRegularFile)
    );
    assert_eq!(
        store.check(File::open(f.code.path()).unwrap()),
        TrustVerdict::Untrusted(Untrusted::NotRegularFile)
    );
    // No level governs it (level 0): trust alone refuses the device.
    assert_eq!(outcome(&e, Path::new("/dev/null")), UNTRUSTED);
}

/// Every way the database can be unusable: every check denies with
/// `trust-unavailable`, never allows, never crashes.
#[root_test]
fn an_unusable_database_trusts_nothing() {
    let f = Fixture::new();
    let db = f.db.path();
    let check = |why: &str| {
        let e = f.enforcement();
        assert_eq!(
            outcome(&e, &f.module),
            Err(Reason::TrustUnavailable),
            "{why}"
        );
        match TrustStore::open(db, &[f.code.path().to_owned()]).status() {
            Err(error) => eprintln!("{why}: {error}"),
            Ok(status) => panic!("{why}: usable? {status:?}"),
        }
    };
    let file = db.join("trust.mdb");
    let good = fs::read(&file).unwrap();

    give_to(&file, 65534, 65534);
    check("owned by nobody");
    give_to(&file, 0, 0);

    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    check("writable by others");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();

    fs::set_permissions(db, fs::Permissions::from_mode(0o777)).unwrap();
    check("its directory writable by others");
    fs::set_permissions(db, fs::Permissions::from_mode(0o755)).unwrap();

    fs::write(&file, b"").unwrap();
    check("empty");
    fs::write(&file, vec![0x5a; 65536]).unwrap();
    check("garbage");
    fs::write(&file, &good[..good.len() / 2]).unwrap();
    check("truncated");
    let mut flipped = good.clone();
    // The meta pages' magic.
    flipped[16] ^= 0xff;
    flipped[4096 + 16] ^= 0xff;
    fs::write(&file, &flipped).unwrap();
    check("a corrupt header");

    fs::remove_file(&file).unwrap();
    check("missing");
    fs::write(&file, &good).unwrap();
    fs::remove_file(db.join("trust.serial")).unwrap();
    check("no serial");

    // Restored, it is used again by the same process, without restart.
    trust(db, &[&f.module]);
    assert_eq!(outcome(&f.enforcement(), &f.module), Ok(()));
}

#[root_test]
fn a_store_sees_a_new_database_at_once() {
    let f = Fixture::new();
    let e = f.enforcement();
    let other = f.code.write("Other.pm", "1;\n", 0o644);
    assert_eq!(outcome(&e, &other), UNTRUSTED);
    trust(f.db.path(), &[&other]);
    assert_eq!(
        outcome(&e, &other),
        Ok(()),
        "the same store, a new database"
    );
    let (mut writer, previous) = Writer::open(f.db.path()).unwrap();
    assert_eq!(previous, Previous::Read(2));
    writer.retain(|entry| entry.path != f.module);
    writer.commit().unwrap();
    assert_eq!(
        outcome(&e, &f.module),
        UNTRUSTED,
        "removed: no longer trusted"
    );
}

#[root_test]
fn readers_see_the_old_or_the_new_database_never_a_mix() {
    let db = TempDir::new();
    let code = Tmpfs::exec();
    let set = |prefix: &str| -> Vec<PathBuf> {
        (0..200)
            .map(|i| code.write(format!("{prefix}{i}.pm"), format!("{prefix}{i}\n"), 0o644))
            .collect()
    };
    let (a, b) = (set("a"), set("b"));
    let entries = |paths: &[PathBuf]| -> Vec<Entry> { paths.iter().map(|p| entry(p)).collect() };
    let (ea, eb) = (entries(&a), entries(&b));
    let publish = |set: &[Entry]| {
        let (mut writer, _) = Writer::open(db.path()).unwrap();
        writer.retain(|_| false);
        for e in set {
            writer.insert(e.clone());
        }
        writer.commit().unwrap();
    };
    publish(&ea);
    let paths = |set: &[Entry]| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = set.iter().map(|e| e.path.clone()).collect();
        v.sort();
        v
    };
    let (pa, pb) = (paths(&ea), paths(&eb));
    let done = AtomicBool::new(false);
    let seen = Mutex::new((0usize, 0usize));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let db = Database::open(db.path()).expect("always a whole database");
                    let got = paths(&db.entries().expect("readable"));
                    let mut seen = seen.lock().unwrap();
                    if got == pa {
                        seen.0 += 1;
                    } else if got == pb {
                        seen.1 += 1;
                    } else {
                        panic!("a mix of two databases: {} entries", got.len());
                    }
                }
            });
        }
        let store = TrustStore::open(db.path(), &[code.path().to_owned()]);
        for round in 0..40 {
            publish(if round % 2 == 0 { &eb } else { &ea });
            // One store, many publications: each check answers for one of
            // them, and a/b agree with the same one when nothing moved.
            let (x, y) = (File::open(&a[0]).unwrap(), File::open(&b[0]).unwrap());
            let (tx, ty) = (store.check(&x), store.check(&y));
            assert!(
                [
                    TrustVerdict::Trusted,
                    TrustVerdict::Untrusted(Untrusted::NotInDatabase)
                ]
                .contains(&tx)
                    && tx != ty,
                "round {round}: {tx:?} {ty:?}"
            );
        }
        done.store(true, Ordering::Relaxed);
    });
    let seen = seen.lock().unwrap();
    eprintln!("reads: {} of the a set, {} of the b set", seen.0, seen.1);
    assert!(seen.0 + seen.1 > 0);
}

rusty_fork_test! {
    #[root_test]
    fn audit_mode_logs_an_untrusted_file_and_lets_it_through() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        audit::set_hook(Some(Box::new(move |record: &AuditRecord<'_>| {
            sink.lock().unwrap().push(record.to_string());
        })));
        let f = Fixture::new();
        let other = f.code.write("Other.pm", "1;\n", 0o644);
        let e = f.enforcement().with_trust(Some(Trust::new(
            Action::Audit,
            Arc::new(TrustStore::open(f.db.path(), &[f.code.path().to_owned()])),
        )));
        let script = e.open_script(&other).expect("audit lets it through");
        assert_eq!(script.verdict.reason(), Some(Reason::UntrustedContent));
        assert!(e.open_script(&f.module).unwrap().verdict.is_allowed());
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("reason=untrusted-content"), "{lines:?}");
        assert!(lines[0].contains("action=audit"), "{lines:?}");
    }

    #[root_test]
    fn the_policy_file_sets_the_trust_action() {
        let with = |trust: &str, mode: Mode| {
            let mut policy = SystemPolicy::parse(&format!("trust = \"{trust}\"\ntrust_mounts = [\"/\"]\n")).unwrap();
            policy.mode = mode;
            Enforcement::from_parts(SecureBits::empty(), Some(policy)).trust.map(|t| t.action)
        };
        assert_eq!(with("off", Mode::Enforce), None);
        assert_eq!(with("audit", Mode::Enforce), Some(Action::Audit));
        assert_eq!(with("required", Mode::Enforce), Some(Action::Enforce));
        assert_eq!(with("required", Mode::Audit), Some(Action::Audit));
    }
}

#[test]
fn the_policy_keys_parse_and_bad_values_are_named() {
    let p =
        SystemPolicy::parse("trust = \"required\"\ntrust_mounts = [\"/usr\", \"/\"]\n").unwrap();
    assert_eq!(p.trust, mayexec::policy::TrustMode::Required);
    assert_eq!(p.trust_mounts, [PathBuf::from("/usr"), PathBuf::from("/")]);
    let e = SystemPolicy::parse("trust = \"yes\"").unwrap_err();
    assert!(
        e.to_string().contains("\"off\", \"audit\" or \"required\""),
        "{e}"
    );
    let e = SystemPolicy::parse("trust_mounts = [\"usr\"]").unwrap_err();
    assert!(e.to_string().contains("not an absolute path"), "{e}");
    assert!(SystemPolicy::parse("trust_mounts = \"/usr\"").is_err());
    assert_eq!(
        Reason::from_name("untrusted-content"),
        Some(Reason::UntrustedContent)
    );
    assert_eq!(
        Reason::from_name("trust-unavailable"),
        Some(Reason::TrustUnavailable)
    );
}
