//! The system policy file: trusted only when root owns it and every
//! directory above it; parsed strictly; every error names the file.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use mayexec::policy::{Mode, ParseError, PolicyError, SystemPolicy, TrustFaultKind};
use mayexec::Level;
use mayexec_testkit::{give_to, root_test, TempDir, NOBODY};

fn load(path: &Path) -> Result<Option<SystemPolicy>, PolicyError> {
    SystemPolicy::load_from(path)
}

fn untrusted(
    result: Result<Option<SystemPolicy>, PolicyError>,
) -> (std::path::PathBuf, TrustFaultKind, String) {
    match result {
        Err(e @ PolicyError::Untrusted { .. }) => {
            let message = e.to_string();
            let PolicyError::Untrusted { fault, .. } = e else {
                unreachable!()
            };
            (fault.path, fault.kind, message)
        }
        other => panic!("expected an untrusted policy, got {other:?}"),
    }
}

fn malformed(dir: &TempDir, text: &str) -> String {
    let path = dir.write("mayexec.conf", text, 0o644);
    match load(&path) {
        Err(e @ PolicyError::Malformed { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains(&*path.to_string_lossy()),
                "names the file: {message}"
            );
            message
        }
        other => panic!("{text:?}: expected malformed, got {other:?}"),
    }
}

#[root_test]
fn a_trusted_policy_is_parsed() {
    let dir = TempDir::new();
    let path = dir.write(
        "mayexec.conf",
        "# the RFC's sysctl\ninterpreted_access = 1\ndeny_interactive = true\nmode = \"audit\"\n",
        0o644,
    );
    let policy = load(&path).unwrap().unwrap();
    assert_eq!(policy.interpreted_access, Level::Mount);
    assert!(policy.deny_interactive);
    assert_eq!(policy.mode, Mode::Audit);
    // Read-only for root alone is fine too.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    assert!(load(&path).unwrap().is_some());
}

#[root_test]
fn an_empty_policy_is_no_restriction() {
    let dir = TempDir::new();
    let policy = load(&dir.write("mayexec.conf", "", 0o644))
        .unwrap()
        .unwrap();
    assert_eq!(policy, SystemPolicy::default());
    assert_eq!(policy.interpreted_access, Level::Off);
    assert_eq!(policy.mode, Mode::Enforce);
}

#[root_test]
fn a_missing_file_is_no_system_policy() {
    let dir = TempDir::new();
    assert!(load(&dir.path().join("absent.conf")).unwrap().is_none());
    assert!(load(&dir.path().join("no/such/dir/mayexec.conf"))
        .unwrap()
        .is_none());
}

#[root_test]
fn a_file_not_owned_by_root_is_untrusted() {
    let dir = TempDir::new();
    let path = dir.write("mayexec.conf", "interpreted_access = 3\n", 0o644);
    give_to(&path, NOBODY, 0);
    let (at, kind, message) = untrusted(load(&path));
    assert_eq!(at, path);
    assert_eq!(kind, TrustFaultKind::NotOwnedByRoot);
    assert!(message.contains("owned by uid 65534"), "{message}");
    assert!(
        message.starts_with(&*path.to_string_lossy()),
        "names the file first: {message}"
    );
}

#[root_test]
fn a_group_or_world_writable_file_is_untrusted() {
    let dir = TempDir::new();
    for mode in [0o664, 0o646, 0o666] {
        let path = dir.write("mayexec.conf", "interpreted_access = 3\n", mode);
        let (at, kind, message) = untrusted(load(&path));
        assert_eq!(
            (at, kind),
            (path.clone(), TrustFaultKind::Writable),
            "mode {mode:o}"
        );
        assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
    }
}

#[root_test]
fn a_writable_or_foreign_directory_above_makes_the_file_untrusted() {
    let dir = TempDir::new();
    let sub = dir.path().join("etc");
    fs::create_dir(&sub).unwrap();
    let path = mayexec_testkit::write_file(
        &sub.join("mayexec.conf"),
        b"interpreted_access = 1\n",
        0o644,
    );
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o775)).unwrap();
    assert_eq!(untrusted(load(&path)).0, sub, "group-writable directory");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    give_to(&sub, NOBODY, 0);
    let (at, kind, _) = untrusted(load(&path));
    assert_eq!((at, kind), (sub.clone(), TrustFaultKind::NotOwnedByRoot));
    give_to(&sub, 0, 0);
    assert!(load(&path).unwrap().is_some(), "trusted once fixed");
}

#[test]
fn a_file_below_a_sticky_world_writable_directory_is_untrusted() {
    // /tmp is 1777: others cannot replace root's file, but could have put
    // their own there first.
    let path = std::env::temp_dir().join(format!("mayexec-policy-{}.conf", std::process::id()));
    fs::write(&path, "interpreted_access = 1\n").unwrap();
    let (at, kind, _) = untrusted(load(&path));
    fs::remove_file(&path).unwrap();
    assert_eq!(
        (at.as_path(), kind),
        (Path::new("/tmp"), TrustFaultKind::Writable)
    );
}

#[root_test]
fn symlinks_are_followed_and_every_directory_on_the_way_is_checked() {
    let dir = TempDir::new();
    let real = dir.write("real.conf", "interpreted_access = 2\n", 0o644);
    let link = dir.path().join("link.conf");
    symlink("real.conf", &link).unwrap();
    assert_eq!(
        load(&link).unwrap().unwrap().interpreted_access,
        Level::Permission
    );

    // A link into a directory others may write.
    let open_dir = dir.path().join("open");
    fs::create_dir(&open_dir).unwrap();
    mayexec_testkit::write_file(&open_dir.join("p.conf"), b"", 0o644);
    fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o777)).unwrap();
    let bad_link = dir.path().join("bad.conf");
    symlink(open_dir.join("p.conf"), &bad_link).unwrap();
    assert_eq!(untrusted(load(&bad_link)).0, open_dir);

    // A relative path with `..` through a symlinked directory.
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    symlink(dir.path(), sub.join("up")).unwrap();
    let winding = sub.join("up/sub/../real.conf");
    assert_eq!(
        load(&winding).unwrap().unwrap().interpreted_access,
        Level::Permission
    );
    drop(real);

    // A loop is an error, not a hang.
    symlink("loop.conf", dir.path().join("loop.conf")).unwrap();
    match load(&dir.path().join("loop.conf")) {
        Err(e @ PolicyError::Read { .. }) => assert!(e.to_string().contains("loop.conf"), "{e}"),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[root_test]
fn a_fifo_or_directory_in_place_of_the_file_is_refused_without_hanging() {
    let dir = TempDir::new();
    let fifo = dir.path().join("fifo.conf");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .unwrap();
    assert_eq!(untrusted(load(&fifo)).1, TrustFaultKind::NotRegularFile);
    let as_dir = dir.path().join("dir.conf");
    fs::create_dir(&as_dir).unwrap();
    fs::set_permissions(&as_dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(untrusted(load(&as_dir)).1, TrustFaultKind::NotRegularFile);
}

#[root_test]
fn malformed_policies_are_refused_with_the_fault_named() {
    let dir = TempDir::new();
    assert!(malformed(&dir, "interpreted_access = \n").contains("line 1"));
    assert!(malformed(&dir, "interpreted_acces = 1\n").contains("interpreted_acces"));
    assert!(malformed(&dir, "interpreted_access = 4\n").contains("out of range"));
    assert!(malformed(&dir, "interpreted_access = -1\n").contains("out of range"));
    assert!(malformed(&dir, "interpreted_access = \"3\"\n").contains("interpreted_access"));
    assert!(malformed(&dir, "mode = \"permissive\"\n").contains("\"enforce\" or \"audit\""));
    assert!(malformed(&dir, "deny_interactive = 1\n").contains("deny_interactive"));
    assert!(malformed(&dir, "[section]\ninterpreted_access = 1\n").contains("section"));
    let large = format!("interpreted_access = 1\n{}", "# padding\n".repeat(8000));
    assert!(malformed(&dir, &large).contains("larger than"));
    let path = dir.write("mayexec.conf", b"mode = \"\xff\"\n", 0o644);
    assert!(matches!(load(&path), Err(PolicyError::Malformed { .. })));
}

/// `SystemPolicy::parse` says what is wrong as a value a caller can match.
#[test]
fn parse_errors_are_typed() {
    assert_eq!(
        SystemPolicy::parse("interpreted_access = 7"),
        Err(ParseError::LevelOutOfRange { value: 7 })
    );
    assert_eq!(
        SystemPolicy::parse("mode = \"warn\""),
        Err(ParseError::UnknownMode {
            value: "warn".to_owned()
        })
    );
    let Err(ParseError::Syntax { message }) = SystemPolicy::parse("level = 1") else {
        panic!("an unknown key is a syntax error");
    };
    assert!(message.contains("line 1"), "{message}");
}
