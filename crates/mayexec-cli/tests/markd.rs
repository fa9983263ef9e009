//! `mayexec mark --config`: the trees of /etc/mayexec/mark.d marked again
//! after a package upgrade put their files back to 0644.

mod common;

use common::*;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mayexec_testkit::{root_test, TempDir, Tmpfs};

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn config_dir(lines: &str, mode: u32) -> TempDir {
    let dir = TempDir::new();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir.write("50-test.conf", lines, mode);
    dir
}

#[root_test]
fn mark_config_marks_listed_trees_again_after_a_reinstall() {
    let tree = Tmpfs::exec();
    fs::create_dir(tree.path().join("lib")).unwrap();
    let module = tree.write("lib/mod.py", "x = 1\n", 0o644);
    let other = Tmpfs::exec();
    let unlisted = other.write("u.py", "x = 1\n", 0o644);
    let config = config_dir(
        &format!("# the test's tree\n\n{}\n", tree.path().display()),
        0o644,
    );
    let journals = TempDir::new();

    let first = journals.path().join("1.journal");
    let out = run(mayexec()
        .args(["mark", "--config"])
        .arg(config.path())
        .arg("--journal")
        .arg(&first));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&module), 0o755);
    assert_eq!(mode_of(&unlisted), 0o644, "only listed trees are marked");
    assert!(stdout(&out).contains(&format!("{}: 0644 -> 0755", module.display())));
    assert!(fs::read_to_string(&first).unwrap().contains("mod.py"));

    // What dpkg does on reinstall: a new file renamed over the old one, 0644.
    let new = tree.write("lib/mod.py.dpkg-new", "x = 2\n", 0o644);
    fs::rename(&new, &module).unwrap();
    assert_eq!(mode_of(&module), 0o644);
    let second = journals.path().join("2.journal");
    let out = run(mayexec()
        .args(["mark", "--config"])
        .arg(config.path())
        .arg("--journal")
        .arg(&second));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&module), 0o755, "marked again");

    // Nothing left to do: no journal, exit 0.
    let third = journals.path().join("3.journal");
    let out = run(mayexec()
        .args(["mark", "--config"])
        .arg(config.path())
        .arg("--journal")
        .arg(&third));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("marked 0,"), "{}", stdout(&out));
    assert!(!third.exists());

    // --undo with the second journal takes the mark of the reinstall back.
    let out = run(mayexec().args(["mark", "--undo"]).arg(&second));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&module), 0o644);
}

#[root_test]
fn mark_config_refuses_an_untrusted_or_invalid_list_and_changes_nothing() {
    let tree = Tmpfs::exec();
    let module = tree.write("mod.py", "x = 1\n", 0o644);
    let journals = TempDir::new();
    let journal = journals.path().join("j");
    for (lines, mode, why) in [
        (
            format!("{}\n", tree.path().display()),
            0o666,
            "writable by group or others",
        ),
        (
            format!("{}\nrelative/tree\n", tree.path().display()),
            0o644,
            ":2: not an absolute path",
        ),
    ] {
        let config = config_dir(&lines, mode);
        let out = run(mayexec()
            .args(["mark", "--config"])
            .arg(config.path())
            .arg("--journal")
            .arg(&journal));
        assert_eq!(out.status.code(), Some(2), "{why}");
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
        assert!(stderr(&out).contains("nothing marked"), "{}", stderr(&out));
        assert_eq!(mode_of(&module), 0o644, "{why}: nothing changed");
        assert!(!journal.exists());
    }
    // No directory at all: nothing to do.
    let out = run(mayexec()
        .args(["mark", "--config"])
        .arg(journals.path().join("absent")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("no trees listed"));
    // --config names the trees; PATHs with it are a usage error.
    let out = run(mayexec()
        .args(["mark", "--config", "/nonexistent", "--"])
        .arg(tree.path()));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(mode_of(&module), 0o644);
}
